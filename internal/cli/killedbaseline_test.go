package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestBaselineKilledBeforeRunJSON: a --baseline named of a run killed
// before it wrote its run.json (its attempts kept, its last line whole) was
// compared as a complete run: every instance it had not got to was new.
// It is a run cut short, as one whose last line is torn: the instances it
// lacks are not compared, and a warning says why.
func TestBaselineKilledBeforeRunJSON(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids, url, _ := scheduledFleet(t, 20)
	root := t.TempDir()
	killed, next := filepath.Join(root, "killed"), filepath.Join(root, "next")
	args := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--fail-on", "none", "--quiet"}
	if got := runCLI(t, "", append(args, "--out", killed)...); got.code != 0 {
		t.Fatalf("killed: exit %d\n%s", got.code, got.stderr)
	}
	asKilled(t, killed)
	if _, err := os.Stat(filepath.Join(killed, audit.AttemptsFile)); err != nil {
		t.Fatalf("no attempts kept: the test checks nothing: %v", err)
	}
	got := runCLI(t, "", append(args, "--out", next, "--baseline", killed)...)
	if got.code != 0 {
		t.Fatalf("next: exit %d\n%s", got.code, got.stderr)
	}
	if !strings.Contains(got.stderr, "has no run.json") {
		t.Errorf("no warning that the baseline was stopped before its run.json:\n%s", got.stderr)
	}
	ri, err := audit.ReadRunInfo(filepath.Join(next, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	if ri.Changes == nil || !ri.Changes.BaselineIncomplete || ri.Changes.Counts[audit.NewInstance] != 0 {
		t.Errorf("changes = %+v; want the baseline incomplete, and no instance it lacks new", ri.Changes)
	}
}

// asKilled leaves the run in out as kill -9 would have left it halfway: half
// its record's lines, each whole, and no run.json.
func asKilled(t *testing.T, out string) {
	t.Helper()
	rec := filepath.Join(out, audit.ResultsFile)
	b, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	if err := os.WriteFile(rec, []byte(strings.Join(lines[:len(lines)/2], "")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(out, audit.RunFile)); err != nil {
		t.Fatal(err)
	}
}
