package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// slowFleet serves a fleet of 40 instances whose every call takes 100 ms,
// so that an attempt can be stopped midway (killedAttempt), with the
// credentials isolated, and returns its list's path and the endpoint.
func slowFleet(t *testing.T) (ids, url string) {
	t.Helper()
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 5, Size: 40})
	url, _ = serve(t, fleet, ssmsim.Options{Faults: ssmsim.Faults{Latency: 100 * time.Millisecond}})
	ids = filepath.Join(t.TempDir(), "ids.txt")
	if err := writeIDs(ids, fleet); err != nil {
		t.Fatal(err)
	}
	return ids, url
}

// killedAttempt runs one attempt into out that is stopped (its context
// canceled, with no grace) once it has recorded a result, then removes its
// run.json: what kill -9 leaves, as run.json is written last. It returns
// when the attempt began (at the latest) and the earliest audited_at of
// what it read.
func killedAttempt(t *testing.T, args []string) (began, firstRead time.Time) {
	t.Helper()
	out := args[slices.Index(args, "--out")+1]
	record := filepath.Join(out, audit.ResultsFile)
	before := countLines(record)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	done := make(chan cliResult, 1)
	began = time.Now()
	go func() {
		done <- runCtx(ctx, strings.NewReader(""), append(slices.Clone(args), "--grace", "0s")...)
	}()
	// Stopped on an event, not after a time: however slow the machine, the
	// attempt has read something, and (many 100 ms calls, two at a time)
	// not everything.
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	var got cliResult
wait:
	for {
		select {
		case got = <-done:
			break wait
		case <-tick.C:
			if countLines(record) > before {
				cancel()
			}
		}
	}
	if got.code != int(exitIncomplete) {
		t.Fatalf("attempt stopped once it recorded a result: exit %d, want %d\n%s", got.code, exitIncomplete, got.stderr)
	}
	if err := os.Remove(filepath.Join(out, audit.RunFile)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(b, []byte("\n"))
	for _, line := range lines[before:] {
		var r struct {
			AuditedAt time.Time `json:"audited_at"`
		}
		if json.Unmarshal(line, &r) == nil && !r.AuditedAt.IsZero() && (firstRead.IsZero() || r.AuditedAt.Before(firstRead)) {
			firstRead = r.AuditedAt
		}
	}
	if firstRead.IsZero() {
		t.Fatalf("the attempt recorded no result")
	}
	return began, firstRead
}

// attemptsRun serves a fleet of size instances (seed), each call 100 ms,
// and returns the arguments of a run of it into out, two calls at a time,
// and its endpoint.
func attemptsRun(t *testing.T, seed int64, size int) (args []string, out string, srv *stallable) {
	t.Helper()
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: seed, Size: size})
	url, srv := serveStallable(t, fleet, ssmsim.Options{Faults: ssmsim.Faults{Latency: 100 * time.Millisecond}})
	ids := filepath.Join(t.TempDir(), "ids.txt")
	if err := writeIDs(ids, fleet); err != nil {
		t.Fatal(err)
	}
	out = filepath.Join(t.TempDir(), "out")
	return []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out,
		"--concurrency", "2", "--rate", "2000", "--fail-on", "none", "--quiet"}, out, srv
}

// TestKilledAttemptKeepsItsStart: a resume killed before it wrote its
// run.json lost its start, and the resume that completed the run judged
// what the killed one read from the attempt before it: associations
// older than --stale-after when they were read were not stale. Every
// attempt keeps its start in --out as it begins, and run.json's attempts
// name all three.
func TestKilledAttemptKeepsItsStart(t *testing.T) {
	args, out, _ := attemptsRun(t, 3, 60)

	began1, read1 := killedAttempt(t, args)
	time.Sleep(1100 * time.Millisecond) // each attempt starts in a second of its own
	began2, read2 := killedAttempt(t, append(slices.Clone(args), "--resume"))
	time.Sleep(1100 * time.Millisecond)
	began3 := time.Now()
	if got := runCLI(t, "", append(slices.Clone(args), "--resume")...); got.code != 0 {
		t.Fatalf("last resume: exit %d\n%s", got.code, got.stderr)
	}
	ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	within := func(at, from, to time.Time) bool { return !at.Before(from) && !at.After(to) }
	if len(ri.Attempts) != 3 || !within(ri.Attempts[0], began1, read1) || !within(ri.Attempts[1], began2, read2) ||
		!within(ri.Attempts[2], began3, ri.EndedAt) {
		t.Fatalf("run.json: attempts %v, want three: one in [%v, %v], one in [%v, %v] (the killed resume), one in [%v, %v]",
			ri.Attempts, began1, read1, began2, read2, began3, ri.EndedAt)
	}
	if !ri.StartedAt.Equal(ri.Attempts[0]) {
		t.Errorf("run.json: started_at %v, want the first attempt's %v", ri.StartedAt, ri.Attempts[0])
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") && e.Name() != audit.AttemptsFile && e.Name() != baselineFile && e.Name() != targetsFile && e.Name() != startFile && e.Name() != ".auditor.lock" {
			t.Errorf("%s left in --out", e.Name())
		}
	}
}

