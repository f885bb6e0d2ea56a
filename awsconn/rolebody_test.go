package awsconn

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestRoleAnswerCapped: the STS that assumes a profile's role (role_arn
// and source_profile) answered with a body of hundreds of megabytes, and
// the SDK read it whole (1.45 GB of memory for 200 MiB): the credential
// chain's clients are built as the configuration is loaded, on a client of
// their own, without the bound that every other answer has. Its answer is
// read up to audit.MaxAnswer, and refused past it.
func TestRoleAnswerCapped(t *testing.T) {
	const offered = 4 * audit.MaxAnswer
	var served atomic.Int64
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>`)
		chunk := strings.Repeat("A", 1<<20)
		for served.Load() < offered {
			n, err := io.WriteString(w, chunk)
			served.Add(int64(n))
			if err != nil {
				return
			}
		}
		io.WriteString(w, `</AccessKeyId></Credentials></AssumeRoleResult></AssumeRoleResponse>`)
	}))
	t.Cleanup(srv.Close)
	isolate(t, "[profile keys]\naws_access_key_id = AKIAKEYSKEYSKEYS0001\naws_secret_access_key = s\n\n"+
		"[profile role]\nrole_arn = arn:aws:iam::123456789012:role/Auditor\nsource_profile = keys\n")
	t.Setenv("AWS_ENDPOINT_URL_STS", srv.URL)
	// A *audit.CredentialsError: the credentials are refused, not taken.
	err := credentialsError(t, Settings{Region: "us-east-1", Profile: "role", MaxAttempts: 1})
	// Said as what it is: no answer of AWS's, not a source that failed.
	saysOnly(t, err.Error(), []string{"more than 16 MiB", "AWS_ENDPOINT_URL_STS"}, []string{sourceFailed})
	// The handler ends when its writes fail: at once, if the client
	// closed the connection; past what it offered, if it read on.
	srv.CloseClientConnections()
	<-done
	if n := served.Load(); n >= offered {
		t.Errorf("the whole %d bytes were read, want the reading stopped past %d", n, audit.MaxAnswer)
	}
}
