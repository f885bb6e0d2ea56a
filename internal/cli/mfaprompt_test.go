package cli

import (
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMFAPromptGivesUp: with a terminal that nobody is at (a job run under
// script -c from cron, docker run -t, ssh -t) the run waited for the code
// forever, where it used to be refused at once. The prompt gives up after
// mfaWait, and the run stops as for credentials that cannot be had (exit
// 4), before any call, saying what such a job should use instead.
func TestMFAPromptGivesUp(t *testing.T) {
	m := mfaProfile(t)
	var mu sync.Mutex
	var opened []*silentTerminal
	withTerminal(t, nil, nil)
	openTerminal = func() (io.ReadWriteCloser, error) {
		mu.Lock()
		defer mu.Unlock()
		opened = append(opened, newSilentTerminal())
		return opened[len(opened)-1], nil
	}
	mfaWait = 100 * time.Millisecond
	t.Cleanup(func() { mfaWait = defaultMFAWait })
	before := m.srv.Stats().Requests
	got := runCLI(t, "", m.args()...)
	if got.code != int(exitFatal) {
		t.Errorf("exit %d, want %d\n%s", got.code, exitFatal, got.stderr)
	}
	for _, w := range []string{mfaSerial, "no code was entered within 100ms", "unattended", "credential_process"} {
		if !strings.Contains(got.stderr, w) {
			t.Errorf("stderr does not say %q:\n%s", w, got.stderr)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	shown := ""
	for _, tty := range opened {
		shown += tty.shown()
		if !tty.isClosed() {
			t.Error("the terminal was left open, its read waiting")
		}
	}
	if want := "Enter MFA code for " + mfaSerial + ": \n"; shown != want {
		t.Errorf("the terminal shows %q, want %q: the prompt's line ended", shown, want)
	}
	if codes := m.codes(); len(codes) != 0 {
		t.Errorf("STS got %q, want no AssumeRole", codes)
	}
	if n := m.srv.Stats().Requests - before; n != 0 {
		t.Errorf("%d requests to the endpoint, want none", n)
	}
}

// silentTerminal is a terminal that nobody answers: a read waits until it
// is closed.
type silentTerminal struct {
	mu     sync.Mutex
	out    strings.Builder
	closed chan struct{}
	once   sync.Once
}

func newSilentTerminal() *silentTerminal { return &silentTerminal{closed: make(chan struct{})} }

func (s *silentTerminal) Read([]byte) (int, error) {
	<-s.closed
	return 0, io.ErrClosedPipe
}

func (s *silentTerminal) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.Write(p)
}

func (s *silentTerminal) Close() error {
	s.once.Do(func() { close(s.closed) })
	return nil
}

func (s *silentTerminal) shown() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

func (s *silentTerminal) isClosed() bool {
	select {
	case <-s.closed:
		return true
	default:
		return false
	}
}

// TestMFARefusalOfReport: auditor report --upload with a role_arn profile
// with mfa_serial, at a terminal, was told "asked only at a terminal: run
// the auditor at one": report and mail never ask, at a terminal or not.
// The refusal says what to use instead, and asks nothing. It comes where
// the delivery starts, as any other configuration's that does not load
// (exit 5, the reports written).
func TestMFARefusalOfReport(t *testing.T) {
	m := mfaProfile(t)
	withTerminal(t, &fakeTerminal{in: strings.NewReader("654321\n")}, nil)
	args := m.args()
	if got := runCLI(t, "", args...); got.code != int(exitOK) {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	tty := &fakeTerminal{in: strings.NewReader("654321\n")}
	withTerminal(t, tty, nil)
	out := args[slices.Index(args, "--out")+1]
	for _, cmd := range [][]string{
		{"report", filepath.Join(out, "results.jsonl"), "--out", filepath.Join(t.TempDir(), "report"), "--quiet", "--fail-on", "none",
			"--profile", "mfa", "--region", "us-east-1", "--upload", "s3://reports/audit/"},
		{"mail", out, "--to", "ops@example.com", "--mail-from", "auditor@example.com", "--mail-via", "ses", "--profile", "mfa", "--region", "us-east-1"},
	} {
		got := runCLI(t, "", cmd...)
		// Refused where the delivery starts: the reports are written.
		if got.code != int(exitDelivery) || !strings.Contains(got.stderr, "mfa_serial "+mfaSerial) || !strings.Contains(got.stderr, "aws sts get-session-token") {
			t.Errorf("%s: exit %d, want %d, the profile refused, saying what to use instead\n%s", cmd[0], got.code, exitDelivery, got.stderr)
		}
		if strings.Contains(got.stderr, "terminal") {
			t.Errorf("the refusal of %s speaks of a terminal:\n%s", cmd[0], got.stderr)
		}
	}
	if tty.out.Len() > 0 {
		t.Errorf("asked at the terminal: %q", tty.out.String())
	}
}
