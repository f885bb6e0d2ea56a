package cli

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestRoleWithMFA: a role_arn profile with mfa_serial stopped every run
// (exit 2) with the SDK's "assume role with MFA enabled, but
// AssumeRoleTokenProvider session option not set.", where the aws CLI
// asks for the code. At a terminal the code is asked there ("Enter MFA
// code for ARN: "), not on stdout or stderr, and sent to STS; with standard
// input no terminal (a scheduled job) the run is refused before any call,
// saying what to use instead.
func TestRoleWithMFA(t *testing.T) {
	const serial = "arn:aws:iam::123456789012:mfa/alice"
	isolateAWS(t, "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	url, srv := serve(t, handFleet(false), ssmsim.Options{})
	// STS's AssumeRole answered here, the rest (GetCallerIdentity) by
	// the simulator.
	var mu sync.Mutex
	var codes []string
	sim := httputil.NewSingleHostReverseProxy(mustURL(t, url))
	sts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		if r.PostForm.Get("Action") != "AssumeRole" {
			sim.ServeHTTP(w, r)
			return
		}
		mu.Lock()
		codes = append(codes, r.PostForm.Get("SerialNumber")+" "+r.PostForm.Get("TokenCode"))
		mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>`+
			`<AssumedRoleUser><AssumedRoleId>AROAEXAMPLE:s</AssumedRoleId><Arn>arn:aws:sts::123456789012:assumed-role/Auditor/s</Arn></AssumedRoleUser>`+
			`<Credentials><AccessKeyId>ASIAROLEROLEROLE0001</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken>`+
			`<Expiration>%s</Expiration></Credentials></AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>`,
			time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	}))
	t.Cleanup(sts.Close)
	t.Setenv("AWS_ENDPOINT_URL_STS", sts.URL)
	config := writeFile(t, "config", "[profile keys]\naws_access_key_id = AKIAKEYSKEYSKEYS0001\naws_secret_access_key = s\n\n"+
		"[profile mfa]\nrole_arn = arn:aws:iam::123456789012:role/Auditor\nsource_profile = keys\nmfa_serial = "+serial+"\n")
	t.Setenv("AWS_CONFIG_FILE", config)
	args := func() []string {
		return []string{"run", "--profile", "mfa", "--instance-id", "i-0123456789abcdef0", "--endpoint-url", url, "--region", "us-east-1",
			"--out", filepath.Join(t.TempDir(), "out"), "--max-attempts", "1", "--fail-on", "none", "--quiet"}
	}

	t.Run("at a terminal", func(t *testing.T) {
		stdinTerminal = func(io.Reader) bool { return true }
		defer func() { stdinTerminal = isTerminal }()
		tty := &fakeTerminal{in: strings.NewReader("654321\n")}
		openTerminal = func() (io.ReadWriteCloser, error) { return tty, nil }
		defer func() { openTerminal = openTTY }()
		got := runCLI(t, "", args()...)
		if got.code != int(exitOK) {
			t.Errorf("exit %d, want %d\n%s", got.code, exitOK, got.stderr)
		}
		if want := "Enter MFA code for " + serial + ": "; tty.out.String() != want {
			t.Errorf("the terminal shows %q, want %q", tty.out.String(), want)
		}
		if strings.Contains(got.stdout+got.stderr, "MFA code") {
			t.Errorf("the code asked on stdout or stderr:\n%s%s", got.stdout, got.stderr)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(codes) != 1 || codes[0] != serial+" 654321" {
			t.Errorf("STS got %q, want the serial and the code once", codes)
		}
	})
	t.Run("no terminal", func(t *testing.T) {
		stdinTerminal = func(io.Reader) bool { return false }
		defer func() { stdinTerminal = isTerminal }()
		openTerminal = func() (io.ReadWriteCloser, error) {
			t.Error("a terminal opened with standard input no terminal")
			return nil, os.ErrNotExist
		}
		defer func() { openTerminal = openTTY }()
		before := srv.Stats().Requests
		got := runCLI(t, "", args()...)
		if got.code != int(exitUsage) || !strings.Contains(got.stderr, "mfa_serial "+serial) || !strings.Contains(got.stderr, "run the auditor at one") {
			t.Errorf("exit %d, want %d saying what to do\n%s", got.code, exitUsage, got.stderr)
		}
		if n := srv.Stats().Requests - before; n != 0 {
			t.Errorf("%d requests after the profile was refused, want none", n)
		}
	})
}

// fakeTerminal stands in for the terminal: it reads in, and keeps what is
// written.
type fakeTerminal struct {
	in  io.Reader
	out strings.Builder
}

func (f *fakeTerminal) Read(p []byte) (int, error)  { return f.in.Read(p) }
func (f *fakeTerminal) Write(p []byte) (int, error) { return f.out.Write(p) }
func (f *fakeTerminal) Close() error                { return nil }
