//go:build unix

package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/deliver/smtptest"
	"github.com/auditor-dev/auditor/internal/dirlock"
	"github.com/auditor-dev/auditor/internal/nowait"
	"github.com/auditor-dev/auditor/ssmsim"
)

// heldAtFirstRead runs the command args and returns its result and what
// dirlock.Held said of each of locked at the moment the command first
// opened dir's run.json, the first that was not held. It watches the open
// through nowait.BeforeOpen, through which every reader of run.json opens
// it (audit.ReadRunInfo, ownRunInfo), in the command's goroutine, before
// the open: what it sees is what held when the file was read. A command
// that never read dir's run.json fails the test.
func heldAtFirstRead(t *testing.T, dir string, locked []string, args ...string) (cliResult, error) {
	t.Helper()
	want, err := os.Stat(filepath.Join(dir, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	read := false
	var held error
	nowait.BeforeOpen = func(path string) {
		if read || filepath.Base(path) != audit.RunFile {
			return
		}
		// Named as the command names it: by another path, perhaps,
		// that leads to the same file.
		if st, err := os.Stat(path); err != nil || !os.SameFile(st, want) {
			return
		}
		read = true
		for _, d := range locked {
			if held = dirlock.Held(d); held == nil {
				held = fmt.Errorf("%s: not locked", d)
				break
			}
		}
	}
	defer func() { nowait.BeforeOpen = nil }()
	got := runCLI(t, "", args...)
	if !read {
		t.Fatalf("the command never read %s: exit %d\n%s", filepath.Join(dir, audit.RunFile), got.code, got.stderr)
	}
	return got, held
}

// TestMailReadsUnderTheLock: auditor mail reads the run.json (and the
// record) of the directory it mails only once it holds the directory's
// lock, and keeps it until the mail is sent. It looked whether another
// auditor held the lock, read, and took the lock after: a run (the next
// one of a schedule, in the same directory) or a report rendering it again
// that began in between would write what the mail read, and the mail took
// its figures from one run and its attachments from another.
func TestMailReadsUnderTheLock(t *testing.T) {
	out := ownersRun(t)
	ms := newMailSetup(t, smtptest.Options{})
	got, held := heldAtFirstRead(t, out, []string{out}, append([]string{"mail", out, "--to", "ops@example.com"}, ms.args...)...)
	if !errors.Is(held, dirlock.ErrBusy) {
		t.Errorf("the mail read %s while it did not hold the directory's lock (%v): a run could write it meanwhile", audit.RunFile, held)
	}
	if got.code != 0 || len(ms.srv.Messages()) != 1 {
		t.Errorf("exit %d, %d messages, want 0 and 1\n%s", got.code, len(ms.srv.Messages()), got.stderr)
	}
}

// TestMailOfAGroupReadsUnderTheLock: the mail of one group's directory of
// a split reads it under its run's lock, as the mail of the run does.
func TestMailOfAGroupReadsUnderTheLock(t *testing.T) {
	out := ownersRun(t)
	ms := newMailSetup(t, smtptest.Options{})
	group := filepath.Join(out, "by-owner", "alice")
	got, held := heldAtFirstRead(t, group, []string{out, group}, append([]string{"mail", group, "--to", "alice@example.com"}, ms.args...)...)
	if !errors.Is(held, dirlock.ErrBusy) {
		t.Errorf("the mail read the group's %s while it did not hold both its run's lock and its own (%v)", audit.RunFile, held)
	}
	for _, d := range []string{out, group} {
		if err := dirlock.Held(d); err != nil {
			t.Errorf("still held after the mail: %v", err)
		}
	}
	if got.code != 0 || len(ms.srv.Messages()) != 1 {
		t.Errorf("exit %d, %d messages, want 0 and 1\n%s", got.code, len(ms.srv.Messages()), got.stderr)
	}
}

// TestReportInPlaceReadsUnderTheLock: auditor report rendering a run
// again in place reads the run.json (and the record) of its --out only
// once it holds the directory's lock: it read them first, for the options
// the reports were judged by and the baseline they were compared with, so
// that a run resumed there meanwhile left reports of two attempts.
func TestReportInPlaceReadsUnderTheLock(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	out := filepath.Join(t.TempDir(), "out")
	if got := runCLI(t, "", "run", "--instance-id", "i-0123456789abcdef0", "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet", "--fail-on", "none", "--stale-after", "30d"); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	got, held := heldAtFirstRead(t, out, []string{out}, "report", filepath.Join(out, audit.ResultsFile), "--out", out, "--fail-on", "none")
	if !errors.Is(held, dirlock.ErrBusy) {
		t.Errorf("the report read %s while it did not hold the directory's lock (%v): a run could write it meanwhile", audit.RunFile, held)
	}
	if got.code != 0 || !strings.Contains(got.stderr, "--stale-after 30d") {
		t.Errorf("exit %d, want 0 keeping --stale-after 30d\n%s", got.code, got.stderr)
	}
}

// TestReadsOfALockedDirectory: a mail, or a report rendering a run again
// in place, of a directory another auditor holds reads nothing of it and
// exits 4 saying so, whatever its run.json holds.
func TestReadsOfALockedDirectory(t *testing.T) {
	out, ms := heldOwnersRun(t)
	// Half written, as a run that holds the lock may leave it for a moment.
	if err := os.WriteFile(filepath.Join(out, audit.RunFile), []byte(`{"schema":`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"mail", append([]string{"mail", out, "--to", "ops@example.com"}, ms.args...)},
		{"report", []string{"report", filepath.Join(out, audit.ResultsFile), "--out", out, "--fail-on", "none"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := runCLI(t, "", tt.args...)
			if got.code != 4 || !strings.Contains(got.stderr, "in use by another auditor") || strings.Contains(got.stderr, audit.RunFile) {
				t.Errorf("exit %d, want 4 saying the directory is in use, and nothing of its %s\n%s", got.code, audit.RunFile, got.stderr)
			}
		})
	}
	if n := len(ms.srv.Messages()); n != 0 {
		t.Errorf("%d messages, want none", n)
	}
}

// TestBadFlagsOfALockedDirectory: a report rendering a run again in place,
// or a mail, with a flag that no run.json could make right, exited 4 when
// another auditor held the directory ("wait for it"), and 2 naming the
// flag only once it was free. The flag is named at once, exit 2.
func TestBadFlagsOfALockedDirectory(t *testing.T) {
	out, ms := heldOwnersRun(t)
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"report --fail-on", []string{"report", filepath.Join(out, audit.ResultsFile), "--out", out, "--fail-on", "bogus"}, "--fail-on"},
		{"report --format", []string{"report", filepath.Join(out, audit.ResultsFile), "--out", out, "--format", "bogus"}, "--format"},
		{"report --html-max-rows", []string{"report", filepath.Join(out, audit.ResultsFile), "--out", out, "--html-max-rows", "0"}, "--html-max-rows"},
		{"mail --mail-max-body", append([]string{"mail", out, "--to", "ops@example.com", "--mail-max-body", "-1"}, ms.args...), "--mail-max-body"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := runCLI(t, "", tt.args...)
			if got.code != 2 || !strings.Contains(got.stderr, tt.want) || strings.Contains(got.stderr, "in use by another auditor") {
				t.Errorf("exit %d, want 2 naming %s, not the lock\n%s", got.code, tt.want, got.stderr)
			}
		})
	}
	if n := len(ms.srv.Messages()); n != 0 {
		t.Errorf("%d messages, want none", n)
	}
}

// heldOwnersRun is ownersRun held by another auditor (its lock taken until
// the test ends), with a mail server to mail it through.
func heldOwnersRun(t *testing.T) (string, mailSetup) {
	t.Helper()
	out := ownersRun(t)
	ms := newMailSetup(t, smtptest.Options{})
	unlock, err := dirlock.Lock(out)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unlock)
	return out, ms
}
