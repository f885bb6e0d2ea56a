package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
)

// TestPreviousRunsShardsBesideTheirMerge: a merge starts when its earliest
// shard did, so its sibling shards did not start before it. They were
// passed over as runs that started later, never counted as runs of other
// targets, and the merge had no baseline and no warning. A run of other
// targets is one whenever it started; a run of the same targets that
// started later is still left out.
func TestPreviousRunsShardsBesideTheirMerge(t *testing.T) {
	root := t.TempDir()
	started := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	now := started.Add(time.Hour)
	shard := func(s string) audit.Part { return audit.Part{Fleet: "L" + s, List: "L", Shard: s} }
	mk := func(name string, at time.Time, parts ...audit.Part) string {
		t.Helper()
		dir := filepath.Join(root, name)
		if err := os.MkdirAll(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, audit.ResultsFile), []byte("{}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := writeJSON(filepath.Join(dir, audit.RunFile), audit.RunInfo{Schema: audit.Schema, StartedAt: at, Complete: true, Parts: parts}); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	first := mk("shard-0", started, shard("0/2"))
	second := mk("shard-1", started.Add(time.Minute), shard("1/2"))
	// A whole run of the list that started after the merge's start: the
	// same targets, not a baseline, and not another list either.
	mk("later", started.Add(2*time.Minute), audit.Part{Fleet: "L", List: "L"})
	self := audit.RunInfo{StartedAt: started, Parts: []audit.Part{shard("0/2"), shard("1/2")}}
	found, err := previousRuns(filepath.Join(root, "all"), started, now, self)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(found.other)
	if len(found.dirs) != 0 || !slices.Equal(found.other, []string{first, second}) {
		t.Errorf("previousRuns = %q, other %q; want none, other %q", found.dirs, found.other, []string{first, second})
	}
}

// TestMergeBesideItsShardsWarns: the README's shards (RUN/shard-K) merged
// beside them (RUN/all) with --baseline previous have no baseline; the
// merge said nothing of it, and --fail-on new passed in silence. It warns,
// as each shard does, naming the shards and the run to compare with.
func TestMergeBesideItsShardsWarns(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids, url, _ := scheduledFleet(t, 30)
	run := filepath.Join(t.TempDir(), "run")
	var recs []string
	for k := range 3 {
		out := filepath.Join(run, fmt.Sprintf("shard-%d", k))
		got := runCLI(t, "", "run", "--endpoint-url", url, "--region", "us-east-1", "--fail-on", "none", "--quiet",
			"--instances", ids, "--shard", fmt.Sprintf("%d/3", k), "--out", out, "--baseline", "previous")
		if got.code != 0 {
			t.Fatalf("shard %d: exit %d\n%s", k, got.code, got.stderr)
		}
		recs = append(recs, filepath.Join(out, audit.ResultsFile))
	}
	got := runCLI(t, "", append(append([]string{"report"}, recs...), "--out", filepath.Join(run, "all"), "--baseline", "previous", "--fail-on", "new", "--quiet")...)
	if got.code != 0 {
		t.Fatalf("merge: exit %d\n%s", got.code, got.stderr)
	}
	if b := baselineIn(t, filepath.Join(run, "all")); b != "" {
		t.Errorf("the merge compares with %s, one of its shards", b)
	}
	checkSays(t, got.stderr, []string{"no earlier run of the same targets", filepath.Join(run, "shard-0"), "only a shard", "for a merge of shards, the merge of the run before"},
		[]string{"another list or another shard"})
}
