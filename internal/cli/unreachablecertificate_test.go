package cli

import (
	"path/filepath"
	"strings"
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
// with the certificate and what to set, after one attempt per call (no
// retry mends a certificate), and the certificate's names, which are
// outside text, reach the terminal plain.
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
			// One attempt per call: at most one call per worker before
			// the account-region is given up on.
			if n := srv.Accepted(); n > 2 || !strings.Contains(got.stderr, " 0 retried)") {
				t.Errorf("%d connections, want at most --concurrency (2), none retried:\n%s", n, got.stderr)
			}
		})
	}
}
