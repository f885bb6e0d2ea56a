package audit_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
)

func TestMergeRunInfo(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	shard := func(k int, targets int, complete bool) audit.RunInfo {
		return audit.RunInfo{
			Schema: audit.Schema, Version: "v1", StartedAt: t0.Add(time.Duration(k) * time.Minute), EndedAt: t0.Add(time.Duration(10+k) * time.Minute),
			Complete: complete, Options: map[string]any{"max_pages": 1000, "shard": "x" + string(rune('0'+k))},
			Parts:   []audit.Part{{Fleet: "f1", Shard: string(rune('0'+k)) + "/3", Targets: targets}},
			Targets: targets, Stats: audit.Stats{Calls: 10, Seconds: 5},
		}
	}
	s0, s1, s2 := shard(0, 10, true), shard(1, 11, true), shard(2, 9, true)
	all := audit.MergeRunInfo([]audit.RunInfo{s0, s1, s2})
	tests := []struct {
		name        string
		in          []audit.RunInfo
		targets     int
		wantErr     bool
		wantOptions []string
	}{
		{"three shards", []audit.RunInfo{s0, s1, s2}, 30, false, []string{"max_pages"}},
		{"a shard twice", []audit.RunInfo{s0, s0, s1, s2}, 30, false, nil},
		{"the merge and one of its shards", []audit.RunInfo{all, s1}, 30, false, nil},
		{"a whole run and its shards", []audit.RunInfo{{Parts: []audit.Part{{Fleet: "f1", Targets: 30}}, Complete: true}, s0, s1}, 30, false, nil},
		{"an incomplete shard", []audit.RunInfo{s0, shard(1, 11, false)}, 21, true, nil},
		{"runs without parts", []audit.RunInfo{{Targets: 4, Complete: true}, {Targets: 5, Complete: true}}, 9, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := audit.MergeRunInfo(tt.in)
			if got.Targets != tt.targets {
				t.Errorf("Targets = %d, want %d (parts %+v)", got.Targets, tt.targets, got.Parts)
			}
			if (got.Error != "") != tt.wantErr {
				t.Errorf("Error = %q, want an error: %v", got.Error, tt.wantErr)
			}
			for _, k := range tt.wantOptions {
				if _, ok := got.Options[k]; !ok {
					t.Errorf("option %s, on which all agree, is gone", k)
				}
			}
			if _, ok := got.Options["shard"]; ok && len(tt.in) > 1 {
				t.Error("option shard, on which they differ, was kept")
			}
		})
	}
	if !all.StartedAt.Equal(t0) || !all.EndedAt.Equal(t0.Add(12*time.Minute)) || all.Stats.Calls != 30 {
		t.Errorf("merged times and stats: %v %v %+v", all.StartedAt, all.EndedAt, all.Stats)
	}
}

// TestMergeRunInfoAttempts: a merge keeps the start of every attempt of
// its inputs, sorted, each once (a run.json without attempts stands for one
// attempt at its start), so that each result of the merged record is still
// judged stale from the start of the attempt that read it.
func TestMergeRunInfoAttempts(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 17, 0, 0, 0, time.UTC) // a Friday
	monday := t0.Add(72 * time.Hour)
	resumed := audit.RunInfo{StartedAt: t0, Attempts: []time.Time{t0, monday}, Complete: true}
	fresh := audit.RunInfo{StartedAt: t0.Add(time.Minute), Attempts: []time.Time{t0.Add(time.Minute)}, Complete: true}
	older := audit.RunInfo{StartedAt: t0.Add(2 * time.Minute), Complete: true} // a run.json from before attempts were kept
	tests := []struct {
		name string
		in   []audit.RunInfo
		want []time.Time
	}{
		{"one run", []audit.RunInfo{resumed}, []time.Time{t0, monday}},
		{"one run without attempts", []audit.RunInfo{older}, []time.Time{t0.Add(2 * time.Minute)}},
		{"a resumed shard and a fresh one", []audit.RunInfo{fresh, resumed}, []time.Time{t0, t0.Add(time.Minute), monday}},
		{"with a run.json without attempts", []audit.RunInfo{resumed, older}, []time.Time{t0, t0.Add(2 * time.Minute), monday}},
		{"a shard twice", []audit.RunInfo{resumed, fresh, resumed}, []time.Time{t0, t0.Add(time.Minute), monday}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := audit.MergeRunInfo(tt.in).AttemptStarts()
			if !slices.EqualFunc(got, tt.want, time.Time.Equal) {
				t.Errorf("attempts %v, want %v", got, tt.want)
			}
			if m := audit.MergeRunInfo(tt.in); len(tt.in) > 1 && !slices.EqualFunc(m.Attempts, tt.want, time.Time.Equal) {
				t.Errorf("run.json's attempts %v, want %v", m.Attempts, tt.want)
			}
		})
	}
}

