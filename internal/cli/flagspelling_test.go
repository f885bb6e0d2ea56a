package cli

import (
	"strings"
	"testing"
)

// TestUnknownFlagAsTyped: -v was told back as "unknown flag --v", a flag
// the user never typed; the flag is named with the dashes it was given.
func TestUnknownFlagAsTyped(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"one dash", []string{"run", "--instances", ids, "-v"}, "unknown flag -v "},
		{"one dash with a value", []string{"run", "--instances", ids, "-x=1"}, "unknown flag -x "},
		{"two dashes", []string{"run", "--instances", ids, "--v"}, "unknown flag --v "},
		{"one dash, a typo", []string{"run", "-instancs", ids}, "unknown flag -instancs (did you mean --instances?)"},
		{"one dash, the AWS CLI's", []string{"run", "--instances", ids, "-output", "json"}, "unknown flag -output: "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := runCLI(t, "", tt.args...)
			if got.code != 2 || !strings.Contains(got.stderr, tt.want) {
				t.Errorf("exit %d, want 2 saying %q\n%s", got.code, tt.want, got.stderr)
			}
		})
	}
}

// TestUnknownFlagOtherCommandsSpelling: mail's recipients are --to, and
// run's and report's --mail-to; --mail-to given to mail was taken for a
// typo of --mail-to-label, which wants a label, not addresses. A flag that
// another command spells otherwise is told as this command spells it.
func TestUnknownFlagOtherCommandsSpelling(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	dir := t.TempDir()
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"mail given --mail-to", []string{"mail", dir, "--mail-to", "a@b.c"}, "unknown flag --mail-to (did you mean --to?)"},
		{"run given --to", []string{"run", "--instances", ids, "--to", "a@b.c"}, "unknown flag --to (did you mean --mail-to?)"},
		{"report given --to", []string{"report", dir, "--out", dir, "--to", "a@b.c"}, "unknown flag --to (did you mean --mail-to?)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := runCLI(t, "", tt.args...)
			if got.code != 2 || !strings.Contains(got.stderr, tt.want) {
				t.Errorf("exit %d, want 2 saying %q\n%s", got.code, tt.want, got.stderr)
			}
		})
	}
}
