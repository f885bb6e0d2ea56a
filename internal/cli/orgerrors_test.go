package cli

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/auditor-dev/auditor/audit"
)

// TestOrganizationsFailures: --accounts org whose ListAccounts fails stops
// the run (exit 4) in words about Organizations, not "cannot call SSM",
// and says what to do as fits the failure: the management account's (or a
// delegated administrator's) credentials for access denied, try again
// later for a server error (a throttle, which the SDK retries for half a
// minute, takes the same branch). The other services are the simulated
// organisation's.
func TestOrganizationsFailures(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		code        string
		want, avoid []string
	}{
		{name: "access denied", status: 400, code: "AccessDeniedException",
			want: []string{"Organizations", "AccessDeniedException", "management account"}, avoid: []string{"cannot call SSM", "try again"}},
		{name: "server error", status: 500, code: "ServiceException",
			want: []string{"Organizations", "ServiceException", "try again later"}, avoid: []string{"cannot call SSM", "management account"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			serveOrg(t, 10)
			calls := 0
			orgs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls++
				w.Header().Set("Content-Type", "application/x-amz-json-1.1")
				w.Header().Set("X-Amzn-Errortype", tt.code)
				w.WriteHeader(tt.status)
				fmt.Fprintf(w, `{"__type":%q,"Message":"boom"}`, tt.code)
			}))
			t.Cleanup(orgs.Close)
			t.Setenv("AWS_ENDPOINT_URL_ORGANIZATIONS", orgs.URL)
			got := runCLI(t, "", "run", "--accounts", "org", "--role-name", "AuditRole", "--discover", "--region", "us-east-1",
				"--fail-on", "none", "--quiet", "--out", filepath.Join(t.TempDir(), "out"))
			if calls == 0 {
				t.Fatalf("Organizations was not called: a test of nothing\n%s", got.stderr)
			}
			if got.code != int(exitFatal) {
				t.Errorf("exit %d, want %d\n%s", got.code, exitFatal, got.stderr)
			}
			checkSays(t, got.stderr, tt.want, tt.avoid)
		})
	}
}

// TestOrgListErrorThrottled: a throttle that outlasted the SDK's retries
// (half a minute, too long to wait for through the CLI) says to try again
// later, not to change credentials.
func TestOrgListErrorThrottled(t *testing.T) {
	for _, code := range []string{"TooManyRequestsException", "ThrottlingException"} {
		err := orgListError(&smithy.GenericAPIError{Code: code, Message: "Rate exceeded"}, "us-east-1")
		if got := err.Error(); !errors.Is(err, audit.ErrFatal) || !strings.Contains(got, "try again later") || strings.Contains(got, "management account") {
			t.Errorf("%s: %q (exit 4: %v), want exit 4 saying to try again later", code, got, errors.Is(err, audit.ErrFatal))
		}
	}
}

// checkSays fails t unless stderr says each of want and none of avoid.
func checkSays(t *testing.T, stderr string, want, avoid []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr does not say %q:\n%s", w, stderr)
		}
	}
	for _, a := range avoid {
		if strings.Contains(stderr, a) {
			t.Errorf("stderr says %q:\n%s", a, stderr)
		}
	}
}
