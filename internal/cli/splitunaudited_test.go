package cli

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
)

// TestSplitGroupOfUnauditedAccount: an account whose role could not be
// assumed has no instance in the record, so --split-by account_name made no
// group for it: its owner got no report at all, and read the silence as
// nothing wrong. Its group is made, with no instance, and its reports say
// which of its account-regions could not be audited and why; so does the
// group of an account audited in one region and not in another. The name
// is the run's (run.json), so that auditor report splits the record again
// alike.
func TestSplitGroupOfUnauditedAccount(t *testing.T) {
	_, _, accounts := serveOrg(t, 10)
	// accounts[2] refuses AuditRole; af-south-1 is enabled in accounts[1]
	// alone, so the management account is audited in us-east-1 only.
	refused, partly := accounts[2], accounts[0]
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", "run", "--accounts", "org", "--role-name", "AuditRole", "--regions", "us-east-1,af-south-1", "--discover",
		"--region", "us-east-1", "--fail-on", "none", "--quiet", "--format", "json", "--out", out, "--split-by", "account_name")
	if got.code != 3 {
		t.Fatalf("exit %d, want 3 (account-regions not audited)\n%s", got.code, got.stderr)
	}
	check := func(t *testing.T, how string) {
		t.Helper()
		split := report.SplitDir(out, "account_name")
		f, err := os.Open(filepath.Join(split, report.SplitIndex))
		if err != nil {
			t.Fatalf("%s: %v", how, err)
		}
		rows, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatalf("%s: index.csv: %v", how, err)
		}
		dirs := map[string]string{}
		for _, r := range rows[1:] {
			dirs[r[0]] = r[1]
		}
		for _, c := range []struct {
			account, name string
			wantNone      bool // of its instances
			want          []string
		}{
			{refused.ID, refused.Name, true, []string{"af-south-1", "us-east-1"}},
			{partly.ID, partly.Name, false, []string{"af-south-1"}},
		} {
			dir, ok := dirs[c.name]
			if !ok {
				t.Errorf("%s: index.csv lists no group for account %s (%s), which could not be audited:\n%q", how, c.account, c.name, rows)
				continue
			}
			b, err := os.ReadFile(filepath.Join(split, dir, report.SummaryFile))
			if err != nil {
				t.Errorf("%s: group %q: %v", how, c.name, err)
				continue
			}
			var m report.Model
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			if (m.Totals.Instances == 0) != c.wantNone {
				t.Errorf("%s: group %q: %d instances", how, c.name, m.Totals.Instances)
			}
			var regions []string
			for _, s := range m.Run.Unaudited {
				if s.AccountID == c.account {
					regions = append(regions, s.Region)
				}
			}
			slices.Sort(regions)
			if !slices.Equal(regions, c.want) {
				t.Errorf("%s: group %q: its reports say account %s could not be audited in %q, want %q (%+v)", how, c.name, c.account, regions, c.want, m.Run.Unaudited)
			}
		}
	}
	check(t, "run")
	if got := runCLI(t, "", "report", filepath.Join(out, audit.ResultsFile), "--out", out, "--fail-on", "none", "--quiet",
		"--format", "json", "--split-by", "account_name"); got.code != 0 && got.code != 3 {
		t.Fatalf("report: exit %d\n%s", got.code, got.stderr)
	}
	check(t, "report")
}
