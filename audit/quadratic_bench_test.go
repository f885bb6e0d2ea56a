package audit

import (
	"fmt"
	"testing"
	"time"
)

// perItem times f, which handles items things, and returns its time per
// item: the least of a few runs, so that one run slowed by another
// process does not set the baseline.
func perItem(items int, f func()) time.Duration {
	best := time.Duration(1<<63 - 1)
	for range 5 {
		start := time.Now()
		f()
		best = min(best, time.Since(start))
	}
	return best / time.Duration(items)
}

// BenchmarkMergeRunInfoShards merges the run.json of 10,000 shards of one
// list, the most a list is split into (MaxShards). x_per_shard_vs_100 is
// its time per shard against a merge of 100 shards timed in the same run:
// about 1 while a merge grows with its shards, 100 when it grows with
// their square.
func BenchmarkMergeRunInfoShards(b *testing.B) {
	const base, n = 100, MaxShards
	small, large := shardInfos(base), shardInfos(n)
	baseline := perItem(base, func() { MergeRunInfo(small) })
	var total time.Duration
	for b.Loop() {
		start := time.Now()
		MergeRunInfo(large)
		total += time.Since(start)
	}
	perShard := total / time.Duration(b.N*n)
	b.ReportMetric(float64(perShard)/float64(baseline), "x_per_shard_vs_100")
}

// BenchmarkCompareScopeShards asks, of 20,000 results, whether each is in
// a merge of 9,999 of 10,000 shards (Records.Scope of a merge that lacks
// one shard, which Compare asks of every result). x_per_result_vs_100 is
// its time per result against the same for 99 of 100 shards in the same
// run: about 1 while the cost of a result does not grow with the shards.
func BenchmarkCompareScopeShards(b *testing.B) {
	const base, n, results = 100, MaxShards, 20000
	scope := func(n int) func(*Result) bool {
		var parts []Part
		for k := range n - 1 {
			parts = append(parts, Part{Fleet: fmt.Sprintf("f%d", k), List: "l", Shard: fmt.Sprintf("%d/%d", k, n)})
		}
		return covers(parts)
	}
	rs := make([]Result, results)
	for i := range rs {
		rs[i].InstanceID = fmt.Sprintf("i-%017x", i+1)
	}
	ask := func(in func(*Result) bool) {
		for i := range rs {
			in(&rs[i])
		}
	}
	small, large := scope(base), scope(n)
	baseline := perItem(results, func() { ask(small) })
	var total time.Duration
	for b.Loop() {
		start := time.Now()
		ask(large)
		total += time.Since(start)
	}
	perResult := total / time.Duration(b.N*results)
	b.ReportMetric(float64(perResult)/float64(baseline), "x_per_result_vs_100")
}
