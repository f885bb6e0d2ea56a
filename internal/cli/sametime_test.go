package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestDefaultOutOfRunsInOneSecond: runs started in the same second (a
// script's loop over lists) named one default --out, audit-{time}; the
// second was refused: "already holds a record: pass --resume", advice that
// was refused again (another audit's record). A run whose {time} names a
// directory that exists waits for the next second, whose name is free.
//
// So does one whose --out reaches it through a directory not made yet and
// back (audit-{time}/y/..): the wait looked at that path as written, which
// does not exist while y does not, and the run was refused the taken one.
func TestDefaultOutOfRunsInOneSecond(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	for _, tt := range []struct {
		name string
		out  []string
	}{
		{"default", nil},
		{"through a new directory", []string{"--out", "audit-{time}" + string(filepath.Separator) + "y" + string(filepath.Separator) + ".."}},
	} {
		t.Run(tt.name, func(t *testing.T) { runsInOneSecond(t, url, tt.out) })
	}
}

func runsInOneSecond(t *testing.T, url string, out []string) {
	cwd := t.TempDir()
	t.Chdir(cwd)
	// Another run's record in this second's directory and the next two.
	now := time.Now()
	taken := map[string]bool{}
	for i := range 3 {
		dir := expandOut("audit-{time}", now.Add(time.Duration(i)*time.Second))
		taken[dir] = true
		if err := os.Mkdir(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, audit.ResultsFile), []byte("{}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := append([]string{"run", "--instance-id", "i-0123456789abcdef0", "--endpoint-url", url, "--region", "us-east-1", "--quiet", "--fail-on", "none"}, out...)
	got := runCLI(t, "", args...)
	if got.code != 0 {
		t.Fatalf("exit %d, want 0\n%s", got.code, got.stderr)
	}
	dirs, _ := filepath.Glob("audit-*")
	var mine []string
	for _, d := range dirs {
		if !taken[d] {
			mine = append(mine, d)
		}
	}
	if len(mine) != 1 || !strings.Contains(got.stdout, mine[0]) {
		t.Errorf("want the run in one new directory beside the 3 taken, got %q\nstdout:\n%s", mine, got.stdout)
	}
	for d := range taken {
		if b, _ := os.ReadFile(filepath.Join(d, audit.ResultsFile)); string(b) != "{}\n" {
			t.Errorf("%s: the other run's record was changed: %q", d, b)
		}
	}
}

// TestTimedOutOfRunsStartedTogether: two runs started together, each into
// --out X/{time}, both found the second's directory free, as neither had
// made it yet, and went into it: one was refused, "directory in use by
// another auditor". The name is claimed as it is chosen: the one that
// finds it claimed starts on the next second, in a directory of its own.
func TestTimedOutOfRunsStartedTogether(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	sameSecondStart(t)
	parent := filepath.Join(t.TempDir(), "runs")
	ids := []string{"i-0123456789abcdef0", "i-0123456789abcdef1"}
	results := make([]cliResult, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = runCtx(context.Background(), nil, "run", "--instance-id", id, "--endpoint-url", url, "--region", "us-east-1",
				"--quiet", "--fail-on", "none", "--rate", "2000", "--out", filepath.Join(parent, "{time}"))
		}()
	}
	wg.Wait()
	for i, got := range results {
		if got.code != int(exitOK) {
			t.Errorf("the run of %s: exit %d, want %d\n%s", ids[i], got.code, exitOK, got.stderr)
		}
	}
	dirs, _ := filepath.Glob(filepath.Join(parent, "*"))
	if len(dirs) != len(ids) {
		t.Fatalf("want one directory for each run, got %q", dirs)
	}
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, audit.ResultsFile))
		if err != nil {
			t.Errorf("%s: %v", d, err)
			continue
		}
		var held []string
		for _, id := range ids {
			if strings.Contains(string(b), id) {
				held = append(held, id)
			}
		}
		if len(held) != 1 {
			t.Errorf("%s: its record holds %q, want the one run's instance", d, held)
		}
	}
}

// TestTimedOutShardsStartedTogether: the shards of one run started in the
// same second, each into RUN/{time}/shard-K, are side by side in one
// second's directory, where they hear each other's pace and merge as
// RUN/{time}/shard-*.
func TestTimedOutShardsStartedTogether(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	sameSecondStart(t)
	parent := filepath.Join(t.TempDir(), "runs")
	results := make([]cliResult, 2)
	var wg sync.WaitGroup
	for k := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[k] = runCtx(context.Background(), nil, "run", "--instance-id", "i-0123456789abcdef0", "--instance-id", "i-0123456789abcdef1",
				"--shard", fmt.Sprintf("%d/2", k), "--endpoint-url", url, "--region", "us-east-1", "--quiet", "--fail-on", "none", "--rate", "2000",
				"--out", filepath.Join(parent, "{time}", fmt.Sprintf("shard-%d", k)))
		}()
	}
	wg.Wait()
	for k, got := range results {
		if got.code != int(exitOK) {
			t.Errorf("shard %d: exit %d, want %d\n%s", k, got.code, exitOK, got.stderr)
		}
	}
	if dirs, _ := filepath.Glob(filepath.Join(parent, "*", "shard-*")); len(dirs) != 2 || filepath.Dir(dirs[0]) != filepath.Dir(dirs[1]) {
		t.Errorf("shards in %q, want both in one second's directory", dirs)
	}
}

