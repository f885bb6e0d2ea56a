package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestResumeAfterClockPutBack: a first attempt ran with the clock an hour
// ahead and left instances in error; a resume ran once the clock was put
// right and was killed before its run.json. The next resume read the
// kept starts up to now only, lost the first attempt's (an hour ahead),
// took the file for another run's, and refused the record as "another
// audit's" (exit 2), and so did report. The resume and the report now
// take both attempts for the run's.
func TestResumeAfterClockPutBack(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Size: 40, BaseTime: time.Now().UTC()})
	url, srv := serve(t, f, ssmsim.Options{Faults: ssmsim.Faults{ErrorRate: 0.5}, Seed: 3})
	ids := writeFile(t, "ids.txt", strings.Join(f.IDs(), "\n")+"\n")
	root := t.TempDir()
	out := filepath.Join(root, "r1")
	args := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--quiet",
		"--fail-on", "none", "--max-attempts", "1", "--rate", "500", "--out", out}
	skew := skewClock(t)
	*skew = time.Hour
	if got := runCLI(t, "", args...); got.code != int(exitIncomplete) {
		t.Fatalf("first attempt (clock an hour ahead): exit %d, want %d (instances in error)\n%s", got.code, exitIncomplete, got.stderr)
	}
	first, err := os.ReadFile(filepath.Join(out, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	*skew = 0
	runCLI(t, "", append(args, "--resume")...)
	// The resume killed before it wrote its run.json: the first attempt's
	// is left, and the starts of both are kept beside the record.
	if err := os.WriteFile(filepath.Join(out, audit.RunFile), first, 0o644); err != nil {
		t.Fatal(err)
	}
	if n := len(audit.ReadAttempts(filepath.Join(out, audit.AttemptsFile), time.Time{})); n != 2 {
		t.Fatalf("%s keeps %d starts, want both attempts'", audit.AttemptsFile, n)
	}
	srv.SetFaults(ssmsim.Faults{})
	if got := runCLI(t, "", append(args, "--resume")...); got.code != 0 {
		t.Fatalf("second resume: exit %d, want 0\n%s", got.code, got.stderr)
	}
	ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(ri.Attempts) != 3 {
		t.Errorf("run.json names attempts %v, want three", ri.Attempts)
	}
	if got := runCLI(t, "", "report", "--out", filepath.Join(root, "rep"), "--quiet", "--fail-on", "none", filepath.Join(out, audit.ResultsFile)); got.code != 0 {
		t.Errorf("report: exit %d, want 0\n%s", got.code, got.stderr)
	}
}
