package cli

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/deliver/smtptest"
	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
)

// mailedSince returns the recipients of the messages the server took
// after the first before, sorted.
func mailedSince(ms mailSetup, before int) []string {
	var to []string
	for _, m := range ms.srv.Messages()[before:] {
		to = append(to, m.To...)
	}
	slices.Sort(to)
	return to
}

// ownersRetryArgs is the scheduled command of the retry tests: the run's
// own mail to ops, a mail for each owner, --resume as a CronJob's pod has
// it.
func ownersRetryArgs(t *testing.T, ms mailSetup, url, out string, more ...string) []string {
	t.Helper()
	return append(append([]string{"run", "--instances", writeFile(t, "fleet.csv", ownersList), "--endpoint-url", url, "--region", "us-east-1",
		"--out", out, "--resume", "--fail-on", "none", "--quiet",
		"--split-by", "owner", "--mail-to-label", "owner_email", "--mail-to", "ops@example.com"}, more...), ms.args...)
}

// TestRetryMailsNobodyTwice: a run killed once its mail to ops and to
// alice had gone (the pod of a CronJob evicted, an AWS Batch host lost)
// is retried with the same command: the retry audited nothing, and
// mailed ops and every owner again. A mail the server took is kept in a
// mark: the retry mails only bob and carol, says what an earlier attempt
// mailed, and a retry after that mails nobody.
func TestRetryMailsNobodyTwice(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, ownersFleet("bob"), ssmsim.Options{})
	// The third message (ops's, alice's, then bob's) waits at its MAIL
	// FROM: a copy of the directory then is what a kill leaves.
	ms, reached, release := heldAtThirdMail(t)
	root := t.TempDir()
	killed := filepath.Join(root, "killed")
	copyHeld(t, ownersRetryArgs(t, ms, url, filepath.Join(root, "run")), filepath.Join(root, "run"), killed, reached, release, "the run", "its third mail")

	before := len(ms.srv.Messages())
	got := runCLI(t, "", ownersRetryArgs(t, ms, url, killed)...)
	if to, want := mailedSince(ms, before), []string{"bob@example.com", "carol@example.com"}; got.code != 0 || !slices.Equal(to, want) {
		t.Errorf("the retry of a run killed after 2 mails: exit %d, mailed %q, want 0 and %q only\n%s", got.code, to, want, got.stderr)
	}
	for _, want := range []string{"ops@example.com", "alice@example.com"} {
		if !strings.Contains(got.stderr, "already mailed") || !strings.Contains(got.stderr, want) {
			t.Errorf("stderr does not say that an earlier attempt mailed %s\n%s", want, got.stderr)
		}
	}
	before = len(ms.srv.Messages())
	if again := runCLI(t, "", ownersRetryArgs(t, ms, url, killed)...); again.code != 0 || len(ms.srv.Messages()) != before {
		t.Errorf("a retry of a run whose mail all went: exit %d, %d messages, want 0 and none\n%s", again.code, len(ms.srv.Messages())-before, again.stderr)
	}
	// auditor mail, asked for, sends again.
	before = len(ms.srv.Messages())
	if r := runCLI(t, "", append([]string{"mail", killed, "--to", "ops@example.com"}, ms.args...)...); r.code != 0 || len(ms.srv.Messages()) != before+1 {
		t.Errorf("auditor mail of a run mailed: exit %d, %d messages, want 0 and 1\n%s", r.code, len(ms.srv.Messages())-before, r.stderr)
	}
}

