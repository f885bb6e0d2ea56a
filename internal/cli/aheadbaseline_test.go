package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestPreviousAfterAheadPassed: a run dated ahead by its host's clock (a)
// was passed over, with a warning, by the run after it (b); once the
// present passed a's date, the next run (c) compared with a in silence,
// skipping b, the run that really came last, so that b's new failures were
// called new a second time. c compares with b, b resumed or not.
func TestPreviousAfterAheadPassed(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	root := t.TempDir()
	args := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--baseline", "previous", "--quiet", "--fail-on", "none"}
	skew := skewClock(t)
	runAt := func(name string, by time.Duration) cliResult {
		t.Helper()
		*skew = by
		got := runCLI(t, "", append(args, "--out", filepath.Join(root, name))...)
		if got.code != 0 {
			t.Fatalf("%s: exit %d\n%s", name, got.code, got.stderr)
		}
		return got
	}
	runAt("w0", 0)
	runAt("a", time.Hour) // its host's clock an hour ahead
	if got := runAt("b", 0); !strings.Contains(got.stderr, "passed over "+filepath.Join(root, "a")) {
		t.Fatalf("b does not warn that it passed over a:\n%s", got.stderr)
	}
	if got, want := baselineIn(t, filepath.Join(root, "b")), filepath.Join(root, "w0", audit.ResultsFile); got != want {
		t.Fatalf("b compared with %q, want %q", got, want)
	}
	// Resumed, b keeps what its first attempt found.
	if got := runCLI(t, "", append(args, "--out", filepath.Join(root, "b"), "--resume")...); got.code != 0 {
		t.Fatalf("b resumed: exit %d\n%s", got.code, got.stderr)
	}
	runAt("c", 2*time.Hour) // the present, past a's date
	if got, want := baselineIn(t, filepath.Join(root, "c")), filepath.Join(root, "b", audit.ResultsFile); got != want {
		t.Errorf("c compared with %q, want b's record %q, the run that came last", got, want)
	}
}

