//go:build unix

// Package nowait opens a file for reading without waiting for a writer when
// it is a FIFO: a path that should name a regular file, put there by
// mistake or by someone else, must not hang the auditor in its open,
// where no signal ends it. The caller tells what it opened by its Stat.
package nowait

import (
	"os"
	"syscall"
)

// Open opens path for reading, through a link, without waiting for a
// writer when it is a FIFO.
func Open(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
