package report_test

import (
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
)

// TestChangeSummary: the few words that say what changed name every kind
// of change there was, associations come or gone too (a mail sent for an
// association deleted said "0 new failures, 0 resolved" and nothing else),
// the baseline's date with its zone (as the run compared with, never
// "still failing since" it), the caveat of a partial run, and the
// instances left out (in error in one run): "0 new failures" alone was said
// of a run where they could not be compared.
func TestChangeSummary(t *testing.T) {
	since := time.Date(2026, 11, 25, 23, 30, 0, 0, time.UTC)
	tests := []struct {
		name    string
		res     audit.Comparison
		partial bool
		want    []string
		not     []string
	}{
		{"an association gone", audit.Comparison{Counts: audit.ChangeCounts{audit.VanishedAssociation: 1}}, false,
			[]string{"0 new failures", "0 resolved", "1 association gone", "compared with the run of 2026-11-25 23:30:00 UTC"}, []string{"among", "not compared", " since "}},
		// "40 still failing since DATE" read as failing since the
		// baseline's date, where first_seen_failing may be months before.
		{"still failing", audit.Comparison{Counts: audit.ChangeCounts{audit.StillFailing: 40}}, false,
			[]string{"40 still failing", "compared with the run of 2026-11-25 23:30:00 UTC"}, []string{" since "}},
		{"every kind", audit.Comparison{Counts: audit.ChangeCounts{audit.NewFailure: 2, audit.Resolved: 3, audit.StillFailing: 4, audit.NewInstance: 1,
			audit.VanishedInstance: 5, audit.NewAssociation: 6, audit.VanishedAssociation: 7}}, true,
			[]string{"2 new failures", "3 resolved", "4 still failing", "1 new instance", "5 instances gone", "6 new associations", "7 associations gone", "among the instances both runs audited"}, nil},
		{"instances in error", audit.Comparison{Counts: audit.ChangeCounts{}, NotCompared: audit.NotCompared{Error: 2}}, false,
			[]string{"0 new failures", "2 not compared (error in one run)"}, nil},
		// One instance of another shard is as much left out as many.
		{"one of another shard", audit.Comparison{Counts: audit.ChangeCounts{}, NotCompared: audit.NotCompared{OtherShard: 1}}, false,
			[]string{"0 new failures", "1 not compared (another shard)"}, []string{"error in one run"}},
		{"in error and of another shard", audit.Comparison{Counts: audit.ChangeCounts{}, NotCompared: audit.NotCompared{Error: 2, OtherShard: 3}}, false,
			[]string{"2 not compared (error in one run)", "3 not compared (another shard)"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := report.ChangeSummary(tt.res, &since, tt.partial, false)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("%q: want %q", got, w)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(got, w) {
					t.Errorf("%q: want no %q", got, w)
				}
			}
		})
	}
}

// TestChangeBrief: a subject's few words say every instance left out of
// the comparison, whichever way (in error in one run, or of another
// shard), so that "0 new failures" is never said of them unqualified.
func TestChangeBrief(t *testing.T) {
	tests := []struct {
		name            string
		res             audit.Comparison
		partialBaseline bool
		want            string
	}{
		{"nothing left out", audit.Comparison{Counts: audit.ChangeCounts{audit.NewFailure: 2, audit.Resolved: 1}}, false, "2 new failures, 1 resolved"},
		{"in error", audit.Comparison{Counts: audit.ChangeCounts{}, NotCompared: audit.NotCompared{Error: 2}}, false, "0 new failures, 0 resolved, 2 not compared"},
		{"one of another shard", audit.Comparison{Counts: audit.ChangeCounts{}, NotCompared: audit.NotCompared{OtherShard: 1}}, false, "0 new failures, 0 resolved, 1 not compared"},
		{"both", audit.Comparison{Counts: audit.ChangeCounts{}, NotCompared: audit.NotCompared{Error: 2, OtherShard: 3}}, false, "0 new failures, 0 resolved, 5 not compared"},
		{"partial baseline", audit.Comparison{Counts: audit.ChangeCounts{}}, true, "0 new failures, 0 resolved (partial baseline)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := report.ChangeBrief(tt.res, tt.partialBaseline); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
