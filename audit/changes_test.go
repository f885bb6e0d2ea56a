package audit_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/internal/drifttest"
	"github.com/auditor-dev/auditor/ssmsim"
)

// auditInto audits every ID of ids against f, through the real SDK over
// HTTP, into a record at path, carrying first-failure dates from base.
func auditInto(t *testing.T, f *ssmsim.Fleet, ids []string, path string, base *audit.Baseline, now time.Time) {
	t.Helper()
	url, _ := serveFleet(t, f, ssmsim.Options{})
	w, err := audit.CreateRecord(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var ts []audit.Target
	for _, id := range ids {
		ts = append(ts, audit.Target{InstanceID: id})
	}
	var mu sync.Mutex
	cfg := audit.Config{Client: sdkClients(url, 3, 16), Region: "us-east-1", Now: func() time.Time { return now }, Rate: shortRate(),
		OnResult: func(r audit.Result) error {
			if base != nil {
				base.Carry(&r)
			}
			mu.Lock()
			defer mu.Unlock()
			return w.Write(r)
		}}
	if _, err := audit.Run(context.Background(), cfg, slices.Values(ts)); err != nil {
		t.Fatal(err)
	}
}

// TestCompareDrift: a week of drift made by the simulator (failures
// resolved and new, instances and associations added and removed) is
// exactly what Compare finds between the records of two audits, and a
// failure that persists keeps the date it was first seen failing.
func TestCompareDrift(t *testing.T) {
	before := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 11, Size: shortN(400, 150)})
	after, changes := before.Drift(ssmsim.DriftConfig{Seed: 3, Elapsed: 7 * 24 * time.Hour})
	dir := t.TempDir()
	week1 := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
	week2 := week1.Add(7 * 24 * time.Hour)
	auditInto(t, before, before.IDs(), filepath.Join(dir, "a.jsonl"), nil, week1)
	base, err := audit.OpenBaseline(filepath.Join(dir, "a.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer base.Close()
	auditInto(t, after, after.IDs(), filepath.Join(dir, "b.jsonl"), base, week2)
	cur, err := audit.OpenRecords(filepath.Join(dir, "b.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close()

	// changes.csv's rows are in Compare's order, which the README says is
	// (account, region, instance, association id): within an instance
	// they came in the record's order of its associations.
	var keys [][4]string
	res, err := audit.Compare(base.Records(), cur, func(c audit.Change) error {
		keys = append(keys, [4]string{c.AccountID, c.Region, c.InstanceID, c.AssociationID})
		if c.Kind == audit.StillFailing && (c.FirstSeenFailing == nil || !c.FirstSeenFailing.Equal(week1)) {
			t.Errorf("%s %s still failing since %v, want %v", c.InstanceID, c.AssociationID, c.FirstSeenFailing, week1)
		}
		if c.Kind == audit.NewFailure && (c.FirstSeenFailing == nil || !c.FirstSeenFailing.Equal(week2)) {
			t.Errorf("%s %s newly failing since %v, want %v", c.InstanceID, c.AssociationID, c.FirstSeenFailing, week2)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(keys); i++ {
		if slices.Compare(keys[i-1][:], keys[i][:]) > 0 {
			t.Errorf("change %d (%v) comes after %v: not in (account, region, instance, association id) order", i, keys[i], keys[i-1])
			break
		}
	}
	got := res.Counts
	want := drifttest.Expected(after, changes)
	t.Logf("changes found: %v", got)
	for _, k := range audit.ChangeKinds() {
		if k == audit.StillFailing {
			continue
		}
		if got[k] != want[k] {
			t.Errorf("%s: %d, the simulator made %d", k, got[k], want[k])
		}
	}
	if got[audit.Resolved] == 0 || got[audit.NewFailure] == 0 || got[audit.VanishedInstance] == 0 || got[audit.StillFailing] == 0 {
		t.Errorf("a drift without every kind of change tests little: %v", got)
	}
}

// TestComparePartialRecords: an instance that one of the two records lacks
// because its run was incomplete (stopped by --timeout, interrupted, an
// account-region it could not reach) is not compared: it is neither gone
// nor new. Every other change is found as in whole records.
func TestComparePartialRecords(t *testing.T) {
	before := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 11, Size: shortN(400, 150)})
	after, _ := before.Drift(ssmsim.DriftConfig{Seed: 3, Elapsed: 7 * 24 * time.Hour})
	dir := t.TempDir()
	week1 := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
	week2 := week1.Add(7 * 24 * time.Hour)
	half := func(ids []string) []string { return ids[:len(ids)/2] }
	auditInto(t, before, before.IDs(), filepath.Join(dir, "a.jsonl"), nil, week1)
	auditInto(t, before, half(before.IDs()), filepath.Join(dir, "a-half.jsonl"), nil, week1)
	auditInto(t, after, after.IDs(), filepath.Join(dir, "b.jsonl"), nil, week2)
	auditInto(t, after, half(after.IDs()), filepath.Join(dir, "b-half.jsonl"), nil, week2)
	open := func(name string, partial bool) *audit.Records {
		rs, err := audit.OpenRecords(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rs.Close() })
		rs.Partial = partial
		return rs
	}
	changes := func(base, cur *audit.Records) []audit.Change {
		var out []audit.Change
		if _, err := audit.Compare(base, cur, func(c audit.Change) error { out = append(out, c); return nil }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	whole := changes(open("a.jsonl", false), open("b.jsonl", false))
	for _, tc := range []struct {
		name      string
		base, cur *audit.Records
		audited   []string // the instances the partial record has
	}{
		{"this run stopped halfway", open("a.jsonl", false), open("b-half.jsonl", true), half(after.IDs())},
		{"the baseline stopped halfway", open("a-half.jsonl", true), open("b.jsonl", false), half(before.IDs())},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := slices.DeleteFunc(slices.Clone(whole), func(c audit.Change) bool { return !slices.Contains(tc.audited, c.InstanceID) })
			got := changes(tc.base, tc.cur)
			kinds := func(cs []audit.Change) map[audit.ChangeKind]int {
				m := map[audit.ChangeKind]int{}
				for _, c := range cs {
					m[c.Kind]++
				}
				return m
			}
			if len(want) == len(whole) || len(want) == 0 {
				t.Fatalf("the half holds %d of the %d changes: a test of nothing", len(want), len(whole))
			}
			if !slices.EqualFunc(got, want, func(a, b audit.Change) bool {
				return a.Kind == b.Kind && a.InstanceID == b.InstanceID && a.AssociationID == b.AssociationID
			}) {
				t.Errorf("changes %v, want those of the whole records on the instances both have, %v", kinds(got), kinds(want))
			}
		})
	}
}

// TestCompareTriagedInstance: an instance that --triage recorded from its
// association overview (every association succeeded; or none at all) after
// a baseline where one of its associations failed: the failure is resolved
// (or its associations gone), as a full fetch would show.
func TestCompareTriagedInstance(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
	write := func(name string, rs ...audit.Result) *audit.Records {
		path := filepath.Join(dir, name)
		writeRecord(t, path, rs...)
		out, err := audit.OpenRecords(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { out.Close() })
		return out
	}
	assocs := []audit.Association{
		{AssociationID: "a-fails", Name: "AWS-RunPatchBaseline", Status: audit.StatusFailed, ErrorCode: "ExecutionError"},
		{AssociationID: "a-fine", Name: "AWS-UpdateSSMAgent", Status: audit.StatusSuccess},
	}
	base := write("base.jsonl",
		audit.Result{Region: "us-east-1", InstanceID: "i-00000000000000001", Outcome: audit.Judge(assocs), AuditedAt: at, Associations: assocs},
		audit.Result{Region: "us-east-1", InstanceID: "i-00000000000000002", Outcome: audit.Judge(assocs), AuditedAt: at, Associations: assocs})
	now := at.Add(7 * 24 * time.Hour)
	cur := write("cur.jsonl",
		audit.Result{Region: "us-east-1", InstanceID: "i-00000000000000001", Outcome: audit.OutcomeCompliant, Detail: audit.DetailOverview, AuditedAt: now,
			Info: &audit.InstanceInfo{AssociationOverview: &audit.AssociationOverview{InstanceAssociationStatusAggregatedCount: map[string]int{audit.StatusSuccess: 2}}}},
		audit.Result{Region: "us-east-1", InstanceID: "i-00000000000000002", Outcome: audit.OutcomeNoAssociations, Detail: audit.DetailOverview, AuditedAt: now})
	var got []string
	if _, err := audit.Compare(base, cur, func(c audit.Change) error {
		got = append(got, fmt.Sprintf("%s %s %s %s->%s %s", c.InstanceID, c.Kind, c.AssociationID, c.Before, c.After, c.ErrorCode))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"i-00000000000000001 resolved a-fails Failed->Success ExecutionError",
		"i-00000000000000002 vanished_association a-fails Failed-> ExecutionError",
		"i-00000000000000002 vanished_association a-fine Success-> ",
	}
	if !slices.Equal(got, want) {
		t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestFirstSeenThroughAnErrorRun: a failure seen on day 1, its instance in
// error on day 8 (which says nothing of its failures), failing again on day
// 15: first seen on day 1, not 15. The run of day 8 keeps the date in its
// record (CarriedFailing), since it is the baseline of day 15.
func TestFirstSeenThroughAnErrorRun(t *testing.T) {
	day := func(n int) time.Time { return time.Date(2026, 11, n, 3, 0, 0, 0, time.UTC) }
	failing := func(d time.Time) audit.Result {
		r := result("111122223333", "us-east-1", "i-00000001", audit.OutcomeNoncompliant)
		r.AuditedAt = d
		r.Associations[0].Status = audit.StatusFailed
		return r
	}
	inError := func(d time.Time) audit.Result {
		r := result("111122223333", "us-east-1", "i-00000001", audit.OutcomeError)
		r.AuditedAt, r.Associations = d, nil
		r.Error = &audit.Error{Code: "InternalServerError", Message: "try again"}
		return r
	}
	dir := t.TempDir()
	week := func(name string, base string, r audit.Result) string {
		if base != "" {
			b, err := audit.OpenBaseline(base)
			if err != nil {
				t.Fatal(err)
			}
			b.Carry(&r)
			b.Close()
		}
		p := filepath.Join(dir, name+".jsonl")
		writeRecord(t, p, r)
		return p
	}
	w1 := week("w1", "", failing(day(1)))
	w2 := week("w2", w1, inError(day(8)))
	w3 := week("w3", w2, failing(day(15)))
	got := readAll(t, w3)
	if len(got) != 1 || got[0].Associations[0].FirstSeenFailing == nil || !got[0].Associations[0].FirstSeenFailing.Equal(day(1)) {
		t.Errorf("day 15: first seen failing %v, want day 1", got[0].Associations[0].FirstSeenFailing)
	}
	// A result not in error carries nothing.
	if r := readAll(t, w3)[0]; len(r.CarriedFailing) != 0 {
		t.Errorf("a result not in error carries %v", r.CarriedFailing)
	}
}

// TestPendingIsNoVerdict: an association that failed and is running again
// (Pending) has not been shown fixed. It was counted resolved, and when it
// failed again the next week it was a new failure, first seen that week.
// Pending is now no verdict: no change, and its first_seen_failing is
// carried; resolved is Failed then, Success now.
func TestPendingIsNoVerdict(t *testing.T) {
	day := func(n int) time.Time { return time.Date(2026, 11, n, 3, 0, 0, 0, time.UTC) }
	with := func(d time.Time, status string) audit.Result {
		outcome := map[string]audit.Outcome{audit.StatusFailed: audit.OutcomeNoncompliant, audit.StatusPending: audit.OutcomePending, audit.StatusSuccess: audit.OutcomeCompliant}[status]
		r := result("111122223333", "us-east-1", "i-00000001", outcome)
		r.AuditedAt = d
		r.Associations[0].Status = status
		if status == audit.StatusFailed {
			r.Associations[0].ErrorCode = "Error-Code-1"
		}
		return r
	}
	week := weeks(t)
	kinds := func(cs []audit.Change) []audit.ChangeKind {
		var out []audit.ChangeKind
		for _, c := range cs {
			out = append(out, c.Kind)
		}
		return out
	}
	w1, _ := week("w1", "", with(day(1), audit.StatusFailed))
	w2, c2 := week("w2", w1, with(day(8), audit.StatusPending))
	if len(c2) != 0 {
		t.Errorf("Failed, then Pending: changes %v, want none (no verdict yet)", kinds(c2))
	}
	if r := readAll(t, w2)[0]; len(r.CarriedFailing) != 1 || !r.CarriedFailing[0].FirstSeenFailing.Equal(day(1)) {
		t.Errorf("Pending after Failed carries %v, want the failure first seen on day 1", r.CarriedFailing)
	}
	w3, c3 := week("w3", w2, with(day(15), audit.StatusFailed))
	if k := kinds(c3); len(k) != 1 || k[0] != audit.StillFailing {
		t.Errorf("Failed, Pending, Failed: changes %v, want still_failing", k)
	}
	if len(c3) == 1 && c3[0].Before != audit.StatusFailed {
		// As for a failure carried through a run in error: failing then.
		t.Errorf("Failed, Pending, Failed: status before %q, want Failed", c3[0].Before)
	}
	if got := readAll(t, w3)[0].Associations[0].FirstSeenFailing; got == nil || !got.Equal(day(1)) {
		t.Errorf("Failed, Pending, Failed: first seen failing %v, want day 1", got)
	}
	_, c4 := week("w4", w2, with(day(15), audit.StatusSuccess))
	if k := kinds(c4); len(k) != 1 || k[0] != audit.Resolved {
		t.Errorf("Failed, Pending, Success: changes %v, want resolved", k)
	} else if c4[0].ErrorCode != "Error-Code-1" {
		// What was fixed is the failure carried through the Pending run.
		t.Errorf("Failed, Pending, Success: resolved with error code %q, want the failure's Error-Code-1", c4[0].ErrorCode)
	} else if c4[0].Before != audit.StatusFailed {
		// resolved is Failed then, Success now: a reader who filters
		// changes.csv on status_before Failed finds it.
		t.Errorf("Failed, Pending, Success: status before %q, want Failed", c4[0].Before)
	}
	// Carried through a run that did not manage the instance: failing
	// then too.
	notManaged := result("111122223333", "us-east-1", "i-00000001", audit.OutcomeNotManaged)
	notManaged.AuditedAt = day(8)
	w6, _ := week("w6", w1, notManaged)
	_, c7 := week("w7", w6, with(day(15), audit.StatusFailed))
	if i := slices.IndexFunc(c7, func(c audit.Change) bool { return c.Kind == audit.StillFailing }); i < 0 {
		t.Errorf("Failed, not managed, Failed: changes %v, want still_failing", kinds(c7))
	} else if c7[i].Before != audit.StatusFailed {
		t.Errorf("Failed, not managed, Failed: status before %q, want Failed", c7[i].Before)
	}
	_, c5 := week("w5", w1, with(day(8), audit.StatusSuccess))
	if k := kinds(c5); len(k) != 1 || k[0] != audit.Resolved {
		t.Errorf("Failed, then Success: changes %v, want resolved", k)
	} else if c5[0].ErrorCode != "Error-Code-1" {
		t.Errorf("Failed, then Success: resolved with error code %q, want Error-Code-1", c5[0].ErrorCode)
	}
}

// weeks returns a function that writes a week's record from rs at name,
// carried from and compared with the record at base (none when ""), and
// returns its path and the changes since base.
func weeks(t *testing.T) func(name, base string, rs ...audit.Result) (string, []audit.Change) {
	dir := t.TempDir()
	return func(name, base string, rs ...audit.Result) (string, []audit.Change) {
		t.Helper()
		p := filepath.Join(dir, name+".jsonl")
		if base == "" {
			writeRecord(t, p, rs...)
			return p, nil
		}
		b, err := audit.OpenBaseline(base)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		for i := range rs {
			b.Carry(&rs[i])
		}
		writeRecord(t, p, rs...)
		cur, err := audit.OpenRecords(p)
		if err != nil {
			t.Fatal(err)
		}
		defer cur.Close()
		var changes []audit.Change
		if _, err := audit.Compare(b.Records(), cur, func(c audit.Change) error { changes = append(changes, c); return nil }); err != nil {
			t.Fatal(err)
		}
		return p, changes
	}
}

// TestRunWithoutItsAccount: a run that could not learn its account (STS
// unreachable: it warns and leaves the account empty) made every instance
// of the week before "vanished" and every one of its own "new", and reset
// every first_seen_failing to its own date, for good. A record of one
// account compared with a record that names none is compared by region
// and instance.
func TestRunWithoutItsAccount(t *testing.T) {
	day := func(n int) time.Time { return time.Date(2026, 11, n, 3, 0, 0, 0, time.UTC) }
	fleet := func(d time.Time, account string) []audit.Result {
		ok := result(account, "us-east-1", "i-00000001", audit.OutcomeCompliant)
		bad := result(account, "us-east-1", "i-00000002", audit.OutcomeNoncompliant)
		bad.Associations[0].Status = audit.StatusFailed
		other := result(account, "eu-west-1", "i-00000003", audit.OutcomeCompliant)
		for _, r := range []*audit.Result{&ok, &bad, &other} {
			r.AuditedAt = d
		}
		return []audit.Result{ok, bad, other}
	}
	week := weeks(t)
	w1, _ := week("w1", "", fleet(day(1), "111122223333")...)
	w2, c2 := week("w2", w1, fleet(day(8), "")...)
	w3, c3 := week("w3", w2, fleet(day(15), "111122223333")...)
	for i, cs := range [][]audit.Change{c2, c3} {
		if len(cs) != 1 || cs[0].Kind != audit.StillFailing || cs[0].InstanceID != "i-00000002" {
			t.Errorf("week %d: changes %+v, want i-00000002 still failing alone", i+2, cs)
		}
	}
	for _, w := range []string{w2, w3} {
		for _, r := range readAll(t, w) {
			if r.InstanceID == "i-00000002" {
				if got := r.Associations[0].FirstSeenFailing; got == nil || !got.Equal(day(1)) {
					t.Errorf("%s: first seen failing %v, want day 1", filepath.Base(w), got)
				}
			}
		}
	}
	// Two accounts on one side: nothing to pair by, compared as they are.
	two := fleet(day(8), "111122223333")
	two[2].AccountID = "444455556666"
	_, c4 := week("w4", w2, two...)
	if len(c4) == 0 {
		t.Error("a record of two accounts against one that names none: no change, want every instance of an account new and gone")
	}
}
