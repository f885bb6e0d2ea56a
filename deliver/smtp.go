package deliver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wneessen/go-mail/smtp"

	"github.com/auditor-dev/auditor/awsconn"
)

// Defaults of SMTP, applied where a field is zero.
const (
	DefaultAttempts    = 4
	DefaultBackoff     = 2 * time.Second
	DefaultSMTPTimeout = time.Minute
)

// SMTP sends mail through an SMTP server (a relay, or a provider's
// submission port). The zero value has no URL; set URL and, where the
// server wants them, Username and Password. An SMTP is safe for concurrent
// use: Send keeps no state.
type SMTP struct {
	// URL names the server and how to secure the connection (see
	// ParseSMTP): smtp://host:587 (STARTTLS required), smtps://host:465
	// (TLS from the first byte), smtp://localhost:25 (plain text, only to a
	// loopback host).
	URL string
	// Username and Password, when Username is set, log in with AUTH PLAIN
	// (or LOGIN when the server offers only that), only over TLS or to a
	// loopback host. The caller reads them from the environment
	// (AUDITOR_SMTP_USERNAME, AUDITOR_SMTP_PASSWORD); they never appear in
	// an error.
	Username, Password string
	// TLSConfig verifies the server; nil means the system's roots and the
	// URL's host as the name to verify. A config without a ServerName gets
	// the URL's host.
	TLSConfig *tls.Config
	// Attempts is how many times a message is tried in all when the
	// failures are temporary (see Send); zero or less means
	// DefaultAttempts.
	Attempts int
	// Backoff is the wait before the second attempt, doubled before each
	// one after; zero or less means DefaultBackoff.
	Backoff time.Duration
	// Timeout bounds one attempt, from connecting to the server's last
	// reply; zero or less means DefaultSMTPTimeout.
	Timeout time.Duration
	// Grace bounds, once ctx ends (a signal), the wait for the reply to a
	// message sent whole: a process stopped by a container's runtime or by
	// Kubernetes has seconds before it is killed, not Timeout. A reply
	// within it is the message's outcome; none is an unknown one (see
	// Send). Zero means Timeout alone bounds the wait; a negative value
	// waits no more once ctx has ended.
	Grace time.Duration
	// Dial opens the TCP connection to host:port; nil means a net.Dialer.
	// A test or a proxy sets it: the URL's host still decides the TLS name
	// and whether plain text is allowed. A connection that wraps a
	// *net.TCPConn may give it from a NetConn method, as *tls.Conn does,
	// so that Send can tell when a message has left (see Send).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// endpoint is a parsed SMTP URL.
type endpoint struct {
	host, port string
	// implicit is TLS from the first byte (smtps).
	implicit bool
	// loopback allows plain text (no STARTTLS offered).
	loopback bool
}

func (e endpoint) addr() string { return net.JoinHostPort(e.host, e.port) }

// ParseSMTP checks an SMTP URL as SMTP.Send will use it, so that a CLI can
// reject a bad one before a long run. It accepts smtp://HOST[:PORT] (port
// 587 by default; STARTTLS required, unless HOST is a loopback host
// (localhost, 127.0.0.0/8, ::1), where plain text is allowed when the server
// offers no STARTTLS) and smtps://HOST[:PORT] (port 465 by default; TLS from
// the first byte). It refuses any other scheme, a missing host, a port that
// is not 1-65535, credentials in the URL (they come from the environment
// only: any "@" is taken for a login), and a path, query or fragment. Its
// errors never repeat what may be a password.
func ParseSMTP(rawURL string) error {
	_, err := parseSMTP(rawURL)
	return err
}

func parseSMTP(rawURL string) (endpoint, error) {
	// Judged on the text, not on what url.Parse makes of it: a password
	// with "#", "/" or "?" in it parses as a port, a path or a query, and
	// the URL as one without credentials. An SMTP URL has no use for "@".
	if strings.Contains(rawURL, "@") {
		return endpoint{}, fmt.Errorf("SMTP URL %q: has credentials; give them in AUDITOR_SMTP_USERNAME and AUDITOR_SMTP_PASSWORD instead", shownURL(rawURL))
	}
	if strings.ContainsAny(rawURL, "?#") {
		return endpoint{}, fmt.Errorf("SMTP URL %q: want only a scheme, a host and a port", shownURL(rawURL))
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return endpoint{}, fmt.Errorf("SMTP URL: %w (want smtp://host:587 or smtps://host:465)", parseError(err))
	}
	var e endpoint
	switch strings.ToLower(u.Scheme) {
	case "smtp":
		e.port = "587"
	case "smtps":
		e.port, e.implicit = "465", true
	default:
		return endpoint{}, fmt.Errorf("SMTP URL %q: scheme %q (want smtp://host:587 with STARTTLS, or smtps://host:465)", shownURL(rawURL), u.Scheme)
	}
	if u.Opaque != "" || (u.Path != "" && u.Path != "/") {
		return endpoint{}, fmt.Errorf("SMTP URL %q: want only a scheme, a host and a port", shownURL(rawURL))
	}
	e.host = u.Hostname()
	if e.host == "" {
		return endpoint{}, fmt.Errorf("SMTP URL %q: no host", shownURL(rawURL))
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return endpoint{}, fmt.Errorf("SMTP URL %q: port %q (want 1-65535)", shownURL(rawURL), p)
		}
		e.port = p
	}
	e.loopback = awsconn.IsLoopback(e.host)
	return e, nil
}

