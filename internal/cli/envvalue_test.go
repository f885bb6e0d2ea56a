package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestEnvRefusalNamesVariable: a value from the environment refused after
// parsing is told with the variable it came from, as the README promises,
// since a scheduled job's command line has no such flag.
func TestEnvRefusalNamesVariable(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	for _, tt := range []struct {
		name, env, value string
		args             []string
		want             string
	}{
		{"resume with {time}", "AUDITOR_RESUME", "true",
			[]string{"--instance-id", "i-0123456789abcdef0", "--out", filepath.Join(t.TempDir(), "{time}")}, "--resume with {time} in --out"},
		{"resume without --out", "AUDITOR_RESUME", "true",
			[]string{"--instance-id", "i-0123456789abcdef0"}, "--resume needs --out DIR"},
		{"IDs with a comma", "AUDITOR_INSTANCE_ID", "i-0123456789abcdef0,i-0123456789abcdef1",
			[]string{"--out", filepath.Join(t.TempDir(), "out")}, "contains a comma"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(tt.env, tt.value)
			got := runCLI(t, "", append([]string{"run", "--region", "us-east-1", "--quiet"}, tt.args...)...)
			if got.code != 2 || !strings.Contains(got.stderr, tt.want) || !strings.Contains(got.stderr, "from the environment: "+tt.env) {
				t.Errorf("exit %d, want 2 saying %q and naming %s\n%s", got.code, tt.want, tt.env, got.stderr)
			}
		})
	}
}
