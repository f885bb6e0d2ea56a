package report_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
)

// noneLabelFixture has an owner whose value is literally "(none)", an
// instance without the owner label and one with an empty owner.
func noneLabelFixture() fixture {
	mk := func(id, outcome string, labels map[string]string) audit.Result {
		a := audit.Association{AssociationID: "a-1", Name: "doc", Status: audit.StatusSuccess, ExecutionDate: at(fresh)}
		if outcome == string(audit.OutcomeNoncompliant) {
			a.Status = audit.StatusFailed
		}
		return audit.Result{Region: east, InstanceID: id, Outcome: audit.Outcome(outcome), Labels: labels, Pages: 1, AuditedAt: runStart,
			Associations: []audit.Association{a}}
	}
	run := fixtureRun()
	run.Targets, run.Invalid = 3, 0
	return fixture{name: "none label", run: run, results: []audit.Result{
		mk("i-00000000000000001", string(audit.OutcomeNoncompliant), map[string]string{"owner": "(none)", "env": "prod"}),
		mk("i-00000000000000002", string(audit.OutcomeCompliant), map[string]string{"env": "prod"}),
		mk("i-00000000000000003", string(audit.OutcomeCompliant), map[string]string{"owner": "", "env": "prod"}),
	}}
}

// TestLabelValueNoneIsNotNoValue: a label whose value is "(none)" is a
// value of its own, apart from the instances without one, as --split-by
// keeps them.
func TestLabelValueNoneIsNotNoValue(t *testing.T) {
	fx := noneLabelFixture()
	m := buildModel(t, fx.results, fx.run)
	var found bool
	for _, lb := range m.Labels {
		if lb.Key != "owner" {
			continue
		}
		found = true
		type value struct {
			noValue   bool
			instances int
		}
		got := map[string]value{}
		for _, v := range lb.Values {
			got[v.Value+map[bool]string{true: " (no value)"}[v.NoValue]] = value{v.NoValue, v.Instances}
		}
		want := map[string]value{"(none)": {false, 1}, "(none) (no value)": {true, 2}}
		if len(got) != len(want) || got["(none)"] != want["(none)"] || got["(none) (no value)"] != want["(none) (no value)"] {
			t.Errorf("owner values = %+v, want %+v", got, want)
		}
		if lb.ValuesTotal != 2 {
			t.Errorf("owner ValuesTotal = %d, want 2", lb.ValuesTotal)
		}
	}
	if !found {
		t.Fatal("no owner breakdown")
	}

	f, _ := renderXLSX(t, fx)
	got := map[string]string{}
	for _, row := range sheetRows(t, f, "By label")[1:] {
		if row[0] == "owner" {
			for len(row) < 3 {
				row = append(row, "")
			}
			got[row[1]] = row[2]
		}
	}
	if len(got) != 2 || got["(none)"] != "1" || got[""] != "2" {
		t.Errorf("By label owner rows (value: instances) = %q, want (none): 1 and an empty value: 2", got)
	}
}

// TestLabelNoValueCountsBoth: the one row of the instances with no value
// of a key counts those that lack the key and those whose value is empty,
// audited ones included: its percentage non-compliant is of them all. It
// counted the audited of the empty ones alone, and said 100% of a row
// one of whose three instances was non-compliant.
func TestLabelNoValueCountsBoth(t *testing.T) {
	fx := noneLabelFixture()
	// Another instance without the owner label, non-compliant.
	r := fx.results[0]
	r.InstanceID, r.Labels = "i-00000000000000004", map[string]string{"env": "prod"}
	fx.results = append(fx.results, r)
	fx.run.Targets++
	m := buildModel(t, fx.results, fx.run)
	i := slices.Index(m.LabelKeys, "owner")
	if i < 0 {
		t.Fatal("no owner breakdown")
	}
	j := slices.IndexFunc(m.Labels[i].Values, func(v report.LabelValue) bool { return v.NoValue })
	if j < 0 {
		t.Fatal("no row of the instances without an owner")
	}
	v := m.Labels[i].Values[j]
	pct := "null"
	if v.PercentNoncompliant != nil {
		pct = fmt.Sprintf("%.2f%%", *v.PercentNoncompliant)
	}
	got := fmt.Sprintf("%d instances, %d audited, %d non-compliant, %s", v.Instances, v.Audited, v.Outcomes[audit.OutcomeNoncompliant], pct)
	if want := "3 instances, 3 audited, 1 non-compliant, 33.33%"; got != want {
		t.Errorf("owner without a value: %s, want %s", got, want)
	}
}
