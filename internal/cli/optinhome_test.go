package cli

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// optInOrg serves an organisation of a management account and a member,
// each opted in to af-south-1 (an opt-in region) or not, with fleets in
// us-east-1 and af-south-1.
func optInOrg(t *testing.T, managementOptedIn, memberOptedIn bool) []ssmsim.Account {
	t.Helper()
	accounts := ssmsim.DefaultAccounts(2, 1)[:2]
	accounts[0].OptedIn, accounts[1].OptedIn = nil, nil
	if managementOptedIn {
		accounts[0].OptedIn = []string{"af-south-1"}
	}
	if memberOptedIn {
		accounts[1].OptedIn = []string{"af-south-1"}
	}
	serveOrgOf(t, ssmsim.OrgConfig{
		Seed:         1,
		Accounts:     accounts,
		Regions:      []ssmsim.Region{{Name: "us-east-1"}, {Name: "eu-west-1"}, {Name: "af-south-1", OptIn: true}},
		FleetRegions: []string{"us-east-1", "af-south-1"},
		Fleet:        ssmsim.FleetConfig{Size: 6, BaseTime: time.Now().UTC().Truncate(time.Minute)},
	}, ssmsim.Faults{})
	return accounts
}

// audited returns the account-regions of out's record.
func auditedSites(t *testing.T, out string) map[[2]string]int {
	t.Helper()
	rs, err := audit.OpenRecords(filepath.Join(out, audit.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	got := map[[2]string]int{}
	rs.Each(func(r audit.Result) error {
		if r.Outcome != audit.OutcomeError {
			got[[2]string{r.AccountID, r.Region}]++
		}
		return nil
	})
	return got
}

// TestOptInHomeRegion: a run whose home region (--region, where STS, EC2's
// DescribeRegions and Organizations are called) is an opt-in region that a
// member account has not enabled called the member's DescribeRegions, and
// assumed its role, there: AWS refuses both (AuthFailure; STS's
// RegionDisabledException), and the member was lost in every region, run
// after run. Calls made with a member's role go to a region every account
// has.
func TestOptInHomeRegion(t *testing.T) {
	accounts := optInOrg(t, true, false)
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", "run", "--accounts", "org", "--role-name", "AuditRole", "--regions", "all", "--discover",
		"--region", "af-south-1", "--fail-on", "none", "--quiet", "--out", out)
	if got.code != 0 {
		t.Fatalf("exit %d, want 0: every account audited in the regions it has\n%s", got.code, got.stderr)
	}
	sites := auditedSites(t, out)
	for _, want := range [][2]string{{accounts[0].ID, "us-east-1"}, {accounts[0].ID, "af-south-1"}, {accounts[1].ID, "us-east-1"}} {
		if sites[want] == 0 {
			t.Errorf("no instance audited in %v; audited %v", want, sites)
		}
	}
	if n := sites[[2]string{accounts[1].ID, "af-south-1"}]; n != 0 {
		t.Errorf("%d instances audited in a region the member has not enabled", n)
	}
}

// TestOptInFirstOfRegions: with no region configured, the home region was
// the first of --regions: one that the caller's account has not enabled
// stopped the whole run (exit 4, as if its credentials were bad). The home
// region is the first of them that every account has; the other is an
// account-region that could not be audited.
func TestOptInFirstOfRegions(t *testing.T) {
	accounts := optInOrg(t, false, false)
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", "run", "--accounts", "org", "--role-name", "AuditRole", "--regions", "af-south-1,us-east-1", "--discover",
		"--fail-on", "none", "--out", out)
	if got.code != 3 {
		t.Fatalf("exit %d, want 3: af-south-1 could not be audited, us-east-1 was\n%s", got.code, got.stderr)
	}
	sites := auditedSites(t, out)
	for _, a := range accounts {
		if sites[[2]string{a.ID, "us-east-1"}] == 0 {
			t.Errorf("%s: nothing audited in us-east-1; audited %v", a.ID, sites)
		}
	}
	if !strings.Contains(got.stderr, "af-south-1") {
		t.Errorf("stderr does not name af-south-1:\n%s", got.stderr)
	}
}

// TestOptInRegionsAlone: --regions of opt-in regions alone, none of them
// enabled in the caller's account, and no region configured: the home
// region was the first of them, whose STS refused the caller, and the run
// stopped (exit 4) where a member that has the region could be audited.
func TestOptInRegionsAlone(t *testing.T) {
	accounts := optInOrg(t, false, true)
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", "run", "--accounts", "org", "--role-name", "AuditRole", "--regions", "af-south-1", "--discover",
		"--fail-on", "none", "--out", out)
	if got.code != 3 {
		t.Fatalf("exit %d, want 3: af-south-1 could not be audited in the caller's account\n%s", got.code, got.stderr)
	}
	if sites := auditedSites(t, out); sites[[2]string{accounts[1].ID, "af-south-1"}] == 0 {
		t.Errorf("the member's af-south-1 not audited; audited %v", sites)
	}
	if !strings.Contains(got.stderr, accounts[0].ID+" af-south-1 could not be audited") {
		t.Errorf("stderr does not say the caller's af-south-1 could not be audited:\n%s", got.stderr)
	}
}
