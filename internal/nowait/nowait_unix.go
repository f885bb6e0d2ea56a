//go:build unix

package nowait

import (
	"os"
	"syscall"
)

// Open opens path for reading, through a link, without waiting for a
// writer when it is a FIFO.
func Open(path string) (*os.File, error) {
	beforeOpen(path)
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
