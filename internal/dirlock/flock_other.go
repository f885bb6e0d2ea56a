//go:build !unix

package dirlock

import "os"

// lockFile does nothing where flock is not available: the lock is then
// advisory in name only.
func lockFile(*os.File) error { return nil }

// probeFile finds no holder where flock is not available.
func probeFile(*os.File) error { return nil }
