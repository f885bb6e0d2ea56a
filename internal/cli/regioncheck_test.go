package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestInvalidRegionIsOneProblem: a region that is no AWS Region name was
// reported, and then asked of the SDK's endpoint rules all the same, which
// added a second problem blaming AWS_USE_FIPS_ENDPOINT and
// AWS_USE_DUALSTACK_ENDPOINT ("Failed to parse uri"). The region's problem
// is the only one.
func TestInvalidRegionIsOneProblem(t *testing.T) {
	tests := []struct {
		name string
		env  string // AWS_REGION
		args []string
	}{
		{name: "flag", args: []string{"--region", "eu west 1"}},
		{name: "environment", env: "eu west 1"},
		{name: "upper case", args: []string{"--region", "EU-WEST-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateAWS(t, "AKIATESTTESTTESTTEST")
			t.Setenv("AWS_REGION", tt.env)
			out := filepath.Join(t.TempDir(), "out")
			args := append([]string{"run", "--instance-id", "i-12345678", "--out", out, "--quiet"}, tt.args...)
			got := runCLI(t, "", args...)
			if got.code != int(exitUsage) || !strings.Contains(got.stderr, "(from --region or the AWS configuration)") {
				t.Fatalf("exit %d, want %d naming the region\n%s", got.code, exitUsage, got.stderr)
			}
			for _, wrong := range []string{"FIPS", "DUALSTACK", "Failed to parse", "endpoint for", "problems"} {
				if strings.Contains(got.stderr, wrong) {
					t.Errorf("stderr says %q: want the region's problem alone\n%s", wrong, got.stderr)
				}
			}
		})
	}
}
