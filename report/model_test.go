package report_test

import (
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

func build(t *testing.T, results []audit.Result, run audit.RunInfo, edit func(*report.Options)) *report.Model {
	t.Helper()
	opts := report.Options{Records: openRecord(t, results), Run: run}
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
	instances, audited, associations int
	outcomes                         map[audit.Outcome]int
	statuses, detailed               map[string]int
	codeAssocs, codeInstances        map[string]int
	groups                           map[string][5]int // "name|doc" -> total, success, failed, pending, other
	docs                             map[string]int    // doc -> rows
	locations                        map[string]int    // "account|region|outcome" -> instances
	failures, stale                  []string          // "account|region|instance|association id", sorted
	noAssociations, problems         int
	labelKeys                        []string
}

func countFleet(results []audit.Result, staleBefore time.Time) tally {
	tl := tally{
		outcomes: map[audit.Outcome]int{}, statuses: map[string]int{}, detailed: map[string]int{},
		codeAssocs: map[string]int{}, codeInstances: map[string]int{}, groups: map[string][5]int{},
		docs: map[string]int{}, locations: map[string]int{},
	}
	keys := map[string]bool{}
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
			id := strings.Join([]string{r.AccountID, r.Region, r.InstanceID, a.AssociationID}, "|")
			if a.ExecutionDate == nil || a.ExecutionDate.Before(staleBefore) {
				tl.stale = append(tl.stale, id)
			}
			if a.Status == "Failed" {
				tl.failures = append(tl.failures, id)
				code := a.ErrorCode
				if code == "" {
					code = "(none)"
				}
				tl.codeAssocs[code]++
				if !codesHere[code] {
					codesHere[code] = true
					tl.codeInstances[code]++
				}
			}
		}
	}
	slices.Sort(tl.failures)
	slices.Sort(tl.stale)
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

			if m.Schema != 1 {
				t.Errorf("schema %d, want 1", m.Schema)
			}
			if m.Totals.Instances != want.instances || m.Totals.Audited != want.audited || m.Totals.Associations != want.associations {
				t.Errorf("totals %d instances, %d audited, %d associations; want %d, %d, %d",
					m.Totals.Instances, m.Totals.Audited, m.Totals.Associations, want.instances, want.audited, want.associations)
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
			}
			if want.audited > 0 {
				pct := float64(want.outcomes[audit.OutcomeNoncompliant]) * 100 / float64(want.audited)
				if d := m.Totals.PercentNoncompliant - pct; d > 0.005 || d < -0.005 {
					t.Errorf("percent noncompliant %v, want %.2f", m.Totals.PercentNoncompliant, pct)
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
				gotCodes[ec.Code] = ec.Associations
				gotCodeInst[ec.Code] = ec.Instances
				if len(ec.ExampleInstanceIDs) != min(ec.Instances, report.DefaultTop) {
					t.Errorf("code %q: %d examples for %d instances", ec.Code, len(ec.ExampleInstanceIDs), ec.Instances)
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
// cover: order of lists, placeholders, the headline.
func TestModelMixed(t *testing.T) {
	fx := fixtureNamed(t, "mixed")
	m := build(t, fx.results, fx.run, nil)

	wantHeadline := "3 of 7 audited instances non-compliant, 1 pending, 1 not managed, 1 not audited (error), 1 invalid"
	if m.Headline != wantHeadline {
		t.Errorf("headline %q, want %q", m.Headline, wantHeadline)
	}
	var codes []string
	for _, ec := range m.ErrorCodes {
		codes = append(codes, fmt.Sprintf("%s:%d:%d", ec.Code, ec.Associations, ec.Instances))
	}
	// By associations descending, then code; the Failed row without a code
	// is under (none).
	wantCodes := []string{"(none):2:2", "ScriptFailed:2:2", "Timeout:1:1"}
	if !slices.Equal(codes, wantCodes) {
		t.Errorf("error codes %q, want %q", codes, wantCodes)
	}
	sf := m.ErrorCodes[1]
	if want := []string{"i-0000000000000002", "i-0000000000000010"}; !slices.Equal(sf.ExampleInstanceIDs, want) {
		t.Errorf("ScriptFailed examples %q, want %q (key order)", sf.ExampleInstanceIDs, want)
	}
	none := m.ErrorCodes[0]
	if want := []string{"b-unnamed", "inventory"}; !slices.Equal(none.AssociationNames, want) || none.AssociationNamesTotal != 2 {
		t.Errorf("(none) names %q (total %d), want %q: the unnamed association goes by its ID", none.AssociationNames, none.AssociationNamesTotal, want)
	}

	var worst []string
	for _, w := range m.WorstInstances {
		worst = append(worst, fmt.Sprintf("%s:%d", w.InstanceID, w.Failed))
	}
	// i-2 and i-10 tie on 2 failures: key order (account 111... first).
	if want := []string{"i-0000000000000002:2", "i-0000000000000010:2", "i-0000000000000008:1"}; !slices.Equal(worst, want) {
		t.Errorf("worst instances %q, want %q", worst, want)
	}
	if got, want := m.WorstInstances[0].ErrorCodes, []string{"(none)", "ScriptFailed"}; !slices.Equal(got, want) {
		t.Errorf("worst[0] error codes %q, want %q", got, want)
	}

	var groups []string
	for _, g := range m.Associations {
		groups = append(groups, fmt.Sprintf("%s/%s:%d/%d", g.Association, g.Document, g.Failed, g.Total))
	}
	wantGroups := []string{
		"patch-baseline/AWS-RunPatchBaseline:2/5",
		"b-unnamed/Custom-Hardening:1/1",
		"inventory/AWS-GatherSoftwareInventory:1/1",
		"update-agent/AWS-UpdateSSMAgent:1/4",
		"a-custom/Custom-Hardening:0/1",
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
		probs = append(probs, string(p.Outcome)+":"+p.Code)
	}
	if want := []string{"invalid:Invalid", "not_managed:InvalidInstanceId", "error:ThrottlingException"}; !slices.Equal(probs, want) {
		t.Errorf("problems %q, want %q (key order)", probs, want)
	}
	var statuses []string
	for _, s := range m.Statuses {
		statuses = append(statuses, fmt.Sprintf("%s:%d", s.Name, s.Count))
	}
	// Count descending, ties by name.
	if want := []string{"Failed:5", "Success:5", "InProgress:1", "Pending:1"}; !slices.Equal(statuses, want) {
		t.Errorf("statuses %q, want %q", statuses, want)
	}
	if m.Run.StartedAt == nil || !m.Run.StartedAt.Equal(runStart) || m.Run.Version != "1.2.3-test" || m.Run.Stats.Calls != 14 {
		t.Errorf("run metadata %+v not copied from RunInfo", m.Run)
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
			AccountID: acct1, Region: east, InstanceID: "i-0000000000000001", Outcome: audit.OutcomeCompliant, AuditedAt: audited,
			Associations: []audit.Association{{AssociationID: "a", Status: audit.StatusSuccess, ExecutionDate: d}},
		}
	}
	run := fixtureRun()
	noStart := fixtureRun()
	noStart.StartedAt = time.Time{}
	day := 24 * time.Hour
	tests := []struct {
		name       string
		result     audit.Result
		run        audit.RunInfo
		staleAfter time.Duration
		want       bool
	}{
		{"fresh", mk(at(runStart.Add(-2*time.Hour)), runStart), run, 0, false},
		{"just inside 7 days", mk(at(runStart.Add(-7*day+time.Second)), runStart), run, 0, false},
		{"exactly 7 days", mk(at(runStart.Add(-7*day)), runStart), run, 0, false},
		{"past 7 days", mk(at(runStart.Add(-7*day-time.Second)), runStart), run, 0, true},
		{"no execution date", mk(nil, runStart), run, 0, true},
		{"shorter window", mk(at(runStart.Add(-2*time.Hour)), runStart), run, time.Hour, true},
		{"off", mk(at(runStart.Add(-300*day)), runStart), run, -1, false},
		{"off, no date", mk(nil, runStart), run, -1, false},
		{"no run start: audited at is the reference", mk(at(runStart.Add(-8*day)), runStart.Add(-2*day)), noStart, 0, false},
		{"no run start, old", mk(at(runStart.Add(-10*day)), runStart.Add(-2*day)), noStart, 0, true},
		{"no reference at all", mk(at(runStart.Add(-300*day)), time.Time{}), noStart, 0, false},
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
		})
	}

	m := build(t, nil, run, nil)
	if want := runStart.Add(-7 * day); m.Settings.StaleBefore == nil || !m.Settings.StaleBefore.Equal(want) || m.Settings.StaleAfter != "168h0m0s" {
		t.Errorf("settings %+v, want stale before %v after 168h", m.Settings, want)
	}
	m = build(t, nil, run, func(o *report.Options) { o.StaleAfter = -1 })
	if m.Settings.StaleBefore != nil || m.Settings.StaleAfter != "off" {
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

// TestModelCaps checks the capped lists against their counts, with one
// instance that has more failed associations than the caps.
func TestModelCaps(t *testing.T) {
	const n = report.MinListRows + 100
	r := audit.Result{AccountID: acct1, Region: east, InstanceID: "i-0000000000000001", Outcome: audit.OutcomeNoncompliant, AuditedAt: runStart}
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