// TestTimedOutClaimLeavesNothing: the directory that a run's {time}
// claims, and those it made on the way, are removed when the run is
// refused before it writes anything: before any call, or once STS has
// been asked.
func TestTimedOutClaimLeavesNothing(t *testing.T) {
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	for _, tt := range []struct {
		name string
		key  string
		args []string
		want exitCode
	}{
		{"a problem in the flags", "AKIATESTTESTTESTTEST", []string{"--max-results", "99"}, exitUsage},
		{"no credentials", "", nil, exitFatal},
	} {
		t.Run(tt.name, func(t *testing.T) {
			isolateAWS(t, tt.key)
			if tt.key == "" {
				t.Setenv("AWS_SECRET_ACCESS_KEY", "")
			}
			base := t.TempDir()
			for _, out := range []string{filepath.Join(base, "new", "runs", "{time}"), filepath.Join(base, "{time}", "x")} {
				got := runCLI(t, "", append([]string{"run", "--instance-id", "i-0123456789abcdef0", "--endpoint-url", url, "--region", "us-east-1",
					"--quiet", "--fail-on", "none", "--out", out}, tt.args...)...)
				if got.code != int(tt.want) {
					t.Fatalf("--out %s: exit %d, want %d\n%s", out, got.code, tt.want, got.stderr)
				}
				if left, _ := os.ReadDir(base); len(left) > 0 {
					t.Errorf("--out %s: left behind %v, want nothing", out, left)
				}
			}
		})
	}
}

// sameSecondStart makes the runs of the test start in the second it began:
// the clock runs from its start, so that a run that waits sees the next.
func sameSecondStart(t *testing.T) {
	start := time.Now()
	second := start.Truncate(time.Second)
	startClock = func() time.Time { return second.Add(time.Since(start)) }
	t.Cleanup(func() { startClock = time.Now })
}

// TestReportTimedOutInOneSecond: auditor report --out X/{time} whose
// second's directory holds another record was refused ("already holds a
// record that is not among the inputs"), where a run moves to the next
// second. It now moves as a run does.
func TestReportTimedOutInOneSecond(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	src := filepath.Join(t.TempDir(), "src")
	if got := runCLI(t, "", "run", "--instance-id", "i-0123456789abcdef0", "--endpoint-url", url, "--region", "us-east-1",
		"--quiet", "--fail-on", "none", "--out", src); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	parent := filepath.Join(t.TempDir(), "reports")
	now := time.Now()
	taken := map[string]bool{}
	for i := range 3 {
		dir := filepath.Join(parent, expandOut("{time}", now.Add(time.Duration(i)*time.Second)))
		taken[dir] = true
		if err := os.MkdirAll(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, audit.ResultsFile), []byte("{}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := runCLI(t, "", "report", filepath.Join(src, audit.ResultsFile), "--out", filepath.Join(parent, "{time}"), "--quiet", "--fail-on", "none")
	if got.code != 0 {
		t.Fatalf("report: exit %d, want 0\n%s", got.code, got.stderr)
	}
	dirs, _ := filepath.Glob(filepath.Join(parent, "*"))
	var mine []string
	for _, d := range dirs {
		if !taken[d] {
			mine = append(mine, d)
		}
	}
	if len(mine) != 1 {
		t.Fatalf("want the reports in one new directory beside the 3 taken, got %q", mine)
	}
	if _, err := os.Stat(filepath.Join(mine[0], "report.html")); err != nil {
		t.Error(err)
	}
	for d := range taken {
		if b, _ := os.ReadFile(filepath.Join(d, audit.ResultsFile)); string(b) != "{}\n" {
			t.Errorf("%s: the other record was changed: %q", d, b)
		}
	}
}

// TestReportTimedOutRefusedLeavesNothing: a report into X/{time} refused
// after it took its lock (a baseline of another account) left the
// second's directory, holding only the lock, and X: the claim had made
// the directory, so the report took it for one it had found.
func TestReportTimedOutRefusedLeavesNothing(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	root := t.TempDir()
	for _, acct := range []string{"111111111111", "222222222222"} {
		url, _ := serve(t, handFleet(false), ssmsim.Options{AccountID: acct})
		if got := runCLI(t, "", "run", "--instance-id", "i-0123456789abcdef0", "--endpoint-url", url, "--region", "us-east-1",
			"--quiet", "--fail-on", "none", "--out", filepath.Join(root, acct)); got.code != 0 {
			t.Fatalf("run of %s: exit %d\n%s", acct, got.code, got.stderr)
		}
	}
	parent := filepath.Join(root, "reports")
	got := runCLI(t, "", "report", filepath.Join(root, "222222222222", audit.ResultsFile), "--out", filepath.Join(parent, "{time}"),
		"--baseline", filepath.Join(root, "111111111111"), "--quiet", "--fail-on", "none")
	if got.code != 2 || !strings.Contains(got.stderr, "two accounts") {
		t.Fatalf("exit %d, want 2 for a baseline of another account\n%s", got.code, got.stderr)
	}
	if _, err := os.Lstat(parent); !os.IsNotExist(err) {
		left, _ := filepath.Glob(filepath.Join(parent, "*", "*"))
		t.Errorf("the refused report left %s (%v): %q", parent, err, left)
	}
}
