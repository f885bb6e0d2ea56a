// Package smtptest runs an SMTP server in a test's process, on loopback, for
// tests of code that sends mail: STARTTLS or implicit TLS with a certificate
// made for the test, AUTH PLAIN when asked, replies scripted per
// transaction, connections dropped on purpose, and the reply to a message
// it kept delayed or never sent. It keeps every message it accepts.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Stage is the command a Reject function is asked about.
type Stage string

// The stages of a transaction that Options.Reject can refuse.
const (
	StageMail Stage = "MAIL"
	StageRcpt Stage = "RCPT"
	StageData Stage = "DATA"
)

// Reply is an SMTP reply that refuses a command, such as {451, "try
// later"} or {550, "no such user"}.
type Reply struct {
	Code    int
	Message string
}

// TLS is how the server secures connections.
type TLS int

const (
	// STARTTLS offers the STARTTLS extension on a plain connection.
	STARTTLS TLS = iota
	// Implicit is TLS from the first byte (smtps).
	Implicit
	// NoTLS offers no TLS at all.
	NoTLS
)

// Options configure a Server. The zero value offers STARTTLS with a
// certificate for localhost and 127.0.0.1, asks for no AUTH, and accepts
// every message.
type Options struct {
	TLS TLS
	// Hosts are the names and IPs the certificate is for; nil means
	// "localhost" and "127.0.0.1".
	Hosts []string
	// Username and Password, when Username is set, make AUTH PLAIN
	// required before MAIL FROM; another pair is refused with 535.
	Username, Password string
	// Reject is asked at MAIL FROM, at each RCPT TO and at the end of each
	// DATA, with n the number of the transaction (MAIL FROM commands so far,
	// from 1); a non-nil Reply refuses the command.
	Reject func(stage Stage, n int) *Reply
	// Drop is how many connections, the first ones, are closed as soon as
	// they are accepted, before the greeting.
	Drop int
	// DropAfterData is asked at the end of each DATA that Reject did not
	// refuse, with n the number of the transaction, once the message is
	// kept: true closes the connection without a reply, as a server that
	// crashed, or a network that failed, after taking the message would.
	// The client cannot tell that the message was delivered.
	DropAfterData func(n int) bool
	// DelayAfterData is asked at the end of each DATA that Reject did not
	// refuse and DropAfterData did not drop, with n the number of the
	// transaction, once the message is kept: the server waits that long
	// before it replies 250 (a slow queue, a content scan).
	DelayAfterData func(n int) time.Duration
	// MaxSize is the largest message the server takes, in bytes, which it
	// advertises in EHLO's SIZE and enforces with a 552 reply at the end
	// of DATA; zero means 50 MiB.
	MaxSize int64
}

// Message is one message the server accepted (kept), whether or not the
// client got the reply that says so.
type Message struct {
	From string
	To   []string
	Data []byte
}

// Server is a running SMTP server. Its methods are safe for concurrent use.
type Server struct {
	// Addr is its host:port on 127.0.0.1.
	Addr string
	// Roots trusts its certificate; CertPEM is that certificate in PEM,
	// for a client that reads a CA bundle file.
	Roots   *x509.CertPool
	CertPEM []byte

	opts Options
	srv  *smtp.Server
	// closed ends a reply's delay when the test ends.
	closed chan struct{}

	mu           sync.Mutex
	messages     []Message
	transactions int
	connections  int
	auths        int
}