// parseError is url.Parse's error, for a message: its reason alone
// (url.Parse quotes the whole URL). Its callers refuse a URL with "@" first:
// with a password url.Parse misread, the reason would quote what it took for
// a port or a host.
func parseError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// shownURL is s, a URL refused for what it may hide, for a message:
// without what may be a login, a query or a fragment (awsconn.RedactURL),
// on one short line.
func shownURL(s string) string {
	return OneLine(awsconn.RedactURL(s), 200)
}

// Send builds m (see Message.Build; a message whose attachments do not all
// fit within its MaxSize is not sent: the caller fits them first) and
// delivers it to every recipient in one SMTP transaction.
//
// A temporary failure (a 4xx reply, a connection that drops or cannot be
// opened, a timeout) is tried again, up to Attempts in all, after Backoff,
// then twice that, and so on; a permanent one (a 5xx reply, STARTTLS not
// offered on smtp:// to a host that is not loopback, a certificate that does
// not verify, AUTH refused or not offered) is returned at once. A recipient
// refused fails the whole message, so that a retry never mails anyone
// twice. A message larger than the SIZE the server advertises is not sent:
// the error is TooBig, with the server's MaxSize, and permanent.
//
// Once the whole message is sent (the final "." of DATA has left this
// machine: written, and none of it still waiting in the kernel, where the
// system says so (Linux); elsewhere, once written), only the server's
// reply says whether it was delivered. A 4xx or 5xx reply is a failure as
// above; no reply at all (the connection drops, the time runs out) is an
// *Error with Unknown set, returned at once: the server may have accepted
// the message, and sending it again could deliver it twice. ctx ending
// while the reply is awaited does not cut the wait at once, which Timeout
// still bounds, and Grace once ctx has ended: a reply that comes is the
// message's outcome. ctx ending, or the
// time running out, while the end of the message is written but still
// waits in the kernel (a server that stopped reading) is a failure before
// the message was sent whole: the connection is reset, so that the rest
// never leaves, and the error is not Unknown.
//
// Every error is an *Error; when ctx ends before the whole message is
// sent, the error wraps ctx.Err().
func (s SMTP) Send(ctx context.Context, m Message) error {
	ep, err := parseSMTP(s.URL)
	if err != nil {
		return &Error{Op: "checking the SMTP URL", Err: err}
	}
	from, to, err := m.envelope()
	if err != nil {
		return &Error{Op: "building the message", Server: ep.addr(), Err: err}
	}
	raw, err := m.whole()
	if err != nil {
		return &Error{Op: "building the message", Server: ep.addr(), Err: err}
	}
	attempts := s.Attempts
	if attempts <= 0 {
		attempts = DefaultAttempts
	}
	wait := s.Backoff
	if wait <= 0 {
		wait = DefaultBackoff
	}
	for n := 1; ; n++ {
		e := s.attempt(ctx, ep, from, to, raw)
		if e == nil {
			return nil
		}
		e.Server, e.Attempts = ep.addr(), n
		if e.Unknown {
			// The server may have it: ctx (a signal) did not decide that,
			// and another attempt could deliver it twice.
			return e
		}
		if ctx.Err() != nil {
			e.Temporary = false
			e.Err = fmt.Errorf("%w (%w)", e.Err, ctx.Err())
			return e
		}
		if !e.Temporary || n >= attempts {
			return e
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			e.Err = fmt.Errorf("%w (then %w)", e.Err, ctx.Err())
			e.Temporary = false
			return e
		case <-t.C:
		}
		wait *= 2
	}
}

