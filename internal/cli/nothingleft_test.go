package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestSignalWithNothingLeft: a signal that comes as the last instance is
// answered interrupts nothing: the audit is whole, run.json says complete
// and the exit is the verdict's, not 3. (It was marked interrupted, and a
// resumed run with nothing to go that was signalled re-marked a complete
// run.json partial.)
func TestSignalWithNothingLeft(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	last := "i-0123456789abcdef1"
	url, _, _ := serveLogged(t, handFleet(false), func(w http.ResponseWriter, r wireReq) bool {
		if r.op == ssmsim.OpDescribeInstanceAssociationsStatus && r.instance == last {
			cancel() // the signal, as the last call is answered
		}
		return false
	})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n"+last+"\n")
	out := filepath.Join(t.TempDir(), "out")
	got := runCtx(ctx, nil, "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out,
		"--concurrency", "1", "--quiet")
	if got.code != int(exitOK) {
		t.Errorf("exit %d, want %d: every instance was audited\n%s", got.code, exitOK, got.stderr)
	}
	ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	if !ri.Complete || ri.Interrupted {
		t.Errorf("run.json: complete %v, interrupted %v; want a whole audit", ri.Complete, ri.Interrupted)
	}
	if strings.Contains(got.stderr, "interrupted") {
		t.Errorf("stderr speaks of an interruption:\n%s", got.stderr)
	}
}

// TestSignalCutsDiscoveryShort: a signal while discovery asks for its next
// page interrupts the run (exit 3, run.json interrupted) even when every
// node it had listed was audited: the nodes of the pages not listed were
// not.
func TestSignalCutsDiscoveryShort(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 8, Size: 160})
	if n := len(f.ManagedIDs()); n <= 50 {
		t.Fatalf("%d managed nodes: want more than a page", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	asked := map[string]bool{}
	srv := ssmsim.NewServer(f, ssmsim.Options{})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		var in struct{ InstanceId, NextToken string }
		json.Unmarshal(body, &in)
		switch r.Header.Get("X-Amz-Target") {
		case "AmazonSSM." + ssmsim.OpDescribeInstanceAssociationsStatus:
			mu.Lock()
			asked[in.InstanceId] = true
			mu.Unlock()
		case "AmazonSSM." + ssmsim.OpDescribeInstanceInformation:
			if in.NextToken == "" {
				break
			}
			// The second page waits until the first page's nodes are
			// all being audited; then the signal comes, and the page
			// never does.
			for end := time.Now().Add(time.Minute); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
				mu.Lock()
				n := len(asked)
				mu.Unlock()
				if n >= 50 {
					break
				}
			}
			cancel()
			<-r.Context().Done()
			return
		}
		srv.ServeHTTP(w, r)
	}))
	defer hs.Close()
	t.Setenv("AWS_ENDPOINT_URL_STS", hs.URL)
	out := filepath.Join(t.TempDir(), "out")
	got := runCtx(ctx, nil, "run", "--discover", "--endpoint-url", hs.URL, "--region", "us-east-1", "--out", out,
		"--fail-on", "none", "--quiet")
	if got.code != int(exitIncomplete) {
		t.Errorf("exit %d, want %d\n%s", got.code, exitIncomplete, got.stderr)
	}
	ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	if ri.Complete || !ri.Interrupted || ri.Targets != 50 {
		t.Errorf("run.json: complete %v, interrupted %v, %d targets; want the 50 nodes of the first page, interrupted", ri.Complete, ri.Interrupted, ri.Targets)
	}
}
