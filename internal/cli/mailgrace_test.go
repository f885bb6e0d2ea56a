package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/deliver/smtptest"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestMailAnswerAwaitedWithinGrace: a run signalled while its SMTP server,
// which had the whole message, gave no answer waited for it the minute an
// attempt is given: past docker stop's 10 s or a pod's 30 s grace, the
// process was SIGKILLed and said nothing. It waits --grace, then exits 5,
// saying the mail may have been delivered, with the command to send it.
func TestMailAnswerAwaitedWithinGrace(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	out := filepath.Join(t.TempDir(), "out")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ms := newMailSetup(t, smtptest.Options{
		Reject: func(st smtptest.Stage, n int) *smtptest.Reply {
			if st == smtptest.StageData && n == 1 {
				cancel() // SIGTERM, the server holding the message
			}
			return nil
		},
		// No answer for as long as the test lasts.
		DelayAfterData: func(int) time.Duration { return time.Hour },
	})
	args := append([]string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet",
		"--fail-on", "none", "--grace", "1s", "--mail-to", "ops@example.com"}, ms.args...)
	done := make(chan cliResult, 1)
	go func() { done <- runCtx(ctx, nil, args...) }()
	var got cliResult
	select {
	case got = <-done:
	case <-time.After(45 * time.Second):
		// The attempt's own minute is what it waited without --grace.
		t.Fatal("the run still waits for the answer, long past --grace 1s after the signal")
	}
	if got.code != int(exitDelivery) || len(maybeCommands(t, got.stderr)) != 1 || !strings.Contains(got.stderr, "may have been delivered") {
		t.Errorf("exit %d, want %d saying the mail may have been delivered, with its command\n%s", got.code, exitDelivery, got.stderr)
	}
}
