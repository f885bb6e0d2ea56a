package cli

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/auditor-dev/auditor/internal/outdir"
)

// maxSameSecond is how many seconds a run waits for a {time} in --out that
// names no directory yet.
const maxSameSecond = 5

// outClaim is the directory that a run claimed as its {time} in --out,
// and the directories on the way that it made to claim it, outermost
// first. A nil *outClaim is valid and holds nothing.
type outClaim struct {
	made []string
}

// claimTimedOut chooses the second whose {time} names --out (pattern), for
// a run that starts at now: runs started in one second (a script's loop
// over lists, two schedules, two jobs started together) would name one
// directory, and the second be refused the first's. The directory that
// the second's {time} names is claimed by making it, which only one run
// can do: a run that finds it made (by another run, or by anything else)
// starts on the next second, up to maxSameSecond times, and clock tells it
// when that second has come. It returns the second chosen and its claim;
// nil when nothing could be claimed (a parent that cannot be written,
// which the run's checks name; a {time} that --out leads back out of), or
// when the last second is taken too, which the run then finds as it does
// any --out that holds a record. It returns errInterrupted, having made
// nothing, when ctx is done while it waits.
func claimTimedOut(ctx context.Context, pattern string, now time.Time, clock func() time.Time) (time.Time, *outClaim, error) {
	for i := 0; ; i++ {
		c, err := claimDir(timedDir(pattern, now))
		if c != nil || !errors.Is(err, fs.ErrExist) || i == maxSameSecond {
			return now, c, nil
		}
		next := now.Truncate(time.Second).Add(time.Second)
		select {
		case <-ctx.Done():
			return now, nil, errInterrupted
		case <-time.After(next.Sub(now)):
		}
		now = clock()
	}
}

// timedDir returns the directory that pattern names at now when its {time}
// is in it: --out, filled in and cleaned as a run names it (outdir.Clean:
// through a directory not made yet and back, y/.., is not a step). "" when
// the time is not in it. It is --out itself, not the step that holds the
// time: shards started together into RUN/{time}/shard-K share that step,
// and must, to hear each other's pace.
func timedDir(pattern string, now time.Time) string {
	dir := outdir.Clean(expandOut(pattern, now))
	if !strings.Contains(dir, expandOut("{time}", now)) {
		return ""
	}
	return dir
}

// claimDir makes dir, and the directories missing on the way to it. It
// returns the claim, or nil and an error wrapping fs.ErrExist when dir
// exists, or another error when it could not be made; either way,
// nothing that it made is left.
func claimDir(dir string) (*outClaim, error) {
	if dir == "" {
		return nil, nil
	}
	c := &outClaim{}
	var missing []string
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			break
		}
		missing = append(missing, p)
		if filepath.Dir(p) == p {
			break
		}
	}
	for _, p := range slices.Backward(missing) {
		err := os.Mkdir(p, 0o777)
		if errors.Is(err, fs.ErrExist) {
			// Made meanwhile by another run: its, not this one's.
			continue
		}
		if err != nil {
			c.release()
			return nil, err
		}
		c.made = append(c.made, p)
	}
	if err := os.Mkdir(dir, 0o777); err != nil {
		c.release()
		return nil, err
	}
	c.made = append(c.made, dir)
	return c, nil
}

// release removes, innermost first, the directories that the claim made
// and that are still empty: a run refused before it wrote anything leaves
// nothing behind. Anything in one keeps it, and the directories around
// it. It is safe on a nil claim and to call more than once.
func (c *outClaim) release() {
	if c == nil {
		return
	}
	for _, p := range slices.Backward(c.made) {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	c.made = nil
}
