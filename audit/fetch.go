package audit

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// API is the part of the SSM client that audit uses. *ssm.Client satisfies
// it; so does a fake in a unit test.
type API interface {
	DescribeInstanceAssociationsStatus(ctx context.Context, params *ssm.DescribeInstanceAssociationsStatusInput, optFns ...func(*ssm.Options)) (*ssm.DescribeInstanceAssociationsStatusOutput, error)
	DescribeInstanceInformation(ctx context.Context, params *ssm.DescribeInstanceInformationInput, optFns ...func(*ssm.Options)) (*ssm.DescribeInstanceInformationOutput, error)
}

var _ API = (*ssm.Client)(nil)

// maxPagesNote ends the message of a PaginationLoop that is the limit of
// Config.MaxPages, not a NextToken that came back (OverMaxPages).
const maxPagesNote = " (MaxPages)"

// OverMaxPages reports whether e is the error of an instance with more
// pages than Config.MaxPages: a retry with a higher limit audits it, where
// one with the same fails the same way.
func OverMaxPages(e *Error) bool {
	return e != nil && e.Code == CodePaginationLoop && strings.HasSuffix(e.Message, maxPagesNote)
}

// Error codes that this package puts in Error.Code, beside the API's own.
const (
	// CodePaginationLoop: a NextToken came back twice, or there were more
	// pages than Config.MaxPages.
	CodePaginationLoop = "PaginationLoop"
	// CodeTransport: no answer from the service (connection refused or
	// dropped, timeout) after every retry.
	CodeTransport = "Transport"
	// CodeBadResponse: an answer came (an HTTP status), but not one in the
	// service's protocol, after every retry: a body that is not its JSON
	// (a proxy's or firewall's HTML page), one cut short, or an error
	// without a type. The message names the status and the content type.
	CodeBadResponse = "BadResponse"
	// CodeInvalid: the input was not an instance ID.
	CodeInvalid = "Invalid"
	// EmptyID stands in the record for an input line whose ID was empty.
	EmptyID = "(empty)"
	// CodeInvalidInstanceID is SSM's answer for an ID that is not a managed
	// node in that account and region.
	CodeInvalidInstanceID = "InvalidInstanceId"
	// CodeAccountNotActive is the code of an account-region that could
	// not be audited as its account is no longer among the organisation's
	// active accounts (a resumed run's): nothing was listed there, and no
	// listing failed.
	CodeAccountNotActive = "AccountNotActive"
)

// ErrFatal is wrapped by the error Run returns when the run cannot go on for
// any instance: credentials missing, invalid or expired, or access to
// DescribeInstanceAssociationsStatus denied. Retrying instance by instance
// would only fail thousands of times; the user must fix the setup.
var ErrFatal = errors.New("cannot call SSM")

// credentialCodes are API error codes that say the credentials themselves
// were refused (unknown, badly signed, expired), whatever the call: no call
// with them can work. With access denied (isAccessDenied) they are the
// codes IsFatal takes.
var credentialCodes = map[string]bool{
	"UnrecognizedClientException":         true,
	"InvalidClientTokenId":                true,
	"ExpiredToken":                        true,
	"ExpiredTokenException":               true,
	"InvalidSignatureException":           true,
	"SignatureDoesNotMatch":               true,
	"IncompleteSignature":                 true,
	"IncompleteSignatureException":        true,
	"MissingAuthenticationToken":          true,
	"MissingAuthenticationTokenException": true,
	"AuthFailure":                         true,
}

// throttles are the SDK's own throttle checks: its throttle error codes
// (retry.DefaultThrottleErrorCodes) and an HTTP 429 without a modeled
// error. The standard retryer retries exactly these as throttles, so every
// throttle it retries also reaches the Limiter.
var throttles = retry.IsErrorThrottles(retry.DefaultThrottles)

// IsThrottle reports whether err is a throttle as the SDK's retryer sees
// it.
func IsThrottle(err error) bool {
	return throttles.IsErrorThrottle(err).Bool()
}

