package report_test

import (
	"encoding/json"
	"fmt"
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

	t.Run("headline", func(t *testing.T) {
		// The headline, summary.json's too, counts the list, not the record.
		m := buildModel(t, fx.results, fx.run)
		if !strings.Contains(m.Headline, "7 without a result") {
			t.Errorf("headline %q does not count the 7 targets without a result", m.Headline)
		}
		none := fx
		none.results = nil
		if m := buildModel(t, none.results, none.run); m.Headline != "No instance audited of 10, 10 without a result (run interrupted)" {
			t.Errorf("headline of a run stopped before any result: %q", m.Headline)
		}
	})

	t.Run("state", func(t *testing.T) {
		// An endpoint given up on, not a signal: About's State counts
		// the targets it left as the closing lines do.
		down := stoppedFixture(t)
		down.run.Interrupted = false
		down.run.Error = "http://127.0.0.1:1 is failing"
		for _, d := range buildModel(t, down.results, down.run).About {
			if d.Label == "State" && !strings.Contains(d.Value, "7 targets without a result") {
				t.Errorf("State %q does not count the 7 targets without a result", d.Value)
			}
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

// TestReportSaysWhatOfTheListItCovers: the headline area counts the list's
// targets, names the count with a result as such, and says when the report
// covers one shard of the list.
func TestReportSaysWhatOfTheListItCovers(t *testing.T) {
	shard := stoppedFixture(t)
	shard.run.Targets, shard.run.Interrupted, shard.run.Complete = 3, false, true
	shard.run.Parts = []audit.Part{{Fleet: "f0", List: "whole", Shard: "0/2", Targets: 3}}
	merged := shard
	merged.run.Targets = 3
	merged.run.Parts = []audit.Part{
		{Fleet: "f0", List: "whole", Shard: "0/2", Targets: 2},
		{Fleet: "f1", List: "whole", Shard: "1/2", Targets: 1},
	}
	// Every shard merged, one record without its run.json: the targets
	// are unknown, and the merge is no one shard's report.
	undescribed := merged
	undescribed.run.Targets = 0
	undescribed.run.Parts = merged.run.Parts[:1]
	undescribed.run.Error = "no run.json beside sh1/results.jsonl: completeness unknown"
	// Nodes found by discovery are no list's.
	discovered := shard
	discovered.run.Parts = []audit.Part{{Fleet: audit.DiscoveryPrefix + "org/all/", List: audit.DiscoveryPrefix + "org/all/", Targets: 3}}
	for _, tc := range []struct {
		name          string
		fx            fixture
		basis         []string
		notBasis      []string
		scope         bool // a #scope line, the headline and State name shard 0/2
		xlsxLabel     string
		xlsxTargets   string
		xlsxInstances string
	}{
		{"stopped", stoppedFixture(t), []string{"10 targets in the list", "3 with a result"}, []string{"instances in the list"},
			false, "Targets in the list", "10", "3"},
		{"shard", shard, []string{"3 targets in shard 0/2 of the list"}, []string{"instances in the list", "with a result"},
			true, "Targets in shard 0/2 of the list", "3", "3"},
		{"every shard merged", merged, []string{"3 targets in the list"}, []string{"shard"},
			false, "Targets in the list", "3", "3"},
		{"every shard merged, one without run.json", undescribed, []string{"3 instances in the record"}, []string{"shard", "in the list"},
			false, "", "", "3"},
		{"discovered", discovered, []string{"3 targets discovered"}, []string{"in the list"},
			false, "Targets discovered", "3", "3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := parseHTML(t, renderHTML(t, tc.fx.options(t)))
			basis := text(byID(doc, "basis"))
			for _, w := range tc.basis {
				if !strings.Contains(basis, w) {
					t.Errorf("#basis %q does not say %q", basis, w)
				}
			}
			for _, w := range tc.notBasis {
				if strings.Contains(basis, w) {
					t.Errorf("#basis %q says %q", basis, w)
				}
			}
			m := buildModel(t, tc.fx.results, tc.fx.run)
			var state string
			for _, d := range m.About {
				if d.Label == "State" {
					state = d.Value
				}
			}
			scope := byID(doc, "scope")
			if got := scope != nil && strings.Contains(text(scope), "shard 0/2"); got != tc.scope {
				t.Errorf("a #scope naming shard 0/2: %v, want %v", got, tc.scope)
			}
			for what, s := range map[string]string{"headline": m.Headline, "State": state} {
				if got := strings.Contains(s, "shard 0/2"); got != tc.scope {
					t.Errorf("%s %q names shard 0/2: %v, want %v", what, s, got, tc.scope)
				}
			}

			f, _ := renderXLSX(t, tc.fx)
			values := map[string]string{}
			for _, row := range sheetRows(t, f, "Summary") {
				if len(row) > 1 {
					values[row[0]] = row[1]
				}
			}
			if tc.xlsxLabel == "" {
				for k := range values {
					if strings.HasPrefix(k, "Targets in") || strings.HasPrefix(k, "Targets discovered") {
						t.Errorf("Summary has %q, want no count of targets where they are unknown", k)
					}
				}
			} else if got := values[tc.xlsxLabel]; got != tc.xlsxTargets {
				t.Errorf("Summary %q = %q, want %s", tc.xlsxLabel, got, tc.xlsxTargets)
			}
			if got := values["Instances with a result"]; got != tc.xlsxInstances {
				t.Errorf("Summary \"Instances with a result\" = %q, want %s", got, tc.xlsxInstances)
			}
		})
	}
}

// TestScopeOfADiscoveryThatFoundNothing: a discovery that listed no node
// knows its targets, none; its scope says so, as a discovery's does, not
// "0 instances in the record", the words of a record whose targets are
// unknown.
func TestScopeOfADiscoveryThatFoundNothing(t *testing.T) {
	run := fixtureRun()
	run.Targets, run.Invalid, run.Duplicates = 0, 0, 0
	run.Parts = []audit.Part{{Fleet: audit.DiscoveryPrefix + "org/all/", List: audit.DiscoveryPrefix + "org/all/"}}
	if m := buildModel(t, nil, run); m.Scope != "0 targets discovered" {
		t.Errorf("scope %q, want %q", m.Scope, "0 targets discovered")
	}
}

// TestScopeOfADiscoveryWithoutItsTargets: a merge of discoveries, one of
// them without its run.json, knows no targets (0) but has results: its
// scope is the record's, not "0 targets discovered".
func TestScopeOfADiscoveryWithoutItsTargets(t *testing.T) {
	fx := stoppedFixture(t)
	run := fx.run
	run.Targets, run.Invalid, run.Duplicates = 0, 0, 0
	run.Parts = []audit.Part{{Fleet: audit.DiscoveryPrefix + "org/all/", List: audit.DiscoveryPrefix + "org/all/", Targets: 2}}
	if m := buildModel(t, fx.results, run); !strings.HasSuffix(m.Scope, "in the record") {
		t.Errorf("scope %q, want the record's instances", m.Scope)
	}
}

// TestTargetsUnknownIsNoneWithoutResult: a record whose run does not say
// how many targets it had (Targets zero: a run.json of an older version,
// or none) or says fewer than it holds, has no target without a result:
// never a count below zero in summary.json or a report.
func TestTargetsUnknownIsNoneWithoutResult(t *testing.T) {
	for _, targets := range []int{0, 2} {
		t.Run(fmt.Sprint(targets, " targets"), func(t *testing.T) {
			fx := fixtureNamed(t, "mixed")
			fx.run.Targets, fx.run.Invalid = targets, 0
			var got struct {
				Totals struct {
					Instances     int `json:"instances"`
					WithoutResult int `json:"without_result"`
				} `json:"totals"`
				Problems struct {
					WithoutResult int `json:"without_result"`
				} `json:"problems"`
				Headline string `json:"headline"`
			}
			if err := json.Unmarshal(renderJSON(t, fx), &got); err != nil {
				t.Fatal(err)
			}
			if got.Totals.Instances <= targets || got.Totals.WithoutResult != 0 || got.Problems.WithoutResult != 0 {
				t.Errorf("%d instances: totals.without_result %d, problems.without_result %d, want 0", got.Totals.Instances, got.Totals.WithoutResult, got.Problems.WithoutResult)
			}
			if strings.Contains(got.Headline, "without a result") {
				t.Errorf("headline %q", got.Headline)
			}
		})
	}
}
