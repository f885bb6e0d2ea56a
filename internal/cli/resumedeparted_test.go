package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestResumeAfterAnAccountLeft: an organisation's discovery run is stopped
// midway, and one of its accounts leaves the organisation before the run
// is resumed with the same options. The record's results of that account
// are the run's (its recorded scope is this run's): the resume keeps them
// as audited then, audits the rest, and names the account no longer
// listed. The same record resumed for another scope (other --regions), or
// with no run.json to say its scope, is still another audit's.
func TestResumeAfterAnAccountLeft(t *testing.T) {
	d := departingOrg(t, "all", "csv", false, exitOK)
	accounts, gone, out, args := d.accounts, d.gone, d.out, d.args
	all := recordKeys(t, out)
	// Stopped midway: the record lacks the results of one account-region
	// that stays in the organisation, and holds the departing account's.
	kept, dropped, departed := keepRecordLines(t, out, func(r audit.Result) bool {
		return r.AccountID != accounts[1].ID || r.Region != "eu-west-1"
	}, gone)
	if dropped == 0 || departed == 0 {
		t.Fatalf("the fixture drops %d results and holds %d of %s; want some of each", dropped, departed, gone)
	}

	d.leave(t)
	other := runCLI(t, "", "run", "--accounts", "org", "--role-name", "AuditRole", "--regions", "us-east-1,eu-west-1", "--discover",
		"--region", "us-east-1", "--format", "csv", "--fail-on", "none", "--out", out, "--resume")
	if other.code != int(exitUsage) {
		t.Errorf("--resume with other --regions: exit %d, want %d (another audit's record)\n%s", other.code, exitUsage, other.stderr)
	}
	checkSays(t, other.stderr, []string{"the run audits the nodes discovered in accounts=org@", "/regions=all/", "resume with the run's own targets"}, nil)

	// Without its run.json, nothing says which organisation the record
	// was written for.
	runFile := filepath.Join(out, audit.RunFile)
	if err := os.Rename(runFile, runFile+".aside"); err != nil {
		t.Fatal(err)
	}
	unknown := runCLI(t, "", append(args, "--resume")...)
	if unknown.code != int(exitUsage) {
		t.Errorf("--resume without run.json: exit %d, want %d (a record of no known scope)\n%s", unknown.code, exitUsage, unknown.stderr)
	}
	if err := os.Rename(runFile+".aside", runFile); err != nil {
		t.Fatal(err)
	}

	got := runCLI(t, "", append(args, "--resume")...)
	if got.code != 0 {
		t.Fatalf("--resume: exit %d, want 0\n%s", got.code, got.stderr)
	}
	if n := len(recordKeys(t, out)); n != len(all) {
		t.Errorf("--resume: %d results, want the first run's %d", n, len(all))
	}
	ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	if ri.Targets != len(all) || ri.Resumed != kept {
		t.Errorf("--resume: run.json targets %d, resumed %d; want %d, %d", ri.Targets, ri.Resumed, len(all), kept)
	}
	checkSays(t, got.stderr, []string{"account " + gone + " is no longer among the organisation's active accounts"}, []string{"another audit"})
}

