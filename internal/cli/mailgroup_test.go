package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/deliver/smtptest"
	"github.com/auditor-dev/auditor/internal/dirlock"
	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
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
	for _, want := range []string{"one group", "--to", "auditor mail " + out + " --mail-to-label owner_email --mail-from auditor@example.com --smtp "} {
		if !strings.Contains(got.stderr, want) {
			t.Errorf("stderr does not say %q\n%s", want, got.stderr)
		}
	}
	if strings.Contains(got.stderr, "split it") {
		t.Errorf("stderr tells to split a group's directory again\n%s", got.stderr)
	}
}

// heldMail is a mail server whose first command of one stage waits until
// the test lets it go, so that the test can look at what a mail leaves
// while it is being sent (what a kill at that moment leaves).
type heldMail struct {
	mailSetup
	held             atomic.Bool
	mu               sync.Mutex
	reached, release chan struct{}
}

// holdMail starts a heldMail that holds at stage.
func holdMail(t *testing.T, stage smtptest.Stage) *heldMail {
	t.Helper()
	h := &heldMail{}
	h.arm()
	h.mailSetup = newMailSetup(t, smtptest.Options{Reject: func(s smtptest.Stage, n int) *smtptest.Reply {
		if s == stage && h.held.CompareAndSwap(false, true) {
			h.mu.Lock()
			reached, release := h.reached, h.release
			h.mu.Unlock()
			close(reached)
			<-release
		}
		return nil
	}})
	return h
}

// arm holds the next mail that reaches the stage.
func (h *heldMail) arm() {
	h.mu.Lock()
	h.reached, h.release = make(chan struct{}), make(chan struct{})
	h.mu.Unlock()
	h.held.Store(false)
}

// start runs the command in the background; it returns once the server
// holds its mail, and the channel that takes its result once let go.
func (h *heldMail) start(t *testing.T, args ...string) <-chan cliResult {
	t.Helper()
	h.mu.Lock()
	reached := h.reached
	h.mu.Unlock()
	done := make(chan cliResult, 1)
	go func() { done <- runCLI(t, "", args...) }()
	select {
	case <-reached:
	case r := <-done:
		t.Fatalf("%q ended before the server held its mail: exit %d\n%s", args, r.code, r.stderr)
	}
	return done
}

// letGo lets the held mail go; later ones go on unless arm is called.
func (h *heldMail) letGo() {
	h.mu.Lock()
	close(h.release)
	h.mu.Unlock()
}

