//go:build unix

package audit_test

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
)

// TestReadRunInfoOfAFIFO: a run.json that is a FIFO (or a link to one)
// hung auditor report in its open, waiting for a writer, and SIGTERM did
// not end it. It is refused at once as no regular file, a RunInfoError
// that names it, so that report refuses it as it refuses any run.json
// that is not the auditor's.
func TestReadRunInfoOfAFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := audit.ReadRunInfo(fifo)
		done <- err
	}()
	select {
	case err := <-done:
		var re *audit.RunInfoError
		if !errors.As(err, &re) || !strings.Contains(err.Error(), fifo) || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("ReadRunInfo of a FIFO = %v, want a RunInfoError naming it, not a regular file", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("ReadRunInfo of a FIFO is still waiting for a writer after 20 s")
	}
}
