package cli

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestShardOfAnOrgRunComparedWithTheWhole: a discovery shard compared with
// a whole run of the same organisation leaves the other shards'
// account-regions out of the comparison (not compared, another shard),
// yet a shard of one account was warned that the instances of the others
// are reported gone. None is, and no warning says so.
func TestShardOfAnOrgRunComparedWithTheWhole(t *testing.T) {
	serveOrgOf(t, threeRegionOrg(ssmsim.DefaultAccounts(3, 1), 10), ssmsim.Faults{})
	root := t.TempDir()
	args := []string{"run", "--accounts", "org", "--role-name", "AuditRole", "--regions", "us-east-1,eu-west-1", "--discover",
		"--region", "us-east-1", "--fail-on", "none", "--quiet", "--format", "csv"}
	whole := filepath.Join(root, "whole")
	if got := runCLI(t, "", append(args, "--out", whole)...); got.code != 0 {
		t.Fatalf("whole run: exit %d\n%s", got.code, got.stderr)
	}
	oneAccount := 0
	const n = 8
	for k := range n {
		out := filepath.Join(root, fmt.Sprintf("shard-%d", k))
		got := runCLI(t, "", append(args, "--shard", fmt.Sprintf("%d/%d", k, n), "--out", out, "--baseline", whole)...)
		if got.code != 0 {
			t.Fatalf("shard %d: exit %d\n%s", k, got.code, got.stderr)
		}
		ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
		if err != nil {
			t.Fatal(err)
		}
		accounts := map[string]bool{}
		for _, s := range ri.Sites {
			accounts[s.AccountID] = true
		}
		if len(accounts) == 1 {
			oneAccount++
		}
		if ri.Changes == nil {
			t.Fatalf("shard %d was compared with nothing", k)
		}
		if v := ri.Changes.Counts[audit.VanishedInstance]; v != 0 {
			t.Errorf("shard %d: %d instances gone, want none (the others are another shard's)", k, v)
		}
		if strings.Contains(got.stderr, "covers other targets") {
			t.Errorf("shard %d of %d accounts: warned of other targets:\n%s", k, len(accounts), got.stderr)
		}
	}
	if oneAccount == 0 {
		t.Fatalf("no shard of %d is of one account: a test of nothing", n)
	}
}

// TestShardOfAMergeOfTwoAccounts: a shard of a list is split by instance,
// not by account: compared with a merge of the list's runs in two
// accounts, the other account's instances of the shard are reported gone,
// and the warning that the baseline covers other targets stays.
func TestShardOfAMergeOfTwoAccounts(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids, _, _ := scheduledFleet(t, 20)
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 21, Size: 20})
	root := t.TempDir()
	run := func(account, out string, extra ...string) cliResult {
		t.Helper()
		url, _ := serve(t, fleet, ssmsim.Options{AccountID: account})
		got := runCLI(t, "", append([]string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1",
			"--fail-on", "none", "--quiet", "--out", filepath.Join(root, out)}, extra...)...)
		if got.code != 0 {
			t.Fatalf("%s: exit %d\n%s", out, got.code, got.stderr)
		}
		return got
	}
	run("111111111111", "a")
	run("222222222222", "b")
	if got := runCLI(t, "", "report", filepath.Join(root, "a", audit.ResultsFile), filepath.Join(root, "b", audit.ResultsFile),
		"--out", filepath.Join(root, "both"), "--fail-on", "none", "--quiet"); got.code != 0 {
		t.Fatalf("merge: exit %d\n%s", got.code, got.stderr)
	}
	got := run("111111111111", "shard", "--shard", "0/2", "--baseline", filepath.Join(root, "both"))
	ri, err := audit.ReadRunInfo(filepath.Join(root, "shard", audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	if ri.Changes == nil || ri.Changes.Counts[audit.VanishedInstance] == 0 {
		t.Fatalf("no instance of the other account reported gone: a test of nothing (%+v)", ri.Changes)
	}
	if !strings.Contains(got.stderr, "covers other targets") {
		t.Errorf("a shard compared with a merge of two accounts: no warning that it covers other targets:\n%s", got.stderr)
	}
}
