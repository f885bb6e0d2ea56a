package cli

import (
	"context"
	"testing"
	"time"
)

// lateTimer is a context whose deadline has passed but whose timer has
// not fired yet: what the run's check saw when the MFA prompt's own
// context, with the same deadline, ended first (exit 4 with "context
// deadline exceeded" instead of exit 3 naming --timeout).
type lateTimer struct {
	context.Context
	deadline time.Time
}

func (c lateTimer) Deadline() (time.Time, bool) { return c.deadline, true }

func TestPastDeadlineBeforeItsTimerFires(t *testing.T) {
	base := context.Background()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		want bool
	}{
		{"no deadline", base, false},
		{"deadline ahead", lateTimer{base, time.Now().Add(time.Hour)}, false},
		{"deadline past, timer not fired", lateTimer{base, time.Now().Add(-time.Millisecond)}, true},
	} {
		if got := pastDeadline(tc.ctx); got != tc.want {
			t.Errorf("%s: pastDeadline = %v, want %v", tc.name, got, tc.want)
		}
	}
	done, cancel := context.WithCancel(base)
	cancel()
	if !pastDeadline(done) {
		t.Error("a context already done is not past")
	}
}
