package cli

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/auditor-dev/auditor/internal/atomicfile"
)

// TestDiskFullSaysSo: an --out on a disk with no space left read
// "directory not writable: writing out/run.json: ...: no space left on
// device", which sends the user to its permissions, and said nothing of
// what to do. It says the disk is full, and to free space (or choose
// another disk) and run again; a quota used up is told alike.
func TestDiskFullSaysSo(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT} {
		t.Run(errno.Error(), func(t *testing.T) {
			cause := &os.PathError{Op: "write", Path: "out/.run.json.tmp-2a79c433de54", Err: errno}
			err := fmt.Errorf("%w: writing out/run.json: %w", atomicfile.ErrNotWritable, cause)
			var buf bytes.Buffer
			if code := exitFor(err, newConsole(&buf)); code != exitFatal {
				t.Errorf("exit %d, want %d", code, exitFatal)
			}
			got := buf.String()
			for _, w := range []string{"writing out/run.json", errno.Error(), "the disk of the output is full", "free space", "run again"} {
				if !strings.Contains(got, w) {
					t.Errorf("%q does not say %q", got, w)
				}
			}
			if strings.Contains(got, "directory not writable") {
				t.Errorf("%q says the directory is not writable", got)
			}
		})
	}
}

// TestOpenFileLimitSaysSo: a record or report that cannot be opened for
// the limit of open files (the workers' connections hold every one) read
// "directory not writable: ... too many open files", which sends the user
// to the directory's permissions, or to choose another --out. It names
// the limit, and what to change.
func TestOpenFileLimitSaysSo(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE} {
		t.Run(errno.Error(), func(t *testing.T) {
			cause := &os.PathError{Op: "open", Path: "out/results.jsonl", Err: errno}
			err := fmt.Errorf("%w: writing out/results.jsonl: %w", atomicfile.ErrNotWritable, cause)
			var buf bytes.Buffer
			if code := exitFor(err, newConsole(&buf)); code != exitFatal {
				t.Errorf("exit %d, want %d", code, exitFatal)
			}
			got := buf.String()
			for _, w := range []string{"out/results.jsonl", errno.Error(), "limit of open files", "ulimit -n", "--concurrency", "--resume"} {
				if !strings.Contains(got, w) {
					t.Errorf("%q does not say %q", got, w)
				}
			}
			if strings.Contains(got, "directory not writable") {
				t.Errorf("%q says the directory is not writable", got)
			}
		})
	}
}
