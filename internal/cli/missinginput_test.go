package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestMissingInputSaysWhatIsWanted: a --baseline or a record of auditor
// report that does not exist was told as Go's "stat nosuch: no such file
// or directory", with no word of what the option takes.
func TestMissingInputSaysWhatIsWanted(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	dir := t.TempDir()
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	for _, tt := range []struct {
		name string
		args []string
		want []string
	}{
		{
			name: "run --baseline",
			args: []string{"run", "--region", "us-east-1", "--instances", ids, "--out", filepath.Join(dir, "r"), "--baseline", "nosuch"},
			want: []string{"--baseline nosuch does not exist", "earlier run's --out directory", "results.jsonl", "previous"},
		},
		{
			name: "report RECORD",
			args: []string{"report", "missing.jsonl", "--out", filepath.Join(dir, "r1")},
			want: []string{"missing.jsonl does not exist", "results.jsonl"},
		},
		{
			name: "report --baseline",
			args: []string{"report", ids, "--out", filepath.Join(dir, "r2"), "--baseline", "nosuch"},
			want: []string{"--baseline nosuch does not exist", "earlier run's --out directory"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := runCLI(t, "", tt.args...)
			if got.code != 2 {
				t.Errorf("exit %d, want 2\n%s", got.code, got.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(got.stderr, w) {
					t.Errorf("stderr does not say %q\n%s", w, got.stderr)
				}
			}
			if strings.Contains(got.stderr, "stat ") {
				t.Errorf("stderr speaks of stat\n%s", got.stderr)
			}
		})
	}
}
