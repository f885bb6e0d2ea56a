package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestNoCredentialsSaysNoneFound: a run with no credentials anywhere and
// IMDS disabled was told it "could not obtain AWS credentials from the
// instance metadata service (IMDS)". It says none were found, and where
// it looked, and leaves nothing behind (exit 4).
func TestNoCredentialsSaysNoneFound(t *testing.T) {
	isolateAWS(t, "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", "run", "--instance-id", "i-12345678", "--region", "us-east-1", "--out", out, "--quiet")
	if got.code != int(exitFatal) || !strings.Contains(got.stderr, "none found in the environment (AWS_ACCESS_KEY_ID) or profile default") ||
		!strings.Contains(got.stderr, "aws configure") {
		t.Errorf("exit %d, want %d saying none were found and where\n%s", got.code, exitFatal, got.stderr)
	}
	for _, wrong := range []string{"IMDS", "instance metadata", "sso"} {
		if strings.Contains(got.stderr, wrong) {
			t.Errorf("stderr says %q, with IMDS disabled and no SSO profile\n%s", wrong, got.stderr)
		}
	}
}
