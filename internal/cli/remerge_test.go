package cli

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestMergeAgainAfterLateShard: shards of one list, one of them stopped (a
// signal, or a kill before its run.json), merged, then the late shard
// completed with --resume and merged again: the merge is as complete as a
// merge of the completed shards into a fresh directory. The same merge
// command was refused for the record it had written itself; merged as the
// refusal advised, the earlier merge named as an input, it carried that
// merge's "interrupted" (or its "no run.json beside") into the new one,
// which said partial (exit 3) of a record that holds every target.
func TestMergeAgainAfterLateShard(t *testing.T) {
	for _, killed := range []bool{false, true} {
		t.Run(map[bool]string{false: "interrupted", true: "killed before run.json"}[killed], func(t *testing.T) {
			sh := lateShards(t)
			fleet, root, shard := sh.fleet, sh.root, sh.shard
			if got := runCLI(t, "", shard(0)...); got.code != 0 {
				t.Fatalf("shard 0: exit %d\n%s", got.code, got.stderr)
			}
			sh.interrupted(1)
			late := filepath.Join(root, "shard-1")
			if killed {
				if err := os.Remove(filepath.Join(late, audit.RunFile)); err != nil {
					t.Fatal(err)
				}
			}
			records := []string{filepath.Join(root, "shard-0", audit.ResultsFile), filepath.Join(late, audit.ResultsFile)}
			all, named := filepath.Join(root, "all"), filepath.Join(root, "named")
			for _, out := range []string{all, named} {
				got := runCLI(t, "", mergeArgs(out, records...)...)
				if got.code != int(exitIncomplete) {
					t.Fatalf("the merge with shard 1 unfinished: exit %d, want %d\n%s", got.code, exitIncomplete, got.stderr)
				}
				// The shard to resume is named, not "the run's own --out".
				if !killed && !strings.Contains(got.stderr, "auditor run --resume --out "+late+" ") {
					t.Errorf("the merge with shard 1 interrupted does not name its --out to resume:\n%s", got.stderr)
				}
			}
			// Merged with shard 0 alone, the earlier merge still brings the
			// unfinished shard's results: it stays partial.
			if got := runCLI(t, "", mergeArgs(filepath.Join(root, "half"), filepath.Join(all, audit.ResultsFile), records[0])...); got.code != int(exitIncomplete) {
				t.Errorf("the earlier merge merged with shard 0 alone: exit %d, want %d\n%s", got.code, exitIncomplete, got.stderr)
			}
			if got := runCLI(t, "", append(shard(1), "--resume")...); got.code != 0 {
				t.Fatalf("shard 1 resumed: exit %d\n%s", got.code, got.stderr)
			}
			fresh := filepath.Join(root, "fresh")
			want := runCLI(t, "", mergeArgs(fresh, records...)...)
			if want.code != int(exitFindings) {
				t.Fatalf("the completed shards merged afresh: exit %d, want %d (findings)\n%s", want.code, exitFindings, want.stderr)
			}
			// The same merge run again is refused, as any merge into a
			// directory whose record is not among its inputs: its inputs
			// may no longer be what it read (a shard run again from
			// scratch), and the record it replaced would be lost. The
			// refusal says to name it as an input.
			if got := runCLI(t, "", mergeArgs(all, records...)...); got.code != int(exitUsage) || !strings.Contains(got.stderr, "name it as an input") {
				t.Errorf("the same merge again: exit %d, want %d and advice to name it as an input\n%s", got.code, exitUsage, got.stderr)
			}
			for _, tt := range []struct {
				name string
				out  string
				args []string
			}{
				{"the earlier merge named as an input", all, mergeArgs(all, append([]string{filepath.Join(all, audit.ResultsFile)}, records...)...)},
				{"the other earlier merge named as an input", named, mergeArgs(named, append([]string{filepath.Join(named, audit.ResultsFile)}, records...)...)},
			} {
				got := runCLI(t, "", tt.args...)
				if got.code != want.code {
					t.Errorf("%s: exit %d, want %d as afresh\n%s", tt.name, got.code, want.code, got.stderr)
				}
				info, err := audit.ReadRunInfo(filepath.Join(tt.out, audit.RunFile))
				if err != nil {
					t.Fatal(err)
				}
				if !info.Complete || info.Interrupted || info.Error != "" || info.Targets != fleet.Len() {
					t.Errorf("%s: run.json: complete %v, interrupted %v, error %q, targets %d; want complete, %d targets",
						tt.name, info.Complete, info.Interrupted, info.Error, info.Targets, fleet.Len())
				}
				if d := diffLines(normalized(t, filepath.Join(fresh, audit.ResultsFile)), normalized(t, filepath.Join(tt.out, audit.ResultsFile))); d != "" {
					t.Errorf("%s: the record differs from the fresh merge's:\n%s", tt.name, d)
				}
			}
		})
	}
}

// TestMergeAgainNamingLateShardOnly: the earlier merge of shards, one of
// them interrupted, merged again with that shard alone once resumed (the
// form the refusal to overwrite it advises: name the earlier merge as an
// input). The earlier merge still brings the other shard's results, so it
// was not superseded whole, and its "interrupted" was carried into a merge
// that holds every target: exit 3, and the advice to resume and merge again
// looped. The late shard's completed run replaces the earlier merge's word
// for that shard only: where the earlier merge was also interrupted in a
// shard no later input carries, the merge stays partial until that one is
// resumed and merged in too.
func TestMergeAgainNamingLateShardOnly(t *testing.T) {
	for _, bothLate := range []bool{false, true} {
		t.Run(map[bool]string{false: "one shard late", true: "both shards late"}[bothLate], func(t *testing.T) {
			sh := lateShards(t)
			fleet, root, shard, interrupted := sh.fleet, sh.root, sh.shard, sh.interrupted
			if bothLate {
				interrupted(0)
			} else if got := runCLI(t, "", shard(0)...); got.code != 0 {
				t.Fatalf("shard 0: exit %d\n%s", got.code, got.stderr)
			}
			interrupted(1)
			records := []string{filepath.Join(root, "shard-0", audit.ResultsFile), filepath.Join(root, "shard-1", audit.ResultsFile)}
			merged := filepath.Join(root, "merged")
			mergedRecord := filepath.Join(merged, audit.ResultsFile)
			if got := runCLI(t, "", mergeArgs(merged, records...)...); got.code != int(exitIncomplete) {
				t.Fatalf("the merge with shard 1 unfinished: exit %d, want %d\n%s", got.code, exitIncomplete, got.stderr)
			}
			if got := runCLI(t, "", append(shard(1), "--resume")...); got.code != 0 {
				t.Fatalf("shard 1 resumed: exit %d\n%s", got.code, got.stderr)
			}
			mergeAgain := func(late int) cliResult {
				t.Helper()
				return runCLI(t, "", mergeArgs(merged, mergedRecord, records[late])...)
			}
			partial := func(what string, got cliResult) {
				t.Helper()
				info, err := audit.ReadRunInfo(filepath.Join(merged, audit.RunFile))
				if err != nil {
					t.Fatal(err)
				}
				if got.code != int(exitIncomplete) || info.Complete || !info.Interrupted {
					t.Errorf("%s: exit %d, run.json complete %v, interrupted %v; want exit %d, interrupted (shard 0 was, and nothing after it replaces it)\n%s",
						what, got.code, info.Complete, info.Interrupted, exitIncomplete, got.stderr)
				}
			}
			if bothLate {
				partial("the earlier merge merged again with shard 1 alone, shard 0 still interrupted", mergeAgain(1))
				if got := runCLI(t, "", append(shard(0), "--resume")...); got.code != 0 {
					t.Fatalf("shard 0 resumed: exit %d\n%s", got.code, got.stderr)
				}
			}
			fresh := filepath.Join(root, "fresh")
			want := runCLI(t, "", mergeArgs(fresh, records...)...)
			if want.code != int(exitFindings) {
				t.Fatalf("the completed shards merged afresh: exit %d, want %d (findings)\n%s", want.code, exitFindings, want.stderr)
			}
			// The late shards merged in one at a time, the last merge
			// named as an input each time, then once more: each merge
			// complete.
			late := []int{1, 1}
			if bothLate {
				late = []int{0, 1, 1}
			}
			for i, k := range late {
				got := mergeAgain(k)
				what := fmt.Sprintf("merge %d, of the earlier merge and shard %d", i+1, k)
				if got.code != want.code {
					t.Errorf("%s: exit %d, want %d as afresh\n%s", what, got.code, want.code, got.stderr)
				}
				info, err := audit.ReadRunInfo(filepath.Join(merged, audit.RunFile))
				if err != nil {
					t.Fatal(err)
				}
				if !info.Complete || info.Interrupted || info.Error != "" || info.Targets != fleet.Len() {
					t.Errorf("%s: run.json: complete %v, interrupted %v, error %q, targets %d; want complete, %d targets",
						what, info.Complete, info.Interrupted, info.Error, info.Targets, fleet.Len())
				}
				if d := diffLines(normalized(t, filepath.Join(fresh, audit.ResultsFile)), normalized(t, mergedRecord)); d != "" {
					t.Errorf("%s: the record differs from the fresh merge's:\n%s", what, d)
				}
			}
		})
	}
}

// shards2 is a list of a fleet of 40, audited in 2 shards (lateShards).
type shards2 struct {
	fleet *ssmsim.Fleet
	root  string // each shard's --out is root/shard-K
	// shard is the command of shard k.
	shard func(k int) []string
	// interrupted runs shard k, stopped after its first 5 calls, as a
	// signal would stop it.
	interrupted func(k int)
}

// lateShards serves a fleet of 40 whose calls can be stopped midway, and
// the commands of the 2 shards of its list.
func lateShards(t *testing.T) shards2 {
	t.Helper()
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 4, Size: 40})
	sim := ssmsim.NewServer(fleet, ssmsim.Options{})
	var stopAfter atomic.Int64 // calls left before the signal; 0: none
	stopAfter.Store(-1 << 40)
	var stop atomic.Pointer[context.CancelFunc]
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ssmsim.OpDescribeInstanceAssociationsStatus) && stopAfter.Add(-1) == 0 {
			(*stop.Load())()
		}
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	ids := filepath.Join(t.TempDir(), "ids.txt")
	if err := writeIDs(ids, fleet); err != nil {
		t.Fatal(err)
	}
	sh := shards2{fleet: fleet, root: t.TempDir()}
	sh.shard = func(k int) []string {
		return []string{"run", "--instances", ids, "--endpoint-url", hs.URL, "--region", "us-east-1", "--quiet", "--fail-on", "none",
			"--rate", "2000", "--concurrency", "1", "--grace", "0s",
			"--out", filepath.Join(sh.root, fmt.Sprintf("shard-%d", k)), "--shard", fmt.Sprintf("%d/2", k)}
	}
	sh.interrupted = func(k int) {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		stop.Store(&cancel)
		stopAfter.Store(5)
		defer stopAfter.Store(-1 << 40)
		if got := runCtx(ctx, nil, sh.shard(k)...); got.code != int(exitIncomplete) {
			t.Fatalf("shard %d, interrupted: exit %d, want %d\n%s", k, got.code, exitIncomplete, got.stderr)
		}
	}
	return sh
}
