package cli

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// recordedInstances returns the instance IDs of dir's instances.csv, sorted.
func recordedInstances(t *testing.T, dir string) []string {
	t.Helper()
	rows, err := readCSV(filepath.Join(dir, "instances.csv"))
	if err != nil {
		t.Fatal(err)
	}
	id := slices.Index(rows[0], "instance_id")
	var out []string
	for _, r := range rows[1:] {
		out = append(out, r[id])
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestBaselineOfOtherTargetsSeedsNothing: a discovery with a baseline
// asked about the baseline's failing nodes it did not list, whatever
// targets the baseline's run had: with --filter InstanceIds,
// ResourceType or PlatformType (keys that are not tags), or another tag,
// a stopped node that this run never covered became one of its targets.
// A baseline of other targets seeds nothing: its nodes not listed are
// gone from the comparison, as for another list.
func TestBaselineOfOtherTargetsSeedsNothing(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	for _, tc := range []struct {
		name   string
		first  []string // week 1's options
		second []string // week 2's
		fleet2 *ssmsim.Fleet
		want   []string
	}{
		{"InstanceIds, the baseline unfiltered", nil, []string{"--filter", "Key=InstanceIds,Values=i-0123456789abcdef0"},
			stoppedFleet(true, false), []string{"i-0123456789abcdef0"}},
		{"ResourceType, the baseline unfiltered", nil, []string{"--filter", "Key=ResourceType,Values=ManagedInstance"},
			stoppedFleet(true, false), nil},
		{"PlatformType, the baseline unfiltered", nil, []string{"--filter", "Key=PlatformType,Values=Windows"},
			stoppedFleet(true, false), nil},
		{"another tag", []string{"--filter", "Key=tag:Env,Values=prod"}, []string{"--filter", "Key=tag:Env,Values=dev"},
			stoppedFleetEnv(true, false, "dev"), []string{"i-0123456789abcdef0"}},
		// --instances LIST: the same file read by both runs is no
		// sign of the same discovery.
		{"another tag, the same list besides", []string{"--filter", "Key=tag:Env,Values=prod", "--instances", "LIST"},
			[]string{"--filter", "Key=tag:Env,Values=dev", "--instances", "LIST"},
			stoppedFleetEnv(true, false, "dev"), []string{"i-0123456789abcdef0", "i-0123456789abcdef3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			run := discoveryRunner(t, root, "--fail-on", "none")
			list := writeFile(t, "fleet.txt", "i-0123456789abcdef3\n")
			for _, opts := range [][]string{tc.first, tc.second} {
				if i := slices.Index(opts, "LIST"); i >= 0 {
					opts[i] = list
				}
			}
			if got := run(stoppedFleet(false, false), "w1", tc.first...); got.code != 0 {
				t.Fatalf("week 1: exit %d\n%s", got.code, got.stderr)
			}
			got := run(tc.fleet2, "w2", append(tc.second, "--baseline", filepath.Join(root, "w1"))...)
			checkSays(t, got.stderr, nil, []string{"asked about"})
			if ids := recordedInstances(t, filepath.Join(root, "w2")); !slices.Equal(ids, tc.want) {
				t.Errorf("week 2's instances %q, want %q (exit %d)\n%s", ids, tc.want, got.code, got.stderr)
			}
			ri, err := audit.ReadRunInfo(filepath.Join(root, "w2", audit.RunFile))
			if err != nil {
				t.Fatal(err)
			}
			if ri.Targets != len(tc.want) {
				t.Errorf("run.json: %d targets, want %d", ri.Targets, len(tc.want))
			}
		})
	}
}

// TestMergedShardsOfTheDiscoverySeed: a merge of the shards of the same
// discovery is of its scope: a stopped node failing there is asked about,
// by the whole discovery, or by the shard of its account-region.
func TestMergedShardsOfTheDiscoverySeed(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	root := t.TempDir()
	run := discoveryRunner(t, root, "--fail-on", "none")
	var records []string
	for _, k := range []string{"0", "1"} {
		if got := run(stoppedFleet(false, false), "shard-"+k, "--shard", k+"/2"); got.code != 0 {
			t.Fatalf("shard %s: exit %d\n%s", k, got.code, got.stderr)
		}
		records = append(records, filepath.Join(root, "shard-"+k, audit.ResultsFile))
	}
	merged := filepath.Join(root, "merged")
	if got := runCLI(t, "", append(append([]string{"report"}, records...), "--out", merged, "--format", "csv", "--fail-on", "none")...); got.code != 0 {
		t.Fatalf("the merge: exit %d\n%s", got.code, got.stderr)
	}
	got := run(stoppedFleet(true, false), "w2", "--baseline", merged)
	checkSays(t, got.stderr, []string{"asked about 1 more node"}, nil)
	if want := []string{"still_failing"}; !slices.Equal(changesByInstance(t, filepath.Join(root, "w2"))["i-0123456789abcdef1"], want) {
		t.Errorf("the stopped node's changes %q, want %q (exit %d)\n%s", changesByInstance(t, filepath.Join(root, "w2"))["i-0123456789abcdef1"], want, got.code, got.stderr)
	}
	asked := 0
	for _, k := range []string{"0", "1"} {
		got := run(stoppedFleet(true, false), "w2-"+k, "--baseline", merged, "--shard", k+"/2")
		if got.code != 0 {
			t.Fatalf("week 2, shard %s: exit %d\n%s", k, got.code, got.stderr)
		}
		asked += strings.Count(got.stderr, "asked about 1 more node")
	}
	if asked != 1 {
		t.Errorf("the shards of week 2 asked about the stopped node %d times, want once", asked)
	}
}
