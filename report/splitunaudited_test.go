package report_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
)

// TestSplitGroupOfUnauditedAccount: an account that could not be audited
// (its role refused, its SSM denied) has no result, so a split by
// account_name made no group for it and its owner got no report, not even
// one that says so. Its group is made from run.json's sites, with no
// instance, and its reports name its account-regions; with a baseline, it
// is kept though nothing changed in it (a run that did not get to its
// instances says none is gone). An account without a name, and a split by
// a label that no account-region determines, make no group.
func TestSplitGroupOfUnauditedAccount(t *testing.T) {
	at := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	week := at.Add(-7 * 24 * time.Hour)
	const mgmt, prod, anon = "111111111111", "222222222222", "333333333333"
	inAccount := func(r audit.Result, account, name string) audit.Result {
		r.AccountID = account
		r.Labels = map[string]string{"owner": r.Labels["owner"], audit.AccountNameLabel: name}
		return r
	}
	denied := &audit.Error{Code: "AccessDenied", Message: "not authorized to perform: sts:AssumeRole"}
	sites := []audit.SiteStats{
		{AccountID: mgmt, AccountName: "Management", Region: "us-east-1", Targets: 1, Results: 1},
		{AccountID: mgmt, AccountName: "Management", Region: "af-south-1", Error: &audit.Error{Code: "UnrecognizedClientException", Message: "not enabled"}},
		{AccountID: prod, AccountName: "Production", Region: "us-east-1", Error: denied},
		{AccountID: prod, AccountName: "Production", Region: "eu-west-1", Error: denied},
		{AccountID: anon, Region: audit.AllRegions, Error: denied},
		// Audited, whole or without instance information: nothing to tell.
		{AccountID: "444444444444", AccountName: "Sandbox", Region: "us-east-1"},
		{AccountID: "555555555555", AccountName: "Security", Region: "us-east-1", InfoError: &audit.Error{Code: "ThrottlingException", Message: "later"}},
	}
	tests := []struct {
		name     string
		label    string
		baseline bool
		want     map[string][2]int // instances, unaudited account-regions
	}{
		{"by account_name", audit.AccountNameLabel, false, map[string][2]int{"Management": {1, 1}, "Production": {0, 2}}},
		{"by account_name, with a baseline", audit.AccountNameLabel, true, map[string][2]int{"Management": {1, 1}, "Production": {0, 2}}},
		{"by another label", "owner", false, map[string][2]int{"alice": {1, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			curPath := writeResults(t, t.TempDir(), inAccount(ownedResult("i-0000000000000000a", "alice", audit.StatusSuccess, at), mgmt, "Management"))
			run := audit.RunInfo{StartedAt: at, Error: "4 account-regions could not be audited", Sites: sites}
			opts := report.Options{Dir: t.TempDir(), Run: run, Formats: []report.Format{report.FormatCSV, report.FormatJSON}}
			if tt.baseline {
				basePath := writeResults(t, t.TempDir(),
					inAccount(ownedResult("i-0000000000000000a", "alice", audit.StatusSuccess, week), mgmt, "Management"),
					inAccount(ownedResult("i-0000000000000000b", "bob", audit.StatusFailed, week), prod, "Production"))
				base, rs, counts := openCompared(t, basePath, curPath, true)
				opts.Records, opts.Baseline = rs, base
				opts.Run.Changes = &audit.ChangeInfo{Baseline: basePath, Since: &week, Counts: counts}
			} else {
				rs, err := audit.OpenRecords(curPath)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { rs.Close() })
				rs.Partial = true
				opts.Records = rs
			}
			groups, err := report.Split(context.Background(), opts, tt.label)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][2]int{}
			for _, g := range groups {
				got[g.Value] = [2]int{g.Instances, g.Unaudited}
			}
			if !maps.Equal(got, tt.want) {
				t.Fatalf("groups (instances, unaudited) %v, want %v", got, tt.want)
			}
			index := readIndex(t, report.SplitDir(opts.Dir, tt.label))
			for _, g := range groups {
				row := []string{g.Value, g.Name, strconv.Itoa(g.Instances), strconv.Itoa(g.Noncompliant), strconv.Itoa(g.Unaudited)}
				if !slices.ContainsFunc(index, func(r []string) bool { return slices.Equal(r, row) }) {
					t.Errorf("index.csv has no row %q:\n%q", row, index)
				}
				b, err := os.ReadFile(filepath.Join(g.Dir, report.SummaryFile))
				if err != nil {
					t.Fatal(err)
				}
				var m report.Model
				if err := json.Unmarshal(b, &m); err != nil {
					t.Fatal(err)
				}
				// Every account-region the run could not audit, in every
				// group: its own among them.
				if len(m.Run.Unaudited) != 4 {
					t.Errorf("group %q: its reports name %d account-regions not audited, want the run's 4: %+v", g.Value, len(m.Run.Unaudited), m.Run.Unaudited)
				}
				if m.Run.Complete {
					t.Errorf("group %q: its reports say the audit is complete", g.Value)
				}
			}
			if !tt.baseline {
				return
			}
			i := slices.IndexFunc(groups, func(g report.SplitGroup) bool { return g.Value == "Production" })
			gb, err := report.OpenGroupBaseline(groups[i].Dir, opts.Run.Changes.Baseline, week)
			if err != nil || gb == nil {
				t.Fatalf("Production's part of the baseline: %v, %v", gb, err)
			}
			defer gb.Close()
			if gb.Records().Len() != 1 {
				t.Errorf("Production's part of the baseline holds %d results, want bob's instance of then (its mail's addresses)", gb.Records().Len())
			}
		})
	}
}

func readIndex(t *testing.T, split string) [][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(split, report.SplitIndex))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}
