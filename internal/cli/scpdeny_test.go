package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestTagsDeniedByAMembersPolicy: a member's service control policy denies
// ec2:DescribeTags, so --tag-labels cannot label its nodes. Its
// account-region fails alone, saying which action to allow and that the
// member's policy is at fault; the other accounts are audited; and
// discovery does not say that the member's nodes "could not be listed",
// which they were.
func TestTagsDeniedByAMembersPolicy(t *testing.T) {
	org, member, denying := serveDenyingOrg(t, "ec2:DescribeTags")
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", "run", "--role-name", "AuditRole", "--discover", "--region", "us-east-1", "--regions", "us-east-1",
		"--accounts", member+","+denying, "--tag-labels", "Team", "--fail-on", "none", "--format", "csv", "--out", out)
	if got.code != int(exitIncomplete) {
		t.Fatalf("exit %d, want %d\n%s", got.code, exitIncomplete, got.stderr)
	}
	checkSays(t, got.stderr, []string{denying + " us-east-1 could not be audited", "ec2:DescribeTags", "in 2 account-regions (in 1 of them the tags could not be read)"},
		[]string{"could not be listed", "no account-region could be audited"})
	b, err := os.ReadFile(filepath.Join(out, "instances.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if n, want := strings.Count(string(b), member), len(org.Fleet(member, "us-east-1").ManagedIDs()); n < want {
		t.Errorf("instances.csv names the member that could be audited %d times, want its %d managed nodes at least", n, want)
	}
}

// TestListingDeniedByAMembersPolicy: a member's service control policy
// denies ssm:DescribeInstanceInformation, so discovery cannot list its
// nodes. Its account-regions fail alone, and the run says which action to
// allow, and where, as it does for EC2's refusals: before, it gave SSM's
// words alone.
func TestListingDeniedByAMembersPolicy(t *testing.T) {
	_, member, denying := serveDenyingOrg(t, "ssm:DescribeInstanceInformation")
	got := runCLI(t, "", "run", "--role-name", "AuditRole", "--discover", "--region", "us-east-1", "--regions", "us-east-1",
		"--accounts", member+","+denying, "--fail-on", "none", "--format", "csv", "--out", filepath.Join(t.TempDir(), "out"))
	if got.code != int(exitIncomplete) {
		t.Fatalf("exit %d, want %d\n%s", got.code, exitIncomplete, got.stderr)
	}
	checkSays(t, got.stderr, []string{denying + " us-east-1 could not be audited", "(1 more could not be listed)",
		"SSM refused ssm:DescribeInstanceInformation (--discover, --with-instance-info) to the role's session in account " + denying,
		"service control policy that denies it there"},
		[]string{"no account-region could be audited"})
}

// TestAuditDeniedByAMembersPolicy: a member's service control policy
// denies ssm:DescribeInstanceAssociationsStatus, the audit's own call.
// SSM answers each instance's call with AccessDeniedException, so each
// ends in error; the closing lines say which action to allow, and where,
// before they say to retry, which would fail the same way until then.
// Before, they gave SSM's words cut short and "retry them with" alone.
func TestAuditDeniedByAMembersPolicy(t *testing.T) {
	_, member, denying := serveDenyingOrg(t, "ssm:DescribeInstanceAssociationsStatus")
	got := runCLI(t, "", "run", "--role-name", "AuditRole", "--discover", "--region", "us-east-1", "--regions", "us-east-1",
		"--accounts", member+","+denying, "--fail-on", "none", "--format", "csv", "--out", filepath.Join(t.TempDir(), "out"))
	if got.code != int(exitIncomplete) {
		t.Fatalf("exit %d, want %d\n%s", got.code, exitIncomplete, got.stderr)
	}
	checkSays(t, got.stderr, []string{"ended in error",
		"SSM refused ssm:DescribeInstanceAssociationsStatus (the audit's own call) to the role's session in account " + denying + ": allow it",
		"fix the cause above, then retry them with"},
		[]string{"no account-region could be audited", "account " + member + ":"})
}

// serveDenyingOrg serves an organisation of a management account and
// three members, with a small fleet in us-east-1, whose second member's
// service control policy denies action; it returns the organisation, the
// first member and the denying one.
func serveDenyingOrg(t *testing.T, action string) (org *ssmsim.Org, member, denying string) {
	t.Helper()
	accounts := ssmsim.DefaultAccounts(3, 1)
	accounts[2].Deny = []string{action}
	org, _, _ = serveOrgOf(t, ssmsim.OrgConfig{
		Seed:     1,
		Accounts: accounts,
		Regions:  []ssmsim.Region{{Name: "us-east-1"}, {Name: "af-south-1", OptIn: true}},
		Fleet:    ssmsim.FleetConfig{Size: 10, BaseTime: time.Now().UTC().Truncate(time.Minute)},
	}, ssmsim.Faults{})
	return org, accounts[1].ID, accounts[2].ID
}
