package cli

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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

// TestInterruptedBeforeAnyAnswerWithInvalidLines: with --skip-invalid, the
// invalid lines recorded before the signal made the same run one with
// results: reports of those lines alone (the README says run.json only),
// and the same command run again refused as a record to resume. They are
// taken back, as for a run that could audit nothing.
func TestInterruptedBeforeAnyAnswerWithInvalidLines(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 3, Size: 5})
	sim := ssmsim.NewServer(fleet, ssmsim.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := filepath.Join(t.TempDir(), "out")
	var calls atomic.Int64
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ssmsim.OpDescribeInstanceAssociationsStatus) {
			if calls.Add(1) == int64(fleet.Len()) {
				// Every instance's call is under way; the invalid line,
				// which makes none, is recorded next: the signal once
				// it is.
				for range 500 {
					if st, err := os.Stat(filepath.Join(out, "results.jsonl")); err == nil && st.Size() > 0 {
						break
					}
					time.Sleep(10 * time.Millisecond)
				}
				cancel()
			}
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
	var ids strings.Builder
	if err := fleet.WriteIDs(&ids); err != nil {
		t.Fatal(err)
	}
	list := writeFile(t, "ids.txt", ids.String()+"not-an-instance\n")
	args := []string{"run", "--instances", list, "--skip-invalid", "--region", "us-east-1",
		"--out", out, "--grace", "0s", "--concurrency", "8"}
	got := runCtx(ctx, nil, args...)
	if got.code != int(exitIncomplete) {
		t.Fatalf("exit %d, want %d\n%s", got.code, exitIncomplete, got.stderr)
	}
	checkSays(t, got.stderr, []string{"interrupted before any instance was audited"}, []string{"the reports are partial"})
	if _, err := os.Stat(filepath.Join(out, "report.html")); err == nil {
		t.Errorf("a report.html of the invalid line alone")
	}
	// Run again once the endpoint answers, it is the same run, not
	// refused as another's record.
	answering := httptest.NewServer(sim)
	t.Cleanup(answering.Close)
	t.Setenv("AWS_ENDPOINT_URL", answering.URL)
	if got := runCLI(t, "", append(args, "--fail-on", "none")...); got.code != int(exitOK) {
		t.Fatalf("run again: exit %d\n%s", got.code, got.stderr)
	}
	if n := countLines(filepath.Join(out, "results.jsonl")); n != fleet.Len()+1 {
		t.Errorf("%d results, want %d: every instance and the invalid line", n, fleet.Len()+1)
	}
}
