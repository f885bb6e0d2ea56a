//go:build unix

package nowait

import (
	"io/fs"
	"os"
	"syscall"
)

// Open opens path for reading, through a link, without waiting for a
// writer when it is a FIFO. What is not a regular file when Open looks at
// it is not opened at all (opening a device may do something: rewind a
// tape, arm a watchdog); a file swapped for a FIFO between the look and the
// open is opened without waiting, for the caller's Stat to tell. A regular
// file is read in blocking mode, as any other: a file system that honours
// O_NONBLOCK for regular files would make a read fail with EAGAIN.
func Open(path string) (*os.File, error) {
	beforeOpen(path)
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "open", Path: path, Err: errNotRegular}
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		if rc, err := f.SyscallConn(); err == nil {
			rc.Control(func(fd uintptr) { syscall.SetNonblock(int(fd), false) })
		}
	}
	return f, nil
}
