//go:build unix

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/deliver/smtptest"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestRunJSONNotARegularFile: a run.json that was a FIFO, or a link to
// one, hung every command that read it (a report, a merge, a mail,
// --resume, --baseline DIR or previous) in its open, waiting for a writer, where
// SIGTERM did not end it. It is refused at once, exit 2, naming it and
// saying it must be a regular file, with nothing written; so are a
// directory and a device (a link to /dev/zero, which would never end).
// --baseline previous passes over it with a warning.
func TestRunJSONNotARegularFile(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	ms := newMailSetup(t, smtptest.Options{})
	root := t.TempDir()
	runArgs := []string{"run", "--instance-id", "i-0123456789abcdef0", "--endpoint-url", url, "--region", "us-east-1", "--quiet", "--fail-on", "none"}
	good := filepath.Join(root, "good")
	if got := runCLI(t, "", append(runArgs, "--out", good)...); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	kinds := []struct {
		name string
		make func(t *testing.T, path string)
	}{
		{"a FIFO", func(t *testing.T, path string) { mkfifo(t, path) }},
		{"a link to a FIFO", func(t *testing.T, path string) {
			fifo := filepath.Join(t.TempDir(), "fifo")
			mkfifo(t, fifo)
			if err := os.Symlink(fifo, path); err != nil {
				t.Fatal(err)
			}
		}},
		{"a directory", func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o755); err != nil {
				t.Fatal(err)
			}
		}},
		{"a link to a device", func(t *testing.T, path string) {
			if err := os.Symlink("/dev/zero", path); err != nil {
				t.Fatal(err)
			}
		}},
	}
	// damaged copies the good run into parent/run, made for the test, its
	// run.json replaced by what put puts there.
	damaged := func(t *testing.T, put func(t *testing.T, path string)) (parent, dir, runJSON string) {
		parent = t.TempDir()
		dir = filepath.Join(parent, "run")
		copyRegularFiles(t, good, dir)
		runJSON = filepath.Join(dir, audit.RunFile)
		if err := os.Remove(runJSON); err != nil {
			t.Fatal(err)
		}
		put(t, runJSON)
		return parent, dir, runJSON
	}
	commands := []struct {
		name string
		// args are the command's, of dir, whose run.json is not a
		// regular file, in parent, which holds it alone.
		args func(dir, parent string) []string
		// made is what the command would write, which it must not.
		made func(dir, parent string) string
	}{
		{"report", func(dir, parent string) []string {
			return []string{"report", filepath.Join(dir, audit.ResultsFile), "--out", filepath.Join(parent, "new"), "--fail-on", "none"}
		}, func(dir, parent string) string { return filepath.Join(parent, "new") }},
		{"report in place", func(dir, parent string) []string {
			return []string{"report", filepath.Join(dir, audit.ResultsFile), "--out", dir, "--fail-on", "none"}
		}, nil},
		{"merge", func(dir, parent string) []string {
			return []string{"report", filepath.Join(good, audit.ResultsFile), filepath.Join(dir, audit.ResultsFile), "--out", filepath.Join(parent, "merged"), "--fail-on", "none"}
		}, func(dir, parent string) string { return filepath.Join(parent, "merged") }},
		{"--baseline DIR", func(dir, parent string) []string {
			return []string{"report", filepath.Join(good, audit.ResultsFile), "--baseline", dir, "--out", filepath.Join(parent, "new"), "--fail-on", "none"}
		}, func(dir, parent string) string { return filepath.Join(parent, "new") }},
		{"mail", func(dir, parent string) []string {
			return append([]string{"mail", dir, "--to", "ops@example.com"}, ms.args...)
		}, nil},
		{"--resume", func(dir, parent string) []string {
			return append(runArgs, "--out", dir, "--resume")
		}, nil},
	}
	for _, kind := range kinds {
		for _, cmd := range commands {
			t.Run(kind.name+"/"+cmd.name, func(t *testing.T) {
				parent, dir, runJSON := damaged(t, kind.make)
				before := regularFiles(t, dir)
				got := runCLIGuarded(t, runJSON, cmd.args(dir, parent)...)
				if got.code != 2 || !strings.Contains(got.stderr, runJSON) || !strings.Contains(got.stderr, "must be a regular file") {
					t.Errorf("exit %d, want 2 naming %s, which must be a regular file\n%s", got.code, runJSON, got.stderr)
				}
				if strings.Contains(got.stderr, "baseline: baseline:") || strings.Contains(got.stderr, "--baseline:") && !strings.Contains(got.stderr, "move it away") {
					t.Errorf("the refusal of --baseline says its prefix twice, or no remedy:\n%s", got.stderr)
				}
				if after := regularFiles(t, dir); !sameSnapshot(before, after) {
					t.Errorf("%s changed: %v, was %v", dir, after, before)
				}
				if cmd.made != nil {
					if p := cmd.made(dir, parent); statOK(p) {
						t.Errorf("%s was made", p)
					}
				}
			})
		}
	}
	if n := len(ms.srv.Messages()); n != 0 {
		t.Errorf("%d messages, want none", n)
	}
	// --baseline previous passes over such a run, as over one whose
	// run.json cannot be read, with a warning that names it (see
	// TestPreviousWarnsOfUnreadableRunJSON): a scheduled job must not stop
	// at every run once one run.json is damaged. Not waited on.
	for _, kind := range kinds {
		t.Run(kind.name+"/--baseline previous", func(t *testing.T) {
			parent, dir, runJSON := damaged(t, kind.make)
			before := regularFiles(t, dir)
			got := runCLIGuarded(t, runJSON, append(runArgs, "--out", filepath.Join(parent, "next"), "--baseline", "previous")...)
			if got.code != 0 || !strings.Contains(got.stderr, "warning: --baseline previous: skipped "+dir+": its run.json") {
				t.Errorf("exit %d, want 0 with a warning that names %s\n%s", got.code, dir, got.stderr)
			}
			if after := regularFiles(t, dir); !sameSnapshot(before, after) {
				t.Errorf("%s changed: %v, was %v", dir, after, before)
			}
		})
	}
	// A run into it, without --resume, reads its run.json to tell whether
	// the files there are a run's: refused as a directory that holds a
	// record already, or whose run.json cannot be written, not waited on.
	for _, kind := range kinds {
		t.Run(kind.name+"/run", func(t *testing.T) {
			_, dir, runJSON := damaged(t, kind.make)
			before := regularFiles(t, dir)
			if got := runCLIGuarded(t, runJSON, append(runArgs, "--out", dir)...); got.code != 2 && got.code != 4 {
				t.Errorf("exit %d, want 2 or 4, refused\n%s", got.code, got.stderr)
			}
			if after := regularFiles(t, dir); !sameSnapshot(before, after) {
				t.Errorf("%s changed: %v, was %v", dir, after, before)
			}
		})
	}
}

