package cli

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/deliver/smtptest"
	"github.com/auditor-dev/auditor/internal/drifttest"
	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestChangesSinceBaseline: two weekly runs against a fleet that drifted in
// between (the simulator's drift: failures resolved and new, instances and
// associations added and removed) give a changes.csv whose counts are the
// drift the simulator made; --fail-on new exits 1 for the new failures.
func TestChangesSinceBaseline(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	base := time.Now().UTC().Add(-7 * 24 * time.Hour).Truncate(time.Minute)
	before := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 21, Size: shortN(300, 100), BaseTime: base})
	after, drift := before.Drift(ssmsim.DriftConfig{Seed: 4, Elapsed: 7 * 24 * time.Hour})
	ids := func(f *ssmsim.Fleet) string {
		var b bytes.Buffer
		f.WriteIDs(&b)
		return writeFile(t, "ids.txt", b.String())
	}
	dir := t.TempDir()
	week1, week2 := filepath.Join(dir, "week1"), filepath.Join(dir, "week2")
	url1, _ := serve(t, before, ssmsim.Options{})
	if got := runCLI(t, "", "run", "--instances", ids(before), "--endpoint-url", url1, "--region", "us-east-1", "--out", week1, "--quiet"); got.code != 1 {
		t.Fatalf("week 1: exit %d\n%s", got.code, got.stderr)
	}
	url2, _ := serve(t, after, ssmsim.Options{})
	got := runCLI(t, "", "run", "--instances", ids(after), "--endpoint-url", url2, "--region", "us-east-1", "--out", week2,
		"--baseline", week1, "--fail-on", "new", "--quiet")
	if got.code != 1 {
		t.Fatalf("week 2 with --fail-on new: exit %d, want 1 (new failures)\n%s", got.code, got.stderr)
	}
	// The closing summary says what changed in the reports' words, every
	// kind, when the baseline's run started, and in which zone.
	// (The shorter fleet of -short drifts with no instance gone, and a
	// kind of no change is not named.)
	want := drifttest.Expected(after, drift)
	gone := `\d+ instances? gone, `
	if want[audit.VanishedInstance] == 0 {
		gone = "(?:" + gone + ")?"
	}
	if !regexp.MustCompile(`(?m)^\d+ new failures?, \d+ resolved, .*\d+ new instances?, ` + gone + `.*, compared with the run of \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$`).MatchString(got.stderr) {
		t.Errorf("the closing summary does not say every change and since when, in UTC:\n%s", got.stderr)
	}

	f, err := os.Open(filepath.Join(week2, "changes.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, r := range rows[1:] {
		counts[r[0]]++
	}
	for _, k := range audit.ChangeKinds() {
		if k != audit.StillFailing && counts[string(k)] != want[k] {
			t.Errorf("changes.csv: %d %s, the simulator made %d", counts[string(k)], k, want[k])
		}
	}
	wb, err := excelize.OpenFile(filepath.Join(week2, "report.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	sheetRows, err := wb.GetRows("Changes")
	wb.Close()
	if err != nil || len(sheetRows) != len(rows) {
		t.Errorf("the Changes sheet has %d rows (%v), changes.csv %d", len(sheetRows), err, len(rows))
	}
	summary, _ := os.ReadFile(filepath.Join(week2, "summary.json"))
	if !bytes.Contains(summary, []byte(`"new_failure": `+fmt.Sprint(want[audit.NewFailure]))) {
		t.Error("summary.json does not count the new failures")
	}
	ri, err := audit.ReadRunInfo(filepath.Join(week2, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ri.Changes == nil || ri.Changes.Counts[audit.NewFailure] != want[audit.NewFailure] {
		t.Errorf("run.json changes = %+v, want %d new failures", ri.Changes, want[audit.NewFailure])
	}
	// Since the day week 1 started, which is not today's for a test run
	// across midnight UTC.
	ri1, err := audit.ReadRunInfo(filepath.Join(week1, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	html, _ := os.ReadFile(filepath.Join(week2, "report.html"))
	if !bytes.Contains(html, []byte(`id="changes"`)) || !bytes.Contains(html, []byte("compared with the run of "+ri1.StartedAt.UTC().Format(time.DateOnly))) {
		t.Error("report.html does not say what changed since the baseline under its headline")
	}
	if _, err := os.Stat(filepath.Join(week2, ".auditor-tmp")); err == nil {
		t.Error("the workbook's spill directory was left behind")
	}
}

// TestSplitByOwner: --split-by owner writes each owner's reports, whose
// instances together are the fleet's.
func TestSplitByOwner(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	list := writeFile(t, "fleet.csv", "instance_id,owner\ni-0123456789abcdef0,alice\ni-0123456789abcdef1,Bob Smith\ni-0000000000000dead,alice\n")
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", "run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--split-by", "owner", "--quiet")
	if got.code != 1 {
		t.Fatalf("exit %d\n%s", got.code, got.stderr)
	}
	f, err := os.Open(filepath.Join(out, "by-owner", "index.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, _ := csv.NewReader(f).ReadAll()
	total := 0
	for _, r := range rows[1:] {
		n := 0
		fmt.Sscan(r[2], &n)
		total += n
		if _, err := os.Stat(filepath.Join(out, "by-owner", r[1], "report.html")); err != nil {
			t.Errorf("no report.html for owner %q in %s", r[0], r[1])
		}
	}
	if len(rows) != 3 || total != 3 {
		t.Errorf("index.csv %q: want two owners holding the three instances", rows)
	}
}

// TestSplitByOwnerOfADuplicate: an instance bare in one list and with an
// owner in another is in its owner's group whichever list comes first; it
// fell out of alice's when the bare list came first.
func TestSplitByOwnerOfADuplicate(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	bare := writeFile(t, "one.txt", "i-0123456789abcdef0\n")
	owned := writeFile(t, "one.csv", "instance_id,owner\ni-0123456789abcdef0,alice\n")
	for _, order := range [][]string{{bare, owned}, {owned, bare}} {
		out := filepath.Join(t.TempDir(), "out")
		got := runCLI(t, "", "run", "--instances", order[0], "--instances", order[1], "--endpoint-url", url, "--region", "us-east-1",
			"--out", out, "--split-by", "owner", "--quiet")
		if got.code != 1 {
			t.Fatalf("exit %d\n%s", got.code, got.stderr)
		}
		if rec := recordKeys(t, filepath.Join(report.SplitDir(out, "owner"), "alice")); len(rec) != 1 {
			t.Errorf("--instances %s --instances %s: alice's group holds %v, want i-0123456789abcdef0", filepath.Base(order[0]), filepath.Base(order[1]), rec)
		}
	}
}

// TestScheduledLayout: a schedule's fixed configuration writes each run into
// a dated directory ({date}, {time}), and --baseline previous compares it
// with the latest run beside it (none for the first).
func TestScheduledLayout(t *testing.T) {
	at := time.Date(2026, 11, 30, 3, 4, 5, 0, time.UTC)
	if got := expandOut("/data/audits/{date}/{time}", at); got != "/data/audits/2026-11-30/20261130T030405Z" {
		t.Errorf("expandOut = %q", got)
	}
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	root := t.TempDir()
	args := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--baseline", "previous", "--quiet"}
	first := runCLI(t, "", append(args, "--out", filepath.Join(root, "week1"))...)
	if first.code != 1 {
		t.Fatalf("first run: exit %d\n%s", first.code, first.stderr)
	}
	second := runCLI(t, "", append(args, "--out", filepath.Join(root, "week2"))...)
	if second.code != 1 {
		t.Fatalf("second run: exit %d\n%s", second.code, second.stderr)
	}
	ri, err := audit.ReadRunInfo(filepath.Join(root, "week2", "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ri.Changes == nil || filepath.Dir(ri.Changes.Baseline) != filepath.Join(root, "week1") || ri.Changes.Counts[audit.StillFailing] != 1 {
		t.Errorf("second run's changes %+v, want week1 as the baseline and one failure still failing", ri.Changes)
	}
	if ri1, _ := audit.ReadRunInfo(filepath.Join(root, "week1", "run.json")); ri1.Changes != nil {
		t.Error("the first run of a schedule has a baseline")
	}
}

// TestPreviousSkipsIncomplete: --baseline previous compares with the latest
// whole run; one that did not get to every target (interrupted, an
// account-region it could not audit) would hide the changes of the
// instances it did not see. With no complete run
// beside --out, the latest run is taken.
func TestPreviousSkipsIncomplete(t *testing.T) {
	root := t.TempDir()
	now := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	mk := func(name string, at time.Time, complete bool) string {
		dir := filepath.Join(root, name)
		os.MkdirAll(dir, 0o777)
		os.WriteFile(filepath.Join(dir, audit.ResultsFile), []byte("{}\n"), 0o644)
		if err := writeJSON(filepath.Join(dir, audit.RunFile), audit.RunInfo{Schema: audit.Schema, StartedAt: at, Complete: complete, Interrupted: !complete}); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	partial := mk("b-partial", now.Add(-24*time.Hour), false)
	if found, err := previousRuns(filepath.Join(root, "c-now"), now, now, audit.RunInfo{}); err != nil || len(found.dirs) != 1 || found.dirs[0] != partial {
		t.Errorf("only an incomplete run: previousRuns = %q, %v; want it, %s", found.dirs, err, partial)
	}
	complete := mk("a-complete", now.Add(-7*24*time.Hour), true)
	if found, err := previousRuns(filepath.Join(root, "c-now"), now, now, audit.RunInfo{}); err != nil || !slices.Equal(found.dirs, []string{complete, partial}) {
		t.Errorf("previousRuns = %q, %v; want the complete run %s, then the later incomplete one", found.dirs, err, complete)
	}
	// A run killed before it wrote run.json, after the complete one: left
	// out, and named to warn of; one older than it is not named.
	killed := filepath.Join(root, "b2-killed")
	os.MkdirAll(killed, 0o777)
	os.WriteFile(filepath.Join(killed, audit.ResultsFile), []byte("{}\n"), 0o644)
	os.Chtimes(filepath.Join(killed, audit.ResultsFile), now.Add(-2*time.Hour), now.Add(-2*time.Hour))
	old := filepath.Join(root, "a0-killed-long-ago")
	os.MkdirAll(old, 0o777)
	os.WriteFile(filepath.Join(old, audit.ResultsFile), []byte("{}\n"), 0o644)
	os.Chtimes(filepath.Join(old, audit.ResultsFile), now.Add(-30*24*time.Hour), now.Add(-30*24*time.Hour))
	found, err := previousRuns(filepath.Join(root, "c-now"), now, now, audit.RunInfo{})
	got, unfinished := found.dirs, found.unfinished
	if err != nil || !slices.Equal(got, []string{complete, partial}) || !slices.Equal(unfinished, []string{killed}) {
		t.Errorf("previousRuns = %q, %q, %v; want %q and the unfinished %s", got, unfinished, err, []string{complete, partial}, killed)
	}
	// A later run that got to every target, some of which ended in error
	// (not complete, but whole): it comes first, as a comparison leaves its
	// instances in error out.
	someErrors := filepath.Join(root, "b1-some-errors")
	os.MkdirAll(someErrors, 0o777)
	os.WriteFile(filepath.Join(someErrors, audit.ResultsFile), []byte("{}\n"), 0o644)
	if err := writeJSON(filepath.Join(someErrors, audit.RunFile), audit.RunInfo{Schema: audit.Schema, StartedAt: now.Add(-3 * 24 * time.Hour),
		Outcomes: map[audit.Outcome]int{audit.OutcomeError: 2, audit.OutcomeCompliant: 98}}); err != nil {
		t.Fatal(err)
	}
	if found, err := previousRuns(filepath.Join(root, "c-now"), now, now, audit.RunInfo{}); err != nil || len(found.dirs) == 0 || found.dirs[0] != someErrors {
		t.Errorf("previousRuns = %q, %v; want first the whole run with instances in error %s", found.dirs, err, someErrors)
	}
}

// TestChangesOfAnIncompleteRun: a run stopped by --timeout before it got to
// most of the fleet reports none of the instances it did not audit as gone
// since the baseline, and a later whole run compared with that incomplete
// one reports none of them as new: neither run could say.
func TestChangesOfAnIncompleteRun(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids, url, srv := scheduledFleet(t, 60)
	dir := t.TempDir()
	week1, week2, week3 := filepath.Join(dir, "week1"), filepath.Join(dir, "week2"), filepath.Join(dir, "week3")
	args := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--fail-on", "none", "--quiet"}
	if got := runCLI(t, "", append(args, "--out", week1)...); got.code != 0 {
		t.Fatalf("week 1: exit %d\n%s", got.code, got.stderr)
	}
	// One call at a time, the fourth stalled until the timeout: three of
	// the 60.
	srv.StallFrom(4)
	got := runCLI(t, "", append(args, "--out", week2, "--baseline", week1, "--concurrency", "1", "--timeout", stallTimeout.String())...)
	srv.StallFrom(0)
	if got.code != 3 {
		t.Fatalf("week 2 stopped by --timeout: exit %d, want 3\n%s", got.code, got.stderr)
	}
	if got := runCLI(t, "", append(args, "--out", week3, "--baseline", week2)...); got.code != 0 {
		t.Fatalf("week 3: exit %d\n%s", got.code, got.stderr)
	}
	for _, tc := range []struct {
		dir  string
		kind audit.ChangeKind
	}{{week2, audit.VanishedInstance}, {week3, audit.NewInstance}} {
		f, err := os.Open(filepath.Join(tc.dir, "changes.csv"))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range rows[1:] {
			if r[0] == string(tc.kind) {
				n++
			}
		}
		if n != 0 {
			t.Errorf("%s: changes.csv has %d %s, want none: the fleet did not change", filepath.Base(tc.dir), n, tc.kind)
		}
		ri, err := audit.ReadRunInfo(filepath.Join(tc.dir, "run.json"))
		if err != nil {
			t.Fatal(err)
		}
		if ri.Changes == nil || ri.Changes.Counts[tc.kind] != 0 {
			t.Errorf("%s: run.json changes %+v, want no %s", filepath.Base(tc.dir), ri.Changes, tc.kind)
		}
		summary, _ := os.ReadFile(filepath.Join(tc.dir, "summary.json"))
		if !bytes.Contains(summary, []byte("among the instances both runs audited")) {
			t.Errorf("%s: summary.json does not say that only the instances both runs audited were compared", filepath.Base(tc.dir))
		}
	}
	if ri, _ := audit.ReadRunInfo(filepath.Join(week3, "run.json")); ri.Changes == nil || !ri.Changes.BaselineIncomplete {
		t.Error("week 3's run.json does not say its baseline was incomplete")
	}
}

// TestPreviousSkipsADamagedRun: with --baseline previous, a latest run whose
// record cannot be read (a line cut by hand or by a disk) is skipped with a
// warning for the run before it; a schedule must not stop at every run
// until someone reads the cron log. A --baseline named outright is still
// refused.
func TestPreviousSkipsADamagedRun(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	root := t.TempDir()
	args := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--fail-on", "none", "--quiet"}
	for _, week := range []string{"week1", "week2"} {
		if got := runCLI(t, "", append(args, "--out", filepath.Join(root, week), "--baseline", "previous")...); got.code != 0 {
			t.Fatalf("%s: exit %d\n%s", week, got.code, got.stderr)
		}
	}
	// Week 2's record loses the middle of its first line.
	rec := filepath.Join(root, "week2", "results.jsonl")
	b, _ := os.ReadFile(rec)
	if err := os.WriteFile(rec, append([]byte("{\"schema\":1,\"inst\n"), b...), 0o644); err != nil {
		t.Fatal(err)
	}
	got := runCLI(t, "", append(args, "--out", filepath.Join(root, "week3"), "--baseline", "previous")...)
	if got.code != 0 {
		t.Fatalf("week 3 with a damaged week 2: exit %d, want 0\n%s", got.code, got.stderr)
	}
	if !strings.Contains(got.stderr, filepath.Join(root, "week2")) {
		t.Errorf("week 3 does not warn of the damaged run it skipped:\n%s", got.stderr)
	}
	ri, err := audit.ReadRunInfo(filepath.Join(root, "week3", "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ri.Changes == nil || filepath.Dir(ri.Changes.Baseline) != filepath.Join(root, "week1") {
		t.Errorf("week 3's baseline %+v, want week1", ri.Changes)
	}
	if got := runCLI(t, "", append(args, "--out", filepath.Join(root, "week4"), "--baseline", filepath.Join(root, "week2"))...); got.code != 2 {
		t.Errorf("a damaged --baseline named outright: exit %d, want 2\n%s", got.code, got.stderr)
	}
}

// TestMergeCarriesFirstSeen: shards merged with --baseline (deploy/'s
// schedule) carry each failure's first_seen_failing from the baseline, as
// a single run does: into changes.csv, and into the merged record, which is
// next week's baseline.
func TestMergeCarriesFirstSeen(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 21, Size: shortN(200, 100)})
	var b bytes.Buffer
	fleet.WriteIDs(&b)
	ids := writeFile(t, "ids.txt", b.String())
	url, _ := serve(t, fleet, ssmsim.Options{})
	dir := t.TempDir()
	week := func(name string, baseline ...string) string {
		var shards []string
		for k := range 2 {
			out := filepath.Join(dir, fmt.Sprintf("%s-shard-%d", name, k))
			if got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet",
				"--fail-on", "none", "--shard", fmt.Sprintf("%d/2", k)); got.code != 0 {
				t.Fatalf("%s shard %d: exit %d\n%s", name, k, got.code, got.stderr)
			}
			shards = append(shards, filepath.Join(out, audit.ResultsFile))
		}
		merged := filepath.Join(dir, name)
		args := append(append([]string{"report"}, shards...), "--out", merged, "--fail-on", "none")
		if len(baseline) > 0 {
			args = append(args, "--baseline", baseline[0])
		}
		if got := runCLI(t, "", args...); got.code != 0 {
			t.Fatalf("%s merge: exit %d\n%s", name, got.code, got.stderr)
		}
		return merged
	}
	w1 := week("week1")
	w2 := week("week2", w1)
	rows, err := readCSV(filepath.Join(w2, "changes.csv"))
	if err != nil {
		t.Fatal(err)
	}
	col := slices.Index(rows[0], "first_seen_failing")
	still := 0
	for _, r := range rows[1:] {
		if r[0] == string(audit.StillFailing) {
			still++
			if r[col] == "" {
				t.Fatalf("a still_failing row without first_seen_failing: %q", r)
			}
		}
	}
	if still == 0 {
		t.Fatal("no still_failing row: the fleet has no failure")
	}
	// The merged record holds them: week 3 still says week 1's dates.
	w3 := week("week3", w2)
	rows3, err := readCSV(filepath.Join(w3, "changes.csv"))
	if err != nil {
		t.Fatal(err)
	}
	first := map[string]string{}
	for _, r := range rows[1:] {
		first[r[3]+" "+r[5]] = r[col]
	}
	for _, r := range rows3[1:] {
		if r[0] == string(audit.StillFailing) && first[r[3]+" "+r[5]] != r[col] {
			t.Fatalf("week 3: %s %s first seen %q, week 2 said %q", r[3], r[5], r[col], first[r[3]+" "+r[5]])
		}
	}
}

func readCSV(path string) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return csv.NewReader(f).ReadAll()
}

// TestResumeComparesWithTheRunBefore: --baseline previous on a resumed
// run means the latest whole run that started before the run itself
// started, not one that ran while it waited to be resumed: week 2, stopped
// by --timeout and resumed after week 3, still compares with week 1, as its
// first attempt did, and finds the failures new since week 1.
func TestResumeComparesWithTheRunBefore(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	before := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 21, Size: 60})
	after, _ := before.Drift(ssmsim.DriftConfig{Seed: 4, Elapsed: 7 * 24 * time.Hour})
	var b bytes.Buffer
	before.WriteIDs(&b)
	ids := writeFile(t, "ids.txt", b.String())
	url1, _ := serve(t, before, ssmsim.Options{})
	url2, srv2 := serveStallable(t, after, ssmsim.Options{})
	root := t.TempDir()
	week1, week2, week3 := filepath.Join(root, "week1"), filepath.Join(root, "week2"), filepath.Join(root, "week3")
	args := []string{"run", "--instances", ids, "--region", "us-east-1", "--fail-on", "none", "--baseline", "previous", "--quiet"}
	if got := runCLI(t, "", append(args, "--endpoint-url", url1, "--out", week1)...); got.code != 0 {
		t.Fatalf("week 1: exit %d\n%s", got.code, got.stderr)
	}
	srv2.StallFrom(6)
	got := runCLI(t, "", append(args, "--endpoint-url", url2, "--out", week2, "--concurrency", "2", "--timeout", stallTimeout.String(), "--grace", "0s")...)
	if got.code != 3 {
		t.Fatalf("week 2 stopped by --timeout: exit %d, want 3\n%s", got.code, got.stderr)
	}
	srv2.StallFrom(0)
	if got := runCLI(t, "", append(args, "--endpoint-url", url2, "--out", week3)...); got.code != 0 {
		t.Fatalf("week 3: exit %d\n%s", got.code, got.stderr)
	}
	if got := runCLI(t, "", append(args, "--endpoint-url", url2, "--out", week2, "--resume")...); got.code != 0 {
		t.Fatalf("week 2 resumed: exit %d\n%s", got.code, got.stderr)
	}
	ri2, err := audit.ReadRunInfo(filepath.Join(week2, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	ri3, err := audit.ReadRunInfo(filepath.Join(week3, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ri2.Changes == nil || ri2.Changes.BaselineIn(week2) != filepath.Join(week1, audit.ResultsFile) {
		t.Fatalf("week 2 resumed compares with %+v, want week 1 (week 3 started after it)", ri2.Changes)
	}
	// Both audited the same fleet against week 1: the same changes.
	if n := ri3.Changes.Counts[audit.NewFailure]; n == 0 {
		t.Fatal("week 3 finds no new failure since week 1: the drift made none, the test checks nothing")
	}
	for _, k := range []audit.ChangeKind{audit.NewFailure, audit.StillFailing, audit.Resolved} {
		if ri2.Changes.Counts[k] != ri3.Changes.Counts[k] {
			t.Errorf("week 2 resumed: %d %s, week 3 (the same fleet, the same baseline) %d", ri2.Changes.Counts[k], k, ri3.Changes.Counts[k])
		}
	}
	rows, err := readCSV(filepath.Join(week2, "changes.csv"))
	if err != nil {
		t.Fatal(err)
	}
	col := slices.Index(rows[0], "first_seen_failing")
	for _, r := range rows[1:] {
		if r[0] != string(audit.StillFailing) {
			continue
		}
		if at, err := time.Parse(time.RFC3339, r[col]); err != nil || !at.Before(ri2.StartedAt) {
			t.Errorf("week 2: %s %s still failing since %q, after week 2 started (%s)", r[3], r[5], r[col], ri2.StartedAt)
		}
	}
}

// TestPreviousIsARunOfTheSameTargets: --baseline previous takes only a run
// of the same targets: the same list, of which the same shard (or both
// whole; a merge of every shard is whole). In the shards' layout
// (RUN/shard-K), a shard's siblings are the other shards of its own run
// and the merge's are those shards: none is its baseline, and each says
// so. A list whose content changed since (an instance added) is still the
// same list, and a run of another list is not.
func TestPreviousIsARunOfTheSameTargets(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids, url, _ := scheduledFleet(t, 40)
	root := t.TempDir()
	args := []string{"run", "--endpoint-url", url, "--region", "us-east-1", "--fail-on", "none", "--quiet"}
	baselineOf := func(dir string) string {
		t.Helper()
		if b := baselineIn(t, dir); b != "" {
			return filepath.Dir(b)
		}
		return ""
	}
	shards := func(run string, baseline ...string) []string {
		t.Helper()
		var recs []string
		for k := range 2 {
			out := filepath.Join(root, run, fmt.Sprintf("shard-%d", k))
			a := append(args, "--instances", ids, "--shard", fmt.Sprintf("%d/2", k), "--out", out, "--baseline", "previous")
			if len(baseline) > 0 {
				a = append(a, "--baseline", filepath.Join(baseline[0], fmt.Sprintf("shard-%d", k)))
			}
			got := runCLI(t, "", a...)
			if got.code != 0 {
				t.Fatalf("%s shard %d: exit %d\n%s", run, k, got.code, got.stderr)
			}
			want := ""
			if len(baseline) > 0 {
				want = filepath.Join(baseline[0], fmt.Sprintf("shard-%d", k))
			} else if k > 0 && !strings.Contains(got.stderr, "no earlier run of the same targets") {
				t.Errorf("%s shard %d does not say it passed over shard 0:\n%s", run, k, got.stderr)
			}
			if got := baselineOf(out); got != want {
				t.Errorf("%s shard %d compares with %q, want %q", run, k, got, want)
			}
			recs = append(recs, filepath.Join(out, audit.ResultsFile))
		}
		return recs
	}
	merge := func(recs []string, out string) {
		t.Helper()
		got := runCLI(t, "", append(append([]string{"report"}, recs...), "--out", out, "--fail-on", "none", "--baseline", "previous", "--quiet")...)
		if got.code != 0 {
			t.Fatalf("merge into %s: exit %d\n%s", out, got.code, got.stderr)
		}
	}
	run1 := shards("run1")
	merge(run1, filepath.Join(root, "run1", "all"))
	if got := baselineOf(filepath.Join(root, "run1", "all")); got != "" {
		t.Errorf("the merge of run1's shards compares with %s, one of them", got)
	}
	// What the README says to do: name the earlier run's shard.
	run2 := shards("run2", filepath.Join(root, "run1"))
	// Merges side by side compare with the merge before.
	merge(run1, filepath.Join(root, "merged", "1"))
	merge(run2, filepath.Join(root, "merged", "2"))
	if got := baselineOf(filepath.Join(root, "merged", "2")); got != filepath.Join(root, "merged", "1") {
		t.Errorf("merge 2 compares with %q, want merge 1", got)
	}

	// Whole runs: the same list file, one instance more, is the same list;
	// another list is not.
	whole := filepath.Join(root, "whole")
	if got := runCLI(t, "", append(args, "--instances", ids, "--out", filepath.Join(whole, "1"), "--baseline", "previous")...); got.code != 0 {
		t.Fatalf("whole 1: exit %d\n%s", got.code, got.stderr)
	}
	listed, err := os.ReadFile(ids)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ids, append(listed, "i-0fffffffffffffff0\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := runCLI(t, "", append(args, "--instances", ids, "--out", filepath.Join(whole, "2"), "--baseline", "previous")...); got.code != 0 {
		t.Fatalf("whole 2: exit %d\n%s", got.code, got.stderr)
	}
	if got := baselineOf(filepath.Join(whole, "2")); got != filepath.Join(whole, "1") {
		t.Errorf("a run of the list with an instance added compares with %q, want the run before", got)
	}
	other := writeFile(t, "other.txt", "i-0123456789abcdef0\n")
	got := runCLI(t, "", append(args, "--instances", other, "--out", filepath.Join(whole, "3"), "--baseline", "previous")...)
	if got.code != 0 {
		t.Fatalf("whole 3: exit %d\n%s", got.code, got.stderr)
	}
	if got := baselineOf(filepath.Join(whole, "3")); got != "" {
		t.Errorf("a run of another list compares with %s", got)
	}
}

// TestSameTargets: which earlier run --baseline previous may take, by what
// the run.json of each says of its targets.
func TestSameTargets(t *testing.T) {
	whole := func(list string, files ...any) audit.RunInfo {
		ri := audit.RunInfo{Parts: []audit.Part{{Fleet: list, List: list}}}
		if len(files) > 0 {
			ri.Options = map[string]any{"instances": files}
		}
		return ri
	}
	withOption := func(ri audit.RunInfo, k string, v any) audit.RunInfo {
		ri.Options[k] = v
		return ri
	}
	calledBy := func(ri audit.RunInfo, account string) audit.RunInfo {
		ri.Caller = account
		return ri
	}
	shard := func(list, s string) audit.Part { return audit.Part{Fleet: list + s, List: list, Shard: s} }
	merge := func(parts ...audit.Part) audit.RunInfo { return audit.RunInfo{Parts: parts} }
	for _, tc := range []struct {
		name      string
		self, run audit.RunInfo
		want      bool
	}{
		{"the same list", whole("L"), whole("L"), true},
		{"the same file, edited", whole("L2", "fleet.csv"), whole("L1", "fleet.csv"), true},
		{"another file", whole("L2", "other.csv"), whole("L1", "fleet.csv"), false},
		// The same file named by another path; and files of one name in
		// two directories, two fleets whose runs write side by side
		// (staging and prod), are not one list.
		{"the same file by another path", whole("L2", "./fleet.csv"), whole("L1", "fleet.csv"), true},
		// lists may be a link to another directory, whose parent holds
		// another fleet.csv: a ".." is kept as given.
		{"a path through a directory and back", whole("L2", "prod/lists/../fleet.csv"), whole("L1", "prod/fleet.csv"), false},
		{"the same path through a directory and back", whole("L2", "prod/lists/../fleet.csv"), whole("L1", "prod//lists/../fleet.csv"), true},
		{"files of one name in two directories", whole("L2", "staging/fleet.csv"), whole("L1", "prod/fleet.csv"), false},
		{"a file named - and standard input", whole("L2", "./-"), whole("L1", "-"), false},
		{"the same files, one of them another", whole("L2", "a/fleet.csv", "extra.txt"), whole("L1", "a/fleet.csv", "more.txt"), false},
		{"another list, no files said", whole("L2"), whole("L1"), false},
		{"a run.json from before files were recorded", whole("L2", "fleet.csv"), whole("L1"), false},
		{"a run.json from before files were recorded, the same list", whole("L", "fleet.csv"), whole("L"), true},
		{"the same file, another region", withOption(whole("L2", "fleet.csv"), "region", "us-east-1"), withOption(whole("L1", "fleet.csv"), "region", "eu-west-1"), false},
		{"the same file, an instance ID besides", whole("L2", "fleet.csv"), withOption(whole("L1", "fleet.csv"), "instance_id", []any{"i-0123456789abcdef0"}), false},
		{"the same file, other accounts", withOption(whole("L2", "fleet.csv"), "accounts", "111111111111"), withOption(whole("L1", "fleet.csv"), "accounts", "222222222222"), false},
		// The caller's account is that of the lines that name none: the
		// same file for another caller is of other targets; an account
		// not known (credentials that failed, a run.json from before it
		// was kept) is no sign of others.
		{"the same file, another caller", calledBy(whole("L2", "fleet.csv"), "111111111111"), calledBy(whole("L1", "fleet.csv"), "222222222222"), false},
		{"the same file, the earlier caller unknown", calledBy(whole("L2", "fleet.csv"), "111111111111"), whole("L1", "fleet.csv"), true},
		{"the same file, this caller unknown", whole("L2", "fleet.csv"), calledBy(whole("L1", "fleet.csv"), "222222222222"), true},
		{"a discovery before files were recorded", whole("L2", "fleet.csv"), whole("discovery:all/all/"), false},
		{"another discovery scope", whole("discovery:a/eu-west-1/"), whole("discovery:a/us-east-1/"), false},
		{"the same discovery scope", whole(audit.DiscoveryScope([]string{"111111111111"}, []string{"us-east-1"}, nil)),
			whole(audit.DiscoveryScope([]string{"111111111111"}, []string{"us-east-1", "us-east-1"}, nil)), true},
		{"a discovery of another region", whole(audit.DiscoveryScope([]string{"111111111111"}, []string{"eu-west-1"}, nil)),
			whole(audit.DiscoveryScope([]string{"111111111111"}, []string{"us-east-1"}, nil)), false},
		{"a discovery of another account", whole(audit.DiscoveryScope([]string{"222222222222"}, []string{"us-east-1"}, nil)),
			whole(audit.DiscoveryScope([]string{"111111111111"}, []string{"us-east-1"}, nil)), false},
		{"a discovery recorded before its scope was resolved", whole("discovery://"), whole("discovery://"), false},
		{"a discovery of other filters, the same files listed besides", whole(audit.DiscoveryScope([]string{"111111111111"}, []string{"us-east-1"}, []string{"Key=tag:Env,Values=dev"}), "fleet.csv"),
			whole(audit.DiscoveryScope([]string{"111111111111"}, []string{"us-east-1"}, []string{"Key=tag:Env,Values=prod"}), "fleet.csv"), false},
		{"a discovery and a list, of the same files", whole(audit.DiscoveryScope([]string{"111111111111"}, []string{"us-east-1"}, nil), "fleet.csv"),
			whole("L1", "fleet.csv"), false},
		{"a shard and the whole", merge(shard("L", "0/2")), whole("L"), false},
		{"another shard of the run", merge(shard("L", "1/2")), merge(shard("L", "0/2")), false},
		{"the same shard", merge(shard("L", "1/2")), merge(shard("L", "1/2")), true},
		{"a merge of every shard and the whole", merge(shard("L", "0/2"), shard("L", "1/2")), whole("L"), true},
		{"a merge of every shard and a shard", merge(shard("L", "0/2"), shard("L", "1/2")), merge(shard("L", "1/2")), false},
		{"a merge of 12 shards", merge(shard("L", "0/12"), shard("L", "1/12"), shard("L", "2/12"), shard("L", "3/12"), shard("L", "4/12"),
			shard("L", "5/12"), shard("L", "6/12"), shard("L", "7/12"), shard("L", "8/12"), shard("L", "9/12"), shard("L", "10/12"), shard("L", "11/12")), whole("L"), true},
		{"a merge of two lists and one of them", merge(audit.Part{List: "A"}, audit.Part{List: "B"}), whole("A"), false},
		{"a run.json from before parts", whole("L"), audit.RunInfo{}, false},
		{"neither says", audit.RunInfo{}, audit.RunInfo{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sameTargets(tc.self, tc.run); got != tc.want {
				t.Errorf("sameTargets = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestResumeKeepsItsBaseline: the README's resume of a scheduled run
// (--resume --out DIR, no --baseline) compares with the baseline the run
// started with, says so, and carries first_seen_failing into the lines it
// adds, so that the run after still dates each failure from when it began.
// Another --baseline on resume is refused, and so is a resume whose
// baseline is gone.
func TestResumeKeepsItsBaseline(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids, url, srv := scheduledFleet(t, 60)
	root := t.TempDir()
	week1, week2, week3 := filepath.Join(root, "week1"), filepath.Join(root, "week2"), filepath.Join(root, "week3")
	args := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--fail-on", "none", "--quiet"}
	if got := runCLI(t, "", append(args, "--out", week1, "--baseline", "previous")...); got.code != 0 {
		t.Fatalf("week 1: exit %d\n%s", got.code, got.stderr)
	}
	stopped := func(out string) {
		t.Helper()
		srv.StallFrom(6)
		defer srv.StallFrom(0)
		got := runCLI(t, "", append(args, "--out", out, "--baseline", "previous", "--concurrency", "2", "--timeout", stallTimeout.String(), "--grace", "0s")...)
		if got.code != 3 {
			t.Fatalf("%s stopped by --timeout: exit %d, want 3\n%s", out, got.code, got.stderr)
		}
	}
	stopped(week2)
	if got := runCLI(t, "", append(args, "--out", week2, "--resume", "--baseline", filepath.Join(root, "elsewhere"))...); got.code != 2 {
		t.Errorf("resume with another --baseline: exit %d, want 2\n%s", got.code, got.stderr)
	}
	got := runCLI(t, "", append(args, "--out", week2, "--resume")...)
	if got.code != 0 {
		t.Fatalf("week 2 resumed: exit %d\n%s", got.code, got.stderr)
	}
	if !strings.Contains(got.stderr, week1) {
		t.Errorf("the resume does not say it compares with week 1:\n%s", got.stderr)
	}
	ri, err := audit.ReadRunInfo(filepath.Join(week2, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ri.Changes == nil || ri.Changes.BaselineIn(week2) != filepath.Join(week1, audit.ResultsFile) {
		t.Errorf("week 2 resumed: changes %+v, want week 1 as the baseline", ri.Changes)
	}
	rs, err := audit.OpenRecords(filepath.Join(week2, audit.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	rs.Each(func(r audit.Result) error {
		for _, a := range r.Associations {
			if a.Status == audit.StatusFailed {
				failed++
				if a.FirstSeenFailing == nil || !a.FirstSeenFailing.Before(ri.StartedAt) {
					t.Errorf("week 2: %s %s first seen failing %v, want week 1's date", r.InstanceID, a.AssociationID, a.FirstSeenFailing)
				}
			}
		}
		return nil
	})
	rs.Close()
	if failed == 0 {
		t.Fatal("no failure in the fleet: the test checks nothing")
	}
	if got := runCLI(t, "", append(args, "--out", week3, "--baseline", "previous")...); got.code != 0 {
		t.Fatalf("week 3: exit %d\n%s", got.code, got.stderr)
	}
	rows, err := readCSV(filepath.Join(week3, "changes.csv"))
	if err != nil {
		t.Fatal(err)
	}
	col := slices.Index(rows[0], "first_seen_failing")
	for _, r := range rows[1:] {
		if at, err := time.Parse(time.RFC3339, r[col]); r[0] == string(audit.StillFailing) && (err != nil || !at.Before(ri.StartedAt)) {
			t.Errorf("week 3: %s %s still failing since %q, want week 1's date", r[3], r[5], r[col])
		}
	}

	// Its baseline gone, a resume was made without one, with a warning:
	// its first attempt's lines dated their failures from week 3, its
	// own from nothing, and the run after from week 4 (two baselines in
	// one record). It is refused, as rendering it again in place is,
	// leaving the first attempt's changes; put back, it resumes.
	week4 := filepath.Join(root, "week4")
	stopped(week4)
	if _, err := os.Stat(filepath.Join(week4, "changes.csv")); err != nil {
		t.Fatalf("week 4's first attempt wrote no changes.csv: %v", err)
	}
	away := filepath.Join(root, "away")
	if err := os.Rename(week3, away); err != nil {
		t.Fatal(err)
	}
	got = runCLI(t, "", append(args, "--out", week4, "--resume")...)
	if got.code != 2 || !strings.Contains(got.stderr, "which is gone") || !strings.Contains(got.stderr, week3) {
		t.Fatalf("week 4 resumed, its baseline gone: exit %d, want 2 saying week 3 is gone\n%s", got.code, got.stderr)
	}
	if _, err := os.Stat(filepath.Join(week4, "changes.csv")); err != nil {
		t.Errorf("week 4's resume was refused, and the changes.csv of its first attempt is gone: %v", err)
	}
	if err := os.Rename(away, week3); err != nil {
		t.Fatal(err)
	}
	got = runCLI(t, "", append(args, "--out", week4, "--resume")...)
	if got.code != 0 {
		t.Fatalf("week 4 resumed, its baseline back: exit %d\n%s", got.code, got.stderr)
	}
	if ri, _ := audit.ReadRunInfo(filepath.Join(week4, "run.json")); ri.Changes == nil || ri.Changes.BaselineIn(week4) != filepath.Join(week3, audit.ResultsFile) {
		t.Errorf("week 4 resumed: run.json changes %+v, want week 3 as the baseline", ri.Changes)
	}
}

// TestRenderInPlaceKeepsItsBaseline: three ways a run's own comparison was
// lost or went wrong after its first attempt.
//   - `auditor report W2/results.jsonl --out W2` (new --html-max-rows, say)
//     deleted its changes.csv and its run.json's changes, and a resume after
//     it then wrote failures without their first dates.
//   - The same with --baseline previous compared week 2 with week 3, a run
//     after it.
//   - `run --resume --fail-on new` of a run with a baseline was refused:
//     "new since what?".
func TestRenderInPlaceKeepsItsBaseline(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids, url, srv := scheduledFleet(t, 40)
	root := t.TempDir()
	week := func(n int) string { return filepath.Join(root, fmt.Sprintf("week%d", n)) }
	args := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--fail-on", "none", "--quiet", "--baseline", "previous"}
	if got := runCLI(t, "", append(args, "--out", week(1))...); got.code != 0 {
		t.Fatalf("week 1: exit %d\n%s", got.code, got.stderr)
	}
	if got := runCLI(t, "", append(args, "--out", week(2))...); got.code != 0 {
		t.Fatalf("week 2: exit %d\n%s", got.code, got.stderr)
	}
	if got := runCLI(t, "", append(args, "--out", week(3))...); got.code != 0 {
		t.Fatalf("week 3: exit %d\n%s", got.code, got.stderr)
	}
	baselineOf := func(dir string) string { t.Helper(); return baselineIn(t, dir) }
	want := filepath.Join(week(1), audit.ResultsFile)
	for _, extra := range [][]string{nil, {"--baseline", "previous"}} {
		got := runCLI(t, "", append([]string{"report", filepath.Join(week(2), audit.ResultsFile), "--out", week(2), "--html-max-rows", "5", "--fail-on", "none"}, extra...)...)
		if got.code != 0 {
			t.Fatalf("report in place %v: exit %d\n%s", extra, got.code, got.stderr)
		}
		if b := baselineOf(week(2)); b != want {
			t.Errorf("week 2 rendered again in place %v: compared with %q, want week 1", extra, b)
		}
		if _, err := os.Stat(filepath.Join(week(2), "changes.csv")); err != nil {
			t.Errorf("week 2 rendered again in place %v: changes.csv gone", extra)
		}
	}

	srv.StallFrom(6)
	got := runCLI(t, "", append(args, "--out", week(4), "--concurrency", "2", "--timeout", stallTimeout.String(), "--grace", "0s")...)
	srv.StallFrom(0)
	if got.code != 3 {
		t.Fatalf("week 4 stopped by --timeout: exit %d, want 3\n%s", got.code, got.stderr)
	}
	resume := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--quiet", "--out", week(4), "--resume", "--fail-on", "new"}
	if got := runCLI(t, "", resume...); got.code == 2 {
		t.Errorf("week 4 resumed with --fail-on new and the baseline it started with: exit 2\n%s", got.stderr)
	}
	if b := baselineOf(week(4)); b != filepath.Join(week(3), audit.ResultsFile) {
		t.Errorf("week 4 resumed: compared with %q, want week 3", b)
	}
}

// scheduledFleet serves a simulated fleet of n instances (seed 21) and
// writes its IDs: the set-up of the tests of weekly runs. Its endpoint
// stalls on demand, for the runs stopped part-way by --timeout.
func scheduledFleet(t *testing.T, n int) (ids, url string, srv *stallable) {
	t.Helper()
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 21, Size: n})
	var b bytes.Buffer
	fleet.WriteIDs(&b)
	url, srv = serveStallable(t, fleet, ssmsim.Options{})
	return writeFile(t, "ids.txt", b.String()), url, srv
}

// baselineIn returns the record that the run in dir was compared with, as
// its run.json says ("" for none).
func baselineIn(t *testing.T, dir string) string {
	t.Helper()
	ri, err := audit.ReadRunInfo(filepath.Join(dir, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ri.Changes == nil {
		return ""
	}
	return ri.Changes.BaselineIn(dir)
}

// TestRenderInPlaceWithoutItsBaseline: a re-render in place whose baseline
// is gone for a while erased the run's recorded changes for good, and a
// --resume --fail-on new then passed its gate with no baseline at all; a
// --split-by group rendered again in place looked for its baseline beside
// the group, found none, and lost its changes.
func TestRenderInPlaceWithoutItsBaseline(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids, url, srv := scheduledFleet(t, 40)
	root := t.TempDir()
	w1, w2, gone := filepath.Join(root, "w1"), filepath.Join(root, "w2"), filepath.Join(root, "gone")
	args := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--fail-on", "none", "--quiet"}
	if got := runCLI(t, "", append(args, "--out", w1)...); got.code != 0 {
		t.Fatalf("w1: exit %d\n%s", got.code, got.stderr)
	}
	if got := runCLI(t, "", append(args, "--out", w2, "--baseline", w1)...); got.code != 0 {
		t.Fatalf("w2: exit %d\n%s", got.code, got.stderr)
	}
	if err := os.Rename(w1, gone); err != nil {
		t.Fatal(err)
	}
	changes, err := os.ReadFile(filepath.Join(w2, "changes.csv"))
	if err != nil {
		t.Fatal(err)
	}
	got := runCLI(t, "", "report", filepath.Join(w2, audit.ResultsFile), "--out", w2, "--fail-on", "none")
	if got.code != 2 || !strings.Contains(got.stderr, "which is gone") {
		t.Errorf("re-render, the baseline gone: exit %d, want 2, saying it is gone\n%s", got.code, got.stderr)
	}
	if after, err := os.ReadFile(filepath.Join(w2, "changes.csv")); err != nil || !bytes.Equal(after, changes) {
		t.Errorf("re-render, the baseline gone: changes.csv changed or deleted (%v)", err)
	}
	if b := baselineIn(t, w2); b != filepath.Join(w1, audit.ResultsFile) {
		t.Errorf("re-render, the baseline gone: run.json names %q as the baseline, want w1's", b)
	}
	if err := os.Rename(gone, w1); err != nil {
		t.Fatal(err)
	}
	got = runCLI(t, "", "report", filepath.Join(w2, audit.ResultsFile), "--out", w2, "--fail-on", "none")
	if got.code != 0 || !strings.Contains(got.stderr, "again with the baseline") {
		t.Errorf("re-render, the baseline back: exit %d, want 0 and a comparison\n%s", got.code, got.stderr)
	}

	// A resume whose baseline is gone cannot say what is new.
	w3 := filepath.Join(root, "w3")
	srv.StallFrom(6)
	got = runCLI(t, "", append(args, "--out", w3, "--baseline", w1, "--concurrency", "2", "--timeout", stallTimeout.String(), "--grace", "0s")...)
	srv.StallFrom(0)
	if got.code != 3 {
		t.Fatalf("w3 stopped by --timeout: exit %d, want 3\n%s", got.code, got.stderr)
	}
	if err := os.Rename(w1, gone); err != nil {
		t.Fatal(err)
	}
	for _, extra := range [][]string{nil, {"--baseline", "previous"}} {
		got = runCLI(t, "", append([]string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--quiet", "--out", w3, "--resume", "--fail-on", "new"}, extra...)...)
		if got.code != 2 || !strings.Contains(got.stderr, "which is gone") {
			t.Errorf("resume --fail-on new %v, its baseline gone: exit %d, want 2, saying it is gone\n%s", extra, got.code, got.stderr)
		}
	}
}

// TestRenderGroupInPlace: a --split-by group's reports rendered again in
// place are compared with the group's part of the baseline.
func TestRenderGroupInPlace(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, ownersFleet("alice"), ssmsim.Options{})
	list := writeFile(t, "fleet.csv", ownersList)
	root := t.TempDir()
	s1, s2 := filepath.Join(root, "s1"), filepath.Join(root, "s2")
	args := []string{"run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--fail-on", "none", "--quiet", "--split-by", "owner"}
	if got := runCLI(t, "", append(args, "--out", s1)...); got.code != 0 {
		t.Fatalf("s1: exit %d\n%s", got.code, got.stderr)
	}
	if got := runCLI(t, "", append(args, "--out", s2, "--baseline", s1)...); got.code != 0 {
		t.Fatalf("s2: exit %d\n%s", got.code, got.stderr)
	}
	alice := filepath.Join(report.SplitDir(s2, "owner"), "alice")
	before, err := os.ReadFile(filepath.Join(alice, "changes.csv"))
	if err != nil {
		t.Fatal(err)
	}
	got := runCLI(t, "", "report", filepath.Join(alice, audit.ResultsFile), "--out", alice, "--fail-on", "none")
	if got.code != 0 || strings.Contains(got.stderr, "warning") {
		t.Errorf("alice's group rendered again: exit %d, want 0 and no warning\n%s", got.code, got.stderr)
	}
	after, err := os.ReadFile(filepath.Join(alice, "changes.csv"))
	if err != nil || !bytes.Equal(before, after) {
		t.Errorf("alice's changes.csv after the group was rendered again (%v):\n%s\nwas:\n%s", err, after, before)
	}
	// Rendered again from its own record, the group is still of the
	// run's split: mailed, not refused as one an earlier attempt left.
	ms := newMailSetup(t, smtptest.Options{})
	mail := runCLI(t, "", append([]string{"mail", s2, "--mail-to-label", "owner_email"}, ms.args...)...)
	if mail.code != 0 || len(ms.srv.Messages()) != 3 {
		t.Errorf("mail of the split with a group rendered again: exit %d, %d messages, want 0 and one for each of 3 owners\n%s", mail.code, len(ms.srv.Messages()), mail.stderr)
	}
	// A group's record names no list: merged with another record, its
	// shared instances cannot be told apart, and report says so.
	got = runCLI(t, "", "report", filepath.Join(alice, audit.ResultsFile), filepath.Join(s1, audit.ResultsFile), "--out", filepath.Join(root, "merged"), "--fail-on", "none")
	if !strings.Contains(got.stderr, "names no target list") {
		t.Errorf("a group merged with the whole run: no warning that shared instances count twice\n%s", got.stderr)
	}
}

// TestLateShardKeepsTheBaseline: the README's late shard, merged into the
// merge already written (`report all/results.jsonl sK/results.jsonl --out
// all`), dropped the merge's comparison without a word; it keeps it, and
// the late shard's failures get their first dates from it.
func TestLateShardKeepsTheBaseline(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids, url, _ := scheduledFleet(t, 40)
	root := t.TempDir()
	w1 := filepath.Join(root, "w1")
	args := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--fail-on", "none", "--quiet"}
	if got := runCLI(t, "", append(args, "--out", w1)...); got.code != 0 {
		t.Fatalf("w1: exit %d\n%s", got.code, got.stderr)
	}
	var shards []string
	for k := range 2 {
		dir := filepath.Join(root, "w2", fmt.Sprintf("shard-%d", k))
		if got := runCLI(t, "", append(args, "--out", dir, "--shard", fmt.Sprintf("%d/2", k))...); got.code != 0 {
			t.Fatalf("shard %d: exit %d\n%s", k, got.code, got.stderr)
		}
		shards = append(shards, filepath.Join(dir, audit.ResultsFile))
	}
	all := filepath.Join(root, "w2", "all")
	if got := runCLI(t, "", "report", shards[0], "--out", all, "--fail-on", "none", "--baseline", w1); got.code != 0 {
		t.Fatalf("the first shard merged: exit %d\n%s", got.code, got.stderr)
	}
	got := runCLI(t, "", "report", filepath.Join(all, audit.ResultsFile), shards[1], "--out", all, "--fail-on", "none")
	if got.code != 0 {
		t.Fatalf("the late shard merged in: exit %d\n%s", got.code, got.stderr)
	}
	if b := baselineIn(t, all); b != filepath.Join(w1, audit.ResultsFile) {
		t.Errorf("the late shard merged in: compared with %q, want w1", b)
	}
	// Another list's record merged into the run's directory is not
	// compared with the run's baseline.
	all2 := filepath.Join(root, "w2", "all2")
	if got := runCLI(t, "", "report", shards[0], "--out", all2, "--fail-on", "none", "--baseline", w1); got.code != 0 {
		t.Fatalf("the first shard merged: exit %d\n%s", got.code, got.stderr)
	}
	listed, err := os.ReadFile(ids)
	if err != nil {
		t.Fatal(err)
	}
	other := writeFile(t, "other.txt", strings.Join(strings.Split(string(listed), "\n")[:5], "\n")+"\n")
	o1 := filepath.Join(root, "o1")
	if got := runCLI(t, "", "run", "--instances", other, "--endpoint-url", url, "--region", "us-east-1", "--fail-on", "none", "--quiet", "--out", o1); got.code != 0 {
		t.Fatalf("another list: exit %d\n%s", got.code, got.stderr)
	}
	got = runCLI(t, "", "report", filepath.Join(all2, audit.ResultsFile), filepath.Join(o1, audit.ResultsFile), "--out", all2, "--fail-on", "none")
	if b := baselineIn(t, all2); b != "" || strings.Contains(got.stderr, "again with the baseline") {
		t.Errorf("another list merged in: compared with %q\n%s", b, got.stderr)
	}
	rs, err := audit.OpenRecords(filepath.Join(all, audit.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	failed := 0
	rs.Each(func(r audit.Result) error {
		for _, a := range r.Associations {
			if a.Status == audit.StatusFailed {
				failed++
				if a.FirstSeenFailing == nil {
					t.Errorf("%s %s: failing, with no first date", r.InstanceID, a.AssociationID)
				}
			}
		}
		return nil
	})
	if failed == 0 {
		t.Fatal("no failure in the fleet: the test checks nothing")
	}
}

// TestPreviousOfAnotherAccount: two scheduled jobs that read their lists
// from standard input (or from files of one name, in other directories)
// and write beside each other look like runs of one list; --baseline
// previous took the other account's run, and every instance was both
// vanished and new.
func TestPreviousOfAnotherAccount(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 21, Size: 30})
	var b bytes.Buffer
	fleet.WriteIDs(&b)
	root := t.TempDir()
	run := func(account, out string) cliResult {
		t.Helper()
		url, _ := serve(t, fleet, ssmsim.Options{AccountID: account})
		got := runCLI(t, b.String(), "run", "--instances", "-", "--endpoint-url", url, "--region", "us-east-1",
			"--fail-on", "none", "--quiet", "--out", filepath.Join(root, out), "--baseline", "previous")
		if got.code != 0 {
			t.Fatalf("%s: exit %d\n%s", out, got.code, got.stderr)
		}
		return got
	}
	run("111111111111", "prod-1")
	time.Sleep(10 * time.Millisecond)
	got := run("222222222222", "dev-1")
	if base := baselineIn(t, filepath.Join(root, "dev-1")); base != "" {
		t.Errorf("account 222222222222 compared with %s, a run of account 111111111111", base)
	}
	if !strings.Contains(got.stderr, "111111111111") {
		t.Errorf("no warning names the other account's run:\n%s", got.stderr)
	}
	time.Sleep(10 * time.Millisecond)
	run("111111111111", "prod-2")
	if base := baselineIn(t, filepath.Join(root, "prod-2")); base != filepath.Join(root, "prod-1", "results.jsonl") {
		t.Errorf("account 111111111111 compared with %q, want its own run before, prod-1 (the other account's dev-1 skipped)", base)
	}
}

// TestResumeKilledBeforeRunJSON: a run killed before it wrote its run.json
// (an OOM kill, a node taken back) and resumed the next day with
// --baseline previous compared itself with a run that started after it,
// though the lines of its first attempt carried their dates from the run
// before it.
func TestResumeKilledBeforeRunJSON(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids, url, _ := scheduledFleet(t, 30)
	root := t.TempDir()
	mon, tue, wed := filepath.Join(root, "mon"), filepath.Join(root, "tue"), filepath.Join(root, "wed")
	args := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--fail-on", "none", "--quiet", "--baseline", "previous"}
	for _, dir := range []string{mon, tue, wed} {
		if got := runCLI(t, "", append(args, "--out", dir)...); got.code != 0 {
			t.Fatalf("%s: exit %d\n%s", dir, got.code, got.stderr)
		}
		if dir == tue {
			// Killed before run.json.
			if err := os.Remove(filepath.Join(tue, "run.json")); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := runCLI(t, "", append(args, "--out", tue, "--resume")...); got.code != 0 {
		t.Fatalf("resume: exit %d\n%s", got.code, got.stderr)
	}
	if base, want := baselineIn(t, tue), filepath.Join(mon, "results.jsonl"); base != want {
		t.Errorf("tue resumed after wed compared with %q, want the run before its own start, %q", base, want)
	}
}

// TestBaselineCutShort: a baseline whose record was cut short (a torn last
// line, or a clean cut by hand) beside a run.json that says its run was
// whole is incomplete, as auditor report judges it: the instances it lacks
// were not audited, not new, so --fail-on new passed the same fleet as 30
// new failures and new instances, with no word of it. Named outright or
// found by --baseline previous, the changes say the baseline is incomplete
// and a warning names it. A record without run.json is taken as whole
// unless its last line is torn.
func TestBaselineCutShort(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids, url, _ := scheduledFleet(t, 60)
	full := filepath.Join(t.TempDir(), "full")
	args := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--quiet"}
	if got := runCLI(t, "", append(args, "--out", full, "--fail-on", "none")...); got.code != 0 {
		t.Fatalf("full run: exit %d\n%s", got.code, got.stderr)
	}
	record, err := os.ReadFile(filepath.Join(full, audit.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	runJSON, err := os.ReadFile(filepath.Join(full, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(record), "\n")
	half := strings.Join(lines[:30], "")
	for _, tc := range []struct {
		name     string
		record   string
		previous bool
		noRun    bool
	}{
		{name: "torn last line", record: half + lines[30][:len(lines[30])/2]},
		{name: "clean cut", record: half},
		{name: "torn last line, previous", record: half + lines[30][:len(lines[30])/2], previous: true},
		// Without run.json only the torn line shows it was cut short.
		{name: "torn last line, no run.json", record: half + lines[30][:len(lines[30])/2], noRun: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			base, out := filepath.Join(root, "a-base"), filepath.Join(root, "b-now")
			os.MkdirAll(base, 0o777)
			if err := os.WriteFile(filepath.Join(base, audit.ResultsFile), []byte(tc.record), 0o644); err != nil {
				t.Fatal(err)
			}
			if !tc.noRun {
				if err := os.WriteFile(filepath.Join(base, audit.RunFile), runJSON, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			named := base
			if tc.previous {
				named = "previous"
			}
			got := runCLI(t, "", append(args, "--out", out, "--baseline", named, "--fail-on", "new")...)
			if got.code != 0 {
				t.Errorf("exit %d, want 0: the fleet did not change\n%s", got.code, got.stderr)
			}
			ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
			if err != nil {
				t.Fatal(err)
			}
			if ri.Changes == nil || !ri.Changes.BaselineIncomplete || ri.Changes.Counts[audit.NewInstance] != 0 || ri.Changes.Counts[audit.NewFailure] != 0 {
				t.Errorf("run.json changes = %+v, want baseline_incomplete and no new instance or failure", ri.Changes)
			}
			if !strings.Contains(got.stderr, "warning: --baseline "+filepath.Join(base, audit.ResultsFile)) {
				t.Errorf("no warning names the incomplete baseline:\n%s", got.stderr)
			}
		})
	}
}

// TestPreviousSkipsACutShortRun: --baseline previous promises the latest
// whole run; one whose run.json says whole but whose record was cut short
// (by hand, or a torn last line) is passed over, with a warning, for the
// whole one before it, rather than compared with as an incomplete one.
func TestPreviousSkipsACutShortRun(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids, url, _ := scheduledFleet(t, 30)
	root := t.TempDir()
	mon, tue, wed := filepath.Join(root, "mon"), filepath.Join(root, "tue"), filepath.Join(root, "wed")
	args := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--fail-on", "none", "--quiet", "--baseline", "previous"}
	for _, dir := range []string{mon, tue} {
		if got := runCLI(t, "", append(args, "--out", dir)...); got.code != 0 {
			t.Fatalf("%s: exit %d\n%s", dir, got.code, got.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	record := filepath.Join(tue, audit.ResultsFile)
	b, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	if err := os.WriteFile(record, []byte(strings.Join(lines[:10], "")), 0o644); err != nil {
		t.Fatal(err)
	}
	got := runCLI(t, "", append(args, "--out", wed)...)
	if got.code != 0 || !strings.Contains(got.stderr, "skipped "+tue) {
		t.Errorf("exit %d, want 0 and a warning that skips %s\n%s", got.code, tue, got.stderr)
	}
	if base, want := baselineIn(t, wed), filepath.Join(mon, "results.jsonl"); base != want {
		t.Errorf("compared with %q, want the whole run before the cut one, %q", base, want)
	}
}

// TestPreviousDatedAhead: --baseline previous passed over, in silence, a
// run whose run.json says it started after this run did (dated a day
// ahead: a clock ahead where it ran, or behind here), and compared with
// an older one. It still compares with the older one, and names the run
// passed over and why.
func TestPreviousDatedAhead(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	root := t.TempDir()
	args := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--baseline", "previous", "--quiet"}
	for _, week := range []string{"week1", "week2"} {
		if got := runCLI(t, "", append(args, "--out", filepath.Join(root, week))...); got.code != 1 {
			t.Fatalf("%s: exit %d\n%s", week, got.code, got.stderr)
		}
	}
	ahead := filepath.Join(root, "week2")
	ri, err := audit.ReadRunInfo(filepath.Join(ahead, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	ri.StartedAt = time.Now().Add(24 * time.Hour).UTC()
	ri.EndedAt = ri.StartedAt.Add(time.Second)
	if err := writeJSON(filepath.Join(ahead, audit.RunFile), ri); err != nil {
		t.Fatal(err)
	}
	got := runCLI(t, "", append(args, "--out", filepath.Join(root, "week3"))...)
	if got.code != 1 {
		t.Fatalf("week3: exit %d\n%s", got.code, got.stderr)
	}
	if b := baselineIn(t, filepath.Join(root, "week3")); filepath.Dir(b) != filepath.Join(root, "week1") {
		t.Errorf("week3 compared with %q, want week1's record", b)
	}
	if !strings.Contains(got.stderr, "warning") || !strings.Contains(got.stderr, ahead) || !strings.Contains(got.stderr, "clock") {
		t.Errorf("stderr does not warn of %s, dated after this run's start, nor say why it was passed over:\n%s", ahead, got.stderr)
	}
}

// TestPreviousRunsAhead: of the runs beside --out that started after this
// one, those that started while it waited to be resumed are left out in
// silence; one dated after the present, by a clock that is not this
// machine's, is named to warn of.
func TestPreviousRunsAhead(t *testing.T) {
	root := t.TempDir()
	now := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	started := now.Add(-48 * time.Hour) // a resume's first attempt
	mk := func(name string, at time.Time) string {
		dir := filepath.Join(root, name)
		os.MkdirAll(dir, 0o777)
		os.WriteFile(filepath.Join(dir, audit.ResultsFile), []byte("{}\n"), 0o644)
		if err := writeJSON(filepath.Join(dir, audit.RunFile), audit.RunInfo{Schema: audit.Schema, StartedAt: at, Complete: true}); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	before := mk("a-before", started.Add(-7*24*time.Hour))
	mk("b-while-waiting", started.Add(24*time.Hour))
	ahead := mk("c-ahead", now.Add(time.Hour))
	found, err := previousRuns(filepath.Join(root, "resumed"), started, now, audit.RunInfo{})
	if err != nil || !slices.Equal(found.dirs, []string{before}) || !slices.Equal(found.ahead, []string{ahead}) {
		t.Errorf("previousRuns = %q, ahead %q, %v; want %q, ahead %q", found.dirs, found.ahead, err, before, ahead)
	}
}

// TestPreviousRunsOnlyKilled: the first run of a schedule, killed before
// it wrote its run.json, is the only run beside the next one's --out: no
// baseline to compare with, and the killed run named as unfinished, so
// that the warning says why none was used.
func TestPreviousRunsOnlyKilled(t *testing.T) {
	root := t.TempDir()
	now := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	killed := filepath.Join(root, "a-killed")
	if err := os.MkdirAll(killed, 0o777); err != nil {
		t.Fatal(err)
	}
	results := filepath.Join(killed, audit.ResultsFile)
	if err := os.WriteFile(results, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(results, now.Add(-7*24*time.Hour), now.Add(-7*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	found, err := previousRuns(filepath.Join(root, "b-now"), now, now, audit.RunInfo{})
	if err != nil || len(found.dirs) != 0 || !slices.Equal(found.unfinished, []string{killed}) {
		t.Errorf("previousRuns = %q, unfinished %q, %v; want none, and %s unfinished", found.dirs, found.unfinished, err, killed)
	}
}

// TestBaselineOfAnotherAccount: a --baseline named on the command line that
// audited another account was compared without a word, every instance of
// one account new and every one of the other gone; it is refused (exit 2),
// before any association is asked of SSM, by run and by report alike,
// naming both accounts.
func TestBaselineOfAnotherAccount(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 21, Size: 30})
	var b bytes.Buffer
	fleet.WriteIDs(&b)
	root := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"a list", []string{"--instances", "-"}},
		{"discovery", []string{"--discover"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := func(account, out string, more ...string) (cliResult, *ssmsim.Server) {
				t.Helper()
				url, srv := serve(t, fleet, ssmsim.Options{AccountID: account})
				args := append([]string{"run", "--endpoint-url", url, "--region", "us-east-1", "--quiet", "--out", filepath.Join(root, tc.name, out)}, tc.args...)
				return runCLI(t, b.String(), append(args, more...)...), srv
			}
			if got, _ := run("111111111111", "prod", "--fail-on", "none"); got.code != 0 {
				t.Fatalf("prod: exit %d\n%s", got.code, got.stderr)
			}
			prod := filepath.Join(root, tc.name, "prod")
			got, srv := run("222222222222", "dev", "--fail-on", "new", "--baseline", prod)
			if got.code != 2 {
				t.Errorf("run with a --baseline of another account: exit %d, want 2\n%s", got.code, got.stderr)
			}
			if !strings.Contains(got.stderr, "111111111111") || !strings.Contains(got.stderr, "222222222222") {
				t.Errorf("the refusal does not name both accounts:\n%s", got.stderr)
			}
			for _, op := range []string{"DescribeInstanceAssociationsStatus", "DescribeInstanceInformation"} {
				if n := srv.Stats().Calls[op]; n > 0 {
					t.Errorf("%d %s calls before the refusal", n, op)
				}
			}

			dev := filepath.Join(root, tc.name, "dev-1")
			if got, _ := run("222222222222", "dev-1", "--fail-on", "none"); got.code != 0 {
				t.Fatalf("dev-1: exit %d\n%s", got.code, got.stderr)
			}
			rep := runCLI(t, "", "report", filepath.Join(dev, audit.ResultsFile), "--out", filepath.Join(root, tc.name, "r1"), "--baseline", prod, "--fail-on", "none", "--quiet")
			if rep.code != 2 {
				t.Errorf("report with a --baseline of another account: exit %d, want 2\n%s", rep.code, rep.stderr)
			}
			if !strings.Contains(rep.stderr, "111111111111") || !strings.Contains(rep.stderr, "222222222222") {
				t.Errorf("the report's refusal does not name both accounts:\n%s", rep.stderr)
			}
			// Refused, it leaves nothing behind: not even the empty
			// --out with a lock in it that it made.
			if _, err := os.Lstat(filepath.Join(root, tc.name, "r1")); err == nil {
				t.Errorf("the refused report left its --out behind")
			}
			// But a directory the user made for it is the user's: kept.
			premade := filepath.Join(root, tc.name, "premade")
			if err := os.Mkdir(premade, 0o750); err != nil {
				t.Fatal(err)
			}
			if rep := runCLI(t, "", "report", filepath.Join(dev, audit.ResultsFile), "--out", premade, "--baseline", prod, "--fail-on", "none", "--quiet"); rep.code != 2 {
				t.Errorf("report into a directory made for it, with a --baseline of another account: exit %d, want 2\n%s", rep.code, rep.stderr)
			}
			if st, err := os.Stat(premade); err != nil || st.Mode().Perm() != 0o750 {
				t.Errorf("the directory the user made for the report: %v; want it kept as it was", err)
			}
			// The same account's run is still its baseline.
			if got, _ := run("111111111111", "prod-2", "--fail-on", "none", "--baseline", prod); got.code != 0 {
				t.Errorf("a --baseline of the same account: exit %d\n%s", got.code, got.stderr)
			}
		})
	}
}

// TestDiscoveryScopeIsResolved: the scope of a discovery run was the text
// of --accounts and --regions, so that runs of two regions (each --region
// alone) were one list: --baseline previous compared eu-west-1 with
// us-east-1, and a merge of the two counted the targets of one. The scope
// names the account and regions audited.
func TestDiscoveryScopeIsResolved(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 21, Size: 30})
	root := t.TempDir()
	run := func(account, region, out string) cliResult {
		t.Helper()
		url, _ := serve(t, fleet, ssmsim.Options{AccountID: account})
		got := runCLI(t, "", "run", "--discover", "--endpoint-url", url, "--region", region,
			"--fail-on", "none", "--quiet", "--out", filepath.Join(root, out), "--baseline", "previous")
		if got.code != 0 {
			t.Fatalf("%s: exit %d\n%s", out, got.code, got.stderr)
		}
		return got
	}
	run("111111111111", "us-east-1", "b")
	time.Sleep(10 * time.Millisecond)
	got := run("111111111111", "eu-west-1", "d")
	if base := baselineIn(t, filepath.Join(root, "d")); base != "" {
		t.Errorf("a discovery of eu-west-1 compared with %s, one of us-east-1", base)
	}
	if !strings.Contains(got.stderr, "another list") {
		t.Errorf("no warning that the run beside it audited another list:\n%s", got.stderr)
	}
	time.Sleep(10 * time.Millisecond)
	run("111111111111", "us-east-1", "e")
	if base := baselineIn(t, filepath.Join(root, "e")); base != filepath.Join(root, "b", audit.ResultsFile) {
		t.Errorf("a discovery of us-east-1 compared with %q, want the one before of us-east-1, b", base)
	}

	merged := filepath.Join(root, "m")
	if got := runCLI(t, "", "report", filepath.Join(root, "b", audit.ResultsFile), filepath.Join(root, "d", audit.ResultsFile),
		"--out", merged, "--fail-on", "none", "--quiet"); got.code != 0 {
		t.Fatalf("merge: exit %d\n%s", got.code, got.stderr)
	}
	ri, err := audit.ReadRunInfo(filepath.Join(merged, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	var want int
	for _, dir := range []string{"b", "d"} {
		one, err := audit.ReadRunInfo(filepath.Join(root, dir, audit.RunFile))
		if err != nil {
			t.Fatal(err)
		}
		want += one.Targets
	}
	if len(ri.Parts) != 2 || ri.Targets != want {
		t.Errorf("the merge of two regions' discoveries has %d parts and %d targets, want 2 and %d: %+v", len(ri.Parts), ri.Targets, want, ri.Parts)
	}
}
