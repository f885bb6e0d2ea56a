package audit_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestMergeRunInfoTwoSplits: shards of one list split two ways. Every
// shard of one split is the whole list: the other split's shards add no
// target, and nothing is missing. The merge counted the targets of every
// shard of both, and said 63 instances of 200 had no result, when all
// had one.
func TestMergeRunInfoTwoSplits(t *testing.T) {
	shard := func(k, n, targets int) audit.RunInfo {
		return audit.RunInfo{Schema: audit.Schema, Complete: true, Targets: targets,
			Parts: []audit.Part{{Fleet: fmt.Sprintf("part-%d-%d", k, n), List: "L", Shard: fmt.Sprintf("%d/%d", k, n), Targets: targets, Duplicates: 1}}}
	}
	finish := func(ri audit.RunInfo, results int) audit.RunInfo {
		ri.Finish(map[audit.Outcome]int{audit.OutcomeCompliant: results}, results)
		return ri
	}
	for _, tt := range []struct {
		name  string
		infos []audit.RunInfo
	}{
		{"whole split first", []audit.RunInfo{shard(0, 2, 100), shard(1, 2, 100), shard(0, 3, 63)}},
		{"whole split last", []audit.RunInfo{shard(0, 3, 63), shard(0, 2, 100), shard(1, 2, 100)}},
		{"two whole splits", []audit.RunInfo{shard(0, 3, 63), shard(1, 2, 100), shard(1, 3, 70), shard(0, 2, 100), shard(2, 3, 67)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := finish(audit.MergeRunInfo(tt.infos), 200)
			if m.Targets != 200 || m.Error != "" || !m.Complete {
				t.Errorf("%d targets, error %q, complete %v; want 200, none, complete", m.Targets, m.Error, m.Complete)
			}
			if m.Duplicates != 2 {
				t.Errorf("%d duplicates, want 2: those of one split", m.Duplicates)
			}
			if got := audit.PartialShards(m.Parts); got != nil {
				t.Errorf("PartialShards = %q, want none: the list is there whole", got)
			}
			var shards []string
			for _, p := range m.Parts {
				shards = append(shards, p.Shard)
			}
			if want := []string{"0/2", "1/2"}; !slices.Equal(shards, want) {
				t.Errorf("parts %q, want %q: one split, the same whatever the order of the inputs", shards, want)
			}
		})
	}
	// No split whole: the shards overlap by an unknown number of
	// instances, so the targets are unknown rather than summed, and the
	// error is the split, not targets without a result.
	m := finish(audit.MergeRunInfo([]audit.RunInfo{shard(0, 2, 100), shard(0, 3, 63)}), 133)
	if m.Targets != 0 || !strings.Contains(m.Error, "split 2 ways: merge the shards of one split") || m.Complete {
		t.Errorf("shards 0/2 and 0/3: %d targets, error %q, complete %v; want 0 (unknown), the split named, incomplete", m.Targets, m.Error, m.Complete)
	}
}

// TestMergeRunInfoWholeAndASplit: the whole list beside every shard of
// one split of it. The split rule took the whole list's part, which has no
// shard, for a shard of another split and dropped it, while the whole
// list's rule dropped the shards: no part was left, and no target.
func TestMergeRunInfoWholeAndASplit(t *testing.T) {
	whole := audit.RunInfo{Schema: audit.Schema, Complete: true, Targets: 200,
		Parts: []audit.Part{{Fleet: "part-whole", List: "L", Targets: 200}}}
	shard := func(k int) audit.RunInfo {
		return audit.RunInfo{Schema: audit.Schema, Complete: true, Targets: 100,
			Parts: []audit.Part{{Fleet: fmt.Sprintf("part-%d-2", k), List: "L", Shard: fmt.Sprintf("%d/2", k), Targets: 100}}}
	}
	for _, infos := range [][]audit.RunInfo{{whole, shard(0), shard(1)}, {shard(0), shard(1), whole}} {
		m := audit.MergeRunInfo(infos)
		m.Finish(map[audit.Outcome]int{audit.OutcomeCompliant: 200}, 200)
		if m.Targets != 200 || !m.Complete || len(m.Parts) != 1 || m.Parts[0].Shard != "" {
			t.Errorf("%d targets, complete %v, parts %+v; want 200, complete, the whole list's part alone", m.Targets, m.Complete, m.Parts)
		}
	}
}
