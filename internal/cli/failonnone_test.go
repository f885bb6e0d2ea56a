package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestFailOnNoneWithOthersRefused: --fail-on none,failed dropped none
// without a word and failed the run on failed (exit 1). none counts
// nothing, so it stands alone: with any other word it is refused (exit 2)
// by run and report alike.
func TestFailOnNoneWithOthersRefused(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	record := filepath.Join(t.TempDir(), "first")
	if got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", record, "--quiet", "--fail-on", "none"); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	for _, tt := range []struct {
		name   string
		cmd    string
		failOn []string
		want   string
	}{
		{"run, one list", "run", []string{"--fail-on", "none,failed"}, `--fail-on "none,failed": none stands alone`},
		{"run, two flags", "run", []string{"--fail-on", "failed", "--fail-on", "none"}, `--fail-on "failed,none": none stands alone`},
		{"report", "report", []string{"--fail-on", "none,pending"}, `--fail-on "none,pending": none stands alone`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			args := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet"}
			if tt.cmd == "report" {
				args = []string{"report", filepath.Join(record, "results.jsonl"), "--out", out, "--quiet"}
			}
			got := runCLI(t, "", append(args, tt.failOn...)...)
			if got.code != int(exitUsage) || !strings.Contains(got.stderr, tt.want) {
				t.Errorf("exit %d, want 2 saying %q\n%s", got.code, tt.want, got.stderr)
			}
		})
	}
}
