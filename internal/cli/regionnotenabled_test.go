package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestListRegionNotEnabledBeforeTheAudit: a list whose rows are in several
// account-regions, one of them a region its account has not enabled. The
// steps before the audit (--with-instance-info, --tag-labels) stopped the
// whole run there (exit 4, no report) where the audit alone fails that
// account-region and goes on (exit 3, the region named with its hint): a
// list of one account in two regions was taken for a run of one
// account-region, and tags that could not be read in one account of many
// stopped every other.
func TestListRegionNotEnabledBeforeTheAudit(t *testing.T) {
	accounts := ssmsim.DefaultAccounts(3, 1)
	org, _, _ := serveOrgOf(t, ssmsim.OrgConfig{
		Seed:     1,
		Accounts: accounts,
		Regions:  []ssmsim.Region{{Name: "us-east-1"}, {Name: "eu-west-1"}, {Name: "af-south-1", OptIn: true}},
		Fleet:    ssmsim.FleetConfig{Size: 10, BaseTime: time.Now().UTC().Truncate(time.Minute)},
	}, ssmsim.Faults{})
	// The management account and accounts[2] have not enabled af-south-1
	// (accounts[1] has).
	management, member, other := accounts[0].ID, accounts[1].ID, accounts[2].ID
	// list writes 3 us-east-1 rows of each of in, and one af-south-1 row
	// of off, which has not enabled it.
	list := func(t *testing.T, off string, in ...string) string {
		t.Helper()
		var rows strings.Builder
		rows.WriteString("instance_id,account_id,region\n")
		for _, a := range in {
			for _, id := range org.Fleet(a, "us-east-1").ManagedIDs()[:3] {
				fmt.Fprintf(&rows, "%s,%s,us-east-1\n", id, a)
			}
		}
		fmt.Fprintf(&rows, "i-0aaaaaaaaaaaaaaa1,%s,af-south-1\n", off)
		return writeFile(t, "fleet.csv", rows.String())
	}
	tests := []struct {
		name string
		off  string   // the account whose af-south-1 row is refused
		in   []string // the accounts of the us-east-1 rows
		args []string
	}{
		{name: "one account, instance information", off: management, in: []string{management},
			args: []string{"--with-instance-info"}},
		{name: "one account, instance information and discovery", off: management, in: []string{management},
			args: []string{"--with-instance-info", "--discover", "--regions", "us-east-1"}},
		{name: "one account, tags", off: management, in: []string{management},
			args: []string{"--tag-labels", "Team"}},
		{name: "three accounts, tags, a role's account", off: other, in: []string{management, member, other},
			args: []string{"--role-name", "AuditRole", "--tag-labels", "Team"}},
		{name: "three accounts, tags, the caller's account", off: management, in: []string{management, member, other},
			args: []string{"--role-name", "AuditRole", "--tag-labels", "Team"}},
		{name: "three accounts, tags and instance information", off: other, in: []string{management, member, other},
			args: []string{"--role-name", "AuditRole", "--tag-labels", "Team", "--with-instance-info"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			got := runCLI(t, "", append([]string{"run", "--instances", list(t, tt.off, tt.in...), "--region", "us-east-1",
				"--fail-on", "none", "--quiet", "--format", "csv", "--out", out}, tt.args...)...)
			if got.code != int(exitIncomplete) {
				t.Fatalf("exit %d, want %d\n%s", got.code, exitIncomplete, got.stderr)
			}
			checkSays(t, got.stderr, []string{tt.off + " af-south-1 could not be audited", "af-south-1 not enabled in account " + tt.off},
				[]string{"cannot call", "no account-region could be audited"})
			b, err := os.ReadFile(filepath.Join(out, "instances.csv"))
			if err != nil {
				t.Fatal(err)
			}
			want := 3*len(tt.in) + 1
			if slices.Contains(tt.args, "--discover") {
				want = len(org.Fleet(management, "us-east-1").ManagedIDs()) + 1
			}
			if rows := strings.Count(string(b), "\n") - 1; rows != want {
				t.Errorf("%d rows in instances.csv, want %d: every instance, the refused one in error", rows, want)
			}
		})
	}
}
