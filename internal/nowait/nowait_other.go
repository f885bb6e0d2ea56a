//go:build !unix

// Package nowait opens a file for reading without waiting for a writer when
// it is a FIFO (see nowait_unix.go); elsewhere it is os.Open.
package nowait

import "os"

// Open opens path for reading.
func Open(path string) (*os.File, error) { return os.Open(path) }
