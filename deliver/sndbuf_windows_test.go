package deliver_test

import "syscall"

// bigSendBuffer gives the socket fd a send buffer of n bytes, as large as
// the system lets it be (the tests that need it run on Linux only).
func bigSendBuffer(fd uintptr, n int) error {
	return syscall.SetsockoptInt(syscall.Handle(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, n)
}