// passedLimit reports whether err is the service's own answer to a call,
// not a throttle: an error it names (InvalidInstanceId, AccessDenied...)
// with an HTTP status under 500. Such a call went through the
// account-region's rate limit as a success does, and the Limiter counts
// it so: a list of instances that are gone, or --with-instance-info's
// lookup (which halves each batch that holds an unmanaged node, one
// refused call a halving), would otherwise give it a pace of a part of
// what the bucket let through. A 5xx, an answer not in the protocol (a
// proxy's page) or none at all says nothing of the bucket.
func passedLimit(err error) bool {
	var re *awshttp.ResponseError
	var ae smithy.APIError
	if !errors.As(err, &re) || re.HTTPStatusCode() < 400 || re.HTTPStatusCode() >= 500 || !errors.As(err, &ae) {
		return false
	}
	return ae.ErrorCode() != "UnknownError" && !IsThrottle(err)
}

// IsFatal reports whether err from an SSM call means that no call can
// succeed with this configuration (see ErrFatal): credentials that could not
// be obtained (a *CredentialsError) or that the service refused, or an
// error that says so itself with a method Fatal() bool (a request the HTTP
// client refused to send, say).
func IsFatal(err error) bool {
	var fatal interface{ Fatal() bool }
	return IsBadCredentials(err) || isAccessDenied(err) || errors.As(err, &fatal) && fatal.Fatal()
}

// IsBadCredentials reports whether err, from a call to any service, means
// that the credentials themselves cannot work: they could not be obtained
// (a *CredentialsError) or used to sign the request, or the service refused
// them as unknown, badly signed or expired. Access denied is not: it is a
// policy's answer to one call (STS's GetCallerIdentity needs no permission,
// so a denial there comes from something between, such as a VPC endpoint's
// policy). IsFatal takes every error IsBadCredentials does.
func IsBadCredentials(err error) bool {
	var signing *v4.SigningError
	var creds *CredentialsError
	if errors.As(err, &signing) || errors.As(err, &creds) {
		return true
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && credentialCodes[ae.ErrorCode()]
}

// CredentialsError is a failure to obtain credentials: a credential_process
// that failed or printed something unreadable, an SSO session that expired,
// a role that could not be assumed. Its text names the kind of source and
// the profile, never what the source printed, which may hold a secret. Run
// treats it as fatal (see ErrFatal) at its first sign, at the start or in
// the middle of a run; the instances not yet audited stay unrecorded, so
// that a resumed run continues with them. It is never retried.
type CredentialsError struct {
	// Source says where the credentials come from, in words:
	// "credential_process", "SSO", "assumed role", "environment", ...
	Source string
	// Profile is the shared-config profile involved, or "".
	Profile string
	// Kind says what went wrong without quoting the source: "the process
	// failed", "the session has expired", ...
	Kind string
	// AccountID is set for the credentials of a role assumed in another
	// account: their failure stops that account only (see SiteError).
	AccountID string
	// Code and Message are the service's answer when AWS refused (STS's
	// AccessDenied for a role, say): its own words, with the run's
	// secrets it repeated redacted (see Secrets); empty when no service
	// answered.
	Code, Message string
	// ClockOff is AWS's clock less the time the refused request was
	// signed at, when the service refused it for that (see ClockOff):
	// the error then says to set the clock.
	ClockOff time.Duration
}

func (e *CredentialsError) Error() string {
	s := "could not obtain AWS credentials"
	if e.Source != "" {
		s += " from " + e.Source
	}
	if e.Profile != "" {
		s += " (profile " + e.Profile + ")"
	}
	if e.Kind != "" {
		s += ": " + e.Kind
	}
	if e.Code != "" {
		s += ": " + e.Code + ": " + e.Message
	}
	if e.ClockOff != 0 {
		s += "; " + ClockHint(e.ClockOff)
	}
	return s
}

// RetryableError tells the SDK's retryer not to retry: asking a failed
// credential source again in a tight loop helps nobody.
func (e *CredentialsError) RetryableError() bool { return false }

// isAccessDenied tells an authorization refusal apart from bad credentials:
// a policy may deny some instances (by tag, say) and allow others, so once a
// call has succeeded, a denial is that instance's error, not the run's.
func isAccessDenied(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation":
		return true
	}
	return false
}

// isOptInRequired reports whether err is EC2's refusal of a call in a
// region that the account has not opted in to.
func isOptInRequired(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "OptInRequired"
}

// NoAnswer is noAnswer, for the calls that audit does not make (those of
// a credential source).
func NoAnswer(err error) (u *UnreachableError, none bool) { return noAnswer(err) }