// NewServer starts a server that stops when the test ends.
func NewServer(t testing.TB, opts Options) *Server {
	t.Helper()
	hosts := opts.Hosts
	if hosts == nil {
		hosts = []string{"localhost", "127.0.0.1"}
	}
	cert, roots, err := certificate(hosts)
	if err != nil {
		t.Fatalf("smtptest: making a certificate: %v", err)
	}
	s := &Server{Roots: roots, CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), opts: opts, closed: make(chan struct{})}
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "smtptest.local"
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.MaxMessageBytes = 50 << 20
	if opts.MaxSize > 0 {
		srv.MaxMessageBytes = opts.MaxSize
	}
	srv.ErrorLog = discard{}
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if opts.TLS == NoTLS {
		// Plain text only: AUTH is then allowed without TLS, as a relay
		// on loopback would.
		srv.AllowInsecureAuth = true
	} else {
		srv.TLSConfig = tlsConfig
	}
	s.srv = srv

	var l net.Listener
	l, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: listening: %v", err)
	}
	if opts.TLS == Implicit {
		l = tls.NewListener(l, tlsConfig)
	}
	s.Addr = l.Addr().String()
	l = &dropListener{Listener: l, s: s}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	t.Cleanup(func() {
		close(s.closed)
		_ = srv.Close()
		// Close closes only the listeners Serve has taken: one that the
		// goroutine has not yet handed over would leave Serve accepting
		// for ever (a test that stops at once, before its first mail).
		_ = l.Close()
		<-done
	})
	return s
}

// TLSConfig returns a client configuration that trusts the server, for the
// name host.
func (s *Server) TLSConfig(host string) *tls.Config {
	return &tls.Config{RootCAs: s.Roots, ServerName: host, MinVersion: tls.VersionTLS12}
}

// Messages returns the messages accepted so far, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Transactions returns the number of MAIL FROM commands received.
func (s *Server) Transactions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transactions
}

// Connections returns the number of connections accepted, dropped ones
// included.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connections
}

// Auths returns the number of AUTH attempts, refused ones included.
func (s *Server) Auths() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.auths
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: s, conn: c.Conn()}, nil
}

// dropListener closes the first Options.Drop connections it accepts.
type dropListener struct {
	net.Listener
	s *Server
}

func (l *dropListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.s.mu.Lock()
		l.s.connections++
		drop := l.s.connections <= l.s.opts.Drop
		l.s.mu.Unlock()
		if !drop {
			return c, nil
		}
		_ = c.Close()
	}
}

type session struct {
	s      *Server
	conn   net.Conn // to drop after DATA
	authed bool
	n      int
	from   string
	to     []string
}

var _ smtp.AuthSession = (*session)(nil)

func (ss *session) AuthMechanisms() []string {
	if ss.s.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain || ss.s.opts.Username == "" {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		ss.s.mu.Lock()
		ss.s.auths++
		ss.s.mu.Unlock()
		if username != ss.s.opts.Username || password != ss.s.opts.Password {
			return smtp.ErrAuthFailed
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) reject(stage Stage) error {
	if ss.s.opts.Reject == nil {
		return nil
	}
	if r := ss.s.opts.Reject(stage, ss.n); r != nil {
		return &smtp.SMTPError{Code: r.Code, Message: r.Message}
	}
	return nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.opts.Username != "" && !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.s.mu.Lock()
	ss.s.transactions++
	ss.n = ss.s.transactions
	ss.s.mu.Unlock()
	ss.from, ss.to = from, nil
	return ss.reject(StageMail)
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := ss.reject(StageRcpt); err != nil {
		return err
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, r); err != nil {
		return err
	}
	if err := ss.reject(StageData); err != nil {
		return err
	}
	ss.s.mu.Lock()
	ss.s.messages = append(ss.s.messages, Message{From: ss.from, To: ss.to, Data: buf.Bytes()})
	ss.s.mu.Unlock()
	if f := ss.s.opts.DropAfterData; f != nil && f(ss.n) {
		// The reply that go-smtp then writes fails on the closed
		// connection: the client reads the end of the stream instead.
		_ = ss.conn.Close()
		return nil
	}
	if f := ss.s.opts.DelayAfterData; f != nil {
		if d := f(ss.n); d > 0 {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ss.s.closed:
			}
		}
	}
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

type discard struct{}

func (discard) Printf(string, ...any) {}
func (discard) Println(...any)        {}

// certificate makes a self-signed certificate for hosts and a pool that
// trusts it.
func certificate(hosts []string) (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "smtptest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, roots, nil
}
