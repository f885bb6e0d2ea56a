package cli

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// progressRig drives a progress line by hand: a fake clock, stats set by
// the test, and the log lines printed when the test says.
type progressRig struct {
	t     *testing.T
	p     *progress
	out   bytes.Buffer
	now   time.Time
	stats audit.Stats
}

func newProgressRig(t *testing.T, total, conc int) *progressRig {
	t.Helper()
	r := &progressRig{t: t, now: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
	// quiet: no ticker; the test prints.
	r.p = newProgress(&r.out, total, conc, true, func() audit.Stats { return r.stats })
	r.p.now = func() time.Time { return r.now }
	r.p.start = r.now
	return r
}

// tick moves the clock on by d and returns the line printed then.
func (r *progressRig) tick(d time.Duration) string {
	r.t.Helper()
	r.now = r.now.Add(d)
	r.out.Reset()
	r.p.print()
	return strings.TrimSuffix(r.out.String(), "\n")
}

// TestProgressLogLineShowsASlowPace: in a log file the line once read
// "progress: 230/300 instances (0/s): ..." for a run at 0.26 instances a
// second, without the calls, the throttled share or the time left that
// the terminal showed, and began "progress: 0/300 instances (0/s): " with
// a dangling colon.
func TestProgressLogLineShowsASlowPace(t *testing.T) {
	r := newProgressRig(t, 300, 16)
	first := r.tick(10 * time.Second)
	if strings.HasSuffix(first, ":") || strings.HasSuffix(first, ": ") {
		t.Errorf("first line %q ends with a dangling colon", first)
	}
	var line string
	for i := 0; i < 12; i++ {
		// 2.6 instances, 25 calls (4 throttled) each 10 s.
		r.p.done(audit.OutcomeCompliant)
		r.p.done(audit.OutcomeCompliant)
		if i%5 < 3 {
			r.p.done(audit.OutcomeNoncompliant)
		}
		r.stats.Calls += 25
		r.stats.Throttled += 4
		r.stats.Pages += 21
		line = r.tick(10 * time.Second)
	}
	for _, want := range []string{"progress: 32/300 instances", "/min", "calls", "16.0% throttled", "left: compliant 24, noncompliant 8"} {
		if !strings.Contains(line, want) {
			t.Errorf("line %q lacks %q", line, want)
		}
	}
	if strings.Contains(line, "(0/s)") {
		t.Errorf("line %q shows no pace for a run that moves", line)
	}
}

// TestProgressSaysNoAnswer: with the endpoint stopped, the line repeated
// "progress: 1/296 instances (0/s): compliant 1" for minutes, as for a
// slow run, and the terminal kept a mean of calls a second since the
// start. It now says how long no answer came and how many calls were sent
// since, and its rates are the recent ones.
func TestProgressSaysNoAnswer(t *testing.T) {
	r := newProgressRig(t, 296, 16)
	for i := 0; i < 6; i++ {
		r.stats.Calls += 100
		r.stats.Pages += 100
		r.tick(10 * time.Second)
	}
	r.p.done(audit.OutcomeCompliant)
	// Stopped: calls go out (and time out), nothing comes back.
	line := r.tick(10 * time.Second)
	if strings.Contains(line, "no answer") {
		t.Errorf("line %q says no answer 10 s after the last", line)
	}
	for i := 0; i < 4; i++ {
		r.stats.Calls += 3
		r.stats.Retries += 3
		line = r.tick(10 * time.Second)
	}
	if want := "no answer for 50s (12 calls sent since)"; !strings.Contains(line, want) {
		t.Errorf("line %q lacks %q", line, want)
	}
	if !strings.Contains(line, "(18/min") {
		t.Errorf("line %q lacks the recent pace of calls (18/min), not the mean since the start", line)
	}
}

// TestProgressErrorAnswersAreAnswers: instances that end on an answer of
// the service's own that is no page (InvalidInstanceId: not managed;
// AccessDenied) were told "no answer for 30s" while every call was
// answered.
func TestProgressErrorAnswersAreAnswers(t *testing.T) {
	r := newProgressRig(t, 45, 16)
	var line string
	for i := 0; i < 6; i++ {
		r.stats.Calls += 5
		r.stats.Answers += 5
		for j := 0; j < 5; j++ {
			r.p.done(audit.OutcomeNotManaged)
		}
		line = r.tick(10 * time.Second)
	}
	if strings.Contains(line, "no answer") {
		t.Errorf("line %q says no answer, though every call was answered", line)
	}
	// The 15 left wait for their first call: none is paging.
	if !strings.Contains(line, "15 in flight") || strings.Contains(line, "paging") {
		t.Errorf("line %q: want 15 in flight, and none said to be paging with no page", line)
	}
}

// TestProgressTimeLeft: near the end the line said "7s left" for a
// minute and more, as the instances left were all in flight, paging; at
// the start it jumped from 6m14s to 53m34s on one or two instances.
func TestProgressTimeLeft(t *testing.T) {
	r := newProgressRig(t, 300, 16)
	r.p.done(audit.OutcomeCompliant)
	r.stats.Calls, r.stats.Pages = 10, 10
	if line := r.tick(10 * time.Second); strings.Contains(line, "left") {
		t.Errorf("line %q gives a time left on one instance", line)
	}
	for r.p.n < 270 {
		for i := 0; i < 10; i++ {
			r.p.done(audit.OutcomeCompliant)
		}
		r.stats.Calls += 20
		r.stats.Pages += 20
		r.tick(10 * time.Second)
	}
	line := r.tick(0)
	if !strings.Contains(line, "left") {
		t.Errorf("line %q gives no time left at 1 instance a second", line)
	}
	for r.p.n < 298 {
		r.p.done(audit.OutcomeCompliant)
	}
	r.stats.Pages += 15
	line = r.tick(10 * time.Second)
	if strings.Contains(line, "s left") {
		t.Errorf("line %q gives a time left with every instance left in flight", line)
	}
	if want := "2 in flight, paging"; !strings.Contains(line, want) {
		t.Errorf("line %q lacks %q", line, want)
	}
}

// notedWriter is stderr for a run the test watches: it closes seen when a
// line with want is written.
type notedWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
}

