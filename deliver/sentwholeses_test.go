package deliver_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/auditor-dev/auditor/deliver"
)

// smallReadBuffer is a listener whose connections take little before
// their reader reads.
type smallReadBuffer struct{ net.Listener }

func (l smallReadBuffer) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		_ = c.(*net.TCPConn).SetReadBuffer(4096)
	}
	return c, err
}

// bigSendClient is an SES v2 client of srv, without retries, whose
// connections have a large send buffer: a request body that the server
// does not read is written whole, and stays in the socket.
func bigSendClient(srv *httptest.Server) *sesv2.Client {
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = bigSendBuffer(fd, 4<<20)
		}); err != nil {
			return err
		}
		return serr
	}}).DialContext
	return sesv2.New(sesv2.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		HTTPClient:   &http.Client{Transport: tr},
		Retryer:      aws.NopRetryer{},
	})
}

// TestSendSESSignalBodyNotSent: a signal that comes once the client has
// written the whole request, while an endpoint that stopped reading leaves
// most of its body in the client's socket, is a signal before the message
// was sent whole: SendSES returns at once, with ctx's error, and not as a
// message that may have been delivered. It was taken for one: the
// request's write returning was taken for the request leaving.
func TestSendSESSignalBodyNotSent(t *testing.T) {
	linuxOnly(t)
	for _, tls := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "https"}[tls], func(t *testing.T) {
			release := make(chan struct{})
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-release:
				case <-r.Context().Done():
				}
			}))
			srv.Listener = smallReadBuffer{srv.Listener}
			if tls {
				srv.StartTLS()
			} else {
				srv.Start()
			}
			defer srv.Close()
			defer close(release)

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var wrote bool
			ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(w httptrace.WroteRequestInfo) {
				if w.Err == nil {
					wrote = true
					cancel()
				}
			}})
			err := deliver.SendSES(ctx, bigSendClient(srv), bigMessage())
			if !wrote {
				t.Skipf("the client's socket did not take the whole request, so its write never returned (SendSES = %v)", err)
			}
			var e *deliver.Error
			if !errors.As(err, &e) {
				t.Fatalf("SendSES = %v, want a *deliver.Error", err)
			}
			t.Logf("error: %v", err)
			if e.Unknown || !errors.Is(err, context.Canceled) {
				t.Errorf("error %+v, want not unknown (SES cannot have the whole request), wrapping context.Canceled", e)
			}
			if strings.Contains(err.Error(), "may have been delivered") {
				t.Errorf("the error says the message may have been delivered: %v", err)
			}
		})
	}
}

// TestSendSESSignalAwaitingAnswer: a signal that comes once SES has the
// whole request lets its answer come: the message was accepted, and
// SendSES says so, instead of cutting the call and leaving the outcome
// unknown.
func TestSendSESSignalAwaitingAnswer(t *testing.T) {
	linuxOnly(t) // elsewhere a signal cuts the call at once, as before
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		once.Do(cancel) // the request is whole: the client awaits the answer
		time.Sleep(300 * time.Millisecond)
		io.WriteString(w, `{"MessageId":"0100-test"}`)
	}))
	defer srv.Close()
	if err := deliver.SendSES(ctx, bigSendClient(srv), bigMessage()); err != nil {
		t.Errorf("SendSES = %v, want the answer that came after the signal", err)
	}
}

// fixedBackoff waits the same time before every retry.
type fixedBackoff time.Duration

func (f fixedBackoff) BackoffDelay(int, error) (time.Duration, error) { return time.Duration(f), nil }

// TestSendSESSignalStopsRetries: SES throttling (429) is retried by the
// run's retryer. A signal that came with an answer, or during the wait
// before the next attempt, let the retries go on, each sent whole and
// answered, for up to a minute, past a container's grace before SIGKILL.
// A signal ends the retries: no attempt starts after it, and the error,
// not Unknown, wraps the signal's.
func TestSendSESSignalStopsRetries(t *testing.T) {
	for _, when := range []string{"with the answer", "during the wait"} {
		t.Run(when, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				io.Copy(io.Discard, r.Body)
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("X-Amzn-ErrorType", "TooManyRequestsException")
				w.WriteHeader(http.StatusTooManyRequests)
				w.Write([]byte(`{"message":"Maximum sending rate exceeded."}`))
			}))
			defer srv.Close()
			c := sesv2.New(sesv2.Options{
				Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
				Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
				HTTPClient:  srv.Client(),
				Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
					o.MaxAttempts = 3
					o.Backoff = fixedBackoff(10 * time.Second)
				}),
			})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var once sync.Once
			ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotFirstResponseByte: func() {
				once.Do(func() {
					if when == "with the answer" {
						cancel()
						return
					}
					// Once the answer is read and the retryer waits.
					time.AfterFunc(300*time.Millisecond, cancel)
				})
			}})
			err := deliver.SendSES(ctx, c, deliver.Message{From: "a@example.com", To: []string{"b@example.com"}, Subject: "s", Text: "t"})
			if n := calls.Load(); n != 1 {
				t.Errorf("%d SendEmail calls, want 1: none after the signal", n)
			}
			var de *deliver.Error
			if !errors.As(err, &de) || de.Unknown || !errors.Is(err, context.Canceled) {
				t.Errorf("SendSES = %v, want a known failure that wraps the signal's", err)
			}
		})
	}
}

// TestSendSESSignalGrace: a signal while SES, which has the whole
// request, gives no answer was waited out a minute, past a container's
// grace before its SIGKILL (docker stop's 10 s, Kubernetes' 30 s), which
// then left no word at all. SendSESWithin waits grace at most: no answer
// then is an unknown outcome (SES may have the message), and an answer
// within it is the outcome, as ever.
func TestSendSESSignalGrace(t *testing.T) {
	linuxOnly(t) // elsewhere a signal cuts the call at once
	for _, tt := range []struct {
		name    string
		answer  time.Duration // after the whole request
		grace   time.Duration
		unknown bool
	}{
		{"no answer within the grace", time.Hour, 300 * time.Millisecond, true},
		{"an answer within the grace", 200 * time.Millisecond, 30 * time.Second, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var once sync.Once
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				once.Do(cancel) // the request is whole: the client awaits the answer
				select {
				case <-time.After(tt.answer):
					io.WriteString(w, `{"MessageId":"0100-test"}`)
				case <-r.Context().Done():
				}
			}))
			defer srv.Close()
			done := make(chan error, 1)
			go func() { done <- deliver.SendSESWithin(ctx, bigSendClient(srv), bigMessage(), tt.grace) }()
			var err error
			select {
			case err = <-done:
			case <-time.After(45 * time.Second):
				// A minute is what it waited without a grace.
				t.Fatal("SendSESWithin still waits for the answer, long past the grace after the signal")
			}
			var de *deliver.Error
			switch {
			case tt.unknown && (!errors.As(err, &de) || !de.Unknown):
				t.Errorf("SendSESWithin = %v, want an unknown outcome: SES may have the message", err)
			case !tt.unknown && err != nil:
				t.Errorf("SendSESWithin = %v, want the answer that came within the grace", err)
			}
		})
	}
}
