package cli

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestSharedAccountNameWarned: two accounts of one name (Organizations
// allows it; an accounts file may give it) carry one account_name label,
// so --split-by account_name made them one group, one owner's report of
// two accounts, with nothing said. The run warns, naming both.
func TestSharedAccountNameWarned(t *testing.T) {
	org, _, accounts := serveOrg(t, 10)
	var rows strings.Builder
	rows.WriteString("instance_id,account_id,region\n")
	for _, a := range accounts[:2] {
		for _, id := range org.Fleet(a.ID, "us-east-1").ManagedIDs()[:2] {
			fmt.Fprintf(&rows, "%s,%s,us-east-1\n", id, a.ID)
		}
	}
	list := writeFile(t, "fleet.csv", rows.String())
	names := writeFile(t, "accounts.txt", accounts[0].ID+",prod\n"+accounts[1].ID+",prod\n")
	out := filepath.Join(t.TempDir(), "o")
	got := runCLI(t, "", "run", "--instances", list, "--accounts", names, "--role-name", "AuditRole", "--region", "us-east-1",
		"--fail-on", "none", "--quiet", "--out", out, "--split-by", "account_name")
	if got.code != 0 {
		t.Fatalf("exit %d\n%s", got.code, got.stderr)
	}
	for _, w := range []string{"warning", accounts[0].ID, accounts[1].ID, `"prod"`} {
		if !strings.Contains(got.stderr, w) {
			t.Errorf("stderr does not say %q of the two accounts named prod:\n%s", w, got.stderr)
		}
	}
}
