package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// wireLog is what a discovery run asked of the simulator, in the order the
// requests came: each operation, with the instance a
// DescribeInstanceAssociationsStatus asked about, and whether a
// DescribeInstanceInformation asked for a page after the first.
type wireLog struct {
	mu   sync.Mutex
	reqs []wireReq
}

type wireReq struct {
	op, instance string
	nextPage     bool
}

func (l *wireLog) all() []wireReq {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]wireReq(nil), l.reqs...)
}

// serveLogged serves f through a handler that logs each request and lets
// answer, when it returns true, answer it instead of the simulator.
func serveLogged(t *testing.T, f *ssmsim.Fleet, answer func(w http.ResponseWriter, r wireReq) bool) (string, *ssmsim.Server, *wireLog) {
	t.Helper()
	srv := ssmsim.NewServer(f, ssmsim.Options{})
	log := &wireLog{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		req := wireReq{op: strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonSSM.")}
		if req.op == "" && strings.Contains(string(body), "Action=DescribeTags") {
			req.op = ssmsim.OpDescribeTags
		}
		var in struct{ InstanceId, NextToken string }
		json.Unmarshal(body, &in)
		req.instance, req.nextPage = in.InstanceId, in.NextToken != ""
		log.mu.Lock()
		log.reqs = append(log.reqs, req)
		log.mu.Unlock()
		if answer != nil && answer(w, req) {
			return
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	t.Setenv("AWS_ENDPOINT_URL_STS", hs.URL)
	t.Setenv("AWS_ENDPOINT_URL_EC2", hs.URL)
	return hs.URL, srv, log
}

func recordKeys(t *testing.T, out string) map[string]audit.Outcome {
	t.Helper()
	got := map[string]audit.Outcome{}
	rs, err := audit.OpenRecords(filepath.Join(out, audit.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	rs.Each(func(r audit.Result) error {
		got[r.InstanceID] = r.Outcome
		return nil
	})
	return got
}

// TestDiscoveryAuditsAsItLists: --discover audits each node as its page
// arrives, rather than listing the whole account-region first and holding
// every node until the audit takes it: the listing runs ahead of the audit
// by at most listAhead nodes (and those a page, the workers and the one
// being handed over hold), and every managed node is audited once.
func TestDiscoveryAuditsAsItLists(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 8, Size: 4 * listAhead})
	url, _, log := serveLogged(t, f, nil)
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", "run", "--discover", "--endpoint-url", url, "--region", "us-east-1", "--out", out,
		"--concurrency", "16", "--format", "csv", "--fail-on", "none", "--quiet")
	if got.code != 0 {
		t.Fatalf("exit %d\n%s", got.code, got.stderr)
	}
	pages, lastPage, firstAudit, worst := 0, 0, -1, 0
	audited := map[string]bool{}
	for i, r := range log.all() {
		switch r.op {
		case ssmsim.OpDescribeInstanceInformation:
			// The nodes of the pages before this one are listed.
			worst = max(worst, 50*pages-len(audited))
			pages++
			lastPage = i
		case ssmsim.OpDescribeInstanceAssociationsStatus:
			if firstAudit < 0 {
				firstAudit = i
			}
			audited[r.instance] = true
		}
	}
	if firstAudit < 0 || firstAudit > lastPage {
		t.Errorf("the first association call came after the last of %d pages: the listing did not feed the audit", pages)
	}
	if limit := listAhead + 50 + 16 + 1; worst > limit {
		t.Errorf("the listing ran %d nodes ahead of the audit, want at most %d", worst, limit)
	}
	managed := f.ManagedIDs()
	rec := recordKeys(t, out)
	if len(rec) != len(managed) {
		t.Errorf("%d results, want one for each of the %d managed nodes", len(rec), len(managed))
	}
	for _, id := range managed {
		if _, ok := rec[id]; !ok {
			t.Errorf("%s: managed, not in the record", id)
		}
	}
}

// TestDiscoveryFailsPartWay: an account-region whose listing fails after
// its first page keeps the nodes audited from that page in the record, and
// is reported as failed with the service's code (exit 3).
func TestDiscoveryFailsPartWay(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 8, Size: 160})
	url, _, _ := serveLogged(t, f, func(w http.ResponseWriter, r wireReq) bool {
		if r.op != ssmsim.OpDescribeInstanceInformation || !r.nextPage {
			return false
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"__type":"InternalServerError","message":"the listing broke"}`)
		return true
	})
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", "run", "--discover", "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--max-attempts", "2",
		"--format", "csv", "--fail-on", "none", "--quiet")
	if got.code != int(exitIncomplete) {
		t.Fatalf("exit %d, want %d\n%s", got.code, exitIncomplete, got.stderr)
	}
	rec := recordKeys(t, out)
	if len(rec) == 0 || len(rec) > 50 {
		t.Errorf("%d results, want the nodes of the first page (1 to 50)", len(rec))
	}
	for id, oc := range rec {
		if !f.Managed(id) || oc == audit.OutcomeError {
			t.Errorf("%s: %s; want a managed node audited", id, oc)
		}
	}
	ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(ri.Sites) != 1 || ri.Sites[0].Region != "us-east-1" || ri.Sites[0].Error == nil || ri.Sites[0].Error.Code != "InternalServerError" || ri.Complete {
		t.Errorf("run.json: complete %v, sites %+v; want us-east-1 alone, failed with InternalServerError", ri.Complete, ri.Sites)
	} else if ri.Sites[0].Results != len(rec) || ri.Sites[0].Calls == 0 {
		t.Errorf("run.json: us-east-1 has %d results and %d calls, want the record's %d and the calls made", ri.Sites[0].Results, ri.Sites[0].Calls, len(rec))
	}
	if !strings.Contains(got.stderr, "1 account-region could not be audited") && !strings.Contains(got.stderr, "InternalServerError") {
		t.Errorf("stderr does not name the failed account-region:\n%s", got.stderr)
	}
}

// TestDiscoveryFilterPlatformType: --filter Key=PlatformType, the key the
// API documents, is sent as it is and discovers the nodes of that platform
// alone.
func TestDiscoveryFilterPlatformType(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 8, Size: 80})
	url, _, _ := serveLogged(t, f, nil)
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", "run", "--discover", "--filter", "Key=PlatformType,Values=Windows", "--endpoint-url", url, "--region", "us-east-1",
		"--out", out, "--format", "csv", "--fail-on", "none", "--quiet")
	if got.code != int(exitOK) {
		t.Fatalf("exit %d, want %d\n%s", got.code, exitOK, got.stderr)
	}
	want := map[string]bool{}
	for _, id := range f.ManagedIDs() {
		if in, _ := f.Instance(id); in.PlatformType == "Windows" {
			want[id] = true
		}
	}
	rec := recordKeys(t, out)
	if len(want) == 0 || len(want) == len(f.ManagedIDs()) {
		t.Fatalf("%d Windows nodes of %d: a test of nothing", len(want), len(f.ManagedIDs()))
	}
	if len(rec) != len(want) {
		t.Errorf("%d nodes audited, want the %d Windows ones", len(rec), len(want))
	}
	for id := range rec {
		if !want[id] {
			t.Errorf("%s: audited, not a Windows node", id)
		}
	}
}

// TestDiscoveryTokenLoop: a listing whose NextToken comes back unchanged
// fails its account-region with PaginationLoop (exit 3), as an instance's
// audit does, instead of ending as if every node had been listed; the node
// of the page it gave is audited.
func TestDiscoveryTokenLoop(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 8, Size: 10, UnmanagedFraction: -1})
	id := f.ManagedIDs()[0]
	url, _, _ := serveLogged(t, f, func(w http.ResponseWriter, r wireReq) bool {
		if r.op != ssmsim.OpDescribeInstanceInformation {
			return false
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		io.WriteString(w, `{"InstanceInformationList":[{"InstanceId":"`+id+`","PingStatus":"Online"}],"NextToken":"same"}`)
		return true
	})
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", "run", "--discover", "--endpoint-url", url, "--region", "us-east-1", "--out", out,
		"--format", "csv", "--fail-on", "none", "--quiet")
	if got.code != int(exitIncomplete) || !strings.Contains(got.stderr, audit.CodePaginationLoop) {
		t.Fatalf("exit %d, want %d naming %s\n%s", got.code, exitIncomplete, audit.CodePaginationLoop, got.stderr)
	}
	if rec := recordKeys(t, out); len(rec) != 1 || rec[id] == "" || rec[id] == audit.OutcomeError {
		t.Errorf("record %v, want %s audited", rec, id)
	}
	ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(ri.Sites) != 1 || ri.Sites[0].Error == nil || ri.Sites[0].Error.Code != audit.CodePaginationLoop || ri.Complete {
		t.Errorf("run.json: complete %v, sites %+v; want us-east-1 failed with %s", ri.Complete, ri.Sites, audit.CodePaginationLoop)
	}
}

// TestDiscoveryResume: --resume of a discovery run audits only the nodes the
// record has no verdict for: discovery lists every node again and skips
// the others without a call.
func TestDiscoveryResume(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 8, Size: shortN(300, 160)})
	url, _, log := serveLogged(t, f, nil)
	out := filepath.Join(t.TempDir(), "out")
	args := []string{"run", "--discover", "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--format", "csv", "--fail-on", "none", "--quiet"}
	if got := runCLI(t, "", args...); got.code != 0 {
		t.Fatalf("exit %d\n%s", got.code, got.stderr)
	}
	// As if the run had stopped after 60 results.
	path := filepath.Join(out, audit.ResultsFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var kept strings.Builder
	done := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() && len(done) < 60 {
		var r struct {
			InstanceID string `json:"instance_id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil || r.InstanceID == "" {
			t.Fatalf("record line %q: %v", sc.Text(), err)
		}
		done[r.InstanceID] = true
		kept.WriteString(sc.Text() + "\n")
	}
	if err := os.WriteFile(path, []byte(kept.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	before := len(log.all())
	got := runCLI(t, "", append(args, "--resume")...)
	if got.code != 0 {
		t.Fatalf("--resume: exit %d\n%s", got.code, got.stderr)
	}
	asked := 0
	for _, r := range log.all()[before:] {
		if r.op != ssmsim.OpDescribeInstanceAssociationsStatus {
			continue
		}
		asked++
		if done[r.instance] {
			t.Errorf("%s: audited again, though the record had it", r.instance)
		}
	}
	managed := f.ManagedIDs()
	if rec := recordKeys(t, out); len(rec) != len(managed) || asked == 0 {
		t.Errorf("--resume: %d results for %d managed nodes, %d association calls", len(rec), len(managed), asked)
	}
	ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	if ri.Resumed != 60 || ri.Targets != len(managed) || !ri.Complete {
		t.Errorf("run.json: resumed %d, targets %d, complete %v; want 60, %d, true", ri.Resumed, ri.Targets, ri.Complete, len(managed))
	}
}

// TestDiscoveryResumeWithAList: --resume of a whole run of --instances and
// --discover audits nothing again. A listed node that discovery finds too
// is audited once, as listed, and the resume counts it once, as listed,
// though its verdict took it out of the list's targets left: not a node
// found anew, to audit again and count twice.
func TestDiscoveryResumeWithAList(t *testing.T) {
	org, srv, _ := serveOrgOf(t, ssmsim.OrgConfig{
		Seed:     1,
		Accounts: ssmsim.DefaultAccounts(1, 1),
		Regions:  []ssmsim.Region{{Name: "us-east-1"}},
		Fleet:    ssmsim.FleetConfig{Size: 20, BaseTime: time.Now().UTC().Truncate(time.Minute)},
	}, ssmsim.Faults{})
	account := org.Management()
	managed := org.Fleet(account, "us-east-1").ManagedIDs()
	list := writeFile(t, "fleet.csv", fmt.Sprintf("instance_id,account_id,region\n%s,%s,us-east-1\n%s,%s,us-east-1\n",
		managed[0], account, managed[1], account))
	out := filepath.Join(t.TempDir(), "out")
	args := []string{"run", "--instances", list, "--discover", "--region", "us-east-1", "--format", "csv", "--fail-on", "none", "--out", out}
	for _, resume := range []bool{false, true} {
		a := args
		if resume {
			a = append(a[:len(a):len(a)], "--resume")
		}
		srv.ResetStats()
		got := runCLI(t, "", a...)
		if got.code != 0 {
			t.Errorf("resume %v: exit %d, want 0\n%s", resume, got.code, got.stderr)
		}
		asked := srv.Stats().Calls[ssmsim.OpDescribeInstanceAssociationsStatus]
		ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
		if err != nil {
			t.Fatal(err)
		}
		if rec := recordKeys(t, out); len(rec) != len(managed) || ri.Targets != len(managed) || ri.Duplicates != 2 || !ri.Complete {
			t.Errorf("resume %v: %d results, run.json: targets %d, duplicates %d, complete %v; want %d, %d, 2 (the listed nodes found), true",
				resume, len(rec), ri.Targets, ri.Duplicates, ri.Complete, len(managed), len(managed))
		}
		if resume && (asked != 0 || ri.Resumed != len(managed) || !strings.Contains(got.stderr, "audited 0 instances in ")) {
			t.Errorf("--resume: %d association calls, resumed %d; want 0, %d\n%s", asked, ri.Resumed, len(managed), got.stderr)
		}
	}
}

// TestDiscoveryTagsDenied: tags that cannot be read stop a discovery run
// too (exit 4, naming the permission), before the nodes waiting for them
// are audited.
func TestDiscoveryTagsDenied(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 8, Size: 60})
	url, _, log := serveLogged(t, f, func(w http.ResponseWriter, r wireReq) bool {
		if r.op != ssmsim.OpDescribeTags {
			return false
		}
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation.</Message></Error></Errors><RequestID>1</RequestID></Response>`)
		return true
	})
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", "run", "--discover", "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--tag-labels", "Team", "--quiet")
	if got.code != int(exitFatal) || !strings.Contains(got.stderr, "ec2:DescribeTags") || !strings.Contains(got.stderr, "UnauthorizedOperation") {
		t.Fatalf("exit %d, want %d naming ec2:DescribeTags and the service's code\n%s", got.code, exitFatal, got.stderr)
	}
	for _, r := range log.all() {
		if r.op == ssmsim.OpDescribeInstanceAssociationsStatus {
			t.Fatalf("an association call (%s) though the tags of its node could not be read", r.instance)
		}
	}
}

// TestDiscoveryFilterTagValuesChecked: SSM takes at most five values for a
// tag:KEY filter ("The number of tag values for tag:Name was 35. Max:
// 5."): more is refused before any call (exit 2), naming the filter and
// the limit, as the other filters' rules are, rather than failing every
// account-region at its first listing.
func TestDiscoveryFilterTagValuesChecked(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 8, Size: 20})
	url, srv := serve(t, f, ssmsim.Options{})
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", "run", "--discover", "--filter", "Key=tag:Name,Values=a,b,c,d,e,f", "--endpoint-url", url, "--region", "us-east-1",
		"--out", out, "--quiet")
	if want := "tag:Name: 6 values, the API takes at most 5"; got.code != int(exitUsage) || !strings.Contains(got.stderr, want) {
		t.Fatalf("exit %d, want %d saying %q\n%s", got.code, exitUsage, want, got.stderr)
	}
	if n := srv.Stats().Requests; n != 0 {
		t.Errorf("%d requests; want none", n)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("the output directory was made (%v)", err)
	}
}