// ProxyRefusedError is a proxy's answer to CONNECT other than 200: the
// proxy was reached and would not open the tunnel to the endpoint (407: it
// wants a login, or another one). net/http reports it as an error of the
// proxy's reason phrase alone, with nothing to tell it from any other; the
// HTTP client of awsconn returns this instead.
type ProxyRefusedError struct {
	// Proxy is the proxy's host and port, never the user info of its URL.
	Proxy string
	// Status is the proxy's HTTP status.
	Status int
}

// Error names the status by its standard text, not the proxy's own.
func (e *ProxyRefusedError) Error() string {
	return strings.TrimSpace(fmt.Sprintf("the proxy refused to connect: %d %s", e.Status, http.StatusText(e.Status)))
}

// RetryableError tells the SDK's retryer to try again only where the
// proxy's refusal may pass: its way to the endpoint failed (5xx) or it was
// busy (429). A login it wants (407) or a host its policy denies (403) is
// refused alike on every try.
func (e *ProxyRefusedError) RetryableError() bool {
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests
}

// noAnswer reports whether err is a call that got no answer at all from the
// service (no HTTP response: the connection was refused or dropped, the name
// did not resolve, TLS failed, the call timed out, the proxy could not be
// reached, or would not open the tunnel: a *ProxyRefusedError) and, if so,
// says why in an UnreachableError of which it sets the URL the call went to
// (scheme and host only), the cause in a few words and, when it was the
// proxy that failed, that and the proxy's address. A
// call that was never sent (an *EndpointRulesError) is no silence.
func noAnswer(err error) (u *UnreachableError, none bool) {
	if err == nil {
		return nil, false
	}
	var ae smithy.APIError
	var re *awshttp.ResponseError
	var de *smithy.DeserializationError
	var rules *EndpointRulesError
	if errors.As(err, &rules) {
		return nil, false
	}
	if errors.As(err, &ae) || errors.As(err, &re) && re.HTTPStatusCode() != 0 || errors.As(err, &de) || errors.Is(err, io.ErrUnexpectedEOF) {
		// The service, or something on the way, answered. (The SDK wraps a
		// request that got no response in a ResponseError too, with
		// status 0.)
		return nil, false
	}
	u = &UnreachableError{}
	var ue *url.Error
	if errors.As(err, &ue) {
		if p, perr := url.Parse(ue.URL); perr == nil {
			u.Endpoint = (&url.URL{Scheme: p.Scheme, Host: p.Host}).String()
		}
	}
	var refused *ProxyRefusedError
	if errors.As(err, &refused) {
		u.ThroughProxy, u.Proxy, u.Cause = true, refused.Proxy, refused.Error()
		return u, true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "proxyconnect" {
		// net/http's error for a proxy it could not reach or talk to (its
		// dial or its TLS): the cause is the proxy's, not the endpoint's.
		// Its address comes from the dial, which never holds the proxy
		// URL's user info.
		u.ThroughProxy = true
		var dial *net.OpError
		var dns *net.DNSError
		switch {
		case errors.As(op.Err, &dial) && dial.Addr != nil:
			u.Proxy = dial.Addr.String()
		case errors.As(op.Err, &dns):
			u.Proxy = dns.Name
		}
		err = op.Err
	}
	whose := "server's"
	if u.ThroughProxy {
		// The handshake that failed was the proxy's own (an https://
		// proxy): no handshake reached the endpoint.
		whose = "proxy's"
	}
	if p, cause := certificate(err, whose); p != "" {
		u.Cause, u.Certificate = cause, p
	} else {
		u.Cause = silence(err)
	}
	return u, true
}

// serverFailure reports whether err is an answer that the call ended in
// after every retry and that no call there can do better with: a server
// error (HTTP 5xx, a throttle excepted), or an answer that is not in the
// service's protocol whatever its status (see answeredBadly: a proxy's or
// a firewall's page answers every call alike). If so it says so in an
// UnreachableError of which it sets the endpoint (scheme and host), the
// status and, as its Cause, the service's error code (CodeBadResponse for
// an answer not in its protocol, and BadAnswer what came).
func serverFailure(err error) (u *UnreachableError, failing bool) {
	var re *awshttp.ResponseError
	if err == nil || !errors.As(err, &re) || re.Response == nil {
		return nil, false
	}
	// A throttle not in the service's protocol (a proxy's HTTP 429 page)
	// is paced as one, and counts here too: every call gets it alike.
	bad, isBad := answeredBadly(err)
	if !isBad && (IsThrottle(err) || re.HTTPStatusCode() < 500) {
		return nil, false
	}
	u = &UnreachableError{Status: re.HTTPStatusCode(), Cause: "server error"}
	if r := re.Response.Request; r != nil && r.URL != nil {
		u.Endpoint = (&url.URL{Scheme: r.URL.Scheme, Host: r.URL.Host}).String()
	}
	var ae smithy.APIError
	switch {
	case isBad:
		u.Cause, u.BadAnswer = CodeBadResponse, bad.String()
	case errors.As(err, &ae) && ae.ErrorCode() != "":
		u.Cause = redactedBy(err).Redact(ae.ErrorCode())
	}
	return u, true
}

// badAnswer is an answer that came (an HTTP status) but not in the
// service's protocol (see CodeBadResponse and answeredBadly).
type badAnswer struct {
	status int
	// contentType is the answer's media type, without parameters; "" when
	// it had none.
	contentType string
	// service is the SDK's ID of the service called ("SSM", "EC2"); ""
	// when unknown.
	service string
	// untyped is set for an error the SDK could read but that has no type
	// (the SDK's UnknownError), as no AWS error is.
	untyped bool
	// foreign is set for an answer of success that is not the service's
	// (foreignAnswer).
	foreign bool
	// tooLarge is MaxAnswer when the answer's body was longer (an
	// *AnswerTooLargeError), else 0.
	tooLarge int64
}

// String says what came in a few words: "answered HTTP 403 with
// text/html, not SSM's protocol".
func (a badAnswer) String() string {
	with := "without a content type"
	if a.contentType != "" {
		with = "with " + a.contentType
	}
	whose := "the service's"
	if a.service != "" {
		whose = a.service + "'s"
	}
	switch {
	case a.tooLarge > 0:
		return fmt.Sprintf("answered HTTP %d %s larger than %d MiB, more than any answer of %s: not its protocol", a.status, with, a.tooLarge>>20, strings.TrimSuffix(whose, "'s"))
	case a.status >= 300 && a.status < 400:
		// A captive portal's or a load balancer's way to its login page:
		// not followed (AWS never redirects an API call).
		return fmt.Sprintf("answered HTTP %d, a redirect (not followed), %s: not %s protocol", a.status, with, whose)
	case a.untyped:
		return fmt.Sprintf("answered HTTP %d %s, an error without a type: not %s protocol", a.status, with, whose)
	case a.foreign:
		return fmt.Sprintf("answered HTTP %d %s, naming no request and without the operation's fields: not %s protocol", a.status, with, whose)
	case strings.Contains(a.contentType, "json"):
		return fmt.Sprintf("answered HTTP %d %s that could not be read", a.status, with)
	}
	return fmt.Sprintf("answered HTTP %d %s, not %s protocol", a.status, with, whose)
}

// MaxAnswer bounds the body of one answer that the HTTP client of awsconn
// reads, 16 MiB: a page of SSM's, EC2's or another service's the auditor
// calls holds at most a megabyte or so, and an endpoint that sends more
// (one that is not AWS's, a body that never ends, a gzip bomb) would
// otherwise be read whole into memory, on every worker at once.
const MaxAnswer = 16 << 20

// AnswerTooLargeError is the error of reading an answer's body past
// MaxAnswer. It is never retried: the same endpoint answers alike.
type AnswerTooLargeError struct{ Limit int64 }

func (e *AnswerTooLargeError) Error() string {
	return fmt.Sprintf("answer larger than %d MiB", e.Limit>>20)
}

// RetryableError tells the SDK's retryer not to retry.
func (e *AnswerTooLargeError) RetryableError() bool { return false }

// errForeignAnswer is the cause of an answer of HTTP 2xx that is not the
// service's (foreignAnswer).
var errForeignAnswer = errors.New("no x-amzn-RequestId header, and no list where the operation always answers one, an empty one too")

// foreignAnswer returns, for the metadata of a call that succeeded, an
// error as the SDK's for an answer not in the service's protocol when
// the answer names no request (x-amzn-RequestId, which AWS always sends)
// and lacked the list the operation always answers, an empty one too
// (listed false): a health check's page, a captive portal's, a load
// balancer's of another service, which the SDK reads as an empty answer.
// Either alone is taken as it is. It returns nil otherwise.
func foreignAnswer(service, operation string, md middleware.Metadata, listed bool) error {
	if listed {
		return nil
	}
	if id, _ := awsmiddleware.GetRequestIDMetadata(md); id != "" {
		return nil
	}
	raw, _ := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response)
	if raw == nil || raw.Response == nil {
		return nil
	}
	return &smithy.OperationError{ServiceID: service, OperationName: operation,
		Err: &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{Response: raw, Err: errForeignAnswer}}}
}

