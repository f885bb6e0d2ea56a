package audit_test

import (
	"slices"

	"fmt"
	"time"

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

// two is instance i-00000001 on day d with associations a1 and a2 in the
// statuses given ("-": missing), its outcome following from them.
func two(d time.Time, s1, s2 string) audit.Result {
	r := one(d, audit.StatusSuccess, "")
	row := r.Associations[0]
	r.Associations = nil
	for i, s := range []string{s1, s2} {
		if s == "-" {
			continue
		}
		a := row
		a.AssociationID, a.Status = fmt.Sprintf("a%d", i+1), s
		if s == audit.StatusFailed {
			a.ErrorCode = "ExecutionError"
			r.Outcome = audit.OutcomeNoncompliant
		}
		r.Associations = append(r.Associations, a)
	}
	return r
}

// TestDeletedAssociationThroughAnErrorRun: an association deleted while
// failing was reported gone, its failure carried for a run (absent); the
// instance in error the week after carried it on; the run after that
// reported it gone a second time, or resolved with triage, though it was
// still missing. A failure carried absent is a change only if its
// association is back.
func TestDeletedAssociationThroughAnErrorRun(t *testing.T) {
	overview := one(day(22), audit.StatusSuccess, "")
	overview.Associations, overview.Detail = nil, audit.DetailOverview
	overview.Info = &audit.InstanceInfo{AssociationOverview: &audit.AssociationOverview{InstanceAssociationStatusAggregatedCount: map[string]int{audit.StatusSuccess: 1}}}
	for _, tc := range []struct {
		name string
		last audit.Result
		want audit.ChangeCounts // of the kinds present
	}{
		{"still missing", two(day(22), "-", audit.StatusSuccess), audit.ChangeCounts{}},
		{"triage overview", overview, audit.ChangeCounts{}},
		{"back and Failed", two(day(22), audit.StatusFailed, audit.StatusSuccess),
			audit.ChangeCounts{audit.StillFailing: 1, audit.NewAssociation: 1}},
		{"back and Success", two(day(22), audit.StatusSuccess, audit.StatusSuccess),
			audit.ChangeCounts{audit.Resolved: 1, audit.NewAssociation: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			week := weeks(t)
			w1, _ := week("w1", "", two(day(1), audit.StatusFailed, audit.StatusSuccess))
			w2, c2 := week("w2", w1, two(day(8), "-", audit.StatusSuccess))
			if n := count(c2); n[audit.VanishedAssociation] != 1 {
				t.Fatalf("the week it was deleted: changes %v, want one vanished_association", n)
			}
			w3, _ := week("w3", w2, inError(day(15)))
			_, got := week("w4", w3, tc.last)
			n := count(got)
			for k, v := range n {
				if tc.want[k] != v {
					t.Errorf("changes %v, want %v", n, tc.want)
					break
				}
			}
			for k, v := range tc.want {
				if n[k] != v {
					t.Errorf("changes %v, want %v", n, tc.want)
					break
				}
			}
		})
	}
}

// TestInErrorThenRemoved: an instance in error, then removed from the
// list, was counted not compared (error in one run), though this run does
// not hold it: it is gone, as without the error run.
func TestInErrorThenRemoved(t *testing.T) {
	other := one(day(8), audit.StatusSuccess, "")
	other.InstanceID = "i-00000002"
	res, got := compareResults(t, []audit.Result{inError(day(1))}, []audit.Result{other})
	if res.NotCompared.Error != 0 {
		t.Errorf("not compared for an error: %d, want 0", res.NotCompared.Error)
	}
	if i := slices.IndexFunc(got, func(c audit.Change) bool { return c.InstanceID == "i-00000001" }); i < 0 || got[i].Kind != audit.VanishedInstance {
		t.Errorf("changes %v, want i-00000001 vanished_instance", count(got))
	}
}

// TestStatusBeforeOfALastKnownFailure: after a run in error whose partial
// row showed Success (reported to no one), the failure last known was
// resolved "Success, Success" or still failing "Success, Failed": what
// was known before is the failure the last compared run reported.
func TestStatusBeforeOfALastKnownFailure(t *testing.T) {
	successRow := one(day(8), audit.StatusSuccess, "").Associations[0]
	for _, tc := range []struct {
		name    string
		between audit.Result
		last    audit.Result
		want    audit.ChangeKind
	}{
		{"Success row, Success", inError(day(8), successRow), one(day(15), audit.StatusSuccess, ""), audit.Resolved},
		{"Success row, Failed", inError(day(8), successRow), one(day(15), audit.StatusFailed, "ExecutionError"), audit.StillFailing},
		{"no row, Success", inError(day(8)), one(day(15), audit.StatusSuccess, ""), audit.Resolved},
		{"no row, Failed", inError(day(8)), one(day(15), audit.StatusFailed, "ExecutionError"), audit.StillFailing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			week := weeks(t)
			w1, _ := week("w1", "", one(day(1), audit.StatusFailed, "ExecutionError"))
			w2, _ := week("w2", w1, tc.between)
			_, got := week("w3", w2, tc.last)
			if len(got) != 1 || got[0].Kind != tc.want {
				t.Fatalf("changes %v, want %s alone", count(got), tc.want)
			}
			if got[0].Before != audit.StatusFailed {
				t.Errorf("status before %q, want Failed", got[0].Before)
			}
		})
	}
}

// TestUnreportedFailureThatSucceeds: a failure first seen in a run in
// error, then Pending (carried, unreported), that succeeds at the next
// compared run was reported resolved, though no one was told it failed.
// It is no change.
func TestUnreportedFailureThatSucceeds(t *testing.T) {
	failedRow := one(day(8), audit.StatusFailed, "ExecutionError").Associations[0]
	week := weeks(t)
	w1, _ := week("w1", "", one(day(1), audit.StatusSuccess, ""))
	w2, _ := week("w2", w1, inError(day(8), failedRow))
	w3, _ := week("w3", w2, one(day(15), audit.StatusPending, ""))
	overview := one(day(22), audit.StatusSuccess, "")
	overview.Associations, overview.Detail = nil, audit.DetailOverview
	overview.Info = &audit.InstanceInfo{AssociationOverview: &audit.AssociationOverview{InstanceAssociationStatusAggregatedCount: map[string]int{audit.StatusSuccess: 1}}}
	for _, now := range []audit.Result{one(day(22), audit.StatusSuccess, ""), overview} {
		_, got := week("w4-"+string(now.Detail), w3, now)
		if n := count(got); n[audit.Resolved] != 0 {
			t.Errorf("%s: changes %v, want no resolved: the failure was never reported", now.Detail, n)
		}
	}
}
