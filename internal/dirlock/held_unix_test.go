//go:build unix

package dirlock_test

import (
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
