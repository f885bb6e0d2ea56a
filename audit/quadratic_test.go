package audit

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
)

// randomPart draws a part from a small pool of fleets, lists and shards,
// so that random inputs share parts, overlap, split one list several ways,
// carry damaged shards and old discoveries.
func randomPart(r *rand.Rand) Part {
	fleets := []string{"", "f1", "f2", "f3", "run-0", "run-1", DiscoveryPrefix + "old", discoveryScoped + "a"}
	lists := []string{"", "la", "lb"}
	shards := []string{"", "", "0/2", "1/2", "0/3", "1/3", "2/3", "0/1", "5/3", "-1/2", "x/y", "3", "1/2x", " 1/2", "0/0"}
	return Part{
		Fleet:   fleets[r.IntN(len(fleets))],
		List:    lists[r.IntN(len(lists))],
		Shard:   shards[r.IntN(len(shards))],
		Targets: r.IntN(3),
	}
}

func randomInfos(r *rand.Rand) []RunInfo {
	infos := make([]RunInfo, 1+r.IntN(6))
	for i := range infos {
		ri := &infos[i]
		ri.Complete = r.IntN(3) > 0
		ri.Interrupted = r.IntN(5) == 0
		if r.IntN(6) == 0 {
			ri.Error = "boom"
		}
		if r.IntN(6) == 0 {
			ri.Outcomes = map[Outcome]int{OutcomeError: 1}
		}
		if r.IntN(6) == 0 {
			ri.Sites = []SiteStats{{AccountID: "1", Region: "r", Error: &Error{Code: "AccessDenied"}}}
		}
		for range r.IntN(5) {
			ri.Parts = append(ri.Parts, randomPart(r))
		}
		switch r.IntN(3) {
		case 1: // some of its own parts whole
			ri.WholeParts = []Part{}
			for _, p := range ri.Parts {
				if r.IntN(2) == 0 {
					ri.WholeParts = append(ri.WholeParts, p)
				}
			}
		case 2: // parts of its own or not, as a damaged run.json may say
			for range r.IntN(3) {
				ri.WholeParts = append(ri.WholeParts, randomPart(r))
			}
		}
	}
	return infos
}

// TestWholePartsSameAsBefore: wholeParts, made linear in the parts of a
// merge of many shards, says of every part what the comparison of each
// part with every later input's said, for inputs in any order (a later
// input's parts replace an earlier's).
func TestWholePartsSameAsBefore(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	wholes, notWholes := 0, 0
	for i := range 50000 {
		infos := randomInfos(r)
		var all []Part
		for _, ri := range infos {
			all = append(all, ri.Parts...)
		}
		for _, parts := range [][]Part{mergeParts(all), all} {
			got, want := wholeParts(infos, parts), wholePartsRef(infos, parts)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("case %d: wholeParts(%+v, %+v)\n got %+v\nwant %+v", i, infos, parts, got, want)
			}
			wholes += len(want)
			notWholes += len(parts) - len(want)
		}
	}
	// The inputs must reach both answers, or the test compares nothing.
	if wholes < 1000 || notWholes < 1000 {
		t.Fatalf("random inputs gave %d whole parts and %d not whole: too few of one to compare", wholes, notWholes)
	}
}

// TestCoversSameAsBefore: covers, which hashes an instance once per
// distinct N instead of once per shard, keeps the same instances.
func TestCoversSameAsBefore(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	shards := []string{"", "0/1", "0/2", "1/2", "0/3", "1/3", "2/3", "3/7", "6/7", "0/7", "x/y", "3/3", "-1/2"}
	kept, dropped, nils := 0, 0, 0
	for i := range 20000 {
		var parts []Part
		for range r.IntN(6) {
			p := Part{Fleet: fmt.Sprintf("f%d", r.IntN(3)), List: []string{"", "la", "lb"}[r.IntN(3)], Shard: shards[r.IntN(len(shards))]}
			if r.IntN(4) == 0 {
				p.Fleet = discoveryScoped + "a"
			}
			parts = append(parts, p)
		}
		got, want := covers(parts), coversRef(parts)
		if (got == nil) != (want == nil) {
			t.Fatalf("case %d: covers(%+v) nil is %v, want %v", i, parts, got == nil, want == nil)
		}
		if want == nil {
			nils++
			continue
		}
		for j := range 20 {
			res := Result{InstanceID: fmt.Sprintf("i-%017x", r.Uint64()>>4), AccountID: fmt.Sprintf("%012d", r.IntN(5)), Region: []string{"eu-west-1", "us-east-1"}[r.IntN(2)]}
			if g, w := got(&res), want(&res); g != w {
				t.Fatalf("case %d.%d: covers(%+v)(%+v) = %v, want %v", i, j, parts, res, g, w)
			}
			if want(&res) {
				kept++
			} else {
				dropped++
			}
		}
	}
	if kept < 1000 || dropped < 1000 || nils < 1000 {
		t.Fatalf("random inputs gave %d instances kept, %d dropped, %d scopes of every instance: too few of one to compare", kept, dropped, nils)
	}
}

// shardInfos returns the run.json of each of n shards of one list, every
// one complete, as a merge of `auditor run --shard K/N` records reads them.
func shardInfos(n int) []RunInfo {
	infos := make([]RunInfo, n)
	for k := range infos {
		infos[k] = RunInfo{Schema: Schema, Complete: true, Targets: 2,
			Parts: []Part{{Fleet: fmt.Sprintf("fleet-%d", k), List: "list", Shard: fmt.Sprintf("%d/%d", k, n), Targets: 2}}}
	}
	return infos
}

// TestMergeRunInfoLinearInShards: merging ten times the shards does about
// ten times the work. Each part was compared with every later input's,
// reading both shards' "K/N" again each time, so that a merge of 10,000
// shards took minutes. Counted in allocations, which do not depend on
// the machine's load as time does.
func TestMergeRunInfoLinearInShards(t *testing.T) {
	allocs := func(n int) float64 {
		infos := shardInfos(n)
		return testing.AllocsPerRun(1, func() { MergeRunInfo(infos) })
	}
	small, large := allocs(100), allocs(1000)
	if ratio := large / small; ratio > 30 {
		t.Errorf("merging 1000 shards allocated %.0f times, 100 shards %.0f: %.0f times as much for 10 times the shards, want about 10", large, small, ratio)
	}
}
