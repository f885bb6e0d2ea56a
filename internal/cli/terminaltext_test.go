package cli

import (
	"strings"
	"testing"
)

// TestControlCharactersInPathsEscaped: a path from the command line, an
// AUDITOR_* variable or a --cli-input-json file is repeated in its error as
// it was given. A terminal escape in it (a file named by someone else, a
// value pasted from a web page) reached the terminal that read stderr, and
// recoloured, moved or rewrote what it showed; a bidi control reversed the
// rest of the line. Every line on stderr now shows them escaped as Go
// quotes them, keeping its line breaks.
func TestControlCharactersInPathsEscaped(t *testing.T) {
	for _, tc := range []struct {
		name, arg, shown string
	}{
		{"terminal escape", "fleet\x1b[31mRED.txt", `fleet\x1b[31mRED.txt`},
		{"carriage return", "fleet.txt\rauditor: all compliant", `fleet.txt\rauditor: all compliant`},
		{"bidi override", "fleet\u202etxt.exe", `fleet\u202etxt.exe`},
		{"not UTF-8", "fleet\xff.txt", `fleet\xff.txt`},
		{"C1 control", "fleet\u009b31m.txt", `fleet\u009b31m.txt`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := runCLI(t, "", "run", "--instances", tc.arg, "--region", "us-east-1", "--out", t.TempDir()+"/out")
			if got.code != int(exitUsage) {
				t.Fatalf("exit %d, want %d\n%s", got.code, exitUsage, got.stderr)
			}
			if i := strings.IndexFunc(got.stderr, func(r rune) bool { return r != '\n' && !terminalSafe(r) }); i >= 0 {
				t.Errorf("stderr holds %q raw at %d:\n%q", []rune(got.stderr[i:])[0], i, got.stderr)
			}
			if !strings.Contains(got.stderr, tc.shown) {
				t.Errorf("stderr does not show the path as %s:\n%q", tc.shown, got.stderr)
			}
		})
	}
}

func TestTerminalText(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                   "plain",
		"two\nlines\tand a tab":   "two\nlines\tand a tab",
		"\x1b]0;title\x07":        `\x1b]0;title\a`,
		"a\x00b":                  `a\x00b`,
		"é ü 日本 \u200e":           "é ü 日本 \u200e",
		"\u2066isolate\u2069":     `\u2066isolate\u2069`,
		"cut \xe2\x82":            `cut \xe2\x82`,
		"\x7f":                    `\x7f`,
		"auditor: warning: x\r\n": `auditor: warning: x\r` + "\n",
	} {
		if got := terminalText(in); got != want {
			t.Errorf("terminalText(%q) = %q, want %q", in, got, want)
		}
	}
}
