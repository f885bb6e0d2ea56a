package audit_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
)

// day is a day of November 2026, at 03:00 UTC.
func day(n int) time.Time { return time.Date(2026, 11, n, 3, 0, 0, 0, time.UTC) }

// one is instance i-00000001 on day d with association a1 in status (none
// when status is ""), its outcome following from it, failing with code.
func one(d time.Time, status, code string) audit.Result {
	outcome := map[string]audit.Outcome{"": audit.OutcomeNoAssociations, audit.StatusFailed: audit.OutcomeNoncompliant,
		audit.StatusPending: audit.OutcomePending, audit.StatusSuccess: audit.OutcomeCompliant}[status]
	r := result("111122223333", "us-east-1", "i-00000001", outcome)
	r.AuditedAt = d
	if status == "" {
		r.Associations = nil
		return r
	}
	r.Associations[0].Status = status
	if status == audit.StatusFailed {
		r.Associations[0].ErrorCode = code
	}
	return r
}

// inError is instance i-00000001 on day d in error, with the rows that
// arrived before it (rows, partial data).
func inError(d time.Time, rows ...audit.Association) audit.Result {
	r := result("111122223333", "us-east-1", "i-00000001", audit.OutcomeError)
	r.AuditedAt, r.Associations = d, rows
	r.Error = &audit.Error{Code: "InternalServerError", Message: "try again"}
	return r
}

// notManaged is instance i-00000001 on day d, unknown to SSM.
func notManaged(d time.Time) audit.Result {
	r := result("111122223333", "us-east-1", "i-00000001", audit.OutcomeNotManaged)
	r.AuditedAt, r.Associations = d, nil
	return r
}

func count(cs []audit.Change) audit.ChangeCounts {
	n := audit.ChangeCounts{}
	for _, c := range cs {
		n[c.Kind]++
	}
	return n
}

