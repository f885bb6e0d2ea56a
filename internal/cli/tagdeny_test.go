package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// denyingSSM serves a proxy in front of url that refuses, as AWS refuses a
// call a policy scoped by tag does not allow, DescribeInstanceAssociationsStatus
// for the instances denied says so of, and passes every other call on. It
// counts the refusals.
func denyingSSM(t *testing.T, url string, denied func(id string) bool) (string, *atomic.Int64) {
	t.Helper()
	var refused atomic.Int64
	next := httputil.NewSingleHostReverseProxy(mustURL(t, url))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") == "AmazonSSM.DescribeInstanceAssociationsStatus" {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			var in struct{ InstanceId string }
			json.Unmarshal(body, &in)
			if denied(in.InstanceId) {
				refused.Add(1)
				w.Header().Set("Content-Type", "application/x-amz-json-1.1")
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprintf(w, `{"__type":"AccessDeniedException","message":"User: arn:aws:iam::123456789012:user/audit is not authorized to perform: ssm:DescribeInstanceAssociationsStatus on resource: arn:aws:ec2:us-east-1:123456789012:instance/%s because no identity-based policy allows the ssm:DescribeInstanceAssociationsStatus action"}`, in.InstanceId)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		next.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ENDPOINT_URL_STS", srv.URL)
	return srv.URL, &refused
}

// TestDeniedByTagFirst: a policy that allows the call on some instances
// alone (by tag) refuses the others one by one, and the first answers of a
// run may well be refusals: the list's first instances are another team's.
// Each refused instance is that instance's error, and the others are
// audited (exit 3), however the answers race; it was fatal at the first
// answer (exit 4, the run's reports not written), and a resume that began
// with the refused instances was fatal every time. A policy that allows no
// instance still stops the run early, with the permission to add (exit 4).
func TestDeniedByTagFirst(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, ids, _, _ := genFleet(t, 200, ssmsim.Options{})
	b, err := os.ReadFile(ids)
	if err != nil {
		t.Fatal(err)
	}
	list := strings.Fields(string(b))
	// The first 40 of the list are refused, and every third after.
	deny := map[string]bool{}
	for i, id := range list {
		if i < 40 || i%3 == 0 {
			deny[id] = true
		}
	}
	endpoint, _ := denyingSSM(t, url, func(id string) bool { return deny[id] })
	out := filepath.Join(t.TempDir(), "out")
	args := []string{"run", "--instances", ids, "--endpoint-url", endpoint, "--region", "us-east-1", "--concurrency", "4", "--fail-on", "none", "--out", out}
	got := runCLI(t, "", args...)
	if got.code != int(exitIncomplete) {
		t.Fatalf("exit %d, want %d: the refused instances in error, the others audited\n%s", got.code, exitIncomplete, got.stderr)
	}
	results := map[string]audit.Result{}
	rs, err := audit.OpenRecords(filepath.Join(out, audit.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	rs.Each(func(r audit.Result) error { results[r.InstanceID] = r; return nil })
	if len(results) != len(list) {
		t.Errorf("%d results, want %d", len(results), len(list))
	}
	for _, id := range list {
		r := results[id]
		switch {
		case deny[id] && (r.Outcome != audit.OutcomeError || r.Error == nil || r.Error.Code != "AccessDeniedException"):
			t.Errorf("%s (refused): %s %+v, want error AccessDeniedException", id, r.Outcome, r.Error)
		case !deny[id] && r.Outcome == audit.OutcomeError:
			t.Errorf("%s (allowed): %s %+v, want SSM's answer", id, r.Outcome, r.Error)
		}
	}
	checkSays(t, got.stderr, []string{"AccessDeniedException", "ssm:DescribeInstanceAssociationsStatus"}, []string{"could not be audited:"})
	if _, err := os.Stat(filepath.Join(out, "report.html")); err != nil {
		t.Errorf("report.html: %v, want the run's reports", err)
	}

	// The resume starts with the refused instances, and ends as the run.
	again := runCLI(t, "", append(args, "--resume")...)
	if again.code != int(exitIncomplete) {
		t.Errorf("--resume: exit %d, want %d\n%s", again.code, exitIncomplete, again.stderr)
	}

	// A policy that allows none: the run stops long before the list ends.
	none := filepath.Join(t.TempDir(), "none")
	endpoint2, refused2 := denyingSSM(t, url, func(string) bool { return true })
	all := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", endpoint2, "--region", "us-east-1", "--concurrency", "4", "--fail-on", "none", "--out", none)
	if all.code != int(exitFatal) {
		t.Errorf("every call refused: exit %d, want %d\n%s", all.code, exitFatal, all.stderr)
	}
	if n := refused2.Load(); n >= int64(len(list)) {
		t.Errorf("every call refused: %d calls, want the run stopped before the list's %d ended", n, len(list))
	}
	hint := "allow ssm:DescribeInstanceAssociationsStatus (see deploy/iam/auditor-policy.json)"
	checkSays(t, all.stderr, []string{hint}, nil)

	// Fewer instances than it takes to tell, all refused, are each its
	// own error (exit 3): a shard of a fleet, or a few IDs, may hold
	// only instances a policy scoped by tag refuses. The closing lines
	// say what to allow all the same.
	few := writeFile(t, "few.txt", strings.Join(list[:10], "\n")+"\n")
	fewOut := filepath.Join(t.TempDir(), "few")
	small := runCLI(t, "", "run", "--instances", few, "--endpoint-url", endpoint2, "--region", "us-east-1", "--fail-on", "none", "--out", fewOut)
	if small.code != int(exitIncomplete) {
		t.Errorf("every call of 10 refused: exit %d, want %d\n%s", small.code, exitIncomplete, small.stderr)
	}
	checkSays(t, small.stderr, []string{"ssm:DescribeInstanceAssociationsStatus", "10 AccessDeniedException"}, []string{"could not be audited:"})
	for dir, want := range map[string]int{none: 63, fewOut: 10} {
		n := 0
		if rs, err := audit.OpenRecords(filepath.Join(dir, audit.ResultsFile)); err != nil {
			t.Errorf("%s: %v", filepath.Base(dir), err)
		} else {
			n = rs.Len()
			rs.Close()
		}
		if _, err := os.Stat(filepath.Join(dir, "report.html")); n != want || err != nil {
			t.Errorf("%s: %d results, report.html %v; want the %d refusals recorded and reported", filepath.Base(dir), n, err, want)
		}
	}
}
