package report_test

import (
	"testing"
	"unicode/utf8"
)

// TestXLSXSummaryLabelsFit: the Summary's labels are bold in column A with
// their value beside them in B, so a label wider than A is cut where B
// begins: "Could not audit (not managed, errors, invalid, no re" read the
// demo's workbook in a spreadsheet (column A was 46 wide for labels of up
// to 71 characters). Column A is as wide as its longest label beside a
// value, bold (about a tenth wider) included, up to 100 (a failure's name
// from outside, in the top failures, can be of any length).
func TestXLSXSummaryLabelsFit(t *testing.T) {
	for _, fx := range fixtures(t) {
		t.Run(fx.name, func(t *testing.T) {
			f, _ := renderXLSX(t, fx)
			width, err := f.GetColWidth("Summary", "A")
			if err != nil {
				t.Fatal(err)
			}
			longest := ""
			for _, row := range sheetRows(t, f, "Summary") {
				if len(row) > 1 && row[0] != "" && row[1] != "" && utf8.RuneCountInString(row[0]) > utf8.RuneCountInString(longest) {
					longest = row[0]
				}
			}
			if longest == "" {
				t.Fatal("no label beside a value on the Summary sheet")
			}
			if need := min(1.1*float64(utf8.RuneCountInString(longest)), 100); width < need {
				t.Errorf("column A is %.0f wide; %q (%d characters, bold) needs %.0f", width, longest, utf8.RuneCountInString(longest), need)
			}
		})
	}
}
