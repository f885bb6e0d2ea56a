package audit

import (
	"context"
	"math"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter paces the calls to one account and region. A fixed Limiter keeps
// one rate. An adaptive one finds the service's limit itself, the way TCP
// finds a link's:
//
//   - It starts at 20 calls a second and grows exponentially while no call
//     is throttled (slow start). After a cut it grows fast again up to 90%
//     of the rate that last got through, probes by about 5% a second from
//     there, and past 120% of it grows fast again (the limit has moved).
//   - Once a second (and at least every 20 answers) it looks at the share
//     of throttled answers. When that share rises above the background
//     level (the median share of the last few windows, at most 50%) by more
//     than 5 points, the calls are over the limit: the rate is cut to 85% of
//     what actually got through in that window, which converges in one step
//     even after slow start overshot.
//
// Throttles that come whatever the rate (a service busy with other clients)
// raise the background level instead of cutting the rate to nothing, so
// the limiter settles just under whatever the service allows. A Limiter is
// safe for concurrent use; the zero value is not valid, use NewLimiter.
type Limiter struct {
	lim *rate.Limiter

	mu        sync.Mutex
	adaptive  bool
	slowStart bool
	rate      float64
	now       func() time.Time
	// The current window: its start, and the answers in it.
	winStart time.Time
	ok, thr  int
	// history holds the throttled share of recent windows.
	history []float64
	// known is the rate that got through when the rate was last cut.
	known float64
}

// Tuning of the adaptive rate.
const (
	minRate     = 1     // calls per second, the floor
	maxRate     = 10000 // calls per second, the ceiling
	initialRate = 20
	slowStep    = 2    // slow start: per success, so the rate grows e-fold every half second
	growth      = 0.05 // after slow start: per success, so about 5% a second
	cutFactor   = 0.85
	margin      = 0.05 // throttled share above the background that means "over the limit"
	maxNoise    = 0.5  // a background share above this is no background: back off
	window      = time.Second
	minAnswers  = 20
	historyLen  = 8
)

// NewLimiter returns a Limiter fixed at tps calls per second, or an adaptive
// one when tps is 0.
func NewLimiter(tps float64) *Limiter {
	l := &Limiter{now: time.Now}
	if tps > 0 {
		l.rate = tps
	} else {
		l.adaptive, l.slowStart, l.rate = true, true, initialRate
	}
	l.winStart = l.now()
	l.lim = rate.NewLimiter(rate.Limit(l.rate), 1)
	return l
}

// Wait blocks until a call may start, or ctx is done. An adaptive Limiter
// does not pace during slow start, before the service has throttled
// anything: a reservation's time is fixed when it is made, so pacing from
// the low starting rate would hold the last of many workers for seconds
// after the rate had grown (BENCHMARKS.md); the worker pool bounds the calls
// until then.
func (l *Limiter) Wait(ctx context.Context) error {
	l.mu.Lock()
	unpaced := l.adaptive && l.slowStart
	l.mu.Unlock()
	if unpaced {
		return ctx.Err()
	}
	return l.lim.Wait(ctx)
}

// Rate returns the current rate in calls per second.
func (l *Limiter) Rate() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rate
}

// Success tells an adaptive Limiter that a call went through.
func (l *Limiter) Success() {
	if !l.adaptive {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ok++
	if l.slowStart || l.rate < 0.9*l.known || l.rate > 1.2*l.known {
		l.set(l.rate + slowStep)
	} else {
		l.set(l.rate + growth)
	}
	l.maybeClose()
}

// Throttled tells an adaptive Limiter that a call was throttled.
func (l *Limiter) Throttled() {
	if !l.adaptive {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.thr++
	l.maybeClose()
}

// maybeClose ends the window when it is long and full enough, and decides.
func (l *Limiter) maybeClose() {
	now := l.now()
	el := now.Sub(l.winStart)
	n := l.ok + l.thr
	if el < window || n < minAnswers {
		return
	}
	share := float64(l.thr) / float64(n)
	// The background is the median share of recent windows; a rise beyond
	// it by more than the margin, and by more than chance would explain
	// (three standard deviations of a share of n answers), is ours.
	noise := 0.0
	if len(l.history) > 0 {
		h := slices.Sorted(slices.Values(l.history))
		noise = min(h[len(h)/2], maxNoise)
	}
	chance := 3 * math.Sqrt(max(noise*(1-noise), 0.01)/float64(n))
	if l.thr > 1 && share > noise+max(margin, chance) {
		passed := float64(l.ok) / el.Seconds()
		l.slowStart = false
		l.known = min(l.rate, passed)
		l.set(l.known * cutFactor)
	}
	l.history = append(l.history, share)
	if len(l.history) > historyLen {
		l.history = l.history[1:]
	}
	l.winStart, l.ok, l.thr = now, 0, 0
}

func (l *Limiter) set(r float64) {
	l.rate = min(max(r, minRate), maxRate)
	l.lim.SetLimit(rate.Limit(l.rate))
}