// TestPreviousRunsRankAfterAhead: once the present has passed the date of
// a run dated ahead, a run that came after it all the same ranks above it,
// whether it passed it over as ahead (its run.json's ran_after) or
// compared with it (--baseline DIR: its changes' since); of two such, the
// one that compared with the other first. A run.json that says neither
// (or a record rendered again against a later run, which its run may have
// come before) is ranked by its start, as before.
func TestPreviousRunsRankAfterAhead(t *testing.T) {
	now := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	w0At, aAt := now.Add(-3*time.Hour), now.Add(-time.Hour) // a: dated an hour ahead
	bAt, cAt := now.Add(-2*time.Hour), now.Add(-90*time.Minute)
	since := func(at time.Time) *audit.ChangeInfo { return &audit.ChangeInfo{Since: &at} }
	for _, tt := range []struct {
		name string
		b, c audit.RunInfo // the runs after a; c zero for none
		want []string
	}{
		{"dates alone", audit.RunInfo{StartedAt: bAt, Changes: since(w0At)}, audit.RunInfo{}, []string{"a", "b", "w0"}},
		{"passed over", audit.RunInfo{StartedAt: bAt, Changes: since(w0At), RanAfter: []time.Time{aAt}}, audit.RunInfo{}, []string{"b", "a", "w0"}},
		{"compared with", audit.RunInfo{StartedAt: bAt, Changes: since(aAt)}, audit.RunInfo{}, []string{"b", "a", "w0"}},
		{"rendered again against it", audit.RunInfo{StartedAt: bAt, Changes: since(aAt), Rendered: &audit.Rendering{At: now}}, audit.RunInfo{}, []string{"a", "b", "w0"}},
		{"two passed over", audit.RunInfo{StartedAt: bAt, Changes: since(w0At), RanAfter: []time.Time{aAt}},
			audit.RunInfo{StartedAt: cAt, Changes: since(bAt), RanAfter: []time.Time{aAt}}, []string{"c", "b", "a", "w0"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			mk := func(name string, ri audit.RunInfo) {
				if ri.StartedAt.IsZero() {
					return
				}
				dir := filepath.Join(root, name)
				os.MkdirAll(dir, 0o777)
				os.WriteFile(filepath.Join(dir, audit.ResultsFile), []byte("{}\n"), 0o644)
				ri.Schema, ri.Complete = audit.Schema, true
				if err := writeJSON(filepath.Join(dir, audit.RunFile), ri); err != nil {
					t.Fatal(err)
				}
			}
			mk("w0", audit.RunInfo{StartedAt: w0At})
			mk("a", audit.RunInfo{StartedAt: aAt})
			mk("b", tt.b)
			mk("c", tt.c)
			found, err := previousRuns(filepath.Join(root, "d"), now, now, audit.RunInfo{})
			var got []string
			for _, d := range found.dirs {
				got = append(got, filepath.Base(d))
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("previousRuns = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestPreviousRenderedAgainBeforeAhead: a record rendered again passes
// over, as its run did not, a run dated ahead that ran after it; the
// rendering does not make its run one that came after that run, which
// stays the latest once the present has passed its date.
func TestPreviousRenderedAgainBeforeAhead(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	root := t.TempDir()
	args := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--baseline", "previous", "--quiet", "--fail-on", "none"}
	skew := skewClock(t)
	for _, run := range []struct {
		name string
		by   time.Duration
	}{{"w0", 0}, {"b", 0}, {"a", time.Hour}} { // a: its host's clock an hour ahead
		*skew = run.by
		if got := runCLI(t, "", append(args, "--out", filepath.Join(root, run.name))...); got.code != 0 {
			t.Fatalf("%s: exit %d\n%s", run.name, got.code, got.stderr)
		}
	}
	*skew = 0
	b := filepath.Join(root, "b")
	if got := runCLI(t, "", "report", filepath.Join(b, audit.ResultsFile), "--out", b, "--baseline", "previous", "--fail-on", "none"); got.code != 0 {
		t.Fatalf("b rendered again: exit %d\n%s", got.code, got.stderr)
	}
	*skew = 2 * time.Hour // the present, past a's date
	if got := runCLI(t, "", append(args, "--out", filepath.Join(root, "c"))...); got.code != 0 {
		t.Fatalf("c: exit %d\n%s", got.code, got.stderr)
	}
	if got, want := baselineIn(t, filepath.Join(root, "c")), filepath.Join(root, "a", audit.ResultsFile); got != want {
		t.Errorf("c compared with %q, want a's record %q, the run that came last", got, want)
	}
}

// TestComparedWithAheadRenderedAgain: a run (b) compared with a run dated
// ahead (a), as the warning of passing it over advises (--baseline DIR),
// then rendered again in place with that baseline: the rendering's
// run.json dropped what said b came after a, and the run after both (c)
// compared with a. The run keeps it in ran_after, which a rendering keeps.
func TestComparedWithAheadRenderedAgain(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	root := t.TempDir()
	args := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--quiet", "--fail-on", "none"}
	skew := skewClock(t)
	a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
	for _, run := range []struct {
		out  string
		by   time.Duration
		base string
	}{{filepath.Join(root, "w0"), 0, "previous"}, {a, time.Hour, "previous"}, {b, 0, a}} {
		*skew = run.by
		if got := runCLI(t, "", append(args, "--out", run.out, "--baseline", run.base)...); got.code != 0 {
			t.Fatalf("%s: exit %d\n%s", run.out, got.code, got.stderr)
		}
	}
	*skew = 0
	if got := runCLI(t, "", "report", filepath.Join(b, audit.ResultsFile), "--out", b, "--fail-on", "none"); got.code != 0 {
		t.Fatalf("b rendered again: exit %d\n%s", got.code, got.stderr)
	}
	*skew = 2 * time.Hour // the present, past a's date
	if got := runCLI(t, "", append(args, "--out", filepath.Join(root, "c"), "--baseline", "previous")...); got.code != 0 {
		t.Fatalf("c: exit %d\n%s", got.code, got.stderr)
	}
	if got, want := baselineIn(t, filepath.Join(root, "c")), filepath.Join(b, audit.ResultsFile); got != want {
		t.Errorf("c compared with %q, want b's record %q, the run that came last", got, want)
	}
}

// TestPreviousRunsEachAfterTheOther: two run.json files that each say
// their run came after the other's (made up, or corrupt) rank by their
// dates, whatever their directories are named; the order came from the
// names.
func TestPreviousRunsEachAfterTheOther(t *testing.T) {
	now := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	early, late := now.Add(-2*time.Hour), now.Add(-time.Hour)
	for _, names := range [][2]string{{"q", "z"}, {"z", "q"}} {
		root := t.TempDir()
		for i, at := range []time.Time{early, late} {
			other := []time.Time{late, early}[i]
			dir := filepath.Join(root, names[i])
			os.MkdirAll(dir, 0o777)
			os.WriteFile(filepath.Join(dir, audit.ResultsFile), []byte("{}\n"), 0o644)
			ri := audit.RunInfo{Schema: audit.Schema, Complete: true, StartedAt: at, RanAfter: []time.Time{other}}
			if err := writeJSON(filepath.Join(dir, audit.RunFile), ri); err != nil {
				t.Fatal(err)
			}
		}
		found, err := previousRuns(filepath.Join(root, "d"), now, now, audit.RunInfo{})
		var got []string
		for _, d := range found.dirs {
			got = append(got, filepath.Base(d))
		}
		if want := []string{names[1], names[0]}; err != nil || !slices.Equal(got, want) {
			t.Errorf("the earlier run in %s, the later in %s: previousRuns = %q, %v; want %q, by date", names[0], names[1], got, err, want)
		}
	}
}

// TestPreviousAfterAheadKilledBeforeRunJSON: the run that passed over a
// run dated ahead (b) was killed before it wrote run.json and resumed: the
// resume knew nothing of the run it passed over, and the run after both
// (c) compared with that run. The first attempt keeps it (startFile).
func TestPreviousAfterAheadKilledBeforeRunJSON(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	root := t.TempDir()
	args := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--baseline", "previous", "--quiet", "--fail-on", "none"}
	skew := skewClock(t)
	b := filepath.Join(root, "b")
	for _, run := range []struct {
		name string
		by   time.Duration
	}{{"w0", 0}, {"a", time.Hour}, {"b", 0}} { // a: its host's clock an hour ahead
		*skew = run.by
		if got := runCLI(t, "", append(args, "--out", filepath.Join(root, run.name))...); got.code != 0 {
			t.Fatalf("%s: exit %d\n%s", run.name, got.code, got.stderr)
		}
	}
	// Killed before its run.json: the record and the hidden files stay.
	if err := os.Remove(filepath.Join(b, audit.RunFile)); err != nil {
		t.Fatal(err)
	}
	*skew = 0
	if got := runCLI(t, "", append(args, "--out", b, "--resume")...); got.code != 0 {
		t.Fatalf("b resumed: exit %d\n%s", got.code, got.stderr)
	}
	*skew = 2 * time.Hour // the present, past a's date
	if got := runCLI(t, "", append(args, "--out", filepath.Join(root, "c"))...); got.code != 0 {
		t.Fatalf("c: exit %d\n%s", got.code, got.stderr)
	}
	if got, want := baselineIn(t, filepath.Join(root, "c")), filepath.Join(b, audit.ResultsFile); got != want {
		t.Errorf("c compared with %q, want b's record %q, the run that came last", got, want)
	}
}

// skewClock moves the clock that commands start by (startClock) by what
// the returned duration holds, for the rest of the test.
func skewClock(t *testing.T) *time.Duration {
	var skew time.Duration
	startClock = func() time.Time { return time.Now().Add(skew) }
	t.Cleanup(func() { startClock = time.Now })
	return &skew
}
