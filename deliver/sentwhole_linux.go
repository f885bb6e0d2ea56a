//go:build linux

package deliver

import (
	"fmt"
	"net"
	"sync"

	"golang.org/x/sys/unix"
)

// written returns bounds on how many bytes were written to c (see
// tcpConn) since it opened: those its peer acknowledged (TCP_INFO's
// bytes_acked) and those its kernel still holds, sent or not (SIOCOUTQ).
// The two are read one after the other, and an acknowledgement that comes
// in between moves bytes from the second to the first: lo, with the
// first read before the second, leaves them out, and is at most what was
// written when it was asked; hi, with the first read after the second
// too, counts them twice, and is at least that. known is false where c is
// not a TCP connection, or the kernel would not say.
func written(c net.Conn) (lo, hi int64, known bool) {
	tc := tcpConn(c)
	if tc == nil || !bytesAcked() {
		return 0, 0, false
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return 0, 0, false
	}
	var before, after *unix.TCPInfo
	var queued int
	var errs [3]error
	if err := rc.Control(func(fd uintptr) {
		before, errs[0] = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
		queued, errs[1] = unix.IoctlGetInt(int(fd), unix.SIOCOUTQ)
		after, errs[2] = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	}); err != nil || errs != [3]error{} {
		return 0, 0, false
	}
	return int64(before.Bytes_acked) + int64(queued), int64(after.Bytes_acked) + int64(queued), true
}

// bytesAcked reports whether TCP_INFO has bytes_acked: since Linux 4.1.
// An older kernel leaves it 0.
var bytesAcked = sync.OnceValue(func() bool {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return false
	}
	var major, minor int
	if _, err := fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &major, &minor); err != nil {
		return false
	}
	return major > 4 || major == 4 && minor >= 1
})
