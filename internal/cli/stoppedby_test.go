package cli

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestStoppedBy: a step's error that came with a signal is the signal's
// only when it says so (errInterrupted, a cancelled call). A usage error
// that a signal happened to follow (a list that names an account no role
// reaches, exit 2) was told as "interrupted", exit 3.
func TestStoppedBy(t *testing.T) {
	signalled, cancel := context.WithCancel(context.Background())
	cancel()
	running := context.Background()
	past, cancelPast := context.WithDeadline(running, time.Now().Add(-time.Second))
	defer cancelPast()
	usage := &usageError{msg: "the list names account 222222222222, which no role reaches"}
	for _, tc := range []struct {
		name       string
		ctx, early context.Context
		err        error
		want       bool
	}{
		{"signal, the step interrupted", signalled, signalled, fmt.Errorf("lookup: %w", errInterrupted), true},
		{"signal, a call cancelled", signalled, signalled, fmt.Errorf("operation error SSM: %w", context.Canceled), true},
		{"signal, a usage error", signalled, signalled, usage, false},
		{"signal, a refusal", signalled, signalled, errors.New("AccessDeniedException: not authorized"), false},
		{"--timeout, whatever the step said", running, past, errors.New("operation error STS: request canceled"), true},
		{"neither", running, running, fmt.Errorf("x: %w", errInterrupted), false},
	} {
		if got := stoppedBy(tc.ctx, tc.early, tc.err); got != tc.want {
			t.Errorf("%s: stoppedBy = %v, want %v", tc.name, got, tc.want)
		}
	}
}
