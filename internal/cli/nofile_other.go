//go:build !unix

package cli

// systemOpenFileLimit knows no limit of open files where there is no
// RLIMIT_NOFILE.
func systemOpenFileLimit() (uint64, bool) { return 0, false }
