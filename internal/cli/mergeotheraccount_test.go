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
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// listInTwoAccounts is a list with no account column, audited with the
// keys of two accounts (listInTwo).
type listInTwoAccounts struct {
	org  *ssmsim.Org
	root string
	// run is the command that audits the list into root/out.
	run func(out string) []string
	// shard is the command of shard k of 2 of it, into root/shard-K.
	shard func(k int) []string
	// interrupted runs args, stopped after its first 3 calls, as a signal
	// would stop it.
	interrupted func(args []string)
	// asB and asA switch to the keys of account B, and back to A's (the
	// organisation's management account, whose instances the list names).
	asB, asA func()
}

// listInTwo serves an organisation of two accounts, and a list of the
// management account's instances with no account column: a run takes the
// account of its credentials for its rows.
func listInTwo(t *testing.T) listInTwoAccounts {
	t.Helper()
	const keyB = "AKIAPRODUCTIONKEY001"
	accounts := ssmsim.DefaultAccounts(2, 1)
	accounts[1].AccessKeys = []string{keyB}
	org, srv, _ := serveOrgOf(t, ssmsim.OrgConfig{
		Seed: 3, Accounts: accounts,
		Regions: []ssmsim.Region{{Name: "us-east-1"}, {Name: "af-south-1", OptIn: true}},
		Fleet:   ssmsim.FleetConfig{Size: 30, BaseTime: time.Now().UTC().Truncate(time.Minute)},
	}, ssmsim.Faults{})
	var stop atomic.Pointer[context.CancelFunc]
	var stopAfter atomic.Int64
	stopAfter.Store(-1 << 40)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ssmsim.OpDescribeInstanceAssociationsStatus) && stopAfter.Add(-1) == 0 {
			(*stop.Load())()
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	t.Setenv("AWS_ENDPOINT_URL", hs.URL)
	keyA := os.Getenv("AWS_ACCESS_KEY_ID")
	ids := writeFile(t, "ids.txt", strings.Join(org.Fleet(org.Management(), "us-east-1").ManagedIDs(), "\n")+"\n")
	l := listInTwoAccounts{org: org, root: t.TempDir()}
	l.run = func(out string) []string {
		return []string{"run", "--instances", ids, "--region", "us-east-1", "--quiet", "--fail-on", "none",
			"--rate", "2000", "--concurrency", "1", "--grace", "0s", "--out", filepath.Join(l.root, out)}
	}
	l.shard = func(k int) []string {
		return append(l.run(fmt.Sprintf("shard-%d", k)), "--shard", fmt.Sprintf("%d/2", k))
	}
	l.interrupted = func(args []string) {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		stop.Store(&cancel)
		stopAfter.Store(3)
		defer stopAfter.Store(-1 << 40)
		if got := runCtx(ctx, nil, args...); got.code != int(exitIncomplete) {
			t.Fatalf("%s, interrupted: exit %d, want %d\n%s", strings.Join(args, " "), got.code, exitIncomplete, got.stderr)
		}
	}
	l.asB = func() { t.Setenv("AWS_ACCESS_KEY_ID", keyB) }
	l.asA = func() { t.Setenv("AWS_ACCESS_KEY_ID", keyA) }
	return l
}

func (l listInTwoAccounts) record(dir string) string {
	return filepath.Join(l.root, dir, audit.ResultsFile)
}

// mustRun runs args, wanting exit want.
func mustRun(t *testing.T, want exitCode, args ...string) {
	t.Helper()
	if got := runCLI(t, "", args...); got.code != int(want) {
		t.Fatalf("%s: exit %d, want %d\n%s", strings.Join(args, " "), got.code, want, got.stderr)
	}
}