// attempt makes one delivery attempt; the *Error it returns has Op, Code,
// Temporary, Unknown and Err set.
func (s SMTP) attempt(ctx context.Context, ep endpoint, from string, to []string, raw []byte) *Error {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultSMTPTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	dial := s.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	nc, err := dial(ctx, "tcp", ep.addr())
	if err != nil {
		return s.fail("connecting", err)
	}
	wc := &writeWatch{Conn: nc}
	var conn net.Conn = wc // TLS, for smtps, goes over wc
	// The deadline bounds every read and write. Ending ctx ends them too,
	// until the end of the message is sent whole (see sentwhole.go): from
	// then on, the server's reply decides whether it was delivered, and
	// cutting the wait would leave that unknown (see Send).
	deadline, _ := ctx.Deadline()
	_ = wc.SetDeadline(deadline)
	var (
		mu sync.Mutex
		// written is set once the message's body is written; its end
		// follows.
		written bool
		// left is, once the connection was aborted with the end of the
		// message still in the kernel, how many bytes were.
		left int
	)
	finished := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		if !written {
			_ = wc.SetDeadline(time.Unix(1, 0))
			mu.Unlock()
			return
		}
		mu.Unlock()
		// The end is being written, or waits in the kernel, or has left:
		// its reply is waited for Grace at most, and the connection cut
		// only while some of it has not left.
		if s.Grace != 0 {
			wait := max(s.Grace, 0)
			if d, ok := ctx.Deadline(); !ok || time.Until(d) > wait {
				_ = wc.SetDeadline(time.Now().Add(wait))
			}
		}
		for {
			n, known := unsent(nc)
			if !known {
				return
			}
			if n > 0 {
				mu.Lock()
				left = n
				mu.Unlock()
				abort(nc)
				return
			}
			select {
			case <-finished:
				return
			case <-time.After(pollUnsent):
			}
		}
	})
	defer stop()
	defer close(finished)
	defer wc.Close()

	tlsConfig := s.tlsConfig(ep)
	if ep.implicit {
		tc := tls.Client(conn, tlsConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			return s.fail("TLS handshake", err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, ep.host)
	if err != nil {
		return s.fail("greeting", err)
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return s.fail("EHLO", err)
	}
	if !ep.implicit {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tlsConfig); err != nil {
				return s.fail("STARTTLS", err)
			}
		} else if !ep.loopback {
			return &Error{Op: "STARTTLS", Err: errors.New("the server does not offer STARTTLS, which smtp:// requires except to a loopback host (smtps:// is TLS from the first byte)")}
		}
	}
	if s.Username != "" {
		if e := s.auth(c, ep); e != nil {
			return e
		}
	}
	// SIZE, read after STARTTLS's second EHLO: a message over it would be
	// sent whole only to be refused at its end.
	var limit int64
	if ok, p := c.Extension("SIZE"); ok {
		limit, _ = strconv.ParseInt(strings.TrimSpace(p), 10, 64)
	}
	if limit > 0 && int64(len(raw)) > limit {
		return &Error{Op: "SIZE", MaxSize: limit, Err: fmt.Errorf("the message is %d bytes, and the server takes at most %d (its SIZE)", len(raw), limit)}
	}
	// The library sends the path as given: RFC 5321's grammar wants it in
	// angle brackets, and a server that holds to it refuses a bare address
	// (Gmail: 555 5.5.2 Syntax error).
	if err := c.Mail("<" + from + ">"); err != nil {
		return s.fail("MAIL FROM", err)
	}
	for _, r := range to {
		if err := c.Rcpt("<" + r + ">"); err != nil {
			return s.fail("RCPT TO <"+OneLine(r, 100)+">", err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return s.fail("DATA", err)
	}
	if _, err := w.Write(raw); err != nil {
		return s.fail("sending the message", err)
	}
	mu.Lock()
	if err := ctx.Err(); err != nil {
		// ctx ended and its AfterFunc cut the connection, or is about to:
		// the end of the message is not sent.
		mu.Unlock()
		return s.fail("sending the message", err)
	}
	written = true
	mu.Unlock()
	// Close writes the final "." and reads the reply; the library drops
	// the error of that write, which wc keeps.
	if err := w.Close(); err != nil {
		var te *textproto.Error
		if errors.As(err, &te) {
			return s.fail("end of DATA", err)
		}
		mu.Lock()
		n := left
		mu.Unlock()
		if n == 0 {
			if m, known := unsent(nc); known && m > 0 {
				n = m
				abort(nc)
			}
		}
		if n > 0 {
			// The server cannot have the end of the message: it was
			// not sent whole, and the abort drops what is left.
			return s.fail("sending the message", fmt.Errorf("the server had not taken the end of the message (%d bytes not sent): %w", n, err))
		}
		e := s.fail("end of DATA", err)
		if wc.err == nil {
			// Sent whole, and no reply: the server may have the message.
			e.Unknown, e.Temporary = true, false
		}
		return e
	}
	// The message is accepted: a failed QUIT changes nothing, and after a
	// signal it is not waited for.
	if ctx.Err() == nil {
		_ = c.Quit()
	}
	return nil
}

// writeWatch is a connection that keeps the first error of a write: one
// means that what was being written did not all leave, so that the server
// cannot have the end of a message whose last write failed.
type writeWatch struct {
	net.Conn
	err error
}

func (w *writeWatch) Write(p []byte) (int, error) {
	n, err := w.Conn.Write(p)
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

// auth logs in with PLAIN, or LOGIN when the server offers only that.
func (s SMTP) auth(c *smtp.Client, ep endpoint) *Error {
	ok, offered := c.Extension("AUTH")
	if !ok {
		return &Error{Op: "AUTH", Err: errors.New("the server offers no AUTH, and a username is set")}
	}
	mechs := strings.Fields(strings.ToUpper(offered))
	var a smtp.Auth
	switch {
	case slices.Contains(mechs, "PLAIN"):
		a = smtp.PlainAuth("", s.Username, s.Password, ep.host, ep.loopback)
	case slices.Contains(mechs, "LOGIN"):
		a = smtp.LoginAuth(s.Username, s.Password, ep.host, ep.loopback)
	default:
		return &Error{Op: "AUTH", Err: fmt.Errorf("the server offers neither PLAIN nor LOGIN (it offers %s)", OneLine(offered, 100))}
	}
	if err := c.Auth(a); err != nil {
		return s.failAuth(err)
	}
	return nil
}

// failAuth is fail for the login, without the server's words: a server
// may echo what carried the password, in pieces too short for redact to
// tell from words ("AG1ha Wx1c2 ..."), and its reply code says enough.
func (s SMTP) failAuth(err error) *Error {
	e := s.fail("AUTH", err)
	var te *textproto.Error
	switch {
	case errors.As(err, &te):
		e.Err = &textproto.Error{Code: te.Code, Msg: "the server did not accept the login"}
	case errors.Is(err, smtp.ErrUnexpectedServerResponse):
		// LOGIN's challenge after the password, which the library quotes.
		e.Err = redactedError{msg: "the server asked for more than LOGIN's user name and password", err: err}
	}
	return e
}

func (s SMTP) tlsConfig(ep endpoint) *tls.Config {
	var c *tls.Config
	if s.TLSConfig != nil {
		c = s.TLSConfig.Clone()
	} else {
		c = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if c.ServerName == "" {
		c.ServerName = ep.host
	}
	return c
}

// fail classifies err, the failure of step op, and cleans it of secrets.
func (s SMTP) fail(op string, err error) *Error {
	e := &Error{Op: op, Temporary: temporary(err)}
	var te *textproto.Error
	if errors.As(err, &te) {
		e.Code = te.Code
		e.Err = &textproto.Error{Code: te.Code, Msg: s.clean(te.Msg)}
		return e
	}
	e.Err = redactedError{msg: s.clean(err.Error()), err: err}
	return e
}

// clean makes text a server or a library wrote fit for an error: redacted
// while it is whole, then one line of at most maxServerText runes. Cut
// first, a blob cut in two would no longer match and its first part would
// show.
func (s SMTP) clean(text string) string {
	return OneLine(s.redact(text), maxServerText)
}

// minSecretPiece is the shortest piece of an encoded secret that redact
// removes: shorter ones would match ordinary words by chance.
const minSecretPiece = 6

// redact removes the password, the AUTH PLAIN and LOGIN blobs that carry
// it, and any run of base64 characters that holds a piece of those blobs (a
// server may echo the AUTH line cut to its own length), from text a server
// or a library wrote.
func (s SMTP) redact(text string) string {
	if s.Password == "" {
		return text
	}
	blobs := []string{
		base64.StdEncoding.EncodeToString([]byte("\x00" + s.Username + "\x00" + s.Password)),
		base64.StdEncoding.EncodeToString([]byte(s.Password)),
	}
	for _, secret := range append([]string{s.Password}, blobs...) {
		text = strings.ReplaceAll(text, secret, "***")
	}
	var b strings.Builder
	for len(text) > 0 {
		i := strings.IndexFunc(text, isBase64)
		if i < 0 {
			b.WriteString(text)
			break
		}
		b.WriteString(text[:i])
		text = text[i:]
		run := text
		if j := strings.IndexFunc(text, func(r rune) bool { return !isBase64(r) }); j >= 0 {
			run = text[:j]
		}
		text = text[len(run):]
		if holdsPiece(run, blobs) {
			run = "***"
		}
		b.WriteString(run)
	}
	return b.String()
}

// holdsPiece reports whether run holds minSecretPiece or more characters
// in a row of one of blobs.
func holdsPiece(run string, blobs []string) bool {
	if len(run) < minSecretPiece {
		return false
	}
	for _, blob := range blobs {
		for i := 0; i+minSecretPiece <= len(blob); i++ {
			if strings.Contains(run, blob[i:i+minSecretPiece]) {
				return true
			}
		}
	}
	return false
}

func isBase64(r rune) bool {
	return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '+' || r == '/' || r == '='
}

// redactedError is an error whose text is cleaned but whose chain (for
// errors.Is and errors.As: net.Error, context.DeadlineExceeded, ...) is
// kept.
type redactedError struct {
	msg string
	err error
}

func (e redactedError) Error() string { return e.msg }
func (e redactedError) Unwrap() error { return e.err }

// temporary reports whether a later attempt might succeed where err failed.
func temporary(err error) bool {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code >= 400 && te.Code < 500
	}
	// A certificate that does not verify, or a server that does not speak
	// TLS, will not change in a minute.
	var (
		verr *tls.CertificateVerificationError
		uerr x509.UnknownAuthorityError
		herr x509.HostnameError
		cerr x509.CertificateInvalidError
		rerr tls.RecordHeaderError
		aerr tls.AlertError
	)
	if errors.As(err, &verr) || errors.As(err, &uerr) || errors.As(err, &herr) || errors.As(err, &cerr) ||
		errors.As(err, &rerr) || errors.As(err, &aerr) {
		return false
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return !dns.IsNotFound
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}
