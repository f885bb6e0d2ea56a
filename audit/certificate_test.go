package audit_test

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/internal/tlstest"
)

// TestNoAnswerTellsTheCertificate: a server certificate that could not be
// verified was "TLS handshake failed", the x509 error dropped, so that
// whoever sat behind a TLS-inspecting proxy (whose CA the machine trusts,
// and the SDK does not until AWS_CA_BUNDLE names it) was sent to check
// --region. The cause says what was wrong with the certificate, in plain
// words with x509's after them, and the error says it was the
// certificate; a handshake that failed otherwise stays as it was.
func TestNoAnswerTellsTheCertificate(t *testing.T) {
	ca := tlstest.NewCA(t, "Corporate Inspection CA")
	trusting := x509.NewCertPool()
	trusting.AppendCertsFromPEM(ca.PEM)
	hour := time.Hour
	tests := []struct {
		name string
		leaf tlstest.Leaf
		// host replaces 127.0.0.1 in the server's URL.
		host  string
		roots *x509.CertPool // nil: the system's
		// maxTLS caps the client's version, 0 for none.
		maxTLS    uint16
		serverMin uint16
		want      audit.CertificateProblem
		cause     string
	}{
		{name: "a CA not trusted here",
			want: audit.CertificateUntrusted, cause: "the server's certificate is not trusted (x509: certificate signed by unknown authority)"},
		{name: "another host's", leaf: tlstest.Leaf{DNSNames: []string{"ssm.example.com"}}, host: "localhost", roots: trusting,
			want: audit.CertificateOtherHost, cause: "the server's certificate is for another host (x509: certificate is valid for ssm.example.com, not localhost)"},
		{name: "expired", leaf: tlstest.Leaf{NotBefore: time.Now().Add(-2 * hour), NotAfter: time.Now().Add(-hour)}, roots: trusting,
			want: audit.CertificateExpired, cause: "the server's certificate is out of date (x509: certificate has expired or is not yet valid: current time"},
		{name: "not a certificate's fault", roots: trusting, maxTLS: tls.VersionTLS12, serverMin: tls.VersionTLS13,
			cause: "TLS handshake failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := ca.NewServer(t, nil, tt.leaf)
			if tt.serverMin != 0 {
				srv.TLS.MinVersion = tt.serverMin
			}
			url := srv.URL
			if tt.host != "" {
				url = strings.Replace(url, "127.0.0.1", tt.host, 1)
			}
			client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: tt.roots, MaxVersion: tt.maxTLS}}}
			_, err := client.Get(url)
			u, none := audit.NoAnswer(err)
			if !none {
				t.Fatalf("NoAnswer(%v) = false, want no answer", err)
			}
			if !strings.HasPrefix(u.Cause, tt.cause) || u.Certificate != tt.want {
				t.Errorf("cause %q, certificate %q; want %q..., %q", u.Cause, u.Certificate, tt.cause, tt.want)
			}
		})
	}
}

// TestNoAnswerTellsTheProxysCertificate: through an https:// proxy whose
// own certificate could not be verified, the cause said "the server's
// certificate", of an endpoint no handshake reached. It is the proxy's.
func TestNoAnswerTellsTheProxysCertificate(t *testing.T) {
	ca := tlstest.NewCA(t, "Proxy CA")
	proxy := ca.NewServer(t, nil, tlstest.Leaf{})
	proxyURL, err := url.Parse(proxy.URL)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL)}}
	_, err = client.Get("https://ssm.example.com")
	u, none := audit.NoAnswer(err)
	if !none {
		t.Fatalf("NoAnswer(%v) = false, want no answer", err)
	}
	if want := "the proxy's certificate is not trusted (x509: certificate signed by unknown authority)"; u.Cause != want || !u.ThroughProxy || u.Certificate != audit.CertificateUntrusted {
		t.Errorf("cause %q, through the proxy %v, certificate %q; want %q, true, %q", u.Cause, u.ThroughProxy, u.Certificate, want, audit.CertificateUntrusted)
	}
}
