//go:build unix

package dirlock_test

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/internal/dirlock"
)

// TestHeldDoesNotHangOnAFIFO: Held looks into directories beside a run's,
// which need not be the tool's: a FIFO in place of the lock file would
// block its open for ever. Anything but a regular file holds no lock.
func TestHeldDoesNotHangOnAFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, ".auditor.lock")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFO here: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- dirlock.Held(dir) }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Held = %v, want nil: a FIFO holds no lock", err)
		}
	case <-time.After(5 * time.Second):
		// Let the open return, so that the test ends.
		if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			w.Close()
		}
		t.Fatal("Held blocked on a FIFO in place of the lock file")
	}
}

// TestHeldTellsBusyFromUnknown: a lock another open file holds is busy, one
// nobody holds is not; and a probe that fails for another reason than the
// lock being held (EBADF: on NFS, as on EFS, Linux turns flock into POSIX
// locks, and an exclusive one needs a file open for writing, where Held
// opens it for reading) tells nothing, so that a run that stopped is not
// taken for one still running.
func TestHeldTellsBusyFromUnknown(t *testing.T) {
	dir := t.TempDir()
	unlock, err := dirlock.Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := dirlock.Held(dir); !errors.Is(err, dirlock.ErrBusy) {
		t.Errorf("Held with the lock taken = %v, want ErrBusy", err)
	}
	restore := dirlock.SetProbe(func(*os.File) error { return syscall.EBADF })
	if err := dirlock.Held(dir); err != nil {
		t.Errorf("Held with a probe that failed (EBADF) = %v, want nil: that failure says nothing of a holder", err)
	}
	restore()
	unlock()
	if err := dirlock.Held(dir); err != nil {
		t.Errorf("Held after unlock = %v, want nil", err)
	}
}
