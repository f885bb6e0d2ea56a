//go:build !unix

package cli

import "errors"

// makeFIFO fails with errors.ErrUnsupported: no named pipes in the file
// system here.
func makeFIFO(string) error { return errors.ErrUnsupported }
