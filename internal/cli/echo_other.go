//go:build !(aix || darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris || zos)

package cli

import "errors"

// canAskCode is false: a code is not asked here (see echoOff), so a
// profile that needs one is told so, not sent to a terminal.
const canAskCode = false

// echoOff is not done here: a code is not asked where its echo cannot be
// turned off.
func echoOff(int) error { return errors.ErrUnsupported }

// inForeground does not matter here: no code is asked (see echoOff).
func inForeground(int) bool { return true }
