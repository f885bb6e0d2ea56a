package cli

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestListAccountColumnSpellings: a list whose account column is spelt as
// inventories spell it (aws_account_id, account, "AWS Account ID") names
// each instance's account, as account_id does. It was a label, and every
// instance of another account was asked of the caller's and recorded under
// it as not_managed; without --role-name such a list is now refused as any
// list naming another account is (exit 2).
func TestListAccountColumnSpellings(t *testing.T) {
	org, _, accounts := serveOrg(t, 10)
	ids := org.Fleet(accounts[1].ID, "us-east-1").ManagedIDs()[:3]
	for _, column := range []string{"aws_account_id", "account", "AWS Account ID", "Account Id"} {
		t.Run(column, func(t *testing.T) {
			var rows strings.Builder
			fmt.Fprintf(&rows, "instance_id,%s,region,owner\n", column)
			for _, id := range ids {
				fmt.Fprintf(&rows, "%s,%s,us-east-1,team\n", id, accounts[1].ID)
			}
			list := writeFile(t, "fleet.csv", rows.String())
			got := runCLI(t, "", "run", "--instances", list, "--region", "us-east-1", "--quiet", "--out", filepath.Join(t.TempDir(), "o"))
			if got.code != 2 || !strings.Contains(got.stderr, accounts[1].ID) {
				t.Errorf("without --role-name: exit %d, want 2 naming account %s\n%s", got.code, accounts[1].ID, got.stderr)
			}
			out := filepath.Join(t.TempDir(), "o")
			got = runCLI(t, "", "run", "--instances", list, "--role-name", "AuditRole", "--region", "us-east-1", "--fail-on", "none", "--quiet", "--out", out)
			if got.code != 0 {
				t.Fatalf("exit %d, want 0\n%s", got.code, got.stderr)
			}
			rs, err := audit.OpenRecords(filepath.Join(out, audit.ResultsFile))
			if err != nil {
				t.Fatal(err)
			}
			defer rs.Close()
			n := 0
			rs.Each(func(r audit.Result) error {
				n++
				if r.AccountID != accounts[1].ID || !r.Outcome.Audited() {
					t.Errorf("%s: account %q, %s; want account %s, audited", r.InstanceID, r.AccountID, r.Outcome, accounts[1].ID)
				}
				if _, ok := r.Labels[column]; ok || r.Labels["owner"] != "team" {
					t.Errorf("%s: labels %v, want owner alone", r.InstanceID, r.Labels)
				}
				return nil
			})
			if n != len(ids) {
				t.Errorf("%d results, want %d", n, len(ids))
			}
		})
	}
}
