package cli

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
)

// listFleet writes the IDs of f, managed or not, as a list.
func listFleet(t *testing.T, f *ssmsim.Fleet) string {
	t.Helper()
	return writeFile(t, "fleet.txt", strings.Join(f.IDs(), "\n")+"\n")
}

// TestWithInstanceInfoUnmanaged: --with-instance-info on a list that names
// nodes SSM does not manage (DescribeInstanceInformation refuses a whole
// call for one of them) gives every managed node its information, so that
// --triage summarises them, records the others not_managed, and calls the
// run complete: not an account-region "not audited" with exit 3 and no
// information at all.
func TestWithInstanceInfoUnmanaged(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 8, Size: 120, UnmanagedFraction: 0.05})
	url, _, _ := serveLogged(t, f, nil)
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", "run", "--instances", listFleet(t, f), "--with-instance-info", "--triage", "--endpoint-url", url,
		"--region", "us-east-1", "--out", out, "--format", "csv", "--fail-on", "none", "--quiet")
	if got.code != int(exitOK) {
		t.Fatalf("exit %d, want %d\n%s", got.code, exitOK, got.stderr)
	}
	rs, err := audit.OpenRecords(filepath.Join(out, audit.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	unmanaged, triaged := 0, 0
	rs.Each(func(r audit.Result) error {
		switch {
		case !f.Managed(r.InstanceID):
			unmanaged++
			if r.Outcome != audit.OutcomeNotManaged || r.Info != nil {
				t.Errorf("%s: not managed, recorded %s with information %+v", r.InstanceID, r.Outcome, r.Info)
			}
		case r.Info == nil || r.Info.PingStatus == "":
			t.Errorf("%s: managed, no instance information", r.InstanceID)
		case r.Detail == audit.DetailOverview:
			triaged++
		}
		return nil
	})
	if unmanaged == 0 || triaged == 0 {
		t.Errorf("%d unmanaged nodes, %d triaged: want some of each", unmanaged, triaged)
	}
	ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	if !ri.Complete || len(ri.Sites) != 1 || ri.Sites[0].Error != nil || ri.Sites[0].InfoError != nil {
		t.Errorf("run.json: complete %v, sites %+v; want complete, one site without error", ri.Complete, ri.Sites)
	}
}

// TestWithInstanceInfoFails: instance information that cannot be read (the
// service answers 500 to every DescribeInstanceInformation) leaves the
// listed instances without it, and they are audited: the account-region is
// not reported "not audited" and the run is complete; run.json
// (sites[].info_error), the closing lines and the reports' details say why
// the information is missing.
func TestWithInstanceInfoFails(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 8, Size: 40, UnmanagedFraction: -1})
	url, _, _ := serveLogged(t, f, func(w http.ResponseWriter, r wireReq) bool {
		if r.op != ssmsim.OpDescribeInstanceInformation {
			return false
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"__type":"InternalServerError","message":"the information broke"}`)
		return true
	})
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", "run", "--instances", listFleet(t, f), "--with-instance-info", "--endpoint-url", url, "--max-attempts", "2",
		"--region", "us-east-1", "--out", out, "--fail-on", "none", "--quiet")
	if got.code != int(exitOK) {
		t.Fatalf("exit %d, want %d: the instances were audited\n%s", got.code, exitOK, got.stderr)
	}
	if !strings.Contains(got.stderr, "instance information") || !strings.Contains(got.stderr, "InternalServerError") {
		t.Errorf("stderr does not say why the instance information is missing:\n%s", got.stderr)
	}
	rec := recordKeys(t, out)
	if len(rec) != f.Len() {
		t.Errorf("%d results, want %d", len(rec), f.Len())
	}
	for id, oc := range rec {
		if oc == audit.OutcomeError {
			t.Errorf("%s: error", id)
		}
	}
	ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	if !ri.Complete || len(ri.Sites) != 1 || ri.Sites[0].Error != nil ||
		ri.Sites[0].InfoError == nil || ri.Sites[0].InfoError.Code != "InternalServerError" {
		t.Errorf("run.json: complete %v, sites %+v; want complete, the site without error and with info_error InternalServerError", ri.Complete, ri.Sites)
	}
	var summary struct {
		Run struct {
			Unaudited   []report.Site `json:"unaudited"`
			WithoutInfo []report.Site `json:"without_info"`
		} `json:"run"`
	}
	if b, err := os.ReadFile(filepath.Join(out, report.SummaryFile)); err != nil {
		t.Fatal(err)
	} else if err := json.Unmarshal(b, &summary); err != nil {
		t.Fatal(err)
	}
	if len(summary.Run.Unaudited) != 0 {
		t.Errorf("summary.json run.unaudited %+v, want none: every instance was audited", summary.Run.Unaudited)
	}
	if w := summary.Run.WithoutInfo; len(w) != 1 || w[0].Code != "InternalServerError" {
		t.Errorf("summary.json run.without_info %+v, want the account-region with InternalServerError", w)
	}
	if html, err := os.ReadFile(filepath.Join(out, report.HTMLFile)); err != nil || !strings.Contains(string(html), "Instance information") ||
		!strings.Contains(string(html), "audited without it") {
		t.Errorf("report.html does not say the instance information is missing (%v)", err)
	}
}

// TestWithInstanceInfoDenied: --with-instance-info without
// ssm:DescribeInstanceInformation, in a run of one account-region, stops
// the run at that first answer (exit 4), as access denied at the first call
// does, before any association call, rather than reporting an account-region
// "not audited" whose instances were then audited. It says what to allow,
// as the same denial under --discover does: it gave the SDK's error alone.
func TestWithInstanceInfoDenied(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 8, Size: 20, UnmanagedFraction: -1})
	url, _, log := serveLogged(t, f, func(w http.ResponseWriter, r wireReq) bool {
		if r.op != ssmsim.OpDescribeInstanceInformation {
			return false
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"__type":"AccessDeniedException","Message":"User: arn:aws:iam::123456789012:user/auditor is not authorized to perform: ssm:DescribeInstanceInformation"}`)
		return true
	})
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", "run", "--instances", listFleet(t, f), "--with-instance-info", "--endpoint-url", url,
		"--region", "us-east-1", "--out", out, "--fail-on", "none", "--quiet")
	if got.code != int(exitFatal) || !strings.Contains(got.stderr, "ssm:DescribeInstanceInformation") {
		t.Fatalf("exit %d, want %d naming ssm:DescribeInstanceInformation\n%s", got.code, exitFatal, got.stderr)
	}
	if want := "allow ssm:DescribeInstanceInformation (see deploy/iam/auditor-policy.json)"; !strings.Contains(got.stderr, want) {
		t.Errorf("stderr does not say %q:\n%s", want, got.stderr)
	}
	for _, r := range log.all() {
		if r.op == ssmsim.OpDescribeInstanceAssociationsStatus {
			t.Fatalf("an association call (%s) after the run's first answer was access denied", r.instance)
		}
	}
}