// answeredBadly reports whether err is an answer that came (an HTTP
// status, whatever it is) but not in the service's protocol: a body the
// SDK could not read (not JSON, such as a proxy's HTML page, or cut
// short) or an error without a type, after every retry; and if so, what
// it was.
func answeredBadly(err error) (badAnswer, bool) {
	var re *awshttp.ResponseError
	if err == nil || !errors.As(err, &re) || re.Response == nil || re.Response.Response == nil || re.HTTPStatusCode() == 0 {
		return badAnswer{}, false
	}
	a := badAnswer{status: re.HTTPStatusCode(), foreign: errors.Is(err, errForeignAnswer)}
	if tl := (*AnswerTooLargeError)(nil); errors.As(err, &tl) {
		a.tooLarge = tl.Limit
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if ae.ErrorCode() != "UnknownError" {
			return badAnswer{}, false // the service's own error
		}
		a.untyped = true
	}
	if ct := re.Response.Header.Get("Content-Type"); ct != "" {
		mt, _, perr := mime.ParseMediaType(ct)
		if perr != nil {
			mt, _, _ = strings.Cut(ct, ";")
		}
		a.contentType = strings.TrimSpace(mt)
	}
	var oe *smithy.OperationError
	if errors.As(err, &oe) {
		a.service = oe.Service()
	}
	return a, true
}

