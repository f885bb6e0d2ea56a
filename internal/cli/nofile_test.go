package cli

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

func TestSitesAtOnce(t *testing.T) {
	for _, tt := range []struct {
		limit       uint64
		concurrency int
		want        int
	}{
		{1 << 20, 16, audit.DefaultSites},
		{1024 + fileReserve, 16, audit.DefaultSites},
		{1023 + fileReserve, 16, audit.DefaultSites - 1},
		{256, 16, 12},
		{256, 64, 3},
		{128, 64, 1},
		{64, 16, 1},
		{10, 1, 1},
	} {
		if got := sitesAtOnce(tt.limit, tt.concurrency); got != tt.want {
			t.Errorf("sitesAtOnce(%d, %d) = %d, want %d", tt.limit, tt.concurrency, got, tt.want)
		}
	}
}

// TestOpenFileLimitHoldsBackAccountRegions: a container or a shell whose
// hard limit of open files is low (docker --ulimit nofile=256, ulimit -n
// 256) cannot hold a connection for every worker of every account-region
// at once. Before, the run started them all: each call past the limit
// failed "too many open files" and was retried, and instances ended in
// error, with --resume as the only advice. The run now audits as many
// account-regions at once as the limit holds, says so, and ends whole.
func TestOpenFileLimitHoldsBackAccountRegions(t *testing.T) {
	const limit, concurrency = 256, 16
	old := openFileLimit
	openFileLimit = func() (uint64, bool) { return limit, true }
	t.Cleanup(func() { openFileLimit = old })
	_, srv, _ := serveOrgOf(t, ssmsim.OrgConfig{
		Seed:     3,
		Accounts: ssmsim.DefaultAccounts(7, 1),
		Regions:  []ssmsim.Region{{Name: "us-east-1"}, {Name: "eu-west-1"}, {Name: "af-south-1", OptIn: true}},
		Fleet:    ssmsim.FleetConfig{Size: 150, BaseTime: time.Now().UTC().Truncate(time.Minute)},
	}, ssmsim.Faults{Latency: 20 * time.Millisecond, Jitter: 10 * time.Millisecond})
	got := runCLI(t, "", "run", "--accounts", "org", "--role-name", "AuditRole", "--regions", "us-east-1,eu-west-1", "--discover",
		"--region", "us-east-1", "--concurrency", "16", "--rate", "1000", "--fail-on", "none", "--format", "csv",
		"--out", filepath.Join(t.TempDir(), "out"))
	if got.code != 0 {
		t.Fatalf("exit %d\n%s", got.code, got.stderr)
	}
	at := sitesAtOnce(limit, concurrency)
	checkSays(t, got.stderr, []string{"open-file limit is 256: the 14 account-regions are audited 12 at a time", "ulimit -n"}, nil)
	st := srv.Stats()
	t.Logf("%d requests, %d in flight at most", st.Requests, st.PeakInFlight)
	// Each account-region's workers, and its listing beside them.
	if st.PeakInFlight > int64(at*(concurrency+1)) {
		t.Errorf("%d calls in flight at once, want at most %d (%d account-regions of %d workers and a listing)", st.PeakInFlight, at*(concurrency+1), at, concurrency)
	}
	if strings.Contains(got.stderr, "too few for --concurrency") {
		t.Errorf("warned of --concurrency, which the limit holds:\n%s", got.stderr)
	}
}

// TestOpenFileLimitTooLowForAnything: a limit that cannot hold the run's
// own files says to raise it, not to lower --concurrency to 1, which would
// not clear it; and a list of fewer instances than --concurrency needs no
// more workers than instances.
func TestOpenFileLimitTooLowForAnything(t *testing.T) {
	for _, tt := range []struct {
		name    string
		limit   uint64
		targets int
		want    []string
		notWant []string
	}{
		{"below the run's own files", 40, 100, []string{"open-file limit is 40", "raise the limit"}, []string{"lower --concurrency"}},
		{"one worker's room", fileReserve + 1, 100, []string{"lower --concurrency to 1"}, nil},
		{"enough for the instances", fileReserve + 2, 1, nil, []string{"open-file limit"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := defaultRunOptions()
			j := &job{o: o, fileLimit: tt.limit, fleet: fleetOf(t, tt.targets)}
			j.workers = j.siteWorkers()
			j.sitesAtOnce = sitesAtOnce(tt.limit, j.workers)
			var b strings.Builder
			j.warnOpenFiles(&b)
			checkSays(t, b.String(), tt.want, tt.notWant)
		})
	}
}

// fleetOf returns a listed fleet of n instances in us-east-1.
func fleetOf(t *testing.T, n int) *audit.Fleet {
	t.Helper()
	f := &audit.Fleet{}
	for i := range n {
		f.AddID("test", fmt.Sprintf("i-%017x", i+1), "us-east-1", "")
	}
	if f.Len() != n {
		t.Fatalf("fleet of %d instances, want %d", f.Len(), n)
	}
	return f
}

// TestSmallAccountRegionsAtOnce: an account-region has no more workers
// than instances. A list of 2 instances in each of 20 regions, run with
// --concurrency 64 under a limit of 256, was audited 3 account-regions at
// a time, as if each held 64 connections, three times as long as it
// needed; it holds 2 each, and all 20 are audited at once.
func TestSmallAccountRegionsAtOnce(t *testing.T) {
	regions := []string{"us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "eu-west-1", "eu-west-2", "eu-west-3",
		"eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1",
		"ap-southeast-2", "sa-east-1", "me-south-1", "af-south-1", "eu-south-1"}
	f := &audit.Fleet{}
	for i := range 40 {
		f.AddID("test", fmt.Sprintf("i-%017x", i+1), regions[i%20], "")
	}
	if f.Len() != 40 {
		t.Fatalf("fleet of %d instances, want 40", f.Len())
	}
	o := defaultRunOptions()
	o.concurrency = 64
	j := &job{o: o, fleet: f}
	if got := j.siteWorkers(); got != 2 {
		t.Errorf("siteWorkers = %d, want 2 (the instances of each account-region)", got)
	}
	if got := sitesAtOnce(256, j.siteWorkers()); got < 20 {
		t.Errorf("sitesAtOnce(256, %d) = %d, want all 20 account-regions at once", j.siteWorkers(), got)
	}
	o.discover = true
	if got := j.siteWorkers(); got != 64 {
		t.Errorf("discovery: siteWorkers = %d, want --concurrency, 64 (its account-regions' sizes are not known)", got)
	}
}
