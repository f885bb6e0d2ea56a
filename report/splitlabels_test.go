package report_test

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
)

// TestSplitGroupsHaveTheLabelColumn: a group's label columns were the keys
// of its instances now, so that the group of an owner whose instances are
// all gone, or of an account that could not be audited, had no column for
// the label it is split by: alice's changes.csv said an instance of hers
// was gone without saying it was hers, where the run's changes.csv and
// every other group's said so. A key that only an instance gone had lost
// its column in the run's reports too. Every group's reports now have a
// column for the label it is split by, and every report one for each key
// of the rows it lists, changes included: a change reads the same in the
// run's changes.csv and in its group's.
func TestSplitGroupsHaveTheLabelColumn(t *testing.T) {
	at := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	week := at.Add(-7 * 24 * time.Hour)
	const mgmt, prod = "111111111111", "222222222222"
	inAccount := func(r audit.Result, account, name string) audit.Result {
		r.AccountID = account
		r.Labels = map[string]string{"owner": r.Labels["owner"], audit.AccountNameLabel: name}
		return r
	}
	withLabel := func(r audit.Result, k, v string) audit.Result {
		r.Labels[k] = v
		return r
	}
	denied := &audit.Error{Code: "AccessDenied", Message: "not authorized to perform: sts:AssumeRole"}
	unaudited := []audit.SiteStats{
		{AccountID: mgmt, AccountName: "Management", Region: "us-east-1", Targets: 2, Results: 2},
		{AccountID: prod, AccountName: "Production", Region: "us-east-1", Error: denied},
	}
	tests := []struct {
		name     string
		label    string
		sites    []audit.SiteStats
		base     []audit.Result // nil: no baseline
		cur      []audit.Result
		empty    string            // the group with no instance now
		wantRows map[string]string // a row of its changes.csv: column → value
	}{
		{
			name:  "an owner whose instances are all gone",
			label: "owner",
			base: []audit.Result{
				// team: a key that no instance has now.
				withLabel(ownedResult("i-0000000000000000a", "alice", audit.StatusFailed, week), "team", "red"),
				ownedResult("i-0000000000000000b", "carol", audit.StatusSuccess, week),
				ownedResult("i-0000000000000000c", "bob", audit.StatusSuccess, week),
			},
			cur: []audit.Result{
				ownedResult("i-0000000000000000b", "zed", audit.StatusSuccess, at),
				ownedResult("i-0000000000000000c", "bob", audit.StatusFailed, at),
			},
			empty:    "alice",
			wantRows: map[string]string{"change": string(audit.VanishedInstance), "instance_id": "i-0000000000000000a", "owner": "alice", "team": "red"},
		},
		{
			name:  "an account that could not be audited",
			label: audit.AccountNameLabel,
			sites: unaudited,
			cur: []audit.Result{
				inAccount(ownedResult("i-0000000000000000a", "alice", audit.StatusSuccess, at), mgmt, "Management"),
				inAccount(ownedResult("i-0000000000000000b", "bob", audit.StatusFailed, at), mgmt, "Management"),
			},
			empty: "Production",
		},
		{
			name:  "an account that could not be audited, with a baseline",
			label: audit.AccountNameLabel,
			sites: unaudited,
			base: []audit.Result{
				inAccount(ownedResult("i-0000000000000000a", "alice", audit.StatusSuccess, week), mgmt, "Management"),
				inAccount(ownedResult("i-0000000000000000c", "carol", audit.StatusFailed, week), prod, "Production"),
			},
			cur: []audit.Result{
				inAccount(ownedResult("i-0000000000000000a", "alice", audit.StatusSuccess, at), mgmt, "Management"),
				inAccount(ownedResult("i-0000000000000000b", "bob", audit.StatusFailed, at), mgmt, "Management"),
			},
			empty: "Production",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			curPath := writeResults(t, t.TempDir(), tt.cur...)
			run := audit.RunInfo{StartedAt: at, Complete: tt.sites == nil, Sites: tt.sites}
			opts := report.Options{Dir: t.TempDir(), Run: run, Formats: []report.Format{report.FormatCSV, report.FormatXLSX, report.FormatJSON}}
			if tt.base != nil {
				basePath := writeResults(t, t.TempDir(), tt.base...)
				base, rs, counts := openCompared(t, basePath, curPath, !run.Complete)
				opts.Records, opts.Baseline = rs, base
				opts.Run.Changes = &audit.ChangeInfo{Baseline: basePath, Since: &week, Counts: counts}
			} else {
				rs, err := audit.OpenRecords(curPath)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { rs.Close() })
				rs.Partial = !run.Complete
				opts.Records = rs
			}
			// The run's own reports, as the CLI writes them beside the split.
			if _, err := report.Render(context.Background(), opts); err != nil {
				t.Fatal(err)
			}
			groups, err := report.Split(context.Background(), opts, tt.label)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(groups, func(g report.SplitGroup) bool { return g.Value == tt.empty && g.Instances == 0 }) {
				t.Fatalf("no group %q with no instance: %+v", tt.empty, groups)
			}
			runChanges := map[string]map[string]string{}
			if tt.base != nil {
				for _, row := range csvRecords(t, filepath.Join(opts.Dir, report.ChangesCSV)) {
					runChanges[changeKey(row)] = row
				}
			}
			for _, g := range groups {
				files := []string{report.InstancesCSV}
				if tt.base != nil {
					files = append(files, report.ChangesCSV)
				}
				for _, file := range files {
					if head := readCSV(t, filepath.Join(g.Dir, file))[0]; !slices.Contains(head, tt.label) {
						t.Errorf("group %q: %s has no %s column: %q", g.Value, file, tt.label, head)
					}
				}
				b, err := os.ReadFile(filepath.Join(g.Dir, report.SummaryFile))
				if err != nil {
					t.Fatal(err)
				}
				var m report.Model
				if err := json.Unmarshal(b, &m); err != nil {
					t.Fatal(err)
				}
				if !slices.Contains(m.LabelKeys, tt.label) {
					t.Errorf("group %q: summary.json's label_keys %q lack %q", g.Value, m.LabelKeys, tt.label)
				}
				f, err := excelize.OpenFile(filepath.Join(g.Dir, report.XLSXFile))
				if err != nil {
					t.Fatal(err)
				}
				sheets := []string{"Instances", "Problems"}
				if tt.base != nil {
					sheets = append(sheets, "Changes")
				}
				for _, sheet := range sheets {
					if rows := sheetRows(t, f, sheet); len(rows) == 0 || !slices.Contains(rows[0], tt.label) {
						t.Errorf("group %q: the %s sheet has no %s column: %q", g.Value, sheet, tt.label, rows)
					}
				}
				f.Close()
				if tt.base == nil {
					continue
				}
				// A change reads the same in its group's changes.csv and in
				// the run's: every column of either, one absent being empty.
				rows := csvRecords(t, filepath.Join(g.Dir, report.ChangesCSV))
				for _, row := range rows {
					whole, ok := runChanges[changeKey(row)]
					if !ok {
						t.Errorf("group %q: change %q is not in the run's changes.csv", g.Value, row)
						continue
					}
					for _, col := range slices.Concat(slices.Collect(maps.Keys(row)), slices.Collect(maps.Keys(whole))) {
						if row[col] != whole[col] {
							t.Errorf("group %q: change %s: %s is %q, in the run's changes.csv %q", g.Value, changeKey(row), col, row[col], whole[col])
						}
					}
				}
				if g.Value == tt.empty && tt.wantRows != nil {
					if !slices.ContainsFunc(rows, func(row map[string]string) bool {
						for col, v := range tt.wantRows {
							if row[col] != v {
								return false
							}
						}
						return true
					}) {
						t.Errorf("group %q: changes.csv has no row %v: %v", g.Value, tt.wantRows, rows)
					}
				}
			}
		})
	}
}

// csvRecords reads a CSV file's rows as maps of its header's names.
func csvRecords(t *testing.T, path string) []map[string]string {
	t.Helper()
	recs := readCSV(t, path)
	var out []map[string]string
	for _, rec := range recs[1:] {
		row := map[string]string{}
		for i, name := range recs[0] {
			row[name] = rec[i]
		}
		out = append(out, row)
	}
	return out
}

// changeKey names a row of changes.csv.
func changeKey(row map[string]string) string {
	return strings.Join([]string{row["change"], row["account_id"], row["region"], row["instance_id"], row["association_id"]}, " ")
}
