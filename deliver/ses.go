package deliver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"
)

// SESAPI is the part of the Amazon SES v2 client that SendSES uses; an
// *sesv2.Client satisfies it.
type SESAPI interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, optFns ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

var _ SESAPI = (*sesv2.Client)(nil)

// SendSES builds m (see Message.Build; as Send, a message whose
// attachments do not all fit is not sent) and sends the raw MIME message
// through SES v2 SendEmail, with From as the sender and To as the
// destination. Throttling and other retryable errors are retried by the
// client's retryer (the SDK's standard one, or the run's); SendSES adds no
// retries of its own, and takes some away: once a request has been written
// whole, an attempt that gets no answer from SES (the connection drops,
// the time runs out, the answer is cut short or unreadable) is not
// repeated, since SES may have taken the message and SendEmail has no
// token that would make a repeat safe. An error is an *Error with
// ErrorCode the AWS error code (such as "MessageRejected"), Temporary for a
// throttle or a retryable error that ran out of attempts, Unknown for an
// attempt that got no answer after its request was written, and Attempts
// from the retryer where it says.
//
// ctx ending (a signal) cuts the call at once while the request has not
// left whole: no connection yet, some of it still waiting in the kernel
// (a server that stopped reading), on Linux, which says so, or, within a
// tenth of a second, some of its body not yet written to the connection
// (held back by HTTP/2 while SES grants no more window), on Linux 4.1
// and later, which say how much was written; the connection, or the
// HTTP/2 stream, is then reset so that the rest never leaves, and the
// error, not Unknown, wraps ctx.Err(). Once the request may have left
// whole (as many bytes as its body has were written since its headers,
// though the HTTP client has not yet said that it wrote it), or SES began
// to answer, the answer is waited for, as long as the HTTP client's
// timeout allows and at most a minute: an answer that comes is the
// outcome. Elsewhere than Linux, ctx ending cuts the call at once.
func SendSES(ctx context.Context, api SESAPI, m Message) error {
	return SendSESWithin(ctx, api, m, 0)
}

// SendSESWithin is SendSES whose wait for SES's answer, once ctx ended
// after the request may have left whole, lasts at most grace: a process
// stopped by a container's runtime or by Kubernetes has seconds before it
// is killed, not a minute. No answer then is an unknown outcome (Unknown:
// SES may have the message), not sent again. Zero waits the minute, as
// SendSES; a negative grace waits no more once ctx has ended.
func SendSESWithin(ctx context.Context, api SESAPI, m Message, grace time.Duration) error {
	from, to, err := m.envelope()
	if err != nil {
		return &Error{Op: "building the message", Server: "SES", Err: err}
	}
	raw, err := m.whole()
	if err != nil {
		return &Error{Op: "building the message", Server: "SES", Err: err}
	}
	// sent is whether the current attempt's request was written whole.
	var sent atomic.Bool
	a := &sesAttempt{bodyLen: -1}
	call, cancel := context.WithCancel(httptrace.WithClientTrace(context.WithoutCancel(ctx), &httptrace.ClientTrace{
		GetConn: func(string) {
			sent.Store(false)
			a.set(nil, false)
		},
		GotConn:      func(ci httptrace.GotConnInfo) { a.set(ci.Conn, false) },
		WroteHeaders: a.wroteHeaders,
		WroteRequest: func(w httptrace.WroteRequestInfo) {
			if w.Err == nil {
				sent.Store(true)
			}
		},
		// An answer that began was to a request written whole, and it may
		// come before WroteRequest is called (that is called from another
		// goroutine, after the last bytes went out): the answer then cut
		// short would be taken for a request not sent.
		GotFirstResponseByte: func() {
			sent.Store(true)
			a.answered()
		},
	}))
	defer cancel()
	finished := make(chan struct{})
	defer close(finished)
	wait := sesAnswerWait
	if grace != 0 {
		wait = max(grace, 0)
	}
	stop := context.AfterFunc(ctx, func() { a.cutUnlessSent(cancel, finished, &sent, wait) })
	defer stop()
	_, err = api.SendEmail(call, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(from),
		Destination:      &types.Destination{ToAddresses: to},
		Content:          &types.EmailContent{Raw: &types.RawMessage{Data: raw}},
	}, func(o *sesv2.Options) {
		if o.Retryer != nil {
			o.Retryer = noResend{Retryer: o.Retryer, sent: &sent, signal: ctx, attempt: a}
		}
		if o.HTTPClient != nil {
			o.HTTPClient = lengthClient{HTTPClient: o.HTTPClient, attempt: a}
		}
	})
	if err == nil {
		return nil
	}
	e := &Error{Op: "SES SendEmail", Server: "SES", Attempts: 1, Err: redactedError{msg: sesText(err), err: err}}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		e.ErrorCode = OneLine(ae.ErrorCode(), maxServerText)
	}
	if left := a.left(); left > 0 {
		// Cut for ctx with some of the request still in the kernel: SES
		// cannot have it whole.
		e.Err = fmt.Errorf("%w (cut with %d bytes of the request not sent: %w)", e.Err, left, ctx.Err())
		return e
	}
	if unanswered(err, &sent) {
		e.Unknown = true
		return e
	}
	if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		e.Err = fmt.Errorf("%w (%w)", e.Err, ctx.Err())
	}
	var me *retry.MaxAttemptsError
	if errors.As(err, &me) {
		e.Attempts, e.Temporary = me.Attempt, true
	} else if (retry.ThrottleErrorCode{Codes: retry.DefaultThrottleErrorCodes}).IsErrorThrottle(err) == aws.TrueTernary {
		e.Temporary = true
	}
	return e
}

