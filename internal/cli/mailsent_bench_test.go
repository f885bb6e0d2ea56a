package cli

import (
	"testing"
	"time"
)

// BenchmarkMailSentPerGroup measures what keeping each group's mail costs
// (notYet, then keepSent, as mailGroups does), at 300 groups and at 3,000
// in the same run: the cost of a group at 3,000 over its cost at 300 is
// near 1 when the mark grows linearly. The mark rewritten whole and read
// again for each group made it 4.7 (5.9 ms a group at 3,000, 17.7 s in
// all; 0.2 ms now).
//
//	go test ./internal/cli -run '^$' -bench MailSentPerGroup -benchtime 1x
func BenchmarkMailSentPerGroup(b *testing.B) {
	perGroup := func(n int) time.Duration {
		run, srcs, to := groupsRun(b, n)
		dl := quietDelivery(run)
		start := time.Now()
		for i, src := range srcs {
			if rest, _ := dl.notYet(src, to[i]); len(rest) != 1 {
				b.Fatalf("group %d: %q not yet mailed, want its address", i, rest)
			}
			dl.keepSent(src, to[i], false)
		}
		return time.Since(start) / time.Duration(n)
	}
	for b.Loop() {
		small, large := perGroup(300), perGroup(3000)
		b.ReportMetric(float64(small.Microseconds()), "µs/group@300")
		b.ReportMetric(float64(large.Microseconds()), "µs/group@3000")
		b.ReportMetric(float64(large)/float64(small), "ratio_3000_vs_300")
	}
}
