package deliver

import (
	"context"
	"errors"

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
// retries of its own. An error is an *Error with ErrorCode the AWS error
// code (such as "MessageRejected"), Temporary for a throttle or a retryable
// error that ran out of attempts, and Attempts from the retryer where it
// says.
func SendSES(ctx context.Context, api SESAPI, m Message) error {
	from, to, err := m.envelope()
	if err != nil {
		return &Error{Op: "building the message", Server: "SES", Err: err}
	}
	raw, _, err := m.Build()
	if err != nil {
		return &Error{Op: "building the message", Server: "SES", Err: err}
	}
	_, err = api.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(from),
		Destination:      &types.Destination{ToAddresses: to},
		Content:          &types.EmailContent{Raw: &types.RawMessage{Data: raw}},
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
	var me *retry.MaxAttemptsError
	if errors.As(err, &me) {
		e.Attempts, e.Temporary = me.Attempt, true
	} else if (retry.ThrottleErrorCode{Codes: retry.DefaultThrottleErrorCodes}).IsErrorThrottle(err) == aws.TrueTernary {
		e.Temporary = true
	}
	return e
}
