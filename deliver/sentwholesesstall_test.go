package deliver_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/auditor-dev/auditor/deliver"
)

// writerStall is longer than a signal took to cut a request seen not
// written whole with nothing of it in the kernel (5 looks, 20 ms apart).
const writerStall = 300 * time.Millisecond

// stallAfterBody makes the HTTP client's writer stall once it has written
// the end of a request, before it can say so (httptrace's WroteRequest):
// the first write to a connection after the transport read the request
// body whole, once the server has the request whole, is followed by the
// signal (cancel) and the stall. A busy machine, or a garbage collection,
// does the same. Its methods are safe for concurrent use.
type stallAfterBody struct {
	cancel context.CancelFunc
	whole  chan struct{} // closed by the server once it has the whole body
	over   chan struct{} // closed once the stall is over
	read   atomic.Bool   // the transport read the body whole
	once   sync.Once
}

// transport is an HTTP transport that speaks protocols over connections
// that stall (stallConn), and reads request bodies that tell s once they
// are read whole.
func (s *stallAfterBody) transport(protocols *http.Protocols) http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Protocols = protocols
	dial := t.DialContext
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return stallConn{Conn: c, s: s}, nil
	}
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		r := req.Clone(req.Context())
		r.Body = &readWhole{ReadCloser: req.Body, left: req.ContentLength, read: &s.read}
		return t.RoundTrip(r)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// readWhole sets read once left bytes were read.
type readWhole struct {
	io.ReadCloser
	left int64
	read *atomic.Bool
}

func (r *readWhole) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	if r.left -= int64(n); r.left <= 0 || err == io.EOF {
		r.read.Store(true)
	}
	return n, err
}

// stallConn is a client's connection that stalls after the write of the
// end of a request (see stallAfterBody). NetConn lets SendSES ask the
// kernel what it holds, as it does of a TLS connection.
type stallConn struct {
	net.Conn
	s *stallAfterBody
}

func (c stallConn) NetConn() net.Conn { return c.Conn }

func (c stallConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err != nil || !c.s.read.Load() {
		return n, err
	}
	select {
	case <-c.s.whole:
	case <-time.After(time.Second): // not the end: the server waits for more
		return n, err
	}
	c.s.once.Do(func() {
		c.s.cancel()
		time.Sleep(writerStall)
		close(c.s.over)
	})
	return n, err
}

// TestSendSESSignalWriterStalled: a signal that comes once the request
// has left whole, while the HTTP client's writer stalls before it says
// so, was taken for a signal while HTTP/2 held the rest back: the call
// was cut, and the mail that SES had whole was said not delivered, with a
// command that would send it again. The transport had read the whole
// body: the rest may be on its way, and SendSES waits for the answer.
func TestSendSESSignalWriterStalled(t *testing.T) {
	linuxOnly(t) // elsewhere a signal cuts the call at once, as before
	h2c := new(http.Protocols)
	h2c.SetUnencryptedHTTP2(true)
	h1 := new(http.Protocols)
	h1.SetHTTP1(true)
	for _, tc := range []struct {
		name      string
		protocols *http.Protocols
		answer    bool
	}{
		{"HTTP/1.1 answered", h1, true},
		{"HTTP/1.1 unanswered", h1, false},
		{"HTTP/2 answered", h2c, true},
		{"HTTP/2 unanswered", h2c, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			s := &stallAfterBody{cancel: cancel, whole: make(chan struct{}), over: make(chan struct{})}
			var got atomic.Bool
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if n, err := io.Copy(io.Discard, r.Body); err != nil || n != r.ContentLength {
					return // got stays false: the test says so
				}
				got.Store(true)
				close(s.whole)
				// An answer during the stall would say the request
				// left whole.
				select {
				case <-s.over:
				case <-r.Context().Done():
					return
				}
				if !tc.answer {
					panic(http.ErrAbortHandler) // the connection, or the stream, is reset
				}
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `{"MessageId":"0100-test"}`)
			}))
			srv.Config.Protocols = new(http.Protocols)
			srv.Config.Protocols.SetHTTP1(true)
			srv.Config.Protocols.SetUnencryptedHTTP2(true)
			srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the aborted handler
			srv.Start()
			defer srv.Close()
			client := sesv2.New(sesv2.Options{
				Region:       "us-east-1",
				BaseEndpoint: aws.String(srv.URL),
				Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
				HTTPClient:   &http.Client{Transport: s.transport(tc.protocols), Timeout: 10 * time.Second},
				Retryer:      aws.NopRetryer{},
			})
			err := deliver.SendSES(ctx, client, bigMessage())
			t.Logf("error: %v", err)
			if !got.Load() {
				t.Fatalf("the server did not get the request whole (SendSES = %v)", err)
			}
			var e *deliver.Error
			switch {
			case tc.answer && err != nil:
				t.Errorf("SendSES = %v, want the answer of SES, which has the mail", err)
			case !tc.answer && (!errors.As(err, &e) || !e.Unknown):
				t.Errorf("SendSES = %v, want a *deliver.Error with Unknown: SES has the mail, and no answer came", err)
			}
		})
	}
}
