package cli

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestExpiredRoleSessionFailsItsAccount: a member account whose role
// sessions SSM finds expired (a clock far off, sessions revoked) fails
// that account's regions, named with the role, and the run goes on (exit
// 3): it stopped the whole organisation's run, exit 4, telling to refresh
// the caller's credentials, which were fine. Discovered and listed nodes
// alike.
func TestExpiredRoleSessionFailsItsAccount(t *testing.T) {
	accounts := ssmsim.DefaultAccounts(3, 1)
	// Sessions that end as they start: every SSM call signed with one
	// arrives after it.
	accounts[2].Roles = []ssmsim.Role{{Name: "AuditRole", SessionLifetime: time.Nanosecond}}
	org, _, _ := serveOrgOf(t, ssmsim.OrgConfig{
		Seed:     1,
		Accounts: accounts,
		Regions:  []ssmsim.Region{{Name: "us-east-1"}, {Name: "eu-west-1"}, {Name: "af-south-1", OptIn: true}},
		Fleet:    ssmsim.FleetConfig{Size: 10, BaseTime: time.Now().UTC().Truncate(time.Minute)},
	}, ssmsim.Faults{})
	expired, fine := accounts[2].ID, accounts[1].ID
	var rows strings.Builder
	rows.WriteString("instance_id,account_id,region\n")
	for _, a := range []string{fine, expired} {
		for _, id := range org.Fleet(a, "us-east-1").ManagedIDs()[:3] {
			fmt.Fprintf(&rows, "%s,%s,us-east-1\n", id, a)
		}
	}
	list := writeFile(t, "fleet.csv", rows.String())
	tests := []struct {
		name  string
		args  []string
		sites int // the expired account's failed account-regions
	}{
		{name: "discovered", args: []string{"--accounts", "org", "--regions", "us-east-1,eu-west-1", "--discover"}, sites: 2},
		{name: "listed", args: []string{"--instances", list}, sites: 1},
	}
	role := "arn:aws:iam::" + expired + ":role/AuditRole"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			got := runCLI(t, "", append([]string{"run", "--role-name", "AuditRole", "--region", "us-east-1",
				"--fail-on", "none", "--quiet", "--out", out}, tt.args...)...)
			if got.code != int(exitIncomplete) {
				t.Fatalf("exit %d, want %d (one account's sessions expired)\n%s", got.code, exitIncomplete, got.stderr)
			}
			if strings.Contains(got.stderr, "aws sso login") {
				t.Errorf("stderr tells to refresh the caller's credentials, which are fine:\n%s", got.stderr)
			}
			ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
			if err != nil {
				t.Fatal(err)
			}
			failed := 0
			for _, s := range ri.Sites {
				switch {
				case s.AccountID == expired && (s.Error == nil || s.Error.Code != "ExpiredTokenException" || !strings.Contains(s.Error.Message, role)):
					t.Errorf("site %s %s: error %+v, want ExpiredTokenException naming %s", s.AccountID, s.Region, s.Error, role)
				case s.AccountID == expired:
					failed++
				case s.Error != nil:
					t.Errorf("site %s %s: error %+v, want it audited", s.AccountID, s.Region, s.Error)
				}
			}
			if failed != tt.sites {
				t.Errorf("%d account-regions of %s failed, want %d; sites %+v", failed, expired, tt.sites, ri.Sites)
			}
			rs, err := audit.OpenRecords(filepath.Join(out, audit.ResultsFile))
			if err != nil {
				t.Fatal(err)
			}
			defer rs.Close()
			audited := 0
			rs.Each(func(r audit.Result) error {
				if r.AccountID == fine && r.Outcome != audit.OutcomeError {
					audited++
				}
				return nil
			})
			if audited == 0 {
				t.Errorf("no node of %s audited", fine)
			}
		})
	}
}
