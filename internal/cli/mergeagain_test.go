package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestMergedGroupsRenderedAgain: a merge of two split groups, merged
// again with the third, was refused when rendered again in place ("the
// record holds 30 instances, and its run.json 20 targets; it is another
// audit's"): the groups' stand-in parts collide in the second merge, and
// its targets count one of them once. A merge's run.json is its record's.
func TestMergedGroupsRenderedAgain(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids, url, _ := scheduledFleet(t, 30)
	b, err := os.ReadFile(ids)
	if err != nil {
		t.Fatal(err)
	}
	owners := []string{"alice", "bob", "carol"}
	list := "instance_id,owner\n"
	for i, id := range strings.Fields(string(b)) {
		list += fmt.Sprintf("%s,%s\n", id, owners[i%3])
	}
	csv := writeFile(t, "owned.csv", list)
	dir := t.TempDir()
	run := filepath.Join(dir, "b1")
	if got := runCLI(t, "", "run", "--instances", csv, "--endpoint-url", url, "--region", "us-east-1", "--out", run,
		"--split-by", "owner", "--format", "csv,json", "--fail-on", "none", "--quiet"); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	group := func(o string) string { return filepath.Join(run, "by-owner", o, audit.ResultsFile) }
	gm, gm2 := filepath.Join(dir, "gm"), filepath.Join(dir, "gm2")
	for _, step := range [][]string{
		{group("alice"), group("bob"), "--out", gm},
		{filepath.Join(gm, audit.ResultsFile), group("carol"), "--out", gm2},
		{filepath.Join(gm2, audit.ResultsFile), "--out", gm2},
	} {
		args := append(append([]string{"report"}, step...), "--format", "csv,json", "--fail-on", "none", "--quiet")
		if got := runCLI(t, "", args...); got.code != 0 {
			t.Fatalf("auditor %s: exit %d\n%s", strings.Join(args, " "), got.code, got.stderr)
		}
	}
}
