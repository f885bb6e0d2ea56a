package audit

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter paces the calls to one account and region. A fixed Limiter keeps
// one rate. An adaptive one finds the service's limit itself, the way TCP
// finds a link's: it starts low and doubles each second until the first
// throttle (slow start), then on each throttle cuts the rate to 85% (at most
// once per second, because the calls already in flight were sent at the old
// rate) and between throttles adds about 5% a second. It settles just under
// whatever the service allows. A Limiter is safe for concurrent use; the zero
// value is not valid, use NewLimiter.
type Limiter struct {
	mu        sync.Mutex
	lim       *rate.Limiter
	adaptive  bool
	slowStart bool
	rate      float64
	lastCut   time.Time
	now       func() time.Time
	// ok counts successes in the current second (okAt) and the one before,
	// to measure the rate the service actually let through.
	okAt       time.Time
	ok, okPrev int
}

// Bounds of the adaptive rate, in calls per second.
const (
	minRate     = 1
	maxRate     = 10000
	initialRate = 10
	cutFactor   = 0.85
	growth      = 0.05
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
	l.lim = rate.NewLimiter(rate.Limit(l.rate), 1)
	return l
}

// Wait blocks until a call may start, or ctx is done.
func (l *Limiter) Wait(ctx context.Context) error { return l.lim.Wait(ctx) }

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
	l.tick()
	l.ok++
	if l.slowStart {
		l.set(l.rate + 1)
	} else {
		l.set(l.rate + growth)
	}
}

// Throttled tells an adaptive Limiter that a call was throttled.
func (l *Limiter) Throttled() {
	if !l.adaptive {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Sub(l.lastCut) < time.Second {
		return
	}
	l.lastCut = now
	l.slowStart = false
	// What got through in the last second is the service's limit, measured;
	// cutting below it (rather than below our own rate, which may be far
	// above the limit after slow start) converges in one step.
	l.tick()
	target := l.rate
	if passed := float64(l.okPrev); passed > 0 && passed < target {
		target = passed
	}
	l.set(target * cutFactor)
}

// tick moves the success window on to the current second.
func (l *Limiter) tick() {
	now := l.now()
	switch d := now.Sub(l.okAt); {
	case d < time.Second:
	case d < 2*time.Second:
		l.okPrev, l.ok, l.okAt = l.ok, 0, l.okAt.Add(time.Second)
	default:
		l.okPrev, l.ok, l.okAt = 0, 0, now
	}
}

func (l *Limiter) set(r float64) {
	l.rate = min(max(r, minRate), maxRate)
	l.lim.SetLimit(rate.Limit(l.rate))
}
