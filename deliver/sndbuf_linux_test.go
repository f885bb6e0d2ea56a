package deliver_test

import "golang.org/x/sys/unix"

// bigSendBuffer gives the socket fd a send buffer of n bytes: forced past
// net.core.wmem_max where the process may (root, as CI runs), so that the
// tests of a message stuck in the socket do not depend on the machine's
// limit; else as large as that limit lets it be.
func bigSendBuffer(fd uintptr, n int) error {
	if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, n) == nil {
		return nil
	}
	return unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF, n)
}
