package report_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
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

// TestSplitGroupRebuiltFromItsDirectory: a group's mail, and "auditor
// report" of a group's directory, build its model again from the group's
// run.json and record alone. What the group's reports said of the whole
// run (an account-region listed in part of which the group holds no node,
// the run's targets without a result) was lost there: the mail said
// "not audited" beside reports that said "listed in part".
func TestSplitGroupRebuiltFromItsDirectory(t *testing.T) {
	at := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	const mgmt, prod = "111111111111", "222222222222"
	inAccount := func(r audit.Result, account string) audit.Result {
		r.AccountID = account
		return r
	}
	throttled := &audit.Error{Code: "ThrottlingException", Message: "Rate exceeded"}
	sites := []audit.SiteStats{
		{AccountID: mgmt, Region: "us-east-1", Targets: 1, Results: 1, Discovered: 1, Error: throttled},
		{AccountID: prod, Region: "us-east-1", Targets: 5, Results: 1, Discovered: 5, Listed: true},
	}
	path := writeResults(t, t.TempDir(),
		inAccount(ownedResult("i-0000000000000000a", "alice", audit.StatusSuccess, at), mgmt),
		inAccount(ownedResult("i-0000000000000000b", "bob", audit.StatusFailed, at), prod))
	rs, err := audit.OpenRecords(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rs.Close() })
	rs.Partial = true
	run := audit.RunInfo{StartedAt: at, Targets: 6, Error: "1 account-region failed", Sites: sites,
		Options: map[string]any{"discover": true},
		Parts:   []audit.Part{{Fleet: audit.DiscoveryPrefix + "accounts=" + mgmt + "," + prod, Targets: 6}}}
	opts := report.Options{Dir: t.TempDir(), Run: run, Records: rs, Formats: []report.Format{report.FormatJSON}}
	groups, err := report.Split(context.Background(), opts, "owner")
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups {
		written := readSummary(t, g.Dir)
		ri, err := audit.ReadRunInfo(filepath.Join(g.Dir, audit.RunFile))
		if err != nil {
			t.Fatal(err)
		}
		grs, err := audit.OpenRecords(filepath.Join(g.Dir, audit.ResultsFile))
		if err != nil {
			t.Fatal(err)
		}
		grs.Partial = true
		m, err := report.Build(context.Background(), report.Options{Dir: g.Dir, Run: ri, Records: grs})
		grs.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Run.Unaudited) != 0 || len(m.Run.ListedInPart) != 1 || m.Run.ListedInPart[0].Audited != 1 {
			t.Errorf("group %q rebuilt: unaudited %+v, listed in part %+v; its reports said %+v, %+v",
				g.Value, m.Run.Unaudited, m.Run.ListedInPart, written.Run.Unaudited, written.Run.ListedInPart)
		}
		if m.Run.RunWithoutResult != 4 || written.Run.RunWithoutResult != 4 {
			t.Errorf("group %q: run_without_result %d rebuilt, %d in its reports; want the run's 4", g.Value, m.Run.RunWithoutResult, written.Run.RunWithoutResult)
		}
		if !strings.Contains(m.Scope, "discovered") {
			t.Errorf("group %q rebuilt: scope %q, want its targets discovered", g.Value, m.Scope)
		}
	}
}
