//go:build linux

package nowait

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestOpenRegularBlocking: a regular file was left in non-blocking mode,
// where a file system that honours it (some network and user-space ones)
// fails a read with EAGAIN. It is read as any other file.
func TestOpenRegularBlocking(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.json")
	if err := os.WriteFile(path, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var flags int
	var ferr error
	rc.Control(func(fd uintptr) { flags, ferr = unix.FcntlInt(fd, unix.F_GETFL, 0) })
	if ferr != nil {
		t.Fatal(ferr)
	}
	if flags&syscall.O_NONBLOCK != 0 {
		t.Errorf("flags %#o: the file is in non-blocking mode", flags)
	}
}

// TestOpenNotRegular: a FIFO, a directory or a device is not opened, and
// said to be no regular file; a FIFO does not hang the open.
func TestOpenNotRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("no FIFO here: %v", err)
	}
	for _, path := range []string{fifo, dir, os.DevNull} {
		f, err := Open(path)
		if err == nil {
			f.Close()
		}
		if !errors.Is(err, errNotRegular) {
			t.Errorf("Open(%s): %v, want it refused as not a regular file", path, err)
		}
		var pe *fs.PathError
		if !errors.As(err, &pe) || pe.Path != path {
			t.Errorf("Open(%s): %v, want a *fs.PathError naming it", path, err)
		}
	}
}