// TestMailHoldsTheDirectory: two `auditor mail` of one directory at once
// (a cron job and an engineer) each read and wrote its undelivered mark
// as it pleased. A mail holds the run's directory while it sends: another
// mail of it, or of one of its groups, is refused (exit 4), and so is a
// run that would write it.
func TestMailHoldsTheDirectory(t *testing.T) {
	out := ownersRun(t)
	group := filepath.Join(report.SplitDir(out, "owner"), "alice")
	// The first mail waits at its MAIL FROM until the others were tried;
	// theirs, if they get this far, go on.
	ms := holdMail(t, smtptest.StageMail)
	first := ms.start(t, append([]string{"mail", out, "--to", "ops@example.com"}, ms.args...)...)
	if err := dirlock.Held(out); !errors.Is(err, dirlock.ErrBusy) {
		t.Errorf("the run's directory while a mail sends: %v, want it held (a run or resume into it is refused)", err)
	}
	for _, dir := range []string{out, group} {
		got := runCLI(t, "", append([]string{"mail", dir, "--to", "boss@example.com"}, ms.args...)...)
		if got.code != 4 || !strings.Contains(got.stderr, "in use") {
			t.Errorf("mail of %s while another mails the run: exit %d, want 4 and \"in use\"\n%s", dir, got.code, got.stderr)
		}
	}
	ms.letGo()
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

// TestSignalBeforeGroupMail: a signal that comes after the reports and
// before their delivery names what was due and not delivered. Under
// --mail-when changes, a group that a failing instance was handed over to
// is due whatever the run's changes, as the delivery itself says; the
// signal's account of it said "no mail" and "nothing is left undone", and
// the new owner was never told: the next run, compared with this one, saw
// no change in that group.
func TestSignalBeforeGroupMail(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ms := newMailSetup(t, smtptest.Options{})
	url, _ := serve(t, ownersFleet("bob"), ssmsim.Options{})
	root := t.TempDir()
	args := func(week, list string) []string {
		return append([]string{"run", "--instances", writeFile(t, week+".csv", list), "--endpoint-url", url, "--region", "us-east-1",
			"--out", filepath.Join(root, week), "--quiet", "--fail-on", "none", "--baseline", "previous",
			"--mail-when", "changes", "--split-by", "owner", "--mail-to-label", "owner_email"}, ms.args...)
	}
	if got := runCLI(t, "", args("w1", ownersList)...); got.code != 0 {
		t.Fatalf("week 1: exit %d\n%s", got.code, got.stderr)
	}
	// Bob's failing instance goes to carol; nothing else changes. The
	// week's reports are rendered again, and a signal comes before they
	// are delivered.
	handed := strings.Replace(ownersList, "i-00000000000000b01,bob,bob@example.com", "i-00000000000000b01,carol,carol@example.com", 1)
	if got := runCLI(t, "", args("w2", handed)...); got.code != 0 {
		t.Fatalf("week 2: exit %d\n%s", got.code, got.stderr)
	}
	before := len(ms.srv.Messages())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	r2 := filepath.Join(root, "r2")
	code := run(ctx, append([]string{"report", filepath.Join(root, "w2", audit.ResultsFile), "--out", r2, "--fail-on", "none",
		"--baseline", filepath.Join(root, "w1", audit.ResultsFile), "--mail-when", "changes", "--split-by", "owner", "--mail-to-label", "owner_email"}, ms.args...),
		strings.NewReader(""), &stdout, &stderr)
	if n := len(ms.srv.Messages()) - before; code != 5 || n != 0 {
		t.Errorf("a signal before the mail of a group due: exit %d, %d mails, want 5 (not delivered) and none\n%s", code, n, stderr.String())
	}
	if !strings.Contains(stderr.String(), "carol") || !strings.Contains(stderr.String(), "auditor mail") {
		t.Errorf("stderr does not name carol's group and the command that mails it\n%s", stderr.String())
	}
	if _, err := os.Stat(filepath.Join(report.SplitDir(r2, "owner"), "carol", undeliveredFile)); err != nil {
		t.Errorf("carol's group has no mark of its undelivered mail: %v", err)
	}
	if _, err := os.Stat(filepath.Join(report.SplitDir(r2, "owner"), "alice", undeliveredFile)); err == nil {
		t.Errorf("alice's group, not due, is marked undelivered")
	}
}

// TestMailMarkedWhileSending: a run killed while its mail was being sent
// (the server holding the message, the process gone) left no undelivered
// mark: the next run under --mail-when changes saw no change and mailed
// nobody, and the killed run's new failures reached no one. The mark of a
// run's (or report's) own mail is there from before the message goes
// until the server took it. auditor mail's is not: a mail to others, even
// while it is being sent, is not the run's mail undelivered, and a mark
// that cannot be read is not taken away by a mail.
func TestMailMarkedWhileSending(t *testing.T) {
	out := ownersRun(t)
	ms := holdMail(t, smtptest.StageData)
	// The report's own mail, held at its DATA.
	rendered := filepath.Join(t.TempDir(), "r")
	done := ms.start(t, append([]string{"report", filepath.Join(out, audit.ResultsFile), "--out", rendered, "--fail-on", "none", "--quiet", "--mail-to", "ops@example.com"}, ms.args...)...)
	b, err := os.ReadFile(filepath.Join(rendered, undeliveredFile))
	if err != nil || !strings.Contains(string(b), "ops@example.com") {
		t.Errorf("while the message is with the server, the mark: %v %s; want it naming ops@example.com (a kill now must not lose the mail)", err, b)
	}
	ms.letGo()
	if r := <-done; r.code != 0 || strings.Contains(r.stderr, "warning") {
		t.Fatalf("report: exit %d, want 0 and no warning\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(rendered, undeliveredFile)); err == nil {
		t.Errorf("the mark is still there after the server took the mail")
	}

	// auditor mail to others, held at its DATA: no mark meanwhile.
	ms.arm()
	done = ms.start(t, append([]string{"mail", rendered, "--to", "boss@example.com"}, ms.args...)...)
	if _, err := os.Stat(filepath.Join(rendered, undeliveredFile)); err == nil {
		t.Errorf("a mail of the run to others, being sent, marks the run's mail undelivered")
	}
	ms.letGo()
	if r := <-done; r.code != 0 {
		t.Fatalf("mail to others: exit %d\n%s", r.code, r.stderr)
	}

	// A mark that cannot be read stays, whatever mail goes.
	garbled := []byte("{garbled")
	if err := os.WriteFile(filepath.Join(rendered, undeliveredFile), garbled, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, "", append([]string{"mail", rendered, "--to", "boss@example.com"}, ms.args...)...); r.code != 0 {
		t.Fatalf("mail: exit %d\n%s", r.code, r.stderr)
	}
	if b, err := os.ReadFile(filepath.Join(rendered, undeliveredFile)); err != nil || string(b) != string(garbled) {
		t.Errorf("an unreadable mark after a mail: %v %q, want it kept as it was", err, b)
	}
	if r := runCLI(t, "", append([]string{"report", filepath.Join(rendered, audit.ResultsFile), "--out", rendered, "--fail-on", "none", "--quiet", "--mail-to", "ops@example.com"}, ms.args...)...); r.code != 0 {
		t.Fatalf("report in place with its mail: exit %d\n%s", r.code, r.stderr)
	}
	if b, err := os.ReadFile(filepath.Join(rendered, undeliveredFile)); err != nil || string(b) != string(garbled) {
		t.Errorf("an unreadable mark after the report's own mail: %v %q, want it kept as it was", err, b)
	}
}

// TestMailOfReportsOfAnotherAttempt: a resume killed while it rendered
// leaves its record whole and the CSVs new, and run.json, summary.json,
// report.html and report.xlsx of the attempt before (run.json is written
// last). auditor mail took the subject from the new record under the old
// run.json and attached the old workbook: figures that contradict each
// other. It is refused (exit 2), naming what makes them agree: the resume
// that ends the run (or, for a merge, its auditor report again).
func TestMailOfReportsOfAnotherAttempt(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids, url, srv := scheduledFleet(t, 60)
	out := filepath.Join(t.TempDir(), "out")
	args := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--fail-on", "none", "--quiet", "--out", out}
	srv.StallFrom(4)
	if got := runCLI(t, "", append(args, "--concurrency", "1", "--timeout", stallTimeout.String())...); got.code != 3 {
		t.Fatalf("first attempt, stopped by --timeout: exit %d, want 3\n%s", got.code, got.stderr)
	}
	srv.StallFrom(0)
	first, err := os.ReadFile(filepath.Join(out, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	if got := runCLI(t, "", append(args, "--resume")...); got.code != 0 {
		t.Fatalf("resume: exit %d\n%s", got.code, got.stderr)
	}
	// What a kill while the resume rendered leaves: the first attempt's
	// run.json beside the whole record.
	if err := os.WriteFile(filepath.Join(out, audit.RunFile), first, 0o644); err != nil {
		t.Fatal(err)
	}
	ms := newMailSetup(t, smtptest.Options{})
	got := runCLI(t, "", append([]string{"mail", out, "--to", "ops@example.com"}, ms.args...)...)
	if got.code != 2 || len(ms.srv.Messages()) != 0 {
		t.Errorf("mail of reports of two attempts: exit %d, %d messages, want 2 and none\n%s", got.code, len(ms.srv.Messages()), got.stderr)
	}
	if want := "auditor run --resume"; !strings.Contains(got.stderr, want) {
		t.Errorf("stderr does not name %q\n%s", want, got.stderr)
	}
	// Resumed, the run ends and its reports are the record's, and mailed.
	if r := runCLI(t, "", append(args, "--resume")...); r.code != 0 {
		t.Fatalf("resume after the kill: exit %d\n%s", r.code, r.stderr)
	}
	if r := runCLI(t, "", append([]string{"mail", out, "--to", "ops@example.com"}, ms.args...)...); r.code != 0 || len(ms.srv.Messages()) != 1 {
		t.Errorf("mail after the resume: exit %d, %d messages, want 0 and 1\n%s", r.code, len(ms.srv.Messages()), r.stderr)
	}
}

// TestGroupsMarkedWhileFirstSends: a run mailing each owner by label that
// was killed while the first group's message was with the server left a
// mark on that group only: the next run, compared with it under --mail-when
// changes, mailed no other owner, and their changes reached no one. Until
// the mailing of the groups ends, the run says it is under way, and a run
// compared with it (a copy of it at that moment is what a kill leaves)
// mails every group whatever changed.
func TestGroupsMarkedWhileFirstSends(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ms := holdMail(t, smtptest.StageData)
	url, _ := serve(t, ownersFleet("bob"), ssmsim.Options{})
	root := t.TempDir()
	args := func(week string, more ...string) []string {
		return append(append([]string{"run", "--instances", writeFile(t, week+".csv", ownersList), "--endpoint-url", url, "--region", "us-east-1",
			"--out", filepath.Join(root, week), "--quiet", "--fail-on", "none",
			"--mail-when", "changes", "--split-by", "owner", "--mail-to-label", "owner_email"}, more...), ms.args...)
	}
	done := ms.start(t, args("w1")...)
	killed := filepath.Join(root, "killed")
	if err := os.CopyFS(killed, os.DirFS(filepath.Join(root, "w1"))); err != nil {
		t.Fatal(err)
	}
	ms.letGo()
	if r := <-done; r.code != 0 {
		t.Fatalf("week 1: exit %d\n%s", r.code, r.stderr)
	}
	before := len(ms.srv.Messages())
	got := runCLI(t, "", args("w2", "--baseline", killed)...)
	var to []string
	for _, m := range ms.srv.Messages()[before:] {
		to = append(to, m.To...)
	}
	for _, want := range []string{"bob@example.com", "carol@example.com"} {
		if got.code != 0 || !slices.Contains(to, want) {
			t.Errorf("week 2, compared with week 1 killed while mailing its first group: exit %d, mailed %q, want %s among them\n%s", got.code, to, want, got.stderr)
		}
	}
	// Week 1 itself ended its mailing: compared with it, nothing changed,
	// and nobody is mailed.
	before = len(ms.srv.Messages())
	if got := runCLI(t, "", args("w3", "--baseline", filepath.Join(root, "w1"))...); got.code != 0 || len(ms.srv.Messages()) != before {
		t.Errorf("week 3, compared with week 1 whose mailing ended: exit %d, %d mails, want none\n%s", got.code, len(ms.srv.Messages())-before, got.stderr)
	}
}

// TestFailedMailKeepsTheMarksAsTheyWere: auditor mail to others that
// failed marked the run's mail undelivered to them, so that the run
// compared with it was mailed, saying its baseline's mail was not
// delivered; and a run's own mail that failed rewrote a mark that could
// not be read, which its next successful mail then took away.
func TestFailedMailKeepsTheMarksAsTheyWere(t *testing.T) {
	out := ownersRun(t)
	refuse := &smtptest.Reply{Code: 554, Message: "5.7.1 refused"}
	ms := newMailSetup(t, smtptest.Options{Reject: func(stage smtptest.Stage, n int) *smtptest.Reply {
		if stage == smtptest.StageData {
			return refuse
		}
		return nil
	}})
	if r := runCLI(t, "", append([]string{"mail", out, "--to", "boss@example.com"}, ms.args...)...); r.code != 5 {
		t.Fatalf("mail to others, refused: exit %d, want 5\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(out, undeliveredFile)); err == nil {
		t.Errorf("a refused mail of the run to others marked the run's mail undelivered")
	}
	garbled := []byte("{garbled")
	rendered := filepath.Join(t.TempDir(), "r")
	if err := os.MkdirAll(rendered, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rendered, undeliveredFile), garbled, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, "", append([]string{"report", filepath.Join(out, audit.ResultsFile), "--out", rendered, "--fail-on", "none", "--quiet", "--mail-to", "ops@example.com"}, ms.args...)...); r.code != 5 {
		t.Fatalf("report with its mail refused: exit %d, want 5\n%s", r.code, r.stderr)
	}
	if b, err := os.ReadFile(filepath.Join(rendered, undeliveredFile)); err != nil || string(b) != string(garbled) {
		t.Errorf("an unreadable mark after the report's mail failed: %v %q, want it kept as it was", err, b)
	}
}
