package cli

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// TestBrokenPipeDoesNotStopTheRun: a stdout and stderr piped to a reader
// that is gone (auditor run ... 2>&1 | head -1, a log shipper that died)
// must not end the process: Go's default for SIGPIPE on fd 1 and 2 killed
// it with 141, halfway through the audit or before its reports and mail.
// The demo runs the whole job; with its output on a dead pipe it must exit
// as it does otherwise and write every report.
func TestBrokenPipeDoesNotStopTheRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary: skipped with -short")
	}
	bin := binary(t)

	// What the demo writes, and says it wrote, with its output read.
	ref := filepath.Join(t.TempDir(), "ref")
	cmd := exec.Command(bin, "demo", "--out", ref)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("the demo with its output read: %v\n%s", err, stderr.String())
	}
	var want []string
	for _, l := range strings.Fields(stdout.String()) {
		want = append(want, filepath.Base(l))
	}
	if !slices.Contains(want, "report.html") || !slices.Contains(want, "run.json") {
		t.Fatalf("the demo listed %q on stdout, want its reports and run.json", want)
	}

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close() // nobody reads: every write to w is a broken pipe
	defer w.Close()
	out := filepath.Join(t.TempDir(), "out")
	cmd = exec.Command(bin, "demo", "--out", out)
	cmd.Stdout, cmd.Stderr = w, w
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if st, ok := ee.Sys().(syscall.WaitStatus); ok && st.Signaled() {
			t.Fatalf("the demo with its output on a broken pipe was killed by %v, want exit 0", st.Signal())
		}
		t.Fatalf("the demo with its output on a broken pipe exited %d, want 0", ee.ExitCode())
	} else if err != nil {
		t.Fatal(err)
	}
	for _, f := range want {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("with its output on a broken pipe: %v", err)
		}
	}
}
