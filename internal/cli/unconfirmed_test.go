package cli

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/deliver/smtptest"
	"github.com/auditor-dev/auditor/ssmsim"
)

// maybeLine is how the closing lines offer the command that would send
// again a mail that may have been delivered.
const maybeLine = "the mail may have been delivered (the server got the whole message and did not answer): only if its recipients did not get it, send it again with: "

// maybeCommands returns every command that stderr offers, with the
// warning that its mail may have been delivered, as a shell splits it.
func maybeCommands(t *testing.T, stderr string) [][]string {
	t.Helper()
	return commandsAfter(t, stderr, maybeLine)
}

// TestMailNoReplyAfterData: a server that keeps the message and then drops
// the connection without answering got it once, not once for each
// attempt; the run says the mail may have been delivered (exit 5: the
// delivery is not confirmed), and offers the command that sends it again
// only with that warning, never as a plain "deliver them with".
func TestMailNoReplyAfterData(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	ms := newMailSetup(t, smtptest.Options{DropAfterData: func(int) bool { return true }})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", append([]string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet", "--mail-to", "ops@example.com"}, ms.args...)...)
	if got.code != int(exitDelivery) {
		t.Fatalf("exit %d, want %d (the delivery is not confirmed)\n%s", got.code, exitDelivery, got.stderr)
	}
	if n, tx := len(ms.srv.Messages()), ms.srv.Transactions(); n != 1 || tx != 1 {
		t.Errorf("%d messages in %d transactions, want 1 in 1: a message that may have been delivered is not sent again\n%s", n, tx, got.stderr)
	}
	if cmds := retryCommands(t, got.stderr); len(cmds) != 0 {
		t.Errorf("%q offered as plain commands to deliver again: the mail may have been delivered\n%s", cmds, got.stderr)
	}
	cmds := maybeCommands(t, got.stderr)
	if len(cmds) != 1 || !slices.Equal(cmds[0][:5], []string{"auditor", "mail", out, "--to", "ops@example.com"}) {
		t.Errorf("commands %q with the warning, want auditor mail %s --to ops@example.com ...\n%s", cmds, out, got.stderr)
	}
	if !strings.Contains(got.stderr, "delivery not confirmed (exit 5)") || strings.Contains(got.stderr, "delivery failed") {
		t.Errorf("stderr does not say the delivery is not confirmed (rather than failed):\n%s", got.stderr)
	}
}

// TestMailEachOwnerNoReplyAfterData: with a mail for each owner, a server
// that drops the connection after taking a group's message: that group
// may have its mail, and the whole run's --mail-to-label command (which
// would mail it again) is not offered; its command comes with the
// warning. One message unanswered is that message's: the mailing went on
// to bob and carol (it stopped, and 3,000 owners after the first went
// unmailed). Two in a row are the server's: the groups after them are not
// tried, and get their own commands, as plain as ever.
func TestMailEachOwnerNoReplyAfterData(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, ownersFleet("alice"), ssmsim.Options{})
	for _, tt := range []struct {
		name   string
		drop   func(n int) bool
		mailed []string // the messages the server took, in order
		maybe  []string // the groups whose mail may have been delivered
		plain  []string // those with plain commands
	}{
		{"the first message", func(n int) bool { return n == 1 },
			[]string{"alice@example.com", "bob@example.com", "carol@example.com"}, []string{"alice@example.com"}, nil},
		{"every message", func(int) bool { return true },
			[]string{"alice@example.com", "bob@example.com"}, []string{"alice@example.com", "bob@example.com"}, []string{"carol@example.com"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ms := newMailSetup(t, smtptest.Options{DropAfterData: tt.drop})
			out := filepath.Join(t.TempDir(), "out")
			got := runCLI(t, "", append([]string{"run", "--instances", writeFile(t, "fleet.csv", ownersList), "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet",
				"--fail-on", "none", "--split-by", "owner", "--mail-to-label", "owner_email"}, ms.args...)...)
			if got.code != int(exitDelivery) {
				t.Fatalf("exit %d, want %d\n%s", got.code, exitDelivery, got.stderr)
			}
			var mailed []string
			for _, m := range ms.srv.Messages() {
				mailed = append(mailed, m.To...)
			}
			if !slices.Equal(mailed, tt.mailed) {
				t.Errorf("the server took messages to %q, want %q\n%s", mailed, tt.mailed, got.stderr)
			}
			var maybe, plain []string
			for _, words := range maybeCommands(t, got.stderr) {
				if i := slices.Index(words, "--to"); i > 0 {
					maybe = append(maybe, words[i+1])
				}
			}
			for _, words := range retryCommands(t, got.stderr) {
				if slices.Contains(words, "--mail-to-label") {
					t.Errorf("%q: a plain command that mails the groups that may have their mail again", words)
				}
				if i := slices.Index(words, "--to"); i > 0 {
					plain = append(plain, words[i+1])
				}
			}
			if !slices.Equal(maybe, tt.maybe) || !slices.Equal(plain, tt.plain) {
				t.Errorf("commands with the warning to %q and plain to %q, want %q and %q\n%s", maybe, plain, tt.maybe, tt.plain, got.stderr)
			}
		})
	}
}

// TestSignalAwaitingTheReply: a signal while the server, which has a
// group's whole message, takes its time to answer: the answer is waited
// for, so that the group is known to have its mail and is offered no
// command that would mail it again; the groups after it are not tried, and
// their commands mail each of them once.
func TestSignalAwaitingTheReply(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, ownersFleet("alice"), ssmsim.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ms := newMailSetup(t, smtptest.Options{
		Reject: func(st smtptest.Stage, n int) *smtptest.Reply {
			if st == smtptest.StageData && n == 1 {
				cancel() // SIGINT, once alice's message is whole
			}
			return nil
		},
		DelayAfterData: func(int) time.Duration { return time.Second },
	})
	out := filepath.Join(t.TempDir(), "out")
	got := runCtx(ctx, nil, append([]string{"run", "--instances", writeFile(t, "fleet.csv", ownersList), "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet", "--rate", "2000",
		"--fail-on", "none", "--split-by", "owner", "--mail-to-label", "owner_email"}, ms.args...)...)
	if got.code != int(exitDelivery) {
		t.Fatalf("exit %d, want %d\n%s", got.code, exitDelivery, got.stderr)
	}
	if msgs := ms.srv.Messages(); len(msgs) != 1 || !slices.Equal(msgs[0].To, []string{"alice@example.com"}) {
		t.Fatalf("%d messages, want alice's alone\n%s", len(msgs), got.stderr)
	}
	if strings.Contains(got.stderr, "alice") {
		t.Errorf("stderr names alice's group, which got its mail:\n%s", got.stderr)
	}
	if cmds := maybeCommands(t, got.stderr); len(cmds) != 0 {
		t.Errorf("%q offered with a warning: every mail's outcome is known\n%s", cmds, got.stderr)
	}
	mailed := runRetries(t, ms, got.stderr)
	slices.Sort(mailed)
	if want := []string{"bob@example.com", "carol@example.com"}; !slices.Equal(mailed, want) {
		t.Errorf("the commands mailed %q, want %q\n%s", mailed, want, got.stderr)
	}
}
