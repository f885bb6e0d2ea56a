package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
)

// blindFleet is n instances of one owner that all ended in error after
// their first page: nothing was audited, and each has a partial Failed row
// that no count may take for a verdict.
func blindFleet(n int) []audit.Result {
	var results []audit.Result
	for i := range n {
		results = append(results, audit.Result{
			Region: east, InstanceID: fmt.Sprintf("i-%017x", i), Outcome: audit.OutcomeError, AuditedAt: runStart,
			Labels:       map[string]string{"owner": "web"},
			Error:        &audit.Error{Code: "PaginationLoop", Message: "more than 1 pages"},
			Associations: []audit.Association{{AssociationID: "a-1", Name: "doc", Status: audit.StatusFailed, ErrorCode: "E"}},
		})
	}
	return results
}

// summaryFigure is a key figure of the workbook's Summary: its value (column
// B), the words beside it (column C) and whether the value is a text cell.
type summaryFigure struct {
	value, note string
	isText      bool
}

// summaryFigures reads the figures of Summary by their label in column A.
func summaryFigures(t *testing.T, path string) map[string]summaryFigure {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]summaryFigure{}
	for i, row := range sheetRows(t, f, "Summary") {
		if len(row) < 2 || row[1] == "" {
			continue
		}
		var fig summaryFigure
		fig.value = row[1]
		if len(row) > 2 {
			fig.note = row[2]
		}
		typ, err := f.GetCellType("Summary", fmt.Sprintf("B%d", i+1))
		if err != nil {
			t.Fatal(err)
		}
		fig.isText = typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString
		out[row[0]] = fig
	}
	return out
}

// TestUnknownSaidAlike: what a run could not see (no instance audited) or
// did not look at (the staleness check off) is said in the same words by
// the HTML's cards and by the workbook's key figures, as text, never as a
// count of 0 that reads as nothing to fix; and summary.json gives no
// percentage of non-compliant instances where its outcomes give none.
func TestUnknownSaidAlike(t *testing.T) {
	const (
		nonCompliant = "Non-compliant instances"
		share        = "Non-compliant % of audited"
		failed       = "Failed associations"
		stale        = "Stale associations"
	)
	unknown := summaryFigure{"unknown", "nothing audited", true}
	off := summaryFigure{"off", "check turned off", true}
	for _, tc := range []struct {
		name       string
		results    []audit.Result
		staleAfter audit.StaleAfter
		want       map[string]summaryFigure
	}{
		{"nothing audited", blindFleet(4), audit.DefaultStaleAfter,
			map[string]summaryFigure{nonCompliant: unknown, share: unknown, failed: unknown, stale: unknown}},
		{"stale check off", fixtureNamed(t, "mixed").results, 0,
			map[string]summaryFigure{nonCompliant: {value: "3"}, failed: {value: "5"}, stale: off}},
		{"nothing audited, stale check off", blindFleet(4), 0,
			map[string]summaryFigure{nonCompliant: unknown, share: unknown, failed: unknown, stale: off}},
		{"audited, stale check on", fixtureNamed(t, "mixed").results, audit.DefaultStaleAfter,
			map[string]summaryFigure{nonCompliant: {value: "3"}, failed: {value: "5"}, stale: {value: "4"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := report.Options{
				Dir: t.TempDir(), Records: openRecord(t, tc.results), Run: fixtureRun(), StaleAfter: tc.staleAfter,
				Formats: []report.Format{report.FormatHTML, report.FormatXLSX, report.FormatJSON},
			}
			if _, err := report.Render(context.Background(), opts); err != nil {
				t.Fatal(err)
			}

			figs := summaryFigures(t, filepath.Join(opts.Dir, report.XLSXFile))
			for label, want := range tc.want {
				got, ok := figs[label]
				if !ok {
					t.Errorf("Summary has no figure %q", label)
					continue
				}
				if got != want {
					t.Errorf("Summary %q = %+v, want %+v", label, got, want)
				}
			}

			// The HTML's stale card in the workbook's words: the label,
			// the value, then the words under it.
			page, err := os.ReadFile(filepath.Join(opts.Dir, report.HTMLFile))
			if err != nil {
				t.Fatal(err)
			}
			card := byID(parseHTML(t, page), "card-stale")
			if card == nil {
				t.Fatal("report.html has no #card-stale")
			}
			s := figs[stale]
			if s.isText {
				if got, want := strings.Join(strings.Fields(text(card)), " "), stale+" "+s.value+" "+s.note; got != want {
					t.Errorf("report.html's stale card says %q, the workbook %q", got, want)
				}
			}
			// So does the non-compliant card: "0" with nothing audited
			// read as nothing to fix.
			nc := byID(parseHTML(t, page), "card-noncompliant")
			if nc == nil {
				t.Fatal("report.html has no #card-noncompliant")
			}
			if n := figs[nonCompliant]; n.isText {
				if got, want := strings.Join(strings.Fields(text(nc)), " "), "Non-compliant "+n.value+" "+n.note; got != want {
					t.Errorf("report.html's non-compliant card says %q, the workbook %q", got, want)
				}
			} else if got := strings.Fields(text(nc)); len(got) < 2 || got[1] != n.value {
				t.Errorf("report.html's non-compliant card says %q, the workbook %q", got, n.value)
			}

			// And the mail's text, the one a phone's preview shows.
			_, mailText := mailBody(t, buildModel(t, tc.results, fixtureRun()), report.MailOptions{})
			wantLine := "Non-compliant: " + figs[nonCompliant].value
			if figs[nonCompliant].isText {
				wantLine += " (" + figs[nonCompliant].note + ")"
			}
			if !strings.Contains(mailText, "\n  "+wantLine) {
				t.Errorf("the mail's text has no line %q:\n%s", wantLine, mailText)
			}

			var sum struct {
				Totals struct {
					PercentNoncompliant json.RawMessage `json:"percent_noncompliant"`
				} `json:"totals"`
				Outcomes []struct {
					Outcome audit.Outcome   `json:"outcome"`
					Percent json.RawMessage `json:"percent"`
				} `json:"outcomes"`
				Labels []struct {
					Key    string `json:"key"`
					Values []struct {
						Value               string          `json:"value"`
						Audited             int             `json:"audited"`
						PercentNoncompliant json.RawMessage `json:"percent_noncompliant"`
					} `json:"values"`
				} `json:"labels"`
			}
			b, err := os.ReadFile(filepath.Join(opts.Dir, report.SummaryFile))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &sum); err != nil {
				t.Fatal(err)
			}
			for _, o := range sum.Outcomes {
				if o.Outcome != audit.OutcomeNoncompliant {
					continue
				}
				if !bytes.Equal(sum.Totals.PercentNoncompliant, o.Percent) {
					t.Errorf("summary.json: totals.percent_noncompliant %s, outcomes' non-compliant percent %s", sum.Totals.PercentNoncompliant, o.Percent)
				}
			}
			if figs[share] == unknown && string(sum.Totals.PercentNoncompliant) != "null" {
				t.Errorf("summary.json: totals.percent_noncompliant %s with nothing audited, want null", sum.Totals.PercentNoncompliant)
			}
			// A label value none of whose instances was audited gives no
			// percentage either, as the By label sheet leaves its cell empty.
			for _, lb := range sum.Labels {
				for _, v := range lb.Values {
					if isNull := string(v.PercentNoncompliant) == "null"; isNull != (v.Audited == 0) {
						t.Errorf("summary.json: labels %s=%s: percent_noncompliant %s with %d audited", lb.Key, v.Value, v.PercentNoncompliant, v.Audited)
					}
				}
			}
		})
	}
}
