package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestClosingLineCountsVerdicts: the closing line said "audited 3
// instances" of a run in which one was not managed, while the lines after
// it said it could not be audited and the reports counted 2 audited
// instances. It says how many got a verdict, of how many.
func TestClosingLineCountsVerdicts(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	for _, tt := range []struct {
		name, ids, want string
	}{
		{"one not managed", "i-0123456789abcdef0\ni-0123456789abcdef1\ni-0fedcba9876543210\n", "audited 2 of 3 instances in "},
		{"every one audited", "i-0123456789abcdef0\ni-0123456789abcdef1\n", "audited 2 instances in "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ids := writeFile(t, "ids.txt", tt.ids)
			got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1",
				"--out", filepath.Join(t.TempDir(), "out"), "--fail-on", "none")
			if !strings.Contains(got.stderr, tt.want) {
				t.Errorf("exit %d; stderr does not say %q:\n%s", got.code, tt.want, got.stderr)
			}
		})
	}
}
