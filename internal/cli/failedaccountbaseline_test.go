package cli

import (
	"path/filepath"
	"testing"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestBaselineOfAnOrgRunWhoseAccountFails: an organisation's run compared
// with an earlier run of the same accounts, one of which now fails (its
// role refused), covers the same targets: the failed account is in its
// scope, though it has no result. No warning says the baseline covers
// other targets.
func TestBaselineOfAnOrgRunWhoseAccountFails(t *testing.T) {
	accounts := ssmsim.DefaultAccounts(2, 1)
	cfg := func(members []ssmsim.Account) ssmsim.OrgConfig { return threeRegionOrg(members, 10) }
	args := []string{"run", "--accounts", "org", "--role-name", "AuditRole", "--regions", "us-east-1,eu-west-1", "--discover",
		"--region", "us-east-1", "--format", "csv", "--fail-on", "none"}
	serveOrgOf(t, cfg(accounts), ssmsim.Faults{})
	base := filepath.Join(t.TempDir(), "base")
	if got := runCLI(t, "", append(args, "--out", base)...); got.code != 0 {
		t.Fatalf("first run: exit %d, want 0\n%s", got.code, got.stderr)
	}

	refused := append([]ssmsim.Account(nil), accounts...)
	refused[1].Roles = []ssmsim.Role{{Name: "AuditRole", Refuse: true}}
	serveOrgOf(t, cfg(refused), ssmsim.Faults{})
	got := runCLI(t, "", append(args, "--out", filepath.Join(t.TempDir(), "out"), "--baseline", base)...)
	if got.code != int(exitIncomplete) {
		t.Fatalf("second run: exit %d, want %d (one account refused)\n%s", got.code, exitIncomplete, got.stderr)
	}
	checkSays(t, got.stderr, []string{accounts[1].ID, "AccessDenied"}, []string{"covers other targets"})
}
