package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestForeignRecordNotResumed: an --out whose results.jsonl another
// program wrote (its JSON-lines log, lines without a result's schema,
// instance_id and outcome) was taken for a record of the auditor: a run
// said "already holds a record: pass --resume to continue it", and the
// --resume it advised was refused for the file's first line. Nothing the
// auditor did not make is continued or replaced: run, run --resume and a
// report into that --out are refused, exit 2, before any call, naming the
// file and line and what to do instead, never --resume; the file is left
// as it was.
func TestForeignRecordNotResumed(t *testing.T) {
	url, srv, ids, earlier := earlierRun(t)
	record := filepath.Join(earlier, audit.ResultsFile)
	tests := []struct {
		name    string
		content string
		line    int
	}{
		{"another tool's log", "{\"level\":\"info\",\"msg\":\"started\"}\n{\"level\":\"info\",\"msg\":\"done\"}\n", 1},
		{"not JSON", "hello, world\n", 1},
		{"a schema but no result", "{\"schema\":1,\"outcome\":\"compliant\"}\n", 1},
		{"after blank lines", "\n\n{\"msg\":\"started\"}\n", 3},
		{"torn after a foreign line", "{\"msg\":\"started\"}\n{\"msg\":\"do", 1},
		// Taken for a torn write of the auditor's, --resume cut it to
		// nothing.
		{"one line without its newline", "{\"level\":\"info\",\"msg\":\"started\"}", 1},
	}
	refused := []string{"not a record of the auditor", "another --out", "move it away"}
	commands := []struct {
		name string
		args func(out string) []string
		want []string // besides the file and line
	}{
		{"run", func(out string) []string {
			return []string{"run", "--instances", ids, "--endpoint-url", url, "--out", out, "--quiet"}
		}, refused},
		{"run --resume", func(out string) []string {
			return []string{"run", "--resume", "--instances", ids, "--endpoint-url", url, "--out", out, "--quiet"}
		}, refused},
		{"report --out", func(out string) []string { return []string{"report", record, "--out", out, "--quiet"} }, refused},
		// In place the file is the input: reading it says what it is,
		// and another --out would not help.
		{"report in place", func(out string) []string {
			return []string{"report", filepath.Join(out, audit.ResultsFile), "--out", out, "--quiet"}
		}, []string{"not a result"}},
	}
	for _, tt := range tests {
		for _, c := range commands {
			t.Run(tt.name+"/"+c.name, func(t *testing.T) {
				srv.ResetStats()
				out := t.TempDir()
				path := filepath.Join(out, audit.ResultsFile)
				if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
					t.Fatal(err)
				}
				got := runCLI(t, "", c.args(out)...)
				if got.code != int(exitUsage) {
					t.Fatalf("exit %d, want %d\n%s", got.code, exitUsage, got.stderr)
				}
				for _, w := range append([]string{fmt.Sprintf("%s:%d:", path, tt.line)}, c.want...) {
					if !strings.Contains(got.stderr, w) {
						t.Errorf("stderr does not say %q:\n%s", w, got.stderr)
					}
				}
				for _, w := range []string{"pass --resume", "continue it", "name it as an input"} {
					if strings.Contains(got.stderr, w) {
						t.Errorf("stderr says %q:\n%s", w, got.stderr)
					}
				}
				if b, err := os.ReadFile(path); err != nil || string(b) != tt.content {
					t.Errorf("%s holds %q after the refusal (%v), %q before", path, b, err, tt.content)
				}
				if n := srv.Stats().Requests; n > 0 {
					t.Errorf("%d requests before the refusal", n)
				}
			})
		}
	}
}

// TestAuditorRecordStillResumable: what the auditor wrote keeps today's
// answers beside TestForeignRecordNotResumed's refusal: its record, with
// or without a torn last line, is refused with the advice to pass
// --resume, and an empty results.jsonl is no record at all.
func TestAuditorRecordStillResumable(t *testing.T) {
	url, _, ids, earlier := earlierRun(t)
	b, err := os.ReadFile(filepath.Join(earlier, audit.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		content string
		code    exitCode
		want    string
	}{
		{"the auditor's", string(b), exitUsage, "already holds a record: pass --resume to continue it"},
		{"torn last line", string(b) + "{\"schema\":1,\"instance_id\":\"i-01", exitUsage, "already holds a record: pass --resume to continue it"},
		{"torn alone", "{\"schema\":1,\"instance_id\":\"i-01", exitUsage, "already holds a record: pass --resume to continue it"},
		{"empty", "", exitOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := t.TempDir()
			if err := os.WriteFile(filepath.Join(out, audit.ResultsFile), []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--out", out, "--fail-on", "none", "--quiet")
			if got.code != int(tt.code) || !strings.Contains(got.stderr, tt.want) {
				t.Errorf("exit %d, want %d saying %q\n%s", got.code, tt.code, tt.want, got.stderr)
			}
			if strings.Contains(got.stderr, "not a record of the auditor") {
				t.Errorf("the auditor's own record called another's:\n%s", got.stderr)
			}
		})
	}
}
