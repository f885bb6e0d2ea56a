package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestSiteFailureHints: account-regions that fail from a setting fail the
// same way when resumed: the closing lines say what to change, once per
// cause, and to change it before resuming. A --role-duration above the
// role's maximum (STS's ValidationError in every member account), a region
// not enabled in an account (UnrecognizedClientException there), a role
// that cannot be assumed (STS's AccessDenied: not deployed, or a trust
// policy that does not name the caller).
func TestSiteFailureHints(t *testing.T) {
	_, _, accounts := serveOrg(t, 10)
	management, member, refusing := accounts[0].ID, accounts[1].ID, accounts[2].ID
	tests := []struct {
		name  string
		args  []string
		want  []string
		once  string // said once, however many account-regions it failed
		avoid []string
	}{
		{name: "role duration above the role's maximum", args: []string{"--accounts", member + "," + refusing + "," + management, "--regions", "us-east-1,eu-west-1", "--role-duration", "2h"},
			want: []string{"ValidationError", "lower --role-duration", "fix the causes above, then continue with"}, once: "lower --role-duration"},
		{name: "region not enabled", args: []string{"--accounts", management + "," + member, "--regions", "us-east-1,af-south-1"},
			// "leave it out of --regions", then a resume with the run's
			// own --regions: a resume with others is refused.
			want:  []string{management + " af-south-1 could not be audited", "UnrecognizedClientException", "af-south-1 not enabled in account " + management + ", or misspelt?", "without it in --regions, into another --out"},
			avoid: []string{"lower --role-duration", "trust policy", "leave it out of --regions"}},
		{name: "role refused", args: []string{"--accounts", member + "," + refusing, "--regions", "us-east-1,eu-west-1"},
			want: []string{refusing + " us-east-1 could not be audited", "AccessDenied", "arn:aws:iam::" + refusing + ":role/AuditRole", "trust policy", management},
			once: "trust policy", avoid: []string{"lower --role-duration", "without it in --regions"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runCLI(t, "", append([]string{"run", "--role-name", "AuditRole", "--discover", "--region", "us-east-1",
				"--fail-on", "none", "--quiet", "--out", filepath.Join(t.TempDir(), "out")}, tt.args...)...)
			if got.code != int(exitIncomplete) {
				t.Fatalf("exit %d, want %d\n%s", got.code, exitIncomplete, got.stderr)
			}
			checkSays(t, got.stderr, tt.want, tt.avoid)
			if n := strings.Count(got.stderr, tt.once); tt.once != "" && n != 1 {
				t.Errorf("stderr says %q %d times, want once:\n%s", tt.once, n, got.stderr)
			}
		})
	}
}

// TestEveryAccountRegionFailed: when every account-region of a run fails
// before any instance was audited (a role that no account lets it assume),
// nothing could be audited anywhere: a setup to fix, exit 4, as the
// README's exit codes say, with each account-region and the hint on
// stderr, and no report that would read as an audit of nothing: run.json
// alone, which says why. One account-region alone is no different: it was
// exit 3, with reports of nothing, where two were exit 4.
func TestEveryAccountRegionFailed(t *testing.T) {
	_, _, accounts := serveOrg(t, 10)
	refusing := accounts[2].ID
	// With --regions all, the role lists the regions: it fails before the
	// audit, an account-region the Session never sees.
	for _, regions := range []string{"us-east-1,eu-west-1", "us-east-1", "all"} {
		t.Run(regions, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			got := runCLI(t, "", "run", "--role-name", "AuditRole", "--discover", "--region", "us-east-1",
				"--fail-on", "none", "--quiet", "--out", out, "--accounts", refusing, "--regions", regions)
			if got.code != int(exitFatal) {
				t.Fatalf("exit %d, want %d\n%s", got.code, exitFatal, got.stderr)
			}
			want := []string{"no account-region could be audited", "trust policy"}
			for _, r := range strings.Split(strings.Replace(regions, "all", audit.AllRegions, 1), ",") {
				want = append(want, refusing+" "+r+" could not be audited")
			}
			// STS refused the role: no SSM call was made.
			checkSays(t, got.stderr, want, []string{"--resume", "cannot call SSM"})
			for _, f := range []string{"report.html", "summary.json", "instances.csv", "report.xlsx"} {
				if _, err := os.Stat(filepath.Join(out, f)); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s: %v, want none: a report would read as an audit of nothing", f, err)
				}
			}
			var info struct {
				Error string `json:"error"`
			}
			b, err := os.ReadFile(filepath.Join(out, "run.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &info); err != nil || !strings.Contains(info.Error, "no account-region could be audited") {
				t.Errorf("run.json error %q (%v), want it to say no account-region could be audited", info.Error, err)
			}
		})
	}
}

