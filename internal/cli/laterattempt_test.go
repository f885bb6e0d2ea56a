package cli

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestReportOfALaterAttemptsLinesWithoutItsStart: results read by an
// attempt that run.json does not name, started after it (a resume killed
// before its run.json), with no .auditor-attempts beside them to say so:
// the previous release's auditor report writes such a run.json and copies
// no kept starts, and so does a copy of a run's files without its hidden
// ones. Such a record is its run's, not another audit's: it was refused
// (exit 2, which a Job does not retry) after an upgrade, on records the
// job had kept.
func TestReportOfALaterAttemptsLinesWithoutItsStart(t *testing.T) {
	ids, url := slowFleet(t)
	out := filepath.Join(t.TempDir(), "out")
	args := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out,
		"--concurrency", "8", "--rate", "2000", "--fail-on", "none", "--quiet"}
	// The run stopped by its --timeout (its run.json says so), then a
	// resume killed.
	if got := runCLI(t, "", append(slices.Clone(args), "--concurrency", "1", "--timeout", "1s")...); got.code != int(exitIncomplete) {
		t.Fatalf("run: exit %d, want %d (stopped midway)\n%s", got.code, exitIncomplete, got.stderr)
	}
	record := filepath.Join(out, audit.ResultsFile)
	runJSON, err := os.ReadFile(filepath.Join(out, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	killedAttempt(t, append(slices.Clone(args), "--resume", "--concurrency", "2"))
	// The files alone, run.json as it was before the resume.
	cp := filepath.Join(t.TempDir(), "copy")
	if err := os.Mkdir(cp, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cp, audit.ResultsFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cp, audit.RunFile), runJSON, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dest := range []string{cp, filepath.Join(t.TempDir(), "elsewhere")} {
		if got := runCLI(t, "", "report", filepath.Join(cp, audit.ResultsFile), "--out", dest, "--fail-on", "none", "--quiet"); got.code == int(exitUsage) {
			t.Errorf("report --out %s: exit %d, want the record taken\n%s", dest, got.code, got.stderr)
		}
	}
}
