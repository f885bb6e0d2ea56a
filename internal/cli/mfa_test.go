package cli

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestRoleWithMFA: a role_arn profile with mfa_serial stopped every run
// (exit 2) with the SDK's "assume role with MFA enabled, but
// AssumeRoleTokenProvider session option not set.", where the aws CLI
// asks for the code. At a terminal the code is asked there ("Enter MFA
// code for ARN: "), not on stdout or stderr, and sent to STS; with no
// terminal to ask at (a scheduled job) the run is refused before any call,
// saying what to use instead.
func TestRoleWithMFA(t *testing.T) {
	m := mfaProfile(t)
	t.Run("at a terminal", func(t *testing.T) {
		tty := &fakeTerminal{in: strings.NewReader("654321\n")}
		withTerminal(t, tty, nil)
		got := runCLI(t, "", m.args()...)
		if got.code != int(exitOK) {
			t.Errorf("exit %d, want %d\n%s", got.code, exitOK, got.stderr)
		}
		if want := "Enter MFA code for " + mfaSerial + ": "; tty.out.String() != want {
			t.Errorf("the terminal shows %q, want %q", tty.out.String(), want)
		}
		if strings.Contains(got.stdout+got.stderr, "MFA code") {
			t.Errorf("the code asked on stdout or stderr:\n%s%s", got.stdout, got.stderr)
		}
		if codes := m.codes(); len(codes) != 1 || codes[0] != mfaSerial+" 654321" {
			t.Errorf("STS got %q, want the serial and the code once", codes)
		}
	})
	t.Run("no terminal", func(t *testing.T) {
		// cron, systemd, a container without -t: no controlling
		// terminal, which /dev/tty then fails to open.
		withTerminal(t, nil, syscall.ENXIO)
		before := m.srv.Stats().Requests
		got := runCLI(t, "", m.args()...)
		if got.code != int(exitUsage) || !strings.Contains(got.stderr, "mfa_serial "+mfaSerial) || !strings.Contains(got.stderr, "run the auditor at one") {
			t.Errorf("exit %d, want %d saying what to do\n%s", got.code, exitUsage, got.stderr)
		}
		if n := m.srv.Stats().Requests - before; n != 0 {
			t.Errorf("%d requests after the profile was refused, want none", n)
		}
	})
}

// TestMFAAskedWithAListOnStandardInput: auditor run --instances - < ids.txt
// at a terminal was refused, "asked only at a terminal: run the auditor at
// one", though it was at one: the code was asked only when standard input
// is a terminal, while it is asked on the terminal itself precisely so that
// standard input can be the list. It is asked whenever there is a terminal
// to ask at.
func TestMFAAskedWithAListOnStandardInput(t *testing.T) {
	m := mfaProfile(t)
	tty := &fakeTerminal{in: strings.NewReader("654321\n")}
	withTerminal(t, tty, nil)
	args := append(m.args()[:3], m.args()[5:]...) // no --instance-id
	got := runCLI(t, "i-0123456789abcdef0\n", append(args, "--instances", "-")...)
	if got.code != int(exitOK) {
		t.Errorf("exit %d, want %d\n%s", got.code, exitOK, got.stderr)
	}
	if codes := m.codes(); len(codes) != 1 || codes[0] != mfaSerial+" 654321" {
		t.Errorf("STS got %q, want the serial and the code once", codes)
	}
}

// mfaSerial is the MFA device of mfaProfile's profile.
const mfaSerial = "arn:aws:iam::123456789012:mfa/alice"

// mfaRun is a run of a role_arn profile with mfa_serial (see mfaProfile).
type mfaRun struct {
	srv   *ssmsim.Server
	url   string
	args  func() []string // auditor run with --profile mfa, in a new --out
	codes func() []string // the "SERIAL CODE" of each AssumeRole STS got
}

// mfaProfile sets up the profile mfa, a role_arn profile whose mfa_serial
// is mfaSerial, and an STS that answers its AssumeRole and the simulated
// endpoint's the rest.
func mfaProfile(t *testing.T) mfaRun {
	t.Helper()
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
		"[profile mfa]\nrole_arn = arn:aws:iam::123456789012:role/Auditor\nsource_profile = keys\nmfa_serial = "+mfaSerial+"\n")
	t.Setenv("AWS_CONFIG_FILE", config)
	return mfaRun{
		srv: srv,
		url: url,
		args: func() []string {
			return []string{"run", "--profile", "mfa", "--instance-id", "i-0123456789abcdef0", "--endpoint-url", url, "--region", "us-east-1",
				"--out", filepath.Join(t.TempDir(), "out"), "--max-attempts", "1", "--fail-on", "none", "--quiet"}
		},
		codes: func() []string {
			mu.Lock()
			defer mu.Unlock()
			return slices.Clone(codes)
		},
	}
}

// withTerminal makes tty the process's terminal for the test, or, with
// tty nil, makes opening it fail with err. Standard input is no terminal
// (a list, a pipe).
func withTerminal(t *testing.T, tty io.ReadWriteCloser, err error) {
	t.Helper()
	stdinTerminal = func(io.Reader) bool { return false }
	openTerminal = func() (io.ReadWriteCloser, error) {
		if tty == nil {
			return nil, &os.PathError{Op: "open", Path: "/dev/tty", Err: err}
		}
		return tty, nil
	}
	t.Cleanup(func() { stdinTerminal, openTerminal = isTerminal, openTTY })
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