// TestResumeWhoseAccountRegionsAllFail: a resume whose account-regions all
// fail at once (the role refused now) continues a record that holds what
// its first attempt audited: incomplete (exit 3, resume again once fixed),
// not "no account-region could be audited" (exit 4, which a Kubernetes
// Job's podFailurePolicy takes as not worth retrying).
func TestResumeWhoseAccountRegionsAllFail(t *testing.T) {
	org, _, accounts := serveOrg(t, 10)
	member := accounts[1].ID
	var rows strings.Builder
	rows.WriteString("instance_id,account_id,region\n")
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		for _, id := range org.Fleet(member, region).ManagedIDs()[:4] {
			fmt.Fprintf(&rows, "%s,%s,%s\n", id, member, region)
		}
	}
	list := writeFile(t, "fleet.csv", rows.String())
	out := filepath.Join(t.TempDir(), "out")
	args := []string{"run", "--instances", list, "--region", "us-east-1", "--fail-on", "none", "--quiet", "--out", out}
	if got := runCLI(t, "", append(args, "--role-name", "AuditRole")...); got.code != int(exitOK) {
		t.Fatalf("first run: exit %d\n%s", got.code, got.stderr)
	}
	// The first attempt ended after three results: a crash.
	record := filepath.Join(out, audit.ResultsFile)
	b, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	if err := os.WriteFile(record, []byte(strings.Join(lines[:3], "")), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(out, audit.RunFile))
	got := runCLI(t, "", append(args, "--resume", "--role-name", "NoSuchRole")...)
	if got.code != int(exitIncomplete) {
		t.Fatalf("resume: exit %d, want %d\n%s", got.code, exitIncomplete, got.stderr)
	}
	// What the first attempt audited of each is known, as the reports say.
	kept := map[string]int{}
	for _, line := range lines[:3] {
		var r audit.Result
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		kept[r.Region]++
	}
	var says []string
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		if kept[region] > 0 {
			says = append(says, fmt.Sprintf("%s %s stopped part way: %s audited", member, region, plural(kept[region], "instance")))
		} else {
			says = append(says, member+" "+region+" could not be audited")
		}
	}
	checkSays(t, got.stderr, append(says, "--resume"),
		[]string{"no account-region could be audited"})
}

// TestOneAccountRegionFailedBesideAnEmptyOne: an account-region whose
// discovery found no node was audited all the same (there was nothing to
// audit); beside one that failed, the run is incomplete (exit 3), not a
// run none of whose account-regions could be audited.
func TestOneAccountRegionFailedBesideAnEmptyOne(t *testing.T) {
	accounts := ssmsim.DefaultAccounts(3, 1)
	accounts[2].Roles = []ssmsim.Role{{Name: "AuditRole", Refuse: true}}
	serveOrgOf(t, ssmsim.OrgConfig{
		Seed:     1,
		Accounts: accounts,
		Regions:  []ssmsim.Region{{Name: "us-east-1"}, {Name: "eu-west-1"}, {Name: "af-south-1", OptIn: true}},
		Fleet:    ssmsim.FleetConfig{Size: 10, BaseTime: time.Now().UTC().Truncate(time.Minute)},
	}, ssmsim.Faults{})
	// A filter that no node matches: the member's discovery finds none.
	got := runCLI(t, "", "run", "--role-name", "AuditRole", "--discover", "--region", "us-east-1", "--fail-on", "none", "--quiet",
		"--out", filepath.Join(t.TempDir(), "out"), "--accounts", accounts[1].ID+","+accounts[2].ID, "--regions", "us-east-1",
		"--filter", "Key=tag:Env,Values=no-such-env")
	if got.code != int(exitIncomplete) {
		t.Fatalf("exit %d, want %d\n%s", got.code, exitIncomplete, got.stderr)
	}
	checkSays(t, got.stderr, []string{accounts[2].ID + " us-east-1 could not be audited"}, []string{"no account-region could be audited"})
}

// TestDiscoveredCountsListedSites: "discovered 96 managed nodes in 8
// account-regions" was said where 6 of the 8 could not be listed; it
// counts those listed, and names the others apart.
func TestDiscoveredCountsListedSites(t *testing.T) {
	_, _, accounts := serveOrg(t, 10)
	member, refusing := accounts[1].ID, accounts[2].ID
	got := runCLI(t, "", "run", "--role-name", "AuditRole", "--discover", "--region", "us-east-1", "--fail-on", "none",
		"--format", "csv", "--out", filepath.Join(t.TempDir(), "out"), "--accounts", member+","+refusing, "--regions", "us-east-1,eu-west-1")
	if got.code != int(exitIncomplete) {
		t.Fatalf("exit %d, want %d\n%s", got.code, exitIncomplete, got.stderr)
	}
	checkSays(t, got.stderr, []string{"in 2 account-regions (2 more could not be listed)"}, []string{"in 4 account-regions"})
}

