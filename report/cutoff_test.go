package report_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
)

// printedCutoff finds the stale cut-off in a text of the reports ("last run
// before 2025-05-25 12:00:00.535 UTC"): the date as printed, and as a time.
var printedCutoff = regexp.MustCompile(`before (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?) UTC`)

// TestStaleCutOffReadsExact: the cut-off that the reports print is exact
// enough to check the rows against as they are printed, to the
// millisecond (the CSV files, the workbook, a <time>'s title): an
// execution date is stale exactly when it is before the printed cut-off,
// even in the cut-off's own second. Cut to the second, a cut-off of
// 12:00:00.535 read "before 12:00:00" beside a stale row of 12:00:00.375.
// A cut-off finer than SSM's milliseconds (a clock's start) is printed
// rounded up to the millisecond: an execution in the millisecond that it
// falls in is before it, and is printed before the rounded date. The
// run's words (HTML and workbook) and the HTML's Stale associations give
// the same date.
func TestStaleCutOffReadsExact(t *testing.T) {
	for _, tt := range []struct {
		name  string
		start time.Time
		want  string
	}{
		{"a whole second", runStart, "2025-05-25 12:00:00"},
		{"milliseconds", runStart.Add(535 * time.Millisecond), "2025-05-25 12:00:00.535"},
		{"finer than a millisecond", runStart.Add(535*time.Millisecond + 400*time.Microsecond), "2025-05-25 12:00:00.536"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cutoff := tt.start.Add(-time.Duration(audit.DefaultStaleAfter))
			// Executions in whole milliseconds, as SSM serves them: in the
			// cut-off's second, and the milliseconds around it.
			ms := cutoff.Truncate(time.Millisecond)
			var results []audit.Result
			for i, ran := range []time.Time{cutoff.Truncate(time.Second).Add(375 * time.Millisecond),
				ms.Add(-2 * time.Millisecond), ms.Add(-time.Millisecond), ms, ms.Add(time.Millisecond), ms.Add(2 * time.Millisecond)} {
				results = append(results, audit.Result{AccountID: acct1, Region: east, InstanceID: fmt.Sprintf("i-%017x", i+1),
					Outcome: audit.OutcomeCompliant, Pages: 1, AuditedAt: tt.start.Add(time.Second),
					Associations: []audit.Association{{AssociationID: fmt.Sprintf("a-%d", i), Name: "AWS-RunPatchBaseline",
						Status: audit.StatusSuccess, ExecutionDate: at(ran)}}})
			}
			run := fixtureRun()
			run.StartedAt, run.Attempts, run.EndedAt = tt.start, []time.Time{tt.start}, tt.start.Add(time.Minute)
			run.Targets, run.Invalid = len(results), 0
			opts := report.Options{Dir: t.TempDir(), Records: openRecord(t, results), Run: run, StaleAfter: audit.DefaultStaleAfter,
				Formats: []report.Format{report.FormatCSV, report.FormatXLSX, report.FormatHTML}}
			if _, err := report.Render(context.Background(), opts); err != nil {
				t.Fatal(err)
			}
			m, err := report.Build(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}

			var about string
			for _, d := range m.About {
				if d.Label == "Stale after" {
					about = d.Value
				}
			}
			got := printedCutoff.FindStringSubmatch(about)
			if got == nil || got[1] != tt.want {
				t.Fatalf("Stale after: %q, want the cut-off printed as %s UTC (exactly %s)", about, tt.want, cutoff.Format(time.RFC3339Nano))
			}
			printed, err := time.Parse(time.DateTime, got[1])
			if err != nil {
				t.Fatal(err)
			}

			// Every row, read as printed, is stale exactly when it is
			// before the printed cut-off.
			recs := readCSV(t, filepath.Join(opts.Dir, report.AssociationsCSV))
			when, stale := indexOf(t, recs[0], "execution_date"), indexOf(t, recs[0], "stale")
			staleRows := 0
			for _, rec := range recs[1:] {
				ran, err := time.Parse(time.RFC3339, rec[when])
				if err != nil {
					t.Fatal(err)
				}
				if before := ran.Before(printed); (rec[stale] == "true") != before {
					t.Errorf("associations.csv: last run %s, stale %s, but it reads %v against \"before %s UTC\"", rec[when], rec[stale], before, got[1])
				}
				if rec[stale] == "true" {
					staleRows++
				}
			}
			if staleRows == 0 || staleRows == len(recs)-1 {
				t.Errorf("%d of %d rows stale: the cut-off was not checked between rows", staleRows, len(recs)-1)
			}

			html, err := os.ReadFile(filepath.Join(opts.Dir, report.HTMLFile))
			if err != nil {
				t.Fatal(err)
			}
			page := strings.Join(strings.Fields(text(parseHTML(t, html))), " ")
			for _, want := range []string{
				"older than 7 days (before " + tt.want + " UTC)",
				"7 days (stale: last run before " + tt.want + " UTC, or never)",
			} {
				if !strings.Contains(page, want) {
					t.Errorf("report.html does not say %q:\n%s", want, page)
				}
			}

			f, err := excelize.OpenFile(filepath.Join(opts.Dir, report.XLSXFile))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			found := false
			for _, row := range sheetRows(t, f, "Summary") {
				if len(row) > 1 && row[0] == "Stale after" {
					found = true
					if row[1] != about {
						t.Errorf("workbook: Stale after %q, want %q", row[1], about)
					}
				}
			}
			if !found {
				t.Error("workbook: no Stale after line in Summary")
			}
		})
	}
}
