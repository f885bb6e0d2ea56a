package cli

import (
	"path/filepath"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestKilledAttemptKeepsItsBaseline: a first attempt killed before it wrote
// its run.json (kill -9, an OOM kill, a node taken back) has carried its
// first-seen dates from its baseline into the lines it wrote. A resume with
// another --baseline, or with one where it started without, mixed two
// baselines' dates in one record, as a resume of a run that wrote its
// run.json refuses to; and a resume without --baseline compared with
// nothing. The baseline chosen is kept in --out before the first line.
func TestKilledAttemptKeepsItsBaseline(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids, url, _ := scheduledFleet(t, 20)
	root := t.TempDir()
	week1, other := filepath.Join(root, "week1"), filepath.Join(root, "other")
	args := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--fail-on", "none", "--quiet"}
	for _, dir := range []string{week1, other} {
		if got := runCLI(t, "", append(args, "--out", dir)...); got.code != 0 {
			t.Fatalf("%s: exit %d\n%s", dir, got.code, got.stderr)
		}
	}
	killed := func(t *testing.T, out string, baseline ...string) {
		t.Helper()
		if got := runCLI(t, "", append(append(args, "--out", out), baseline...)...); got.code != 0 {
			t.Fatalf("%s: exit %d\n%s", out, got.code, got.stderr)
		}
		asKilled(t, out)
	}
	t.Run("another --baseline", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "week2")
		killed(t, out, "--baseline", week1)
		got := runCLI(t, "", append(args, "--out", out, "--resume", "--baseline", other)...)
		if got.code != 2 {
			t.Fatalf("resume with another --baseline: exit %d, want 2\n%s", got.code, got.stderr)
		}
		checkSays(t, got.stderr, []string{"--baseline " + other, week1}, nil)
	})
	t.Run("no --baseline", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "week2")
		killed(t, out, "--baseline", week1)
		got := runCLI(t, "", append(args, "--out", out, "--resume")...)
		if got.code != 0 {
			t.Fatalf("resume: exit %d\n%s", got.code, got.stderr)
		}
		if base, want := baselineIn(t, out), filepath.Join(week1, audit.ResultsFile); base != want {
			t.Errorf("resumed without --baseline, compared with %q, want the one it started with, %q", base, want)
		}
	})
	t.Run("a --baseline where it started without", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "week2")
		killed(t, out)
		got := runCLI(t, "", append(args, "--out", out, "--resume", "--baseline", week1)...)
		if got.code != 2 {
			t.Fatalf("resume with a --baseline where it started without: exit %d, want 2\n%s", got.code, got.stderr)
		}
		checkSays(t, got.stderr, []string{"started without a baseline"}, nil)
	})
}
