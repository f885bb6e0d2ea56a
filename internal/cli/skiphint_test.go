package cli

import (
	"strings"
	"testing"
)

// TestSkipInvalidHint: a list with a bad line is refused with the advice
// to fix it or pass --skip-invalid to audit the rest; that advice came
// also when no line was valid, and following it was refused again ("no
// valid instance IDs"). It is given only when there is a rest to audit.
func TestSkipInvalidHint(t *testing.T) {
	for _, tt := range []struct {
		name, list string
		hint       bool
	}{
		{"one valid line", "i-0123456789abcdef0\ni-bogus\n", true},
		{"no valid line", "i-bogus\nnot-an-id\n", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			isolateAWS(t, "AKIATESTTESTTESTTEST")
			ids := writeFile(t, "ids.txt", tt.list)
			got := runCLI(t, "", "run", "--instances", ids, "--region", "us-east-1", "--endpoint-url", "http://127.0.0.1:1", "--out", t.TempDir()+"/out")
			if got.code != 2 || !strings.Contains(got.stderr, "ids.txt:") {
				t.Fatalf("exit %d, want 2 naming the bad lines\n%s", got.code, got.stderr)
			}
			if said := strings.Contains(got.stderr, "--skip-invalid"); said != tt.hint {
				t.Errorf("advises --skip-invalid: %v, want %v\n%s", said, tt.hint, got.stderr)
			}
			if !tt.hint && !strings.Contains(got.stderr, "no line") {
				t.Errorf("does not say that no line is valid\n%s", got.stderr)
			}
		})
	}
}