// sesText is what SendSES's error says of err: SES's code and message,
// each cut alone, the message in its middle, with the HTTP status and the
// request ID that AWS support asks for, as an upload's error says S3's
// (answerText). The SDK's own words ("operation error SESv2: SendEmail, https
// response error StatusCode: 403, RequestID: ...") took half of a cap on
// the whole, and cut off a deny's resource, the identity that the caller
// may not send from, at the end of its message. An error with no answer
// of SES's is its own text, cut, in one line as SMTP's. Both are redacted
// with the Secrets that err carries (audit.Classify).
func sesText(err error) string {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return OneLine(err.Error(), maxServerText)
	}
	text, _ := answerText(err)
	return text
}

// sesAnswerWait bounds the wait for SES's answer once ctx ended after
// the request left whole, where the HTTP client sets no shorter time.
const sesAnswerWait = DefaultSMTPTimeout

// heldPolls is how many times in a row, pollUnsent apart, a request must
// be seen held back (see cutUnlessSent) to be cut: a look is a moment in
// a write that may go on.
const heldPolls = 5

// sesAttempt is what SendSES knows of its current attempt's connection,
// for when ctx ends. Its methods are safe for concurrent use.
type sesAttempt struct {
	mu       sync.Mutex
	conn     net.Conn
	answer   bool
	unsentAt int // bytes the kernel held when the call was cut
	// headers is whether the request's headers were written to conn;
	// bodyFrom is then how many bytes had been written to it, at most,
	// before its body was: -1 where the system cannot say.
	headers  bool
	bodyFrom int64
	bodyLen  int64 // the length of the request's body; -1 where unknown
}

func (a *sesAttempt) set(c net.Conn, answer bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.conn, a.answer, a.headers = c, answer, false
}

func (a *sesAttempt) setBodyLen(n int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.bodyLen = n
}

// wroteHeaders is called once the request's headers are written to the
// connection (WroteHeaders), from the goroutine that writes its body next.
func (a *sesAttempt) wroteHeaders() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.headers, a.bodyFrom = true, -1
	if a.conn != nil {
		if lo, _, ok := written(a.conn); ok {
			a.bodyFrom = lo
		}
	}
}

// bodyMayHaveLeft reports whether the request's body may have been
// written whole to c: as many bytes as it has, or more, were written to c
// since its headers were, or the system cannot say. The HTTP client says
// that the request is written whole (WroteRequest) only once the write of
// its end has returned, and a writer that stalls in between, on a busy
// machine or for a garbage collection, has left the request whole with
// SES while it seems to hold some back. Framing and encryption only add
// bytes: fewer than the body's length means some of it was not written.
func (a *sesAttempt) bodyMayHaveLeft(c net.Conn) bool {
	a.mu.Lock()
	headers, from, length := a.headers, a.bodyFrom, a.bodyLen
	a.mu.Unlock()
	if !headers {
		return false // nothing of the body is written before the headers
	}
	if from < 0 || length < 0 {
		return true
	}
	_, hi, ok := written(c)
	return !ok || hi-from >= length
}

