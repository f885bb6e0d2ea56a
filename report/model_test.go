package report_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
)

// build builds the Model of results with the CLI's default stale rule, after
// edit changes the Options.
func build(t *testing.T, results []audit.Result, run audit.RunInfo, edit func(*report.Options)) *report.Model {
	t.Helper()
	opts := report.Options{Records: openRecord(t, results), Run: run, StaleAfter: audit.DefaultStaleAfter}
	if edit != nil {
		edit(&opts)
	}
	m, err := report.Build(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// tally is the test's own count of a fleet, written straight from the
// results, without the package's helpers.
type tally struct {
	instances, audited, associations, partial int
	outcomes                                  map[audit.Outcome]int
	statuses, detailed                        map[string]int
	codeAssocs, codeInstances                 map[string]int
	groups                                    map[string][5]int // "name|doc" -> total, success, failed, pending, other
	docs                                      map[string]int    // doc -> rows
	locations                                 map[string]int    // "account|region|outcome" -> instances
	failures, stale                           []string          // "account|region|instance|association id", in the Model's order
	noAssociations, problems                  int
	labelKeys                                 []string
}

// failureKey names a Failed row's failure as the Model is documented to.
func failureKey(a audit.Association) string {
	switch {
	case a.ErrorCode != "":
		return a.ErrorCode
	case a.DetailedStatus != "":
		return a.DetailedStatus + " (no error code)"
	}
	return "No error code"
}

// listed is a row of a list and what the list is ordered by.
type listed struct {
	account, region, instance, assoc string
	failed                           int       // the instance's Failed rows
	date                             time.Time // zero: never ran
}

func (l listed) id() string {
	return strings.Join([]string{l.account, l.region, l.instance, l.assoc}, "|")
}

func (l listed) keyCmp(o listed) int {
	return cmp.Or(strings.Compare(l.account, o.account), strings.Compare(l.region, o.region),
		strings.Compare(l.instance, o.instance), strings.Compare(l.assoc, o.assoc))
}

func countFleet(results []audit.Result, staleBefore time.Time) tally {
	tl := tally{
		outcomes: map[audit.Outcome]int{}, statuses: map[string]int{}, detailed: map[string]int{},
		codeAssocs: map[string]int{}, codeInstances: map[string]int{}, groups: map[string][5]int{},
		docs: map[string]int{}, locations: map[string]int{},
	}
	keys := map[string]bool{}
	var failures, stale []listed
	for _, r := range results {
		tl.instances++
		tl.outcomes[r.Outcome]++
		// Not managed, error and invalid instances have no verdict on
		// their associations.
		if r.Outcome != audit.OutcomeError && r.Outcome != audit.OutcomeInvalid && r.Outcome != audit.OutcomeNotManaged {
			tl.audited++
		}
		tl.locations[r.AccountID+"|"+r.Region+"|"+string(r.Outcome)]++
		switch r.Outcome {
		case audit.OutcomeNoAssociations:
			tl.noAssociations++
		case audit.OutcomeNotManaged, audit.OutcomeError, audit.OutcomeInvalid:
			tl.problems++
		}
		for k := range r.Labels {
			keys[k] = true
		}
		if r.Outcome == audit.OutcomeError {
			// Rows of an audit that stopped partway count nowhere.
			tl.partial += len(r.Associations)
			continue
		}
		if r.Detail == "overview" && r.Info != nil && r.Info.AssociationOverview != nil {
			// Summarised from its overview: no rows, and its associations
			// counted from the overview's counts by Status, which gives no
			// DetailedStatus, name or document.
			for st, n := range r.Info.AssociationOverview.InstanceAssociationStatusAggregatedCount {
				tl.associations += n
				tl.statuses[st] += n
			}
		}
		failed := 0
		for _, a := range r.Associations {
			if a.Status == "Failed" {
				failed++
			}
		}
		codesHere := map[string]bool{}
		for _, a := range r.Associations {
			tl.associations++
			st, ds := a.Status, a.DetailedStatus
			if st == "" {
				st = "(none)"
			}
			if ds == "" {
				ds = "(none)"
			}
			tl.statuses[st]++
			tl.detailed[ds]++
			name := a.AssociationName
			if name == "" {
				name = a.AssociationID
			}
			g := tl.groups[name+"|"+a.Name]
			g[0]++
			col := map[string]int{"Success": 1, "Failed": 2, "Pending": 3}[a.Status]
			if col == 0 {
				col = 4
			}
			g[col]++
			tl.groups[name+"|"+a.Name] = g
			tl.docs[a.Name]++
			row := listed{account: r.AccountID, region: r.Region, instance: r.InstanceID, assoc: a.AssociationID, failed: failed}
			if a.ExecutionDate != nil {
				row.date = *a.ExecutionDate
			}
			if a.ExecutionDate == nil || a.ExecutionDate.Before(staleBefore) {
				stale = append(stale, row)
			}
			if a.Status == "Failed" {
				failures = append(failures, row)
				code := failureKey(a)
				tl.codeAssocs[code]++
				if !codesHere[code] {
					codesHere[code] = true
					tl.codeInstances[code]++
				}
			}
		}
	}
	// Failures: the instances with the most first; stale: never ran, then
	// oldest first; then key and association ID.
	slices.SortFunc(failures, func(x, y listed) int { return cmp.Or(cmp.Compare(y.failed, x.failed), x.keyCmp(y)) })
	slices.SortFunc(stale, func(x, y listed) int { return cmp.Or(x.date.Compare(y.date), x.keyCmp(y)) })
	for _, f := range failures {
		tl.failures = append(tl.failures, f.id())
	}
	for _, f := range stale {
		tl.stale = append(tl.stale, f.id())
	}
	tl.labelKeys = slices.Sorted(maps.Keys(keys))
	return tl
}

func rowIDs(rows []report.Row) []string {
	var out []string
	for _, r := range rows {
		out = append(out, strings.Join([]string{r.AccountID, r.Region, r.InstanceID, r.AssociationID}, "|"))
	}
	return out
}

func nameCountMap(ncs []report.NameCount) map[string]int {
	out := map[string]int{}
	for _, nc := range ncs {
		out[nc.Name] = nc.Count
	}
	return out
}

// TestModelCounts checks the Model of every fixture against the test's own
// tally of the same results.
func TestModelCounts(t *testing.T) {
	for _, fx := range fixtures(t) {
		t.Run(fx.name, func(t *testing.T) {
			m := build(t, fx.results, fx.run, nil)
			want := countFleet(fx.results, runStart.Add(-7*24*time.Hour))

			if m.Schema != 2 {
				t.Errorf("schema %d, want 2", m.Schema)
			}
			if m.Totals.Instances != want.instances || m.Totals.Audited != want.audited || m.Totals.Associations != want.associations ||
				m.Totals.PartialAssociations != want.partial {
				t.Errorf("totals %d instances, %d audited, %d associations, %d partial; want %d, %d, %d, %d",
					m.Totals.Instances, m.Totals.Audited, m.Totals.Associations, m.Totals.PartialAssociations,
					want.instances, want.audited, want.associations, want.partial)
			}
			if len(m.Outcomes) != len(audit.Outcomes()) {
				t.Fatalf("%d outcomes, want one per audit.Outcomes()", len(m.Outcomes))
			}
			for i, o := range audit.Outcomes() {
				got := m.Outcomes[i]
				if got.Outcome != o || got.Instances != want.outcomes[o] {
					t.Errorf("outcomes[%d] = %s %d, want %s %d", i, got.Outcome, got.Instances, o, want.outcomes[o])
				}
				if n, ok := m.Totals.Outcomes[o]; !ok || n != want.outcomes[o] {
					t.Errorf("totals.outcomes[%s] = %d (present %v), want %d", o, n, ok, want.outcomes[o])
				}
				// One basis: the audited instances, for verdicts only.
				switch {
				case !o.Audited() || want.audited == 0:
					if got.Percent != nil {
						t.Errorf("outcomes[%s] percent %v, want null", o, *got.Percent)
					}
				case got.Percent == nil:
					t.Errorf("outcomes[%s] percent null, want a share of the audited", o)
				default:
					p := float64(want.outcomes[o]) * 100 / float64(want.audited)
					if d := *got.Percent - p; d > 0.005 || d < -0.005 {
						t.Errorf("outcomes[%s] percent %v, want %.2f of the audited", o, *got.Percent, p)
					}
				}
			}
			switch got := m.Totals.PercentNoncompliant; {
			case want.audited == 0:
				if got != nil {
					t.Errorf("percent noncompliant %v with nothing audited, want null", *got)
				}
			case got == nil:
				t.Error("percent noncompliant null, want a share of the audited")
			default:
				pct := float64(want.outcomes[audit.OutcomeNoncompliant]) * 100 / float64(want.audited)
				if d := *got - pct; d > 0.005 || d < -0.005 {
					t.Errorf("percent noncompliant %v, want %.2f", *got, pct)
				}
			}
			if got := nameCountMap(m.Statuses); !maps.Equal(got, want.statuses) {
				t.Errorf("statuses %v, want %v", got, want.statuses)
			}
			if got := nameCountMap(m.DetailedStatuses); !maps.Equal(got, want.detailed) {
				t.Errorf("detailed statuses %v, want %v", got, want.detailed)
			}
			gotCodes, gotCodeInst := map[string]int{}, map[string]int{}
			for _, ec := range m.ErrorCodes {
				gotCodes[ec.Name] = ec.Associations
				gotCodeInst[ec.Name] = ec.Instances
				if len(ec.ExampleInstanceIDs) != min(ec.Instances, report.DefaultTop) {
					t.Errorf("failure %q: %d examples for %d instances", ec.Name, len(ec.ExampleInstanceIDs), ec.Instances)
				}
			}
			if !maps.Equal(gotCodes, want.codeAssocs) || !maps.Equal(gotCodeInst, want.codeInstances) {
				t.Errorf("error codes %v / instances %v, want %v / %v", gotCodes, gotCodeInst, want.codeAssocs, want.codeInstances)
			}
			gotGroups := map[string][5]int{}
			for _, g := range m.Associations {
				gotGroups[g.Association+"|"+g.Document] = [5]int{g.Total, g.Success, g.Failed, g.Pending, g.Other}
				if g.Total != g.Success+g.Failed+g.Pending+g.Other {
					t.Errorf("group %s/%s: total %d is not the sum of its statuses", g.Association, g.Document, g.Total)
				}
			}
			if !maps.Equal(gotGroups, want.groups) {
				t.Errorf("association groups %v, want %v", gotGroups, want.groups)
			}
			gotDocs := map[string]int{}
			for _, g := range m.Documents {
				gotDocs[g.Document] = g.Total
			}
			if !maps.Equal(gotDocs, want.docs) {
				t.Errorf("documents %v, want %v", gotDocs, want.docs)
			}
			gotLocs := map[string]int{}
			for _, l := range m.Locations {
				sum := 0
				for o, n := range l.Outcomes {
					sum += n
					if n > 0 {
						gotLocs[l.AccountID+"|"+l.Region+"|"+string(o)] = n
					}
				}
				if sum != l.Instances {
					t.Errorf("location %s/%s: %d instances, outcomes sum to %d", l.AccountID, l.Region, l.Instances, sum)
				}
			}
			if !maps.Equal(gotLocs, want.locations) {
				t.Errorf("locations %v, want %v", gotLocs, want.locations)
			}
			if got := rowIDs(m.Failures.Rows); m.Failures.Count != len(want.failures) || !slices.Equal(got, want.failures) {
				t.Errorf("failures %d %q, want %d %q", m.Failures.Count, got, len(want.failures), want.failures)
			}
			if got := rowIDs(m.Stale.Rows); m.Stale.Count != len(want.stale) || !slices.Equal(got, want.stale) {
				t.Errorf("stale %d %q, want %d %q", m.Stale.Count, got, len(want.stale), want.stale)
			}
			if m.NoAssociations.Count != want.noAssociations || len(m.NoAssociations.Instances) != want.noAssociations {
				t.Errorf("no associations %d (%d listed), want %d", m.NoAssociations.Count, len(m.NoAssociations.Instances), want.noAssociations)
			}
			if m.Problems.Count != want.problems || len(m.Problems.Items) != want.problems {
				t.Errorf("problems %d (%d listed), want %d", m.Problems.Count, len(m.Problems.Items), want.problems)
			}
			if !slices.Equal(m.LabelKeys, want.labelKeys) && !(len(m.LabelKeys) == 0 && len(want.labelKeys) == 0) {
				t.Errorf("label keys %q, want %q", m.LabelKeys, want.labelKeys)
			}
		})
	}
}

// TestModelMixed pins values of the mixed fixture that the tally does not
// cover: order of lists, names, the headline.
func TestModelMixed(t *testing.T) {
	fx := fixtureNamed(t, "mixed")
	m := build(t, fx.results, fx.run, nil)

	wantHeadline := "3 of 7 audited instances non-compliant (42.86%), 1 pending, 1 not managed, 1 not audited (error), 1 invalid"
	if m.Headline != wantHeadline {
		t.Errorf("headline %q, want %q", m.Headline, wantHeadline)
	}
	var codes []string
	for _, ec := range m.ErrorCodes {
		codes = append(codes, fmt.Sprintf("%s[%s]:%d:%d", ec.Name, ec.Code, ec.Associations, ec.Instances))
	}
	// By associations descending, then name; the Failed rows without a
	// code are named by their DetailedStatus, and their Code is empty. The
	// partial row of the error instance (ScriptFailed) counts nowhere.
	wantCodes := []string{"Failed (no error code)[]:2:2", "ScriptFailed[ScriptFailed]:2:2", "Timeout[Timeout]:1:1"}
	if !slices.Equal(codes, wantCodes) {
		t.Errorf("error codes %q, want %q", codes, wantCodes)
	}
	sf := m.ErrorCodes[1]
	if want := []string{"i-00000000000000002", "i-00000000000000010"}; !slices.Equal(sf.ExampleInstanceIDs, want) {
		t.Errorf("ScriptFailed examples %q, want %q (key order)", sf.ExampleInstanceIDs, want)
	}
	none := m.ErrorCodes[0]
	if want := []string{"Custom-Hardening (b-unname)", "inventory"}; !slices.Equal(none.AssociationNames, want) || none.AssociationNamesTotal != 2 {
		t.Errorf("no-code names %q (total %d), want %q: the unnamed association goes by its document and short ID", none.AssociationNames, none.AssociationNamesTotal, want)
	}

	var worst []string
	for _, w := range m.WorstInstances {
		worst = append(worst, fmt.Sprintf("%s:%d:%d", w.InstanceID, w.Failed, w.Stale))
	}
	// i-2 and i-10 tie on 2 failures: i-2 has a stale one.
	if want := []string{"i-00000000000000002:2:1", "i-00000000000000010:2:0", "i-00000000000000008:1:1"}; !slices.Equal(worst, want) {
		t.Errorf("worst instances %q, want %q", worst, want)
	}
	if got, want := m.WorstInstances[0].ErrorCodes, []string{"Failed (no error code)", "ScriptFailed"}; !slices.Equal(got, want) {
		t.Errorf("worst[0] failures %q, want %q", got, want)
	}

	var groups []string
	for _, g := range m.Associations {
		groups = append(groups, fmt.Sprintf("%s|%s/%s:%d/%d", g.Name, g.Association, g.Document, g.Failed, g.Total))
	}
	// Failed descending, then pending and other, then stale, then name.
	wantGroups := []string{
		"patch-baseline|patch-baseline/AWS-RunPatchBaseline:2/5",
		"Custom-Hardening (b-unname)|b-unnamed/Custom-Hardening:1/1",
		"inventory|inventory/AWS-GatherSoftwareInventory:1/1",
		"update-agent|update-agent/AWS-UpdateSSMAgent:1/4",
		"Custom-Hardening (a-custom)|a-custom/Custom-Hardening:0/1",
	}
	if !slices.Equal(groups, wantGroups) {
		t.Errorf("association groups %q, want %q", groups, wantGroups)
	}
	if g := m.Associations[0]; g.SuccessRate != 40 || g.Instances != 5 || g.Pending != 1 || g.Stale != 2 {
		t.Errorf("patch-baseline group %+v, want success rate 40, 5 instances, 1 pending, 2 stale", g)
	}

	var locs []string
	for _, l := range m.Locations {
		locs = append(locs, l.AccountID+"/"+l.Region)
	}
	if want := []string{"/", acct1 + "/" + west, acct1 + "/" + east, acct2 + "/" + west, acct2 + "/" + east}; !slices.Equal(locs, want) {
		t.Errorf("locations %q, want %q", locs, want)
	}
	var probs []string
	for _, p := range m.Problems.Items {
		probs = append(probs, fmt.Sprintf("%s:%s:%d", p.Outcome, p.Code, p.PartialAssociations))
	}
	// Errors first (a later run can retry them), then not managed, then
	// invalid input.
	if want := []string{"error:ThrottlingException:1", "not_managed:InvalidInstanceId:0", "invalid:Invalid:0"}; !slices.Equal(probs, want) {
		t.Errorf("problems %q, want %q", probs, want)
	}
	var statuses []string
	for _, s := range m.Statuses {
		statuses = append(statuses, fmt.Sprintf("%s:%d", s.Name, s.Count))
	}
	// Count descending, ties by name; not the partial row.
	if want := []string{"Failed:5", "Success:5", "InProgress:1", "Pending:1"}; !slices.Equal(statuses, want) {
		t.Errorf("statuses %q, want %q", statuses, want)
	}
	if m.Run.StartedAt == nil || !m.Run.StartedAt.Equal(runStart) || m.Run.Version != "1.2.3-test" || m.Run.Stats.Calls != 14 {
		t.Errorf("run metadata %+v not copied from RunInfo", m.Run)
	}
	var failures []string
	for _, r := range m.Failures.Rows {
		failures = append(failures, r.InstanceID[len(r.InstanceID)-2:]+"/"+r.AssociationID+"/"+r.Failure)
	}
	if want := []string{"02/a-inventory/Failed (no error code)", "02/a-patch/ScriptFailed", "10/a-agent/Timeout", "10/a-patch/ScriptFailed", "08/b-unnamed/Failed (no error code)"}; !slices.Equal(failures, want) {
		t.Errorf("failures %q, want %q", failures, want)
	}
}

// TestModelLabels checks the breakdown by label value of the mixed fleet:
// every key's values account for every instance, an instance without the
// key counting under (none).
func TestModelLabels(t *testing.T) {
	fx := fixtureNamed(t, "mixed")
	m := build(t, fx.results, fx.run, nil)
	if len(m.Labels) != len(m.LabelKeys) {
		t.Fatalf("%d label breakdowns for %d keys", len(m.Labels), len(m.LabelKeys))
	}
	got := map[string]string{}
	for _, lb := range m.Labels {
		instances, audited, failed := 0, 0, 0
		for _, v := range lb.Values {
			instances += v.Instances
			audited += v.Audited
			failed += v.Associations.Failed
			pct := "null"
			if p := v.PercentNoncompliant; p != nil {
				pct = fmt.Sprintf("%v%%", *p)
			}
			got[lb.Key+"="+v.Value] = fmt.Sprintf("%d/%d nc=%d failed=%d stale=%d %s",
				v.Instances, v.Audited, v.Outcomes[audit.OutcomeNoncompliant], v.Associations.Failed, v.Associations.Stale, pct)
		}
		if instances != m.Totals.Instances || audited != m.Totals.Audited || failed != m.Failures.Count || lb.ValuesTotal != len(lb.Values) {
			t.Errorf("label %s: values sum to %d instances, %d audited, %d failed (total %d values); want %d, %d, %d",
				lb.Key, instances, audited, failed, lb.ValuesTotal, m.Totals.Instances, m.Totals.Audited, m.Failures.Count)
		}
	}
	for k, want := range map[string]string{
		// i-10 (2 failed) and i-8 (1 failed, stale): both non-compliant.
		"owner=data": "2/2 nc=2 failed=3 stale=1 100%",
		// i-1, i-2 (2 failed, 1 stale), i-3 (pending, never ran: stale).
		"owner=web":   "3/3 nc=1 failed=2 stale=2 33.33%",
		"owner=batch": "1/1 nc=0 failed=0 stale=0 0%",
		// i-5, i-6 (error: its partial row counts nowhere), the invalid
		// line, and i-9 (1 stale).
		"owner=(none)": "4/1 nc=0 failed=0 stale=1 0%",
		"env=prod":     "2/2 nc=1 failed=2 stale=0 50%",
	} {
		if got[k] != want {
			t.Errorf("%s: %q, want %q", k, got[k], want)
		}
	}
	if lb := m.Labels[slices.Index(m.LabelKeys, "owner")]; lb.Values[0].Value != "data" {
		t.Errorf("owner values start with %q, want the one with the most non-compliant instances", lb.Values[0].Value)
	}
}

func TestModelEmpty(t *testing.T) {
	m := build(t, nil, audit.RunInfo{}, nil)
	if m.Headline != "No instances in the record" {
		t.Errorf("headline %q", m.Headline)
	}
	if m.Run.StartedAt != nil || m.Settings.StaleBefore != nil {
		t.Errorf("unknown times not null: started %v, stale before %v", m.Run.StartedAt, m.Settings.StaleBefore)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	// Lists and maps are [] and {} rather than null, so a dashboard can
	// iterate without checks.
	for _, field := range []string{`"statuses":[]`, `"error_codes":[]`, `"worst_instances":[]`, `"rows":[]`, `"items":[]`, `"label_keys":[]`, `"options":{}`, `"instances":[]`} {
		if !strings.Contains(string(b), field) {
			t.Errorf("empty model has no %s: %s", field, b)
		}
	}
}

func TestModelStale(t *testing.T) {
	mk := func(d *time.Time, audited time.Time) audit.Result {
		return audit.Result{
			AccountID: acct1, Region: east, InstanceID: "i-00000000000000001", Outcome: audit.OutcomeCompliant, AuditedAt: audited,
			Associations: []audit.Association{{AssociationID: "a", Status: audit.StatusSuccess, ExecutionDate: d}},
		}
	}
	run := fixtureRun()
	noStart := fixtureRun()
	noStart.StartedAt = time.Time{}
	day := 24 * time.Hour
	resumed := fixtureRun()
	resumed.Attempts = []time.Time{runStart, runStart.Add(3 * day)}
	tests := []struct {
		name       string
		result     audit.Result
		run        audit.RunInfo
		staleAfter audit.StaleAfter
		want       bool
	}{
		{"fresh", mk(at(runStart.Add(-2*time.Hour)), runStart), run, audit.DefaultStaleAfter, false},
		{"just inside 7 days", mk(at(runStart.Add(-7*day+time.Second)), runStart), run, audit.DefaultStaleAfter, false},
		{"exactly 7 days", mk(at(runStart.Add(-7*day)), runStart), run, audit.DefaultStaleAfter, false},
		{"past 7 days", mk(at(runStart.Add(-7*day-time.Millisecond)), runStart), run, audit.DefaultStaleAfter, true},
		{"no execution date", mk(nil, runStart), run, audit.DefaultStaleAfter, true},
		{"shorter window", mk(at(runStart.Add(-2*time.Hour)), runStart), run, audit.StaleAfter(time.Hour), true},
		{"off", mk(at(runStart.Add(-300*day)), runStart), run, 0, false},
		{"off, no date", mk(nil, runStart), run, 0, false},
		{"negative is off too", mk(nil, runStart), run, -1, false},
		{"read after the run's start: its start is the reference", mk(at(runStart.Add(-5*day)), runStart.Add(3*day)), run, audit.DefaultStaleAfter, false},
		{"read in a later attempt: its start is the reference", mk(at(runStart.Add(-5*day)), runStart.Add(3*day+time.Hour)), resumed, audit.DefaultStaleAfter, true},
		{"read in the first attempt of two: its start is the reference", mk(at(runStart.Add(-5*day)), runStart.Add(2*day)), resumed, audit.DefaultStaleAfter, false},
		{"read before the run's start: the first attempt's start is the reference", mk(at(runStart.Add(-8*day)), runStart.Add(-2*day)), run, audit.DefaultStaleAfter, true},
		{"no run start: audited at is the reference", mk(at(runStart.Add(-8*day)), runStart.Add(-2*day)), noStart, audit.DefaultStaleAfter, false},
		{"no run start, old", mk(at(runStart.Add(-10*day)), runStart.Add(-2*day)), noStart, audit.DefaultStaleAfter, true},
		{"no audited at: the run's start is the reference", mk(at(runStart.Add(-8*day)), time.Time{}), run, audit.DefaultStaleAfter, true},
		{"no reference at all", mk(at(runStart.Add(-300*day)), time.Time{}), noStart, audit.DefaultStaleAfter, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := build(t, []audit.Result{tt.result}, tt.run, func(o *report.Options) { o.StaleAfter = tt.staleAfter })
			if got := m.Stale.Count == 1; got != tt.want {
				t.Errorf("stale %v, want %v", got, tt.want)
			}
			if m.Associations[0].Stale != m.Stale.Count {
				t.Errorf("group stale %d, model stale %d", m.Associations[0].Stale, m.Stale.Count)
			}
			if tt.want && !m.Stale.Rows[0].Stale {
				t.Error("stale row not marked stale")
			}
			// The rule the model applies is audit.StaleAfter's, the one the
			// CSV and the workbook apply too.
			ref := tt.run.StartedAt
			if a := tt.result.AuditedAt; !a.IsZero() {
				if ref.IsZero() {
					ref = a
				}
				for _, s := range tt.run.Attempts {
					if !s.After(a) {
						ref = s
					}
				}
			}
			if got := tt.result.CountStale(tt.staleAfter, ref).Stale; got != m.Stale.Count {
				t.Errorf("audit.Result.CountStale counts %d stale, the model %d", got, m.Stale.Count)
			}
		})
	}

	// Instances read by one attempt share one cut-off: its start less the
	// age.
	read := runStart.Add(time.Minute)
	m := build(t, []audit.Result{mk(at(runStart), read), mk(nil, read.Add(time.Second))}, run, nil)
	if want := runStart.Add(-7 * day); m.Settings.StaleBefore == nil || !m.Settings.StaleBefore.Equal(want) ||
		!m.Settings.StaleBeforeEarliest.Equal(want) || !m.Settings.StaleBeforeLatest.Equal(want) ||
		m.Settings.StaleAfter != "7 days" || m.Settings.StaleAfterSeconds != 7*24*3600 {
		t.Errorf("settings %+v, want stale before %v after 7 days", m.Settings, want)
	}
	// Nothing judged, no cut-off claimed.
	m = build(t, nil, run, nil)
	if m.Settings.StaleBefore != nil || m.Settings.StaleBeforeEarliest != nil || m.Settings.StaleAfterSeconds != 7*24*3600 {
		t.Errorf("settings %+v, want no cut-off for an empty record", m.Settings)
	}
	// The zero value is off, in the Options as on the command line.
	m = build(t, nil, run, func(o *report.Options) { o.StaleAfter = 0 })
	if m.Settings.StaleBefore != nil || m.Settings.StaleAfter != "off" || m.Settings.StaleAfterSeconds != 0 {
		t.Errorf("settings %+v, want stale check off", m.Settings)
	}
}

// TestModelTop checks the length of the top lists and that ties keep key
// order.
func TestModelTop(t *testing.T) {
	var results []audit.Result
	for i := range 8 {
		r := audit.Result{AccountID: acct1, Region: east, InstanceID: fmt.Sprintf("i-%017x", i), Outcome: audit.OutcomeNoncompliant}
		// Failures: i=0..7 -> 1,2,3,1,2,3,1,2.
		for j := range i%3 + 1 {
			r.Associations = append(r.Associations, audit.Association{
				AssociationID: fmt.Sprintf("a-%d", j), Status: audit.StatusFailed, ErrorCode: "E", ExecutionDate: at(fresh),
			})
		}
		results = append(results, r)
	}
	m := build(t, results, fixtureRun(), func(o *report.Options) { o.Top = 4 })
	var got []string
	for _, w := range m.WorstInstances {
		got = append(got, fmt.Sprintf("%d:%d", w.Failed, int(w.InstanceID[len(w.InstanceID)-1]-'0')))
	}
	if want := []string{"3:2", "3:5", "2:1", "2:4"}; !slices.Equal(got, want) {
		t.Errorf("worst (failed:instance) %q, want %q", got, want)
	}
	ex := m.ErrorCodes[0].ExampleInstanceIDs
	if len(ex) != 4 || ex[0] != "i-00000000000000000" || ex[3] != "i-00000000000000003" {
		t.Errorf("examples %q, want the first 4 instances in key order", ex)
	}
}

// TestModelStaleBreaksTies: between instances with as many failed
// associations, and between associations with as many failed and pending,
// the one with more stale comes first, whatever its key or name: stale is
// the next thing to fix.
func TestModelStaleBreaksTies(t *testing.T) {
	assoc := func(id, name, status string, when time.Time) audit.Association {
		a := audit.Association{AssociationID: id, AssociationName: name, Name: "AWS-RunPatchBaseline", Status: status, ExecutionDate: at(when)}
		if status == audit.StatusFailed {
			a.ErrorCode = "E"
		}
		return a
	}
	results := []audit.Result{
		// One failed each; every "zulu" is stale, no "alpha" is, and
		// i-...2 has one more stale association.
		{AccountID: acct1, Region: east, InstanceID: "i-00000000000000001", Outcome: audit.OutcomeNoncompliant, AuditedAt: runStart,
			Associations: []audit.Association{assoc("f-1", "failing", audit.StatusFailed, fresh), assoc("a-1", "alpha", audit.StatusSuccess, fresh), assoc("z-1", "zulu", audit.StatusSuccess, old)}},
		{AccountID: acct1, Region: east, InstanceID: "i-00000000000000002", Outcome: audit.OutcomeNoncompliant, AuditedAt: runStart,
			Associations: []audit.Association{assoc("f-2", "failing", audit.StatusFailed, fresh), assoc("a-2", "alpha", audit.StatusSuccess, fresh), assoc("z-2", "zulu", audit.StatusSuccess, old), assoc("s-2", "stale too", audit.StatusSuccess, old)}},
	}
	m := build(t, results, fixtureRun(), nil)
	var worst []string
	for _, w := range m.WorstInstances {
		worst = append(worst, fmt.Sprintf("%s %d failed %d stale", w.InstanceID, w.Failed, w.Stale))
	}
	if want := []string{"i-00000000000000002 1 failed 2 stale", "i-00000000000000001 1 failed 1 stale"}; !slices.Equal(worst, want) {
		t.Errorf("worst instances %q, want %q", worst, want)
	}
	var names []string
	for _, g := range m.Associations {
		names = append(names, fmt.Sprintf("%s %d failed %d stale", g.Name, g.Failed, g.Stale))
	}
	if want := []string{"failing 2 failed 0 stale", "zulu 0 failed 2 stale", "stale too 0 failed 1 stale", "alpha 0 failed 0 stale"}; !slices.Equal(names, want) {
		t.Errorf("associations %q, want %q", names, want)
	}
}

// TestModelCaps checks the capped lists against their counts, with one
// instance that has more failed associations than the caps.
func TestModelCaps(t *testing.T) {
	const n = report.MinListRows + 100
	r := audit.Result{AccountID: acct1, Region: east, InstanceID: "i-00000000000000001", Outcome: audit.OutcomeNoncompliant, AuditedAt: runStart}
	for i := range n {
		r.Associations = append(r.Associations, audit.Association{
			AssociationID: fmt.Sprintf("a-%05d", i), AssociationName: fmt.Sprintf("name-%05d", i), Status: audit.StatusFailed, ErrorCode: "E",
		})
	}
	tests := []struct {
		name     string
		htmlRows int
		wantRows int
	}{
		{"default", 0, report.MinListRows},
		{"fewer HTML rows keep the minimum", 10, report.MinListRows},
		{"more HTML rows", report.MinListRows + 50, report.MinListRows + 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := build(t, []audit.Result{r}, fixtureRun(), func(o *report.Options) { o.HTMLMaxRows = tt.htmlRows })
			if m.Failures.Count != n || len(m.Failures.Rows) != tt.wantRows {
				t.Errorf("failures %d, %d rows; want %d, %d", m.Failures.Count, len(m.Failures.Rows), n, tt.wantRows)
			}
			if m.Stale.Count != n || len(m.Stale.Rows) != tt.wantRows {
				t.Errorf("stale %d, %d rows; want %d, %d (no execution date is stale)", m.Stale.Count, len(m.Stale.Rows), n, tt.wantRows)
			}
			if m.Settings.ListRows != tt.wantRows {
				t.Errorf("settings list rows %d, want %d", m.Settings.ListRows, tt.wantRows)
			}
			if last := m.Failures.Rows[len(m.Failures.Rows)-1].AssociationID; last != fmt.Sprintf("a-%05d", tt.wantRows-1) {
				t.Errorf("last row %s: not the first rows in order", last)
			}
			ec := m.ErrorCodes[0]
			if len(ec.AssociationNames) != report.MaxAssociationNames || ec.AssociationNamesTotal != n || ec.AssociationNames[0] != "name-00000" {
				t.Errorf("names: %d listed, total %d, first %q; want %d, %d, name-00000",
					len(ec.AssociationNames), ec.AssociationNamesTotal, ec.AssociationNames[0], report.MaxAssociationNames, n)
			}
		})
	}
}

// TestModelDeterministic builds each fixture from results (and associations)
// written in two shuffled orders and expects identical JSON.
func TestModelDeterministic(t *testing.T) {
	shuffled := func(seed uint64, in []audit.Result) []audit.Result {
		rng := rand.New(rand.NewPCG(seed, seed))
		out := slices.Clone(in)
		rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
		for i := range out {
			as := slices.Clone(out[i].Associations)
			rng.Shuffle(len(as), func(i, j int) { as[i], as[j] = as[j], as[i] })
			out[i].Associations = as
		}
		return out
	}
	for _, fx := range fixtures(t) {
		t.Run(fx.name, func(t *testing.T) {
			a, err := json.Marshal(build(t, shuffled(1, fx.results), fx.run, nil))
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(build(t, shuffled(2, fx.results), fx.run, nil))
			if err != nil {
				t.Fatal(err)
			}
			if string(a) != string(b) {
				t.Errorf("models differ with input order:\n%s\n%s", a, b)
			}
		})
	}
}

func TestBuildCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fx := fixtureNamed(t, "mixed")
	_, err := report.Build(ctx, report.Options{Records: openRecord(t, fx.results), Run: fx.run})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want a canceled error", err)
	}
}

