package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/ssmsim"
)

// A shard's --with-instance-info lookup calls the same account-region as
// its audit, on the same bucket: it must pace with the other shards from
// its first call. It ran before the output directory was the run's and
// the board started, so a shard whose lookup came while another audited
// at the whole rate paced alone through it (BENCHMARKS.md, "Shards with
// --with-instance-info"). The server looks, at each DescribeInstanceInformation,
// for the shard's pace file speaking of an account-region.
func TestShardLookupPacesOnTheBoard(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 9, Size: 1000})
	ids := filepath.Join(t.TempDir(), "ids.txt")
	if err := writeIDs(ids, fleet); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "shard-0")
	var lookups, heard atomic.Int32
	sim := ssmsim.NewServer(fleet, ssmsim.Options{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") == "AmazonSSM.DescribeInstanceInformation" {
			// The first ten slow enough that the lookup, one call at a
			// time, spans several of the board's writes.
			if lookups.Add(1) <= 10 {
				time.Sleep(200 * time.Millisecond)
			}
			var f struct {
				Pace map[string]json.RawMessage `json:"pace"`
			}
			if data, err := os.ReadFile(filepath.Join(out, ".auditor-pace")); err == nil && json.Unmarshal(data, &f) == nil && len(f.Pace) > 0 {
				heard.Add(1)
			}
		}
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	t.Setenv("AWS_ENDPOINT_URL_STS", ts.URL)

	got := runCtx(context.Background(), nil, "run", "--instances", ids, "--endpoint-url", ts.URL, "--region", "us-east-1",
		"--quiet", "--fail-on", "none", "--shard", "0/2", "--concurrency", "1", "--with-instance-info", "--out", out)
	if got.code != 0 {
		t.Fatalf("exit %d\n%s", got.code, got.stderr)
	}
	if lookups.Load() < 8 {
		t.Fatalf("%d lookup calls, want at least the shard's 500 or so instances in 10", lookups.Load())
	}
	if heard.Load() == 0 {
		t.Errorf("none of %d lookup calls came while the shard's pace file spoke of its account-region: the lookup paced off the board", lookups.Load())
	}
}