// TestResumeIgnoresBadAttemptLines: what --out keeps of the attempts'
// starts is read back with care: lines that are not a time, and times
// after the resume began, are passed over; the resume runs as any.
func TestResumeIgnoresBadAttemptLines(t *testing.T) {
	args, out, _ := attemptsRun(t, 4, 40)
	began1, read1 := killedAttempt(t, args)
	kept := filepath.Join(out, audit.AttemptsFile)
	b, err := os.ReadFile(kept)
	if err != nil {
		t.Fatalf("the killed attempt kept no start: %v", err)
	}
	future := time.Now().Add(240 * time.Hour).UTC().Format(time.RFC3339Nano)
	hostile := string(b) + "not a time\n\x00\xff\n" + future + "\n2026-13-45T99:00:00Z\n" + strings.Repeat("x", 5000) + "\n\n"
	if err := os.WriteFile(kept, []byte(hostile), 0o644); err != nil {
		t.Fatal(err)
	}
	began2 := time.Now()
	if got := runCLI(t, "", append(slices.Clone(args), "--resume")...); got.code != 0 {
		t.Fatalf("resume: exit %d\n%s", got.code, got.stderr)
	}
	ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(ri.Attempts) != 2 || !(!ri.Attempts[0].Before(began1) && !ri.Attempts[0].After(read1)) ||
		ri.Attempts[1].Before(began2) || ri.Attempts[1].After(ri.EndedAt) {
		t.Fatalf("run.json: attempts %v, want the killed attempt's start in [%v, %v] and the resume's after %v",
			ri.Attempts, began1, read1, began2)
	}
}

// TestResumeWithOddAttemptsFile: something else in place of the file that
// keeps the attempts' starts (a link to an endless file, a pipe that no
// one writes, a directory) is not read, and the resume runs: it replaces
// the link or the pipe, and warns that it could not replace a directory.
func TestResumeWithOddAttemptsFile(t *testing.T) {
	ids, url := slowFleet(t)
	for _, tc := range []struct {
		name  string
		plant func(path string) error
		warns bool
	}{
		{"link", func(p string) error { return os.Symlink("/dev/zero", p) }, false},
		{"pipe", makeFIFO, false},
		{"directory", func(p string) error { return os.Mkdir(p, 0o755) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			args := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out,
				"--concurrency", "2", "--rate", "2000", "--fail-on", "none", "--quiet"}
			killedAttempt(t, args)
			kept := filepath.Join(out, audit.AttemptsFile)
			if err := os.Remove(kept); err != nil {
				t.Fatal(err)
			}
			if err := tc.plant(kept); errors.Is(err, errors.ErrUnsupported) {
				t.Skipf("no %s on %s: %v", tc.name, runtime.GOOS, err)
			} else if err != nil {
				t.Fatal(err)
			}
			got := runCLI(t, "", append(slices.Clone(args), "--resume")...)
			if got.code != 0 {
				t.Fatalf("resume: exit %d\n%s", got.code, got.stderr)
			}
			if warned := strings.Contains(got.stderr, "start could not be kept"); warned != tc.warns {
				t.Errorf("resume warned %v, want %v\n%s", warned, tc.warns, got.stderr)
			}
			ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
			if err != nil {
				t.Fatal(err)
			}
			if len(ri.Attempts) != 2 {
				t.Errorf("run.json: attempts %v, want the killed attempt's first result and the resume's start", ri.Attempts)
			}
			st, err := os.Lstat(kept)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().IsRegular() == tc.warns {
				t.Errorf("%s after the resume: %v, want a file unless it was a directory", audit.AttemptsFile, st.Mode())
			}
		})
	}
}

// TestResumeAfterAFastClock: a run.json whose start a fast clock put after
// the resume's own keeps that start among the attempts, as started_at
// keeps it: dropping it judged the first attempt's results from no start
// of theirs.
func TestResumeAfterAFastClock(t *testing.T) {
	args, out, srv := attemptsRun(t, 6, 40)
	srv.StallFrom(6)
	got := runCLI(t, "", append(slices.Clone(args), "--timeout", stallTimeout.String(), "--grace", "0s")...)
	if got.code != int(exitIncomplete) {
		t.Fatalf("attempt stopped by --timeout: exit %d\n%s", got.code, got.stderr)
	}
	srv.StallFrom(0)
	p := filepath.Join(out, audit.RunFile)
	var ri map[string]any
	b, err := os.ReadFile(p)
	if err != nil || json.Unmarshal(b, &ri) != nil {
		t.Fatalf("run.json: %v", err)
	}
	ahead := time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano)
	was, _ := ri["started_at"].(string)
	ri["started_at"], ri["attempts"] = ahead, []string{ahead}
	if b, err = json.Marshal(ri); err != nil || os.WriteFile(p, b, 0o644) != nil {
		t.Fatal(err)
	}
	// The clock that dated run.json dated the lines its attempt read: a
	// record whose lines name another start is another run's.
	record := filepath.Join(out, audit.ResultsFile)
	lines, err := os.ReadFile(record)
	if err != nil || was == "" || !strings.Contains(string(lines), `"attempt_started_at":"`+was+`"`) {
		t.Fatalf("the record's lines do not name the start %q (%v)", was, err)
	}
	if err := os.WriteFile(record, []byte(strings.ReplaceAll(string(lines), `"attempt_started_at":"`+was+`"`, `"attempt_started_at":"`+ahead+`"`)), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := runCLI(t, "", append(slices.Clone(args), "--resume")...); got.code != 0 {
		t.Fatalf("resume: exit %d\n%s", got.code, got.stderr)
	}
	after, err := audit.ReadRunInfo(p)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(after.Attempts, after.StartedAt.Equal) {
		t.Errorf("attempts %v do not hold started_at %v", after.Attempts, after.StartedAt)
	}
}
