package cli

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

// TestMain removes the binary that binary built once every test is done:
// it is tens of megabytes, and each "go test" would leave one more in
// TMPDIR.
func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		if err := os.RemoveAll(binDir); err != nil {
			fmt.Fprintln(os.Stderr, "removing the test binary:", err)
			code = cmp.Or(code, 1)
		}
	}
	os.Exit(code)
}

// binary builds the auditor once for the tests that signal a real process.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "auditor-bin")
		if err != nil {
			buildErr = err
			return
		}
		binDir = dir
		binPath = filepath.Join(dir, "auditor")
		out, err := exec.Command("go", "build", "-o", binPath, "../../cmd/auditor").CombinedOutput()
		if err != nil {
			buildErr = err
			binPath = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("building the binary: %v\n%s", buildErr, binPath)
	}
	return binPath
}

// normalized returns the record with what legitimately differs between two
// runs (when each instance was audited, when the attempt that audited it
// started, and how many attempts it took) taken out, one JSON line per
// instance in key order.
func normalized(t *testing.T, path string) []string {
	t.Helper()
	rs, err := audit.OpenRecords(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var lines []string
	err = rs.Each(func(r audit.Result) error {
		r.AuditedAt, r.AttemptStartedAt = time.Time{}, time.Time{}
		r.Calls = 0
		b, err := json.Marshal(r)
		lines = append(lines, string(b))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

func countLines(path string) int {
	b, _ := os.ReadFile(path)
	return bytes.Count(b, []byte("\n"))
}

// TestInterruptAndResume sends signals to the built binary halfway through a
// run, checks what it leaves, resumes, and compares the final record with an
// uninterrupted run's. Nothing finished is fetched twice.
func TestInterruptAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and signals the binary: skipped with -short")
	}
	bin := binary(t)
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 42, Size: 240})
	ids := filepath.Join(t.TempDir(), "ids.txt")
	if err := writeIDs(ids, fleet); err != nil {
		t.Fatal(err)
	}
	baseline := filepath.Join(t.TempDir(), "baseline")
	{
		url, _ := serve(t, fleet, ssmsim.Options{})
		got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", baseline, "--quiet")
		if got.code != 1 {
			t.Fatalf("baseline run: exit %d\n%s", got.code, got.stderr)
		}
	}
	want := normalized(t, filepath.Join(baseline, "results.jsonl"))

	for _, tt := range []struct {
		name     string
		signals  []syscall.Signal
		gap      time.Duration // between the signals
		wantCode int           // -1: killed
	}{
		{"SIGINT", []syscall.Signal{syscall.SIGINT}, 0, 3},
		{"SIGTERM", []syscall.Signal{syscall.SIGTERM}, 0, 3},
		// timeout(1) signals the command and then its process group:
		// the same signal twice, not a second request.
		{"the same SIGTERM twice at once", []syscall.Signal{syscall.SIGTERM, syscall.SIGTERM}, 50 * time.Millisecond, 3},
		// Well past the second in which a signal counts as the same one,
		// and well before the grace (longer, below) ends.
		{"second SIGINT exits at once", []syscall.Signal{syscall.SIGINT, syscall.SIGINT}, 1500 * time.Millisecond, -1},
		{"kill -9", []syscall.Signal{syscall.SIGKILL}, 0, -1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			url, srv := serve(t, fleet, ssmsim.Options{Faults: ssmsim.Faults{Latency: 15 * time.Millisecond, Jitter: 10 * time.Millisecond}})
			out := filepath.Join(t.TempDir(), "out")
			grace := "2s"
			if tt.gap >= time.Second {
				grace = "5s" // the second signal comes within it
			}
			args := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--concurrency", "4", "--grace", grace, "--quiet"}
			cmd := exec.Command(bin, args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			record := filepath.Join(out, "results.jsonl")
			deadline := time.Now().Add(time.Minute)
			for countLines(record) < 60 {
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatalf("the run never got to 60 instances\n%s", stderr.String())
				}
				time.Sleep(10 * time.Millisecond)
			}
			if tt.gap >= time.Second {
				// Calls slow enough that the run is still in its grace
				// period when the second signal comes.
				srv.SetFaults(ssmsim.Faults{Latency: 10 * time.Second})
				time.Sleep(100 * time.Millisecond)
			}
			for i, sig := range tt.signals {
				if i > 0 {
					time.Sleep(tt.gap)
				}
				cmd.Process.Signal(sig)
			}
			err := cmd.Wait()
			srv.SetFaults(ssmsim.Faults{Latency: 15 * time.Millisecond, Jitter: 10 * time.Millisecond})
			code := cmd.ProcessState.ExitCode()
			if code != tt.wantCode {
				t.Fatalf("exit %d (%v), want %d\n%s", code, err, tt.wantCode, stderr.String())
			}
			done := countLines(record)
			if done >= fleet.Len() {
				t.Fatalf("all %d instances done before the signal: the test interrupted nothing", done)
			}
			if tt.wantCode == 3 {
				ri, err := audit.ReadRunInfo(filepath.Join(out, "run.json"))
				if err != nil {
					t.Fatal(err)
				}
				if !ri.Interrupted || ri.Complete {
					t.Errorf("run.json interrupted %v complete %v, want true and false", ri.Interrupted, ri.Complete)
				}
				html, _ := os.ReadFile(filepath.Join(out, "report.html"))
				if !bytes.Contains(bytes.ToLower(html), []byte("partial")) {
					t.Error("report.html has no partial-run banner")
				}
				for _, name := range []string{"associations.csv", "instances.csv", "report.xlsx", "summary.json"} {
					if _, err := os.Stat(filepath.Join(out, name)); err != nil {
						t.Errorf("no partial %s: %v", name, err)
					}
				}
				if !strings.Contains(stderr.String(), "--resume") {
					t.Errorf("stderr does not say how to resume:\n%s", stderr.String())
				}
			}
			// Every line on disk is whole, except perhaps a torn last one
			// after kill -9.
			checkLines(t, record, tt.wantCode == -1)

			finished := recorded(t, record)
			before := srv.Stats()
			got := runCLI(t, "", append(args, "--resume")...)
			if got.code != 1 {
				t.Fatalf("resume: exit %d, want 1 (findings)\n%s", got.code, got.stderr)
			}
			after := srv.Stats()
			// A page in flight when the process died is fetched again, as it
			// should be; a page of an instance already recorded must not be.
			for page, n := range srv.PageCounts() {
				if n > 1 && finished[page.Subject] {
					t.Errorf("%s: a page served %d times, though the instance was recorded before the resume", page.Subject, n)
				}
			}
			if after.Requests == before.Requests {
				t.Error("the resume made no calls")
			}
			if diff := diffLines(want, normalized(t, record)); diff != "" {
				t.Errorf("resumed record differs from an uninterrupted one:\n%s", diff)
			}
			ri, err := audit.ReadRunInfo(filepath.Join(out, "run.json"))
			if err != nil || !ri.Complete || ri.Interrupted || ri.Resumed == 0 {
				t.Errorf("run.json after resume: complete %v interrupted %v resumed %d (%v)", ri.Complete, ri.Interrupted, ri.Resumed, err)
			}
		})
	}
}

