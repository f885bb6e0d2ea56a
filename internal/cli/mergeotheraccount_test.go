package cli

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestMergeOtherAccountCarriesNoShard: shards of a list with no account
// column audited with account A's keys, shard 1 interrupted, merged; the
// whole list later audited with account B's keys, and merged with that
// merge. B's run is of another fleet (the list's instances in B), though
// it is of the same list: it does not stand for A's shard 1, most of which
// was never audited, and the merge is not complete.
func TestMergeOtherAccountCarriesNoShard(t *testing.T) {
	const ownKey = "AKIAPRODUCTIONKEY001"
	accounts := ssmsim.DefaultAccounts(2, 1)
	accounts[1].AccessKeys = []string{ownKey}
	org, srv, _ := serveOrgOf(t, ssmsim.OrgConfig{
		Seed: 3, Accounts: accounts,
		Regions: []ssmsim.Region{{Name: "us-east-1"}, {Name: "af-south-1", OptIn: true}},
		Fleet:   ssmsim.FleetConfig{Size: 30, BaseTime: time.Now().UTC().Truncate(time.Minute)},
	}, ssmsim.Faults{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stopAfter atomic.Int64
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ssmsim.OpDescribeInstanceAssociationsStatus) && stopAfter.Add(-1) == 0 {
			cancel()
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	t.Setenv("AWS_ENDPOINT_URL", hs.URL)
	fleet := org.Fleet(org.Management(), "us-east-1")
	ids := writeFile(t, "ids.txt", strings.Join(fleet.ManagedIDs(), "\n")+"\n")
	root := t.TempDir()
	base := func(out string) []string {
		return []string{"run", "--instances", ids, "--region", "us-east-1", "--quiet", "--fail-on", "none",
			"--rate", "2000", "--concurrency", "1", "--grace", "0s", "--out", filepath.Join(root, out)}
	}
	shard := func(k int) []string {
		return append(base(fmt.Sprintf("shard-%d", k)), "--shard", fmt.Sprintf("%d/2", k))
	}
	if got := runCLI(t, "", shard(0)...); got.code != 0 {
		t.Fatalf("shard 0: %d\n%s", got.code, got.stderr)
	}
	stopAfter.Store(3)
	if got := runCtx(ctx, nil, shard(1)...); got.code != int(exitIncomplete) {
		t.Fatalf("shard 1: %d\n%s", got.code, got.stderr)
	}
	stopAfter.Store(-1 << 40)
	m1 := filepath.Join(root, "m1")
	if got := runCLI(t, "", mergeArgs(m1, filepath.Join(root, "shard-0", audit.ResultsFile), filepath.Join(root, "shard-1", audit.ResultsFile))...); got.code != int(exitIncomplete) {
		t.Fatalf("m1: exit %d, want %d\n%s", got.code, exitIncomplete, got.stderr)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", ownKey)
	if got := runCLI(t, "", base("whole-B")...); got.code != int(exitOK) {
		t.Fatalf("the whole list, account B: exit %d\n%s", got.code, got.stderr)
	}
	m2 := filepath.Join(root, "m2")
	got := runCLI(t, "", mergeArgs(m2, filepath.Join(m1, audit.ResultsFile), filepath.Join(root, "whole-B", audit.ResultsFile))...)
	info, _ := audit.ReadRunInfo(filepath.Join(m2, audit.RunFile))
	rs, _ := audit.OpenRecords(filepath.Join(m2, audit.ResultsFile))
	n := 0
	rs.Each(func(r audit.Result) error {
		if r.AccountID == org.Management() {
			n++
		}
		return nil
	})
	rs.Close()
	if got.code != int(exitIncomplete) || info.Complete {
		t.Errorf("m2: exit %d, complete %v, interrupted %v, error %q; want exit %d, partial: %d of account A's %d listed instances have a result\n%s",
			got.code, info.Complete, info.Interrupted, info.Error, exitIncomplete, n, len(fleet.ManagedIDs()), got.stderr)
	}
}
