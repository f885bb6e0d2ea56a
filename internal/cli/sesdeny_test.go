package cli

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestMailViaSESDenied: SES's refusal of a sender that the caller may
// not send from names that identity at the end of its message; stderr
// cut the whole SDK error at 300 characters and lost it
// ("...on resource: arn:aws:ses:eu-west-1:1…"). It says SES's code, the
// message whole and the request ID.
func TestMailViaSESDenied(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	const identity = "arn:aws:ses:eu-west-1:111122223333:identity/reports@example.com"
	ses := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-ErrorType", "AccessDeniedException")
		w.Header().Set("X-Amzn-RequestId", "2f6b4c1e-0d7a-4e4b-9b7e-5c1d2a3b4c5d")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"message": "User: arn:aws:sts::111122223333:assumed-role/AuditRole/session is not authorized to perform: ses:SendRawEmail on resource: `+identity+`"}`)
	}))
	defer ses.Close()
	t.Setenv("AWS_ENDPOINT_URL_SESV2", ses.URL)
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	out := filepath.Join(t.TempDir(), "out")
	if got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet", "--fail-on", "none"); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	got := runCLI(t, "", "mail", out, "--to", "ops@example.com", "--mail-from", "reports@example.com", "--mail-via", "ses", "--region", "us-east-1")
	if got.code != 5 {
		t.Fatalf("exit %d, want 5\n%s", got.code, got.stderr)
	}
	for _, want := range []string{"AccessDeniedException", "on resource: " + identity, "request ID 2f6b4c1e-0d7a-4e4b-9b7e-5c1d2a3b4c5d"} {
		if !strings.Contains(got.stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, got.stderr)
		}
	}
}
