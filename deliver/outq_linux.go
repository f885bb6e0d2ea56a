//go:build linux

package deliver

import (
	"net"

	"golang.org/x/sys/unix"
)

// unsent returns how many bytes written to c its kernel still holds
// without having sent them once (SIOCOUTQNSD: bytes it has sent and the
// peer has not acknowledged are not counted). A peer cannot have a byte
// counted here, nor any after it; and abort makes sure it never will.
// known is false where c is not a TCP connection (see tcpConn), or the
// kernel would not say.
func unsent(c net.Conn) (n int, known bool) {
	tc := tcpConn(c)
	if tc == nil {
		return 0, false
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return 0, false
	}
	var ierr error
	if err := rc.Control(func(fd uintptr) { n, ierr = unix.IoctlGetInt(int(fd), unix.SIOCOUTQNSD) }); err != nil || ierr != nil {
		return 0, false
	}
	return n, true
}
