package audit_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
)

// TestTriageFetchesWhatTheOverviewCannotVouchFor: an overview counts as all
// succeeded only when it counts at least one association and every one
// Success, and with TriageSince only when its newest success is dated and
// recent; any other is fetched in full, as TestTriage's are.
func TestTriageFetchesWhatTheOverviewCannotVouchFor(t *testing.T) {
	now := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	recent := now.Add(-time.Hour)
	ok := &audit.AssociationOverview{InstanceAssociationStatusAggregatedCount: map[string]int{"Success": 3}}
	zero := &audit.AssociationOverview{InstanceAssociationStatusAggregatedCount: map[string]int{"Success": 0, "Failed": 0}}
	tests := []struct {
		name  string
		info  *audit.InstanceInfo
		since time.Time
	}{
		{"counts all zero", &audit.InstanceInfo{AssociationStatus: "Success", AssociationOverview: zero, LastSuccessfulAssociationExecutionDate: &recent}, now.Add(-7 * 24 * time.Hour)},
		{"counts all zero, no TriageSince", &audit.InstanceInfo{AssociationStatus: "Success", AssociationOverview: zero, LastSuccessfulAssociationExecutionDate: &recent}, time.Time{}},
		{"all succeeded, no last success date", &audit.InstanceInfo{AssociationStatus: "Success", AssociationOverview: ok}, now.Add(-7 * 24 * time.Hour)},
		// The counts say Success, and the overview's own status or the
		// node's says otherwise: the fields disagree, and only the
		// associations' details can tell which is right.
		{"counts succeeded, the node's status Failed", &audit.InstanceInfo{AssociationStatus: "Failed", AssociationOverview: ok, LastSuccessfulAssociationExecutionDate: &recent}, time.Time{}},
		{"counts succeeded, the overview's status Failed", &audit.InstanceInfo{AssociationStatus: "Success",
			AssociationOverview:                    &audit.AssociationOverview{DetailedStatus: "Failed", InstanceAssociationStatusAggregatedCount: map[string]int{"Success": 3}},
			LastSuccessfulAssociationExecutionDate: &recent}, time.Time{}},
		// The agent dates an execution by the node's clock: a date far
		// ahead of now vouches for nothing recent.
		{"last success in the future", &audit.InstanceInfo{AssociationStatus: "Success", AssociationOverview: ok, LastSuccessfulAssociationExecutionDate: ptrTime(now.Add(30 * 24 * time.Hour))}, now.Add(-7 * 24 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int64
			fake := pagedFake(func(string) int { calls.Add(1); return 1 }, func(string, int) string { return audit.StatusFailed })
			cfg := audit.Config{Client: func(string, string) (audit.API, error) { return fake, nil }, Region: "us-east-1",
				Triage: true, TriageSince: tt.since, Now: func() time.Time { return now }}
			got, _, err := collect(t, context.Background(), cfg, []audit.Target{{InstanceID: "i-00000001", Info: tt.info}})
			if err != nil {
				t.Fatal(err)
			}
			r := got["i-00000001"]
			if r.Outcome != audit.OutcomeNoncompliant || r.Detail != "" || calls.Load() == 0 {
				t.Errorf("outcome %s, detail %q after %d calls; want it fetched: noncompliant, no detail", r.Outcome, r.Detail, calls.Load())
			}
		})
	}
}

func ptrTime(t time.Time) *time.Time { return &t }
