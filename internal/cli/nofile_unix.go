//go:build unix

package cli

import "golang.org/x/sys/unix"

// systemOpenFileLimit returns the process's limit of open files: its soft
// limit, which Go raises to the hard one as it starts. RLIMIT_NOFILE's
// type, and its "infinity", differ from one system to the next (uint64 on
// Linux, int64 on the BSDs): any limit past 2^62 is taken for none.
func systemOpenFileLimit() (uint64, bool) {
	var r unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &r); err != nil || r.Cur < 0 {
		return 0, false
	}
	if cur := uint64(r.Cur); cur < 1<<62 {
		return cur, true
	}
	return 0, false
}
