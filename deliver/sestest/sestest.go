// Package sestest runs, in a test's process, an Amazon SES endpoint over
// TLS and HTTP/2 that stops taking a request's body: it grants no more
// than HTTP/2's initial flow-control window and does not answer until it
// is released, so that the rest of a longer body stays in the client's
// HTTP/2 layer, not in its kernel. It speaks the frames by hand, knowing
// the wire protocol only, so that it can tell when the client has sent
// all it may.
package sestest

import (
	"crypto/tls"
	"encoding/binary"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Window is HTTP/2's initial flow-control window: what a client may send
// of its requests' bodies on a connection before the server grants more
// (RFC 9113, 6.9.2). A Stall grants no more until it is released.
const Window = 65535

// Answer is the body of the answer a released Stall gives to a request
// that came whole: SendEmail's, for a message SES took.
const Answer = `{"MessageId":"0100-sestest"}`

// Stall is an SES endpoint that takes Window bytes of request bodies on
// a connection and does not answer until Release.
type Stall struct {
	*httptest.Server
	// Full is closed once the client has sent Window bytes of DATA on a
	// connection: it can send no more, and holds the rest of its body.
	Full chan struct{}
	// Reset is closed once the client has reset a stream (RST_STREAM).
	Reset chan struct{}

	released  chan struct{}
	mu        sync.Mutex
	conns     []*conn
	fullOnce  sync.Once
	resetOnce sync.Once
	release   sync.Once
}

// conn is a client's connection to a Stall; its methods are safe for
// concurrent use.
type conn struct {
	c    *tls.Conn
	mu   sync.Mutex
	open map[uint32]bool // streams neither answered nor reset
}

// NewStall starts a Stall, closed when t's test ends. Its Client trusts
// its certificate, as does CAPEM.
func NewStall(t testing.TB) *Stall {
	t.Helper()
	s := &Stall{Full: make(chan struct{}), Reset: make(chan struct{}), released: make(chan struct{})}
	s.Server = httptest.NewUnstartedServer(http.NotFoundHandler())
	s.EnableHTTP2 = true
	s.Config.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){
		"h2": func(_ *http.Server, c *tls.Conn, _ http.Handler) { s.serve(c) },
	}
	s.StartTLS()
	t.Cleanup(func() {
		// httptest waits for connections in use: close them first.
		s.mu.Lock()
		for _, c := range s.conns {
			c.c.Close()
		}
		s.mu.Unlock()
		s.Close()
	})
	return s
}

// CAPEM is the PEM of the certificate that signs the Stall's, for
// AWS_CA_BUNDLE.
func (s *Stall) CAPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
}

// Release grants the clients all the window they want; from then on, a
// request whose body comes whole, on a stream not reset, is answered with
// 200 and Answer.
func (s *Stall) Release() {
	s.release.Do(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		close(s.released)
		for _, c := range s.conns {
			c.mu.Lock()
			c.frame(frameWindowUpdate, 0, 0, windowIncrement)
			for id := range c.open {
				c.frame(frameWindowUpdate, 0, id, windowIncrement)
			}
			c.mu.Unlock()
		}
	})
}

const (
	frameData         = 0x0
	frameHeaders      = 0x1
	frameRSTStream    = 0x3
	frameSettings     = 0x4
	framePing         = 0x6
	frameWindowUpdate = 0x8
	flagAck           = 0x1
	flagEndStream     = 0x1
	flagEndHeaders    = 0x4
	preface           = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
)

// windowIncrement is a WINDOW_UPDATE's payload: more than any request.
var windowIncrement = []byte{0x40, 0, 0, 0}

// answerHeaders is ":status: 200" and "content-type: application/json"
// in HPACK: the first from the static table (8), the second a literal
// whose name is the static table's (31), not indexed.
var answerHeaders = append([]byte{0x88, 0x0f, 0x10, byte(len("application/json"))}, "application/json"...)

// frame writes a frame; the caller holds c.mu.
func (c *conn) frame(typ, flags byte, stream uint32, payload []byte) {
	h := []byte{byte(len(payload) >> 16), byte(len(payload) >> 8), byte(len(payload)), typ, flags, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(h[5:], stream)
	c.c.Write(append(h, payload...))
}

func (s *Stall) serve(tc *tls.Conn) {
	c := &conn{c: tc, open: map[uint32]bool{}}
	s.mu.Lock()
	s.conns = append(s.conns, c)
	s.mu.Unlock()
	if _, err := io.ReadFull(tc, make([]byte, len(preface))); err != nil {
		return
	}
	c.mu.Lock()
	c.frame(frameSettings, 0, 0, nil)
	c.mu.Unlock()
	var got int
	head := make([]byte, 9)
	for {
		if _, err := io.ReadFull(tc, head); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint32(append([]byte{0}, head[:3]...)))
		payload := make([]byte, n)
		if _, err := io.ReadFull(tc, payload); err != nil {
			return
		}
		typ, flags, id := head[3], head[4], binary.BigEndian.Uint32(head[5:])&0x7fffffff
		c.mu.Lock()
		switch {
		case typ == frameHeaders:
			c.open[id] = true
		case typ == frameData:
			if got += n; got >= Window {
				s.fullOnce.Do(func() { close(s.Full) })
			}
		case typ == frameRSTStream:
			delete(c.open, id)
			s.resetOnce.Do(func() { close(s.Reset) })
		case typ == frameSettings && flags&flagAck == 0:
			c.frame(frameSettings, flagAck, 0, nil)
		case typ == framePing && flags&flagAck == 0:
			c.frame(framePing, flagAck, 0, payload)
		}
		if (typ == frameHeaders || typ == frameData) && flags&flagEndStream != 0 && c.open[id] && s.isReleased() {
			delete(c.open, id)
			c.frame(frameHeaders, flagEndHeaders, id, answerHeaders)
			c.frame(frameData, flagEndStream, id, []byte(Answer))
		}
		c.mu.Unlock()
	}
}

func (s *Stall) isReleased() bool {
	select {
	case <-s.released:
		return true
	default:
		return false
	}
}
