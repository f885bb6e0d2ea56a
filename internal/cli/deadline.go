package cli

import (
	"context"
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