// TestRegionRefusedInAList: a list's rows in a region that an account has
// not enabled. The hint said to run again "without it in --regions", which
// the run does not have: the region came from the list. And the closing
// line counted its instances in error and, again, the account-region they
// are in.
func TestRegionRefusedInAList(t *testing.T) {
	org, _, accounts := serveOrg(t, 10)
	management, member := accounts[0].ID, accounts[1].ID
	var rows strings.Builder
	rows.WriteString("instance_id,account_id,region\n")
	for _, id := range org.Fleet(member, "us-east-1").ManagedIDs()[:3] {
		fmt.Fprintf(&rows, "%s,%s,us-east-1\n", id, member)
	}
	// The management account has not enabled af-south-1.
	for _, id := range []string{"i-0aaaaaaaaaaaaaaa1", "i-0aaaaaaaaaaaaaaa2"} {
		fmt.Fprintf(&rows, "%s,%s,af-south-1\n", id, management)
	}
	list := writeFile(t, "fleet.csv", rows.String())
	got := runCLI(t, "", "run", "--instances", list, "--role-name", "AuditRole", "--region", "us-east-1", "--fail-on", "none", "--quiet",
		"--out", filepath.Join(t.TempDir(), "out"))
	if got.code != int(exitIncomplete) {
		t.Fatalf("exit %d, want %d\n%s", got.code, exitIncomplete, got.stderr)
	}
	checkSays(t, got.stderr, []string{management + " af-south-1 could not be audited", "af-south-1 not enabled in account " + management + ", or misspelt?",
		"its rows out of " + list, "incomplete: 2 instances could not be audited", "--resume"},
		[]string{"--regions", "account-region could not be audited", "account-regions could not be audited"})
}

// TestSiteHintUnauthorized: a role's session that EC2 refuses in one
// account (its policy lacks ec2:DescribeTags, or a service control policy
// denies it) fails that account-region alone since --tag-labels' tags are
// its failure; the closing lines said nothing of what to change, where the
// run's own credentials refused say to grant it.
func TestSiteHintUnauthorized(t *testing.T) {
	for _, tt := range []struct{ action, want string }{
		{"ec2:DescribeTags", "ec2:DescribeTags (--tag-labels)"},
		{"ec2:DescribeRegions", "ec2:DescribeRegions (--regions all)"},
		{"ec2:DescribeSomethingElse", "the EC2 calls the run makes"},
		{"ssm:DescribeInstanceInformation", "ssm:DescribeInstanceInformation (--discover, --with-instance-info)"},
		{"ssm:ListTagsForResource", "ssm:ListTagsForResource (--tag-labels, for hybrid nodes)"},
		{"ssm:DescribeSomethingElse", "the SSM calls the run makes"},
	} {
		code, words := "UnauthorizedOperation", "You are not authorized to perform this operation. User: "
		if strings.HasPrefix(tt.action, "ssm:") {
			code, words = "AccessDeniedException", "User: "
		}
		s := audit.SiteStats{AccountID: "222222222222", Region: "eu-west-1", Error: &audit.Error{Code: code,
			Message: words + "arn:aws:sts::222222222222:assumed-role/AuditRole/auditor is not authorized to perform: " +
				tt.action + " with an explicit deny in a service control policy"}}
		got := siteHint(s, "111111111111", nil)
		checkSays(t, got, []string{tt.want, "the role's session in account 222222222222", "service control policy"}, nil)
		// The caller's own account is audited with the run's own
		// credentials: their policy lacks it, not a role's.
		s.AccountID = "111111111111"
		got = siteHint(s, "111111111111", nil)
		checkSays(t, got, []string{tt.want, "the run's own credentials in account 111111111111", "their policy"}, []string{"role"})
		// Whose credentials signed is not known: the caller's account
		// could not be learnt, or a merge of runs of several callers.
		// The line names no role, nor an account that is not known.
		got = siteHint(s, "", nil)
		checkSays(t, got, []string{tt.want, "the credentials that signed its calls in account 111111111111", "their policy"}, []string{"role", "run's own"})
		s.AccountID = ""
		got = siteHint(s, "", nil)
		checkSays(t, got, []string{tt.want, "the credentials that signed its calls: allow it in their policy"}, []string{"role", "account"})
	}
}
