//go:build unix

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOutNotWritableNamesIt: an --out that cannot be written is named as
// the user would know it: the path given, not the parent that was looked
// at; the default, which was not typed, as the default, with what to pass;
// a symlink to nothing as that, not "mkdir: file exists". Exit 4 (an
// output that cannot be written), before any call to AWS.
func TestOutNotWritableNamesIt(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	base := t.TempDir()
	link := filepath.Join(base, "danglink")
	os.Symlink(filepath.Join(base, "missing"), link)
	ro := filepath.Join(base, "ro")
	os.Mkdir(ro, 0o555)
	tests := []struct {
		name string
		cwd  string
		out  []string
		want []string
		root bool // holds when run as root, who writes in ro
	}{
		{"dangling symlink", base, []string{"--out", link}, []string{"--out " + link + ": ", "symlink to " + filepath.Join(base, "missing"), "does not exist"}, true},
		{"read-only parent", base, []string{"--out", filepath.Join(ro, "x")}, []string{"--out " + filepath.Join(ro, "x") + ": ", "cannot create it in " + ro}, false},
		{"the default", ro, nil, []string{"--out audit-", "(the default, in the working directory)", "cannot create it in the working directory", "pass --out"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.root && os.Geteuid() == 0 {
				t.Skip("running as root, which writes in a read-only directory")
			}
			t.Chdir(tt.cwd)
			args := append([]string{"run", "--instance-id", "i-0123456789abcdef0", "--region", "us-east-1", "--endpoint-url", "http://127.0.0.1:1"}, tt.out...)
			got := runCLI(t, "", args...)
			if got.code != 4 {
				t.Errorf("exit %d, want 4\n%s", got.code, got.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(got.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, got.stderr)
				}
			}
			if strings.Contains(got.stderr, "file exists") || strings.Contains(got.stderr, "--out .:") {
				t.Errorf("stderr names what was looked at, not what was named:\n%s", got.stderr)
			}
		})
	}
}