// TestResumeAfterAnAccountLeftUnaudited: an organisation's discovery run is
// stopped before it audited every node it discovered in one account-region
// of an account that then leaves the organisation. The resume cannot audit
// them: that account-region is one that could not be audited, named as
// such in run.json (not complete) and the closing lines, and as stopped
// part way in summary.json, with exit 3, and no advice to resume again,
// which cannot help.
func TestResumeAfterAnAccountLeftUnaudited(t *testing.T) {
	d := departingOrg(t, "us-east-1,eu-west-1", "csv,json,html", false, exitOK)
	gone, out, args := d.gone, d.out, d.args
	// Stopped midway: of the departing account's nodes in eu-west-1, half
	// have no result.
	seen := 0
	_, dropped, _ := keepRecordLines(t, out, func(r audit.Result) bool {
		if r.AccountID != gone || r.Region != "eu-west-1" {
			return true
		}
		seen++
		return seen%2 == 0
	}, gone)
	if dropped == 0 {
		t.Fatalf("the fixture drops no result of %s in eu-west-1", gone)
	}

	d.leave(t)
	got := runCLI(t, "", append(args, "--resume")...)
	if got.code != int(exitIncomplete) {
		t.Errorf("--resume: exit %d, want %d (nodes of a departed account never audited)\n%s", got.code, exitIncomplete, got.stderr)
	}
	ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	if ri.Complete {
		t.Errorf("run.json: complete, want incomplete: %d nodes of %s were never audited", dropped, gone)
	}
	var failed []audit.SiteStats
	for _, s := range ri.Sites {
		if s.Error != nil {
			failed = append(failed, s)
		}
	}
	never := fmt.Sprintf("%d of its", dropped)
	if len(failed) != 1 || failed[0].AccountID != gone || failed[0].Region != "eu-west-1" ||
		!strings.Contains(failed[0].Error.Message, "no longer among the organisation's active accounts") || !strings.Contains(failed[0].Error.Message, never) {
		t.Errorf("run.json sites in error %+v, want %s eu-west-1 alone, saying it left with %s nodes never audited", failed, gone, never)
	}
	// The nodes its first attempt audited are in the record and in every
	// count: the reports tell it stopped part way, not "nothing in it is
	// known", nor as a listing that failed.
	var summary struct {
		Run report.Run `json:"run"`
	}
	if b, err := os.ReadFile(filepath.Join(out, report.SummaryFile)); err != nil {
		t.Fatal(err)
	} else if err := json.Unmarshal(b, &summary); err != nil {
		t.Fatal(err)
	}
	if r := summary.Run; len(r.Unaudited) != 0 || len(r.ListedInPart) != 0 || len(r.StoppedPartWay) != 1 ||
		r.StoppedPartWay[0].AccountID != gone || r.StoppedPartWay[0].Region != "eu-west-1" || r.StoppedPartWay[0].Audited == 0 {
		t.Errorf("summary.json run: unaudited %+v, listed in part %+v, stopped part way %+v; want %s eu-west-1 stopped part way with the nodes audited before",
			r.Unaudited, r.ListedInPart, r.StoppedPartWay, gone)
	}
	if html, _ := os.ReadFile(filepath.Join(out, report.HTMLFile)); !bytes.Contains(html, []byte(audit.CodeAccountNotActive)) || !bytes.Contains(html, []byte("account "+gone)) {
		t.Errorf("report.html does not name %s as an account that left", gone)
	}
	// stderr tells it in the reports' words, with the same count.
	part := fmt.Sprintf("%s eu-west-1 stopped part way: %s audited before it failed", gone, plural(summary.Run.StoppedPartWay[0].Audited, "instance"))
	checkSays(t, got.stderr, []string{part, "not audited"}, []string{"continue with", "eu-west-1 could not be audited"})

	// Resumed again, it says the same: the account is still gone.
	again := runCLI(t, "", append(args, "--resume")...)
	if again.code != int(exitIncomplete) {
		t.Errorf("--resume again: exit %d, want %d\n%s", again.code, exitIncomplete, again.stderr)
	}
	checkSays(t, again.stderr, []string{part, never}, []string{"continue with", "eu-west-1 could not be audited"})
	// And so does the record's rendering again.
	rendered := runCLI(t, "", "report", filepath.Join(out, audit.ResultsFile), "--out", out, "--fail-on", "none")
	checkSays(t, rendered.stderr, []string{part}, []string{"eu-west-1 could not be audited"})
}

// TestResumeAfterARefusedAccountLeft: an organisation's discovery run could
// not audit one account (its role refused), which then leaves the
// organisation. The resume cannot audit it either: its account-regions are
// still ones that could not be audited, now as an account that left, not
// a role to deploy and a run to resume.
func TestResumeAfterARefusedAccountLeft(t *testing.T) {
	d := departingOrg(t, "us-east-1,eu-west-1", "csv", true, exitIncomplete)
	gone, out, args := d.gone, d.out, d.args

	d.leave(t)
	got := runCLI(t, "", append(args, "--resume")...)
	if got.code != int(exitIncomplete) {
		t.Errorf("--resume: exit %d, want %d (an account never audited)\n%s", got.code, exitIncomplete, got.stderr)
	}
	ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, s := range ri.Sites {
		if s.Error != nil && s.AccountID == gone && s.Error.Code == audit.CodeAccountNotActive {
			failed = append(failed, s.Region)
		}
	}
	if ri.Complete || len(failed) != 2 {
		t.Errorf("run.json: complete %v, %s could not be audited in %v as an account that left; want incomplete, in both regions", ri.Complete, gone, failed)
	}
	checkSays(t, got.stderr, []string{gone + " eu-west-1 could not be audited", gone + " us-east-1 could not be audited", "AccessDenied"},
		[]string{"continue with", "deploy it there"})
}