func (w *notedWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(b)
	if w.seen != nil && strings.Contains(w.buf.String(), w.want) {
		close(w.seen)
		w.seen = nil
	}
	return len(b), nil
}

// TestLookupInfoHeartbeat: --with-instance-info on 5,000 instances at one
// call a second ran for minutes before the audit's progress began, with
// nothing on stderr. The lookup now logs a line at the progress's
// cadence: here the service holds its first answer until that line came.
func TestLookupInfoHeartbeat(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	defer func(d time.Duration) { logEvery = d }(logEvery)
	logEvery = time.Millisecond
	const want = "looking up instance information: "
	stderr := &notedWriter{want: want, seen: make(chan struct{})}
	seen := stderr.seen
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 8, Size: 120, UnmanagedFraction: -1})
	url, _, _ := serveLogged(t, f, func(w http.ResponseWriter, r wireReq) bool {
		if r.op == ssmsim.OpDescribeInstanceInformation {
			select {
			case <-seen:
			case <-time.After(3 * time.Second): // no line came: the test fails below
			}
		}
		return false
	})
	out := filepath.Join(t.TempDir(), "out")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout bytes.Buffer
	code := run(ctx, []string{"run", "--instances", listFleet(t, f), "--with-instance-info", "--endpoint-url", url,
		"--region", "us-east-1", "--out", out, "--format", "csv", "--fail-on", "none"}, strings.NewReader(""), &stdout, stderr)
	stderr.mu.Lock()
	got := stderr.buf.String()
	stderr.mu.Unlock()
	if code != int(exitOK) {
		t.Fatalf("exit %d, want %d\n%s", code, exitOK, got)
	}
	if !regexp.MustCompile(`(?m)^` + want + `\d+ of 120 instances, \d+ calls`).MatchString(got) {
		t.Errorf("stderr has no line %q...:\n%s", want, got)
	}
}

