package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
)

// staleSettings reads the cut-offs of summary.json in out.
func staleSettings(t *testing.T, out string) report.Settings {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, report.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Settings report.Settings `json:"settings"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m.Settings
}

func equalAt(p *time.Time, want time.Time) bool { return p != nil && p.Equal(want) }

// TestStaleCutOffOfAFreshRun: the workers of a run read its instances
// moments apart, and every one is judged from the run's start: a run that
// was not resumed has one cut-off, summary.json's stale_before, and its
// run.json names its one attempt.
func TestStaleCutOffOfAFreshRun(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 7, Size: 40})
	url, _ := serve(t, fleet, ssmsim.Options{Faults: ssmsim.Faults{Latency: 2 * time.Millisecond, Jitter: 2 * time.Millisecond}})
	ids := filepath.Join(t.TempDir(), "ids.txt")
	if err := writeIDs(ids, fleet); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	if got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out,
		"--concurrency", "8", "--fail-on", "none", "--quiet"); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(ri.Attempts) != 1 || !ri.Attempts[0].Equal(ri.StartedAt) {
		t.Errorf("run.json: attempts %v, want the one start %v", ri.Attempts, ri.StartedAt)
	}
	want := ri.StartedAt.Add(-time.Duration(audit.DefaultStaleAfter))
	st := staleSettings(t, out)
	if !equalAt(st.StaleBefore, want) || !equalAt(st.StaleBeforeEarliest, want) || !equalAt(st.StaleBeforeLatest, want) {
		t.Errorf("summary.json: stale_before %v (earliest %v, latest %v), want %v for all three", st.StaleBefore, st.StaleBeforeEarliest, st.StaleBeforeLatest, want)
	}
}

// TestStaleCutOffsOfAResumedRun: a --resume adds its own start to
// run.json's attempts, after the first attempt's (which stays the run's
// started_at), and summary.json judges what each attempt read from its
// start: no single cut-off, the first attempt's and the last's as the
// range.
func TestStaleCutOffsOfAResumedRun(t *testing.T) {
	out, list, url, _ := ownersInterrupted(t)
	first, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Attempts) != 1 || !first.Attempts[0].Equal(first.StartedAt) {
		t.Fatalf("interrupted run.json: attempts %v, want the one start %v", first.Attempts, first.StartedAt)
	}
	rs, err := audit.OpenRecords(filepath.Join(out, audit.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	readFirst := rs.Len() > 0
	rs.Close()
	time.Sleep(1100 * time.Millisecond) // the resume starts in another second
	if got := runCLI(t, "", "run", "--resume", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out,
		"--fail-on", "none", "--quiet"); got.code != 0 {
		t.Fatalf("resume: exit %d\n%s", got.code, got.stderr)
	}
	ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	if !ri.StartedAt.Equal(first.StartedAt) || len(ri.Attempts) != 2 || !ri.Attempts[0].Equal(first.StartedAt) ||
		!ri.Attempts[1].After(ri.Attempts[0].Add(time.Second)) || ri.Attempts[1].After(ri.EndedAt) {
		t.Fatalf("resumed run.json: started_at %v, attempts %v, want %v and the resume's start after it", ri.StartedAt, ri.Attempts, first.StartedAt)
	}
	age := time.Duration(audit.DefaultStaleAfter)
	st := staleSettings(t, out)
	if st.StaleBefore != nil {
		t.Errorf("summary.json: stale_before %v, one cut-off for two attempts", st.StaleBefore)
	}
	if readFirst && !equalAt(st.StaleBeforeEarliest, ri.Attempts[0].Add(-age)) {
		t.Errorf("summary.json: stale_before_earliest %v, want the first attempt's %v", st.StaleBeforeEarliest, ri.Attempts[0].Add(-age))
	}
	if !equalAt(st.StaleBeforeLatest, ri.Attempts[1].Add(-age)) {
		t.Errorf("summary.json: stale_before_latest %v, want the resume's %v", st.StaleBeforeLatest, ri.Attempts[1].Add(-age))
	}
}
