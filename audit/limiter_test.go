package audit

import (
	"math/rand/v2"
	"testing"
	"time"
)

// simulate drives an adaptive Limiter on a fake clock against a service
// that allows limit calls a second (a token bucket; 0: no limit) and
// throttles a share noise of calls whatever the rate. It returns the mean
// rate of calls sent over the last half and the share throttled.
func simulate(t *testing.T, limit, noise float64, seconds int) (sent, throttled float64) {
	t.Helper()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := NewLimiter(0)
	l.now = func() time.Time { return now }
	l.winStart = now
	rng := rand.New(rand.NewPCG(1, 2))
	const dt = 5 * time.Millisecond
	tokens, due := limit/10, 0.0
	var n, thr float64
	steps := seconds * int(time.Second/dt)
	for i := range steps {
		now = now.Add(dt)
		tokens = min(tokens+limit*dt.Seconds(), max(limit/10, 1))
		for due += l.Rate() * dt.Seconds(); due >= 1; due-- {
			ok := rng.Float64() >= noise
			if ok && limit > 0 {
				ok = tokens >= 1
				if ok {
					tokens--
				}
			}
			if i >= steps/2 {
				n++
				if !ok {
					thr++
				}
			}
			if ok {
				l.Success()
			} else {
				l.Throttled()
			}
		}
	}
	half := float64(seconds) / 2
	return n / half, thr / n
}

func TestAdaptiveLimiterSettlesUnderTheLimit(t *testing.T) {
	for _, limit := range []float64{25, 100, 400} {
		sent, thr := simulate(t, limit, 0, 120)
		t.Logf("limit %.0f: sent %.1f/s (%.0f%%), throttled %.1f%%", limit, sent, 100*sent/limit, 100*thr)
		if sent < 0.85*limit || sent > 1.05*limit {
			t.Errorf("limit %.0f: settled at %.1f calls/s, want 85%% to 105%% of the limit", limit, sent)
		}
		if thr > 0.05 {
			t.Errorf("limit %.0f: %.1f%% throttled, want under 5%%", limit, 100*thr)
		}
	}
}

func TestAdaptiveLimiterIgnoresBackgroundThrottling(t *testing.T) {
	// A fifth of all calls throttled whatever the rate, and no limit: the
	// rate must keep growing, not collapse.
	sent, _ := simulate(t, 0, 0.2, 60)
	if sent < 200 {
		t.Errorf("with 20%% background throttling the rate fell to %.1f calls/s", sent)
	}
	// Background throttling and a real limit: still near the limit.
	sent, _ = simulate(t, 200, 0.2, 120)
	t.Logf("limit 200 with 20%% noise: sent %.1f/s", sent)
	if sent < 0.8*200 || sent > 1.3*200 {
		t.Errorf("with a limit of 200 and 20%% noise the rate settled at %.1f", sent)
	}
}

func TestFixedLimiterKeepsItsRate(t *testing.T) {
	l := NewLimiter(42)
	for range 100 {
		l.Throttled()
		l.Success()
	}
	if r := l.Rate(); r != 42 {
		t.Errorf("fixed limiter moved to %v", r)
	}
}
