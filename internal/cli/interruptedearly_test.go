package cli

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestInterruptedBeforeAnyResult: a signal after the first call and before
// its answer leaves a record of nothing, and no reports but run.json; the
// closing lines said "the reports are partial" of reports that are not
// there. They say that nothing was audited, and how to continue.
func TestInterruptedBeforeAnyResult(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 3, Size: 5})
	sim := ssmsim.NewServer(fleet, ssmsim.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ssmsim.OpDescribeInstanceAssociationsStatus) {
			cancel() // the signal, as the first call is under way
			select {
			case <-r.Context().Done():
			case <-t.Context().Done():
			}
			return
		}
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	t.Setenv("AWS_ENDPOINT_URL", hs.URL)
	ids := filepath.Join(t.TempDir(), "ids.txt")
	if err := writeIDs(ids, fleet); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	got := runCtx(ctx, nil, "run", "--instances", ids, "--region", "us-east-1",
		"--out", out, "--grace", "0s", "--concurrency", "1")
	if got.code != int(exitIncomplete) {
		t.Fatalf("exit %d, want %d\n%s", got.code, exitIncomplete, got.stderr)
	}
	checkSays(t, got.stderr, []string{"interrupted before any instance was audited", "continue with: auditor run"}, []string{"the reports are partial"})
	if _, err := os.Stat(filepath.Join(out, "report.html")); err == nil {
		t.Errorf("a report.html of nothing audited; the test means a run that writes none")
	}
}
