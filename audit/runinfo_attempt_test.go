package audit_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
)

// TestRunInfoMismatchAttempt: another run's run.json put beside a record
// was taken for its own when it had as many targets and named its
// accounts: the reports said that run's start, while every line said it
// was read by an attempt that run never made. A line's attempt_started_at
// that is not among run.json's attempt starts is told now; lines that say
// none (written before lines kept it), a run.json without attempts (its
// start stands for them), a resume's, a merge's (the union of its
// inputs') and one that cannot know its starts are not.
func TestRunInfoMismatchAttempt(t *testing.T) {
	const acct = "123456789012"
	start := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	other := start.Add(-2 * time.Hour)
	run := func(attempts ...time.Time) audit.RunInfo {
		return audit.RunInfo{Schema: audit.Schema, StartedAt: start, Attempts: attempts, Targets: 4, Caller: acct,
			Parts: []audit.Part{{Fleet: "f", List: "l", Targets: 4}},
			Sites: []audit.SiteStats{{AccountID: acct, Region: "us-east-1"}}}
	}
	rows := func(at ...time.Time) []audit.Result {
		var out []audit.Result
		for i, a := range at {
			r := result(acct, "us-east-1", "i-0123456789abcdef"+string(rune('0'+i)), audit.OutcomeCompliant)
			r.AttemptStartedAt = a
			if !a.IsZero() {
				r.AuditedAt = a.Add(time.Minute)
			}
			out = append(out, r)
		}
		return out
	}
	resumed := run(start, start.Add(time.Hour))
	resumed.Resumed = 2
	merged := run(other, start)
	merged.Parts = append(merged.Parts, audit.Part{Fleet: "g", List: "l2", Targets: 2})
	merged.Rendered = &audit.Rendering{Inputs: 2}
	noAttempts := run()
	// A merge with a record that no run.json describes: its lines' starts
	// are not among the merge's, and its targets are unknown.
	undescribed := run(start)
	undescribed.Targets = 0
	undescribed.Error = "no run.json beside x: completeness unknown"
	startUnknown := run()
	startUnknown.StartedAt = time.Time{}
	for _, tt := range []struct {
		name string
		ri   audit.RunInfo
		rows []audit.Result
		want string // "" when it may be the record's
	}{
		{"its own", run(start), rows(start, start, start, start), ""},
		{"another run's", run(start), rows(other, other, other, other), "2026-11-20T08:00:00Z"},
		{"one line of another run", run(start), rows(start, start, other), "2026-11-20T08:00:00Z"},
		{"lines that say no attempt", run(start), rows(time.Time{}, time.Time{}), ""},
		{"without attempts: its start", noAttempts, rows(start, start), ""},
		{"without attempts, another start", noAttempts, rows(other, other), "2026-11-20T08:00:00Z"},
		{"resumed", resumed, rows(start, start.Add(time.Hour), start), ""},
		{"resumed, an attempt it does not name", resumed, rows(start, start.Add(2*time.Hour)), "2026-11-20T12:00:00Z"},
		{"a merge: the union of its inputs' attempts", merged, rows(other, start, start), ""},
		{"a merge with a record without run.json", undescribed, rows(other, start), ""},
		{"start unknown", startUnknown, rows(other), ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), audit.ResultsFile)
			writeRecord(t, p, tt.rows...)
			rs, err := audit.OpenRecords(p)
			if err != nil {
				t.Fatal(err)
			}
			defer rs.Close()
			got := tt.ri.Mismatch(rs.Input(0))
			switch {
			case tt.want == "" && got != "":
				t.Errorf("Mismatch: %q, want none", got)
			case tt.want != "" && !strings.Contains(got, tt.want):
				t.Errorf("Mismatch: %q, want it to say %q", got, tt.want)
			}
		})
	}
}

