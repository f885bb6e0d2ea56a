package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestResumeKeepsItsBaselineSpelling: a run stopped by --timeout and
// resumed without --baseline keeps the baseline it started with, but its
// run.json recorded that baseline as the record's path (W1/results.jsonl)
// where the first attempt had said W1: earlier_options then listed
// "baseline": ["W1"], and report.html said "Earlier attempts ran with
// Baseline: W1", of a run that compared with one baseline throughout.
// The same came of AUDITOR_BASELINE set for the first attempt alone, and
// of a resume that named the same record another way.
func TestResumeKeepsItsBaselineSpelling(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids, url, srv := scheduledFleet(t, 20)
	root := t.TempDir()
	week1 := filepath.Join(root, "week1")
	args := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--fail-on", "none", "--quiet", "--format", "html"}
	if got := runCLI(t, "", append(args, "--out", week1)...); got.code != 0 {
		t.Fatalf("week 1: exit %d\n%s", got.code, got.stderr)
	}
	record := filepath.Join(week1, audit.ResultsFile)
	// --baseline previous may take an earlier case's week 2: each case
	// compares with the baseline its own first attempt took.
	runInfo := func(t *testing.T, dir string) audit.RunInfo {
		t.Helper()
		ri, err := audit.ReadRunInfo(filepath.Join(dir, audit.RunFile))
		if err != nil {
			t.Fatal(err)
		}
		return ri
	}
	// The resume runs with the first attempt's other options, so that the
	// baseline alone could make an earlier attempt's options differ.
	limits := []string{"--concurrency", "2", "--timeout", stallTimeout.String(), "--grace", "0s"}
	// stopped runs a first attempt that --timeout stops part-way.
	stopped := func(t *testing.T, out string, extra ...string) {
		t.Helper()
		srv.StallFrom(6)
		got := runCLI(t, "", append(append(append(args, "--out", out), limits...), extra...)...)
		srv.StallFrom(0)
		if got.code != 3 {
			t.Fatalf("first attempt stopped by --timeout: exit %d, want 3\n%s", got.code, got.stderr)
		}
	}
	tests := []struct {
		name          string
		first, resume []string
		env           string // AUDITOR_BASELINE for the first attempt alone
	}{
		{name: "--baseline DIR, resumed without", first: []string{"--baseline", week1}},
		{name: "--baseline RECORD, resumed without", first: []string{"--baseline", record}},
		{name: "AUDITOR_BASELINE on the first attempt alone", env: week1},
		{name: "--baseline DIR, resumed with its RECORD", first: []string{"--baseline", week1}, resume: []string{"--baseline", record}},
		{name: "--baseline previous, resumed without", first: []string{"--baseline", "previous"}},
		{name: "--baseline previous, resumed with it", first: []string{"--baseline", "previous"}, resume: []string{"--baseline", "previous"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(root, "week2-"+strings.NewReplacer(" ", "-", "/", "-").Replace(tt.name))
			if tt.env != "" {
				t.Setenv("AUDITOR_BASELINE", tt.env)
			}
			stopped(t, out, tt.first...)
			os.Unsetenv("AUDITOR_BASELINE") // t.Setenv puts it back after
			want, started := runInfo(t, out).Options["baseline"], baselineIn(t, out)
			if want == nil || started == "" {
				t.Fatalf("first attempt recorded no baseline: options %v, changes %q", want, started)
			}
			got := runCLI(t, "", append(append(append(args, "--out", out, "--resume"), limits...), tt.resume...)...)
			if got.code != 0 {
				t.Fatalf("resume: exit %d\n%s", got.code, got.stderr)
			}
			ri := runInfo(t, out)
			if b := baselineIn(t, out); b != started {
				t.Errorf("resumed: compared with %q, want the one it started with, %q", b, started)
			}
			if b := ri.Options["baseline"]; b != want {
				t.Errorf("resumed: options.baseline %v, want the first attempt's %v", b, want)
			}
			if e, ok := ri.EarlierOptions["baseline"]; ok {
				t.Errorf("resumed with the baseline it started with: earlier_options.baseline %v, want none", e)
			}
			html, err := os.ReadFile(filepath.Join(out, "report.html"))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(html), "Earlier attempts") {
				t.Errorf("report.html says the earlier attempts ran with other options, of one run with one baseline")
			}
		})
	}

	// A resume that names another baseline is still refused, and leaves
	// the run's record of the first one as it was.
	t.Run("another --baseline", func(t *testing.T) {
		other := filepath.Join(root, "other")
		if got := runCLI(t, "", append(args, "--out", other)...); got.code != 0 {
			t.Fatalf("other: exit %d\n%s", got.code, got.stderr)
		}
		out := filepath.Join(root, "week2-another")
		stopped(t, out, "--baseline", week1)
		got := runCLI(t, "", append(args, "--out", out, "--resume", "--baseline", other)...)
		if got.code != 2 {
			t.Fatalf("resume with another --baseline: exit %d, want 2\n%s", got.code, got.stderr)
		}
		checkSays(t, got.stderr, []string{"--baseline " + other, week1}, nil)
		if b := runInfo(t, out).Options["baseline"]; b != week1 {
			t.Errorf("refused resume: options.baseline %v, want %q still", b, week1)
		}
	})
}

// TestResumeRefusesAReplacedBaseline: a resume compared its new lines with
// whatever record sat at its baseline's path, though another run had
// replaced the one its first attempt compared with: one record, its lines
// dated from two baselines, and run.json saying one throughout. It is
// refused, as a baseline gone is, and the record is left as it was.
func TestResumeRefusesAReplacedBaseline(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids, url, srv := scheduledFleet(t, 20)
	root := t.TempDir()
	week1 := filepath.Join(root, "week1")
	args := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--fail-on", "none", "--quiet", "--format", "html"}
	if got := runCLI(t, "", append(args, "--out", week1)...); got.code != 0 {
		t.Fatalf("week 1: exit %d\n%s", got.code, got.stderr)
	}
	out := filepath.Join(root, "week2")
	srv.StallFrom(6)
	got := runCLI(t, "", append(args, "--out", out, "--baseline", week1, "--concurrency", "2", "--timeout", stallTimeout.String(), "--grace", "0s")...)
	srv.StallFrom(0)
	if got.code != 3 {
		t.Fatalf("first attempt stopped by --timeout: exit %d, want 3\n%s", got.code, got.stderr)
	}
	// Another run takes week 1's place.
	if err := os.RemoveAll(week1); err != nil {
		t.Fatal(err)
	}
	if got := runCLI(t, "", append(args, "--out", week1)...); got.code != 0 {
		t.Fatalf("week 1 again: exit %d\n%s", got.code, got.stderr)
	}
	before, err := os.ReadFile(filepath.Join(out, audit.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	got = runCLI(t, "", append(args, "--out", out, "--resume")...)
	if got.code != int(exitUsage) {
		t.Fatalf("resume over a replaced baseline: exit %d, want %d\n%s", got.code, exitUsage, got.stderr)
	}
	checkSays(t, got.stderr, []string{"replaced", filepath.Join(week1, audit.ResultsFile)}, nil)
	after, err := os.ReadFile(filepath.Join(out, audit.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != string(before) {
		t.Errorf("the refused resume changed the record")
	}
}
