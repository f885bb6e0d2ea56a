package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
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
	if !ri.Complete || len(ri.Sites) != 1 || ri.Sites[0].Error != nil {
		t.Errorf("run.json: complete %v, sites %+v; want complete, one site without error", ri.Complete, ri.Sites)
	}
}