func (a *sesAttempt) answered() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.answer = true
}

func (a *sesAttempt) left() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.unsentAt
}

// cutUnlessSent is run once SendSES's ctx ended. It cuts the call
// (cancel) at once, as a signal before the request left whole, while no
// connection is open or some of the request is still in the kernel (then
// the connection is aborted, so that the rest never leaves), and, after
// heldPolls looks, while the request is not written whole (sent), fewer
// bytes than its body has were written since its headers
// (bodyMayHaveLeft), and the kernel holds none of it: the rest is held
// back above the kernel, as HTTP/2 does while SES grants no more
// flow-control window, and is never written once the call is cut. Once
// the request may have left whole, or SES began to answer, it lets the
// answer come, for at most wait, and until finished closes.
// Where the system cannot say what the kernel holds, it cuts at once, and
// the request counts as sent once it is written, as before.
func (a *sesAttempt) cutUnlessSent(cancel context.CancelFunc, finished <-chan struct{}, sent *atomic.Bool, wait time.Duration) {
	limit := time.NewTimer(wait)
	defer limit.Stop()
	held := 0
	for {
		a.mu.Lock()
		c, answer := a.conn, a.answer
		a.mu.Unlock()
		if !answer {
			if c == nil {
				cancel()
				return
			}
			n, known := unsent(c)
			if !known {
				cancel()
				return
			}
			if n > 0 {
				a.mu.Lock()
				a.unsentAt = n
				a.mu.Unlock()
				abort(c)
				cancel()
				return
			}
			held++
			if sent.Load() || a.bodyMayHaveLeft(c) {
				held = 0
			}
			if held >= heldPolls {
				cancel()
				return
			}
		}
		select {
		case <-finished:
			return
		case <-limit.C:
			cancel()
			return
		case <-time.After(pollUnsent):
		}
	}
}

// lengthClient is the HTTP client under SendEmail: it tells attempt the
// length of each request's body.
type lengthClient struct {
	sesv2.HTTPClient
	attempt *sesAttempt
}

func (c lengthClient) Do(req *http.Request) (*http.Response, error) {
	n := req.ContentLength
	switch {
	case req.Body == nil || req.Body == http.NoBody:
		n = 0
	case n == 0: // with a body: unknown, to net/http
		n = -1
	}
	c.attempt.setBodyLen(n)
	return c.HTTPClient.Do(req)
}

// unanswered reports whether err ended an attempt whose request was
// written whole (sent) without an answer from SES: SES may have taken the
// message.
func unanswered(err error, sent *atomic.Bool) bool {
	var ae smithy.APIError
	return sent.Load() && !errors.As(err, &ae)
}

// noResend is a retryer that does not repeat an attempt that went
// unanswered (see SendSES), nor any attempt once signal ended, and leaves
// every other decision to the retryer it wraps.
type noResend struct {
	aws.Retryer
	sent    *atomic.Bool
	signal  context.Context
	attempt *sesAttempt
}

func (r noResend) IsErrorRetryable(err error) bool {
	if unanswered(err, r.sent) || r.signal.Err() != nil || !r.Retryer.IsErrorRetryable(err) {
		return false
	}
	// To be retried: this attempt is over, answered. Until the next one
	// writes its request, nothing of it is on its way, and a signal cuts
	// the wait before it at once (cutUnlessSent), rather than waiting
	// for answers to attempts that go on after it.
	r.sent.Store(false)
	r.attempt.set(nil, false)
	return true
}

func (r noResend) GetAttemptToken(ctx context.Context) (func(error) error, error) {
	if v2, ok := r.Retryer.(aws.RetryerV2); ok {
		return v2.GetAttemptToken(ctx)
	}
	return r.Retryer.GetInitialToken(), nil
}