// compareResults writes base and cur as two records and compares them,
// returning what Compare counted and every change it reported.
func compareResults(t *testing.T, base, cur []audit.Result) (audit.Comparison, []audit.Change) {
	t.Helper()
	dir := t.TempDir()
	writeRecord(t, filepath.Join(dir, "b.jsonl"), base...)
	writeRecord(t, filepath.Join(dir, "c.jsonl"), cur...)
	b, err := audit.OpenRecords(filepath.Join(dir, "b.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	c, err := audit.OpenRecords(filepath.Join(dir, "c.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var got []audit.Change
	res, err := audit.Compare(b, c, func(ch audit.Change) error { got = append(got, ch); return nil })
	if err != nil {
		t.Fatal(err)
	}
	return res, got
}

// TestErrorBaselineIsCompared: an instance in error in the baseline hid its
// changes in the run after it for good: a failure new then was not new,
// and was still_failing the week after, never reported; one fixed then was
// never resolved. The run after an error run compares the instance with
// what was last known of it: the baseline's failures, those its error run
// carried included, with their dates.
func TestErrorBaselineIsCompared(t *testing.T) {
	failedRow := one(day(8), audit.StatusFailed, "ExecutionError").Associations[0]
	successRow := one(day(8), audit.StatusSuccess, "").Associations[0]
	for _, tc := range []struct {
		name         string
		w1, w2, w3   audit.Result
		want         audit.ChangeKind // "" for no change
		firstSeen    time.Time        // of the change, when failing now
		wantCode     string
		wantFindings int
	}{
		{"Success, error, Failed", one(day(1), audit.StatusSuccess, ""), inError(day(8)), one(day(15), audit.StatusFailed, "ExecutionError"),
			audit.NewFailure, day(15), "ExecutionError", 1},
		{"Failed, error, Success", one(day(1), audit.StatusFailed, "ExecutionError"), inError(day(8)), one(day(15), audit.StatusSuccess, ""),
			audit.Resolved, time.Time{}, "ExecutionError", 0},
		{"Failed, error, Failed", one(day(1), audit.StatusFailed, "ExecutionError"), inError(day(8)), one(day(15), audit.StatusFailed, "ExecutionError"),
			audit.StillFailing, day(1), "ExecutionError", 0},
		{"Failed, error with its Failed row, Failed", one(day(1), audit.StatusFailed, "ExecutionError"), inError(day(8), failedRow),
			one(day(15), audit.StatusFailed, "ExecutionError"), audit.StillFailing, day(1), "ExecutionError", 0},
		// First seen failing in the error run, which no one was told of.
		{"Success, error with a Failed row, Failed", one(day(1), audit.StatusSuccess, ""), inError(day(8), failedRow),
			one(day(15), audit.StatusFailed, "ExecutionError"), audit.NewFailure, day(8), "ExecutionError", 1},
		// The error run was not compared: its partial Success row was
		// reported to no one, so the run after says what changed since
		// the failure the last compared run reported.
		{"Failed, error with a Success row, Success", one(day(1), audit.StatusFailed, "ExecutionError"), inError(day(8), successRow),
			one(day(15), audit.StatusSuccess, ""), audit.Resolved, time.Time{}, "ExecutionError", 0},
		{"Failed, error with a Success row, Failed", one(day(1), audit.StatusFailed, "ExecutionError"), inError(day(8), successRow),
			one(day(15), audit.StatusFailed, "ExecutionError"), audit.StillFailing, day(1), "ExecutionError", 0},
		{"Success, error, Success", one(day(1), audit.StatusSuccess, ""), inError(day(8)), one(day(15), audit.StatusSuccess, ""),
			"", time.Time{}, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			week := weeks(t)
			w1, _ := week("w1", "", tc.w1)
			w2, _ := week("w2", w1, tc.w2)
			_, got := week("w3", w2, tc.w3)
			var kinds []audit.ChangeKind
			for _, c := range got {
				kinds = append(kinds, c.Kind)
			}
			if tc.want == "" {
				if len(got) != 0 {
					t.Fatalf("changes %v, want none", kinds)
				}
				return
			}
			if len(got) != 1 || got[0].Kind != tc.want {
				t.Fatalf("changes %v, want %s alone", kinds, tc.want)
			}
			if got[0].ErrorCode != tc.wantCode {
				t.Errorf("error code %q, want %q", got[0].ErrorCode, tc.wantCode)
			}
			if fs := got[0].FirstSeenFailing; !tc.firstSeen.IsZero() && (fs == nil || !fs.Equal(tc.firstSeen)) {
				t.Errorf("first seen failing %v, want %v", fs, tc.firstSeen)
			}
			ri := audit.RunInfo{Changes: &audit.ChangeInfo{Counts: count(got)}}
			if n := (audit.FailOn{New: true}).Findings(ri); n != tc.wantFindings {
				t.Errorf("findings of --fail-on new: %d, want %d", n, tc.wantFindings)
			}
		})
	}
}

// TestNotComparedIsCounted: an instance in error now, or in error in the
// baseline and not audited now, is left out of the comparison and
// counted, so that no one reads "0 new failures" of it.
func TestNotComparedIsCounted(t *testing.T) {
	for _, tc := range []struct {
		name string
		base []audit.Result
		cur  []audit.Result
		want int
	}{
		{"in error now", []audit.Result{one(day(1), audit.StatusSuccess, "")}, []audit.Result{inError(day(8))}, 1},
		{"in error in both", []audit.Result{inError(day(1))}, []audit.Result{inError(day(8))}, 1},
		{"in error then, not managed now", []audit.Result{inError(day(1))}, []audit.Result{notManaged(day(8))}, 1},
		{"in error then, audited now", []audit.Result{inError(day(1))}, []audit.Result{one(day(8), audit.StatusSuccess, "")}, 0},
		{"audited in both", []audit.Result{one(day(1), audit.StatusSuccess, "")}, []audit.Result{one(day(8), audit.StatusFailed, "X")}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, _ := compareResults(t, tc.base, tc.cur)
			if got := res.NotCompared.Error; got != tc.want {
				t.Errorf("not compared for an error: %d, want %d", got, tc.want)
			}
		})
	}
}

