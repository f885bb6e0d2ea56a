package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/deliver/smtptest"
	"github.com/auditor-dev/auditor/ssmsim"
)

// forged is text a record's run.json may hold that the auditor did not
// write as it reads: an error an endpoint chose (its error code is kept in
// run.json's error), or a file edited by hand. On a terminal it clears
// the screen, paints a verdict, and starts a line of its own.
const forged = "boom\x1b[2J\x1b[H\x1b[32mall compliant\x1b[0m\rOVERWRITTEN\nauditor: forged line"

// editRun rewrites dir's run.json through edit.
func editRun(t *testing.T, dir string, edit func(m map[string]any)) {
	t.Helper()
	p := filepath.Join(dir, audit.RunFile)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkPlain fails when stderr holds a control character other than a
// line's end, or the forged text starts a line of its own.
func checkPlain(t *testing.T, stderr string) {
	t.Helper()
	if strings.ContainsAny(stderr, "\x1b\r") || strings.Contains(stderr, "\nauditor: forged line") {
		t.Errorf("a record's text reached stderr as it is (escapes, a carriage return, or a line of its own):\n%q", stderr)
	}
	if !strings.Contains(stderr, "forged line") {
		t.Errorf("stderr does not say the record's text at all:\n%s", stderr)
	}
}

// TestRecordTextOnStderrIsPlain: text from a run.json (an endpoint's
// error code, a baseline's path) reached stderr raw through a baseline's
// warning, auditor mail, and auditor report rendering in place.
func TestRecordTextOnStderrIsPlain(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	base := filepath.Join(t.TempDir(), "base")
	run := func(out string, extra ...string) cliResult {
		return runCLI(t, "", append([]string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet", "--fail-on", "none"}, extra...)...)
	}
	if got := run(base); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	editRun(t, base, func(m map[string]any) { m["error"], m["complete"] = forged, false })

	t.Run("a baseline's error", func(t *testing.T) {
		got := run(filepath.Join(t.TempDir(), "out"), "--baseline", base)
		if got.code != 0 {
			t.Fatalf("exit %d\n%s", got.code, got.stderr)
		}
		checkPlain(t, got.stderr)
	})

	compared := filepath.Join(t.TempDir(), "compared")
	if got := run(compared, "--baseline", base); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	editRun(t, compared, func(m map[string]any) {
		c := m["changes"].(map[string]any)
		c["baseline"], c["baseline_from_run"] = "/nonexistent/"+forged, "/nonexistent/"+forged
	})
	t.Run("auditor mail, its baseline gone", func(t *testing.T) {
		ms := newMailSetup(t, smtptest.Options{})
		got := runCLI(t, "", append([]string{"mail", compared, "--to", "ops@example.com"}, ms.args...)...)
		checkPlain(t, got.stderr)
	})
	t.Run("auditor report in place, its baseline gone", func(t *testing.T) {
		got := runCLI(t, "", "report", filepath.Join(compared, audit.ResultsFile), "--out", compared)
		if got.code != 2 {
			t.Errorf("exit %d, want 2\n%s", got.code, got.stderr)
		}
		checkPlain(t, got.stderr)
	})
}
