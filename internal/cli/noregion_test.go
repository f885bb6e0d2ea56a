package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestNoRegionSays: a run with no region for its targets (no --region,
// no AWS_REGION, no profile: a cron job's bare environment) says how many
// of them lack one and the first by file and line, and offers a list's
// region column only when a list gave them. It said "no region for some
// targets" whether that was one line of many or the whole list, and
// offered a region column to an --instance-id.
func TestNoRegionSays(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	plainList := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	withRegions := writeFile(t, "regions.csv", "instance_id,region\ni-0123456789abcdef0,us-east-1\n")
	mixed := writeFile(t, "mixed.csv", "instance_id,region\ni-0123456789abcdef0,us-east-1\ni-0123456789abcdef1,\n")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"a list without regions", []string{"--instances", plainList}, "no region for any of the 2 targets: pass --region, set AWS_REGION, or give each line of the list a region (a region column)\n"},
		{"one line without", []string{"--instances", mixed}, "no region for 1 of the 2 targets (the first, " + mixed + ":3: i-0123456789abcdef1): pass --region, set AWS_REGION, or give each line of the list a region (a region column)\n"},
		{"an --instance-id", []string{"--instance-id", "i-0123456789abcdef0"}, "no region for the target: pass --region or set AWS_REGION\n"},
		// Said "no region for some targets", of a list whose every line
		// has one.
		{"discovery beside a list with regions", []string{"--discover", "--instances", withRegions}, "auditor: no region to discover in: pass --regions (or --region), or set AWS_REGION\n"},
		// Said the list's problem twice.
		{"discovery beside a list without", []string{"--discover", "--instances", plainList}, "auditor: 2 problems:\n  no region to discover in: pass --regions (or --region), or set AWS_REGION\n  no region for any of the 2 targets: pass --region, set AWS_REGION, or give each line of the list a region (a region column)\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			got := runCLI(t, "", append([]string{"run", "--out", out}, tc.args...)...)
			if got.code != 2 || !strings.HasSuffix(got.stderr, tc.want) {
				t.Errorf("exit %d, want 2 and %q:\n%s", got.code, tc.want, got.stderr)
			}
		})
	}
}
