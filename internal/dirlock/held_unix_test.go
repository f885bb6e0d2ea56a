//go:build unix

package dirlock_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
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
// opens it for reading) tells nothing: it is neither busy, so that a run
// that stopped is not taken for one still running, nor free, so that the
// caller can choose what is safe.
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
	if err := dirlock.Held(dir); err == nil || errors.Is(err, dirlock.ErrBusy) || !errors.Is(err, syscall.EBADF) {
		t.Errorf("Held with a probe that failed (EBADF) = %v, want an error that is not ErrBusy, with its cause: that failure says nothing of a holder", err)
	}
	restore()
	unlock()
	if err := dirlock.Held(dir); err != nil {
		t.Errorf("Held after unlock = %v, want nil", err)
	}
}

// TestLockTellsBusyFromNoLocks: only EWOULDBLOCK says another holds the
// lock. A filesystem that takes no locks (NFS mounted nolock, some FUSE
// volumes) fails with ENOLCK or EOPNOTSUPP: taken for busy, every run
// into it would be told to wait for an auditor that does not exist.
func TestLockTellsBusyFromNoLocks(t *testing.T) {
	tests := []struct {
		name    string
		errno   syscall.Errno
		busy    bool
		noLocks bool
	}{
		{"held by another", syscall.EWOULDBLOCK, true, false},
		{"nolock NFS", syscall.ENOLCK, false, true},
		{"FUSE without locks", syscall.EOPNOTSUPP, false, true},
		{"other failure", syscall.EIO, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			restore := dirlock.SetFlock(func(int, int) error { return tt.errno })
			defer restore()
			unlock, err := dirlock.Lock(dir)
			if err == nil {
				unlock()
				t.Fatalf("Lock = nil, want an error (flock fails with %v)", tt.errno)
			}
			if got := errors.Is(err, dirlock.ErrBusy); got != tt.busy {
				t.Errorf("Lock = %v: busy %v, want %v", err, got, tt.busy)
			}
			if got := errors.Is(err, dirlock.ErrNoLocks); got != tt.noLocks {
				t.Errorf("Lock = %v: no locks %v, want %v", err, got, tt.noLocks)
			}
			if !tt.busy && (!errors.Is(err, tt.errno) || !strings.Contains(err.Error(), dir)) {
				t.Errorf("Lock = %v, want the cause (%v) and the directory", err, tt.errno)
			}

			// Held cannot tell where flock fails so: it says so,
			// neither free (nil) nor busy.
			os.WriteFile(filepath.Join(dir, ".auditor.lock"), []byte("123\n"), 0o644)
			err = dirlock.Held(dir)
			if got := errors.Is(err, dirlock.ErrBusy); got != tt.busy || err == nil {
				t.Errorf("Held = %v: busy %v, want %v and an error", err, got, tt.busy)
			}
			if !tt.busy && !errors.Is(err, tt.errno) {
				t.Errorf("Held = %v, want the cause (%v)", err, tt.errno)
			}
		})
	}
}
