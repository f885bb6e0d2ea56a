package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestPreviousRunsUnreadableRunJSON: a run beside --out whose run.json
// cannot be read (a directory, not JSON, a newer auditor's, one that gives
// no start) was passed over in silence by --baseline previous, though it
// may be the latest run: its targets and its start are not known. It is
// still passed over, and named with why when its record was written after
// the chosen baseline started (it may be later than that one) or when no
// baseline is left; one whose record is older than the chosen baseline's
// start changes nothing, and is not named.
func TestPreviousRunsUnreadableRunJSON(t *testing.T) {
	now := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	week := 7 * 24 * time.Hour
	mk := func(root, name string, runJSON func(path string), written time.Time) string {
		t.Helper()
		dir := filepath.Join(root, name)
		if err := os.MkdirAll(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		rec := filepath.Join(dir, audit.ResultsFile)
		if err := os.WriteFile(rec, []byte("{}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		runJSON(filepath.Join(dir, audit.RunFile))
		if err := os.Chtimes(rec, written, written); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	write := func(s string) func(string) {
		return func(path string) {
			if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	valid := func(at time.Time) func(string) {
		return func(path string) {
			if err := writeJSON(path, audit.RunInfo{Schema: audit.Schema, StartedAt: at, EndedAt: at.Add(time.Minute), Complete: true}); err != nil {
				t.Fatal(err)
			}
		}
	}
	dir := func(path string) {
		if err := os.Mkdir(path, 0o777); err != nil {
			t.Fatal(err)
		}
	}

	root := t.TempDir()
	// An older run that cannot be read: it could not be the latest.
	mk(root, "a-older-junk", write("{"), now.Add(-3*week))
	before := mk(root, "b-before", valid(now.Add(-2*week)), now.Add(-2*week+time.Minute))
	wantWhy := map[string]string{
		mk(root, "c-directory", dir, now.Add(-week)):                                                                                     "is a directory",
		mk(root, "d-junk", write("not json\n"), now.Add(-week)):                                                                          "is not valid JSON",
		mk(root, "e-newer", write(`{"schema": 999, "started_at": "2026-11-23T03:00:00Z"}`), now.Add(-week)):                              "written by a newer auditor",
		mk(root, "f-undated", write(`{"schema": `+strconv.Itoa(audit.Schema)+`, "started_at": "0001-01-01T00:00:00Z"}`), now.Add(-week)): "no start",
	}
	found, err := previousRuns(filepath.Join(root, "now"), now, now, audit.RunInfo{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(found.dirs, []string{before}) {
		t.Errorf("baselines %q, want %q", found.dirs, before)
	}
	var got []string
	for _, u := range found.unreadable {
		got = append(got, u.dir)
		if want, ok := wantWhy[u.dir]; !ok || !strings.Contains(u.why, want) {
			t.Errorf("%s passed over as %q, want it named as %q", u.dir, u.why, want)
		}
	}
	if len(got) != len(wantWhy) {
		t.Errorf("named %q, want the %d that may be later than the baseline", got, len(wantWhy))
	}

	// With no run left to compare with, an old one is named too.
	root = t.TempDir()
	old := mk(root, "a-old-junk", write("{"), now.Add(-3*week))
	found, err = previousRuns(filepath.Join(root, "now"), now, now, audit.RunInfo{})
	if err != nil || len(found.dirs) != 0 || len(found.unreadable) != 1 || found.unreadable[0].dir != old {
		t.Errorf("previousRuns = %q, unreadable %+v, %v; want none, and %s named", found.dirs, found.unreadable, err, old)
	}
}

// TestPreviousWarnsOfUnreadableRunJSON: a week's run whose run.json is a
// directory, not JSON, or not readable (mode 000) was skipped by the next
// week's --baseline previous without a word, which then compared with the
// week before: failures of the skipped week reported new again. The next
// run still goes on with the run before, and a warning names the run
// skipped, why, and what to do.
func TestPreviousWarnsOfUnreadableRunJSON(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	args := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--baseline", "previous", "--quiet"}
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, runJSON string)
		why    string
	}{
		{"a directory", func(t *testing.T, p string) {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(p, 0o777); err != nil {
				t.Fatal(err)
			}
		}, "is a directory"},
		{"not JSON", func(t *testing.T, p string) {
			if err := os.WriteFile(p, []byte("{\"schema\": 1,\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "is not valid JSON"},
		{"not readable", func(t *testing.T, p string) {
			if os.Geteuid() == 0 {
				t.Skip("root reads a file of mode 000 (CI runs this test again as nobody)")
			}
			if err := os.Chmod(p, 0); err != nil {
				t.Fatal(err)
			}
		}, "permission denied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for _, week := range []string{"week1", "week2"} {
				if got := runCLI(t, "", append(args, "--out", filepath.Join(root, week))...); got.code != 1 {
					t.Fatalf("%s: exit %d\n%s", week, got.code, got.stderr)
				}
			}
			skipped := filepath.Join(root, "week2")
			tc.damage(t, filepath.Join(skipped, audit.RunFile))
			got := runCLI(t, "", append(args, "--out", filepath.Join(root, "week3"))...)
			if got.code != 1 {
				t.Fatalf("week3: exit %d, want 1 (the run goes on)\n%s", got.code, got.stderr)
			}
			if b := baselineIn(t, filepath.Join(root, "week3")); filepath.Dir(b) != filepath.Join(root, "week1") {
				t.Errorf("week3 compared with %q, want week1's record", b)
			}
			var line string
			for l := range strings.Lines(got.stderr) {
				if strings.Contains(l, skipped) {
					line = l
				}
			}
			for _, want := range []string{"warning: --baseline previous: skipped " + skipped + ":", tc.why, "--baseline DIR"} {
				if !strings.Contains(line, want) {
					t.Errorf("no warning line names %s with %q:\n%s", skipped, want, got.stderr)
				}
			}
		})
	}
}

// TestPreviousUnreadableNamedFew: every run whose run.json could not be
// read was named in a warning of its own, with "restore its run.json" even
// for a newer auditor's, which is whole: beside a year of a newer
// auditor's runs, a page of wrong advice. The three latest are named,
// told to run the auditor that wrote them, and the rest counted.
func TestPreviousUnreadableNamedFew(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	args := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--baseline", "previous", "--quiet"}
	root := t.TempDir()
	week1 := filepath.Join(root, "week1")
	if got := runCLI(t, "", append(args, "--out", week1)...); got.code != 1 {
		t.Fatalf("week1: exit %d\n%s", got.code, got.stderr)
	}
	record, err := os.ReadFile(filepath.Join(week1, audit.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	var newer []string
	for i := range 5 {
		dir := filepath.Join(root, "newer"+strconv.Itoa(i))
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, audit.ResultsFile), record, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, audit.RunFile), []byte(`{"schema": 99, "started_at": "2026-12-03T00:00:00Z"}`), 0o644); err != nil {
			t.Fatal(err)
		}
		at := time.Now().Add(time.Duration(i) * time.Second) // newer4 the latest
		if err := os.Chtimes(filepath.Join(dir, audit.ResultsFile), at, at); err != nil {
			t.Fatal(err)
		}
		newer = append(newer, dir)
	}
	got := runCLI(t, "", append(args, "--out", filepath.Join(root, "next"))...)
	if got.code != 1 {
		t.Fatalf("next: exit %d, want 1\n%s", got.code, got.stderr)
	}
	for i, dir := range newer {
		named := strings.Contains(got.stderr, "skipped "+dir+":")
		if want := i >= 2; named != want {
			t.Errorf("%s named: %v, want %v (the three latest)\n%s", dir, named, want, got.stderr)
		}
	}
	if n := strings.Count(got.stderr, "run the auditor that wrote it"); n != 3 {
		t.Errorf("%d warnings say to run the auditor that wrote it, want 3\n%s", n, got.stderr)
	}
	if strings.Contains(got.stderr, "restore its") || !strings.Contains(got.stderr, "skipped 2 more runs whose") {
		t.Errorf("want no advice to restore a newer auditor's run.json, and the 2 others counted\n%s", got.stderr)
	}
}
