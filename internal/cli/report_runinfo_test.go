package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
)

// goodRun audits a simulated fleet of n instances (account 123456789012)
// into a directory of its own, and returns it with the run's arguments
// (without --out) and its run.json as a map, to edit.
func goodRun(t *testing.T, n int) (dir string, args []string, runJSON map[string]any) {
	t.Helper()
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids, url, _ := scheduledFleet(t, n)
	args = []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--fail-on", "none", "--quiet"}
	dir = filepath.Join(t.TempDir(), "good")
	if got := runCLI(t, "", append(args, "--out", dir)...); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	return dir, args, readRunMap(t, dir)
}

func readRunMap(t *testing.T, dir string) map[string]any {
	t.Helper()
	var m map[string]any
	b, err := os.ReadFile(filepath.Join(dir, audit.RunFile))
	if err != nil || json.Unmarshal(b, &m) != nil {
		t.Fatalf("run.json of %s: %v", dir, err)
	}
	return m
}

// withRunFile returns a directory holding the record (its lines edited by
// edit, unless nil) and run.json beside it.
func withRunFile(t *testing.T, record, runJSON string, edit func(lines []string) []string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "x")
	os.MkdirAll(dir, 0o777)
	b, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		b = []byte(strings.Join(edit(strings.SplitAfter(string(b), "\n")), ""))
	}
	if err := os.WriteFile(filepath.Join(dir, audit.ResultsFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, audit.RunFile), []byte(runJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func editedRun(t *testing.T, m map[string]any, edit func(m map[string]any)) string {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	json.Unmarshal(b, &c) // a deep copy
	edit(c)
	if b, err = json.Marshal(c); err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestReportRefusesRunFileNotOfItsRecord: auditor report took any JSON
// beside a record for its run.json: {} or null made a complete run of 0
// targets started in year 1 (exit 1), a newer auditor's schema 2 was
// written out as schema 2, and another audit's run.json (6 targets of
// other accounts) said its 30 instances were a complete run of 6 targets.
// Each is refused now, exit 2, naming the file and what is wrong, and
// nothing is written; a run.json that may be the record's is not.
func TestReportRefusesRunFileNotOfItsRecord(t *testing.T) {
	const other = "210987654321"
	good, _, m := goodRun(t, 30)
	record := filepath.Join(good, audit.ResultsFile)
	own := editedRun(t, m, func(map[string]any) {})
	otherAudit := editedRun(t, m, func(m map[string]any) {
		// An org discovery over other accounts.
		m["targets"], m["caller_account"] = 6, other
		m["parts"] = []any{map[string]any{"fleet": "discovery:accounts=org@" + other + "/regions=eu-west-1/filters=", "list": "discovery:accounts=org@" + other + "/regions=eu-west-1/filters=", "targets": 6}}
		m["sites"] = []any{map[string]any{"account_id": "333333333333", "region": "eu-west-1", "targets": 6, "results": 6}}
	})
	otherAccount := editedRun(t, m, func(m map[string]any) {
		m["caller_account"] = other
		for _, s := range m["sites"].([]any) {
			s.(map[string]any)["account_id"] = other
		}
	})
	half := func(lines []string) []string { return lines[:len(lines)/2] }
	noAccount := func(lines []string) []string {
		for i, l := range lines {
			lines[i] = strings.Replace(l, `"account_id":"123456789012",`, "", 1)
		}
		return lines
	}
	for _, tt := range []struct {
		name    string
		runJSON string
		edit    func([]string) []string
		code    int
		want    []string // in stderr, with the run.json's path when 2
	}{
		{name: "empty object", runJSON: `{}`, code: 2, want: []string{"schema missing"}},
		{name: "null", runJSON: `null`, code: 2, want: []string{"not a run.json"}},
		{name: "newer schema", runJSON: editedRun(t, m, func(m map[string]any) { m["schema"] = 2 }), code: 2, want: []string{"schema 2", "newer auditor"}},
		{name: "no schema", runJSON: editedRun(t, m, func(m map[string]any) { delete(m, "schema") }), code: 2, want: []string{"schema missing"}},
		{name: "no started_at", runJSON: editedRun(t, m, func(m map[string]any) { delete(m, "started_at") }), code: 2, want: []string{"started_at missing"}},
		{name: "another audit's", runJSON: otherAudit, code: 2, want: []string{"30 instances", "6 targets"}},
		{name: "another account's", runJSON: otherAccount, code: 2, want: []string{"account 123456789012", other}},
		{name: "its own", runJSON: own, code: 0},
		{name: "its own, the record cut short", runJSON: own, edit: half, code: 3},
		{name: "its own, rows of no account", runJSON: own, edit: noAccount, code: 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := withRunFile(t, record, tt.runJSON, tt.edit)
			for _, made := range []bool{false, true} {
				out := filepath.Join(t.TempDir(), "rx")
				if made {
					os.MkdirAll(out, 0o777)
				}
				got := runCLI(t, "", "report", filepath.Join(dir, audit.ResultsFile), "--out", out, "--fail-on", "none", "--quiet")
				if got.code != tt.code {
					t.Fatalf("exit %d, want %d\n%s", got.code, tt.code, got.stderr)
				}
				if tt.code != 2 {
					break
				}
				for _, w := range append(tt.want, filepath.Join(dir, audit.RunFile)) {
					if !strings.Contains(got.stderr, w) {
						t.Errorf("stderr does not say %q:\n%s", w, got.stderr)
					}
				}
				entries, err := os.ReadDir(out)
				switch {
				case !made && err == nil:
					t.Errorf("--out %s was made for a refusal", out)
				case made && len(entries) > 0:
					t.Errorf("--out %s holds %d entries after a refusal, want none", out, len(entries))
				}
			}
		})
	}
}

// TestReportTakesResumedRunFile: the run.json of a resumed run (its sites
// are the last attempt's alone) is its record's.
func TestReportTakesResumedRunFile(t *testing.T) {
	good, args, _ := goodRun(t, 30)
	b, err := os.ReadFile(filepath.Join(good, audit.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	dir := filepath.Join(t.TempDir(), "resumed")
	os.MkdirAll(dir, 0o777)
	os.WriteFile(filepath.Join(dir, audit.ResultsFile), []byte(strings.Join(lines[:20], "")), 0o644)
	if got := runCLI(t, "", append(args, "--out", dir, "--resume")...); got.code != 0 {
		t.Fatalf("resume: exit %d\n%s", got.code, got.stderr)
	}
	got := runCLI(t, "", "report", filepath.Join(dir, audit.ResultsFile), "--out", filepath.Join(t.TempDir(), "rx"), "--fail-on", "none", "--quiet")
	if got.code != 0 {
		t.Errorf("report of a resumed run: exit %d, want 0\n%s", got.code, got.stderr)
	}
}

// TestResumeRefusesNewerRunFile: --resume of a record whose run.json a
// newer auditor wrote (schema 2) rewrote it as schema 1. It is refused,
// exit 2, before anything in --out is changed.
func TestResumeRefusesNewerRunFile(t *testing.T) {
	good, args, m := goodRun(t, 30)
	b, err := os.ReadFile(filepath.Join(good, audit.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	// Cut short and torn, so that a resume would append and cut.
	os.WriteFile(filepath.Join(good, audit.ResultsFile), []byte(strings.Join(lines[:10], "")+lines[10][:20]), 0o644)
	os.WriteFile(filepath.Join(good, audit.RunFile), []byte(editedRun(t, m, func(m map[string]any) { m["schema"] = 2 })), 0o644)
	before := snapshot(t, good)
	got := runCLI(t, "", append(args, "--out", good, "--resume")...)
	if got.code != 2 || !strings.Contains(got.stderr, "newer auditor") || !strings.Contains(got.stderr, filepath.Join(good, audit.RunFile)) {
		t.Errorf("resume: exit %d, want 2 naming run.json and the newer auditor\n%s", got.code, got.stderr)
	}
	if after := snapshot(t, good); !sameSnapshot(before, after) {
		for name := range after {
			if after[name] != before[name] {
				t.Errorf("%s changed or written by a refused resume", name)
			}
		}
	}
}

// feedFIFO makes a FIFO that gives content to each reader that opens it,
// until the test ends.
func feedFIFO(t *testing.T, content []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fifo")
	if err := makeFIFO(p); err != nil {
		t.Skipf("no FIFO here: %v", err)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			// Without a reader the open fails at once: the writer polls
			// rather than wait in an open that nothing ends.
			if w, err := os.OpenFile(p, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				w.Write(content)
				w.Close()
			}
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done })
	return p
}

// TestReportRecordNotRegularFile: a record given as a FIFO (or a process
// substitution, <(cat results.jsonl)) was read at offsets it cannot seek
// to, and failed as "directory not writable", exit 4. It is refused, exit
// 2, naming it, before --out is made; so is a --baseline that is one.
func TestReportRecordNotRegularFile(t *testing.T) {
	good, _, _ := goodRun(t, 30)
	record := filepath.Join(good, audit.ResultsFile)
	b, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	fifo := feedFIFO(t, b)
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"record", []string{"report", fifo}, "RECORD must be a regular file"},
		{"record among others", []string{"report", record, fifo}, "RECORD must be a regular file"},
		{"baseline", []string{"report", record, "--baseline", fifo}, "--baseline"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "exist")
			got := runCLI(t, "", append(tt.args, "--out", out, "--fail-on", "none", "--quiet")...)
			if got.code != 2 || !strings.Contains(got.stderr, tt.want) || !strings.Contains(got.stderr, fifo) || !strings.Contains(got.stderr, "regular file") {
				t.Errorf("exit %d, want 2 saying %q of %s\n%s", got.code, tt.want, fifo, got.stderr)
			}
			if _, err := os.Lstat(out); err == nil {
				t.Errorf("--out %s was made for a refusal", out)
			}
		})
	}
}
