package report_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
)

// stoppedFixture is an interrupted run of a 10-target list that got a
// verdict on its first 3 instances only: 7 targets have no result.
func stoppedFixture(t *testing.T) fixture {
	t.Helper()
	fx := fixtureNamed(t, "mixed")
	fx.name = "stopped"
	var kept []audit.Result
	for _, r := range fx.results {
		if r.Outcome.Audited() && len(kept) < 3 {
			kept = append(kept, r)
		}
	}
	fx.results = kept
	fx.run.Targets, fx.run.Invalid = 10, 0
	fx.run.Interrupted = true
	return fx
}

// TestTargetsWithoutResultCouldNotBeAudited: a run that stopped before
// most of its targets says, in every report, that those targets could not
// be audited; never "None".
func TestTargetsWithoutResultCouldNotBeAudited(t *testing.T) {
	const noResult = 7
	fx := stoppedFixture(t)

	t.Run("html", func(t *testing.T) {
		doc := parseHTML(t, renderHTML(t, fx.options(t)))
		card := text(byID(doc, "glance-unaudited"))
		if strings.Contains(card, "None") || !strings.Contains(card, "7 targets") {
			t.Errorf("Could not audit card = %q, want the 7 targets without a result", card)
		}
		if page := text(doc); strings.Contains(page, "every instance got a verdict") {
			t.Errorf("page says every instance got a verdict with %d targets without a result", noResult)
		}
		if section := byID(doc, "no-result"); section == nil || !strings.Contains(text(section), "7 targets have no result") {
			t.Error("the Could not audit section does not count the 7 targets without a result (no #no-result saying so)")
		}
	})

	t.Run("json", func(t *testing.T) {
		var got struct {
			Totals struct {
				WithoutResult *int `json:"without_result"`
			} `json:"totals"`
			Problems struct {
				WithoutResult *int `json:"without_result"`
			} `json:"problems"`
		}
		if err := json.Unmarshal(renderJSON(t, fx), &got); err != nil {
			t.Fatal(err)
		}
		for name, n := range map[string]*int{"totals": got.Totals.WithoutResult, "problems": got.Problems.WithoutResult} {
			if n == nil || *n != noResult {
				t.Errorf("%s.without_result = %v, want %d", name, n, noResult)
			}
		}
	})

	t.Run("mail", func(t *testing.T) {
		h, x := mailBody(t, buildModel(t, fx.results, fx.run), report.MailOptions{})
		for name, body := range map[string]string{"html": h, "text": x} {
			if strings.Contains(body, "every instance got a verdict") || !strings.Contains(body, "7 targets have no result") {
				t.Errorf("mail %s does not say the 7 targets have no result", name)
			}
		}
	})

	t.Run("xlsx", func(t *testing.T) {
		const (
			couldNotAudit = "Could not audit (not managed, errors, invalid, no result)"
			withoutResult = "of which targets without a result (not audited)"
		)
		f, _ := renderXLSX(t, fx)
		values := map[string]string{}
		for _, row := range sheetRows(t, f, "Summary") {
			if len(row) > 1 {
				values[row[0]] = row[1]
			}
		}
		if got := values[couldNotAudit]; got != "7" {
			t.Errorf("Summary %q = %q, want 7", couldNotAudit, got)
		}
		if got := values[withoutResult]; got != "7" {
			t.Errorf("Summary %q = %q, want 7", withoutResult, got)
		}
	})
}

// TestCompleteRunEveryVerdict: a complete run with no problem still says
// that every instance got a verdict.
func TestCompleteRunEveryVerdict(t *testing.T) {
	fx := stoppedFixture(t)
	fx.run.Targets, fx.run.Interrupted, fx.run.Complete = 3, false, true
	doc := parseHTML(t, renderHTML(t, fx.options(t)))
	if card := text(byID(doc, "glance-unaudited")); !strings.Contains(card, "None: every instance got a verdict") {
		t.Errorf("Could not audit card = %q, want None", card)
	}
}
