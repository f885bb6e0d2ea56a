package cli

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestWebIdentityRefusedSaysSTSWords: a web identity (IRSA) whose role STS
// refused ("No OpenIDConnect provider found in your account ...") was told
// as "could not obtain AWS credentials from a web identity token
// (environment) (profile default): the credential source failed": neither
// the role nor why, and a profile that had no part in it. The run stops
// (exit 4) naming the role and passing on STS's code and message, plain on
// the terminal, however STS worded it.
func TestWebIdentityRefusedSaysSTSWords(t *testing.T) {
	isolateAWS(t, "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	dir := t.TempDir()
	config := filepath.Join(dir, "config")
	if err := os.WriteFile(config, []byte("[default]\nregion = us-east-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	token := filepath.Join(dir, "token")
	if err := os.WriteFile(token, []byte("eyJhbGciOiJSUzI1NiJ9.SECRET-TOKEN-BODY.sig"), 0o600); err != nil {
		t.Fatal(err)
	}
	const role = "arn:aws:iam::123456789012:role/irsa"
	sts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code>`+
			`<Message>No OpenIDConnect provider found in your account for https://oidc.eks.us-east-1.amazonaws.com/id/0A1B&#10;&#8238;&#9;RED</Message></Error>`+
			`<RequestId>8a0b2f4e-0000-4000-8000-000000000000</RequestId></ErrorResponse>`)
	}))
	t.Cleanup(sts.Close)
	t.Setenv("AWS_CONFIG_FILE", config)
	t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", token)
	t.Setenv("AWS_ROLE_ARN", role)
	t.Setenv("AWS_ENDPOINT_URL_STS", sts.URL)
	got := runCLI(t, "", "run", "--instance-id", "i-0123456789abcdef0", "--endpoint-url", url, "--region", "us-east-1",
		"--out", filepath.Join(t.TempDir(), "out"), "--max-attempts", "1", "--quiet")
	want := []string{"a web identity token (environment)", role,
		"InvalidIdentityToken: No OpenIDConnect provider found in your account for https://oidc.eks.us-east-1.amazonaws.com/id/0A1B RED"}
	if got.code != int(exitFatal) {
		t.Errorf("exit %d, want %d", got.code, exitFatal)
	}
	for _, w := range want {
		if !strings.Contains(got.stderr, w) {
			t.Errorf("stderr does not say %q:\n%s", w, got.stderr)
		}
	}
	for _, w := range []string{"profile default", "the credential source failed", "SECRET-TOKEN"} {
		if strings.Contains(got.stderr, w) {
			t.Errorf("stderr says %q:\n%s", w, got.stderr)
		}
	}
	assertPlain(t, got.stderr)
}
