//go:build aix || darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris || zos

package cli

import "golang.org/x/sys/unix"

// canAskCode tells that an MFA code is asked at the process's terminal
// here (/dev/tty, its echo turned off).
const canAskCode = true

// echoOff turns off the echo of the terminal fd, and keeps its lines and
// signals, as term.ReadPassword does: Ctrl-C still interrupts. Unlike
// ReadPassword, the caller reads, and can stop reading.
func echoOff(fd int) error {
	t, err := unix.IoctlGetTermios(fd, ioctlGetTermios)
	if err != nil {
		return err
	}
	t.Lflag &^= unix.ECHO
	t.Lflag |= unix.ICANON | unix.ISIG
	t.Iflag |= unix.ICRNL
	return unix.IoctlSetTermios(fd, ioctlSetTermios, t)
}

// inForeground reports whether the process's group is the foreground group
// of the terminal fd. One in the background (started with & or nohup from a
// shell) that set the terminal's modes, wrote or read there would be
// stopped (SIGTTOU, SIGTTIN) until brought to the front, and no timer of
// its own could end the wait. A terminal that is not the process's own
// (job control does not apply there) counts as in the foreground.
func inForeground(fd int) bool {
	pgrp, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
	return err != nil || pgrp == unix.Getpgrp()
}
