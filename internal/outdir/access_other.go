//go:build !unix

package outdir

// writable cannot ask Windows beforehand (its access checks are ACLs, not
// mode bits); the write itself says when dir is not writable.
func writable(dir string) error { return nil }
