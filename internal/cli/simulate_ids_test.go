//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package cli

import (
	"bytes"
	"context"
	"fmt"
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

// TestSimulateIDsThroughLinkedDirectories: a relative link in a directory
// reached through another link points from the real directory, as the
// kernel reads it (the IDs went to a file of the same name elsewhere); and
// a name for a pipe (/dev/stdout when standard output is one) is written
// into (it was taken for a path, "open /proc/self/fd/pipe:[N].tmp-...").
func TestSimulateIDsThroughLinkedDirectories(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "deep", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("deep", "b"), filepath.Join(dir, "a")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("..", "x.txt"), filepath.Join(dir, "deep", "b", "link")); err != nil {
		t.Fatal(err)
	}
	if code, stderr := simulateUntilServing(t, "--ids", filepath.Join(dir, "a", "link")); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "deep", "x.txt")); err != nil || strings.Count(string(b), "\n") != 3 {
		t.Errorf("the link's target holds %q (%v), want the 3 IDs", b, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.txt")); err == nil {
		t.Error("the IDs went to x.txt beside the link to the directory, not where the link points")
	}

	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Log("no /proc/self/fd here: the pipe case is not tried")
		return
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	read := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(r)
		read <- string(b)
	}()
	code, stderr := simulateUntilServing(t, "--ids", fmt.Sprintf("/proc/self/fd/%d", w.Fd()))
	w.Close()
	if code != 0 {
		t.Fatalf("a pipe's name: exit %d\n%s", code, stderr)
	}
	if got := <-read; strings.Count(got, "\n") != 3 {
		t.Errorf("the pipe got %q, want the 3 IDs", got)
	}
}
