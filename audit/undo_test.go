package audit

import (
	"testing"
	"time"
)

// TestUndoNeedsTheLimitersPace drives one cut and its verification by
// hand: before the cut, calls at the Limiter's pace, 18% throttled; after
// it, 10% throttled, which is at least half the share before and so looks
// like throttles that come whatever the rate. The cut is undone, the
// share kept as the background's floor, only when the calls sent after
// it were fewer than before and went at the Limiter's pace: when the
// workers (asleep in their throttles' backoff) set the pace for part of
// the span, the share after says nothing about the rate. grow moves cutAt
// on while the pool sets the pace, so the calls after the cut are counted
// from the cut itself.
func TestUndoNeedsTheLimitersPace(t *testing.T) {
	for _, tc := range []struct {
		name string
		slow time.Duration // after the cut, the workers send at 30/s this long
		undo bool
	}{
		{"at the Limiter's pace", 0, true},
		{"the workers' pace for half a second first", 500 * time.Millisecond, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			l := newLimiter(0, func() time.Time { return now })
			l.slowStart, l.cuts, l.limit, l.scale, l.latency = false, 2, 100, 400, 0.025
			l.estA, l.estS = limitEstimate{v: 100, w: 50}, limitEstimate{v: 100, w: 50}
			l.k = 1
			l.startBg = 0.05 // the slow start saw 5% throttled before the bucket ran dry
			l.set(100)
			l.cutAt = now.Add(-10 * time.Second)
			type call struct {
				sent time.Time
				thr  bool
			}
			var flying []call
			n := 0
			// step sends one call now, when send, and answers those sent
			// 25 ms ago or more; every tenth answer, or whatever share
			// thr per mille says, is throttled.
			step := func(d time.Duration, send bool, perMille int) {
				if send {
					l.grant(now)
					n++
					flying = append(flying, call{now, n*perMille%1000 < perMille})
				}
				now = now.Add(d)
				for len(flying) > 0 && now.Sub(flying[0].sent) >= 25*time.Millisecond {
					c := flying[0]
					flying = flying[1:]
					l.observe(now, c.sent, c.thr)
				}
			}
			l.waiting = 1 // callers in line: the Limiter sets the pace
			for range 100 {
				step(10*time.Millisecond, true, 0) // a quiet second at 100/s
			}
			cuts := l.cuts
			for i := 0; l.cuts == cuts && i < 1000; i++ {
				step(10*time.Millisecond, true, 180)
			}
			if l.cuts == cuts {
				t.Fatal("no cut at 18% throttled")
			}
			if !l.verify.on {
				t.Fatal("the cut is not being verified")
			}
			limit := l.limit
			if tc.slow > 0 {
				l.waiting = 0
				for end := now.Add(tc.slow); now.Before(end); {
					step(time.Second/30, true, 100)
				}
				l.waiting = 1
			}
			for i := 0; l.verify.on && i < 1000; i++ {
				step(time.Duration(float64(time.Second)/l.rate), true, 100)
			}
			if l.verify.on {
				t.Fatal("the verification did not end")
			}
			undone := l.bgFloor > 0
			t.Logf("limit %.1f at the cut, %.1f after its verification; background floor %.3f", limit, l.limit, l.bgFloor)
			if undone != tc.undo {
				t.Errorf("cut undone: %v, want %v", undone, tc.undo)
			}
		})
	}
}
