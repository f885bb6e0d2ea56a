package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
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
	"github.com/auditor-dev/auditor/ssmsim"
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
		{"access denied, each instance's (too few to stop the run)", 400, "AccessDeniedException", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			texts, err := auditTexts(t, echoingSSM(t, tt.status, tt.code), echoTargets())
			if got := errors.Is(err, audit.ErrFatal); got != tt.fatal {
				t.Fatalf("Run = %v; fatal %v, want %v", err, got, tt.fatal)
			}
			var ae smithy.APIError
			if tt.fatal && (!errors.As(err, &ae) || ae.ErrorCode() != tt.code) {
				t.Errorf("Run = %v, want an error that still wraps the API's %s", err, tt.code)
			}
			echoed := false
			for _, text := range texts {
				for _, secret := range []string{echoToken, echoKeyID, echoSecret, "IQoJb3JpZ2lu"} {
					if i := strings.Index(text, secret); i >= 0 {
						t.Errorf("%.40s... holds the secret %q: ...%.80s", text, secret, text[max(i-40, 0):])
					}
				}
				if loc := signed.FindStringIndex(text); loc != nil {
					t.Errorf("%.40s... holds the request's signature: ...%.80s", text, text[max(loc[0]-40, 0):])
				}
				echoed = echoed || strings.Contains(text, "X-Amz-Security-Token: ***") && strings.Contains(text, "Credential=***, ") && strings.Contains(text, "Signature=***")
			}
			if !echoed {
				t.Errorf("no text says the token, the credential and the signature were there, redacted:\n%s", strings.Join(texts, "\n"))
			}
		})
	}
}

// signed matches a request's signature, as an Authorization header or a
// presigned URL shows it.
var signed = regexp.MustCompile(`(?i)signature=[0-9a-f]{8}`)

// echoTargets are the instances the tests below audit.
func echoTargets() []audit.Target {
	var ts []audit.Target
	for i := range 8 {
		ts = append(ts, audit.Target{InstanceID: fmt.Sprintf("i-%08d", i)})
	}
	return ts
}

