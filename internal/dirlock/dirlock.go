// Package dirlock keeps two processes from writing one output directory at
// once: two overlapping cron runs with --resume would interleave their lines
// in one record.
package dirlock

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/auditor-dev/auditor/internal/atomicfile"
)

// ErrBusy is returned by Lock when another process holds the directory.
var ErrBusy = errors.New("directory in use by another auditor")

// ErrNoLocks is returned (wrapped, with the system's error and the
// directory) by Lock, and by Held, when the filesystem holding the
// directory takes no locks: NFS mounted nolock, some FUSE volumes.
var ErrNoLocks = errors.New("this filesystem does not support locks (NFS mounted nolock?)")

// errHeld is probe's error when another holds the lock.
var errHeld = errors.New("lock held")

// probe looks at the lock file Held opened (probeFile; a test replaces it).
var probe = probeFile

// name is the lock file inside the directory.
const name = ".auditor.lock"

// Lock takes an exclusive, advisory lock on dir, which must exist, and
// returns the function that releases it. The lock goes with the process: a
// process that dies, even by kill -9, leaves no stale lock behind. The error
// wraps ErrBusy, with the holder's process ID where known, when another
// process holds it; ErrNoLocks, with the system's error, when dir's
// filesystem takes no locks; and otherwise the error that stopped it. Only
// an ErrBusy says that another auditor is there.
func Lock(dir string) (unlock func(), err error) {
	path := filepath.Join(dir, name)
	f, err := atomicfile.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, err
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if !errors.Is(err, errHeld) {
			return nil, fmt.Errorf("locking %s: %w", dir, err)
		}
		return nil, busy(dir)
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() {
		f.Truncate(0)
		f.Close()
	}, nil
}

// busy is the error that says another process holds dir's lock, with its
// process ID where the lock file gives it.
func busy(dir string) error {
	holder, _ := os.ReadFile(filepath.Join(dir, name))
	if pid := strings.TrimSpace(string(holder)); pid != "" {
		return fmt.Errorf("%w (pid %s): %s", ErrBusy, pid, dir)
	}
	return fmt.Errorf("%w: %s", ErrBusy, dir)
}

// Held returns an error that wraps ErrBusy, with the holder's process ID
// where known, when another process holds dir's lock; nil when none does
// (no lock file, anything but a regular file in its place, or one nobody
// holds); and any other error, which wraps its cause (ErrNoLocks on a
// filesystem that takes no locks), when it cannot tell: that is neither
// free nor busy, and each caller decides which is the safer guess. It
// takes a shared lock for as long as it looks, so that a Lock at that
// moment may find it busy: it is for telling a run that is still going
// from one that stopped.
func Held(dir string) error {
	path := filepath.Join(dir, name)
	// In a directory that need not be the tool's, a FIFO or a device in
	// its place would block the open: only a regular file is a lock.
	st, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("cannot tell whether another auditor holds %s: %w", dir, err)
	case !st.Mode().IsRegular():
		return nil
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot tell whether another auditor holds %s: %w", dir, err)
	}
	defer f.Close()
	if err := probe(f); errors.Is(err, errHeld) {
		return busy(dir)
	} else if err != nil {
		return fmt.Errorf("cannot tell whether another auditor holds %s: %w", dir, err)
	}
	return nil
}