// wantPartial runs the merge args and wants it partial: exit 3, and
// run.json not complete.
func (l listInTwoAccounts) wantPartial(t *testing.T, why string, args ...string) {
	t.Helper()
	got := runCLI(t, "", args...)
	info, err := audit.ReadRunInfo(filepath.Join(args[len(args)-2], audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	if got.code != int(exitIncomplete) || info.Complete {
		t.Errorf("%s: exit %d, complete %v; want exit %d, partial\n%s", why, got.code, info.Complete, exitIncomplete, got.stderr)
	}
}

// TestMergeOtherAccountCarriesNoShard: shards of a list with no account
// column audited with account A's keys, shard 1 interrupted, merged; the
// whole list later audited with account B's keys, and merged with that
// merge. B's run is of another fleet (the list's instances in B), though
// it is of the same list: it does not stand for A's shard 1, most of which
// was never audited, and the merge is not complete.
func TestMergeOtherAccountCarriesNoShard(t *testing.T) {
	l := listInTwo(t)
	mustRun(t, exitOK, l.shard(0)...)
	l.interrupted(l.shard(1))
	m1 := filepath.Join(l.root, "m1")
	mustRun(t, exitIncomplete, mergeArgs(m1, l.record("shard-0"), l.record("shard-1"))...)
	l.asB()
	mustRun(t, exitOK, l.run("whole-B")...)
	l.wantPartial(t, "the merge with the whole list run in account B",
		mergeArgs(filepath.Join(l.root, "m2"), filepath.Join(m1, audit.ResultsFile), l.record("whole-B"))...)
}

// TestMergeShardsOfTwoAccounts: a list with no account column, one shard
// of it audited in account A and the other (or the whole list) in account
// B. A list's part named the list by its digest before the caller's
// account filled its rows, so the shards made a whole list between them,
// and B's whole list stood for A's shard: the merge said complete, though
// half the list was never audited in either account.
func TestMergeShardsOfTwoAccounts(t *testing.T) {
	l := listInTwo(t)
	mustRun(t, exitOK, l.shard(0)...)
	l.asB()
	mustRun(t, exitOK, append(l.run("shard-1"), "--shard", "1/2")...)
	mustRun(t, exitOK, l.run("whole-B")...)
	l.wantPartial(t, "shard 0 in A and shard 1 in B",
		mergeArgs(filepath.Join(l.root, "m1"), l.record("shard-0"), l.record("shard-1"))...)
	l.wantPartial(t, "shard 0 in A and the whole list in B",
		mergeArgs(filepath.Join(l.root, "m2"), l.record("shard-0"), l.record("whole-B"))...)
	l.wantPartial(t, "the whole list in B and shard 0 in A",
		mergeArgs(filepath.Join(l.root, "m3"), l.record("whole-B"), l.record("shard-0"))...)
}

// TestMergeKilledInPlaceKeepsNoRunJSON: a merge into the directory of an
// earlier merge, killed before its run.json, leaves the earlier merge's
// run.json beside a record that now holds what that run.json does not
// describe (another list's results). Merged again with the late shard,
// resumed since, and the other shard, the stale run.json was taken for
// the record's, and the merge said complete.
func TestMergeKilledInPlaceKeepsNoRunJSON(t *testing.T) {
	l := listInTwo(t)
	mustRun(t, exitOK, l.shard(0)...)
	l.interrupted(l.shard(1))
	m := filepath.Join(l.root, "m")
	mustRun(t, exitIncomplete, mergeArgs(m, l.record("shard-0"), l.record("shard-1"))...)
	other := writeFile(t, "other.txt", "i-0aaaaaaaaaaaaaaa1\ni-0aaaaaaaaaaaaaaa2\ni-0aaaaaaaaaaaaaaa3\n")
	mustRun(t, exitOK, "run", "--instances", other, "--region", "us-east-1", "--quiet", "--fail-on", "none", "--out", filepath.Join(l.root, "other"))
	killedMerge(t, mergeArgs(m, l.record("m"), l.record("other"))...)
	mustRun(t, exitOK, append(l.shard(1), "--resume")...)
	l.wantPartial(t, "the merge killed in place, merged again with the shards",
		mergeArgs(m, l.record("m"), l.record("shard-1"), l.record("shard-0"))...)
}
