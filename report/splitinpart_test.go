package report_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
)

// TestSplitKeepsListedInPart: an account-region whose listing failed after
// some of its nodes were listed and audited is "listed in part" in the
// whole run's reports. A group that held none of those nodes told it as
// "could not be audited", and index.csv counted it among its account's
// unaudited account-regions beside the instances audited there: each
// group's reports now say of it what the run's say.
func TestSplitKeepsListedInPart(t *testing.T) {
	at := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	const mgmt, prod = "111111111111", "222222222222"
	inAccount := func(r audit.Result, account, name string) audit.Result {
		r.AccountID = account
		r.Labels = map[string]string{"owner": r.Labels["owner"], audit.AccountNameLabel: name}
		return r
	}
	throttled := &audit.Error{Code: "ThrottlingException", Message: "Rate exceeded"}
	sites := []audit.SiteStats{
		{AccountID: mgmt, AccountName: "Management", Region: "us-east-1", Targets: 1, Results: 1, Discovered: 1, Error: throttled},
		{AccountID: prod, AccountName: "Production", Region: "us-east-1", Targets: 1, Results: 1, Discovered: 1, Listed: true},
	}
	for _, label := range []string{"owner", audit.AccountNameLabel} {
		t.Run(label, func(t *testing.T) {
			path := writeResults(t, t.TempDir(),
				inAccount(ownedResult("i-0000000000000000a", "alice", audit.StatusSuccess, at), mgmt, "Management"),
				inAccount(ownedResult("i-0000000000000000b", "bob", audit.StatusFailed, at), prod, "Production"))
			rs, err := audit.OpenRecords(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { rs.Close() })
			rs.Partial = true
			run := audit.RunInfo{StartedAt: at, Error: "1 account-region listed in part", Sites: sites,
				Options: map[string]any{"discover": true}}
			opts := report.Options{Dir: t.TempDir(), Run: run, Records: rs, Formats: []report.Format{report.FormatJSON}}
			groups, err := report.Split(context.Background(), opts, label)
			if err != nil {
				t.Fatal(err)
			}
			if len(groups) != 2 {
				t.Fatalf("%d groups, want 2: %+v", len(groups), groups)
			}
			index := readIndex(t, report.SplitDir(opts.Dir, label))
			for _, g := range groups {
				if g.Unaudited != 0 {
					t.Errorf("group %q counts %d account-regions unaudited, want 0", g.Value, g.Unaudited)
				}
				row := []string{g.Value, g.Name, strconv.Itoa(g.Instances), strconv.Itoa(g.Noncompliant), "0"}
				if !slices.ContainsFunc(index, func(r []string) bool { return slices.Equal(r, row) }) {
					t.Errorf("index.csv has no row %q:\n%q", row, index)
				}
				m := readSummary(t, g.Dir)
				if len(m.Run.Unaudited) != 0 {
					t.Errorf("group %q: its reports say %+v could not be audited", g.Value, m.Run.Unaudited)
				}
				if len(m.Run.ListedInPart) != 1 || m.Run.ListedInPart[0].AccountID != mgmt || m.Run.ListedInPart[0].Audited != 1 {
					t.Errorf("group %q: listed in part %+v, want %s us-east-1 with the run's 1 node audited", g.Value, m.Run.ListedInPart, mgmt)
				}
			}
		})
	}
}

// readSummary reads the summary.json in dir.
func readSummary(t *testing.T, dir string) report.Model {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, report.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	var m report.Model
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
