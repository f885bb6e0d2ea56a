package cli

import (
	"context"
	"errors"
	"time"
)

// pastDeadline reports whether ctx is done or its deadline has come, even
// if its timer has not fired yet. Several contexts end at the run's one
// --timeout deadline (the run's, the MFA prompt's), each on a timer of its
// own; the one that fires first may return before another's Err is set, and
// a failure judged by that Err alone is taken for something other than the
// timeout.
func pastDeadline(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

// stoppedBy reports whether err, a step's error, is the step's way of
// saying that a signal (ctx) or --timeout (early) stopped it: after a
// signal, only errInterrupted and a cancelled call are; a usage error or a
// refusal that a signal happened to follow is told as it is, with its own
// exit code. Past --timeout, whatever the step was doing when it ran out.
func stoppedBy(ctx, early context.Context, err error) bool {
	if ctx.Err() != nil {
		return errors.Is(err, errInterrupted) || errors.Is(err, context.Canceled)
	}
	return pastDeadline(early)
}
