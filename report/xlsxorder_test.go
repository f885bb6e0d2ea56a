package report_test

import (
	"context"
	"testing"

	"github.com/auditor-dev/auditor/report"
)

// TestXLSXListsInModelOrder: the Failures and Problems sheets list what
// needs action in the order of report.html and summary.json (the Model's
// lists): failures of the instances with the most failures first, problems
// errors first; also when that order is sorted on disk.
func TestXLSXListsInModelOrder(t *testing.T) {
	for _, spill := range []bool{false, true} {
		for _, fx := range fixtures(t) {
			name := fx.name
			if spill {
				name += "/sorted on disk"
			}
			t.Run(name, func(t *testing.T) {
				if spill {
					// Fewer than any of mixed's lists: each order goes to disk.
					report.SetSortInMemory(t, 2)
				}
				m, err := report.Build(context.Background(), fx.options(t))
				if err != nil {
					t.Fatal(err)
				}
				if len(m.Failures.Rows) != m.Failures.Count || len(m.Problems.Items) != m.Problems.Count {
					t.Fatalf("the Model caps its lists: %d of %d failures, %d of %d problems",
						len(m.Failures.Rows), m.Failures.Count, len(m.Problems.Items), m.Problems.Count)
				}
				var wantFailures, wantProblems []string
				for _, r := range m.Failures.Rows {
					wantFailures = append(wantFailures, r.InstanceID+" "+r.AssociationID)
				}
				for _, p := range m.Problems.Items {
					wantProblems = append(wantProblems, p.InstanceID+" "+p.Source)
				}

				f, _ := renderXLSX(t, fx)
				read := func(sheet, second string) []string {
					id, other := colOf(t, f, sheet, "Instance")-1, colOf(t, f, sheet, second)-1
					var got []string
					for _, row := range sheetRows(t, f, sheet)[1:] {
						got = append(got, cellAt(row, id)+" "+cellAt(row, other))
					}
					return got
				}
				checkOrder(t, "Failures (instance, association ID)", read("Failures", "Association ID"), wantFailures)
				checkOrder(t, "Problems (instance, source)", read("Problems", "Source"), wantProblems)
			})
		}
	}
}

// checkOrder reports the first row where got and want differ.
func checkOrder(t *testing.T, what string, got, want []string) {
	t.Helper()
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Errorf("%s: row %d of %d is %.80q, want %.80q as in summary.json (of %d)", what, i+1, len(got), g, w, len(want))
			return
		}
	}
}
