//go:build unix

package paceboard

import (
	"os"
	"syscall"
)

// openPace opens a shard's file for reading: not through a link, and
// without waiting for a writer if it turned into a FIFO since it was
// looked at.
func openPace(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW, 0)
}
