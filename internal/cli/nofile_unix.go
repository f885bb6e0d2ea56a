//go:build unix

package cli

import "golang.org/x/sys/unix"

// systemOpenFileLimit returns the process's limit of open files: its soft
// limit, which Go raises to the hard one as it starts.
func systemOpenFileLimit() (uint64, bool) {
	var r unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &r); err != nil || r.Cur == unix.RLIM_INFINITY {
		return 0, false
	}
	return r.Cur, true
}