// runCLIGuarded is runCLI that fails the test, rather than hang it, when
// the command has not ended after a minute: blocked in the open of a FIFO,
// say, at path, which it then opens for writing, without waiting, so as
// to let such an open go once the test is over.
func runCLIGuarded(t *testing.T, path string, args ...string) cliResult {
	t.Helper()
	done := make(chan cliResult, 1)
	go func() { done <- runCLI(t, "", args...) }()
	select {
	case got := <-done:
		return got
	case <-time.After(time.Minute):
		t.Cleanup(func() {
			if w, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				w.Close()
			}
		})
		t.Fatalf("%s: still running after a minute (waiting in the open of %s?)", strings.Join(args, " "), path)
	}
	return cliResult{}
}

// TestMailOfASplitRunJSONNotARegularFile: the mail of one group of a
// split reads its run's run.json too, and a mail by --mail-to-label each
// group's: one that is a FIFO hung the mail, and, read without waiting,
// would be passed over as no run.json, the check that the group is of its
// run's rendering with it. It is refused, exit 2, naming it, and nothing
// is mailed.
func TestMailOfASplitRunJSONNotARegularFile(t *testing.T) {
	for _, tt := range []struct {
		name string
		// fifo is the run.json made a FIFO, of the run's out.
		fifo func(out string) string
		args func(out string) []string
	}{
		{"the run's, of a group mailed", func(out string) string { return filepath.Join(out, audit.RunFile) },
			func(out string) []string {
				return []string{"mail", filepath.Join(out, "by-owner", "alice"), "--to", "alice@example.com"}
			}},
		{"a group's, of a mail by label", func(out string) string { return filepath.Join(out, "by-owner", "alice", audit.RunFile) },
			func(out string) []string { return []string{"mail", out, "--mail-to-label", "owner_email"} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := ownersRun(t)
			ms := newMailSetup(t, smtptest.Options{})
			fifo := tt.fifo(out)
			if err := os.Remove(fifo); err != nil {
				t.Fatal(err)
			}
			mkfifo(t, fifo)
			got := runCLIGuarded(t, fifo, append(tt.args(out), ms.args...)...)
			if got.code != 2 || !strings.Contains(got.stderr, fifo) || !strings.Contains(got.stderr, "must be a regular file") || !strings.Contains(got.stderr, "move it away") {
				t.Errorf("exit %d, want 2 naming %s, which must be a regular file, and what to do\n%s", got.code, fifo, got.stderr)
			}
			if n := len(ms.srv.Messages()); n != 0 {
				t.Errorf("%d messages, want none", n)
			}
		})
	}
}
