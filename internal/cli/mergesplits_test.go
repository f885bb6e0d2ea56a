package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestMergeOfTwoSplits: shards of one list split two ways, merged. With
// every shard of one split there, the list is whole: the merge said 63 of
// 200 instances could not be audited, advising a resume that could not
// help. Without, it names the split, not a resume.
func TestMergeOfTwoSplits(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 7, Size: shortN(200, 60)})
	url, _ := serve(t, fleet, ssmsim.Options{})
	ids := filepath.Join(t.TempDir(), "ids.txt")
	if err := writeIDs(ids, fleet); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	record := map[string]string{}
	for _, s := range []string{"0/2", "1/2", "0/3"} {
		dir := filepath.Join(root, strings.ReplaceAll(s, "/", "of"))
		got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--quiet",
			"--shard", s, "--fail-on", "none", "--out", dir)
		if got.code != 0 {
			t.Fatalf("shard %s: exit %d\n%s", s, got.code, got.stderr)
		}
		record[s] = filepath.Join(dir, audit.ResultsFile)
	}
	// Another list, of some of the same instances, audited whole.
	b, err := os.ReadFile(ids)
	if err != nil {
		t.Fatal(err)
	}
	few := filepath.Join(t.TempDir(), "few.txt")
	if err := os.WriteFile(few, []byte(strings.Join(strings.Split(string(b), "\n")[:10], "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(root, "other")
	if got := runCLI(t, "", "run", "--instances", few, "--endpoint-url", url, "--region", "us-east-1", "--quiet",
		"--fail-on", "none", "--out", other); got.code != 0 {
		t.Fatalf("another list: exit %d\n%s", got.code, got.stderr)
	}
	record["other"] = filepath.Join(other, audit.ResultsFile)
	merge := func(out string, shards ...string) (cliResult, audit.RunInfo) {
		t.Helper()
		args := []string{"report"}
		for _, s := range shards {
			args = append(args, record[s])
		}
		out = filepath.Join(root, out)
		got := runCLI(t, "", append(args, "--out", out, "--fail-on", "none")...)
		ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
		if err != nil {
			t.Fatalf("merge of %q: %v\n%s", shards, err, got.stderr)
		}
		return got, ri
	}
	for _, order := range [][]string{{"0/2", "1/2", "0/3"}, {"0/3", "0/2", "1/2"}} {
		got, ri := merge("all-"+strings.ReplaceAll(strings.Join(order, "-"), "/", "of"), order...)
		if got.code != 0 || strings.Contains(got.stderr, "incomplete") {
			t.Errorf("merge of %q: exit %d, want 0, the list whole\n%s", order, got.code, got.stderr)
		}
		if ri.Targets != fleet.Len() || !ri.Complete || ri.Error != "" {
			t.Errorf("merge of %q: run.json %d targets, complete %v, error %q; want %d, complete", order, ri.Targets, ri.Complete, ri.Error, fleet.Len())
		}
	}
	got, ri := merge("gap", "0/2", "0/3")
	if got.code != 3 || !strings.Contains(got.stderr, "split 2 ways: merge the shards of one split") ||
		strings.Contains(got.stderr, "resume") {
		t.Errorf("merge of 0/2 and 0/3: exit %d, want 3 naming the split and no resume\n%s", got.code, got.stderr)
	}
	if ri.Targets != 0 {
		t.Errorf("merge of 0/2 and 0/3: %d targets, want 0 (unknown): the shards overlap", ri.Targets)
	}
	// With another list that shares instances, the targets stay unknown:
	// its overlap is not taken from none, below 0, which no run.json
	// may hold.
	if got, ri := merge("gap-other", "0/2", "0/3", "other"); got.code != 3 || ri.Targets != 0 {
		t.Errorf("merge of 0/2, 0/3 and another list: exit %d, %d targets; want 3 and 0 (unknown)\n%s", got.code, ri.Targets, got.stderr)
	}
}
