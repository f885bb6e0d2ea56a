package audit_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
)

// TestFirstSeenThroughAPartialBaseline: a run compared with an interrupted
// run (--baseline DIR naming it) dated every failure of the instances the
// interrupted run never reached from its own start, since its baseline
// lacked them: a failure first seen on day 1 was first seen on day 15, and
// every run after it said so, for good. The instances a partial baseline
// lacks carry their dates from the baseline it was itself compared with
// (its run.json's), and so on back; one whose baseline is gone dates them
// as before.
func TestFirstSeenThroughAPartialBaseline(t *testing.T) {
	day := func(n int) time.Time { return time.Date(2026, 11, n, 3, 0, 0, 0, time.UTC) }
	failing := func(id string, d time.Time) audit.Result {
		r := result("111122223333", "us-east-1", id, audit.OutcomeNoncompliant)
		r.AuditedAt = d
		return r
	}
	root := t.TempDir()
	baseStart := func(dir string) time.Time {
		ri, err := audit.ReadRunInfo(filepath.Join(dir, audit.RunFile))
		if err != nil {
			t.Fatal(err)
		}
		return ri.StartedAt
	}
	// run writes the run of name with rs, carried from base ("" for none),
	// and its run.json: interrupted, and naming base as --baseline does.
	run := func(name, base string, interrupted bool, rs ...audit.Result) string {
		dir := filepath.Join(root, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		ri := map[string]any{"schema": 1, "started_at": rs[0].AuditedAt, "targets": 2, "interrupted": interrupted}
		if base != "" {
			b, err := audit.OpenBaseline(base)
			if err != nil {
				t.Fatal(err)
			}
			for i := range rs {
				b.Carry(&rs[i])
			}
			b.Close()
			rel, err := filepath.Rel(dir, filepath.Join(base, audit.ResultsFile))
			if err != nil {
				t.Fatal(err)
			}
			ri["changes"] = map[string]any{"baseline": base, "baseline_from_run": rel, "since": baseStart(base)}
		}
		writeRecord(t, filepath.Join(dir, audit.ResultsFile), rs...)
		b, err := json.Marshal(ri)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, audit.RunFile), b, 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	since := func(dir, id string) time.Time {
		t.Helper()
		for _, r := range readAll(t, filepath.Join(dir, audit.ResultsFile)) {
			if r.InstanceID == id && len(r.Associations) > 0 && r.Associations[0].FirstSeenFailing != nil {
				return *r.Associations[0].FirstSeenFailing
			}
		}
		t.Fatalf("%s: no failure of %s", dir, id)
		return time.Time{}
	}
	// A run.json that names another record than the one it was compared
	// with (a directory renamed since: its path is relative) or itself
	// gives nothing: that record's dates are another run's.
	renamed := func(name, base string, since time.Time, rs ...audit.Result) string {
		dir := filepath.Join(root, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, filepath.Join(base, audit.ResultsFile))
		b, _ := json.Marshal(map[string]any{"schema": 1, "started_at": rs[0].AuditedAt, "targets": 2, "interrupted": true,
			"changes": map[string]any{"baseline": base, "baseline_from_run": rel, "since": since}})
		writeRecord(t, filepath.Join(dir, audit.ResultsFile), rs...)
		if err := os.WriteFile(filepath.Join(dir, audit.RunFile), b, 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	w1 := run("w1", "", false, failing("i-00000001", day(1)), failing("i-00000002", day(1)))
	// Interrupted after one instance of two, twice in a row.
	w2 := run("w2", w1, true, failing("i-00000001", day(8)))
	w3 := run("w3", w2, true, failing("i-00000001", day(15)))
	w4 := run("w4", w3, false, failing("i-00000001", day(22)), failing("i-00000002", day(22)))
	for _, id := range []string{"i-00000001", "i-00000002"} {
		if got := since(w4, id); !got.Equal(day(1)) {
			t.Errorf("%s: first seen failing %v, want day 1", id, got)
		}
	}
	// The week after compares with the whole run of day 22, which kept it.
	w5 := run("w5", w4, false, failing("i-00000002", day(29)))
	if got := since(w5, "i-00000002"); !got.Equal(day(1)) {
		t.Errorf("the week after: first seen failing %v, want day 1", got)
	}
	other := run("other", "", false, failing("i-00000001", day(2)), failing("i-00000002", day(2)))
	moved := renamed("moved", other, day(1), failing("i-00000001", day(9)))
	if got := since(run("after-moved", moved, false, failing("i-00000002", day(16))), "i-00000002"); !got.Equal(day(16)) {
		t.Errorf("its baseline's path now another run's: first seen failing %v, want its own day 16", got)
	}
	self := filepath.Join(root, "self")
	renamed("self", self, day(10), failing("i-00000001", day(10)))
	if got := since(run("after-self", self, false, failing("i-00000002", day(17))), "i-00000002"); !got.Equal(day(17)) {
		t.Errorf("its run.json names itself: first seen failing %v, want its own day 17", got)
	}
	// A partial baseline whose own baseline is gone: as before, from the
	// run's own time, and no error.
	if err := os.RemoveAll(w1); err != nil {
		t.Fatal(err)
	}
	w6 := run("w6", w2, false, failing("i-00000002", day(36)))
	if got := since(w6, "i-00000002"); !got.Equal(day(36)) {
		t.Errorf("its baseline's baseline gone: first seen failing %v, want its own day 36", got)
	}
}
