package deliver

import (
	"context"
	"errors"
	"net/http/httptrace"
	"sync/atomic"

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

// SendSES builds m (see Message.Build) and sends the raw MIME message
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
func SendSES(ctx context.Context, api SESAPI, m Message) error {
	from, to, err := m.envelope()
	if err != nil {
		return &Error{Op: "building the message", Server: "SES", Err: err}
	}
	raw, _, err := m.Build()
	if err != nil {
		return &Error{Op: "building the message", Server: "SES", Err: err}
	}
	// sent is whether the current attempt's request was written whole.
	var sent atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GetConn: func(string) { sent.Store(false) },
		WroteRequest: func(w httptrace.WroteRequestInfo) {
			if w.Err == nil {
				sent.Store(true)
			}
		},
		// An answer that began was to a request written whole, and it may
		// come before WroteRequest is called (that is called from another
		// goroutine, after the last bytes went out): the answer then cut
		// short would be taken for a request not sent.
		GotFirstResponseByte: func() { sent.Store(true) },
	})
	_, err = api.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(from),
		Destination:      &types.Destination{ToAddresses: to},
		Content:          &types.EmailContent{Raw: &types.RawMessage{Data: raw}},
	}, func(o *sesv2.Options) {
		if o.Retryer != nil {
			o.Retryer = noResend{Retryer: o.Retryer, sent: &sent}
		}
	})
	if err == nil {
		return nil
	}
	// SES's words are cut to one line, as SMTP's are: the caller prints
	// them.
	e := &Error{Op: "SES SendEmail", Server: "SES", Attempts: 1, Err: redactedError{msg: OneLine(err.Error(), maxServerText), err: err}}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		e.ErrorCode = OneLine(ae.ErrorCode(), maxServerText)
	}
	if unanswered(err, &sent) {
		e.Unknown = true
		return e
	}
	var me *retry.MaxAttemptsError
	if errors.As(err, &me) {
		e.Attempts, e.Temporary = me.Attempt, true
	} else if (retry.ThrottleErrorCode{Codes: retry.DefaultThrottleErrorCodes}).IsErrorThrottle(err) == aws.TrueTernary {
		e.Temporary = true
	}
	return e
}

// unanswered reports whether err ended an attempt whose request was
// written whole (sent) without an answer from SES: SES may have taken the
// message.
func unanswered(err error, sent *atomic.Bool) bool {
	var ae smithy.APIError
	return sent.Load() && !errors.As(err, &ae)
}

// noResend is a retryer that does not repeat an attempt that went
// unanswered (see SendSES), and leaves every other decision to the
// retryer it wraps.
type noResend struct {
	aws.Retryer
	sent *atomic.Bool
}

func (r noResend) IsErrorRetryable(err error) bool {
	return !unanswered(err, r.sent) && r.Retryer.IsErrorRetryable(err)
}

func (r noResend) GetAttemptToken(ctx context.Context) (func(error) error, error) {
	if v2, ok := r.Retryer.(aws.RetryerV2); ok {
		return v2.GetAttemptToken(ctx)
	}
	return r.Retryer.GetInitialToken(), nil
}
