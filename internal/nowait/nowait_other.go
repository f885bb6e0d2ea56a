//go:build !unix

package nowait

import "os"

// Open opens path for reading.
func Open(path string) (*os.File, error) {
	beforeOpen(path)
	return os.Open(path)
}