// auditTexts audits ts at endpoint with the credentials echoKeyID,
// echoSecret and echoToken, through the client that cmd/auditor builds, and
// returns the error texts that the run would record or show: each result's,
// each account-region's, and the run's own error, which it returns too. It
// fails the test when a result has no error, or when no error came at all.
func auditTexts(t *testing.T, endpoint string, ts []audit.Target) ([]string, error) {
	t.Helper()
	conn, err := awsconn.Load(context.Background(), awsconn.Settings{
		Credentials: credentials.NewStaticCredentialsProvider(echoKeyID, echoSecret, echoToken),
		EndpointURL: endpoint,
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
	s := audit.NewSession(cfg)
	err = s.Run(context.Background(), []audit.Batch{{Targets: slices.Values(ts)}})
	if err != nil {
		texts = append(texts, "run: "+err.Error())
	}
	for _, st := range s.Sites() {
		if st.Error != nil {
			texts = append(texts, "site: "+st.Error.Code+": "+st.Error.Message)
		}
	}
	if len(texts) == 0 {
		t.Fatal("no error anywhere: the test exercised nothing")
	}
	return texts, err
}

// Another signer's values, which the run never knew: a presigned URL's, a
// request's signature.
const (
	otherKeyID = "AKIAOTHEROTHER000001"
	otherToken = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+other/token=="
	otherSig   = "3f2a9c0d1e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f"
)

// quotingSSM is an endpoint that answers every call with an error in SSM's
// protocol whose message quotes another signer's presigned URL and, as
// JSON, a signature: a proxy or an emulator that misbehaves.
func quotingSSM(t *testing.T, status int, code string) string {
	t.Helper()
	presigned := "https://ssm-out.s3.amazonaws.com/run/stdout?X-Amz-Algorithm=AWS4-HMAC-SHA256" +
		"&X-Amz-Credential=" + otherKeyID + "%2F20261201%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261201T120000Z" +
		"&X-Amz-Security-Token=" + url.QueryEscape(otherToken) + "&X-Amz-SignedHeaders=host&X-Amz-Signature=" + otherSig
	msg := "The request signature we calculated does not match the signature you provided; it was signed as " + presigned +
		` is: {"Signature": "` + otherSig + `"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := json.Marshal(map[string]string{"__type": code, "message": msg})
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// manglingProxy is a proxy in front of the simulated endpoint at target
// that renames the SignedHeaders of every request's Authorization header,
// so that the endpoint refuses it as incomplete and repeats the header
// whole, its signature with it, as AWS does.
func manglingProxy(t *testing.T, target string) string {
	t.Helper()
	to, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(to)
		r.Out.Host = r.In.Host
		r.Out.Header.Set("Authorization", strings.Replace(r.In.Header.Get("Authorization"), "SignedHeaders=", "SignedHeaderz=", 1))
	}})
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestEchoedSigningValuesAreRedacted: a request's signature, which the run
// never knows, and another signer's presigned URL (its credential, token
// and signature) in an endpoint's error message were kept as they came,
// in results, account-regions' errors and the run's fatal error. Their
// values are redacted, "***", whatever the run knew; the error's code,
// even one named after them (SignatureDoesNotMatch), is kept whole, and
// so is the error chain.
func TestEchoedSigningValuesAreRedacted(t *testing.T) {
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 3, Size: 4})
	tests := []struct {
		name     string
		endpoint func(t *testing.T) string
		ts       []audit.Target
		code     string
		fatal    bool
		// shown is a text that some error must hold: proof the values
		// were there, redacted.
		shown  string
		secret []string
	}{
		{
			name: "the simulator behind a proxy that mangles the Authorization header",
			endpoint: func(t *testing.T) string {
				sim, _ := serveFleet(t, fleet, ssmsim.Options{})
				return manglingProxy(t, sim)
			},
			ts:    fleetTargets(fleet),
			code:  "IncompleteSignatureException",
			fatal: true,
			shown: "Authorization=AWS4-HMAC-SHA256 Credential=***, SignedHeaderz=",
		},
		{
			name:     "another signer's presigned URL, in a refusal",
			endpoint: func(t *testing.T) string { return quotingSSM(t, 403, "SignatureDoesNotMatch") },
			ts:       echoTargets(),
			code:     "SignatureDoesNotMatch",
			fatal:    true,
			shown:    `X-Amz-Credential=***&X-Amz-Date=20261201T120000Z&X-Amz-Security-Token=***&X-Amz-SignedHeaders=host&X-Amz-Signature=*** is: {"Signature": "***"}`,
			secret:   []string{otherKeyID, otherToken, url.QueryEscape(otherToken), otherSig},
		},
		{
			name:     "another signer's presigned URL, in each instance's error",
			endpoint: func(t *testing.T) string { return quotingSSM(t, 400, "ValidationException") },
			ts:       echoTargets(),
			code:     "ValidationException",
			shown:    `result: ValidationException: The request signature we calculated does not match the signature you provided; it was signed as https://ssm-out.s3.amazonaws.com/run/stdout?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=***&`,
			secret:   []string{otherKeyID, otherToken, url.QueryEscape(otherToken), otherSig},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			texts, err := auditTexts(t, tt.endpoint(t), tt.ts)
			if got := errors.Is(err, audit.ErrFatal); got != tt.fatal {
				t.Fatalf("Run = %v; fatal %v, want %v", err, got, tt.fatal)
			}
			var ae smithy.APIError
			if tt.fatal && (!errors.As(err, &ae) || ae.ErrorCode() != tt.code) {
				t.Errorf("Run = %v, want an error that still wraps the API's %s", err, tt.code)
			}
			shown, coded := false, false
			for _, text := range texts {
				for _, secret := range append(tt.secret, echoToken, echoKeyID, echoSecret) {
					if i := strings.Index(text, secret); i >= 0 {
						t.Errorf("%.40s... holds the secret %q: ...%.80s", text, secret, text[max(i-40, 0):])
					}
				}
				if loc := signed.FindStringIndex(text); loc != nil {
					t.Errorf("%.40s... holds a signature: ...%.80s", text, text[max(loc[0]-40, 0):])
				}
				shown = shown || strings.Contains(text, tt.shown)
				coded = coded || strings.Contains(text, tt.code+": ")
			}
			if !shown {
				t.Errorf("no text holds %q:\n%s", tt.shown, strings.Join(texts, "\n"))
			}
			if !coded {
				t.Errorf("no text names the code %s whole:\n%s", tt.code, strings.Join(texts, "\n"))
			}
		})
	}
}
