package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestReportRefusesAnotherRunsRunFile: the run.json of another run of the
// same list, copied beside a record, was taken for its own: the reports
// said that run's start, while every line said it was read by an attempt
// of the other. It is refused as another audit's run.json is, exit 2,
// naming the start no attempt of it made; the record's own run.json, and
// a merge of both runs rendered again, are not.
func TestReportRefusesAnotherRunsRunFile(t *testing.T) {
	r1, args, _ := goodRun(t, 20)
	r2 := filepath.Join(filepath.Dir(r1), "second")
	if got := runCLI(t, "", append(args, "--out", r2)...); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	mix := filepath.Join(t.TempDir(), "mix")
	os.MkdirAll(mix, 0o777)
	for _, c := range [][2]string{{filepath.Join(r1, audit.ResultsFile), audit.ResultsFile}, {filepath.Join(r2, audit.RunFile), audit.RunFile}} {
		b, err := os.ReadFile(c[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(mix, c[1]), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := runCLI(t, "", "report", filepath.Join(mix, audit.ResultsFile), "--out", filepath.Join(t.TempDir(), "mixout"), "--quiet")
	if got.code != int(exitUsage) {
		t.Fatalf("exit %d, want %d\n%s", got.code, exitUsage, got.stderr)
	}
	for _, w := range []string{filepath.Join(mix, audit.RunFile), "names no such attempt"} {
		if !strings.Contains(got.stderr, w) {
			t.Errorf("stderr does not say %q:\n%s", w, got.stderr)
		}
	}

	merged := filepath.Join(t.TempDir(), "merged")
	for _, in := range [][]string{
		{filepath.Join(r1, audit.ResultsFile)},
		{filepath.Join(r1, audit.ResultsFile), filepath.Join(r2, audit.ResultsFile)},
		{filepath.Join(merged, audit.ResultsFile)},
	} {
		out := merged
		if len(in) == 1 && in[0] != filepath.Join(merged, audit.ResultsFile) {
			out = filepath.Join(t.TempDir(), "own")
		}
		got := runCLI(t, "", append(append([]string{"report"}, in...), "--out", out, "--fail-on", "none", "--quiet")...)
		if got.code != 0 {
			t.Fatalf("report %v: exit %d\n%s", in, got.code, got.stderr)
		}
	}
}