// TestModelAbout checks the run in words: no raw option dumps or Go
// durations, the rate as the run went (see TestAboutRate for each case).
func TestModelAbout(t *testing.T) {
	run := fixtureRun()
	run.Options = map[string]any{"rate": 0.0, "stale_after": "168h0m0s", "concurrency": 16.0, "max_pages": 1000, "skip_invalid": true, "region": east,
		"instances": []any{"/etc/auditor/fleet.csv", "-"}}
	run.Stats.LimiterRate = 41
	m := build(t, fixtureNamed(t, "mixed").results, run, nil)
	got := map[string]string{}
	for _, d := range m.About {
		got[d.Label] = d.Value
		if strings.Contains(d.Value, "168h") || strings.HasPrefix(d.Label, "Option") || strings.ContainsAny(d.Value, "[]") {
			t.Errorf("%s: %q is not in words", d.Label, d.Value)
		}
	}
	for label, want := range map[string]string{
		"Rate":           "adaptive, throttled once but never cut (mean 7.5 calls/s)",
		"Stale after":    "7 days (stale: last run before 2025-05-25 12:00:00 UTC, or never)", // the run's start, though its instances were read a minute in
		"Concurrency":    "16 instances audited at once",
		"Page limit":     "1,000 pages per instance at most",
		"Invalid input":  "input lines that are not instance IDs were recorded and skipped",
		"Region":         east + " by default; the results are in 2 regions: " + west + ", " + east,
		"Instance lists": "fleet.csv, standard input",
		"Version":        "auditor 1.2.3-test",
		"Ended":          "2025-06-01 12:01:35 UTC (took 1m35s)",
		"State":          "incomplete: 1 instance could not be audited (error)",
	} {
		if got[label] != want {
			t.Errorf("%s: %q, want %q", label, got[label], want)
		}
	}
	// One of a count is said in the singular.
	run.Options["max_pages"], run.Options["concurrency"] = 1, 1.0
	m = build(t, nil, run, nil)
	for _, d := range m.About {
		if want := map[string]string{"Page limit": "1 page per instance at most", "Concurrency": "1 instance audited at once"}[d.Label]; want != "" && d.Value != want {
			t.Errorf("%s: %q, want %q", d.Label, d.Value, want)
		}
	}
	run.Options["rate"] = 20
	m = build(t, nil, run, nil)
	for _, d := range m.About {
		if d.Label == "Rate" && d.Value != "fixed at 20 calls/s per account and region (mean 7.5 calls/s, all account-regions together)" {
			t.Errorf("fixed rate: %q", d.Value)
		}
	}
}

// TestModelAboutMerge: a merge of separate runs claims neither the time
// between them as a duration nor one region for results in several.
func TestModelAboutMerge(t *testing.T) {
	run := fixtureRun()
	run.Options = map[string]any{"region": east}
	run.Rendered = &audit.Rendering{Inputs: 2}
	m := build(t, fixtureNamed(t, "mixed").results, run, nil)
	got := map[string]string{}
	for _, d := range m.About {
		got[d.Label] = d.Value
	}
	if e := got["Ended"]; strings.Contains(e, "took") || !strings.Contains(e, "2 runs merged") {
		t.Errorf("Ended: %q, want no single duration, and that 2 runs were merged", e)
	}
	if r := got["Region"]; !strings.Contains(r, "2 regions") || !strings.Contains(r, west) {
		t.Errorf("Region: %q, want it to say the results are in 2 regions, %s among them", r, west)
	}
	if m.Run.Merged != 2 {
		t.Errorf("Run.Merged = %d, want 2", m.Run.Merged)
	}
}
