package audit_test

import (
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

func TestSuperseded(t *testing.T) {
	s0 := audit.Part{Fleet: "f0", List: "l", Shard: "0/2"}
	s1 := audit.Part{Fleet: "f1", List: "l", Shard: "1/2"}
	whole := audit.Part{Fleet: "f", List: "l"}
	other := audit.Part{Fleet: "g", List: "m"}
	run := func(parts ...audit.Part) audit.RunInfo { return audit.RunInfo{Parts: parts} }
	for _, tt := range []struct {
		name  string
		infos []audit.RunInfo
		kept  int
		want  bool
	}{
		{"a merge merged again with its shards", []audit.RunInfo{run(s0, s1), run(s0), run(s1)}, 0, true},
		{"a merge that lacked a shard's run.json", []audit.RunInfo{run(s0), run(s0), run(s1)}, 0, true},
		{"shards merged again with the whole list", []audit.RunInfo{run(s0, s1), run(whole)}, 0, true},
		{"some of its results kept", []audit.RunInfo{run(s0, s1), run(s0), run(s1)}, 3, false},
		{"a shard no later record covers", []audit.RunInfo{run(s0, s1), run(s0)}, 0, false},
		{"another list after it", []audit.RunInfo{run(s0), run(other)}, 0, false},
		{"no parts (a run.json from before them)", []audit.RunInfo{run(), run(s0)}, 0, false},
		{"a part of unknown targets", []audit.RunInfo{run(audit.Part{Shard: "0/2"}), run(audit.Part{Shard: "0/2"})}, 0, false},
		{"the whole list, shards after it", []audit.RunInfo{run(whole), run(s0), run(s1)}, 0, false},
		{"the last record", []audit.RunInfo{run(s0)}, 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := audit.Superseded(tt.infos, 0, tt.kept); got != tt.want {
				t.Errorf("Superseded = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestSupersedeParts: an earlier merge that still brings results of its
// own drops its flags only when every part it did not hold whole is carried
// whole by a later run.
func TestSupersedeParts(t *testing.T) {
	s0 := audit.Part{Fleet: "f0", List: "l", Shard: "0/2", Targets: 2}
	s1 := audit.Part{Fleet: "f1", List: "l", Shard: "1/2", Targets: 2}
	whole := audit.Part{Fleet: "f", List: "l", Targets: 4}
	done := func(parts ...audit.Part) audit.RunInfo {
		return audit.RunInfo{Parts: parts, Complete: true}
	}
	stopped := func(parts ...audit.Part) audit.RunInfo {
		return audit.RunInfo{Parts: parts, Interrupted: true}
	}
	failed := audit.Error{Code: "AccessDenied", Message: "not authorized"}
	// An earlier merge of s0 (whole) and s1 (interrupted), as MergeRunInfo
	// writes it.
	earlier := audit.MergeRunInfo([]audit.RunInfo{done(s0), stopped(s1)})
	if len(earlier.WholeParts) != 1 || earlier.WholeParts[0] != s0 {
		t.Fatalf("MergeRunInfo: whole parts %v, want [%v]", earlier.WholeParts, s0)
	}
	bothStopped := audit.MergeRunInfo([]audit.RunInfo{stopped(s0), stopped(s1)})
	if len(bothStopped.WholeParts) != 0 {
		t.Fatalf("MergeRunInfo of two interrupted shards: whole parts %v, want none", bothStopped.WholeParts)
	}
	siteFailed := earlier
	siteFailed.Sites = []audit.SiteStats{{AccountID: "9", Region: "us-east-1", Error: &failed}}
	old := earlier
	old.WholeParts = nil // a merge written before whole parts were kept
	undescribed := earlier
	undescribed.Undescribed([]string{"x/results.jsonl"})
	for _, tt := range []struct {
		name  string
		infos []audit.RunInfo
		want  bool
		kept  int // of its results; s0's two when unset
	}{
		{name: "the late shard after it, complete", infos: []audit.RunInfo{earlier, done(s1)}, want: true},
		// The list's digest is taken before the caller's account fills
		// its rows: a run of the whole list in another account shares
		// it, and is of other instances.
		{name: "the whole list after it, complete", infos: []audit.RunInfo{earlier, done(whole)}, want: false},
		{name: "its account-region that failed with the late shard", infos: []audit.RunInfo{siteFailed, done(s1)}, want: true},
		// More results kept than its whole parts have targets: results
		// its run.json does not describe (an in-place merge killed
		// before its own run.json left the earlier one beside them).
		{name: "more results than its whole parts' targets", infos: []audit.RunInfo{earlier, done(s1)}, kept: 3, want: false},
		{name: "the late shard after it, interrupted again", infos: []audit.RunInfo{earlier, stopped(s1)}, want: false},
		{name: "the whole shard, not the late one", infos: []audit.RunInfo{earlier, done(s0)}, want: false},
		{name: "nothing after it", infos: []audit.RunInfo{earlier}, want: false},
		{name: "both shards interrupted, one after it", infos: []audit.RunInfo{bothStopped, done(s1)}, want: false},
		// No part whole: what results it still brings are of no part
		// (when it brings none, Superseded leaves it out).
		{name: "both shards interrupted, both after it", infos: []audit.RunInfo{bothStopped, done(s1), done(s0)}, want: false},
		{name: "a merge that does not say which parts were whole", infos: []audit.RunInfo{old, done(s1)}, want: false},
		{name: "a merge of records without run.json", infos: []audit.RunInfo{undescribed, done(s1)}, want: false},
		{name: "a run of one part", infos: []audit.RunInfo{stopped(s1), done(s1)}, want: false},
		{name: "a complete merge", infos: []audit.RunInfo{audit.MergeRunInfo([]audit.RunInfo{done(s0), done(s1)}), done(s1)}, want: false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			kept := tt.kept
			if kept == 0 {
				kept = s0.Targets
			}
			ri, got := audit.SupersedeParts(tt.infos, 0, kept)
			if got != tt.want {
				t.Fatalf("SupersedeParts = %v, want %v", got, tt.want)
			}
			if !got {
				if ri.Interrupted != tt.infos[0].Interrupted || ri.Error != tt.infos[0].Error || len(ri.Sites) != len(tt.infos[0].Sites) {
					t.Errorf("not superseded, yet changed: %+v", ri)
				}
				return
			}
			if ri.Interrupted || ri.Error != "" || len(ri.Sites) != 0 || len(ri.Parts) != len(tt.infos[0].Parts) {
				t.Errorf("superseded: interrupted %v, error %q, sites %v, parts %v; want no flags, the parts kept", ri.Interrupted, ri.Error, ri.Sites, ri.Parts)
			}
			m := audit.MergeRunInfo(append([]audit.RunInfo{ri}, tt.infos[1:]...))
			if !m.Complete || m.Interrupted || m.Error != "" {
				t.Errorf("merged: complete %v, interrupted %v, error %q; want complete", m.Complete, m.Interrupted, m.Error)
			}
		})
	}
	// A later merge keeps what is whole: shard 1 replaced, shard 0 still
	// interrupted in the earlier merge.
	m := audit.MergeRunInfo([]audit.RunInfo{bothStopped, done(s1)})
	if len(m.WholeParts) != 1 || m.WholeParts[0] != s1 || !m.Interrupted {
		t.Errorf("the merge of two interrupted shards merged with one complete: whole parts %v, interrupted %v; want [%v], interrupted", m.WholeParts, m.Interrupted, s1)
	}
	// A shard replaced in part by a later interrupted run of the whole list
	// is not known whole.
	m = audit.MergeRunInfo([]audit.RunInfo{done(s0), done(s1), stopped(whole)})
	if len(m.WholeParts) != 0 {
		t.Errorf("shards merged with the whole list interrupted: whole parts %v, want none", m.WholeParts)
	}
}

// TestMergeListOfTwoAccounts: the shards of a list, or a shard and the
// whole list, audited with two accounts' credentials are not one list
// whole: the merge says so. Whole runs of it in two accounts are two
// fleets, each whole.
func TestMergeListOfTwoAccounts(t *testing.T) {
	run := func(caller, fleet, shard string) audit.RunInfo {
		return audit.RunInfo{Caller: caller, Complete: true, Parts: []audit.Part{{Fleet: fleet, List: "l", Shard: shard, Targets: 2}}}
	}
	for _, tt := range []struct {
		name    string
		infos   []audit.RunInfo
		partial bool
	}{
		{"shards in two accounts", []audit.RunInfo{run("111111111111", "a0", "0/2"), run("222222222222", "b1", "1/2")}, true},
		{"a shard and the whole list in another", []audit.RunInfo{run("111111111111", "a0", "0/2"), run("222222222222", "b", "")}, true},
		{"the whole list in two accounts", []audit.RunInfo{run("111111111111", "a", ""), run("222222222222", "b", "")}, false},
		{"shards in one account", []audit.RunInfo{run("111111111111", "a0", "0/2"), run("111111111111", "a1", "1/2")}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := audit.MergeRunInfo(tt.infos)
			if got := strings.Contains(m.Error, "credentials of 2 accounts"); got != tt.partial || m.Complete == tt.partial {
				t.Errorf("complete %v, error %q; want partial %v", m.Complete, m.Error, tt.partial)
			}
		})
	}
}
