package report_test

import (
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
)

// TestListedInPartAudited: "listed in part: N nodes audited" counted every
// result of the account-region, those in error too, where every other
// count of the reports calls audited those with a verdict
// (audit.Outcome.Audited). It counts the verdicts; one of which the record
// holds results in error alone (the account-region failed before any of
// its listed nodes had a verdict) is not audited: nothing in it is known.
func TestListedInPartAudited(t *testing.T) {
	at := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	const acct = "111111111111"
	throttled := &audit.Error{Code: "ThrottlingException", Message: "Rate exceeded"}
	site := audit.SiteStats{AccountID: acct, Region: "us-east-1", Targets: 5, Results: 5, Discovered: 5, Error: throttled}
	tests := []struct {
		name              string
		results           []audit.Result
		listed, unaudited []string
		say               string
	}{
		{name: "some in error", results: siteResults(acct, 5, 3, at),
			listed: []string{acct + " us-east-1 audited=3"},
			say:    "listed in part: 3 nodes audited before the listing failed (ThrottlingException: Rate exceeded)"},
		{name: "all in error", results: siteResults(acct, 2, 0, at),
			unaudited: []string{acct + " us-east-1 audited=0"},
			say:       "Not audited, so nothing in it is known"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := audit.RunInfo{StartedAt: at, Targets: site.Targets, Error: "1 account-region listed in part",
				Sites: []audit.SiteStats{site}, Options: map[string]any{"discover": true}}
			got, page, mail := runSites(t, run, tt.results)
			for key, want := range map[string][]string{"unaudited": tt.unaudited, "listed_in_part": tt.listed} {
				if g := sitesNamed(t, got, key); strings.Join(g, "; ") != strings.Join(want, "; ") {
					t.Errorf("summary.json's run.%s is %q, want %q", key, g, want)
				}
			}
			for what, s := range map[string]string{"report.html": page, "the text mail": mail} {
				if flat := strings.Join(strings.Fields(s), " "); !strings.Contains(flat, tt.say) {
					t.Errorf("%s does not say %q:\n%s", what, tt.say, flat)
				}
			}
		})
	}
}
