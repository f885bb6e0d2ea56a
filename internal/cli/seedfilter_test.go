package cli

import (
	"path/filepath"
	"slices"
	"testing"
)

// TestSeededOutsideTheFilter: a baseline of the same discovery may hold
// a node that the filter leaves out (one its run listed too): stopped,
// it was asked about, though the filter's InstanceIds, or its ID's kind
// (ResourceType), or its platform as the baseline recorded it
// (PlatformType) says it is no target of the discovery. A platform the
// baseline did not record leaves the node to be audited, whatever its
// platform is now (as whatever its tags are now).
func TestSeededOutsideTheFilter(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	for _, tc := range []struct {
		name  string
		opts  []string // both weeks'
		first []string // week 1's besides
		want  []string
	}{
		{"InstanceIds", []string{"--filter", "Key=InstanceIds,Values=i-0123456789abcdef0"}, nil, []string{"i-0123456789abcdef0"}},
		{"ResourceType", []string{"--filter", "Key=ResourceType,Values=ManagedInstance"}, nil, nil},
		{"PlatformType recorded", []string{"--filter", "Key=PlatformType,Values=Windows"}, []string{"--with-instance-info"}, nil},
		{"PlatformType not recorded", []string{"--filter", "Key=PlatformType,Values=Windows"}, nil, []string{"i-0123456789abcdef1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			run := discoveryRunner(t, root, append([]string{"--fail-on", "none"}, tc.opts...)...)
			// Week 1 lists i-...1 too.
			list := writeFile(t, "fleet.txt", "i-0123456789abcdef1\n")
			if got := run(stoppedFleet(false, false), "w1", append(tc.first, "--instances", list)...); got.code != 0 {
				t.Fatalf("week 1: exit %d\n%s", got.code, got.stderr)
			}
			if ids := recordedInstances(t, filepath.Join(root, "w1")); !slices.Contains(ids, "i-0123456789abcdef1") {
				t.Fatalf("week 1's instances %q lack the listed i-...1", ids)
			}
			got := run(stoppedFleet(true, false), "w2", "--baseline", filepath.Join(root, "w1"))
			if ids := recordedInstances(t, filepath.Join(root, "w2")); !slices.Equal(ids, tc.want) {
				t.Errorf("week 2's instances %q, want %q (exit %d)\n%s", ids, tc.want, got.code, got.stderr)
			}
		})
	}
}
