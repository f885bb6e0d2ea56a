package report_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
)

// TestMailSubjectWithABaseline: the default subject of a run compared with
// a baseline says the new failures early, in a few words (the run compared
// with is the body's to say), and keeps its scope: within the cut for a
// group's partial run over many places, and, when a long headline and a
// long scope are over it, with the headline cut rather than the scope.
func TestMailSubjectWithABaseline(t *testing.T) {
	region := strings.Repeat("r", 40) // as long as a scope's region gets
	tests := []struct {
		name      string
		headline  string
		locations []report.Location
		scope     string
		cut       bool
	}{
		{"many places", "37 of 1,204 audited instances non-compliant (3.07%), 12 pending, 4 not managed",
			manyLocations(12, 17), "12 accounts, 17 regions", false},
		{"one long place", "37 of 1,204 audited instances non-compliant (3.07%), 12 pending, 4 not managed, 2 not audited (error), 1 invalid",
			[]report.Location{{AccountID: "111111111111", Region: region}}, "account 111111111111, " + region, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := datesOptions(t)
			opts.Run.Complete = false // PARTIAL: in front
			m, err := report.Build(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			m.Headline, m.Locations = tt.headline, tt.locations
			res := audit.Comparison{Counts: audit.ChangeCounts{audit.NewFailure: 153, audit.Resolved: 1204, audit.StillFailing: 1337,
				audit.NewInstance: 12, audit.VanishedInstance: 3, audit.NewAssociation: 40, audit.VanishedAssociation: 7},
				NotCompared: audit.NotCompared{Error: 2}, ErrorCodeChanged: 12}
			m.Changes.Summary = report.ChangeSummary(res, m.Changes.Since, true, false)
			m.Changes.Brief = report.ChangeBrief(res, false)
			got, err := report.MailSubject("", m, &report.MailGroup{Label: "team", Value: "payments-platform"})
			if err != nil {
				t.Fatal(err)
			}
			// PARTIAL first, as before groups were named: a mail rule
			// on a subject that starts with it keeps working.
			if !strings.HasPrefix(got, "PARTIAL: team payments-platform: ") || !strings.HasSuffix(got, " · "+tt.scope) || len([]rune(got)) > 200 {
				t.Errorf("subject of %d characters, want at most 200 starting with PARTIAL and the group and ending with the scope %q:\n%s", len([]rune(got)), tt.scope, got)
			}
			if cut := strings.Contains(got, "…"); cut != tt.cut || !strings.Contains(got, tt.headline[:40]) {
				t.Errorf("headline cut %v, want %v, and its start there:\n%s", cut, tt.cut, got)
			}
			if i := strings.Index(got, "153 new failures, 1,204 resolved, 2 not compared"); i < 0 || i > 40 {
				t.Errorf("the new failures at %d of the subject, want them, and that some were not compared, within its first 40 characters:\n%s", i, got)
			}
			if strings.Contains(got, "compared with the run") {
				t.Errorf("the subject names the run compared with:\n%s", got)
			}
		})
	}
}

// manyLocations returns the locations of accounts accounts, each in the
// same regions regions.
func manyLocations(accounts, regions int) []report.Location {
	var ls []report.Location
	for a := range accounts {
		for r := range regions {
			ls = append(ls, report.Location{AccountID: fmt.Sprintf("%012d", a+1), Region: fmt.Sprintf("xx-region-%d", r+1)})
		}
	}
	return ls
}

// TestMailSubjectSaysWhichRunIsPartial: a subject says "PARTIAL: " of the
// run itself and "(partial baseline)" of the baseline only: a partial run
// compared with a complete baseline said both, so that its owners went
// looking for what was wrong with last week's run.
func TestMailSubjectSaysWhichRunIsPartial(t *testing.T) {
	tests := []struct {
		name                 string
		run, baseline        bool // partial
		wantPartial, wantOld bool
	}{
		{"partial run, complete baseline", true, false, true, false},
		{"complete run, partial baseline", false, true, false, true},
		{"both partial", true, true, true, true},
		{"both complete", false, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := datesOptions(t)
			opts.Run.Complete = !tt.run
			opts.Records.Partial = tt.run
			opts.Baseline.Records().Partial = tt.baseline
			m, err := report.Build(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := report.MailSubject("", m, nil)
			if err != nil {
				t.Fatal(err)
			}
			if partial := strings.HasPrefix(got, "PARTIAL: "); partial != tt.wantPartial {
				t.Errorf("subject starts with PARTIAL: %v, want %v:\n%s", partial, tt.wantPartial, got)
			}
			if old := strings.Contains(got, "partial baseline"); old != tt.wantOld {
				t.Errorf("subject says partial baseline: %v, want %v:\n%s", old, tt.wantOld, got)
			}
			// The summary has room to say that only the instances both
			// runs audited were compared, whichever run was partial.
			if among := strings.Contains(m.Changes.Summary, "among the instances both runs audited"); among != (tt.run || tt.baseline) {
				t.Errorf("summary %q", m.Changes.Summary)
			}
		})
	}
}
