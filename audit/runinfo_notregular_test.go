//go:build unix

package audit_test

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
)

// TestReadRunInfoNotARegularFile: a run.json that is a FIFO (or a link to
// one) hung auditor report in its open, waiting for a writer, and SIGTERM
// did not end it; a link to /dev/zero would be read without end. Each,
// and a directory and a socket, is refused at once, naming it, wrapping
// audit.ErrNotRegular.
func TestReadRunInfoNotARegularFile(t *testing.T) {
	for _, tt := range []struct {
		name string
		make func(t *testing.T, path string)
		kind string
	}{
		{"FIFO", func(t *testing.T, path string) { mkfifo(t, path) }, "a pipe"},
		{"link to a FIFO", func(t *testing.T, path string) {
			fifo := filepath.Join(t.TempDir(), "fifo")
			mkfifo(t, fifo)
			symlink(t, fifo, path)
		}, "a pipe"},
		{"directory", func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o755); err != nil {
				t.Fatal(err)
			}
		}, "a directory"},
		{"link to a device", func(t *testing.T, path string) { symlink(t, "/dev/zero", path) }, "a device"},
		{"socket", func(t *testing.T, path string) {
			ln, err := net.Listen("unix", path)
			if err != nil {
				t.Skipf("no socket here: %v", err)
			}
			t.Cleanup(func() { ln.Close() })
		}, "a socket"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), audit.RunFile)
			tt.make(t, path)
			done := make(chan error, 1)
			go func() {
				_, err := audit.ReadRunInfo(path)
				done <- err
			}()
			select {
			case err := <-done:
				if !errors.Is(err, audit.ErrNotRegular) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.kind) {
					t.Errorf("ReadRunInfo = %v, want ErrNotRegular naming %s, %s", err, path, tt.kind)
				}
			case <-time.After(20 * time.Second):
				// Let a FIFO's open go, once the test is over.
				t.Cleanup(func() {
					if w, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
						w.Close()
					}
				})
				t.Fatalf("ReadRunInfo of %s is still reading after 20 s", path)
			}
		})
	}
}

func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("no FIFO here: %v", err)
	}
}

func symlink(t *testing.T, target, path string) {
	t.Helper()
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}
