package cli

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/auditor-dev/auditor/ssmsim"
)

// setProxies sets the proxy variables net/http reads to env, and every
// other one to empty.
func setProxies(t *testing.T, env map[string]string) {
	t.Helper()
	for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"} {
		t.Setenv(k, env[k])
	}
}

// TestProxyValueUnreadable: a proxy variable that Go's proxy support
// cannot read as given was misreported. Go reads it as "http://" + the
// value when it does not parse (a space, #, / or ? in the password, a port
// that is not a number, an unclosed IPv6 bracket), so the proxy's host
// became "http" and the run said "cannot reach ... through the proxy
// http: no such host"; a value that does not parse either way (%zz) was
// ignored, and the run went direct. It is refused before any call, exit 2,
// naming the variable and never its value, which may hold a password.
func TestProxyValueUnreadable(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	// The endpoint is on this machine, which no proxy serves: the run
	// asks nothing of the network, whatever the variables say.
	url, srv := serve(t, handFleet(false), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	for _, tt := range []struct {
		name, env, value string
		insecure         bool // --allow-insecure-endpoint: plain http may go through HTTP_PROXY
	}{
		{"a space in the password", "HTTPS_PROXY", "http://alice:S3cret PW@127.0.0.1:4621", false},
		{"a # in the password", "HTTPS_PROXY", "http://alice:S3cret#PW@127.0.0.1:4621", false},
		{"a / in the password", "HTTPS_PROXY", "http://alice:S3cret/PW@127.0.0.1:4621", false},
		{"a ? in the password", "HTTPS_PROXY", "http://alice:S3cret?PW@127.0.0.1:4621", false},
		{"a # after a password of digits", "HTTPS_PROXY", "http://alice:4621#S3cret@127.0.0.1:4621", false},
		{"a port that is not a number", "HTTPS_PROXY", "http://alice:S3cret@127.0.0.1:notaport", false},
		{"an IPv6 address without its closing bracket", "HTTPS_PROXY", "http://alice:S3cret@[::1:4621", false},
		{"a % not followed by two hex digits", "HTTPS_PROXY", "http://alice:S3cret%zzPW@127.0.0.1:4621", false},
		{"host:port with a port that is not a number", "HTTPS_PROXY", "127.0.0.1:notaport", false},
		{"a login without a scheme, # in the password", "HTTPS_PROXY", "alice:4621#S3cret@127.0.0.1:4621", false},
		{"https_proxy", "https_proxy", "http://alice:S3cret PW@127.0.0.1:4621", false},
		{"HTTP_PROXY, with plain http allowed", "HTTP_PROXY", "http://alice:S3cret PW@127.0.0.1:4621", true},
		{"http_proxy, with plain http allowed", "http_proxy", "http://alice:S3cret PW@127.0.0.1:4621", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			setProxies(t, map[string]string{tt.env: tt.value})
			before := srv.Stats().Requests
			args := []string{"run", "--instances", ids, "--region", "us-east-1", "--endpoint-url", url,
				"--out", filepath.Join(t.TempDir(), "out"), "--quiet"}
			if tt.insecure {
				args = append(args, "--allow-insecure-endpoint")
			}
			got := runCLI(t, "", args...)
			if got.code != int(exitUsage) {
				t.Errorf("exit %d, want %d\n%s", got.code, exitUsage, got.stderr)
			}
			if want := tt.env + ": not a URL that can be read"; !strings.Contains(got.stderr, want) {
				t.Errorf("stderr does not say %q:\n%s", want, got.stderr)
			}
			if strings.Contains(got.stderr, "S3cret") || strings.Contains(got.stderr, "alice") {
				t.Errorf("stderr repeats the proxy's login:\n%s", got.stderr)
			}
			if n := srv.Stats().Requests - before; n != 0 {
				t.Errorf("%d requests reached the endpoint, want none", n)
			}
		})
	}
}