// TestRetryLeavesAMailThatMayHaveGone: alice's and bob's mails were sent
// whole and the server did not answer (each may have been delivered: a
// person decides), and the server was not asked again for carol: exit 5.
// The same command again (a retry of the job), the server answering now,
// mailed ops, alice, bob and carol. It mails carol only, exits 5 again,
// and gives alice's and bob's mails on the lines that say they may have
// been delivered.
func TestRetryLeavesAMailThatMayHaveGone(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, ownersFleet("bob"), ssmsim.Options{})
	var answering atomic.Bool
	ms := newMailSetup(t, smtptest.Options{DropAfterData: func(n int) bool { return !answering.Load() && n >= 2 }})
	out := filepath.Join(t.TempDir(), "run")
	first := runCLI(t, "", ownersRetryArgs(t, ms, url, out)...)
	if to, want := mailedSince(ms, 0), []string{"alice@example.com", "bob@example.com", "ops@example.com"}; first.code != 5 || !slices.Equal(to, want) {
		t.Fatalf("first attempt: exit %d, mailed %q, want 5 and %q (whose answers were lost after ops's)\n%s", first.code, to, want, first.stderr)
	}
	answering.Store(true)
	before := len(ms.srv.Messages())
	got := runCLI(t, "", ownersRetryArgs(t, ms, url, out)...)
	if to, want := mailedSince(ms, before), []string{"carol@example.com"}; got.code != 5 || !slices.Equal(to, want) {
		t.Errorf("the retry: exit %d, mailed %q, want 5 and %q only\n%s", got.code, to, want, got.stderr)
	}
	var maybe []string
	for _, words := range commandsAfter(t, got.stderr, "only if its recipients did not get it, send it again with: ") {
		if i := slices.Index(words, "--to"); i > 0 {
			maybe = append(maybe, words[i+1])
		}
	}
	if want := []string{"alice@example.com", "bob@example.com"}; !slices.Equal(maybe, want) {
		t.Errorf("commands for a mail that may have been delivered, to %q, want %q\n%s", maybe, want, got.stderr)
	}
	if cmds := retryCommands(t, got.stderr); len(cmds) != 0 {
		t.Errorf("commands to deliver again after a retry: %q, want none\n%s", cmds, got.stderr)
	}
}