// CertificateProblem is what was wrong with the certificate of a server
// that a TLS handshake failed on (see UnreachableError.Certificate). A
// retry may mend any of them: one node of several behind a load balancer
// or a proxy pool may serve a wrong certificate, the others a right one.
type CertificateProblem string

const (
	// CertificateUntrusted is a certificate signed by a CA not trusted
	// here: a TLS-inspecting proxy's, or a private CA's, that the CA
	// bundle does not hold.
	CertificateUntrusted CertificateProblem = "untrusted"
	// CertificateOtherHost is a certificate for other names than the
	// host called.
	CertificateOtherHost CertificateProblem = "other host"
	// CertificateExpired is a certificate that has expired or is not yet
	// valid (or this machine's clock is wrong).
	CertificateExpired CertificateProblem = "expired"
	// CertificateInvalid is a certificate not valid otherwise: a CA not
	// allowed to sign it, a use it does not allow.
	CertificateInvalid CertificateProblem = "invalid"
)

// certificate says what was wrong with the certificate when err is a TLS
// handshake that failed on verifying it, and says so as the cause of a
// silence: in a few words, of whose certificate ("server's", "proxy's"),
// then crypto/x509's, which name the certificate's hosts or its CA
// (outside text: whoever shows it makes it plain). It returns "", "" for
// any other error.
func certificate(err error, whose string) (p CertificateProblem, cause string) {
	the := "the " + whose + " certificate"
	var unknown x509.UnknownAuthorityError
	var roots x509.SystemRootsError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	switch {
	case errors.As(err, &unknown):
		return CertificateUntrusted, the + " is not trusted (" + unknown.Error() + ")"
	case errors.As(err, &roots):
		return CertificateUntrusted, the + " cannot be verified (" + roots.Error() + ")"
	case errors.As(err, &host):
		return CertificateOtherHost, the + " is for another host (" + host.Error() + ")"
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return CertificateExpired, the + " is out of date (" + invalid.Error() + ")"
	case errors.As(err, &invalid):
		return CertificateInvalid, the + " is not valid (" + invalid.Error() + ")"
	case errors.As(err, &verify):
		return CertificateInvalid, the + " is not valid (" + verify.Err.Error() + ")"
	}
	return "", ""
}

