// Package tlstest makes certificates for tests of code that reaches
// servers over TLS: a certificate authority of the test's own, which no
// system trusts (as a TLS-inspecting proxy's is, on a machine not told of
// it), and HTTPS servers on loopback whose certificates it signs, with the
// names and the validity a test asks for (another host's, an expired one).
package tlstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// CA is a certificate authority made for one test. Its methods are safe
// for concurrent use.
type CA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	// PEM is the CA's certificate, PEM-encoded: what AWS_CA_BUNDLE names.
	PEM []byte
}

// NewCA makes a CA whose subject's common name is name.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &CA{cert: cert, key: key, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// WriteBundle writes the CA's certificate to a file in a temporary
// directory of t and returns its path.
func (ca *CA) WriteBundle(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, ca.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Leaf says what a server's certificate names and when it is valid.
type Leaf struct {
	// DNSNames and IPs are the names the certificate is for; none of
	// either means localhost, 127.0.0.1 and ::1.
	DNSNames []string
	IPs      []net.IP
	// NotBefore and NotAfter bound its validity; zero means from an hour
	// ago to a day from now.
	NotBefore, NotAfter time.Time
}

// Certificate returns a certificate for leaf signed by ca.
func (ca *CA) Certificate(t testing.TB, leaf Leaf) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if len(leaf.DNSNames) == 0 && len(leaf.IPs) == 0 {
		leaf.DNSNames = []string{"localhost"}
		leaf.IPs = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	}
	if leaf.NotBefore.IsZero() {
		leaf.NotBefore = time.Now().Add(-time.Hour)
	}
	if leaf.NotAfter.IsZero() {
		leaf.NotAfter = time.Now().Add(24 * time.Hour)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "tlstest server"},
		DNSNames:     leaf.DNSNames,
		IPAddresses:  leaf.IPs,
		NotBefore:    leaf.NotBefore,
		NotAfter:     leaf.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// Server is an HTTPS server on loopback that counts the connections it
// accepts: a client that gives up on its certificate closes each one
// before any request reaches the handler.
type Server struct {
	*httptest.Server
	accepted atomic.Int64
}

// Accepted returns how many connections the server has accepted.
func (s *Server) Accepted() int64 { return s.accepted.Load() }

// NewServer starts an HTTPS server of h with a certificate for leaf signed
// by ca, closed when t ends. Its URL is https://127.0.0.1:PORT.
func (ca *CA) NewServer(t testing.TB, h http.Handler, leaf Leaf) *Server {
	t.Helper()
	if h == nil {
		h = http.NotFoundHandler()
	}
	s := &Server{Server: httptest.NewUnstartedServer(h)}
	s.Listener = countingListener{s.Listener, &s.accepted}
	s.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Certificate(t, leaf)}}
	// The handshakes that fail on purpose are no news.
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}
