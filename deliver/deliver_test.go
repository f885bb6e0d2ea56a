package deliver_test

import (
	"testing"

	"github.com/auditor-dev/auditor/deliver"
)

// TestErrorServerFailed: a failure of the server itself (which every
// other message would meet) is told from one of a message or its
// recipients. A server refusing every connection at its greeting (421
// busy, 554) and SES refusing the account's sending were taken for a
// message's failure, and tried again for every group.
func TestErrorServerFailed(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  deliver.Error
		want bool
	}{
		{"no connection", deliver.Error{Op: "connecting", Temporary: true}, true},
		{"TLS that does not verify", deliver.Error{Op: "TLS handshake"}, true},
		{"greeting 421", deliver.Error{Op: "greeting", Code: 421, Temporary: true}, true},
		{"greeting 554", deliver.Error{Op: "greeting", Code: 554}, true},
		{"EHLO refused", deliver.Error{Op: "EHLO", Code: 502}, true},
		{"STARTTLS not offered", deliver.Error{Op: "STARTTLS"}, true},
		{"login refused", deliver.Error{Op: "AUTH", Code: 535}, true},
		{"421 at MAIL FROM", deliver.Error{Op: "MAIL FROM", Code: 421, Temporary: true}, true},
		{"421 at end of DATA", deliver.Error{Op: "end of DATA", Code: 421, Temporary: true}, true},
		{"dropped mid-message", deliver.Error{Op: "sending the message", Temporary: true}, true},
		{"no answer to a whole message", deliver.Error{Op: "end of DATA", Unknown: true}, true},
		{"greylisted", deliver.Error{Op: "end of DATA", Code: 451, Temporary: true}, false},
		{"recipient refused", deliver.Error{Op: "RCPT TO <a@example.com>", Code: 550}, false},
		{"message refused", deliver.Error{Op: "end of DATA", Code: 554}, false},
		{"message too big", deliver.Error{Op: "end of DATA", Code: 552}, false},
		{"SES throttled", deliver.Error{Op: "SES SendEmail", ErrorCode: "TooManyRequestsException", Temporary: true}, true},
		{"SES over its quota", deliver.Error{Op: "SES SendEmail", ErrorCode: "LimitExceededException"}, true},
		{"SES sending paused", deliver.Error{Op: "SES SendEmail", ErrorCode: "SendingPausedException"}, true},
		{"SES account suspended", deliver.Error{Op: "SES SendEmail", ErrorCode: "AccountSuspendedException"}, true},
		{"SES MAIL FROM not verified", deliver.Error{Op: "SES SendEmail", ErrorCode: "MailFromDomainNotVerifiedException"}, true},
		{"SES message rejected", deliver.Error{Op: "SES SendEmail", ErrorCode: "MessageRejected"}, false},
		{"SES bad request", deliver.Error{Op: "SES SendEmail", ErrorCode: "BadRequestException"}, false},
		{"SES unreachable", deliver.Error{Op: "SES SendEmail", Temporary: true}, true},
		{"message not built", deliver.Error{Op: "building the message"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.ServerFailed(); got != tt.want {
				t.Errorf("%+v: ServerFailed() = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

// TestErrorOfOneMessage: a failure of the server within one message (no
// answer to it, its connection dropped) is told from one of the server's
// connection, TLS, login or account, which every other message would
// meet at once.
func TestErrorOfOneMessage(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  deliver.Error
		want bool
	}{
		{"no answer to a whole message", deliver.Error{Op: "end of DATA", Unknown: true}, true},
		{"SES: no answer to a whole request", deliver.Error{Op: "SES SendEmail", Server: "SES", Unknown: true}, true},
		{"dropped mid-message", deliver.Error{Op: "sending the message", Temporary: true}, true},
		{"timed out at MAIL FROM", deliver.Error{Op: "MAIL FROM", Temporary: true}, true},
		{"dropped at RCPT TO", deliver.Error{Op: "RCPT TO <a@example.com>", Temporary: true}, true},
		{"timed out at DATA", deliver.Error{Op: "DATA", Temporary: true}, true},
		{"no connection", deliver.Error{Op: "connecting", Temporary: true}, false},
		{"greeting 554", deliver.Error{Op: "greeting", Code: 554}, false},
		{"TLS that does not verify", deliver.Error{Op: "TLS handshake"}, false},
		{"login refused", deliver.Error{Op: "AUTH", Code: 535}, false},
		{"421 at MAIL FROM", deliver.Error{Op: "MAIL FROM", Code: 421, Temporary: true}, false},
		{"421 at end of DATA", deliver.Error{Op: "end of DATA", Code: 421, Temporary: true}, false},
		{"SES throttled", deliver.Error{Op: "SES SendEmail", ErrorCode: "TooManyRequestsException", Temporary: true}, false},
		{"SES unreachable", deliver.Error{Op: "SES SendEmail", Temporary: true}, false},
		{"recipient refused", deliver.Error{Op: "RCPT TO <a@example.com>", Code: 550}, false},
		{"greylisted", deliver.Error{Op: "end of DATA", Code: 451, Temporary: true}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.OneMessage(); got != tt.want {
				t.Errorf("%+v: OneMessage() = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
