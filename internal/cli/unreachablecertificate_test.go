package cli

import (
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/internal/tlstest"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestUnreachableCertificateNamed: behind a TLS-inspecting proxy whose CA
// AWS_CA_BUNDLE did not name, a run retried every call eight times and
// said "cannot reach https://ssm...: TLS handshake failed; check --region"
// (or "check AWS_ENDPOINT_URL", of an endpoint that was right): the x509
// error, which says what was wrong, was dropped. It says what was wrong
// with the certificate and what to set, and the certificate's names, which
// are outside text, reach the terminal plain. The calls are retried (see
// TestCertificateOfOneNodeRetried), and the run still gives up on the
// account-region after the first calls' attempts.
func TestUnreachableCertificateNamed(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	serve(t, handFleet(false), ssmsim.Options{}) // STS
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\ni-0123456789abcdef2\n")
	ca := tlstest.NewCA(t, "Corporate Inspection CA")
	bundle := ca.WriteBundle(t)
	const untrusted = "set AWS_CA_BUNDLE or the profile's ca_bundle to the CA that signs it (a TLS-inspecting proxy's)"
	hour := time.Hour
	tests := []struct {
		name string
		leaf tlstest.Leaf
		env  map[string]string
		// flag sets the endpoint with --endpoint-url, else with
		// AWS_ENDPOINT_URL.
		flag bool
		// host replaces 127.0.0.1 in the server's URL.
		host      string
		want, not []string
	}{
		{name: "a CA not trusted here", flag: true,
			want: []string{"the server's certificate is not trusted (x509: certificate signed by unknown authority); " + untrusted},
			not:  []string{"--endpoint-url", "--region", "TLS handshake failed"}},
		{name: "a CA not trusted here, AWS_ENDPOINT_URL",
			want: []string{"the server's certificate is not trusted (x509: certificate signed by unknown authority); " + untrusted},
			not:  []string{"check AWS_ENDPOINT_URL", "--region", "TLS handshake failed"}},
		{name: "another host's", flag: true, host: "localhost", env: map[string]string{"AWS_CA_BUNDLE": bundle},
			leaf: tlstest.Leaf{DNSNames: []string{"ssm.example.com", "evil\x1b[2J.example"}},
			want: []string{"the server's certificate is for another host (x509: certificate is valid for ssm.example.com, evil",
				"not localhost); check --endpoint-url, which set this endpoint"},
			not: []string{"\x1b", "AWS_CA_BUNDLE", "--region"}},
		{name: "expired", flag: true, env: map[string]string{"AWS_CA_BUNDLE": bundle},
			leaf: tlstest.Leaf{NotBefore: time.Now().Add(-2 * hour), NotAfter: time.Now().Add(-hour)},
			want: []string{"the server's certificate is out of date (x509: certificate has expired", "this machine's clock"},
			not:  []string{"--region", "TLS handshake failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			srv := ca.NewServer(t, nil, tt.leaf)
			url := srv.URL
			if tt.host != "" {
				url = strings.Replace(url, "127.0.0.1", tt.host, 1)
			}
			args := []string{"run", "--instances", ids, "--region", "us-east-1", "--out", filepath.Join(t.TempDir(), "out"),
				"--max-attempts", "4", "--concurrency", "2", "--quiet"}
			if tt.flag {
				args = append(args, "--endpoint-url", url)
			} else {
				t.Setenv("AWS_ENDPOINT_URL", url)
			}
			got := runCLI(t, "", args...)
			if got.code != int(exitFatal) || !strings.Contains(got.stderr, "cannot reach "+url+": ") {
				t.Errorf("exit %d, want %d naming %s\n%s", got.code, exitFatal, url, got.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(got.stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, got.stderr)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(got.stderr, w) {
					t.Errorf("stderr says %q:\n%s", w, got.stderr)
				}
			}
			// At most one call per worker, each with its attempts,
			// before the account-region is given up on.
			if n := srv.Accepted(); n > 2*4 {
				t.Errorf("%d connections, want at most --concurrency (2) times --max-attempts (4):\n%s", n, got.stderr)
			}
		})
	}
}

// TestCertificateOfOneNodeRetried: behind a load balancer or a proxy pool
// one node of which serves a wrong certificate, a run gave up on the whole
// account-region at the first handshake that met it ("audited 0
// instances", exit 4), where before it retried the call and reached a good
// node. A certificate error is retried like any other failed connection:
// the run audits every instance. Every third handshake here meets the bad
// node, and the server closes each connection after its answer, so that
// every attempt makes a new handshake.
func TestCertificateOfOneNodeRetried(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 7, Size: 40})
	serve(t, fleet, ssmsim.Options{}) // STS
	ca := tlstest.NewCA(t, "Corporate Inspection CA")
	t.Setenv("AWS_CA_BUNDLE", ca.WriteBundle(t))
	good := ca.Certificate(t, tlstest.Leaf{})
	bad := ca.Certificate(t, tlstest.Leaf{DNSNames: []string{"misconfigured-node.example"}})
	var handshakes atomic.Int64
	// Not httptest's StartTLS, which adds a certificate of its own that a
	// client not sending SNI (an IP address) always gets.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: ssmsim.NewServer(fleet, ssmsim.Options{}), ErrorLog: log.New(io.Discard, "", 0),
		TLSConfig: &tls.Config{GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			if handshakes.Add(1)%3 == 1 {
				return &bad, nil
			}
			return &good, nil
		}}}
	srv.SetKeepAlivesEnabled(false)
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })
	url := "https://" + ln.Addr().String()

	var ids strings.Builder
	for _, id := range fleet.IDs() {
		ids.WriteString(id + "\n")
	}
	got := runCLI(t, "", "run", "--instances", writeFile(t, "ids.txt", ids.String()), "--region", "us-east-1",
		"--endpoint-url", url, "--out", filepath.Join(t.TempDir(), "out"), "--max-attempts", "8", "--concurrency", "2")
	if got.code == int(exitFatal) || !strings.Contains(got.stderr, "audited 40 instances") {
		t.Errorf("exit %d, want every instance audited\n%s", got.code, got.stderr)
	}
	if handshakes.Load() < 3 || strings.Contains(got.stderr, " 0 retried)") {
		t.Errorf("%d handshakes, want calls that met the bad node retried:\n%s", handshakes.Load(), got.stderr)
	}
}
