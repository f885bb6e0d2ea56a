package deliver_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/auditor-dev/auditor/deliver"
)

// denyMessage is the <Message> of AWS's 403 for a policy's deny: its
// reason is at its end.
const denyMessage = `User: arn:aws:sts::111122223333:assumed-role/auditor-batch-job-role/i-0123456789abcdef0 is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::central-compliance-reports/auditor/weekly/2026-01-05/report.html" with an explicit deny in a resource-based policy`

// TestUploadDenyKeepsItsReason: the whole SDK error was cut at 300
// characters, and "operation error ..., RequestID, HostID" took so many of
// them that a policy's reason ("with an explicit deny in a resource-based
// policy") was cut off. S3's code and message are kept whole (cut alone),
// with the request ID and without the HostID, and a 403 says what a bucket
// policy may require, and the owner asked for.
func TestUploadDenyKeepsItsReason(t *testing.T) {
	const hostID = "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4=="
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.Header().Set("X-Amz-Request-Id", "4442587FB7D0A2F9")
		w.Header().Set("X-Amz-Id-2", hostID)
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>%s</Message><RequestId>4442587FB7D0A2F9</RequestId><HostId>%s</HostId></Error>`, denyMessage, hostID)
	}))
	t.Cleanup(srv.Close)
	client := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")})
	file := writeFile(t, t.TempDir(), "report.html", 10)
	for _, tt := range []struct {
		name    string
		opts    deliver.UploadOptions
		want    []string
		wantNot []string
	}{
		{name: "no owner asked", want: []string{"with an explicit deny in a resource-based policy", "4442587FB7D0A2F9", "bucket policy"}, wantNot: []string{hostID, "not owned by"}},
		{name: "owner asked", opts: deliver.UploadOptions{ExpectedBucketOwner: "444455556666"},
			want: []string{"with an explicit deny in a resource-based policy", "4442587FB7D0A2F9", "bucket policy", "not owned by 444455556666"}, wantNot: []string{hostID}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := deliver.Upload(context.Background(), client, "s3://central-compliance-reports/auditor/weekly/2026-01-05/", []string{file}, tt.opts)
			if err == nil {
				t.Fatal("Upload: no error")
			}
			msg := err.Error()
			for _, s := range tt.want {
				if !strings.Contains(msg, s) {
					t.Errorf("Upload = %q, want %q in it", msg, s)
				}
			}
			for _, s := range tt.wantNot {
				if strings.Contains(msg, s) {
					t.Errorf("Upload = %q, want no %q in it", msg, s)
				}
			}
		})
	}
}

// TestS3URLWithAnARN: an access point's ARN as the bucket was refused as
// `invalid port ":accesspoint" after host`, which said nothing of what to
// give instead. It says that ARNs are not taken, and to give the access
// point's alias, which S3 takes where a bucket name goes.
func TestS3URLWithAnARN(t *testing.T) {
	for _, u := range []string{
		"s3://arn:aws:s3:us-east-1:111122223333:accesspoint/reports/auditor/",
		"s3://arn:aws:s3:us-east-1:111122223333:accesspoint/reports",
		"S3://ARN:aws-us-gov:s3-outposts:us-gov-west-1:111122223333:outpost/op-01/accesspoint/ap/x/",
	} {
		_, _, err := deliver.ParseS3URL(u)
		if err == nil || !strings.Contains(err.Error(), "ARN") || !strings.Contains(err.Error(), "alias") || strings.Contains(err.Error(), "invalid port") {
			t.Errorf("ParseS3URL(%q) = %v, want a refusal of the ARN that says to give the access point's alias", u, err)
		}
	}
	if b, p, err := deliver.ParseS3URL("s3://reports-ab12cd34ef56gh78ij90klmnopqrsus-east-1a-s3alias/auditor/"); err != nil || b != "reports-ab12cd34ef56gh78ij90klmnopqrsus-east-1a-s3alias" || p != "auditor/" {
		t.Errorf("ParseS3URL of an access point's alias = %q, %q, %v; want it taken", b, p, err)
	}
}
