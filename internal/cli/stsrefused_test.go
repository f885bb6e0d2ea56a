package cli

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestCredentialsRefusedBySTS: credentials that STS refuses, or finds
// expired, when asked whose they are, stop the run there (exit 4), as SSM's
// refusal of them does: the run warned that the account column stays
// empty, created --out and went on until SSM refused them too. Nothing is
// asked of SSM and --out is not created. STS failures that say nothing of
// the credentials still leave the account unknown and the run goes on:
// GetCallerIdentity needs no permission, so AccessDenied there comes from
// something between (a VPC endpoint's policy), not from the credentials.
func TestCredentialsRefusedBySTS(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, srv := serve(t, handFleet(false), ssmsim.Options{})
	list := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	const (
		invalid = "The security token included in the request is invalid."
		expired = "The security token included in the request is expired"
	)
	tests := []struct {
		name         string
		status       int
		code, msg    string
		args         []string
		want         exitCode
		says, nowarn string
		ssmApart     bool // SSM at an endpoint of its own, not STS's
	}{
		{name: "invalid", status: http.StatusForbidden, code: "InvalidClientTokenId", msg: invalid,
			want: exitFatal, says: "the credentials were refused"},
		{name: "expired", status: http.StatusForbidden, code: "ExpiredToken", msg: expired,
			want: exitFatal, says: "the credentials have expired"},
		{name: "badly signed", status: http.StatusForbidden, code: "SignatureDoesNotMatch", msg: "The request signature we calculated does not match the signature you provided.",
			want: exitFatal, says: "the credentials were refused"},
		{name: "invalid, --discover", status: http.StatusForbidden, code: "InvalidClientTokenId", msg: invalid, args: []string{"--discover"},
			want: exitFatal, says: "the credentials were refused"},
		{name: "invalid, --accounts", status: http.StatusForbidden, code: "InvalidClientTokenId", msg: invalid, args: []string{"--accounts", "123456789012", "--role-name", "AuditRole"},
			want: exitFatal, says: "the credentials were refused"},
		{name: "invalid, SSM at an endpoint of its own", status: http.StatusForbidden, code: "InvalidClientTokenId", msg: invalid, ssmApart: true,
			want: exitOK, says: "cannot tell which account these credentials belong to"},
		{name: "access denied", status: http.StatusForbidden, code: "AccessDenied",
			msg:  "User: arn:aws:iam::123456789012:user/a is not authorized to perform: sts:GetCallerIdentity because no VPC endpoint policy allows the sts:GetCallerIdentity action",
			want: exitOK, says: "cannot tell which account these credentials belong to"},
		{name: "throttled", status: http.StatusBadRequest, code: "Throttling", msg: "Rate exceeded",
			want: exitOK, says: "cannot tell which account these credentials belong to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// STS and SSM at one endpoint, as AWS's own are: STS refuses,
			// SSM's calls (JSON, with a target) go on to the simulator.
			ssm := httputil.NewSingleHostReverseProxy(mustURL(t, url))
			sts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("X-Amz-Target") != "" {
					ssm.ServeHTTP(w, r)
					return
				}
				w.Header().Set("Content-Type", "text/xml")
				w.WriteHeader(tt.status)
				fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error>`+
					`<RequestId>8a0b2f4e-0000-4000-8000-000000000000</RequestId></ErrorResponse>`, tt.code, tt.msg)
			}))
			t.Cleanup(sts.Close)
			t.Setenv("AWS_ENDPOINT_URL_STS", sts.URL)
			before := srv.Stats().Requests
			out := filepath.Join(t.TempDir(), "o")
			endpoint := sts.URL
			if tt.ssmApart {
				endpoint = url
			}
			got := runCLI(t, "", append([]string{"run", "--instances", list, "--endpoint-url", endpoint, "--region", "us-east-1", "--max-attempts", "1",
				"--fail-on", "none", "--out", out}, tt.args...)...)
			if got.code != int(tt.want) || !strings.Contains(got.stderr, tt.says) || !strings.Contains(got.stderr, tt.code) {
				t.Fatalf("exit %d, want %d saying %q and %s\n%s", got.code, tt.want, tt.says, tt.code, got.stderr)
			}
			if tt.want == exitOK {
				return
			}
			if strings.Contains(got.stderr, "cannot tell which account") {
				t.Errorf("refused credentials taken for an unknown account:\n%s", got.stderr)
			}
			if n := srv.Stats().Requests - before; n != 0 {
				t.Errorf("%d requests to SSM after STS refused the credentials, want none", n)
			}
			if _, err := os.Lstat(out); !os.IsNotExist(err) {
				t.Errorf("--out %s created (%v), want nothing left behind", out, err)
			}
		})
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestSTSUnreachableSaysWhy: STS out of reach (a VPC without its endpoint,
// no route to it) left the account unknown with the SDK's own words in the
// warning, "operation error STS: GetCallerIdentity, https response error
// StatusCode: 0, RequestID: , request send failed, Post ...". It reads as
// SSM's does: cannot reach URL: the cause.
func TestSTSUnreachableSaysWhy(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	closed := httptest.NewServer(http.NotFoundHandler())
	sts := closed.URL
	closed.Close()
	t.Setenv("AWS_ENDPOINT_URL_STS", sts)
	list := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	got := runCLI(t, "", "run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--max-attempts", "1",
		"--fail-on", "none", "--out", filepath.Join(t.TempDir(), "o"))
	want := "cannot tell which account these credentials belong to (sts:GetCallerIdentity: cannot reach " + sts + ": connection refused)"
	if got.code != int(exitOK) || !strings.Contains(got.stderr, want) || strings.Contains(got.stderr, "operation error") {
		t.Errorf("exit %d, want %d saying %q and not the SDK's words\n%s", got.code, exitOK, want, got.stderr)
	}
}
