//go:build unix

package dirlock

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// flock is syscall.Flock; a test replaces it to play a filesystem that
// takes no locks, or a holder.
var flock = syscall.Flock

// lockFile takes the exclusive lock on f: it fails with errHeld where
// another holds it, and with an error wrapping ErrNoLocks where the
// filesystem takes no locks.
func lockFile(f *os.File) error {
	return flockErr(flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB))
}

// flockErr tells what a failed flock says: only EWOULDBLOCK (EAGAIN) is
// another holder; ENOLCK (NFS mounted nolock), EOPNOTSUPP and ENOSYS
// (FUSE volumes without locks) and EINVAL (a file that cannot be locked)
// say the filesystem takes no locks; anything else is itself.
func flockErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, syscall.EWOULDBLOCK):
		return errHeld
	case errors.Is(err, syscall.ENOLCK), errors.Is(err, syscall.EOPNOTSUPP),
		errors.Is(err, syscall.ENOTSUP), errors.Is(err, syscall.ENOSYS),
		errors.Is(err, syscall.EINVAL):
		return fmt.Errorf("%w: %w", ErrNoLocks, err)
	}
	return err
}

// probeFile takes a shared lock on f, opened for reading, and lets it go
// with f: it fails with errHeld where another holds the exclusive lock.
// Shared, as an exclusive lock needs a file open for writing where flock
// is POSIX locks underneath (NFS, EFS): there it fails with EBADF, which
// says nothing of a holder.
func probeFile(f *os.File) error {
	return flockErr(flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB))
}
