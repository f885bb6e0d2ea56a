package cli

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/deliver/smtptest"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestMailNamesADirectory: auditor mail takes a run's --out directory.
// Named its results.jsonl, it warned that it could not tell whether
// another auditor held ".../results.jsonl/.auditor.lock: not a
// directory", then said the path had no run.json; named a directory that
// does not exist, it said "no run.json" too. Each is one refusal (exit 2)
// that says what the path is and what to name instead, and nothing is sent.
func TestMailNamesADirectory(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	out := filepath.Join(t.TempDir(), "out")
	if got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet"); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	ms := newMailSetup(t, smtptest.Options{})
	tests := []struct {
		name    string
		path    string
		want    []string
		notWant []string
	}{
		{"the run's record", filepath.Join(out, audit.ResultsFile),
			[]string{filepath.Join(out, audit.ResultsFile) + " is a file", "name its directory, " + out}, nil},
		{"the run's run.json", filepath.Join(out, audit.RunFile),
			[]string{filepath.Join(out, audit.RunFile) + " is a file", "name its directory, " + out}, nil},
		{"a file of no run", ids,
			[]string{ids + " is a file", "name the --out directory of a run or a report"}, []string{"its directory"}},
		{"a directory that is not there", filepath.Join(out, "nonexist"),
			[]string{filepath.Join(out, "nonexist") + ": no such directory"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runCLI(t, "", append([]string{"mail", tt.path, "--to", "ops@example.com"}, ms.args...)...)
			if got.code != int(exitUsage) {
				t.Fatalf("exit %d, want 2\n%s", got.code, got.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(got.stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, got.stderr)
				}
			}
			for _, w := range append(tt.notWant, "warning", "no run.json") {
				if strings.Contains(got.stderr, w) {
					t.Errorf("stderr says %q:\n%s", w, got.stderr)
				}
			}
			if n := strings.Count(strings.TrimSpace(got.stderr), "\n"); n != 0 {
				t.Errorf("stderr has %d lines, want one:\n%s", n+1, got.stderr)
			}
			if n := len(ms.srv.Messages()); n != 0 {
				t.Errorf("%d messages sent, want none", n)
			}
		})
	}
}

// TestMailARunThatAuditedNothing: the directory of a run stopped before
// its first result (no answer from the endpoint, exit 4) holds run.json
// alone; mail said it was no run's directory, "name the --out directory
// of a run or a report", which it is. It now says the run audited
// nothing, and why, from its run.json.
func TestMailARunThatAuditedNothing(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	out := filepath.Join(t.TempDir(), "out")
	if got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", "http://127.0.0.1:1", "--region", "us-east-1", "--out", out, "--quiet", "--max-attempts", "1"); got.code != int(exitFatal) {
		t.Fatalf("run: exit %d, want %d\n%s", got.code, exitFatal, got.stderr)
	}
	ms := newMailSetup(t, smtptest.Options{})
	got := runCLI(t, "", append([]string{"mail", out, "--to", "ops@example.com"}, ms.args...)...)
	if got.code != int(exitUsage) {
		t.Fatalf("exit %d, want 2\n%s", got.code, got.stderr)
	}
	for _, w := range []string{"its run audited nothing", "127.0.0.1:1"} {
		if !strings.Contains(got.stderr, w) {
			t.Errorf("stderr does not say %q:\n%s", w, got.stderr)
		}
	}
	if strings.Contains(got.stderr, "name the --out directory of a run") {
		t.Errorf("stderr says the run's directory is no run's:\n%s", got.stderr)
	}
	if len(ms.srv.Messages()) != 0 {
		t.Errorf("%d messages sent, want none", len(ms.srv.Messages()))
	}
}

// TestMailARunStoppedBeforeItsFirstResult: a run stopped by --timeout
// before any answer holds run.json alone, which says it was interrupted
// (no error): mail says so, and to continue it.
func TestMailARunStoppedBeforeItsFirstResult(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{Faults: ssmsim.Faults{Latency: 5 * time.Second}})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	out := filepath.Join(t.TempDir(), "out")
	if got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet", "--timeout", "300ms"); got.code != int(exitIncomplete) {
		t.Fatalf("run: exit %d, want %d\n%s", got.code, exitIncomplete, got.stderr)
	}
	ms := newMailSetup(t, smtptest.Options{})
	got := runCLI(t, "", append([]string{"mail", out, "--to", "ops@example.com"}, ms.args...)...)
	if got.code != int(exitUsage) {
		t.Fatalf("exit %d, want 2\n%s", got.code, got.stderr)
	}
	checkSays(t, got.stderr, []string{"stopped (a signal or --timeout) before it audited anything", "--resume"}, []string{"name the --out directory of a run"})
	if len(ms.srv.Messages()) != 0 {
		t.Errorf("%d messages sent, want none", len(ms.srv.Messages()))
	}
}
