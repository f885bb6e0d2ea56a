package cli

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestOrgAccountNamesEscaped: an account's name in Organizations is set by
// whoever may rename it, as a tag is, and a name with a terminal escape, a
// zero-width space or a bidi override reached the record, run.json,
// index.csv, the HTML and stderr as it is (a name in an --accounts file is
// refused). The run goes on: the name is written as a tag's value is
// (audit.EscapeLabel), with one warning for the run, naming an account and
// how many more. A name that ValidLabel takes is kept as it is, as an
// --accounts file keeps it, even one spelt as an escape (Lab\x64): doubling
// its backslash, with a warning, changed the account_name label from an
// older record's, which --mail-when changes took for a hand-over.
func TestOrgAccountNamesEscaped(t *testing.T) {
	accounts := ssmsim.DefaultAccounts(4, 1)
	accounts[1].Name = "\x1b[31mProduction\x1b[0m"
	// Refused, so that its name reaches the reports from run.json alone.
	accounts[2].Name, accounts[2].Roles = "Stag\u200bing\u202e", []ssmsim.Role{{Name: "AuditRole", Refuse: true}}
	accounts[3].Name = `Lab\x64`
	want := map[string]string{
		accounts[0].ID: accounts[0].Name,
		accounts[1].ID: `\x1b[31mProduction\x1b[0m`,
		accounts[2].ID: `Stag\u200bing\u202e`,
		accounts[3].ID: `Lab\x64`,
	}
	serveOrgOf(t, ssmsim.OrgConfig{
		Seed:     1,
		Accounts: accounts,
		Regions:  []ssmsim.Region{{Name: "us-east-1"}, {Name: "af-south-1", OptIn: true}},
		Fleet:    ssmsim.FleetConfig{Size: 5, BaseTime: time.Now().UTC().Truncate(time.Minute)},
	}, ssmsim.Faults{})
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", "run", "--accounts", "org", "--role-name", "AuditRole", "--regions", "us-east-1", "--discover",
		"--region", "us-east-1", "--fail-on", "none", "--quiet", "--out", out, "--format", "csv,html,json", "--split-by", "account_name")
	if got.code != 3 {
		t.Fatalf("exit %d, want 3 (one account refused): a name is not refused\n%s", got.code, got.stderr)
	}
	var warnings []string
	for _, l := range strings.Split(got.stderr, "\n") {
		if strings.Contains(l, "warning:") {
			warnings = append(warnings, l)
		}
	}
	// The account of the least ID, whichever order they come in.
	first := min(accounts[1].ID, accounts[2].ID)
	if len(warnings) != 1 || !strings.Contains(warnings[0], first) || !strings.Contains(warnings[0], `"`+want[first]+`"`) ||
		!strings.Contains(warnings[0], "escaped") || !strings.Contains(warnings[0], "1 more") {
		t.Errorf("want one warning naming account %s, its name as written %q, escaped, and 1 more:\n%s", first, want[first], got.stderr)
	}
	const raw = "\x1b\u200b\u202e"
	if strings.ContainsAny(got.stderr, raw) {
		t.Errorf("stderr holds a name's escape, zero-width space or bidi override as it is:\n%q", got.stderr)
	}
	rs, err := audit.OpenRecords(filepath.Join(out, audit.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	n := 0
	rs.Each(func(r audit.Result) error {
		n++
		if name := r.Labels[audit.AccountNameLabel]; name != want[r.AccountID] {
			t.Errorf("%v: account_name %q, want %q", r.Key(), name, want[r.AccountID])
		}
		return nil
	})
	if n == 0 {
		t.Fatal("no result: nothing checked")
	}
	ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range ri.Sites {
		if s.AccountName != want[s.AccountID] {
			t.Errorf("run.json: site %s %s: account_name %q, want %q", s.AccountID, s.Region, s.AccountName, want[s.AccountID])
		}
	}
	index, err := os.ReadFile(filepath.Join(report.SplitDir(out, audit.AccountNameLabel), "index.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{accounts[1].ID, accounts[2].ID, accounts[3].ID} {
		if !strings.Contains(string(index), want[id]) {
			t.Errorf("index.csv does not name account %s's group %q:\n%s", id, want[id], index)
		}
	}
	checkNoRawText(t, out, raw)
}

// checkNoRawText fails for each file under dir that holds one of the
// characters of raw as it is.
func checkNoRawText(t *testing.T, dir, raw string) {
	t.Helper()
	files := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if i := strings.IndexAny(string(b), raw); i >= 0 {
			t.Errorf("%s holds %q as it is: %q", p, []rune(string(b[i:]))[0], b[max(0, i-40):min(len(b), i+40)])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatalf("no file under %s: nothing checked", dir)
	}
}
