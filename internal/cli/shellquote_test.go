package cli

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestShellQuoteRoundTrip: the commands printed to continue or retry a run
// are for pasting into a shell. A path with a byte that is not UTF-8 or a
// control character was single-quoted, and then written escaped on stderr
// (terminalText): pasted, '\xe9' is four characters, another directory.
// Such a value is quoted as $'...', whose escapes bash and zsh decode, so
// that the command shows as itself and pastes as the path.
func TestShellQuoteRoundTrip(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash to paste the quoted values into:", err)
	}
	for _, s := range []string{
		"plain/path", "with space", "it's", "tab\there", "r\xe9s", "esc\x1b[31m", "line\nbreak",
		"bidi\u202eexe", "back\\slash and 'quote' \xff", "=zsh", "", "caf\u00e9", "\u009bC1",
	} {
		q := shellQuote(s)
		if terminalText(q) != q {
			t.Errorf("shellQuote(%q) = %q, which stderr shows as %q", s, q, terminalText(q))
		}
		// In the C locale too, where bash takes \u for no character.
		cmd := exec.Command(bash, "-c", "printf %s "+q)
		cmd.Env = append(cmd.Environ(), "LC_ALL=C")
		out, err := cmd.Output()
		if err != nil || string(out) != s {
			t.Errorf("shellQuote(%q) = %s: bash reads %q (%v)", s, q, out, err)
		}
	}
}

// TestRetryCommandOfAnOddPath: the command a run prints to retry its
// instances in error names its --out as bash reads it back.
func TestRetryCommandOfAnOddPath(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{Faults: ssmsim.Faults{ErrorRate: 1}})
	list := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	out := filepath.Join(t.TempDir(), "r\xe9s\x1b")
	got := runCLI(t, "", "run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--max-attempts", "1", "--quiet")
	if got.code != int(exitIncomplete) {
		t.Fatalf("exit %d, want %d\n%s", got.code, exitIncomplete, got.stderr)
	}
	if !strings.Contains(got.stderr, "--out "+shellQuote(out)) {
		t.Errorf("stderr does not name --out as %s:\n%s", shellQuote(out), got.stderr)
	}
}
