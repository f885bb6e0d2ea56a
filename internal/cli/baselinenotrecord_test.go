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

// TestBaselineNotARecordLeavesNoDirectory: a --baseline that is a file but
// no record (a run's instances.csv, its summary.json) was read only once
// the output directory was made and locked: the run exited 2 and left an
// empty audit-<time> behind, one more at each try, and its message said
// what was wrong with the file, not what --baseline wants. It is refused
// before any directory is made or locked, with the file and line and what
// to name instead, by run and report alike; a directory the user named is
// left as it was.
func TestBaselineNotARecordLeavesNoDirectory(t *testing.T) {
	url, srv, ids, earlier := earlierRun(t)
	notRecord := t.TempDir() // a directory whose results.jsonl is no record
	if err := os.WriteFile(filepath.Join(notRecord, audit.ResultsFile), []byte("instance_id\ni-0123456789abcdef0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	record := filepath.Join(earlier, audit.ResultsFile)
	tests := []struct {
		name     string
		cmd      []string
		out      string // "" is the default, audit-<time> in the working directory; "kept" one of the user's
		baseline string
		file     string // the file named in the error
	}{
		{"run, default --out", []string{"run", "--instances", ids, "--endpoint-url", url}, "", filepath.Join(earlier, report.InstancesCSV), ""},
		{"run, new --out", []string{"run", "--instances", ids, "--endpoint-url", url}, "new", filepath.Join(earlier, report.SummaryFile), ""},
		{"run, the user's --out", []string{"run", "--instances", ids, "--endpoint-url", url}, "kept", filepath.Join(earlier, report.InstancesCSV), ""},
		{"run, a directory", []string{"run", "--instances", ids, "--endpoint-url", url}, "new", notRecord, filepath.Join(notRecord, audit.ResultsFile)},
		{"report, new --out", []string{"report", record}, "new", filepath.Join(earlier, report.InstancesCSV), ""},
		{"report, the user's --out", []string{"report", record}, "kept", filepath.Join(earlier, audit.RunFile), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.ResetStats()
			wd := t.TempDir()
			t.Chdir(wd)
			args := append(slices.Clone(tt.cmd), "--baseline", tt.baseline, "--quiet")
			out := tt.out
			switch out {
			case "new":
				out = filepath.Join(t.TempDir(), "out")
			case "kept":
				out = t.TempDir()
				if err := os.WriteFile(filepath.Join(out, "notes.txt"), []byte("mine"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if out != "" {
				args = append(args, "--out", out)
			}
			got := runCLI(t, "", args...)
			if got.code != int(exitUsage) {
				t.Fatalf("exit %d, want %d\n%s", got.code, exitUsage, got.stderr)
			}
			file := tt.file
			if file == "" {
				file = tt.baseline
			}
			for _, w := range []string{"--baseline", file + ":1:", "an earlier run's --out directory, or its " + audit.ResultsFile} {
				if !strings.Contains(got.stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, got.stderr)
				}
			}
			if n := srv.Stats().Requests; n > 0 {
				t.Errorf("%d requests before the refusal", n)
			}
			if left := entries(t, wd); len(left) > 0 {
				t.Errorf("left %q in the working directory", left)
			}
			switch tt.out {
			case "kept":
				if after := entries(t, out); !slices.Equal(after, []string{"notes.txt"}) {
					t.Errorf("the user's --out holds %q after the refusal, only notes.txt before", after)
				}
			case "new":
				if _, err := os.Lstat(out); err == nil {
					t.Errorf("%s was made for a refused command (it holds %q)", out, entries(t, out))
				}
			}
		})
	}
}

// entries lists the names in dir, hidden ones included, sorted.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// TestBaselineBrokenPastItsFirstLine: a record whose first line is a
// result passes the check before the output directory; a later line that
// is none is found when the record is read whole, and the refusal says
// the line and what --baseline wants, as the check's does.
func TestBaselineBrokenPastItsFirstLine(t *testing.T) {
	url, _, ids, earlier := earlierRun(t)
	b, err := os.ReadFile(filepath.Join(earlier, audit.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	broken := writeFile(t, audit.ResultsFile, first+"\ninstance_id,owner\n")
	got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--out", filepath.Join(t.TempDir(), "out"), "--baseline", broken, "--quiet")
	if got.code != int(exitUsage) {
		t.Fatalf("exit %d, want %d\n%s", got.code, exitUsage, got.stderr)
	}
	for _, w := range []string{broken + ":2:", "an earlier run's --out directory, or its " + audit.ResultsFile} {
		if !strings.Contains(got.stderr, w) {
			t.Errorf("stderr does not say %q:\n%s", w, got.stderr)
		}
	}
}

// earlierRun serves a fleet of two instances, in a region set for the
// test, and audits it once into a directory it returns with the
// simulator's URL and server and the list.
func earlierRun(t *testing.T) (url string, srv *ssmsim.Server, ids, earlier string) {
	t.Helper()
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	t.Setenv("AWS_REGION", "us-east-1")
	url, srv = serve(t, handFleet(true), ssmsim.Options{})
	ids = writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	earlier = filepath.Join(t.TempDir(), "earlier")
	if got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--out", earlier, "--fail-on", "none", "--quiet"); got.code != 0 {
		t.Fatalf("first run: exit %d\n%s", got.code, got.stderr)
	}
	return url, srv, ids, earlier
}
