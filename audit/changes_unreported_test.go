package audit_test

import (
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestFailureFirstSeenInAnErrorRun: a failure first seen in a run in
// error (not compared, so no one was told of it) was never reported new
// when the run after was in error too, not managed, or Pending: it was
// carried as any failure and still_failing when it failed again, and
// --fail-on new passed. It is carried marked unreported until a compared
// run reports it: then it is a new failure, first seen in the error run.
func TestFailureFirstSeenInAnErrorRun(t *testing.T) {
	failedRow := one(day(8), audit.StatusFailed, "ExecutionError").Associations[0]
	for _, tc := range []struct {
		name    string
		between audit.Result // the run after the error run
	}{
		{"in error", inError(day(15))},
		{"in error with its Failed row", inError(day(15), failedRow)},
		{"not managed", notManaged(day(15))},
		{"Pending", one(day(15), audit.StatusPending, "")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			week := weeks(t)
			w1, _ := week("w1", "", one(day(1), audit.StatusSuccess, ""))
			w2, _ := week("w2", w1, inError(day(8), failedRow))
			w3, _ := week("w3", w2, tc.between)
			w4, got := week("w4", w3, one(day(22), audit.StatusFailed, "ExecutionError"))
			n := count(got)
			if n[audit.NewFailure] != 1 || n[audit.StillFailing] != 0 {
				t.Fatalf("changes %v, want one new_failure", n)
			}
			for _, c := range got {
				if c.Kind == audit.NewFailure && (c.FirstSeenFailing == nil || !c.FirstSeenFailing.Equal(day(8))) {
					t.Errorf("first seen failing %v, want %v", c.FirstSeenFailing, day(8))
				}
			}
			ri := audit.RunInfo{Changes: &audit.ChangeInfo{Counts: n}}
			if f := (audit.FailOn{New: true}).Findings(ri); f != 1 {
				t.Errorf("findings of --fail-on new: %d, want 1", f)
			}
			// Reported now: still failing the week after.
			_, next := week("w5", w4, one(day(29), audit.StatusFailed, "ExecutionError"))
			if n := count(next); n[audit.StillFailing] != 1 || n[audit.NewFailure] != 0 {
				t.Errorf("the week after: changes %v, want one still_failing", n)
			}
		})
	}
}
