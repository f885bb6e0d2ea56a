package deliver

import (
	"net"
	"time"
)

// A message is sent whole once its last byte has left this machine, not
// once a write of it returns: a write returns when the kernel has the
// bytes, and a server that stops reading leaves them there, where they
// can stay for as long as the connection lasts. While the kernel still
// holds the end of a message (unsent), the server cannot have it, and
// abort makes sure it never will: the outcome is known, not delivered.

// pollUnsent is how often, once a signal came while the end of a message
// was being written, unsent is asked again.
const pollUnsent = 20 * time.Millisecond

// tcpConn returns the TCP connection under c: c itself, or what its
// NetConn method returns (as *tls.Conn has), level after level; nil when
// there is none.
func tcpConn(c net.Conn) *net.TCPConn {
	for range 8 {
		switch v := c.(type) {
		case *net.TCPConn:
			return v
		case interface{ NetConn() net.Conn }:
			c = v.NetConn()
		default:
			return nil
		}
	}
	return nil
}

// abort closes c with a reset (SO_LINGER 0): the kernel drops what it
// has not sent instead of sending it after the close, so that a server
// that starts reading again cannot get the end of a message given up for
// not sent. It closes the TCP connection itself, under any TLS: a TLS
// close would first write its close_notify behind the bytes that are
// stuck, and wait for them.
func abort(c net.Conn) {
	if tc := tcpConn(c); tc != nil {
		_ = tc.SetLinger(0)
		_ = tc.Close()
	}
	_ = c.Close()
}
