package cli

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestServerErrorsOpenTheCircuit: a service that answers every call with
// InternalServerError once took every instance's retries (about nine calls
// each, a quarter of an hour for 2,000 instances). The circuit opens after
// five instances in a row ended so: the rest are left for --resume, the
// partial reports name the cause, the exit is 3, and once the service is
// back --resume completes the audit.
func TestServerErrorsOpenTheCircuit(t *testing.T) {
	list, url, srv := failingFleet(t)
	out := filepath.Join(t.TempDir(), "out")
	const concurrency, attempts = 4, 2
	args := []string{"run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out,
		"--max-attempts", "2", "--concurrency", "4", "--fail-on", "none", "--quiet"}
	got := runCLI(t, "", args...)
	if want := "is failing (InternalServerError, HTTP 500)"; got.code != int(exitIncomplete) || !strings.Contains(got.stderr, want) || strings.Contains(got.stderr, "check --endpoint-url") {
		t.Fatalf("exit %d, want %d saying %q (and not to check --endpoint-url)\n%s", got.code, exitIncomplete, want, got.stderr)
	}
	if n := srv.Stats().Requests; n > (5+concurrency)*attempts {
		t.Errorf("%d requests for 200 instances, want at most (5 + concurrency) x attempts = %d", n, (5+concurrency)*attempts)
	}
	ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	if ri.Complete || ri.Interrupted || !strings.Contains(ri.Error, "InternalServerError") {
		t.Errorf("run.json: complete %v, interrupted %v, error %q; want a partial run naming the cause", ri.Complete, ri.Interrupted, ri.Error)
	}
	if len(ri.Sites) != 1 || ri.Sites[0].Error == nil || ri.Sites[0].Error.Code != "InternalServerError" {
		t.Errorf("run.json sites %+v: want us-east-1 failed with InternalServerError", ri.Sites)
	}

	srv.SetFaults(ssmsim.Faults{})
	got = runCLI(t, "", append(args, "--resume")...)
	if got.code != int(exitOK) {
		t.Fatalf("resume: exit %d\n%s", got.code, got.stderr)
	}
	if rec := recordKeys(t, out); len(rec) != 200 {
		t.Errorf("after resume: %d instances recorded, want 200", len(rec))
	}
	if ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile)); err != nil || !ri.Complete {
		t.Errorf("run.json after resume: complete %v (%v)", ri.Complete, err)
	}
}

// failingFleet serves a fleet of 200 instances whose every call ends in
// InternalServerError, and writes its list: the list, the URL and the
// server, whose faults a test may lift.
func failingFleet(t *testing.T) (list, url string, srv *ssmsim.Server) {
	t.Helper()
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 6, Size: 200})
	var ids bytes.Buffer
	fleet.WriteIDs(&ids)
	list = writeFile(t, "ids.txt", ids.String())
	url, srv = serve(t, fleet, ssmsim.Options{Faults: ssmsim.Faults{ErrorRate: 1}})
	return list, url, srv
}

// TestProxyPageOpensTheCircuit: a proxy or a firewall that answers every
// call with HTTP 403 and an HTML page never opened the circuit: the page
// is not SSM's protocol, so no server error, and each instance took every
// attempt (100,000 instances x 8 attempts into a block page). Such
// answers count towards the same five in a row as server errors: the run
// stops there after at most (5 + concurrency) x max-attempts calls, names
// what answered, records the instances that ended so as BadResponse, and
// exits 3 for --resume to continue.
func TestProxyPageOpensTheCircuit(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	serve(t, handFleet(false), ssmsim.Options{}) // STS
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 6, Size: 200})
	var ids bytes.Buffer
	fleet.WriteIDs(&ids)
	list := writeFile(t, "ids.txt", ids.String())
	var calls atomic.Int64
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, "<html><body><h1>Access denied by policy</h1></body></html>")
	}))
	defer proxy.Close()
	out := filepath.Join(t.TempDir(), "out")
	const concurrency, attempts = 4, 3
	got := runCLI(t, "", "run", "--instances", list, "--endpoint-url", proxy.URL, "--region", "us-east-1", "--out", out,
		"--max-attempts", strconv.Itoa(attempts), "--concurrency", strconv.Itoa(concurrency), "--fail-on", "none", "--quiet")
	if want := "answered HTTP 403 with text/html, not SSM's protocol"; got.code != int(exitIncomplete) || !strings.Contains(got.stderr, want) {
		t.Fatalf("exit %d, want %d saying %q\n%s", got.code, exitIncomplete, want, got.stderr)
	}
	if n := calls.Load(); n > (5+concurrency)*attempts {
		t.Errorf("%d calls for %d instances, want at most (5 + concurrency) x attempts = %d", n, fleet.Len(), (5+concurrency)*attempts)
	}
	ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(ri.Sites) != 1 || ri.Sites[0].Error == nil || ri.Sites[0].Error.Code != audit.CodeBadResponse {
		t.Errorf("run.json sites %+v: want us-east-1 failed with %s", ri.Sites, audit.CodeBadResponse)
	}
	if ri.Complete {
		t.Error("run.json: complete; want a partial run")
	}
	rs, err := audit.OpenRecords(filepath.Join(out, audit.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	recorded := 0
	rs.Each(func(r audit.Result) error {
		recorded++
		if r.Error == nil || r.Error.Code != audit.CodeBadResponse || !strings.Contains(r.Error.Message, "HTTP 403") {
			t.Errorf("%s: %s %+v, want error %s naming HTTP 403", r.InstanceID, r.Outcome, r.Error, audit.CodeBadResponse)
		}
		return nil
	})
	if recorded == 0 || recorded >= 5 {
		t.Errorf("%d instances recorded; want those before the one that opened the circuit, fewer than five", recorded)
	}
}
