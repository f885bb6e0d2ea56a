package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestExcludeAccountNotAudited: an account --exclude-accounts names that is
// not among those to audit is warned about (it was ignored in silence): a
// typo there audits the account it meant to leave out. Those that are
// among them are left out without a word.
func TestExcludeAccountNotAudited(t *testing.T) {
	_, _, accounts := serveOrg(t, 10)
	refusing := accounts[2].ID
	got := runCLI(t, "", "run", "--accounts", "org", "--exclude-accounts", "999999999999,"+refusing, "--role-name", "AuditRole",
		"--regions", "us-east-1", "--discover", "--region", "us-east-1", "--fail-on", "none", "--quiet", "--out", filepath.Join(t.TempDir(), "out"))
	if got.code != int(exitOK) {
		t.Fatalf("exit %d, want %d (the refusing account left out)\n%s", got.code, exitOK, got.stderr)
	}
	if want := "warning: --exclude-accounts 999999999999: not among the accounts to audit"; !strings.Contains(got.stderr, want) {
		t.Errorf("stderr does not say %q:\n%s", want, got.stderr)
	}
	if strings.Contains(got.stderr, "--exclude-accounts "+refusing) {
		t.Errorf("stderr warns of %s, which it left out:\n%s", refusing, got.stderr)
	}
}
