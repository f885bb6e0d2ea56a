package report_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/auditor-dev/auditor/audit"
)

// oneInManyFixture is 1 non-compliant instance among 20,001 audited: a
// share of 0.005%, which two decimals round to 0, and its complement to
// 100.
func oneInManyFixture() fixture {
	const n = 20001
	results := make([]audit.Result, 0, n)
	for i := range n {
		r := audit.Result{Region: "us-east-1", InstanceID: fmt.Sprintf("i-%017x", i), Outcome: audit.OutcomeCompliant, Pages: 1, AuditedAt: runStart,
			Associations: []audit.Association{{AssociationID: "a-1", Name: "AWS-RunPatchBaseline", Status: audit.StatusSuccess, ExecutionDate: at(fresh)}}}
		if i == 0 {
			r.Outcome = audit.OutcomeNoncompliant
			r.Associations[0].Status = audit.StatusFailed
		}
		results = append(results, r)
	}
	run := fixtureRun()
	run.Targets, run.Invalid, run.Complete = n, 0, true
	return fixture{name: "one in many", run: run, results: results}
}

// TestShareNeitherNoneNorAll: a share that is neither none nor all never
// shows as 0% or 100%, in any format, and the fleet bar shows the failure.
func TestShareNeitherNoneNorAll(t *testing.T) {
	fx := oneInManyFixture()
	fx.results = fx.results[:len(fx.results):len(fx.results)]

	t.Run("json", func(t *testing.T) {
		var got struct {
			Totals struct {
				PercentNoncompliant float64 `json:"percent_noncompliant"`
			} `json:"totals"`
			Outcomes []struct {
				Outcome audit.Outcome `json:"outcome"`
				Percent *float64      `json:"percent"`
			} `json:"outcomes"`
		}
		if err := json.Unmarshal(renderJSON(t, fx), &got); err != nil {
			t.Fatal(err)
		}
		if p := got.Totals.PercentNoncompliant; p <= 0 || p >= 100 {
			t.Errorf("percent_noncompliant = %v, want neither 0 nor 100", p)
		}
		for _, o := range got.Outcomes {
			if o.Outcome != audit.OutcomeCompliant && o.Outcome != audit.OutcomeNoncompliant {
				continue
			}
			if o.Percent == nil || *o.Percent <= 0 || *o.Percent >= 100 {
				t.Errorf("%s percent = %s, want neither 0 nor 100", o.Outcome, pointee(o.Percent))
			}
		}
	})

	t.Run("html", func(t *testing.T) {
		doc := parseHTML(t, renderHTML(t, fx.options(t)))
		if h := text(byID(doc, "headline")); !strings.Contains(h, "(<0.01%)") {
			t.Errorf("headline %q, want the share as <0.01%%", h)
		}
		cards := text(byID(doc, "cards"))
		for _, w := range []string{"Compliant\n20,000\n>99.99%", "Non-compliant\n1\n<0.01%"} {
			if !strings.Contains(cards, w) {
				t.Errorf("cards %q do not say %q", cards, w)
			}
		}
		total, red := 0, 0
		for _, td := range elements(byID(doc, "fleet-bar")) {
			if td.Data != "td" {
				continue
			}
			w, _ := attr(td, "width")
			n, err := strconv.Atoi(strings.TrimSuffix(w, "%"))
			if err != nil {
				t.Fatalf("bar width %q", w)
			}
			total += n
			if bg, _ := attr(td, "bgcolor"); bg == "#cf222e" {
				red = n
			}
		}
		if red < 1 || total != 100 {
			t.Errorf("fleet bar: red %d%% of %d%%, want at least 1%% of 100%%", red, total)
		}
	})

	t.Run("xlsx", func(t *testing.T) {
		f, _ := renderXLSX(t, fx)
		rows := sheetRows(t, f, "Summary")
		seen := 0
		for i, row := range rows {
			if len(row) < 3 || (row[0] != "Compliant" && row[0] != "Non-compliant") {
				continue
			}
			seen++
			shown, err := f.GetCellValue("Summary", fmt.Sprintf("C%d", i+1))
			if err != nil {
				t.Fatal(err)
			}
			if shown == "0.00%" || shown == "100.00%" {
				t.Errorf("Summary %s shows %q, a share that is neither none nor all", row[0], shown)
			}
			raw, _ := f.GetCellValue("Summary", fmt.Sprintf("C%d", i+1), excelize.Options{RawCellValue: true})
			if v, err := strconv.ParseFloat(raw, 64); err != nil || v <= 0 || v >= 1 {
				t.Errorf("Summary %s holds %q, want the exact fraction", row[0], raw)
			}
		}
		if seen != 2 {
			t.Errorf("found %d outcome rows with a percentage on Summary, want 2", seen)
		}
		for _, label := range []string{"Non-compliant % of audited"} {
			for i, row := range rows {
				if len(row) > 1 && row[0] == label {
					if shown, _ := f.GetCellValue("Summary", fmt.Sprintf("B%d", i+1)); shown == "0.00%" {
						t.Errorf("Summary %q shows 0.00%%", label)
					}
				}
			}
		}
	})
}

func pointee(p *float64) string {
	if p == nil {
		return "null"
	}
	return strconv.FormatFloat(*p, 'g', -1, 64)
}
