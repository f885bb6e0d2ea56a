package report_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestPartialRowsNotCountedAsWhole audits a fleet with a page limit that
// cuts most instances short (MaxPages 1, MaxResults 2: every instance with
// more than two associations ends in error PaginationLoop after its first
// page), through the real pipeline. The rows of those instances are only
// part of their lists: no total, status count or failure list may count
// them, and every output must mark them partial.
func TestPartialRowsNotCountedAsWhole(t *testing.T) {
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 14, Size: 60, Heavy: 2})
	opts := runPipeline(t, fleet, audit.Config{MaxResults: 2, MaxPages: 1})

	// What was served to instances that got a verdict, and which instances
	// ended with part of their list.
	var wholeRows, wholeFailed int
	partial := map[string]bool{}
	err := opts.Records.Each(func(r audit.Result) error {
		if r.Outcome == audit.OutcomeError {
			if len(r.Associations) > 0 {
				partial[r.InstanceID] = true
			}
			return nil
		}
		for _, a := range fleet.Associations(r.InstanceID) {
			wholeRows++
			if a.Status == audit.StatusFailed {
				wholeFailed++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(partial) < 5 || wholeRows == 0 {
		t.Fatalf("the fleet exercises too little: %d instances cut short, %d rows of whole instances", len(partial), wholeRows)
	}

	t.Run("summary.json", func(t *testing.T) {
		var sum struct {
			Totals struct {
				Associations int `json:"associations"`
			} `json:"totals"`
			Statuses []struct {
				Count int `json:"count"`
			} `json:"statuses"`
			Failures struct {
				Count int `json:"count"`
			} `json:"failures"`
		}
		b, err := os.ReadFile(filepath.Join(opts.Dir, report.SummaryFile))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &sum); err != nil {
			t.Fatal(err)
		}
		if sum.Totals.Associations != wholeRows {
			t.Errorf("totals.associations = %d, want the %d rows of instances with a verdict", sum.Totals.Associations, wholeRows)
		}
		n := 0
		for _, s := range sum.Statuses {
			n += s.Count
		}
		if n != wholeRows {
			t.Errorf("statuses count %d rows, want %d", n, wholeRows)
		}
		if sum.Failures.Count != wholeFailed {
			t.Errorf("failures.count = %d, want the %d Failed rows of instances with a verdict", sum.Failures.Count, wholeFailed)
		}
	})

	t.Run("csv", func(t *testing.T) {
		for _, file := range []string{report.AssociationsCSV, report.InstancesCSV} {
			rows := readCSV(t, filepath.Join(opts.Dir, file))
			col := slices.Index(rows[0], "partial")
			id := slices.Index(rows[0], "instance_id")
			if col < 0 {
				t.Errorf("%s has no partial column: %q", file, rows[0])
				continue
			}
			marked := 0
			for _, row := range rows[1:] {
				want := "false"
				if partial[row[id]] {
					want = "true"
					marked++
				}
				if row[col] != want {
					t.Errorf("%s: %s partial=%q, want %q", file, row[id], row[col], want)
				}
			}
			if marked == 0 {
				t.Errorf("%s marks no row partial", file)
			}
		}
	})

	t.Run("xlsx", func(t *testing.T) {
		f, err := excelize.OpenFile(filepath.Join(opts.Dir, report.XLSXFile))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		failures := sheetRows(t, f, "Failures")
		if len(failures)-1 != wholeFailed {
			t.Errorf("Failures sheet: %d rows, want the %d of instances with a verdict", len(failures)-1, wholeFailed)
		}
		for _, sheet := range []string{"Associations", "Instances"} {
			rows := sheetRows(t, f, sheet)
			col, id := slices.Index(rows[0], "Partial"), slices.Index(rows[0], "Instance")
			if col < 0 {
				t.Errorf("sheet %s has no Partial column: %q", sheet, rows[0])
				continue
			}
			for _, row := range rows[1:] {
				want := "no"
				if partial[row[id]] {
					want = "yes"
				}
				if got := cellAt(row, col); got != want {
					t.Errorf("sheet %s: %s Partial=%q, want %q", sheet, row[id], got, want)
				}
			}
		}
	})

	t.Run("html", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(opts.Dir, report.HTMLFile))
		if err != nil {
			t.Fatal(err)
		}
		doc := parseHTML(t, b)
		n := byID(doc, "partial-rows")
		if n == nil {
			t.Fatal("report.html has no #partial-rows note saying which rows are left out")
		}
		if got := text(n); !strings.Contains(strings.ToLower(got), "left out") {
			t.Errorf("#partial-rows says %q, want it to say the rows are left out", got)
		}
	})
}

// cellAt returns row[i], or "" past the end (GetRows drops empty trailing
// cells).
func cellAt(row []string, i int) string {
	if i < len(row) {
		return row[i]
	}
	return ""
}
