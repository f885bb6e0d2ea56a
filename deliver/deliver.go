// Package deliver sends rendered reports by mail (SMTP or Amazon SES v2) and
// uploads them to Amazon S3.
//
// It takes what a run has already written: the mail's subject and bodies
// (report.MailSubject, report.MailBody) and the paths of the report files.
// It knows nothing of the record, the audit or the command line. Nothing here
// prints or logs; every failure is returned, and no error carries a password.
package deliver

import (
	"fmt"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// Error is a delivery that failed, or whose outcome is unknown (see
// Unknown): what failed, the server's answer, and whether it was retried. Its text never holds a password or other secret;
// the server's words in it are cut to one short line.
type Error struct {
	// Op is the step that failed: "connecting", "STARTTLS", "AUTH",
	// "MAIL FROM", "RCPT TO", "DATA", "SES SendEmail", ...
	Op string
	// Server is the host:port (SMTP) or the service (SES) the step talked to.
	Server string
	// Code is the SMTP reply code (such as 451 or 550); 0 when the server
	// gave none (a dropped connection, a TLS failure) or for SES.
	Code int
	// ErrorCode is the AWS error code for SES ("MessageRejected"); empty
	// for SMTP.
	ErrorCode string
	// Temporary reports whether the failure is of a kind that a later try
	// may not meet (an SMTP 4xx reply, a dropped connection, a timeout, a
	// throttle).
	Temporary bool
	// Unknown reports that the whole message was sent and no answer came
	// (the connection dropped, the time ran out, or the answer was cut
	// short, after SMTP's end of DATA or SES's whole request): the server
	// may have accepted it. Such a message is not sent again, and
	// Temporary is false.
	Unknown bool
	// Attempts is the number of attempts made, the last of which failed;
	// more than 1 means the delivery was retried.
	Attempts int
	// MaxSize is, for a message too big (see TooBig), the most bytes the
	// SMTP server takes as it advertised them (EHLO's SIZE); 0 when it
	// advertised none.
	MaxSize int64
	// Err is the cause, with the server's text cleaned (see above).
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("delivering")
	if e.Server != "" {
		b.WriteString(" via " + e.Server)
	}
	b.WriteString(": " + e.Op + ": ")
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString("failed")
	}
	switch {
	case e.Unknown && e.Attempts > 1:
		fmt.Fprintf(&b, " (attempt %d: the whole message was sent and no answer came: it may have been delivered, so it was not sent again)", e.Attempts)
	case e.Unknown:
		b.WriteString(" (the whole message was sent and no answer came: it may have been delivered, so it was not sent again)")
	case e.Attempts > 1:
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	case e.Temporary:
		b.WriteString(" (temporary, not retried)")
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Retried reports whether more than one attempt was made.
func (e *Error) Retried() bool { return e.Attempts > 1 }

// TooBig reports whether the message is larger than the SMTP server takes:
// larger than its SIZE, and so not sent (Op "SIZE"), or refused with 552
// at the end of DATA. MaxSize says the server's limit where it is known;
// a smaller message, fewer attachments, may pass.
func (e *Error) TooBig() bool {
	return e.Op == "SIZE" || e.Op == "end of DATA" && e.Code == 552
}

// ServerFailed reports whether the delivery failed at the server itself,
// not at its recipients or its content, so that another message sent now
// would fail the same way: no connection, no TLS, a greeting or EHLO
// refused, the login refused, any 421 reply (the server closing the
// channel), no answer at all (to a command, or to a whole message, which
// it may then have delivered), or SES refusing the account's sending
// (throttled, over a quota, paused or suspended, a MAIL FROM domain not
// verified) or failing itself (an error the SDK retried until it gave up).
func (e *Error) ServerFailed() bool {
	switch e.Op {
	case "connecting", "TLS handshake", "greeting", "EHLO", "STARTTLS", "AUTH":
		return true
	}
	if e.Code == 421 {
		return true
	}
	if e.ErrorCode != "" {
		// Temporary: an answer the SDK retries (a server error) given
		// until its retries ran out.
		_, throttle := retry.DefaultThrottleErrorCodes[e.ErrorCode]
		return throttle || accountRefused[e.ErrorCode] || e.Temporary
	}
	return e.Code == 0 && (e.Temporary || e.Unknown)
}

// OneMessage reports whether a failure of the server (ServerFailed) came
// within one message, once the server had taken the connection, its TLS
// and the login: no answer to a whole message (Unknown, SMTP's or SES's),
// or a connection that dropped or timed out from MAIL FROM to the end of
// DATA, with no reply code. The next message, on a connection of its
// own, may go: a server that hangs on one message, or a network that
// drops one connection, has not failed for the others. Not a 421, which
// is the server closing the channel.
func (e *Error) OneMessage() bool {
	if !e.ServerFailed() || e.Code != 0 || e.ErrorCode != "" {
		return false
	}
	if e.Unknown {
		return true
	}
	switch e.Op {
	case "MAIL FROM", "DATA", "sending the message", "end of DATA":
		return true
	}
	return strings.HasPrefix(e.Op, "RCPT TO")
}

// accountRefused are the SES v2 SendEmail error codes (besides the SDK's
// throttles) that refuse the account or the sender, or that SES itself
// failed with after the retryer's attempts, whatever the message: every
// other message would meet them too.
var accountRefused = map[string]bool{
	"LimitExceededException":             true,
	"AccountSuspendedException":          true,
	"SendingPausedException":             true,
	"MailFromDomainNotVerifiedException": true,
	"InternalServiceErrorException":      true,
}

// maxServerText caps the server's words kept in an error.
const maxServerText = 300

// OneLine returns s with every control character (CR, LF, tab, ...) made a
// space, runs of spaces collapsed, the characters that are not seen
// dropped (see unseen: the bidi controls, zero-width spaces and joiners,
// U+FEFF, the soft hyphen and every other format character, the fillers
// and variation selectors), and at most max runes (0: no cap), so that
// untrusted text can neither start a new header or line, nor reorder what
// follows it, nor hide a character where it reads as text without it,
// nor flood a message.
func OneLine(s string, max int) string {
	var b strings.Builder
	space := false
	n := 0
	for _, r := range s {
		if unseen(r) {
			continue
		}
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			n++
			space = false
		}
		if max > 0 && n >= max {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// unseen reports whether r is shown as nothing: a format character (Cf:
// the bidi controls and marks, zero-width spaces and joiners, U+FEFF, the
// soft hyphen, the tag characters) or another default-ignorable one (the
// Hangul fillers, the combining grapheme joiner, the variation
// selectors). OneLine drops them, as it always dropped the bidi controls,
// rather than escape them: its text is read, not compared, and an escape
// would be text that the sender did not write. So a Persian word may show
// its letters joined, and an emoji sequence its parts.
func unseen(r rune) bool {
	return r > unicode.MaxASCII && (unicode.Is(unicode.Cf, r) ||
		unicode.In(r, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector))
}

// contentTypes are the types of the files a run writes, by extension, so
// that a message or an object does not depend on the machine's mime.types.
var contentTypes = map[string]string{
	".xlsx":  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".csv":   "text/csv; charset=utf-8",
	".json":  "application/json",
	".jsonl": "application/x-ndjson",
	".html":  "text/html; charset=utf-8",
	".txt":   "text/plain; charset=utf-8",
	".log":   "text/plain; charset=utf-8",
}

// ContentType returns the media type this package gives a file by its
// extension (case-insensitive): the types of report.xlsx, *.csv, *.json,
// results.jsonl and report.html, and application/octet-stream for others.
func ContentType(name string) string {
	if t, ok := contentTypes[strings.ToLower(filepath.Ext(name))]; ok {
		return t
	}
	return "application/octet-stream"
}
