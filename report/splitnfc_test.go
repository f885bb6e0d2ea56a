package report_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
)

// TestSplitOwnerSpeltTwoWays: an --instances list whose owner was spelt
// Müller on one row, composed, and Mu+U+0308ller on another, decomposed (as
// macOS and some exports write it), split into two groups that both read
// Müller, each with half the owner's figures, and would have sent two
// mails. The list's labels are read in one form, and the owner is one
// group of both instances.
func TestSplitOwnerSpeltTwoWays(t *testing.T) {
	at := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	var f audit.Fleet
	list := "instance_id,region,owner\ni-0000000000000000a,us-east-1,M\u00fcller\ni-0000000000000000b,us-east-1,Mu\u0308ller\n"
	if err := f.Read(strings.NewReader(list), "fleet.csv"); err != nil {
		t.Fatalf("Read: %v", err)
	}
	var results []audit.Result
	for _, tg := range f.Targets() {
		results = append(results, ownedResult(tg.InstanceID, tg.Labels["owner"], audit.StatusFailed, at))
	}
	opts := report.Options{Dir: t.TempDir(), Records: openRecord(t, results), Run: audit.RunInfo{StartedAt: at, Complete: true}, Formats: []report.Format{report.FormatCSV}}
	groups, err := report.Split(context.Background(), opts, "owner")
	if err != nil {
		t.Fatalf("Split: %v", err)
	}
	if len(groups) != 1 || groups[0].Instances != 2 || groups[0].Noncompliant != 2 {
		var got []string
		for _, g := range groups {
			got = append(got, g.Name)
		}
		t.Fatalf("groups %q (%d), want one of 2 instances, 2 noncompliant", got, len(groups))
	}
	if got := groups[0].Value; got != "M\u00fcller" {
		t.Errorf("group's value %+q, want %+q", got, "M\u00fcller")
	}
}
