package cli

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/deliver/smtptest"
	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
)

// ownersInterrupted serves the owners' fleet and runs the owners' list
// into a new --out with args, signalled as the first instance is answered
// (one at a time: the others are left for a resume). It returns --out,
// the list, the endpoint and the run's result.
func ownersInterrupted(t *testing.T, args ...string) (out, list, url string, got cliResult) {
	t.Helper()
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	url, _, _ = serveLogged(t, ownersFleet("alice", "bob"), func(w http.ResponseWriter, r wireReq) bool {
		if r.op == ssmsim.OpDescribeInstanceAssociationsStatus {
			once.Do(cancel) // the signal, as the first call is answered
		}
		return false
	})
	list = writeFile(t, "fleet.csv", ownersList)
	out = filepath.Join(t.TempDir(), "out")
	got = runCtx(ctx, nil, append([]string{"run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out,
		"--concurrency", "1", "--fail-on", "none", "--quiet"}, args...)...)
	if got.code != int(exitIncomplete) {
		t.Fatalf("interrupted run: exit %d, want %d\n%s", got.code, exitIncomplete, got.stderr)
	}
	return out, list, url, got
}

// TestResumeWithoutSplitLeavesNoStaleGroups: an interrupted run split by
// owner_email, resumed without --split-by, left the interrupted attempt's
// by-owner_email beside the whole run's record, and auditor mail
// --mail-to-label then mailed every owner the interrupted figures
// ("PARTIAL: ... (run interrupted)"), exit 0. A rendering leaves no split
// it did not write, and says so.
func TestResumeWithoutSplitLeavesNoStaleGroups(t *testing.T) {
	out, list, url, _ := ownersInterrupted(t, "--split-by", "owner_email")
	split := report.SplitDir(out, "owner_email")
	if _, err := os.Stat(filepath.Join(split, report.SplitIndex)); err != nil {
		t.Fatalf("the interrupted run wrote no split: %v", err)
	}
	got := runCLI(t, "", "run", "--resume", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--fail-on", "none", "--quiet")
	if got.code != 0 {
		t.Fatalf("resume: exit %d\n%s", got.code, got.stderr)
	}
	if ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile)); err != nil || !ri.Complete {
		t.Fatalf("run.json after the resume: complete %v (%v), want a whole run", ri.Complete, err)
	}
	if _, err := os.Stat(split); err == nil {
		t.Errorf("%s, the interrupted attempt's split, is still beside the whole run's record", split)
	}
	if !strings.Contains(got.stderr, split) || !strings.Contains(got.stderr, "--split-by owner_email") {
		t.Errorf("stderr does not say the earlier split was removed, nor how to split again:\n%s", got.stderr)
	}

	ms := newMailSetup(t, smtptest.Options{})
	mail := runCLI(t, "", append([]string{"mail", out, "--mail-to-label", "owner_email"}, ms.args...)...)
	if n := len(ms.srv.Messages()); n != 0 {
		partialMailed(t, ms)
		t.Fatalf("%d messages mailed of a run that is not split\n%s", n, mail.stderr)
	}
	// The command it gives splits the record, and then each owner gets
	// the whole run's figures.
	again := commandsAfter(t, mail.stderr, "split it: ")
	if len(again) != 1 {
		t.Fatalf("mail of a run not split: exit %d, want the command that splits it\n%s", mail.code, mail.stderr)
	}
	if got := runCLI(t, "", append(again[0][1:], "--quiet", "--fail-on", "none")...); got.code != 0 {
		t.Fatalf("%q: exit %d\n%s", again[0], got.code, got.stderr)
	}
	if mail := runCLI(t, "", append([]string{"mail", out, "--mail-to-label", "owner_email"}, ms.args...)...); mail.code != 0 || len(ms.srv.Messages()) != 3 {
		t.Errorf("mail once split: exit %d, %d messages, want 0 and one for each of 3 owners\n%s", mail.code, len(ms.srv.Messages()), mail.stderr)
	}
	partialMailed(t, ms)
}

// partialMailed fails the test for each message ms got that says its
// figures are partial.
func partialMailed(t *testing.T, ms mailSetup) {
	t.Helper()
	for _, m := range ms.srv.Messages() {
		pm, err := smtptest.Parse(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(pm.Subject, "PARTIAL") {
			t.Errorf("%q mailed the interrupted attempt's figures: %q", m.To, pm.Subject)
		}
	}
}

// TestMailRefusesAStaleSplit: a split whose groups are not of the run's
// rendering (one an earlier version left, or copied in by hand) is
// refused by auditor mail, exit 2, naming it and how to split again,
// before any mail is sent; so is one group's directory of it.
func TestMailRefusesAStaleSplit(t *testing.T) {
	out, list, url, _ := ownersInterrupted(t, "--split-by", "owner_email")
	split := report.SplitDir(out, "owner_email")
	kept := filepath.Join(t.TempDir(), "kept")
	if err := os.CopyFS(kept, os.DirFS(split)); err != nil {
		t.Fatal(err)
	}
	got := runCLI(t, "", "run", "--resume", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--fail-on", "none", "--quiet")
	if got.code != 0 {
		t.Fatalf("resume: exit %d\n%s", got.code, got.stderr)
	}
	// As a version that did not remove it left it.
	os.RemoveAll(split)
	if err := os.CopyFS(split, os.DirFS(kept)); err != nil {
		t.Fatal(err)
	}
	ms := newMailSetup(t, smtptest.Options{})
	mail := runCLI(t, "", append([]string{"mail", out, "--mail-to-label", "owner_email", "--to", "ops@example.com"}, ms.args...)...)
	if mail.code != int(exitUsage) || !strings.Contains(mail.stderr, split) || !strings.Contains(mail.stderr, "--split-by owner_email") {
		t.Errorf("mail of a stale split: exit %d, want %d naming %s and how to split again\n%s", mail.code, exitUsage, split, mail.stderr)
	}
	groups, err := splitGroupDirs(split)
	if err != nil || len(groups) == 0 {
		t.Fatalf("no group in %s: %v", split, err)
	}
	group := groups[0]
	one := runCLI(t, "", append([]string{"mail", group, "--to", "alice@example.com"}, ms.args...)...)
	if one.code != int(exitUsage) || !strings.Contains(one.stderr, group) {
		t.Errorf("mail of a stale group: exit %d, want %d naming it\n%s", one.code, exitUsage, one.stderr)
	}
	if n := len(ms.srv.Messages()); n != 0 {
		t.Errorf("%d messages sent of a split that is not the run's", n)
	}
}
