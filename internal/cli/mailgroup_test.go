package cli

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/auditor-dev/auditor/deliver/smtptest"
	"github.com/auditor-dev/auditor/internal/dirlock"
	"github.com/auditor-dev/auditor/report"
)

// TestMailOneGroupByLabel: `auditor mail GROUPDIR --mail-to-label L`, one
// group's directory of a split, said the run was not split and told to
// split the group again. It is refused before anything is sent, saying
// how to mail this group (--to) and how to mail every group by the label
// (the run's directory).
func TestMailOneGroupByLabel(t *testing.T) {
	out := ownersRun(t)
	group := filepath.Join(report.SplitDir(out, "owner"), "alice")
	if _, err := os.Stat(group); err != nil {
		t.Fatal(err)
	}
	ms := newMailSetup(t, smtptest.Options{})
	got := runCLI(t, "", append([]string{"mail", group, "--mail-to-label", "owner_email"}, ms.args...)...)
	if got.code != 2 || len(ms.srv.Messages()) != 0 {
		t.Errorf("mail of one group by label: exit %d, %d messages, want 2 and none\n%s", got.code, len(ms.srv.Messages()), got.stderr)
	}
	for _, want := range []string{"one group", "--to", "auditor mail " + out + " --mail-to-label owner_email"} {
		if !strings.Contains(got.stderr, want) {
			t.Errorf("stderr does not say %q\n%s", want, got.stderr)
		}
	}
	if strings.Contains(got.stderr, "split it") {
		t.Errorf("stderr tells to split a group's directory again\n%s", got.stderr)
	}
}

// TestMailHoldsTheDirectory: two `auditor mail` of one directory at once
// (a cron job and an engineer) each read and wrote its undelivered mark
// as it pleased. A mail holds the run's directory while it sends: another
// mail of it, or of one of its groups, is refused (exit 4), and so is a
// run that would write it.
func TestMailHoldsTheDirectory(t *testing.T) {
	out := ownersRun(t)
	group := filepath.Join(report.SplitDir(out, "owner"), "alice")
	inMail, release := make(chan struct{}), make(chan struct{})
	var held atomic.Bool
	ms := newMailSetup(t, smtptest.Options{Reject: func(stage smtptest.Stage, n int) *smtptest.Reply {
		// The first mail waits at its MAIL FROM until the others were
		// tried; theirs, if they get this far, go on.
		if stage == smtptest.StageMail && held.CompareAndSwap(false, true) {
			close(inMail)
			<-release
		}
		return nil
	}})
	first := make(chan cliResult, 1)
	go func() {
		first <- runCLI(t, "", append([]string{"mail", out, "--to", "ops@example.com"}, ms.args...)...)
	}()
	select {
	case <-inMail:
	case r := <-first:
		t.Fatalf("the first mail ended before it sent: exit %d\n%s", r.code, r.stderr)
	}
	if err := dirlock.Held(out); !errors.Is(err, dirlock.ErrBusy) {
		t.Errorf("the run's directory while a mail sends: %v, want it held (a run or resume into it is refused)", err)
	}
	for _, dir := range []string{out, group} {
		got := runCLI(t, "", append([]string{"mail", dir, "--to", "boss@example.com"}, ms.args...)...)
		if got.code != 4 || !strings.Contains(got.stderr, "in use") {
			t.Errorf("mail of %s while another mails the run: exit %d, want 4 and \"in use\"\n%s", dir, got.code, got.stderr)
		}
	}
	close(release)
	if r := <-first; r.code != 0 {
		t.Errorf("the first mail: exit %d, want 0\n%s", r.code, r.stderr)
	}
	if n := len(ms.srv.Messages()); n != 1 {
		t.Errorf("%d messages, want the first mail's only", n)
	}
	// Once the mail is done, the directory is free again.
	if got := runCLI(t, "", append([]string{"mail", group, "--to", "boss@example.com"}, ms.args...)...); got.code != 0 {
		t.Errorf("mail of a group after the run's mail ended: exit %d, want 0\n%s", got.code, got.stderr)
	}
}
