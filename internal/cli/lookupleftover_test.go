package cli

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/ssmsim"
)

// A run stopped before it wrote anything leaves no --out it made: a
// shard opens its --out before --with-instance-info's lookup (its pace
// file paces the lookup too), and a lookup refused for its credentials,
// out of --timeout or interrupted left that directory behind, holding
// its lock alone, where the same run without --shard left nothing.
func TestStoppedLookupLeavesNoOut(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 9, Size: 100})
	ids := filepath.Join(t.TempDir(), "ids.txt")
	if err := writeIDs(ids, fleet); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"fatal", "timeout", "interrupt"} {
		for _, shard := range [][]string{nil, {"--shard", "0/2"}} {
			t.Run(mode+"/"+map[bool]string{true: "whole", false: "shard"}[shard == nil], func(t *testing.T) {
				sim := ssmsim.NewServer(fleet, ssmsim.Options{})
				ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.Header.Get("X-Amz-Target") == "AmazonSSM.DescribeInstanceInformation" {
						if mode == "fatal" {
							w.Header().Set("Content-Type", "application/x-amz-json-1.1")
							w.WriteHeader(400)
							w.Write([]byte(`{"__type":"UnrecognizedClientException","message":"The security token included in the request is invalid."}`))
							return
						}
						select {
						case <-r.Context().Done():
						case <-time.After(3 * time.Second):
						}
					}
					sim.ServeHTTP(w, r)
				}))
				t.Cleanup(ts.Close)
				t.Setenv("AWS_ENDPOINT_URL_STS", ts.URL)
				out := filepath.Join(t.TempDir(), "new-out")
				args := append([]string{"run", "--instances", ids, "--endpoint-url", ts.URL, "--region", "us-east-1",
					"--quiet", "--with-instance-info", "--out", out}, shard...)
				ctx := context.Background()
				switch mode {
				case "timeout":
					args = append(args, "--timeout", "1500ms")
				case "interrupt":
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, 1500*time.Millisecond)
					defer cancel()
				}
				got := runCtx(ctx, nil, args...)
				_, err := os.Lstat(out)
				var left []string
				if err == nil {
					es, _ := os.ReadDir(out)
					for _, e := range es {
						left = append(left, e.Name())
					}
				}
				t.Logf("exit %d, out exists=%v %q\n%s", got.code, err == nil, left, got.stderr)
				if got.code == 0 {
					t.Fatalf("%s: exit 0, want the run stopped", mode)
				}
				if err == nil {
					t.Errorf("%s: --out left behind holding %q", mode, left)
				}
			})
		}
	}
}
