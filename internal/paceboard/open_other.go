//go:build !unix

package paceboard

import "os"

// openPace opens a shard's file for reading.
func openPace(path string) (*os.File, error) { return os.Open(path) }
