package audit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// countingSync stands in for fsync: it counts the syncs and the lines each
// found written, and fails once fail is set.
type countingSync struct {
	mu      sync.Mutex
	syncs   int
	covered int // lines written when the last sync started
	fail    error
}

func (c *countingSync) install(w *RecordWriter) {
	w.syncFile = func(_ *os.File, written int) error {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.syncs++
		if c.fail != nil {
			return c.fail
		}
		c.covered = written
		return nil
	}
}

func writeN(t *testing.T, w *RecordWriter, n int) {
	t.Helper()
	for i := range n {
		r := Result{InstanceID: fmt.Sprintf("i-%017x", i), Region: "us-east-1", Outcome: OutcomeCompliant}
		if err := w.Write(r); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
	}
}

// TestRecordWriterGroupsSyncs: the workers do not wait for fsync, and many
// lines share one: 2,000 lines written as fast as they come take far fewer
// syncs than lines; Sync covers every line written before it, and Close
// too.
func TestRecordWriterGroupsSyncs(t *testing.T) {
	w, err := CreateRecord(filepath.Join(t.TempDir(), ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	var c countingSync
	c.install(w)
	writeN(t, w, 2000)
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	syncs, covered := c.syncs, c.covered
	c.mu.Unlock()
	if covered != 2000 {
		t.Errorf("after Sync the last fsync covered %d lines, want 2000", covered)
	}
	if syncs > 200 {
		t.Errorf("%d fsyncs for 2,000 lines: the lines do not share them", syncs)
	}
	t.Logf("%d fsyncs for 2,000 lines", syncs)
	writeN(t, w, 5)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if c.covered != 2005 {
		t.Errorf("after Close the last fsync covered %d lines, want 2005", c.covered)
	}
}

// TestRecordWriterSyncFailure: an fsync that fails (a full or failing disk)
// is not lost because nobody waited for it: Sync returns it, every later
// Write returns it, and so does Close.
func TestRecordWriterSyncFailure(t *testing.T) {
	w, err := CreateRecord(filepath.Join(t.TempDir(), ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	var c countingSync
	c.fail = syscall.EIO
	c.install(w)
	// One line: the writer's own sync may fail as soon as a line waits,
	// and then a second Write already returns the failure.
	writeN(t, w, 1)
	if err := w.Sync(); !errors.Is(err, syscall.EIO) {
		t.Errorf("Sync: %v, want EIO", err)
	}
	r := Result{InstanceID: "i-0123456789abcdef0", Region: "us-east-1", Outcome: OutcomeCompliant}
	if err := w.Write(r); !errors.Is(err, syscall.EIO) {
		t.Errorf("Write after a failed sync: %v, want EIO", err)
	}
	if err := w.Close(); !errors.Is(err, syscall.EIO) {
		t.Errorf("Close after a failed sync: %v, want EIO", err)
	}
}
