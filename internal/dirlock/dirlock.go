// Package dirlock keeps two processes from writing one output directory at
// once: two overlapping cron runs with --resume would interleave their lines
// in one record.
package dirlock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/auditor-dev/auditor/internal/atomicfile"
)

// ErrBusy is returned by Lock when another process holds the directory.
var ErrBusy = errors.New("directory in use by another auditor")

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
// process holds it.
func Lock(dir string) (unlock func(), err error) {
	path := filepath.Join(dir, name)
	f, err := atomicfile.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, err
	}
	if err := lockFile(f); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if pid := strings.TrimSpace(string(holder)); pid != "" {
			return nil, fmt.Errorf("%w (pid %s): %s", ErrBusy, pid, dir)
		}
		return nil, fmt.Errorf("%w: %s", ErrBusy, dir)
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() {
		f.Truncate(0)
		f.Close()
	}, nil
}

// Held returns an error that wraps ErrBusy, with the holder's process ID
// where known, when another process holds dir's lock, and nil otherwise
// (no lock file, anything but a regular file in its place, one nobody
// holds, or a look that failed for another reason). It takes a shared lock
// for as long as it looks, so that a Lock at that moment may find it busy:
// it is for telling a run that is still going from one that stopped.
func Held(dir string) error {
	path := filepath.Join(dir, name)
	// In a directory that need not be the tool's, a FIFO or a device in
	// its place would block the open: only a regular file is a lock.
	if st, err := os.Lstat(path); err != nil || !st.Mode().IsRegular() {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	if err := probe(f); errors.Is(err, errHeld) {
		holder, _ := os.ReadFile(path)
		if pid := strings.TrimSpace(string(holder)); pid != "" {
			return fmt.Errorf("%w (pid %s): %s", ErrBusy, pid, dir)
		}
		return fmt.Errorf("%w: %s", ErrBusy, dir)
	}
	return nil
}