// TestFailureThroughANotManagedRun: a failure of weeks, its instance not
// managed for a week (agent offline, deregistered), failing again with the
// same association: it was "1 new failure", first seen that week, and
// failed --fail-on new. Not managed is no verdict: the failure is carried
// and still failing since it was first seen. An association missing for a
// week (deleted and put back with its ID) is carried for that one run, no
// longer, so that a deleted association's failure is not kept for ever.
func TestFailureThroughANotManagedRun(t *testing.T) {
	failed := func(d time.Time) audit.Result { return one(d, audit.StatusFailed, "ExecutionError") }
	for _, tc := range []struct {
		name      string
		between   []audit.Result // the weeks between the failures
		want      audit.ChangeKind
		firstSeen time.Time
	}{
		{"not managed", []audit.Result{notManaged(day(8))}, audit.StillFailing, day(1)},
		{"not managed twice", []audit.Result{notManaged(day(8)), notManaged(day(15))}, audit.StillFailing, day(1)},
		{"no associations", []audit.Result{one(day(8), "", "")}, audit.StillFailing, day(1)},
		{"no associations twice", []audit.Result{one(day(8), "", ""), one(day(15), "", "")}, audit.NewFailure, day(22)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			week := weeks(t)
			prev, _ := week("w0", "", failed(day(1)))
			for i, r := range tc.between {
				prev, _ = week(fmt.Sprintf("w%d", i+1), prev, r)
			}
			last, got := week("last", prev, failed(day(22)))
			n := count(got)
			if n[tc.want] != 1 || n[audit.NewFailure]+n[audit.StillFailing] != 1 {
				t.Errorf("changes %v, want one %s", n, tc.want)
			}
			for _, c := range got {
				if c.Kind == tc.want && (c.FirstSeenFailing == nil || !c.FirstSeenFailing.Equal(tc.firstSeen)) {
					t.Errorf("%s first seen failing %v, want %v", c.Kind, c.FirstSeenFailing, tc.firstSeen)
				}
			}
			if fs := readAll(t, last)[0].Associations[0].FirstSeenFailing; fs == nil || !fs.Equal(tc.firstSeen) {
				t.Errorf("the record's first_seen_failing %v, want %v", fs, tc.firstSeen)
			}
		})
	}
}

// TestErrorCodeChange: a failure whose error code changed (ExecutionError
// to TimedOut) read as the same failure: the change carried only the code
// now. It carries the earlier code too, is counted, and stays
// still_failing: not a new failure.
func TestErrorCodeChange(t *testing.T) {
	week := weeks(t)
	w1, _ := week("w1", "", one(day(1), audit.StatusFailed, "ExecutionError"))
	_, got := week("w2", w1, one(day(8), audit.StatusFailed, "TimedOut"))
	if len(got) != 1 || got[0].Kind != audit.StillFailing {
		t.Fatalf("changes %v, want one still_failing", count(got))
	}
	if got[0].ErrorCode != "TimedOut" || got[0].ErrorCodeBefore != "ExecutionError" {
		t.Errorf("error code %q, before %q; want TimedOut, before ExecutionError", got[0].ErrorCode, got[0].ErrorCodeBefore)
	}
	// Counted as such by Compare.
	res, _ := compareResults(t, []audit.Result{one(day(1), audit.StatusFailed, "ExecutionError")}, []audit.Result{one(day(8), audit.StatusFailed, "TimedOut")})
	if res.ErrorCodeChanged != 1 || res.Counts[audit.NewFailure] != 0 {
		t.Errorf("error codes changed %d, new failures %d; want 1, 0", res.ErrorCodeChanged, res.Counts[audit.NewFailure])
	}
	// The same code: nothing changed.
	_, same := week("w3", w1, one(day(8), audit.StatusFailed, "ExecutionError"))
	if len(same) != 1 || same[0].ErrorCodeBefore != "ExecutionError" || same[0].ErrorCode != "ExecutionError" {
		t.Errorf("the same code: %+v", same)
	}
}
