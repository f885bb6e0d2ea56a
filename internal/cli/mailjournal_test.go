package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/deliver/smtptest"
	"github.com/auditor-dev/auditor/ssmsim"
)

// groupsRun makes a run's directory with n groups split by owner, each
// with a record of its own, and returns the run's directory, the source of
// each group's mail and its address.
func groupsRun(t testing.TB, n int) (run string, srcs []mailSource, to [][]string) {
	t.Helper()
	run = t.TempDir()
	for _, p := range []string{audit.RunFile, audit.ResultsFile} {
		if err := os.WriteFile(filepath.Join(run, p), []byte("{}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	info := audit.RunInfo{StartedAt: time.Date(2026, 11, 30, 3, 15, 0, 0, time.UTC)}
	for i := range n {
		owner := fmt.Sprintf("owner%04d", i)
		group := filepath.Join(run, "by-owner", owner)
		if err := os.MkdirAll(group, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(group, audit.ResultsFile), []byte("{}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, mailSource{dir: group, run: info})
		to = append(to, []string{owner + "@example.com"})
	}
	return run, srcs, to
}

// quietDelivery is a run's own delivery of run that says nothing.
func quietDelivery(run string) *delivery {
	warnf := func(string, ...any) {}
	return &delivery{out: run, toFlag: "mail-to", logf: warnf, warnf: warnf}
}

// TestMailSentIsAppendedTo: each group's mail rewrote the whole of
// sentFile (read twice, written to a temporary file, synced and renamed),
// so that 3,000 groups wrote some 650 MB for a file of 417 KB. A mail kept
// adds to the file in place: what was there stays, the same file, and a
// retry's delivery learns every group's mail from it.
func TestMailSentIsAppendedTo(t *testing.T) {
	run, srcs, to := groupsRun(t, 40)
	dl := quietDelivery(run)
	p := filepath.Join(run, sentFile)
	var before []byte
	var beforeSt os.FileInfo
	for i, src := range srcs {
		if rest, gone := dl.notYet(src, to[i]); len(rest) != 1 || gone != nil {
			t.Fatalf("group %d: notYet %q, %v, want its address", i, rest, gone)
		}
		dl.keepSent(src, to[i], false)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if beforeSt != nil && (!os.SameFile(beforeSt, st) || !bytes.HasPrefix(b, before)) {
			t.Fatalf("the mail of group %d rewrote %s (same file %v), want it appended to:\nbefore:\n%s\nafter:\n%s",
				i, sentFile, os.SameFile(beforeSt, st), before, b)
		}
		if beforeSt != nil && len(b)-len(before) > 400 {
			t.Errorf("the mail of group %d added %d bytes, want one line", i, len(b)-len(before))
		}
		before, beforeSt = b, st
	}
	retry := quietDelivery(run)
	for i, src := range srcs {
		if sent, maybe := retry.earlier(src, to[i]); !slices.Equal(sent, to[i]) || len(maybe) > 0 {
			t.Errorf("a retry: group %d mailed to %q, maybe %q, want %q", i, sent, maybe, to[i])
		}
	}
}

// TestMailSentReadOncePerDelivery: a delivery read the whole sentFile
// again for each group's mail, twice. It reads it once, and keeps it in
// step with what it writes there (the run's lock, which it holds, keeps
// others from writing it).
func TestMailSentReadOncePerDelivery(t *testing.T) {
	run, srcs, to := groupsRun(t, 3)
	dl := quietDelivery(run)
	dl.keepSent(srcs[0], to[0], false)
	// Taken away behind the delivery's back: what it knows stays.
	if err := os.Remove(filepath.Join(run, sentFile)); err != nil {
		t.Fatal(err)
	}
	dl.keepSent(srcs[1], to[1], true)
	if sent, _ := dl.earlier(srcs[0], to[0]); !slices.Equal(sent, to[0]) {
		t.Errorf("group 0, once the file was read: mailed to %q, want %q (the file read again)", sent, to[0])
	}
	if _, maybe := dl.earlier(srcs[1], to[1]); !slices.Equal(maybe, to[1]) {
		t.Errorf("group 1: maybe mailed to %q, want %q", maybe, to[1])
	}
	// A later mail that the server took is no longer a maybe.
	dl.keepSent(srcs[1], to[1], false)
	if sent, maybe := dl.earlier(srcs[1], to[1]); !slices.Equal(sent, to[1]) || len(maybe) > 0 {
		t.Errorf("group 1 mailed again: sent %q, maybe %q, want sent %q", sent, maybe, to[1])
	}
	if sent, maybe := quietDelivery(run).earlier(srcs[1], to[1]); !slices.Equal(sent, to[1]) || len(maybe) > 0 {
		t.Errorf("group 1, read by another delivery: sent %q, maybe %q, want sent %q", sent, maybe, to[1])
	}
}

// TestMailSentTornLine: a process killed while it added a mail to
// sentFile leaves its last line cut short. The mails before it are kept,
// and the next mail kept makes the file whole again.
func TestMailSentTornLine(t *testing.T) {
	run, srcs, to := groupsRun(t, 3)
	dl := quietDelivery(run)
	dl.keepSent(srcs[0], to[0], false)
	dl.keepSent(srcs[1], to[1], true)
	f, err := os.OpenFile(filepath.Join(run, sentFile), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"record":{"started_at":"2026-11-30T03:15:00Z","results_si`); err != nil {
		t.Fatal(err)
	}
	f.Close()
	retry := quietDelivery(run)
	if sent, _ := retry.earlier(srcs[0], to[0]); !slices.Equal(sent, to[0]) {
		t.Errorf("a torn last line: group 0 mailed to %q, want %q", sent, to[0])
	}
	if _, maybe := retry.earlier(srcs[1], to[1]); !slices.Equal(maybe, to[1]) {
		t.Errorf("a torn last line: group 1 maybe mailed to %q, want %q", maybe, to[1])
	}
	retry.keepSent(srcs[2], to[2], false)
	again := quietDelivery(run)
	for i, src := range srcs {
		sent, maybe := again.earlier(src, to[i])
		if got := append(sent, maybe...); !slices.Equal(got, to[i]) {
			t.Errorf("after a torn line and one more mail: group %d mailed to %q, want %q", i, got, to[i])
		}
	}
}

// TestMailSentOfAnotherRecord: the mails of another record (a resume
// that audited more) are news to everyone: the file is begun anew.
func TestMailSentOfAnotherRecord(t *testing.T) {
	run, srcs, to := groupsRun(t, 2)
	dl := quietDelivery(run)
	dl.keepSent(srcs[0], to[0], false)
	if err := os.WriteFile(filepath.Join(run, audit.ResultsFile), []byte("{}\n{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if sent, _ := dl.earlier(srcs[0], to[0]); len(sent) > 0 {
		t.Errorf("another record: group 0 taken as mailed to %q already", sent)
	}
	dl.keepSent(srcs[1], to[1], false)
	b, err := os.ReadFile(filepath.Join(run, sentFile))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), to[0][0]) {
		t.Errorf("the mails of the record before are still in %s:\n%s", sentFile, b)
	}
	retry := quietDelivery(run)
	if sent, _ := retry.earlier(srcs[0], to[0]); len(sent) > 0 {
		t.Errorf("another record, read again: group 0 taken as mailed to %q already", sent)
	}
	if sent, _ := retry.earlier(srcs[1], to[1]); !slices.Equal(sent, to[1]) {
		t.Errorf("another record, read again: group 1 mailed to %q, want %q", sent, to[1])
	}
}

// TestMailSentTooBig: a sentFile past maxMark is not read: the mail goes
// again rather than to nobody, and the file is begun anew.
func TestMailSentTooBig(t *testing.T) {
	run, srcs, to := groupsRun(t, 1)
	if err := os.WriteFile(filepath.Join(run, sentFile), bytes.Repeat([]byte(" "), maxMark+1), 0o644); err != nil {
		t.Fatal(err)
	}
	dl := quietDelivery(run)
	if rest, gone := dl.notYet(srcs[0], to[0]); !slices.Equal(rest, to[0]) || gone != nil {
		t.Errorf("a file past %d bytes: mails %q, %v, want %q", maxMark, rest, gone, to[0])
	}
	dl.keepSent(srcs[0], to[0], false)
	if sent, _ := quietDelivery(run).earlier(srcs[0], to[0]); !slices.Equal(sent, to[0]) {
		t.Errorf("once mailed: group 0 mailed to %q, want %q", sent, to[0])
	}
}

// TestRetryHonoursMailSentOfThePreviousRelease: a run killed midway by
// the previous release, which kept its mails in one indented JSON object,
// is retried by this one: it mails nobody twice, and a retry after that
// (its file now in this release's form) mails nobody.
func TestRetryHonoursMailSentOfThePreviousRelease(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, ownersFleet("bob"), ssmsim.Options{})
	ms := newMailSetup(t, smtptest.Options{})
	out := filepath.Join(t.TempDir(), "run")
	if got := runCLI(t, "", ownersRetryArgs(t, ms, url, out)...); got.code != 0 || len(ms.srv.Messages()) != 4 {
		t.Fatalf("first attempt: exit %d, %d messages, want 0 and 4\n%s", got.code, len(ms.srv.Messages()), got.stderr)
	}
	ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(out, audit.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	// As the previous release wrote it once ops and alice had their mail.
	old := map[string]any{
		"note":   "the mails of this run's reports that a server took (to) or got whole without answering (maybe): a retry of the run with the same record does not send them again; auditor mail does",
		"record": map[string]any{"started_at": ri.StartedAt.UTC(), "results_size": st.Size()},
		"mails": map[string]any{
			".":              map[string]any{"reports": reportsOf(out), "to": []string{"ops@example.com"}},
			"by-owner/alice": map[string]any{"reports": reportsOf(filepath.Join(out, "by-owner", "alice")), "to": []string{"alice@example.com"}},
		},
	}
	b, err := json.MarshalIndent(old, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, sentFile), append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	before := len(ms.srv.Messages())
	got := runCLI(t, "", ownersRetryArgs(t, ms, url, out)...)
	if to, want := mailedSince(ms, before), []string{"bob@example.com", "carol@example.com"}; got.code != 0 || !slices.Equal(to, want) {
		t.Errorf("the retry of the previous release's run: exit %d, mailed %q, want 0 and %q only\n%s", got.code, to, want, got.stderr)
	}
	if b, err := os.ReadFile(filepath.Join(out, sentFile)); err != nil || !bytes.HasPrefix(b, []byte(`{"note":`)) || bytes.Contains(b, []byte(`"mails"`)) {
		t.Errorf("%s once the retry mailed: %v, want it a journal of one line a mail:\n%s", sentFile, err, b)
	}
	before = len(ms.srv.Messages())
	if again := runCLI(t, "", ownersRetryArgs(t, ms, url, out)...); again.code != 0 || len(ms.srv.Messages()) != before {
		t.Errorf("a retry once every mail went: exit %d, %d messages, want 0 and none\n%s", again.code, len(ms.srv.Messages())-before, again.stderr)
	}
}

// TestMailSentStaysBounded: each attempt that mails a group again (auditor
// mail, asked to) adds a line; the lines that later ones overrule are
// dropped once they outnumber the mails kept.
func TestMailSentStaysBounded(t *testing.T) {
	run, srcs, to := groupsRun(t, 2)
	for range 200 {
		dl := quietDelivery(run)
		dl.keepSent(srcs[0], to[0], true)
		dl.keepSent(srcs[0], to[0], false)
	}
	quietDelivery(run).keepSent(srcs[1], to[1], false)
	b, err := os.ReadFile(filepath.Join(run, sentFile))
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(b, []byte("\n")); n > 40 {
		t.Errorf("%s has %d lines once 2 groups were mailed 201 times, want at most 40", sentFile, n)
	}
	retry := quietDelivery(run)
	for i, src := range srcs {
		if sent, maybe := retry.earlier(src, to[i]); !slices.Equal(sent, to[i]) || len(maybe) > 0 {
			t.Errorf("group %d mailed to %q, maybe %q, want %q", i, sent, maybe, to[i])
		}
	}
}
