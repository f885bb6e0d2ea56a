package cli

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/deliver/smtptest"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestResumeAfterMailMaybeDelivered: a run signalled while its server,
// which had the whole message, gave no reply. It waited a minute for the
// reply (past a container's grace before its SIGKILL), then, or killed by
// a second signal meanwhile, marked the mail plainly undelivered: the
// resume that the second signal's line advised, and the one run after the
// exit 5, mailed everyone again. The reply is waited for --grace; the mail
// is marked as possibly delivered, from before its end went (what a kill
// leaves); the resume does not send it, and offers its command only with
// the warning, exit 5; the command sends it, and takes the mark away.
func TestResumeAfterMailMaybeDelivered(t *testing.T) {
	for _, tt := range []struct {
		name   string
		killed bool // by a second signal, once the server had the message
	}{
		{"no reply within --grace", false},
		{"killed awaiting the reply", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			isolateAWS(t, "AKIATESTTESTTESTTEST")
			url, _ := serve(t, handFleet(true), ssmsim.Options{})
			ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
			out := filepath.Join(t.TempDir(), "out")
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			var atKill []byte
			var dying string
			ms := newMailSetup(t, smtptest.Options{
				Reject: func(st smtptest.Stage, n int) *smtptest.Reply {
					if st == smtptest.StageData && n == 1 {
						// What a second signal, or a SIGKILL, would
						// leave now, and say.
						atKill, _ = os.ReadFile(filepath.Join(out, undeliveredFile))
						dying = dieMessage()
						cancel() // SIGTERM, the server holding the message
					}
					return nil
				},
				DelayAfterData: func(n int) time.Duration {
					if n == 1 {
						return time.Hour // no reply, as long as the test lasts
					}
					return 0
				},
			})
			args := append([]string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet",
				"--fail-on", "none", "--grace", "1s", "--mail-to", "ops@example.com"}, ms.args...)
			start := time.Now()
			got := runCtx(ctx, nil, args...)
			if took := time.Since(start); took > 30*time.Second {
				t.Errorf("the run took %v: it waited for the reply past --grace after the signal", took.Round(time.Second))
			}
			if got.code != int(exitDelivery) || len(maybeCommands(t, got.stderr)) != 1 {
				t.Fatalf("exit %d, want %d with the mail that may have been delivered\n%s", got.code, exitDelivery, got.stderr)
			}
			if tt.killed {
				if !strings.Contains(dying, "may have been delivered") {
					t.Errorf("the second signal's line does not say the mail may have been delivered:\n%s", dying)
				}
				if atKill == nil {
					t.Fatal("no mark while the server had the message")
				}
				if err := os.WriteFile(filepath.Join(out, undeliveredFile), atKill, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			resumed := runCLI(t, "", append(args, "--resume")...)
			t.Logf("first attempt:\n%s\nresume:\n%s", got.stderr, resumed.stderr)
			if n := len(ms.srv.Messages()); n != 1 {
				t.Fatalf("the resume mailed again: %d messages, want 1\n%s", n, resumed.stderr)
			}
			if cmds := retryCommands(t, resumed.stderr); len(cmds) != 0 {
				t.Errorf("resume: %q offered as plain commands: the mail may have been delivered\n%s", cmds, resumed.stderr)
			}
			cmds := maybeCommands(t, resumed.stderr)
			if resumed.code != int(exitDelivery) || len(cmds) != 1 || !slices.Equal(cmds[0][:5], []string{"auditor", "mail", out, "--to", "ops@example.com"}) {
				t.Fatalf("resume: exit %d, commands %q with the warning, want %d and auditor mail %s --to ops@example.com\n%s", resumed.code, cmds, exitDelivery, out, resumed.stderr)
			}
			if again := runCLI(t, "", cmds[0][1:]...); again.code != 0 || len(ms.srv.Messages()) != 2 {
				t.Errorf("%q: exit %d, %d messages, want 0 and 2\n%s", cmds[0], again.code, len(ms.srv.Messages()), again.stderr)
			}
			if statOK(filepath.Join(out, undeliveredFile)) {
				t.Error("the mark stays once the mail went")
			}
		})
	}
}

// TestResumeAfterMailRefused is the control: a mail the server refused,
// before its end (a recipient) or at it (554), certainly did not go; the
// resume sends it.
func TestResumeAfterMailRefused(t *testing.T) {
	for _, stage := range []smtptest.Stage{smtptest.StageRcpt, smtptest.StageData} {
		t.Run(string(stage), func(t *testing.T) {
			isolateAWS(t, "AKIATESTTESTTESTTEST")
			url, _ := serve(t, handFleet(true), ssmsim.Options{})
			ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
			out := filepath.Join(t.TempDir(), "out")
			ms := newMailSetup(t, smtptest.Options{
				Reject: func(st smtptest.Stage, n int) *smtptest.Reply {
					if st == stage && n == 1 {
						return &smtptest.Reply{Code: 554, Message: "not now"}
					}
					return nil
				},
			})
			args := append([]string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet",
				"--fail-on", "none", "--mail-to", "ops@example.com"}, ms.args...)
			if got := runCLI(t, "", args...); got.code != int(exitDelivery) || len(maybeCommands(t, got.stderr)) != 0 {
				t.Fatalf("exit %d, want %d, the mail failed\n%s", got.code, exitDelivery, got.stderr)
			}
			resumed := runCLI(t, "", append(args, "--resume")...)
			if resumed.code != 0 || len(ms.srv.Messages()) != 1 {
				t.Errorf("resume: exit %d, %d messages, want 0 and the mail sent\n%s", resumed.code, len(ms.srv.Messages()), resumed.stderr)
			}
		})
	}
}

