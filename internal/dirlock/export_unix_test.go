//go:build unix

package dirlock

// SetFlock replaces the flock call of Lock and Held for a test, and
// returns what puts it back.
func SetFlock(f func(fd, how int) error) (restore func()) {
	old := flock
	flock = f
	return func() { flock = old }
}