// TestProgressListingIsAnAnswer: under --discover the listing's pages are
// answers too, though no audit page has come yet: a node found is not
// "no answer".
func TestProgressListingIsAnAnswer(t *testing.T) {
	r := newProgressRig(t, 0, 16)
	var line string
	for i := 0; i < 6; i++ {
		r.p.found()
		r.stats.Calls++
		line = r.tick(10 * time.Second)
	}
	if strings.Contains(line, "no answer") {
		t.Errorf("line %q says no answer while discovery lists nodes", line)
	}
}

// TestThrottledPace: the closing line of a slow, throttled run said
// "(1895 calls, 299 throttled, 299 retried)" without the pace the
// limiter reached, nor what could help.
func TestThrottledPace(t *testing.T) {
	tests := []struct {
		name         string
		st           audit.Stats
		rate         float64
		maxResults   int
		suffix, hint string
	}{
		{"throttled, small pages", audit.Stats{Calls: 1895, Pages: 1589, Throttled: 299, LimiterRate: 3, LimiterCutRate: 2.27}, 0, 1,
			", paced at 2.3 calls/s", "--max-results 50"},
		{"throttled, full pages", audit.Stats{Calls: 1895, Pages: 1589, Throttled: 299, LimiterRate: 3, LimiterCutRate: 2.27}, 0, 50,
			", paced at 2.3 calls/s", ""},
		{"little throttled", audit.Stats{Calls: 1895, Pages: 1589, Throttled: 20, LimiterRate: 3, LimiterCutRate: 2.27}, 0, 1,
			", paced at 2.3 calls/s", ""},
		{"not throttled", audit.Stats{Calls: 1895, Pages: 1589, LimiterRate: 30}, 0, 1, "", ""},
		{"fixed --rate", audit.Stats{Calls: 1895, Pages: 1589, Throttled: 299, LimiterRate: 5}, 5, 1, "", "--max-results 50"},
		// One page each (the reviewer's run: 60 pages, 60 instances):
		// no page size would take fewer calls.
		{"throttled, one page each", audit.Stats{Calls: 110, Pages: 60, Throttled: 50, LimiterRate: 3, LimiterCutRate: 2.27}, 0, 20,
			", paced at 2.3 calls/s", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			suffix, hint := throttledPace(tc.st, tc.rate, tc.maxResults, 60)
			if suffix != tc.suffix {
				t.Errorf("suffix %q, want %q", suffix, tc.suffix)
			}
			if !strings.Contains(hint, tc.hint) || (tc.hint == "") != (hint == "") {
				t.Errorf("hint %q, want one with %q", hint, tc.hint)
			}
		})
	}
}

// TestPaceHintBeforeTheSummary: the hint of a throttled run came after
// the closing summary's record, which README says a pipeline can take for
// the last (only an error may follow it).
func TestPaceHintBeforeTheSummary(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{Faults: ssmsim.Faults{ThrottleRate: 0.5}, Seed: 3})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	got := runCLI(t, "", "run", "--instances", ids, "--out", filepath.Join(t.TempDir(), "out"), "--fail-on", "none",
		"--max-results", "1", "--max-attempts", "20", "--log-format", "json", "--endpoint-url", url, "--region", "us-east-1")
	if got.code != 0 {
		t.Fatalf("exit %d\n%s", got.code, got.stderr)
	}
	lines := strings.Split(strings.TrimSpace(got.stderr), "\n")
	hint, summary := -1, -1
	for i, l := range lines {
		if strings.Contains(l, "of the calls were throttled") {
			hint = i
		}
		if strings.Contains(l, `"msg":"summary"`) {
			summary = i
		}
	}
	if hint < 0 || summary < 0 || hint > summary {
		t.Errorf("hint at line %d, summary at %d: want both, the hint first\n%s", hint, summary, got.stderr)
	}
}