// silence says in a few words why a call got no answer.
func silence(err error) string {
	if _, cause := certificate(err, "server's"); cause != "" {
		return cause
	}
	var dns *net.DNSError
	var op *net.OpError
	var ne net.Error
	var rh tls.RecordHeaderError
	switch {
	case errors.As(err, &dns):
		if !dns.IsNotFound {
			return "DNS lookup failed"
		}
		return "no such host"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timed out"
	case errors.Is(err, http.ErrSchemeMismatch), errors.As(err, &rh) && string(rh.RecordHeader[:]) == "HTTP/":
		// https to a port that speaks plain HTTP. http.Client turns the
		// TLS error (a RecordHeaderError holding "HTTP/") into its
		// sentinel ErrSchemeMismatch only when the RoundTripper returns
		// it unwrapped; net/http's own proxyconnect error, or a
		// RoundTripper of ours, wraps it and keeps the RecordHeaderError.
		return "the server answered plain HTTP: use http://, or check the port"
	case errors.As(err, &op) && op.Op == "remote error", strings.Contains(err.Error(), "tls:"), strings.Contains(err.Error(), "x509:"):
		// crypto/tls returns most of its handshake errors as text alone
		// (errors.New("tls: ...")).
		return "TLS handshake failed"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF):
		return "connection closed without an answer"
	case errors.As(err, &op):
		return op.Err.Error()
	}
	return "no answer"
}

// Classify turns an error from the SDK into the Error code and message that
// a Result records: the API's code and message when the service answered
// (STS's, for a role that could not be assumed), CodeBadResponse and what
// came when an answer came that is not in the service's protocol,
// CodeTransport and the error's text when none came. Both are redacted
// with the Secrets that err carries (see Secrets.Wrap), if any, and of
// the values that sign a request in any case (see Secrets.Redact).
func Classify(err error) (code, msg string) { return classify(err) }

// classify turns an error from the SDK into an Error code and message,
// redacted: they come from outside.
func classify(err error) (code, msg string) {
	code, msg = classified(err)
	s := redactedBy(err) // nil redacts the signing values alone
	return s.Redact(code), s.Redact(msg)
}

// classified is classify's code and message, as they came.
func classified(err error) (code, msg string) {
	// A role that could not be assumed: STS's answer, not the transport
	// error the SDK's signing step wraps it in.
	var ce *CredentialsError
	if errors.As(err, &ce) && ce.Code != "" {
		return ce.Code, ce.Message
	}
	if a, ok := answeredBadly(err); ok {
		var re *awshttp.ResponseError
		errors.As(err, &re)
		return CodeBadResponse, a.String() + ": " + re.Err.Error()
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode(), ae.ErrorMessage()
	}
	var ne net.Error
	var oe *smithy.OperationError
	switch {
	case errors.As(err, &ne), errors.Is(err, context.DeadlineExceeded):
		return CodeTransport, err.Error()
	case errors.As(err, &oe):
		return CodeTransport, oe.Err.Error()
	}
	return CodeTransport, err.Error()
}

// maxInstanceAnswer bounds the text of one instance's associations, over
// all its pages (associationSize), 64 MiB: SSM's quota of associations
// and the lengths of their fields come to a few megabytes, and an endpoint
// that is not SSM's could send gigabytes a page at a time, each page under
// MaxAnswer, to be held in memory and written as one record line longer
// than the record's reader takes (maxLine).
const maxInstanceAnswer = 64 << 20

// associationSize is the length of s's text as the record's line holds
// it (encodedLen), and room for the rest.
func associationSize(s types.InstanceAssociationStatusInfo) int {
	n := 256
	for _, p := range []*string{s.AssociationId, s.Name, s.AssociationName, s.AssociationVersion, s.DocumentVersion,
		s.InstanceId, s.Status, s.DetailedStatus, s.ExecutionSummary, s.ErrorCode} {
		n += encodedLen(aws.ToString(p))
	}
	if s.OutputUrl != nil && s.OutputUrl.S3OutputUrl != nil {
		n += encodedLen(aws.ToString(s.OutputUrl.S3OutputUrl.OutputUrl))
	}
	return n
}

// encodedLen is the length of s in a JSON string as the record's encoder
// writes it (encoding/json, HTML escaping off), quotes aside: a control
// character is six bytes (\u0001), as are U+2028, U+2029 and each byte
// that is not UTF-8 (\ufffd); a quote and a backslash are two. An
// endpoint that is not SSM's can send text that grows sixfold on the line.
func encodedLen(s string) int {
	n := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			switch {
			case b == '"' || b == '\\' || b == '\n' || b == '\r' || b == '\t':
				n += 2
			case b < 0x20:
				n += 6 // \b and \f may be written in two: six bounds them
			default:
				n++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1, r == '\u2028', r == '\u2029':
			n += 6
		default:
			n += size
		}
		i += size
	}
	return n
}

