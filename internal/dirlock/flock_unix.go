//go:build unix

package dirlock

import (
	"errors"
	"os"
	"syscall"
)

func lockFile(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}

// probeFile takes a shared lock on f, opened for reading, and lets it go
// with f: it fails with errHeld where another holds the exclusive lock.
// Shared, as an exclusive lock needs a file open for writing where flock
// is POSIX locks underneath (NFS, EFS): there it fails with EBADF, which
// says nothing of a holder.
func probeFile(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return errHeld
	}
	return err
}
