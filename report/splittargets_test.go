package report_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
)

// TestSplitGroupsTellTheRunsGap: a run that left targets without a result
// (a timeout, an endpoint gone) is split by owner; each group counted its
// results as its targets, so that alice's reports said "18 targets in the
// list" of her 50, without a word of the run's 129 targets without a
// result, any of which may be hers. Each group now says how many the run
// left, and that which are its own is not known; a discovery run's
// groups say their targets were discovered, not listed.
func TestSplitGroupsTellTheRunsGap(t *testing.T) {
	at := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name  string
		fleet string // a Part's Fleet
		where string
	}{
		{"a list", "0123456789abcdef", "of the list in this group"},
		{"discovery", audit.DiscoveryPrefix + "accounts=111111111111", "discovered in this group"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := writeResults(t, t.TempDir(),
				ownedResult("i-0000000000000000a", "alice", audit.StatusSuccess, at),
				ownedResult("i-0000000000000000b", "bob", audit.StatusFailed, at))
			rs, err := audit.OpenRecords(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { rs.Close() })
			rs.Partial = true
			run := audit.RunInfo{StartedAt: at, Targets: 10, Interrupted: true,
				Parts: []audit.Part{{Fleet: tt.fleet, Targets: 10}}}
			opts := report.Options{Dir: t.TempDir(), Run: run, Records: rs,
				Formats: []report.Format{report.FormatJSON, report.FormatHTML}}
			groups, err := report.Split(context.Background(), opts, "owner")
			if err != nil {
				t.Fatal(err)
			}
			if len(groups) != 2 {
				t.Fatalf("%d groups, want 2", len(groups))
			}
			for _, g := range groups {
				m := readSummary(t, g.Dir)
				if m.Run.RunWithoutResult != 8 {
					t.Errorf("group %q: run_without_result %d, want the run's 8", g.Value, m.Run.RunWithoutResult)
				}
				html, err := os.ReadFile(filepath.Join(g.Dir, report.HTMLFile))
				if err != nil {
					t.Fatal(err)
				}
				for _, want := range []string{"8 targets without a result", "1 target " + tt.where} {
					if !strings.Contains(string(html), want) {
						t.Errorf("group %q: report.html does not say %q", g.Value, want)
					}
				}
			}
		})
	}
}
