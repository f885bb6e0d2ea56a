package cli

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/auditor-dev/auditor/internal/tlstest"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestUnreachableCauseNamed: the line that says why nothing could be
// audited names the real cause and what to check, still with exit 4. https
// to a port that speaks plain HTTP said "no answer"; a proxy that refuses
// was "cannot reach https://ssm...: connection refused ... check --region
// and --endpoint-url", which sent people to the wrong setting.
func TestUnreachableCauseNamed(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")

	t.Run("https to a plain-HTTP port", func(t *testing.T) {
		url, _ := serve(t, handFleet(false), ssmsim.Options{})
		https := strings.Replace(url, "http://", "https://", 1)
		got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", https, "--region", "us-east-1",
			"--out", filepath.Join(t.TempDir(), "out"), "--max-attempts", "2", "--quiet")
		if want := "cannot reach " + https + ": the server answered plain HTTP: use http://"; got.code != int(exitFatal) || !strings.Contains(got.stderr, want) {
			t.Errorf("exit %d, want %d saying %q\n%s", got.code, exitFatal, want, got.stderr)
		}
	})

	t.Run("a proxy that refuses", func(t *testing.T) {
		if testing.Short() {
			t.Skip("runs the binary (net/http reads the proxy from the environment once a process): skipped with -short")
		}
		bin := binary(t)
		// STS is the simulator on this machine, which no proxy serves;
		// SSM is the region's endpoint, reached through the proxy.
		serve(t, handFleet(false), ssmsim.Options{})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		proxy := ln.Addr().String()
		ln.Close()
		code, out := runThroughProxy(t, bin, ids, proxy)
		if code != int(exitFatal) {
			t.Errorf("exit %d, want %d\n%s", code, exitFatal, out)
		}
		want := "cannot reach https://ssm.us-east-1.amazonaws.com through the proxy " + proxy + ": connection refused"
		if !strings.Contains(out, want) || !strings.Contains(out, "HTTPS_PROXY") || !strings.Contains(out, "NO_PROXY") {
			t.Errorf("stderr does not say %q and to check HTTPS_PROXY and NO_PROXY:\n%s", want, out)
		}
		if strings.Contains(out, "--endpoint-url") || strings.Contains(out, "proxy-secret") {
			t.Errorf("stderr sends to --endpoint-url, or repeats the proxy's password:\n%s", out)
		}
	})

	t.Run("a proxy that refuses the tunnel", func(t *testing.T) {
		if testing.Short() {
			t.Skip("runs the binary (net/http reads the proxy from the environment once a process): skipped with -short")
		}
		bin := binary(t)
		// As above; the proxy answers, and refuses the tunnel: it was
		// "cannot reach https://ssm...: no answer; check --region".
		serve(t, handFleet(false), ssmsim.Options{})
		proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Proxy-Authenticate", `Basic realm="proxy"`)
			w.WriteHeader(http.StatusProxyAuthRequired)
		}))
		defer proxy.Close()
		addr := strings.TrimPrefix(proxy.URL, "http://")
		code, out := runThroughProxy(t, bin, ids, addr)
		if code != int(exitFatal) {
			t.Errorf("exit %d, want %d\n%s", code, exitFatal, out)
		}
		want := "cannot reach https://ssm.us-east-1.amazonaws.com through the proxy " + addr + ": the proxy refused to connect: 407 Proxy Authentication Required"
		if !strings.Contains(out, want) || !strings.Contains(out, "HTTPS_PROXY") {
			t.Errorf("stderr does not say %q and to check HTTPS_PROXY:\n%s", want, out)
		}
		if strings.Contains(out, "--region") || strings.Contains(out, "no answer;") || strings.Contains(out, "proxy-secret") {
			t.Errorf("stderr sends to --region, says no answer came, or repeats the proxy's password:\n%s", out)
		}
	})

	// An https:// proxy whose own certificate cannot be verified: the line
	// said "the server's certificate is for another host ...; check
	// --endpoint-url, which set this endpoint", of an endpoint no
	// handshake reached. It is the proxy's certificate, and the proxy's
	// setting to check. AWS_CA_BUNDLE is the fix for a proxy's CA as for
	// an endpoint's: net/http verifies the proxy with the same roots.
	ca := tlstest.NewCA(t, "Proxy CA")
	bundle := ca.WriteBundle(t)
	for _, tt := range []struct {
		name      string
		leaf      tlstest.Leaf
		bundle    string
		want, not []string
	}{
		{name: "a proxy's certificate for another host", leaf: tlstest.Leaf{DNSNames: []string{"proxy.example.com"}}, bundle: bundle,
			want: []string{"cannot reach https://ssm.example.com through the proxy", "the proxy's certificate is for another host (x509: certificate is valid for proxy.example.com, not localhost)",
				"check HTTPS_PROXY, which names the proxy: its host must be one the proxy's certificate is for"},
			not: []string{"the server's certificate", "--endpoint-url", "AWS_CA_BUNDLE"}},
		{name: "a proxy's certificate not trusted",
			want: []string{"cannot reach https://ssm.example.com through the proxy", "the proxy's certificate is not trusted (x509: certificate signed by unknown authority)",
				"set AWS_CA_BUNDLE or the profile's ca_bundle to the CA that signs the proxy's certificate"},
			not: []string{"the server's certificate", "--endpoint-url"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if testing.Short() {
				t.Skip("runs the binary (net/http reads the proxy from the environment once a process): skipped with -short")
			}
			bin := binary(t)
			serve(t, handFleet(false), ssmsim.Options{})
			t.Setenv("AWS_CA_BUNDLE", tt.bundle)
			proxy := ca.NewServer(t, nil, tt.leaf)
			proxyURL := strings.Replace(proxy.URL, "https://127.0.0.1", "https://user:proxy-secret@localhost", 1)
			code, out := runThroughProxyURL(t, bin, ids, proxyURL, "--endpoint-url", "https://ssm.example.com")
			if code != int(exitFatal) {
				t.Errorf("exit %d, want %d\n%s", code, exitFatal, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("stderr does not say %q:\n%s", w, out)
				}
			}
			for _, w := range append(tt.not, "proxy-secret") {
				if strings.Contains(out, w) {
					t.Errorf("stderr says %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestExplicitEndpointLeavesFIPSAside: an endpoint given explicitly (the
// flag, AWS_ENDPOINT_URL) is used as it is, with AWS_USE_FIPS_ENDPOINT or
// AWS_USE_DUALSTACK_ENDPOINT set, as the AWS CLI does (botocore resolves
// neither variant for a given endpoint), and the run says so once. The
// Go SDK's rules refuse the combination, so the run stopped with exit 2
// where "aws ssm" on the same host worked (a FedRAMP host that sets FIPS
// for every tool and reaches SSM through a FIPS VPC endpoint's URL).
func TestExplicitEndpointLeavesFIPSAside(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, srv := serve(t, handFleet(false), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		setting string
	}{
		{"FIPS with AWS_ENDPOINT_URL", map[string]string{"AWS_USE_FIPS_ENDPOINT": "true", "AWS_ENDPOINT_URL": url}, nil, "AWS_USE_FIPS_ENDPOINT"},
		{"dual-stack with --endpoint-url", map[string]string{"AWS_USE_DUALSTACK_ENDPOINT": "true"}, []string{"--endpoint-url", url}, "AWS_USE_DUALSTACK_ENDPOINT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			out := filepath.Join(t.TempDir(), "out")
			before := srv.Stats().Requests
			got := runCLI(t, "", append([]string{"run", "--instances", ids, "--region", "us-east-1", "--out", out}, tt.args...)...)
			if got.code != int(exitOK) {
				t.Fatalf("exit %d, want %d\n%s", got.code, exitOK, got.stderr)
			}
			if n := srv.Stats().Requests - before; n == 0 {
				t.Errorf("no request reached the endpoint given")
			}
			if strings.Contains(got.stderr, "GetCallerIdentity") || strings.Contains(got.stderr, "not supported") {
				t.Errorf("a client other than SSM's still refused the endpoint given:\n%s", got.stderr)
			}
			if !strings.Contains(got.stderr, tt.setting+" is set") || !strings.Contains(got.stderr, "as the AWS CLI does") {
				t.Errorf("stderr does not say %s is left aside for the endpoint given:\n%s", tt.setting, got.stderr)
			}
		})
	}
}

// runThroughProxy runs bin on ids in us-east-1 with HTTPS_PROXY naming
// proxy (with a login that must not be repeated) and no other proxy
// setting, and returns its exit code and stderr.
func runThroughProxy(t *testing.T, bin, ids, proxy string, args ...string) (int, string) {
	t.Helper()
	return runThroughProxyURL(t, bin, ids, "http://user:proxy-secret@"+proxy, args...)
}

// runThroughProxyURL is runThroughProxy with the proxy's URL whole, its
// scheme (https://) included, and args added to the command line.
func runThroughProxyURL(t *testing.T, bin, ids, proxyURL string, args ...string) (int, string) {
	t.Helper()
	for k, v := range map[string]string{"HTTPS_PROXY": proxyURL, "https_proxy": "",
		"HTTP_PROXY": "", "http_proxy": "", "NO_PROXY": "", "no_proxy": ""} {
		t.Setenv(k, v)
	}
	cmd := exec.Command(bin, "run", "--instances", ids, "--region", "us-east-1", "--out", filepath.Join(t.TempDir(), "out"),
		"--max-attempts", "2", "--quiet")
	cmd.Args = append(cmd.Args, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Run()
	return cmd.ProcessState.ExitCode(), stderr.String()
}

// TestProxyRefusalNotRetried: a proxy that refuses the tunnel for want of
// a login (407) or by its policy (403) refuses every try alike, and each
// call was tried --max-attempts times before the run could say so. A
// proxy's 502 (its way to the endpoint failed) may pass, and is retried.
func TestProxyRefusalNotRetried(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary (net/http reads the proxy from the environment once a process): skipped with -short")
	}
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	bin := binary(t)
	serve(t, handFleet(false), ssmsim.Options{})
	for _, tt := range []struct {
		status  int
		retried bool
	}{
		{http.StatusProxyAuthRequired, false},
		{http.StatusForbidden, false},
		{http.StatusBadGateway, true},
	} {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			var connects atomic.Int64
			proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				connects.Add(1)
				w.WriteHeader(tt.status)
			}))
			defer proxy.Close()
			code, out := runThroughProxy(t, bin, ids, strings.TrimPrefix(proxy.URL, "http://"), "--max-attempts", "4")
			if code != int(exitFatal) {
				t.Errorf("exit %d, want %d\n%s", code, exitFatal, out)
			}
			// Two instances, each called at most once when not retried;
			// at least one call tried 4 times when retried.
			n := connects.Load()
			if tt.retried && n < 4 || !tt.retried && n > 2 {
				t.Errorf("the proxy got %d CONNECTs for 2 instances with --max-attempts 4; retried: want %v\n%s", n, tt.retried, out)
			}
		})
	}
}