// TestMergeRunInfoRanAfter: a merge keeps the starts of the runs its
// inputs came after though dated later (RanAfter), sorted, each once, so
// that it ranks above them as its shards would.
func TestMergeRunInfoRanAfter(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 17, 0, 0, 0, time.UTC)
	ahead, ahead2 := t0.Add(time.Hour), t0.Add(2*time.Hour)
	shard0 := audit.RunInfo{StartedAt: t0, RanAfter: []time.Time{ahead2, ahead}}
	shard1 := audit.RunInfo{StartedAt: t0.Add(time.Minute), RanAfter: []time.Time{ahead}}
	older := audit.RunInfo{StartedAt: t0.Add(2 * time.Minute)} // none, or from before they were kept
	tests := []struct {
		name string
		in   []audit.RunInfo
		want []time.Time
	}{
		{"one run", []audit.RunInfo{shard1}, []time.Time{ahead}},
		{"none", []audit.RunInfo{older, older}, nil},
		{"shards", []audit.RunInfo{shard1, older, shard0}, []time.Time{ahead, ahead2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := audit.MergeRunInfo(tt.in).RanAfter; !slices.EqualFunc(got, tt.want, time.Time.Equal) {
				t.Errorf("ran after %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFinishAndVerdict(t *testing.T) {
	failed := audit.FailOn{Outcomes: map[audit.Outcome]bool{audit.OutcomeNoncompliant: true}}
	tests := []struct {
		name     string
		info     audit.RunInfo
		outcomes map[audit.Outcome]int
		results  int
		want     audit.Verdict
	}{
		{"clean", audit.RunInfo{Targets: 2}, map[audit.Outcome]int{audit.OutcomeCompliant: 2}, 2, audit.Clean},
		{"findings", audit.RunInfo{Targets: 2}, map[audit.Outcome]int{audit.OutcomeNoncompliant: 1, audit.OutcomeCompliant: 1}, 2, audit.Findings},
		{"error wins over findings", audit.RunInfo{Targets: 2}, map[audit.Outcome]int{audit.OutcomeNoncompliant: 1, audit.OutcomeError: 1}, 2, audit.Incomplete},
		{"missing results", audit.RunInfo{Targets: 3}, map[audit.Outcome]int{audit.OutcomeCompliant: 2}, 2, audit.Incomplete},
		{"interrupted", audit.RunInfo{Targets: 2, Interrupted: true}, map[audit.Outcome]int{audit.OutcomeCompliant: 2}, 2, audit.Incomplete},
		{"stopped", audit.RunInfo{Targets: 2, Error: "fatal"}, map[audit.Outcome]int{audit.OutcomeCompliant: 2}, 2, audit.Incomplete},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ri := tt.info
			ri.Finish(tt.outcomes, tt.results)
			if got := ri.Verdict(failed); got != tt.want {
				t.Errorf("Verdict = %v, want %v (info %+v)", got, tt.want, ri)
			}
		})
	}
}

func TestParseFailOn(t *testing.T) {
	if f, err := audit.ParseFailOn(nil); err != nil || !f.Outcomes[audit.OutcomeNoncompliant] || len(f.Outcomes) != 1 || f.New {
		t.Errorf("default: %v, %v", f, err)
	}
	if f, err := audit.ParseFailOn([]string{"none"}); err != nil || len(f.Outcomes) != 0 || f.New {
		t.Errorf("none: %v, %v", f, err)
	}
	f, err := audit.ParseFailOn([]string{"new"})
	ri := audit.RunInfo{Complete: true, Outcomes: map[audit.Outcome]int{audit.OutcomeNoncompliant: 5},
		Changes: &audit.ChangeInfo{Counts: audit.ChangeCounts{audit.NewFailure: 2}}}
	if err != nil || !f.New || f.Findings(ri) != 2 || ri.Verdict(f) != audit.Findings {
		t.Errorf("new: %+v, %v: %d findings", f, err, f.Findings(ri))
	}
	ri.Changes.Counts[audit.NewFailure] = 0
	if ri.Verdict(f) != audit.Clean {
		t.Error("--fail-on new with failures, none of them new, is a finding")
	}
	if _, err := audit.ParseFailOn([]string{"failed", "sometimes"}); err == nil || !strings.Contains(err.Error(), "sometimes") {
		t.Errorf("an unknown word: %v", err)
	}
	// none with another word was taken as the other word alone: a gate
	// that says it counts nothing and fails a run all the same.
	for _, words := range [][]string{{"none", "failed"}, {"new", "none"}} {
		if _, err := audit.ParseFailOn(words); err == nil || !strings.Contains(err.Error(), "none stands alone") {
			t.Errorf("%q: %v, want an error saying none stands alone", words, err)
		}
	}
}

func TestResume(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, audit.ResultsFile)
	w, err := audit.CreateRecord(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []audit.Result{
		{Region: "us-east-1", InstanceID: "i-00000001", Outcome: audit.OutcomeNoAssociations},
		{Region: "us-east-1", InstanceID: "i-00000002", Outcome: audit.OutcomeError, Error: &audit.Error{Code: "Transport"}},
	} {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	fleet := func(ids ...string) *audit.Fleet {
		var f audit.Fleet
		for _, id := range ids {
			f.AddID("--instance-id", id, "us-east-1", "")
		}
		return &f
	}
	rs, err := audit.OpenRecords(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()

	f := fleet("i-00000001", "i-00000002", "i-00000003")
	done, err := audit.Resume(rs, f, audit.Scope{})
	if err != nil || done != 1 || f.Len() != 2 || f.Has(audit.Key{Region: "us-east-1", InstanceID: "i-00000001"}) {
		t.Errorf("Resume: done %d, err %v, %d left; want 1 done and the other two left", done, err, f.Len())
	}
	other := fleet("i-00000002", "i-00000009")
	_, err = audit.Resume(rs, other, audit.Scope{})
	var fe *audit.ForeignError
	if !errors.As(err, &fe) || fe.Count != 1 || fe.Examples[0].InstanceID != "i-00000001" || other.Len() != 2 {
		t.Errorf("Resume with another list: %v (left %d), want a ForeignError naming i-00000001 and nothing dropped", err, other.Len())
	}
}

// TestResumeCallersAccount: a list's lines that name no account are the
// caller's (Scope.Account), and a record may hold their results with that
// account or without it, whichever the run knew: a resume of such a list
// takes them for its own targets, done, not for another list's (a
// ForeignError, which refuses the --resume).
func TestResumeCallersAccount(t *testing.T) {
	const caller = "111111111111"
	tests := []struct {
		name             string
		record, listed   string // the account of the result and of the line
		wantDone, wantIn int
	}{
		{"a result with the caller's account, a line with none", caller, "", 1, 1},
		{"a result with none, a line with the caller's account", "", caller, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), audit.ResultsFile)
			w, err := audit.CreateRecord(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(audit.Result{AccountID: tt.record, Region: "us-east-1", InstanceID: "i-00000001", Outcome: audit.OutcomeNoAssociations}); err != nil {
				t.Fatal(err)
			}
			w.Close()
			rs, err := audit.OpenRecords(path)
			if err != nil {
				t.Fatal(err)
			}
			defer rs.Close()
			var f audit.Fleet
			f.AddID("--instance-id", "i-00000001", "us-east-1", tt.listed)
			f.AddID("--instance-id", "i-00000002", "us-east-1", tt.listed)
			done, err := audit.Resume(rs, &f, audit.Scope{Account: caller})
			if err != nil || done != tt.wantDone || f.Len() != tt.wantIn {
				t.Errorf("Resume: done %d, err %v, %d left; want %d done, %d left", done, err, f.Len(), tt.wantDone, tt.wantIn)
			}
		})
	}
}

// TestResumeOfOtherTargets: Resume refuses targets that are not the run's
// (Scope.Run), even when the record holds nothing outside them, and says
// how far apart they are at least; the same targets, or a run that does
// not know its own, are resumed.
func TestResumeOfOtherTargets(t *testing.T) {
	path := filepath.Join(t.TempDir(), audit.ResultsFile)
	w, err := audit.CreateRecord(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"i-00000001", "i-00000002"} {
		if err := w.Write(audit.Result{Region: "us-east-1", InstanceID: id, Outcome: audit.OutcomeNoAssociations}); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	rs, err := audit.OpenRecords(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	fleet := func(ids ...string) *audit.Fleet {
		var f audit.Fleet
		for _, id := range ids {
			f.AddID("--instance-id", id, "us-east-1", "")
		}
		return &f
	}
	part := func(f *audit.Fleet) audit.Part { return audit.Part{Fleet: f.Digest(), Targets: f.Len()} }
	run := part(fleet("i-00000001", "i-00000002", "i-00000003", "i-00000004"))
	discovery := audit.Part{Fleet: audit.DiscoveryScope([]string{"123456789012"}, []string{"us-east-1"}, nil)}
	tests := []struct {
		name  string
		run   audit.Part
		given *audit.Fleet
		as    func(audit.Part) audit.Part // the part given, when not the fleet's
		want  string                      // the refusal; "": resumed
	}{
		{"the same targets, in another order", run, fleet("i-00000004", "i-00000003", "i-00000002", "i-00000001"), nil, ""},
		{"a run that does not know its targets", audit.Part{Targets: 4}, fleet("i-00000001", "i-00000002"), nil, ""},
		{"those recorded alone", run, fleet("i-00000001", "i-00000002"),
			nil, "the run audits a list of 4 targets, and this resume a list of 2 targets: at least 2 of the run's are not among them"},
		{"more", run, fleet("i-00000001", "i-00000002", "i-00000003", "i-00000004", "i-00000005"),
			nil, "a list of 5 targets: at least 1 of them are not the run's"},
		{"as many, one recorded left out", run, fleet("i-00000001", "i-00000003", "i-00000004", "i-00000005"),
			nil, "at least 1 of the run's are not among them, and at least 1 of them are not the run's"},
		{"as many, all recorded", run, fleet("i-00000001", "i-00000002", "i-00000003", "i-00000005"),
			nil, "a list of 4 targets: as many, not the same ones"},
		{"another shard", audit.Part{Fleet: run.Fleet, Shard: "0/2", Targets: 4}, fleet("i-00000001", "i-00000002", "i-00000003", "i-00000004"),
			func(p audit.Part) audit.Part { p.Shard = "1/2"; return p }, "a list of 4 targets (shard 0/2), and this resume a list of 4 targets (shard 1/2)"},
		{"discovery instead", run, fleet("i-00000001", "i-00000002"),
			func(audit.Part) audit.Part { return discovery }, "and this resume the nodes discovered in accounts=123456789012/regions=us-east-1/filters="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			given := part(tt.given)
			if tt.as != nil {
				given = tt.as(given)
			}
			before := tt.given.Len()
			_, err := audit.Resume(rs, tt.given, audit.Scope{Run: &tt.run, Given: given})
			var te *audit.TargetsError
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Resume: %v, want the targets resumed", err)
			case tt.want != "" && (!errors.As(err, &te) || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Resume: %v, want a TargetsError saying %q", err, tt.want)
			case tt.want != "" && tt.given.Len() != before:
				t.Errorf("a refused Resume left %d of %d targets", tt.given.Len(), before)
			}
		})
	}
}

// TestMergeRunInfoCoverage: a merge says what it lacks of the lists it has
// shards of, and nothing more: an earlier merge's gap filled by the shard
// it lacked is no gap; shards written before parts named their list are
// taken as they were; instances in error leave the record whole (every
// target has a result), so that changes are still compared.
func TestMergeRunInfoCoverage(t *testing.T) {
	shard := func(list string, k, n, targets int) audit.RunInfo {
		return audit.RunInfo{Schema: audit.Schema, Complete: true, Targets: targets,
			Parts: []audit.Part{{Fleet: fmt.Sprintf("part-%s-%d", list, k), List: list, Shard: fmt.Sprintf("%d/%d", k, n), Targets: targets}}}
	}
	finish := func(ri audit.RunInfo) audit.RunInfo {
		ri.Finish(map[audit.Outcome]int{audit.OutcomeCompliant: ri.Targets}, ri.Targets)
		return ri
	}
	half := finish(audit.MergeRunInfo([]audit.RunInfo{shard("L", 0, 3, 10), shard("L", 1, 3, 10)}))
	if !strings.Contains(half.Error, "2/3") || half.Complete || half.Whole() {
		t.Errorf("shards 0 and 1 of 3: error %q, complete %v; want one naming 2/3", half.Error, half.Complete)
	}
	if full := finish(audit.MergeRunInfo([]audit.RunInfo{half, shard("L", 2, 3, 10)})); full.Error != "" || !full.Complete || full.Targets != 30 {
		t.Errorf("that merge with the shard it lacked: error %q, complete %v, %d targets; want whole, 30", full.Error, full.Complete, full.Targets)
	}
	old := []audit.RunInfo{shard("", 0, 3, 10), shard("", 1, 3, 10), shard("", 2, 3, 10)}
	if m := finish(audit.MergeRunInfo(old)); m.Error != "" || !m.Complete {
		t.Errorf("shards from before parts named their list: error %q", m.Error)
	}
	whole := audit.RunInfo{Schema: audit.Schema, Complete: true, Targets: 30, Parts: []audit.Part{{Fleet: "whole-L", List: "L", Targets: 30}}}
	if m := finish(audit.MergeRunInfo([]audit.RunInfo{whole, shard("L", 1, 3, 10)})); m.Targets != 30 || m.Error != "" {
		t.Errorf("a whole run and one of its shards: %d targets, error %q; want 30 and none", m.Targets, m.Error)
	}
	// A list edited between its shards' runs is two lists, each with a
	// shard missing: the merge said it "lacks shard 1/2 of its list" of
	// shards 0/2 and 1/2, naming neither the other list nor the edit.
	edited := finish(audit.MergeRunInfo([]audit.RunInfo{shard("L1", 0, 2, 10), shard("L2", 1, 2, 11)}))
	for _, w := range []string{"2 lists", "0/2 of one", "1/2 of another", "changed between"} {
		if !strings.Contains(edited.Error, w) || edited.Complete {
			t.Errorf("shard 0/2 of a list and 1/2 of it edited: error %q, complete %v; want one saying %q", edited.Error, edited.Complete, w)
		}
	}
	// Two unrelated lists, each lacking shards: the merge names what each
	// lacks, the edit only as what may have made them two.
	apart := finish(audit.MergeRunInfo([]audit.RunInfo{shard("A", 0, 3, 10), shard("B", 1, 2, 10)}))
	for _, w := range []string{"2 lists", "0/3 of one (lacking 1/3, 2/3)", "1/2 of another (lacking 0/2)", "if a list changed between"} {
		if !strings.Contains(apart.Error, w) {
			t.Errorf("shard 0/3 of a list and 1/2 of another: error %q; want one saying %q", apart.Error, w)
		}
	}
	// Merged again with the shards each lacked, that merge is whole: its
	// error is worked out again, not inherited.
	if m := finish(audit.MergeRunInfo([]audit.RunInfo{apart, shard("A", 1, 3, 10), shard("A", 2, 3, 10), shard("B", 0, 2, 10)})); m.Error != "" {
		t.Errorf("that merge with the shards it lacked: error %q, want none", m.Error)
	}
	// Two lists' empty shards have one digest (of no targets): each is
	// still its own list's.
	emptyA, emptyB := shard("A", 1, 2, 0), shard("B", 1, 2, 0)
	emptyA.Parts[0].Fleet, emptyB.Parts[0].Fleet = "empty", "empty"
	if m := finish(audit.MergeRunInfo([]audit.RunInfo{shard("A", 0, 2, 5), emptyA, shard("B", 0, 2, 5), emptyB})); m.Error != "" {
		t.Errorf("two lists' shards, each with an empty shard: %q", m.Error)
	}
	// What Finish works out again is not inherited; a run's own error is.
	for _, tc := range []struct {
		err  string
		kept bool
	}{
		{"1 account-region could not be audited", false},
		{"3 of 10 targets have no result in the record", false},
		{"the merge lacks shard 2/3 of its list: merge every shard's record", false},
		{"no account-region could be audited", true},
		// As a run.json before 2026-12-05 says it.
		{"cannot call SSM: no account-region could be audited", true},
	} {
		in := shard("L", 0, 1, 10)
		in.Error, in.Complete = tc.err, false
		m := finish(audit.MergeRunInfo([]audit.RunInfo{in, shard("M", 0, 1, 5)}))
		if kept := m.Error == tc.err; kept != tc.kept {
			t.Errorf("an input's error %q: merged error %q, want it kept: %v", tc.err, m.Error, tc.kept)
		}
	}
	errs := shard("L", 1, 3, 10)
	errs.Complete, errs.Outcomes = false, map[audit.Outcome]int{audit.OutcomeError: 2, audit.OutcomeCompliant: 8}
	m := audit.MergeRunInfo([]audit.RunInfo{shard("L", 0, 3, 10), errs, shard("L", 2, 3, 10)})
	m.Finish(map[audit.Outcome]int{audit.OutcomeError: 2, audit.OutcomeCompliant: 28}, 30)
	if !m.Whole() || m.Complete {
		t.Errorf("a merge whose instances in error have results: whole %v (error %q), complete %v; want whole and not complete", m.Whole(), m.Error, m.Complete)
	}
}

// TestResumeAuditsRelabelledAgain: an instance whose list labels changed
// since it was audited (an owner handed over between the interrupted run
// and its resume) is audited again, so that the record, and every report
// and mail split by its labels, carries the list's labels; a label the
// record has that the list does not name (looked up from tags, say) is
// no change.
func TestResumeAuditsRelabelledAgain(t *testing.T) {
	path := filepath.Join(t.TempDir(), audit.ResultsFile)
	w, err := audit.CreateRecord(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []audit.Result{
		{Region: "us-east-1", InstanceID: "i-00000001", Outcome: audit.OutcomeNoAssociations, Labels: map[string]string{"owner": "alice", "team": "a"}},
		{Region: "us-east-1", InstanceID: "i-00000002", Outcome: audit.OutcomeNoAssociations, Labels: map[string]string{"owner": "bob", "env": "prod"}},
		{Region: "us-east-1", InstanceID: "i-00000003", Outcome: audit.OutcomeNoAssociations, Labels: map[string]string{"owner": "carol"}},
		{Region: "us-east-1", InstanceID: "i-00000004", Outcome: audit.OutcomeNoAssociations},
	} {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	rs, err := audit.OpenRecords(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var f audit.Fleet
	list := "instance_id,region,owner,team\n" +
		"i-00000001,us-east-1,alice,a\n" + // unchanged
		"i-00000002,us-east-1,bob,\n" + // env from elsewhere; team empty, as the record lacks it
		"i-00000003,us-east-1,dave,\n" + // handed over
		"i-00000004,us-east-1,erin,\n" // had no owner
	if err := f.Read(strings.NewReader(list), "owners.csv"); err != nil {
		t.Fatal(err)
	}
	done, err := audit.Resume(rs, &f, audit.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for tg := range f.All() {
		left = append(left, tg.InstanceID)
	}
	if want := []string{"i-00000003", "i-00000004"}; done != 2 || !slices.Equal(left, want) {
		t.Errorf("Resume: %d done, left %v; want 2 done and %v audited again", done, left, want)
	}
}

// TestMergeRunInfoOldDiscovery: a run.json written before a discovery's
// scope named its accounts and regions says "discovery://" for a run of
// any region: two of them are not known to be one list, and a merge keeps
// both parts and their targets.
func TestMergeRunInfoOldDiscovery(t *testing.T) {
	old := func(targets int) audit.RunInfo {
		return audit.RunInfo{Schema: audit.Schema, Complete: true, Targets: targets,
			Parts: []audit.Part{{Fleet: audit.DiscoveryPrefix + "//", List: audit.DiscoveryPrefix + "//", Targets: targets}}}
	}
	got := audit.MergeRunInfo([]audit.RunInfo{old(29), old(28)})
	if len(got.Parts) != 2 || got.Targets != 57 {
		t.Errorf("merge of two old discoveries: %d parts, %d targets, want 2 and 57", len(got.Parts), got.Targets)
	}
	// A late shard merged into the merge of its shards is there once.
	shard := func(k string, targets int) audit.RunInfo {
		r := old(targets)
		r.Parts[0].Shard = k
		return r
	}
	merged := audit.MergeRunInfo([]audit.RunInfo{shard("0/2", 10), shard("1/2", 20)})
	again := audit.MergeRunInfo([]audit.RunInfo{merged, shard("1/2", 20)})
	if len(again.Parts) != 2 || again.Targets != 30 {
		t.Errorf("an old discovery's merge with one of its shards again: %d parts, %d targets, want 2 and 30", len(again.Parts), again.Targets)
	}
}

// TestMergeRunInfoFailedSitesOnce: the shards of a discovery each
// recorded the account they could not assume (one site, every region),
// and their merge named it once per shard ("3 account-regions could not
// be audited", three lines of "Not audited"); a shard that owned only
// failing account-regions stopped with "no account-region could be
// audited", which the merge took as its own words, though the other
// shards audited. The merge names the failure once and works its error
// out from its sites.
func TestMergeRunInfoFailedSitesOnce(t *testing.T) {
	denied := audit.SiteStats{AccountID: "555555555555", Error: &audit.Error{Code: "AccessDenied", Message: "not authorized to perform sts:AssumeRole"}}
	offRegion := audit.SiteStats{AccountID: "555555555555", Region: "af-south-1", Error: &audit.Error{Code: "UnrecognizedClientException", Message: "region not enabled"}}
	shard := func(k int, err string, sites ...audit.SiteStats) audit.RunInfo {
		return audit.RunInfo{Schema: audit.Schema, Complete: false, Error: err, Sites: sites,
			Parts: []audit.Part{{Fleet: fmt.Sprintf("discovery:accounts=org@1/regions=all/filters=#%d", k), List: "discovery:accounts=org@1/regions=all/filters=", Shard: fmt.Sprintf("%d/3", k), Targets: 10}}}
	}
	// The error as a run.json says it, and as one before 2026-12-05 did.
	for _, fatal := range []string{"no account-region could be audited: 555555555555 af-south-1: region not enabled",
		audit.ErrFatal.Error() + ": no account-region could be audited: 555555555555 af-south-1: region not enabled"} {
		mergeFailedSitesOnce(t, fatal, shard, denied, offRegion)
	}
}

func mergeFailedSitesOnce(t *testing.T, fatal string, shard func(int, string, ...audit.SiteStats) audit.RunInfo, denied, offRegion audit.SiteStats) {
	t.Helper()
	got := audit.MergeRunInfo([]audit.RunInfo{
		shard(0, fatal, denied, offRegion),
		shard(1, "1 account-region could not be audited", denied, audit.SiteStats{AccountID: "111111111111", Region: "us-east-1", Targets: 10, Results: 10}),
		shard(2, "1 account-region could not be audited", denied, audit.SiteStats{AccountID: "111111111111", Region: "eu-west-1", Targets: 10, Results: 10}),
	})
	failed := 0
	for _, s := range got.Sites {
		if s.Error != nil {
			failed++
		}
	}
	if failed != 2 || len(got.Sites) != 4 {
		t.Errorf("merged sites %+v: want the denied account once, the region once, and both audited sites", got.Sites)
	}
	got.Finish(map[audit.Outcome]int{audit.OutcomeCompliant: 20}, 20)
	if got.Error != "2 account-regions failed" {
		t.Errorf("a shard's error %q: merged error %q, want it worked out from the sites", fatal, got.Error)
	}
}

// TestMergeRunInfoLimiterPeak: a merge keeps the highest limiter rates of
// its inputs, the peak after a cut as well as the rate at the end: it kept
// only the latter, and a merged report could not say the limiter was cut.
func TestMergeRunInfoLimiterPeak(t *testing.T) {
	got := audit.MergeRunInfo([]audit.RunInfo{
		{Targets: 4, Complete: true, Stats: audit.Stats{LimiterRate: 40, LimiterPeak: 55}},
		{Targets: 5, Complete: true, Stats: audit.Stats{LimiterRate: 45}},
		{Targets: 6, Complete: true, Stats: audit.Stats{LimiterRate: 30, LimiterPeak: 61}},
	})
	if got.Stats.LimiterRate != 45 || got.Stats.LimiterPeak != 61 {
		t.Errorf("merged limiter rate %v, peak %v; want 45 and 61", got.Stats.LimiterRate, got.Stats.LimiterPeak)
	}
}

// TestMergeRunInfoLimiterCutRate: a merge keeps the highest end rate of
// the limiters that were cut, and none when an input that was cut does not
// say where its cut limiters ended (a record that predates the figure):
// the highest of the others could be less than its.
func TestMergeRunInfoLimiterCutRate(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   []audit.Stats
		want float64
	}{
		{"all known", []audit.Stats{{LimiterRate: 40, LimiterPeak: 55, LimiterCutRate: 38}, {LimiterRate: 90}, {LimiterRate: 30, LimiterPeak: 61, LimiterCutRate: 30}}, 38},
		{"one cut input without it", []audit.Stats{{LimiterRate: 40, LimiterPeak: 55, LimiterCutRate: 38}, {LimiterRate: 45, LimiterPeak: 50}}, 0},
		{"none cut", []audit.Stats{{LimiterRate: 40}, {LimiterRate: 45}}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var in []audit.RunInfo
			for _, s := range tt.in {
				in = append(in, audit.RunInfo{Targets: 1, Complete: true, Stats: s})
			}
			if got := audit.MergeRunInfo(in).Stats.LimiterCutRate; got != tt.want {
				t.Errorf("merged limiter_cut_rate %v, want %v", got, tt.want)
			}
		})
	}
}

// TestFinishTellsListedInPart: an account-region whose listing failed
// after some of its nodes were listed and audited was counted in run.json's
// error, and the reports' "Stopped by", as one that could not be audited,
// while every report and stderr told it "listed in part"; and one stopped
// part way too. Whether the record holds anything of a failed
// account-region is the reports' to say: the error counts them as failed,
// which contradicts none. A merge works the words out again, as it does
// the others, from a run.json of before too.
func TestFinishTellsListedInPart(t *testing.T) {
	failed := &audit.Error{Code: "AccessDenied", Message: "no"}
	inPart := audit.SiteStats{AccountID: "111111111111", Region: "us-east-1", Discovered: 3, Targets: 3, Results: 3,
		Error: &audit.Error{Code: "ThrottlingException", Message: "Rate exceeded"}}
	refused := audit.SiteStats{AccountID: "222222222222", Region: "us-east-1", Error: failed}
	refusedToo := refused
	refusedToo.Region = "eu-west-1"
	for _, tt := range []struct {
		name  string
		sites []audit.SiteStats
		was   string // a run.json's of before
		want  string
	}{
		{"listed in part", []audit.SiteStats{inPart}, "1 account-region could not be audited", "1 account-region failed"},
		{"both", []audit.SiteStats{inPart, refused, refusedToo}, "3 account-regions could not be audited", "3 account-regions failed"},
		{"not audited", []audit.SiteStats{refused}, "1 account-region could not be audited", "1 account-region failed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ri := audit.RunInfo{Targets: 3, Sites: tt.sites}
			ri.Finish(map[audit.Outcome]int{audit.OutcomeCompliant: 3}, 3)
			if ri.Error != tt.want || ri.Complete || strings.Contains(ri.Error, "could not be audited") {
				t.Errorf("Error %q (complete %v), want %q", ri.Error, ri.Complete, tt.want)
			}
			// Merged with a run that audited its own whole, the words are
			// worked out again, not inherited, also from a run.json that
			// said them as before.
			for _, in := range []string{ri.Error, tt.was} {
				ri.Error = in
				other := audit.RunInfo{Targets: 1, Complete: true}
				m := audit.MergeRunInfo([]audit.RunInfo{ri, other})
				m.Finish(map[audit.Outcome]int{audit.OutcomeCompliant: 4}, 4)
				if m.Error != tt.want {
					t.Errorf("merged with an input that says %q: Error %q, want %q", in, m.Error, tt.want)
				}
			}
		})
	}
}