// maxField bounds the text of one field read from an answer, 4 KiB: twice
// the longest SSM documents (an output URL's 2,083 characters; an
// execution summary holds 512), so that an endpoint that is not SSM's
// cannot put megabytes into every line of the record and every report.
const maxField = 4 << 10

// cutField returns s, or, when it is longer than maxField, its first
// bytes up to a character's start and how many more it held: "...… [cut:
// 95904 bytes]".
func cutField(s string) string {
	if len(s) <= maxField {
		return s
	}
	k := maxField
	for k > 0 && !utf8.RuneStart(s[k]) {
		k--
	}
	return s[:k] + fmt.Sprintf("… [cut: %d bytes]", len(s)-k)
}

// field is cutField of *p, "" for nil.
func field(p *string) string { return cutField(aws.ToString(p)) }

func association(s types.InstanceAssociationStatusInfo) Association {
	a := Association{
		AssociationID:      field(s.AssociationId),
		Name:               field(s.Name),
		AssociationName:    field(s.AssociationName),
		AssociationVersion: field(s.AssociationVersion),
		DocumentVersion:    field(s.DocumentVersion),
		InstanceID:         field(s.InstanceId),
		Status:             field(s.Status),
		DetailedStatus:     field(s.DetailedStatus),
		ExecutionSummary:   field(s.ExecutionSummary),
		ErrorCode:          field(s.ErrorCode),
	}
	if s.ExecutionDate != nil {
		d := s.ExecutionDate.UTC()
		a.ExecutionDate = &d
	}
	if s.OutputUrl != nil && s.OutputUrl.S3OutputUrl != nil {
		a.OutputURL = &OutputURL{S3OutputURL: &S3OutputURL{OutputURL: field(s.OutputUrl.S3OutputUrl.OutputUrl)}}
	}
	return a
}

// attempts is a finalize middleware that runs once per HTTP attempt, inside
// the SDK's retry loop: it paces every attempt (retries included) through
// the account-region's Limiter, tells the Limiter how each one ended, and
// counts attempts and throttles.
type attempts struct {
	limiter *Limiter
	run     *runner
	site    *site
	// first paces the attempts ahead of the audit's (Limiter.WaitFirst):
	// a listing's pages, which the audit waits for.
	first bool
	// unsent, when set, ends the wait for the first attempt's slot, and
	// stops that attempt when it has ended already: the run's context,
	// whose end leaves a call not yet sent unsent, where one in flight
	// (its retries too) has a grace of its own.
	unsent context.Context
	n      atomic.Int64
}

func (a *attempts) ID() string { return "AuditorAttempts" }

func (a *attempts) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	wait := a.limiter.Wait
	if a.first {
		wait = a.limiter.WaitFirst
	}
	wctx := ctx
	if a.unsent != nil && a.n.Load() == 0 {
		if err := a.unsent.Err(); err != nil {
			return middleware.FinalizeOutput{}, middleware.Metadata{}, &aws.RequestCanceledError{Err: err}
		}
		c, stop := context.WithCancel(ctx)
		defer stop()
		defer context.AfterFunc(a.unsent, stop)()
		wctx = c
	}
	if err := wait(wctx); err != nil {
		if wctx != ctx && ctx.Err() == nil {
			// Not the call's own context: the retryer must not try
			// again, as it would for an error of its own.
			err = &aws.RequestCanceledError{Err: err}
		}
		return middleware.FinalizeOutput{}, middleware.Metadata{}, err
	}
	if a.n.Add(1) > 1 {
		a.run.retries.Add(1)
	}
	a.run.calls.Add(1)
	a.site.calls.Add(1)
	sent := time.Now()
	out, md, err := next.HandleFinalize(ctx, in)
	if _, none := noAnswer(err); !none {
		a.run.answers.Add(1)
	}
	switch {
	case err == nil:
		a.limiter.Success(sent)
	case IsThrottle(err):
		a.run.throttled.Add(1)
		a.site.throttled.Add(1)
		a.limiter.Throttled(sent)
	case passedLimit(err):
		a.limiter.Success(sent)
	default:
		a.limiter.Failed()
	}
	return out, md, err
}

// utc returns t in UTC, or nil.
func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
