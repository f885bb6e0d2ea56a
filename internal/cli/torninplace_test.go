package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestTornKeptWhenRenderedInPlace: a resume that cut off a torn last line
// says so in run.json (torn); the run rendered again in place (auditor
// report DIR/results.jsonl --out DIR) keeps the run's own metadata, and
// kept every field but that one, which it counted again on a record that
// no longer has the torn line: 0.
func TestTornKeptWhenRenderedInPlace(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 8, Size: 20})
	url, _, _ := serveLogged(t, f, nil)
	out := filepath.Join(t.TempDir(), "out")
	args := []string{"run", "--instances", listFleet(t, f), "--endpoint-url", url, "--region", "us-east-1", "--format", "csv", "--fail-on", "none", "--quiet", "--out", out}
	if got := runCLI(t, "", args...); got.code != int(exitOK) {
		t.Fatalf("exit %d\n%s", got.code, got.stderr)
	}
	record := filepath.Join(out, audit.ResultsFile)
	fd, err := os.OpenFile(record, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fd.WriteString(`{"schema":1,"account_id":"","region":"us-east-1","instance_id":"i-0`); err != nil {
		t.Fatal(err)
	}
	fd.Close()
	if got := runCLI(t, "", append(args, "--resume")...); got.code != int(exitOK) {
		t.Fatalf("--resume: exit %d\n%s", got.code, got.stderr)
	}
	torn := func(when string) int {
		ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		return ri.Torn
	}
	if n := torn("after the resume"); n != 1 {
		t.Fatalf("after the resume: torn %d, want 1", n)
	}
	if got := runCLI(t, "", "report", record, "--out", out, "--format", "csv", "--fail-on", "none", "--quiet"); got.code != int(exitOK) {
		t.Fatalf("report in place: exit %d\n%s", got.code, got.stderr)
	}
	if n := torn("rendered in place"); n != 1 {
		t.Errorf("rendered in place: torn %d, want the run's 1", n)
	}
}