// keepRecordLines rewrites the record in out with the results that keep
// takes, and returns how many it kept and dropped, and how many of those
// kept are of account.
func keepRecordLines(t *testing.T, out string, keep func(audit.Result) bool, account string) (kept, dropped, of int) {
	t.Helper()
	path := filepath.Join(out, audit.ResultsFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r audit.Result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if !keep(r) {
			dropped++
			continue
		}
		kept++
		if r.AccountID == account {
			of++
		}
		buf.Write(sc.Bytes())
		buf.WriteByte('\n')
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return kept, dropped, of
}

// TestResumeAfterAnAccountLeftInError: the results in error of an account
// that then left the organisation were counted as audited then: no
// account-region named it, and the closing line advised a resume, which
// cannot assume a role there. They are nodes the run never audited.
func TestResumeAfterAnAccountLeftInError(t *testing.T) {
	for _, refused := range []bool{false, true} {
		t.Run(map[bool]string{false: "alone", true: "beside a region refused"}[refused], func(t *testing.T) {
			resumeAfterAnAccountLeftInError(t, refused)
		})
	}
}

func resumeAfterAnAccountLeftInError(t *testing.T, refused bool) {
	regions := "us-east-1,eu-west-1"
	if refused {
		regions += ",af-south-1" // opt-in: refused in the accounts that did not enable it
	}
	d := departingOrg(t, regions, "csv,json", false, map[bool]exitCode{false: exitOK, true: exitIncomplete}[refused])
	gone, out, args := d.gone, d.out, d.args
	// Three of the departing account's nodes in eu-west-1 ended in error.
	path := filepath.Join(out, audit.ResultsFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	errored := 0
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		var r audit.Result
		if len(line) == 0 || json.Unmarshal(line, &r) != nil {
			buf.Write(line)
			continue
		}
		if r.AccountID == gone && r.Region == "eu-west-1" && errored < 3 {
			errored++
			r.Outcome, r.Error, r.Associations = audit.OutcomeError, &audit.Error{Code: "ThrottlingException", Message: "Rate exceeded"}, nil
			line, err = json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			line = append(line, '\n')
		}
		buf.Write(line)
	}
	if errored != 3 {
		t.Fatalf("the fixture has %d results of %s in eu-west-1, want at least 3", errored, gone)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	d.leave(t)
	got := runCLI(t, "", append(args, "--resume")...)
	if got.code != int(exitIncomplete) {
		t.Errorf("--resume: exit %d, want %d\n%s", got.code, exitIncomplete, got.stderr)
	}
	if refused {
		// A region refused in an account still in the organisation is
		// resumed once enabled: the advice says so, and the instances
		// in error are not counted again with their account-region.
		checkSays(t, got.stderr, []string{"123456789012 af-south-1 could not be audited", "3 instances and 2 account-regions could not be audited",
			"fix the cause above, then continue with: auditor run --resume"}, []string{"no resumed run can audit", "3 account-regions"})
		return
	}
	// Their resume cannot assume a role in an account that left.
	// The 17 nodes with a verdict are known: stopped part way, as the
	// reports say.
	checkSays(t, got.stderr, []string{gone + " eu-west-1 stopped part way: 17 instances audited before it failed", "3 of its", "no resumed run can audit an account that has left"}, []string{"retry them with"})
}

// departing is an organisation audited, one of whose members is to leave
// it (departingOrg).
type departing struct {
	accounts []ssmsim.Account
	gone     string   // the member that leaves
	out      string   // the audit's --out
	args     []string // the audit's command; resumed with "--resume" added
}

// departingOrg serves an organisation of three members and its management
// account (threeRegionOrg, 20 nodes an account-region), the third member's
// role refused when refuse is set, and audits it by discovery in regions,
// with formats, into a new --out, which must end with want.
func departingOrg(t *testing.T, regions, formats string, refuse bool, want exitCode) departing {
	t.Helper()
	d := departing{accounts: ssmsim.DefaultAccounts(3, 1), out: filepath.Join(t.TempDir(), "out")}
	d.gone = d.accounts[2].ID
	members := slices.Clone(d.accounts)
	if refuse {
		members[2].Roles = []ssmsim.Role{{Name: "AuditRole", Refuse: true}}
	}
	serveOrgOf(t, threeRegionOrg(members, 20), ssmsim.Faults{})
	d.args = []string{"run", "--accounts", "org", "--role-name", "AuditRole", "--regions", regions, "--discover",
		"--region", "us-east-1", "--format", formats, "--fail-on", "none", "--out", d.out}
	if got := runCLI(t, "", d.args...); got.code != int(want) {
		t.Fatalf("exit %d, want %d\n%s", got.code, want, got.stderr)
	}
	return d
}

// leave serves the organisation again without the member that leaves.
func (d departing) leave(t *testing.T) {
	t.Helper()
	serveOrgOf(t, threeRegionOrg(slices.DeleteFunc(slices.Clone(d.accounts), func(a ssmsim.Account) bool { return a.ID == d.gone }), 20), ssmsim.Faults{})
}

// threeRegionOrg is an organisation of members in us-east-1, eu-west-1 and
// the opt-in af-south-1, of size nodes an account-region: a test of a
// member that leaves it, or fails, serves it again without that member.
func threeRegionOrg(members []ssmsim.Account, size int) ssmsim.OrgConfig {
	return ssmsim.OrgConfig{
		Seed:     1,
		Accounts: members,
		Regions:  []ssmsim.Region{{Name: "us-east-1"}, {Name: "eu-west-1"}, {Name: "af-south-1", OptIn: true}},
		Fleet:    ssmsim.FleetConfig{Size: size, BaseTime: time.Now().UTC().Truncate(time.Minute)},
	}
}

// TestResumeAfterAnAccountLeftUnlisted: an organisation's discovery run is
// stopped while it lists the nodes of an account-region (the first page of
// them listed and audited, the rest never listed), or before its last
// attempt reached that account-region again, and the account then leaves
// the organisation. Every node listed has a result, but the nodes never
// listed are no target and no result either: the resume called the run
// complete. The account-region is one that could not be audited, as when
// listed nodes have no result.
func TestResumeAfterAnAccountLeftUnlisted(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(site map[string]any) (keep bool)
	}{
		// The listing cut after its first 5 nodes: run.json counts
		// those, and does not say the listing ended.
		{"listing cut short", func(site map[string]any) bool {
			site["discovered"] = 5
			delete(site, "listed")
			return true
		}},
		// The last attempt stopped before it reached the account-region:
		// its run.json has none of it, and the record an earlier
		// attempt's results.
		{"not reached by the last attempt", func(map[string]any) bool { return false }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := departingOrg(t, "us-east-1,eu-west-1", "csv,json", false, exitOK)
			gone, out, args := d.gone, d.out, d.args
			seen := 0
			keepRecordLines(t, out, func(r audit.Result) bool {
				if r.AccountID != gone || r.Region != "eu-west-1" {
					return true
				}
				seen++
				return seen <= 5
			}, gone)
			path := filepath.Join(out, audit.RunFile)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var info map[string]any
			if err := json.Unmarshal(b, &info); err != nil {
				t.Fatal(err)
			}
			info["interrupted"], info["complete"] = true, false
			var sites []any
			for _, s := range info["sites"].([]any) {
				site := s.(map[string]any)
				if site["account_id"] == gone && site["region"] == "eu-west-1" && !tc.edit(site) {
					continue
				}
				sites = append(sites, site)
			}
			info["sites"] = sites
			if b, err = json.Marshal(info); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}

			d.leave(t)
			got := runCLI(t, "", append(args, "--resume")...)
			if got.code != int(exitIncomplete) {
				t.Errorf("--resume: exit %d, want %d (nodes of a departed account never listed)\n%s", got.code, exitIncomplete, got.stderr)
			}
			ri, err := audit.ReadRunInfo(path)
			if err != nil {
				t.Fatal(err)
			}
			if ri.Complete {
				t.Errorf("run.json: complete, want incomplete: the nodes of %s in eu-west-1 were never all listed", gone)
			}
			// The 5 nodes listed and audited before are known.
			checkSays(t, got.stderr, []string{gone + " eu-west-1 stopped part way: 5 instances audited before it failed", audit.CodeAccountNotActive}, []string{"continue with"})
		})
	}
}