// recorded returns the instances a record holds.
func recorded(t *testing.T, path string) map[string]bool {
	t.Helper()
	rs, err := audit.OpenRecords(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	ids := map[string]bool{}
	rs.Each(func(r audit.Result) error {
		ids[r.InstanceID] = true
		return nil
	})
	if len(ids) == 0 {
		t.Fatal("nothing recorded before the signal")
	}
	return ids
}

// checkLines checks that every line of a record is a whole JSON object.
func checkLines(t *testing.T, path string, tornAllowed bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 64<<20)
	for n := 1; sc.Scan(); n++ {
		if !json.Valid(sc.Bytes()) {
			last := !bytes.HasSuffix(b, []byte("\n")) && bytes.HasSuffix(b, sc.Bytes())
			if !(tornAllowed && last) {
				t.Errorf("%s:%d is not a whole JSON line", path, n)
			}
		}
	}
}

func diffLines(want, got []string) string {
	w := map[string]bool{}
	for _, l := range want {
		w[l] = true
	}
	g := map[string]bool{}
	for _, l := range got {
		g[l] = true
	}
	var d []string
	for l := range w {
		if !g[l] {
			d = append(d, "- "+trim(l))
		}
	}
	for l := range g {
		if !w[l] {
			d = append(d, "+ "+trim(l))
		}
	}
	sort.Strings(d)
	if len(want) != len(got) {
		d = append(d, "lengths differ")
	}
	if len(d) > 10 {
		d = append(d[:10], "...")
	}
	return strings.Join(d, "\n")
}

func trim(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// TestResumeAfterACrashBeforeRunJSON: a run that could not learn its
// account (STS unreachable) and was killed before it wrote run.json left a
// record whose results name no account, some in error. The resume, which
// learns the account, keeps the record's convention: each instance is in
// the record once, the errors are retried in place, and a second resume
// has nothing left to do.
func TestResumeAfterACrashBeforeRunJSON(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 5, Size: 30})
	url, srv := serve(t, fleet, ssmsim.Options{})
	ids := filepath.Join(t.TempDir(), "ids.txt")
	if err := writeIDs(ids, fleet); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "run")
	if err := os.MkdirAll(out, 0o777); err != nil {
		t.Fatal(err)
	}
	w, err := audit.CreateRecord(filepath.Join(out, audit.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC()
	for i, id := range fleet.IDs()[:10] {
		r := audit.Result{Region: "us-east-1", InstanceID: id, Source: ids + ":" + strconv.Itoa(i+1), AuditedAt: at, Outcome: audit.OutcomeNoAssociations}
		if i%3 == 0 {
			r.Outcome, r.Error = audit.OutcomeError, &audit.Error{Code: "InternalServerError", Message: "the crashed run's error"}
		}
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	args := []string{"run", "--resume", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet", "--fail-on", "none"}
	if got := runCLI(t, "", args...); got.code != 0 {
		t.Fatalf("resume: exit %d, want 0\n%s", got.code, got.stderr)
	}
	rs, err := audit.OpenRecords(filepath.Join(out, audit.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	rs.Each(func(r audit.Result) error { seen[r.InstanceID]++; return nil })
	rs.Close()
	if rs.Len() != fleet.Len() {
		for id, n := range seen {
			if n > 1 {
				t.Errorf("%s is in the record %d times", id, n)
			}
		}
		t.Fatalf("the record holds %d instances, want %d", rs.Len(), fleet.Len())
	}
	calls := srv.Stats().Calls["DescribeInstanceAssociationsStatus"]
	if got := runCLI(t, "", args...); got.code != 0 {
		t.Errorf("a second resume: exit %d, want 0\n%s", got.code, got.stderr)
	}
	if n := srv.Stats().Calls["DescribeInstanceAssociationsStatus"] - calls; n > 0 {
		t.Errorf("a second resume made %d calls, want none", n)
	}
}
