//go:build unix

package cli

import (
	"os"
	"syscall"
)

// openNoWait opens path for reading, through a link, without waiting for a
// writer when it is a FIFO: the caller tells what it opened by its Stat.
func openNoWait(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
