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

// TestFailOnNewWithClockBehind: with --baseline previous --fail-on new,
// a run whose clock was two days behind passed over the only run before
// it as dated ahead, compared with nothing and exited 0 with a new
// failure; the run after it, with the clock right, ranked it above that
// run (it said it came after it), called the failure still failing, and
// exited 0 too: the gate never fired. A fresh run with only runs dated
// ahead beside it compares with the latest of them (finished, it ran
// before this one), and says so: the new failure fails it.
func TestFailOnNewWithClockBehind(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	okURL, _ := serve(t, handFleet(false), ssmsim.Options{})
	badURL, _ := serve(t, handFleet(true), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	root := t.TempDir()
	w0, x := filepath.Join(root, "w0"), filepath.Join(root, "x")
	args := []string{"run", "--instances", ids, "--region", "us-east-1", "--baseline", "previous", "--quiet", "--rate", "500", "--fail-on", "new"}
	skew := skewClock(t)
	if got := runCLI(t, "", append(args, "--endpoint-url", okURL, "--out", w0)...); got.code != 0 {
		t.Fatalf("w0 (all compliant): exit %d\n%s", got.code, got.stderr)
	}
	*skew = -48 * time.Hour // a host without NTP, reset two days back
	got := runCLI(t, "", append(args, "--endpoint-url", badURL, "--out", x)...)
	if got.code != int(exitFindings) {
		t.Errorf("x (clock two days behind, a new failure): exit %d, want %d\n%s", got.code, exitFindings, got.stderr)
	}
	if !strings.Contains(got.stderr, w0) {
		t.Errorf("x does not name w0, dated ahead:\n%s", got.stderr)
	}
	if got, want := baselineIn(t, x), filepath.Join(w0, audit.ResultsFile); got != want {
		t.Errorf("x compared with %q, want %q", got, want)
	}
	*skew = 0 // the clock put right
	y := filepath.Join(root, "y")
	if got := runCLI(t, "", append(args, "--endpoint-url", badURL, "--out", y)...); got.code != 0 {
		t.Errorf("y (the failure x found, still failing): exit %d, want 0\n%s", got.code, got.stderr)
	}
	if got, want := baselineIn(t, y), filepath.Join(x, audit.ResultsFile); got != want {
		t.Errorf("y compared with %q, want x's record %q, the run that came last", got, want)
	}
}

// TestReportDoesNotTakeALaterRunAhead: a run dated ahead is the baseline
// of last resort for a fresh run only, which started after it finished.
// `auditor report --baseline previous` of an earlier record took a later
// run dated ahead (its clock a year off) for the run before it, and wrote
// that run's start into the record's changes.since.
func TestReportDoesNotTakeALaterRunAhead(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	root := t.TempDir()
	a1, a2 := filepath.Join(root, "a1"), filepath.Join(root, "a2")
	args := []string{"run", "--instances", ids, "--region", "us-east-1", "--endpoint-url", url, "--quiet", "--rate", "500", "--fail-on", "none"}
	if got := runCLI(t, "", append(args, "--out", a1)...); got.code != 0 {
		t.Fatalf("a1: exit %d\n%s", got.code, got.stderr)
	}
	skew := skewClock(t)
	*skew = 365 * 24 * time.Hour
	if got := runCLI(t, "", append(args, "--out", a2)...); got.code != 0 {
		t.Fatalf("a2 (clock a year ahead): exit %d\n%s", got.code, got.stderr)
	}
	*skew = 0
	got := runCLI(t, "", "report", filepath.Join(a1, audit.ResultsFile), "--out", a1, "--baseline", "previous", "--quiet", "--fail-on", "none")
	if got.code != 0 {
		t.Fatalf("report of a1: exit %d\n%s", got.code, got.stderr)
	}
	if b := baselineIn(t, a1); b != "" {
		t.Errorf("the report of a1 compared with %q, a run after it dated ahead\n%s", b, got.stderr)
	}
}

// TestRerenderKeepsItsBaselineAhead: a run that compared with the only
// run beside it, dated ahead, rendered again in place with --baseline
// previous, passed that run over as after it, dropped its changes.csv and
// lost the comparison (its own run.json says it came after that run).
func TestRerenderKeepsItsBaselineAhead(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	root := t.TempDir()
	a1, a2 := filepath.Join(root, "a1"), filepath.Join(root, "a2")
	args := []string{"run", "--instances", ids, "--region", "us-east-1", "--endpoint-url", url, "--quiet", "--rate", "500", "--fail-on", "none", "--baseline", "previous"}
	skew := skewClock(t)
	*skew = 365 * 24 * time.Hour
	if got := runCLI(t, "", append(args, "--out", a1)...); got.code != 0 {
		t.Fatalf("a1 (clock a year ahead): exit %d\n%s", got.code, got.stderr)
	}
	*skew = 0
	if got := runCLI(t, "", append(args, "--out", a2)...); got.code != 0 {
		t.Fatalf("a2: exit %d\n%s", got.code, got.stderr)
	}
	want := filepath.Join(a1, audit.ResultsFile)
	if got := baselineIn(t, a2); got != want {
		t.Fatalf("a2 compared with %q, want a1's record %q", got, want)
	}
	got := runCLI(t, "", "report", filepath.Join(a2, audit.ResultsFile), "--out", a2, "--baseline", "previous", "--quiet", "--fail-on", "none")
	if got.code != 0 {
		t.Fatalf("a2 rendered again: exit %d\n%s", got.code, got.stderr)
	}
	if b := baselineIn(t, a2); b != want {
		t.Errorf("a2 rendered again compares with %q, want %q as its run did\n%s", b, want, got.stderr)
	}
}
