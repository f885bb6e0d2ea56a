package deliver_test

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/auditor-dev/auditor/awsconn"
	"github.com/auditor-dev/auditor/deliver"
)

// TestUploadRefusalEchoRedacted: an S3-compatible store whose 403 repeated
// the request's headers put the run's session token and access key ID on
// stderr and in the JSON log of an --upload. Through a client made as the
// delivery makes it (from the run's awsconn configuration) they are
// redacted, and S3's error is still in the chain.
func TestUploadRefusalEchoRedacted(t *testing.T) {
	const (
		keyID = "ASIAUPLOADECHOECHO01"
		token = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+upload/echo+token=="
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// These first: the error is cut to one line of a few hundred
		// characters.
		echo := []string{"X-Amz-Security-Token: " + r.Header.Get("X-Amz-Security-Token"), "Authorization: " + r.Header.Get("Authorization")}
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>%s</Message><RequestId>1</RequestId></Error>`,
			html.EscapeString(strings.Join(echo, "; ")))
	}))
	t.Cleanup(srv.Close)
	conn, err := awsconn.Load(context.Background(), awsconn.Settings{
		Region: "us-east-1", EndpointURL: srv.URL, MaxAttempts: 1, CallTimeout: 5 * time.Second,
		Credentials: credentials.NewStaticCredentialsProvider(keyID, "wJalrXUtnFEMI/K7MDENG/bPxRfiUploadKey001", token),
	})
	if err != nil {
		t.Fatal(err)
	}
	client := s3.NewFromConfig(conn.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	file := writeFile(t, t.TempDir(), "report.html", 10)
	_, err = deliver.Upload(context.Background(), client, "s3://reports/x/", []string{file}, deliver.UploadOptions{})
	var ae interface{ ErrorCode() string }
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		t.Fatalf("Upload = %v, want an error that keeps S3's AccessDenied", err)
	}
	msg := err.Error()
	for _, secret := range []string{token, keyID, "IQoJb3JpZ2lu"} {
		if i := strings.Index(msg, secret); i >= 0 {
			t.Errorf("Upload's error holds the secret %q: ...%.80s", secret, msg[max(i-40, 0):])
		}
	}
	if !strings.Contains(msg, "X-Amz-Security-Token: ***") {
		t.Errorf("Upload = %q, want the token it repeated redacted", msg)
	}
}
