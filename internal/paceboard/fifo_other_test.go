//go:build !unix

package paceboard

import "errors"

// mkfifo fails with errors.ErrUnsupported: no named pipes in the file
// system here.
func mkfifo(string) error { return errors.ErrUnsupported }