// TestKilledBeforeItsMailLooksUndelivered: a run killed once its run.json
// was written and before its mail was tried (here during its upload,
// which goes first) left no mark: the next run under --mail-when changes
// saw no change since it and mailed nobody, and what changed in the
// killed run reached no one. The marks are there before the reports are
// written, and gone once the mail went or turned out not to be due.
func TestKilledBeforeItsMailLooksUndelivered(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, ownersFleet("bob"), ssmsim.Options{})
	ms := newMailSetup(t, smtptest.Options{})
	backend := s3mem.New()
	if err := backend.CreateBucket("reports"); err != nil {
		t.Fatal(err)
	}
	fake := gofakes3.New(backend).Server()
	var once sync.Once
	reached, release := make(chan struct{}), make(chan struct{})
	s3 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			once.Do(func() { close(reached); <-release })
		}
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(s3.Close)
	t.Setenv("AWS_ENDPOINT_URL_S3", s3.URL)
	root := t.TempDir()
	list := writeFile(t, "fleet.csv", ownersList)
	args := func(week string, more ...string) []string {
		return append(append([]string{"run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1",
			"--out", filepath.Join(root, week), "--quiet", "--fail-on", "none", "--mail-when", "changes", "--mail-to", "ops@example.com",
			"--split-by", "owner", "--mail-to-label", "owner_email"}, more...), ms.args...)
	}
	killed := filepath.Join(root, "killed")
	copyHeld(t, args("w1", "--upload", "s3://reports/w1/"), filepath.Join(root, "w1"), killed, reached, release, "week 1", "its upload")

	before := len(ms.srv.Messages())
	got := runCLI(t, "", args("w2", "--baseline", killed)...)
	to := mailedSince(ms, before)
	for _, want := range []string{"ops@example.com", "alice@example.com", "bob@example.com", "carol@example.com"} {
		if got.code != 0 || !slices.Contains(to, want) {
			t.Errorf("week 2, compared with week 1 killed before its mail: exit %d, mailed %q, want %s among them\n%s", got.code, to, want, got.stderr)
		}
	}
	// Week 1 itself mailed: compared with it, nothing changed, nobody is
	// mailed, and week 3, whose mail was not due, is left unmarked.
	before = len(ms.srv.Messages())
	got = runCLI(t, "", args("w3", "--baseline", filepath.Join(root, "w1"))...)
	if got.code != 0 || len(ms.srv.Messages()) != before {
		t.Errorf("week 3, compared with week 1 whose mail went: exit %d, %d mails, want none\n%s", got.code, len(ms.srv.Messages())-before, got.stderr)
	}
	// A temporary file that a kill left while a mark was written is no
	// mark.
	stray := filepath.Join(root, "w1", "."+undeliveredFile+".tmp-0123456789ab")
	if err := os.WriteFile(stray, []byte(`{"to":["ops@example.com"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	before = len(ms.srv.Messages())
	if got := runCLI(t, "", args("w4", "--baseline", filepath.Join(root, "w1"))...); got.code != 0 || len(ms.srv.Messages()) != before {
		t.Errorf("week 4, compared with week 1 and a stray temporary mark: exit %d, %d mails, want none\n%s", got.code, len(ms.srv.Messages())-before, got.stderr)
	}
	for _, week := range []string{"w1", "w3"} {
		for _, mark := range []string{undeliveredFile, groupsPendingFile} {
			if _, err := os.Stat(filepath.Join(root, week, mark)); err == nil {
				t.Errorf("%s: %s left by a run whose mail went or was not due", week, mark)
			}
		}
	}
}

// TestResumeThatAuditedMoreMailsAgain: what an earlier attempt mailed
// holds back only the same record's mail. A run that --timeout stopped
// mails its reports marked PARTIAL; its resume audits the rest and mails
// the whole reports to the same addresses.
func TestResumeThatAuditedMoreMailsAgain(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids, url, srv := scheduledFleet(t, 60)
	ms := newMailSetup(t, smtptest.Options{})
	out := filepath.Join(t.TempDir(), "out")
	args := append([]string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--fail-on", "none", "--quiet", "--out", out,
		"--mail-to", "ops@example.com"}, ms.args...)
	srv.StallFrom(4)
	if got := runCLI(t, "", append(args, "--concurrency", "1", "--timeout", stallTimeout.String())...); got.code != 3 || len(ms.srv.Messages()) != 1 {
		t.Fatalf("first attempt, stopped by --timeout: exit %d, %d messages, want 3 and 1\n%s", got.code, len(ms.srv.Messages()), got.stderr)
	}
	srv.StallFrom(0)
	got := runCLI(t, "", append(args, "--resume")...)
	msgs := ms.srv.Messages()
	if got.code != 0 || len(msgs) != 2 {
		t.Fatalf("resume that audited the rest: exit %d, %d messages, want 0 and 2\n%s", got.code, len(msgs), got.stderr)
	}
	m, err := smtptest.Parse(msgs[1].Data)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.Subject, "PARTIAL") {
		t.Errorf("the resume's mail: subject %q, want the whole run's", m.Subject)
	}
}

// TestSignalBeforeARetrysDelivery: a retry of a report killed after its
// mail to ops and to alice, stopped by a signal before its own delivery,
// gave the command that mails every group by the label, and the one that
// mails ops: run, they mailed ops and alice again. Its commands mail bob
// and carol only.
func TestSignalBeforeARetrysDelivery(t *testing.T) {
	src := ownersRun(t)
	ms, reached, release := heldAtThirdMail(t)
	root := t.TempDir()
	args := func(out string) []string {
		return append([]string{"report", filepath.Join(out, "results.jsonl"), "--out", out, "--fail-on", "none", "--quiet",
			"--split-by", "owner", "--mail-to-label", "owner_email", "--mail-to", "ops@example.com"}, ms.args...)
	}
	// Rendered again in place, as a job retried renders its record.
	if err := os.CopyFS(filepath.Join(root, "merged"), os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	killed := filepath.Join(root, "killed")
	copyHeld(t, args(filepath.Join(root, "merged")), filepath.Join(root, "merged"), killed, reached, release, "the report", "its third mail")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got := runCtx(ctx, nil, args(killed)...)
	if got.code != int(exitDelivery) {
		t.Fatalf("the retry, stopped before its delivery: exit %d, want %d\n%s", got.code, exitDelivery, got.stderr)
	}
	before := len(ms.srv.Messages())
	runRetries(t, ms, got.stderr)
	if to, want := mailedSince(ms, before), []string{"bob@example.com", "carol@example.com"}; !slices.Equal(to, want) {
		t.Errorf("the commands of a retry stopped before its delivery mailed %q, want %q only\n%s", to, want, got.stderr)
	}
}

// TestRetryAfterKill9MailsNobodyTwice: the reviewer's case with the real
// binary: kill -9 once the server took the mail to ops and to alice, and
// the same command again (a pod's retry) mails bob and carol only.
func TestRetryAfterKill9MailsNobodyTwice(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary: skipped with -short")
	}
	bin := binary(t)
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, ownersFleet("bob"), ssmsim.Options{})
	// The process, once started: the server's goroutine kills it.
	var proc atomic.Pointer[os.Process]
	started := make(chan struct{})
	ms := newMailSetup(t, smtptest.Options{Reject: func(s smtptest.Stage, n int) *smtptest.Reply {
		if s == smtptest.StageMail && n == 3 {
			<-started
			proc.Load().Kill()
			return &smtptest.Reply{Code: 421, Message: "4.3.2 going away"}
		}
		return nil
	}})
	args := ownersRetryArgs(t, ms, url, filepath.Join(t.TempDir(), "run"))
	c := exec.Command(bin, args...)
	var stderr bytes.Buffer
	c.Stderr = &stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	proc.Store(c.Process)
	close(started)
	if err := c.Wait(); c.ProcessState == nil || c.ProcessState.ExitCode() != -1 {
		t.Fatalf("the first attempt: %v, want killed\n%s", err, stderr.String())
	}
	if to := mailedSince(ms, 0); !slices.Equal(to, []string{"alice@example.com", "ops@example.com"}) {
		t.Fatalf("the first attempt mailed %q, want ops and alice before the kill\n%s", to, stderr.String())
	}
	before := len(ms.srv.Messages())
	again := exec.Command(bin, args...)
	out, err := again.CombinedOutput()
	if to, want := mailedSince(ms, before), []string{"bob@example.com", "carol@example.com"}; err != nil || !slices.Equal(to, want) {
		t.Errorf("the retry: %v, mailed %q, want exit 0 and %q only\n%s", err, to, want, out)
	}
}

// copyHeld runs args, whose output directory is dir, until reached says it
// is held at what (a server that holds its answer until release is
// closed), copies dir to killed, which is what a process killed at that
// moment leaves, then lets it go on and wants exit 0 of it.
func copyHeld(t *testing.T, args []string, dir, killed string, reached <-chan struct{}, release chan struct{}, name, what string) {
	t.Helper()
	done := make(chan cliResult, 1)
	go func() { done <- runCLI(t, "", args...) }()
	select {
	case <-reached:
	case r := <-done:
		t.Fatalf("%s ended before %s: exit %d\n%s", name, what, r.code, r.stderr)
	}
	if err := os.CopyFS(killed, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	close(release)
	if r := <-done; r.code != 0 {
		t.Fatalf("%s: exit %d\n%s", name, r.code, r.stderr)
	}
}

// TestMailedAfterASignalLeavesNoMark: a report stopped by a signal before
// its delivery prints the commands that deliver it; once they mailed ops
// and every group, the run's groups were still marked pending (written
// before the reports, and taken off only by a run's own mailing), and the
// run compared with it the week after mailed every owner though nothing
// had changed. What auditor mail delivered whole leaves no mark.
func TestMailedAfterASignalLeavesNoMark(t *testing.T) {
	src := ownersRun(t)
	ms := newMailSetup(t, smtptest.Options{})
	out := filepath.Join(t.TempDir(), "again")
	if err := os.CopyFS(out, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got := runCtx(ctx, nil, append([]string{"report", filepath.Join(out, "results.jsonl"), "--out", out, "--fail-on", "none", "--quiet",
		"--split-by", "owner", "--mail-to-label", "owner_email", "--mail-to", "ops@example.com"}, ms.args...)...)
	if got.code != int(exitDelivery) {
		t.Fatalf("stopped before its delivery: exit %d, want %d\n%s", got.code, exitDelivery, got.stderr)
	}
	if mailed := runRetries(t, ms, got.stderr); len(mailed) == 0 {
		t.Fatalf("the commands printed mailed nobody\n%s", got.stderr)
	}
	// Not filepath.Glob: a '[' in TMPDIR would make it match nothing.
	for _, name := range []string{groupsPendingFile, undeliveredFile} {
		if p := filepath.Join(out, name); statOK(p) {
			t.Errorf("%s left once every mail went", p)
		}
		if m := groupMarkFiles(out, name); len(m) > 0 {
			t.Errorf("%s left once every mail went", m)
		}
	}
}

// TestGroupRenderedAgainIsMailedAgain: a group's mail was kept by its
// run's record alone, so a group rendered again in place from another
// record (auditor report of its results.jsonl with another --baseline,
// which rewrites that record) was taken as mailed already, and its owner
// never got the new reports. A group's mail is kept with its own record.
func TestGroupRenderedAgainIsMailedAgain(t *testing.T) {
	run := t.TempDir()
	group := filepath.Join(run, "by-owner", "alice")
	if err := os.MkdirAll(group, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(run, audit.RunFile), filepath.Join(run, audit.ResultsFile), filepath.Join(group, audit.ResultsFile)} {
		if err := os.WriteFile(p, []byte("{}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	warnf := func(string, ...any) {}
	dl := &delivery{out: run, toFlag: "mail-to", logf: warnf, warnf: warnf}
	src := mailSource{dir: group, run: audit.RunInfo{StartedAt: time.Date(2026, 11, 30, 3, 15, 0, 0, time.UTC)}}
	to := []string{"alice@example.com"}
	dl.keepSent(src, to, false)
	if sent, _ := dl.earlier(src, to); !slices.Equal(sent, to) {
		t.Fatalf("the same group's record: earlier mailed %q, want %q", sent, to)
	}
	// Rendered again with another baseline: a group without failures
	// has the same record, byte for byte, and other changes.
	if err := os.WriteFile(filepath.Join(group, report.ChangesCSV), []byte("change\nnew_instance\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if sent, _ := dl.earlier(src, to); len(sent) > 0 {
		t.Errorf("the group's changes rewritten: taken as mailed to %q already", sent)
	}
	dl.keepSent(src, to, false)
	// Rendered again from another record: the group's own grows.
	if err := os.WriteFile(filepath.Join(group, audit.ResultsFile), []byte("{}\n{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if sent, _ := dl.earlier(src, to); len(sent) > 0 {
		t.Errorf("the group's record rewritten: taken as mailed to %q already", sent)
	}
	// The run's own mail, too.
	own := mailSource{dir: run, run: src.run}
	dl.keepSent(own, to, false)
	if err := os.WriteFile(filepath.Join(run, report.ChangesCSV), []byte("change\nresolved\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if sent, _ := dl.earlier(own, to); len(sent) > 0 {
		t.Errorf("the run's changes rewritten: taken as mailed to %q already", sent)
	}
}

// TestMailOfGroupsKeepsThemPending: auditor mail of every group took the
// groups' pending mark off when it mailed none of them (a split stopped
// midway, without its index) and when it left the group of no owner
// unmailed for want of --to: the run compared with it then mailed only
// what changed, and a group due since that run got nothing.
func TestMailOfGroupsKeepsThemPending(t *testing.T) {
	for _, tc := range []struct {
		name, list string
		spoil      string // a file of the run taken away
	}{
		{"the split's index gone", ownersList, filepath.Join("by-owner", report.SplitIndex)},
		{"the group of no owner, no --to", "instance_id,owner,owner_email\ni-00000000000000a01,alice,alice@example.com\ni-00000000000000c01,,carol@example.com\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := ownersRunOf(t, tc.list)
			ms := newMailSetup(t, smtptest.Options{})
			out := filepath.Join(t.TempDir(), "run")
			if err := os.CopyFS(out, os.DirFS(src)); err != nil {
				t.Fatal(err)
			}
			pending := filepath.Join(out, groupsPendingFile)
			if err := os.WriteFile(pending, []byte(groupsUntried), 0o600); err != nil {
				t.Fatal(err)
			}
			if tc.spoil != "" {
				if err := os.Remove(filepath.Join(out, tc.spoil)); err != nil {
					t.Fatal(err)
				}
			}
			got := runCLI(t, "", append([]string{"mail", out, "--mail-to-label", "owner_email"}, ms.args...)...)
			if _, err := os.Stat(pending); err != nil {
				t.Errorf("exit %d, and the groups' pending mark is gone: %v\n%s", got.code, err, got.stderr)
			}
		})
	}
}

// heldAtThirdMail serves mail whose third message waits at its MAIL FROM
// until release is closed, once reached says it got there: a copy of the
// directory then is what a kill leaves (copyHeld).
func heldAtThirdMail(t *testing.T) (ms mailSetup, reached <-chan struct{}, release chan struct{}) {
	t.Helper()
	var held atomic.Bool
	at := make(chan struct{})
	release = make(chan struct{})
	ms = newMailSetup(t, smtptest.Options{Reject: func(s smtptest.Stage, n int) *smtptest.Reply {
		if s == smtptest.StageMail && n == 3 && held.CompareAndSwap(false, true) {
			close(at)
			<-release
		}
		return nil
	}})
	return ms, at, release
}