// TestProxyValueReadable: the forms Go reads as meant are not refused: a
// URL with its login percent-encoded, and host:port, which Go reads as
// http://host:port.
func TestProxyValueReadable(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	serve(t, handFleet(false), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	// A file where --out must name a directory: the run stops, exit 2,
	// before any call, with the problems of its settings told at once.
	notDir := writeFile(t, "out", "")
	for _, tt := range []struct {
		name string
		env  map[string]string
	}{
		{"a percent-encoded login", map[string]string{"HTTPS_PROXY": "http://alice:S3cret%20PW@127.0.0.1:4621", "HTTP_PROXY": "http://alice:S3cret%20PW@127.0.0.1:4621"}},
		{"host:port", map[string]string{"HTTPS_PROXY": "127.0.0.1:4621", "HTTP_PROXY": "127.0.0.1:4621"}},
		// Go reads a login without a scheme as http://user:pass@host:port.
		{"a login without a scheme", map[string]string{"HTTPS_PROXY": "alice:S3cret@127.0.0.1:4621"}},
		{"an encoded login without a scheme", map[string]string{"HTTPS_PROXY": "al%40ice:S3%20cret@127.0.0.1:4621"}},
		{"socks5", map[string]string{"HTTPS_PROXY": "socks5://127.0.0.1:1080"}},
		// Never read: every host is reached without a proxy.
		{"NO_PROXY=*", map[string]string{"HTTPS_PROXY": "http://alice:S3cret PW@127.0.0.1:4621", "NO_PROXY": "*"}},
		// Never read: the calls to AWS are https, and plain http goes
		// only to this machine, which Go reaches without a proxy.
		{"HTTP_PROXY without plain http allowed", map[string]string{"HTTP_PROXY": "http://alice:S3cret PW@127.0.0.1:4621"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			setProxies(t, tt.env)
			got := runCLI(t, "", "run", "--instances", ids, "--region", "us-east-1", "--out", notDir, "--quiet")
			if got.code != int(exitUsage) || !strings.Contains(got.stderr, "name a directory") {
				t.Fatalf("exit %d, want %d for --out alone\n%s", got.code, exitUsage, got.stderr)
			}
			if strings.Contains(got.stderr, "PROXY") {
				t.Errorf("a proxy variable Go reads as meant is refused:\n%s", got.stderr)
			}
		})
	}

	t.Run("through the proxy", func(t *testing.T) {
		if testing.Short() {
			t.Skip("runs the binary (net/http reads the proxy from the environment once a process): skipped with -short")
		}
		bin := binary(t)
		proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusProxyAuthRequired)
		}))
		defer proxy.Close()
		addr := strings.TrimPrefix(proxy.URL, "http://")
		for _, value := range []string{"http://alice:S3cret%20PW@" + addr, addr} {
			code, out := runThroughProxyURL(t, bin, ids, value)
			want := "through the proxy " + addr + ": the proxy refused to connect"
			if code != int(exitFatal) || !strings.Contains(out, want) {
				t.Errorf("HTTPS_PROXY %s: exit %d, want %d saying %q\n%s", value, code, exitFatal, want, out)
			}
			if strings.Contains(out, "S3cret") {
				t.Errorf("stderr repeats the proxy's password:\n%s", out)
			}
		}
	})
}

// TestProxyValueUnreadableDelivery: auditor report and auditor mail,
// which call AWS only to deliver (--upload, --mail-via ses), refuse an
// unreadable proxy variable before they render or send anything, as run
// does: the delivery failed after the reports were written.
func TestProxyValueUnreadableDelivery(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	t.Setenv("AWS_REGION", "us-east-1")
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	serveS3(t, "reports")
	var sesCalls atomic.Int64
	ses := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sesCalls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"MessageId": "m-1"}`))
	}))
	t.Cleanup(ses.Close)
	t.Setenv("AWS_ENDPOINT_URL_SESV2", ses.URL)
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	src := filepath.Join(t.TempDir(), "src")
	setProxies(t, nil)
	if got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--out", src, "--quiet"); got.code != int(exitOK) {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	mail := []string{"--mail-from", "auditor@example.com", "--mail-via", "ses"}
	for _, tt := range []struct {
		name string
		args []string
		out  bool // whether the command makes an --out
	}{
		{name: "report --upload", args: []string{"report", filepath.Join(src, "results.jsonl"), "--quiet", "--upload", "s3://reports/audit"}, out: true},
		{name: "report --mail-via ses", args: append([]string{"report", filepath.Join(src, "results.jsonl"), "--quiet", "--mail-to", "ops@example.com"}, mail...), out: true},
		{name: "mail --mail-via ses", args: append([]string{"mail", src, "--to", "ops@example.com"}, mail...)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			setProxies(t, map[string]string{"HTTPS_PROXY": "http://alice:S3cret PW@127.0.0.1:4621"})
			sesCalls.Store(0)
			out := filepath.Join(t.TempDir(), "out")
			args := tt.args
			if tt.out {
				args = append(slices.Clone(args), "--out", out)
			}
			got := runCLI(t, "", args...)
			if want := "HTTPS_PROXY: not a URL that can be read"; got.code != int(exitUsage) || !strings.Contains(got.stderr, want) {
				t.Errorf("exit %d, want %d saying %q\n%s", got.code, exitUsage, want, got.stderr)
			}
			if strings.Contains(got.stderr, "S3cret") || strings.Contains(got.stderr, "alice") {
				t.Errorf("stderr repeats the proxy's login:\n%s", got.stderr)
			}
			if n := sesCalls.Load(); n != 0 {
				t.Errorf("%d mails sent, want none", n)
			}
			if _, err := os.Stat(out); tt.out && err == nil {
				t.Error("the output directory was made")
			}
		})
	}
}
