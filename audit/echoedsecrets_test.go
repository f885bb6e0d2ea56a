package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/awsconn"
)

// The credentials of the tests below, shaped as AWS's are: a session
// token and a secret key hold "/", "+" and "=".
const (
	echoKeyID  = "ASIAECHOECHOECHO0001"
	echoSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiEchoSecret01"
	echoToken  = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+echo/session+token=="
)

// echoingSSM is an endpoint that answers every call with an error in SSM's
// protocol whose message repeats the request's headers (the session token
// and the Authorization header's access key ID among them), and whose
// request ID, the server's own choice, holds the token too: a proxy or an
// emulator that misbehaves, or a hostile one.
func echoingSSM(t *testing.T, status int, code string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var lines []string
		for k, vs := range r.Header {
			lines = append(lines, k+": "+strings.Join(vs, ", "))
		}
		sort.Strings(lines)
		body, _ := json.Marshal(map[string]string{"__type": code, "message": "request headers: " + strings.Join(lines, "; ")})
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-RequestId", "rid-"+r.Header.Get("X-Amz-Security-Token"))
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestEchoedSecretsAreRedacted: an endpoint's error message that repeated
// the request's headers was kept as it came: the run's session token and
// access key ID went into results (error.message, and from there every
// report), into an account-region's error, and into the run's fatal error
// (run.json, stderr), with the request ID that held the token. They are
// redacted, "***", wherever the text goes, and the error chain is kept.
func TestEchoedSecretsAreRedacted(t *testing.T) {
	tests := []struct {
		name   string
		status int
		code   string
		fatal  bool
	}{
		{"a validation error, the instance's", 400, "ValidationException", false},
		{"server errors, until the circuit opens", 500, "InternalServerError", false},
		{"unknown credentials at the first call", 400, "UnrecognizedClientException", true},
		{"access denied at the first call", 400, "AccessDeniedException", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := awsconn.Load(context.Background(), awsconn.Settings{
				Credentials: credentials.NewStaticCredentialsProvider(echoKeyID, echoSecret, echoToken),
				EndpointURL: echoingSSM(t, tt.status, tt.code),
				MaxAttempts: 1,
				CallTimeout: 5 * time.Second,
			})
			if err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			var texts []string
			cfg := audit.Config{
				Client:      func(_, region string) (audit.API, error) { return conn.SSM(region) },
				Region:      "us-east-1",
				Concurrency: 1,
				Rate:        1000,
				OnResult: func(r audit.Result) error {
					mu.Lock()
					defer mu.Unlock()
					if r.Error == nil {
						t.Errorf("%s: %s without an error", r.InstanceID, r.Outcome)
						return nil
					}
					texts = append(texts, "result: "+r.Error.Code+": "+r.Error.Message)
					return nil
				},
			}
			var ts []audit.Target
			for i := range 8 {
				ts = append(ts, audit.Target{InstanceID: fmt.Sprintf("i-%08d", i)})
			}
			s := audit.NewSession(cfg)
			err = s.Run(context.Background(), []audit.Batch{{Targets: slices.Values(ts)}})
			if got := errors.Is(err, audit.ErrFatal); got != tt.fatal {
				t.Fatalf("Run = %v; fatal %v, want %v", err, got, tt.fatal)
			}
			if err != nil {
				texts = append(texts, "run: "+err.Error())
				var ae smithy.APIError
				if tt.fatal && (!errors.As(err, &ae) || ae.ErrorCode() != tt.code) {
					t.Errorf("Run = %v, want an error that still wraps the API's %s", err, tt.code)
				}
			}
			for _, st := range s.Sites() {
				if st.Error != nil {
					texts = append(texts, "site: "+st.Error.Code+": "+st.Error.Message)
				}
			}
			if len(texts) == 0 {
				t.Fatal("no error anywhere: the test exercised nothing")
			}
			echoed := false
			for _, text := range texts {
				for _, secret := range []string{echoToken, echoKeyID, echoSecret, "IQoJb3JpZ2lu"} {
					if i := strings.Index(text, secret); i >= 0 {
						t.Errorf("%.40s... holds the secret %q: ...%.80s", text, secret, text[max(i-40, 0):])
					}
				}
				echoed = echoed || strings.Contains(text, "X-Amz-Security-Token: ***")
			}
			if !echoed {
				t.Errorf("no text says the token was there, redacted:\n%s", strings.Join(texts, "\n"))
			}
		})
	}
}
