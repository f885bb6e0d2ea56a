package report

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// BenchmarkLabelValues: the builder's memory for label breakdowns, held
// while it streams the record, with a label whose value is every
// instance's own (--tag-labels Name) against one of ten values, over the
// same instances in the same run. It reports the bytes held per distinct
// value (B/value) and the ratio of the two heaps (x_few).
//
//	go test ./report -run '^$' -bench LabelValues -benchtime 1x
func BenchmarkLabelValues(b *testing.B) {
	const n = 200_000
	held := func(distinct int) uint64 {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		bl := newBuilder(Options{})
		for i := range n {
			r := audit.Result{InstanceID: fmt.Sprintf("i-%017x", i), Outcome: audit.OutcomeCompliant,
				Labels: map[string]string{"Name": fmt.Sprintf("web-%d", i%distinct)}}
			bl.addLabels(r, audit.Counts{Total: 1, Success: 1})
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(bl)
		return after.HeapAlloc - min(before.HeapAlloc, after.HeapAlloc)
	}
	for range b.N {
		few, every := held(10), held(n)
		b.ReportMetric(float64(every)/n, "B/value")
		b.ReportMetric(float64(every)/float64(max(few, 1)), "x_few")
	}
}
