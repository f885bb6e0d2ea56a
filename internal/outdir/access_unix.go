//go:build unix

package outdir

import "syscall"

// writable asks the system whether this process may create files in dir.
func writable(dir string) error { return syscall.Access(dir, 2 /* W_OK */) }
