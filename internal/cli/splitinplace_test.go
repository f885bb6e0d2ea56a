package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestSplitGroupInPlaceKeepsTheLabelColumn: Split gives every group's
// reports a column for the label it is split by, but a group rendered
// again in place (auditor report G/results.jsonl --out G) took its label
// columns from its instances alone: the group of an account that could not
// be audited lost its account_name column, and the group of an owner whose
// instances are all gone its owner column, so that the group's reports no
// longer read as the split wrote them, nor as the other groups'. The label
// is the split's, from its index; a group of a split without one (stopped
// before it wrote it) renders as before.
func TestSplitGroupInPlaceKeepsTheLabelColumn(t *testing.T) {
	tests := []struct {
		name  string
		label string
		// run runs the split and returns the run's directory and the value
		// of the group with no instance.
		run func(t *testing.T) (out, value string)
		// bare: without the split's index, the group's reports have no
		// column for the label (none of its rows has it).
		bare bool
	}{
		{
			name:  "an account that could not be audited",
			label: audit.AccountNameLabel,
			run: func(t *testing.T) (string, string) {
				_, _, accounts := serveOrg(t, 4)
				out := filepath.Join(t.TempDir(), "out")
				got := runCLI(t, "", "run", "--accounts", "org", "--role-name", "AuditRole", "--regions", "us-east-1", "--discover",
					"--region", "us-east-1", "--fail-on", "none", "--quiet", "--format", "csv,json", "--out", out, "--split-by", audit.AccountNameLabel)
				if got.code != 3 {
					t.Fatalf("exit %d, want 3 (an account not audited)\n%s", got.code, got.stderr)
				}
				return out, accounts[2].Name
			},
			bare: true,
		},
		{
			name:  "an owner whose instances are all gone",
			label: "owner",
			run: func(t *testing.T) (string, string) {
				isolateAWS(t, "AKIATESTTESTTESTTEST")
				url, _ := serve(t, ownersFleet("alice"), ssmsim.Options{})
				root := t.TempDir()
				s1, s2 := filepath.Join(root, "s1"), filepath.Join(root, "s2")
				args := []string{"run", "--endpoint-url", url, "--region", "us-east-1", "--fail-on", "none", "--quiet", "--format", "csv,json", "--split-by", "owner"}
				if got := runCLI(t, "", append(args, "--instances", writeFile(t, "fleet.csv", ownersList), "--out", s1)...); got.code != 0 {
					t.Fatalf("s1: exit %d\n%s", got.code, got.stderr)
				}
				// alice's instance is gone from the list since s1.
				rest := strings.Join(slices.DeleteFunc(strings.SplitAfter(ownersList, "\n"), func(l string) bool { return strings.Contains(l, "alice") }), "")
				if got := runCLI(t, "", append(args, "--instances", writeFile(t, "fleet.csv", rest), "--baseline", s1, "--out", s2)...); got.code != 0 {
					t.Fatalf("s2: exit %d\n%s", got.code, got.stderr)
				}
				return s2, "alice"
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, value := tt.run(t)
			split := report.SplitDir(out, tt.label)
			group := filepath.Join(split, splitGroupName(t, split, value))
			files := []string{"instances.csv"}
			if statOK(filepath.Join(group, "changes.csv")) {
				files = append(files, "changes.csv")
			}
			wrote := csvHeads(t, group, files)
			if !slices.Contains(wrote["instances.csv"], tt.label) {
				t.Fatalf("the split wrote group %q's instances.csv with no %s column: %q", value, tt.label, wrote["instances.csv"])
			}
			renderInPlace := func(t *testing.T) {
				t.Helper()
				got := runCLI(t, "", "report", filepath.Join(group, audit.ResultsFile), "--out", group, "--fail-on", "none", "--quiet", "--format", "csv,json")
				if got.code != 0 && got.code != 3 {
					t.Fatalf("group %q rendered again in place: exit %d\n%s", value, got.code, got.stderr)
				}
			}
			renderInPlace(t)
			for file, head := range csvHeads(t, group, files) {
				if !slices.Equal(head, wrote[file]) {
					t.Errorf("group %q rendered again in place: %s's header is %q, the split wrote %q", value, file, head, wrote[file])
				}
			}
			// A split stopped before its index says nothing of its label:
			// its group renders as before, from its rows' labels (alice's
			// changes have hers).
			if err := os.Remove(filepath.Join(split, report.SplitIndex)); err != nil {
				t.Fatal(err)
			}
			renderInPlace(t)
			if head := csvHeads(t, group, files)["instances.csv"]; slices.Contains(head, tt.label) == tt.bare {
				t.Errorf("group %q of a split without its index, rendered again in place: instances.csv's header is %q, want a %s column: %v", value, head, tt.label, !tt.bare)
			}
		})
	}
}

// splitGroupName returns the directory name that the index of split gives
// the group of value.
func splitGroupName(t *testing.T, split, value string) string {
	t.Helper()
	rows, err := readCSV(filepath.Join(split, report.SplitIndex))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows[1:] {
		if r[0] == value {
			return r[1]
		}
	}
	t.Fatalf("%s lists no group %q: %q", report.SplitIndex, value, rows)
	return ""
}

// csvHeads returns the header of each of files in dir.
func csvHeads(t *testing.T, dir string, files []string) map[string][]string {
	t.Helper()
	heads := map[string][]string{}
	for _, f := range files {
		rows, err := readCSV(filepath.Join(dir, f))
		if err != nil || len(rows) == 0 {
			t.Fatalf("%s: %v (%d rows)", f, err, len(rows))
		}
		heads[f] = rows[0]
	}
	return heads
}

// TestReportIntoAForeignSplitTakesNoLabel: a directory that looks like a
// group of a split (a marker and an index listing it in its parent, which
// anyone who can write there may have made) is rendered as any other when
// its record comes from elsewhere: the split's label column is for a
// group's own record rendered again in place, not for text another user
// chose to reach a plain output's reports.
func TestReportIntoAForeignSplitTakesNoLabel(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, ownersFleet(), ssmsim.Options{})
	root := t.TempDir()
	src := filepath.Join(root, "thr")
	if got := runCLI(t, "", "run", "--endpoint-url", url, "--region", "us-east-1", "--fail-on", "none", "--quiet", "--format", "csv",
		"--instances", writeFile(t, "fleet.csv", ownersList), "--out", src); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	split := report.SplitDir(filepath.Join(root, "shared"), `=HYPERLINK("http://evil/","x")`)
	if err := os.MkdirAll(split, 0o777); err != nil {
		t.Fatal(err)
	}
	writeAt(t, filepath.Join(split, ".auditor-split"), "")
	writeAt(t, filepath.Join(split, report.SplitIndex), "\"=HYPERLINK(\"\"http://evil/\"\",\"\"x\"\")\",dir\nv,myout\n")
	out := filepath.Join(split, "myout")
	if report.GroupLabel(out) == "" {
		t.Fatalf("%s does not look like a group of a split: the test tests nothing", out)
	}
	if got := runCLI(t, "", "report", filepath.Join(src, audit.ResultsFile), "--out", out, "--fail-on", "none", "--quiet", "--format", "csv"); got.code != 0 {
		t.Fatalf("report: exit %d\n%s", got.code, got.stderr)
	}
	head := csvHeads(t, out, []string{"instances.csv"})["instances.csv"]
	if slices.ContainsFunc(head, func(h string) bool { return strings.Contains(h, "HYPERLINK") }) {
		t.Errorf("instances.csv took the label of a split it is no group of: %q", head)
	}
}

func writeAt(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o666); err != nil {
		t.Fatal(err)
	}
}
