//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package cli

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer that a command writes while a test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// simulateUntilServing runs auditor simulate with args until it serves (its
// IDs written), then stops it; it returns the exit code and stderr.
func simulateUntilServing(t *testing.T, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"simulate", "--listen", "127.0.0.1:0", "--fleet-size", "3"}, args...), strings.NewReader(""), io.Discard, &stderr)
	}()
	deadline := time.After(20 * time.Second)
	for !strings.Contains(stderr.String(), "stop with Ctrl-C") {
		select {
		case code := <-done:
			return code, stderr.String()
		case <-deadline:
			t.Fatalf("simulate did not start serving in 20s:\n%s", stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	return <-done, stderr.String()
}

// TestSimulateIDsIntoWhatIsThere: --ids PATH renamed a regular file over
// whatever was at PATH: a FIFO, a symbolic link, a character device
// (/dev/null, /dev/stdout) became a regular file holding the IDs, which
// broke every other program that used it. What is not a regular file is
// written into, and stays what it was; a link stays a link, and what it
// points at gets the IDs.
func TestSimulateIDsIntoWhatIsThere(t *testing.T) {
	for _, viaLink := range []bool{false, true} {
		name := map[bool]string{false: "FIFO", true: "link to a FIFO"}[viaLink]
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			fifo := filepath.Join(dir, "fifo")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Skip("no FIFO can be made here:", err)
			}
			named := fifo
			if viaLink {
				named = filepath.Join(dir, "link")
				if err := os.Symlink("fifo", named); err != nil {
					t.Fatal(err)
				}
			}
			read := make(chan string, 1)
			go func() {
				// Blocks until a writer opens it; after the old code had
				// renamed over it, nothing ever does.
				b, _ := os.ReadFile(fifo)
				read <- string(b)
			}()
			code, stderr := simulateUntilServing(t, "--ids", named)
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			for p, want := range map[string]fs.FileMode{fifo: fs.ModeNamedPipe, named: map[bool]fs.FileMode{false: fs.ModeNamedPipe, true: fs.ModeSymlink}[viaLink]} {
				if st, err := os.Lstat(p); err != nil || st.Mode().Type() != want {
					t.Errorf("%s: mode %v (%v), want %v: not what it was", p, st.Mode(), err, want)
				}
			}
			select {
			case got := <-read:
				if n := strings.Count(got, "\n"); n != 3 || !strings.HasPrefix(got, "i-") {
					t.Errorf("the FIFO's reader got %q, want the 3 IDs", got)
				}
			case <-time.After(10 * time.Second):
				t.Error("the FIFO's reader got nothing in 10s")
			}
		})
	}
	for _, dangling := range []bool{false, true} {
		name := map[bool]string{false: "link to a file", true: "link to nothing yet"}[dangling]
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			target, link := filepath.Join(dir, "target"), filepath.Join(dir, "link")
			if !dangling {
				if err := os.WriteFile(target, []byte("old\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Symlink("target", link); err != nil {
				t.Fatal(err)
			}
			code, stderr := simulateUntilServing(t, "--ids", link)
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			if st, err := os.Lstat(link); err != nil || st.Mode().Type() != fs.ModeSymlink {
				t.Errorf("%s is no longer a link: %v, %v", link, st.Mode(), err)
			}
			got, err := os.ReadFile(target)
			if n := strings.Count(string(got), "\n"); err != nil || n != 3 || !strings.HasPrefix(string(got), "i-") {
				t.Errorf("the link's target holds %q (%v), want the 3 IDs", got, err)
			}
		})
	}
	t.Run("regular file", func(t *testing.T) {
		ids := writeFile(t, "ids.txt", "old\n")
		code, stderr := simulateUntilServing(t, "--ids", ids)
		got, err := os.ReadFile(ids)
		if code != 0 || err != nil || strings.Count(string(got), "\n") != 3 {
			t.Errorf("exit %d; %s holds %q (%v), want the 3 IDs\n%s", code, ids, got, err, stderr)
		}
	})
}
