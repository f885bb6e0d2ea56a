package deliver_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/deliver"
)

// linuxOnly skips t elsewhere: only Linux says what the kernel has not
// sent.
func linuxOnly(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("only Linux says which bytes of a socket have not left (SIOCOUTQNSD)")
	}
}

// bigMessage is a message of about 1 MB: more than a server that stops
// reading takes, and less than the client's socket holds (see endConn).
func bigMessage() deliver.Message {
	m := message()
	m.Text = strings.Repeat(strings.Repeat("x", 75)+"\n", 14000)
	return m
}

// stallServer speaks SMTP on loopback up to DATA's 354, then reads the
// message (readAll) or stops reading (with a small receive buffer, so that
// the rest stays in the client's socket). It never answers the end of
// DATA. read is closed once it has read the end of the message.
type stallServer struct {
	addr string
	read chan struct{}
}

func newStallServer(t *testing.T, readAll bool) *stallServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &stallServer{addr: ln.Addr().String(), read: make(chan struct{})}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		go func() {
			<-t.Context().Done()
			c.Close()
		}()
		if !readAll {
			_ = c.(*net.TCPConn).SetReadBuffer(4096)
		}
		r := bufio.NewReader(c)
		io.WriteString(c, "220 stall.test ESMTP\r\n")
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if strings.HasPrefix(strings.ToUpper(line), "DATA") {
				break
			}
			io.WriteString(c, "250 ok\r\n")
		}
		io.WriteString(c, "354 go ahead\r\n")
		if !readAll {
			<-t.Context().Done()
			return
		}
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if line == ".\r\n" {
				close(s.read)
				break
			}
		}
		<-t.Context().Done()
	}()
	return s
}

// endConn is a client connection with a large send buffer that calls
// ended once its write of the end of DATA (plain text: "\r\n.\r\n")
// returned: the kernel has the whole message, whether or not it left.
// NetConn gives Send the TCP connection, as *tls.Conn does.
type endConn struct {
	*net.TCPConn
	ended func()
}

func (c *endConn) NetConn() net.Conn { return c.TCPConn }

func (c *endConn) Write(p []byte) (int, error) {
	n, err := c.TCPConn.Write(p)
	if err == nil && strings.HasSuffix(string(p), "\r\n.\r\n") {
		c.ended()
	}
	return n, err
}

// dialEnd dials addr for an SMTP whose end of DATA calls ended.
func dialEnd(addr string, ended func()) func(ctx context.Context, network, _ string) (net.Conn, error) {
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			if err := rc.Control(func(fd uintptr) { serr = bigSendBuffer(fd, 4<<20) }); err != nil {
				return err
			}
			return serr
		}}
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		tc := c.(*net.TCPConn)
		return &endConn{TCPConn: tc, ended: ended}, nil
	}
}

// TestSMTPSendSignalEndNotSent: a signal that comes once the client has
// written the end of DATA, while a server that stopped reading leaves most
// of the message in the client's socket, is a signal before the message
// was sent whole: the server cannot have the end, so the outcome is
// known (not delivered), and Send returns at once, with ctx's error, and
// not as a message that may have been delivered. It was taken for one: a
// socket's write returning was taken for the message leaving.
func TestSMTPSendSignalEndNotSent(t *testing.T) {
	linuxOnly(t)
	srv := newStallServer(t, false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	ended := false
	s := deliver.SMTP{
		// The time is long enough to tell a wait for the answer from a
		// return at once.
		URL: "smtp://127.0.0.1:1", Attempts: 1, Timeout: 10 * time.Second,
		Dial: dialEnd(srv.addr, func() { once.Do(func() { ended = true; cancel() }) }),
	}
	err := s.Send(ctx, bigMessage())
	if !ended {
		t.Skipf("the client's socket did not take the whole message, so its write of the end never returned (Send = %v)", err)
	}
	var e *deliver.Error
	if !errors.As(err, &e) {
		t.Fatalf("Send = %v, want a *deliver.Error", err)
	}
	t.Logf("error: %v", err)
	if e.Unknown || !errors.Is(err, context.Canceled) {
		t.Errorf("error %+v, want not unknown (the server cannot have the end of the message), wrapping context.Canceled", e)
	}
	if strings.Contains(err.Error(), "may have been delivered") {
		t.Errorf("the error says the message may have been delivered: %v", err)
	}
}

// TestSMTPSendTimeoutEndNotSent: the attempt's time running out while the
// end of the message is still in the client's socket is a failure before
// the message was sent whole, temporary as any other, not an unknown
// outcome.
func TestSMTPSendTimeoutEndNotSent(t *testing.T) {
	linuxOnly(t)
	srv := newStallServer(t, false)
	ended := false
	s := deliver.SMTP{
		URL: "smtp://127.0.0.1:1", Attempts: 1, Timeout: time.Second,
		Dial: dialEnd(srv.addr, func() { ended = true }),
	}
	err := s.Send(context.Background(), bigMessage())
	if !ended {
		t.Skipf("the client's socket did not take the whole message, so its write of the end never returned (Send = %v)", err)
	}
	var e *deliver.Error
	if !errors.As(err, &e) {
		t.Fatalf("Send = %v, want a *deliver.Error", err)
	}
	t.Logf("error: %v", err)
	if e.Unknown || !e.Temporary {
		t.Errorf("error %+v, want temporary and not unknown: the server cannot have the end of the message", e)
	}
}

// TestSMTPSendSignalEndSent is the control of the two above: a server
// that read the whole message and gives no answer may have delivered it,
// and a signal then still waits for its answer, up to the attempt's time,
// and says the outcome is unknown.
func TestSMTPSendSignalEndSent(t *testing.T) {
	srv := newStallServer(t, true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-srv.read:
			cancel()
		case <-t.Context().Done():
		}
	}()
	s := deliver.SMTP{
		URL: "smtp://127.0.0.1:1", Attempts: 1, Timeout: 2 * time.Second,
		Dial: dialEnd(srv.addr, func() {}),
	}
	err := s.Send(ctx, bigMessage())
	var e *deliver.Error
	if !errors.As(err, &e) {
		t.Fatalf("Send = %v, want a *deliver.Error", err)
	}
	t.Logf("error: %v", err)
	if !e.Unknown || e.Op != "end of DATA" {
		t.Errorf("error %+v, want an unknown outcome at the end of DATA: the server has the whole message", e)
	}
	if ne := net.Error(nil); !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("Send = %v, want the attempt's time run out: a signal after the message is sent whole waits for the answer", err)
	}
}
