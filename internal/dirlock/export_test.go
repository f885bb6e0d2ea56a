package dirlock

import "os"

// SetProbe replaces Held's look at the lock for a test, and returns what
// puts it back.
func SetProbe(p func(*os.File) error) (restore func()) {
	old := probe
	probe = p
	return func() { probe = old }
}
