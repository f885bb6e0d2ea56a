package cli

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/deliver/smtptest"
	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
)

// closingListener accepts connections, counts them, and closes each at once:
// an endpoint that never answers (a port where nothing speaks HTTP, a
// firewall that resets).
func closingListener(t *testing.T) (url string, accepted *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted = &atomic.Int64{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	return "http://" + ln.Addr().String(), accepted
}

// TestUnreachableEndpointFailsFast: pointed at an endpoint that does not
// answer, a run once spent a minute on 300 instances making 2,400 calls,
// ended every instance in error and exited 3, naming the cause only in
// instances.csv. It stops after a number of attempts bounded by the
// concurrency and --max-attempts, not by the fleet, exits 4 and says why.
func TestUnreachableEndpointFailsFast(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	var ids bytes.Buffer
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 5, Size: 300})
	fleet.WriteIDs(&ids)
	list := writeFile(t, "ids.txt", ids.String())

	t.Run("closed port", func(t *testing.T) {
		// A port that was open and is closed now: connection refused.
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		url := "http://" + ln.Addr().String()
		ln.Close()
		out := filepath.Join(t.TempDir(), "out")
		got := runCLI(t, "", "run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out,
			"--max-attempts", "2", "--concurrency", "4", "--quiet")
		if got.code != 4 || !strings.Contains(got.stderr, "cannot reach "+url+": connection refused") || !strings.Contains(got.stderr, "--endpoint-url") {
			t.Errorf("exit %d, want 4 naming the endpoint and the cause\n%s", got.code, got.stderr)
		}
	})
	t.Run("attempts bounded by concurrency and max attempts", func(t *testing.T) {
		url, accepted := closingListener(t)
		out := filepath.Join(t.TempDir(), "out")
		const concurrency, attempts = 4, 3
		got := runCLI(t, "", "run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out,
			"--max-attempts", "3", "--concurrency", "4", "--quiet")
		if got.code != 4 {
			t.Errorf("exit %d, want 4\n%s", got.code, got.stderr)
		}
		if n := accepted.Load(); n > concurrency*attempts || n == 0 {
			t.Errorf("%d connections for 300 instances, want at most concurrency x max-attempts = %d", n, concurrency*attempts)
		}
		if n := countLines(filepath.Join(out, "results.jsonl")); n != 0 {
			t.Errorf("%d instances recorded, want none (left for --resume)", n)
		}
	})
	t.Run("no such host", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out")
		got := runCLI(t, "", "run", "--instances", list, "--endpoint-url", "https://ssm.us-est-1.invalid", "--region", "us-east-1",
			"--out", out, "--max-attempts", "2", "--quiet")
		if got.code != 4 || !strings.Contains(got.stderr, "cannot reach https://ssm.us-est-1.invalid") {
			t.Errorf("exit %d, want 4 naming the endpoint\n%s", got.code, got.stderr)
		}
	})
}

// stoppableServer serves s until stop is called, then refuses connections.
func stoppableServer(t *testing.T, s http.Handler) (url string, stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: s}
	go srv.Serve(ln)
	var once sync.Once
	stop = func() { once.Do(func() { srv.Close() }) }
	t.Cleanup(stop)
	return "http://" + ln.Addr().String(), stop
}

// TestEndpointLostMidRun: an endpoint that answered and then went away once
// had every remaining instance retried eight times and recorded in error.
// The circuit opens after a few instances in a row get no answer: the rest
// are left for --resume, the reports are written and name the cause, and
// the exit is 3, as it is for a --resume while the endpoint is still away;
// once the endpoint is back, --resume completes the record.
func TestEndpointLostMidRun(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 6, Size: 200})
	var ids bytes.Buffer
	fleet.WriteIDs(&ids)
	list := writeFile(t, "ids.txt", ids.String())
	sim := ssmsim.NewServer(fleet, ssmsim.Options{})
	var served atomic.Int64
	var stop func()
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The endpoint goes away at the 60th call: neither it nor any call
		// after it on a connection already open is answered, however the
		// calls and the closing are scheduled. Close does not wait for
		// handlers.
		if n := served.Add(1); n >= 60 {
			if n == 60 {
				stop()
			}
			panic(http.ErrAbortHandler) // the connection closes, unanswered
		}
		sim.ServeHTTP(w, r)
	})
	var url string
	url, stop = stoppableServer(t, handler)
	out := filepath.Join(t.TempDir(), "out")
	args := []string{"run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out,
		"--max-attempts", "2", "--concurrency", "2", "--fail-on", "none", "--quiet"}
	got := runCLI(t, "", args...)
	if got.code != 3 || !strings.Contains(got.stderr, "stopped answering") {
		t.Fatalf("exit %d, want 3 saying the endpoint stopped answering\n%s", got.code, got.stderr)
	}
	ri, err := audit.ReadRunInfo(filepath.Join(out, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ri.Complete || !strings.Contains(ri.Error, "stopped answering") {
		t.Errorf("run.json: complete %v, error %q; want a partial run naming the cause", ri.Complete, ri.Error)
	}
	recorded := countLines(filepath.Join(out, "results.jsonl"))
	if recorded == 0 || recorded > 80 {
		t.Errorf("%d instances recorded, want those audited before the endpoint went away (about 60)", recorded)
	}
	if _, err := os.Stat(filepath.Join(out, "report.html")); err != nil {
		t.Error("no partial reports")
	}

	// A --resume while the endpoint is still away audits nothing, yet
	// is no setup to fix (exit 4, "nothing was audited"): the record
	// holds what the run audited, and the reports are written again for
	// it; the exit is 3, the run still to be resumed.
	if err := os.Remove(filepath.Join(out, "report.html")); err != nil {
		t.Fatal(err)
	}
	got = runCLI(t, "", append(args, "--resume")...)
	if got.code != 3 {
		t.Errorf("resume with the endpoint away: exit %d, want 3\n%s", got.code, got.stderr)
	}
	if n := countLines(filepath.Join(out, "results.jsonl")); n != recorded {
		t.Errorf("resume with the endpoint away: %d instances recorded, want the %d of the first attempt", n, recorded)
	}
	if _, err := os.Stat(filepath.Join(out, "report.html")); err != nil {
		t.Errorf("resume with the endpoint away: reports not written again: %v", err)
	}

	// The endpoint is back (on another port: the old one is closed).
	url2, _ := serve(t, fleet, ssmsim.Options{})
	for i, a := range args {
		if a == url {
			args[i] = url2
		}
	}
	got = runCLI(t, "", append(args, "--resume")...)
	if got.code != 0 {
		t.Fatalf("resume: exit %d\n%s", got.code, got.stderr)
	}
	rs, err := audit.OpenRecords(filepath.Join(out, "results.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	if rs.Len() != 200 || rs.Outcomes()[audit.OutcomeError] != 0 {
		t.Errorf("after resume: %d results, %d in error; want 200, 0", rs.Len(), rs.Outcomes()[audit.OutcomeError])
	}
}

// TestErrorSummary: whenever an instance ended in error, the closing
// summary lists the top error codes with a message and a count.
func TestErrorSummary(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{Faults: ssmsim.Faults{ErrorRate: 1}})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1",
		"--out", filepath.Join(t.TempDir(), "o"), "--max-attempts", "1", "--quiet")
	if got.code != 3 || !strings.Contains(got.stderr, "2 instances ended in error: 2 InternalServerError (") {
		t.Errorf("exit %d; the summary does not count the error codes:\n%s", got.code, got.stderr)
	}
}

var _ = time.Second

// TestUnreachableNamesTheEndpointsSource: the line that says an endpoint
// cannot be reached names where the endpoint came from. It said "check
// --region and --endpoint-url" of an endpoint that AWS_ENDPOINT_URL,
// AWS_ENDPOINT_URL_SSM or the profile had set, and of the region's own.
func TestUnreachableNamesTheEndpointsSource(t *testing.T) {
	// unset, as a variable's value, takes the variable out of the
	// environment: the SDK tells a variable set empty from one not set.
	const unset = "(unset)"
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	serve(t, handFleet(false), ssmsim.Options{}) // STS
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	tests := []struct {
		name      string
		env       map[string]string
		args      []string
		want, not string
	}{
		{"--endpoint-url", nil, []string{"--endpoint-url", url}, "check --endpoint-url", "AWS_ENDPOINT_URL"},
		{"AWS_ENDPOINT_URL", map[string]string{"AWS_ENDPOINT_URL": url}, nil, "check AWS_ENDPOINT_URL,", "--endpoint-url"},
		{"AWS_ENDPOINT_URL_SSM", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ENDPOINT_URL_SSM": url}, nil, "check AWS_ENDPOINT_URL_SSM", "--endpoint-url"},
		{"the profile", map[string]string{"AWS_CONFIG_FILE": writeFile(t, "config", "[default]\nendpoint_url = "+url+"\n")}, nil,
			"check the endpoint_url of profile default,", "--endpoint-url"},
		// The SDK takes a service's own endpoint before the global one,
		// the profile's as the environment's, when AWS_ENDPOINT_URL_SSM
		// is in the environment (isolateAWS sets it empty)...
		{"the profile's services section", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:9",
			"AWS_CONFIG_FILE": writeFile(t, "config", "[default]\nservices = local\n\n[services local]\nssm =\n  endpoint_url = "+url+"\n")}, nil,
			"check the ssm endpoint_url of [services local] (profile default),", "AWS_ENDPOINT_URL"},
		// ...and AWS_ENDPOINT_URL over the services section when it is
		// not: the hint named the services section.
		{"AWS_ENDPOINT_URL over the profile's services section", map[string]string{"AWS_ENDPOINT_URL": url, "AWS_ENDPOINT_URL_SSM": unset,
			"AWS_CONFIG_FILE": writeFile(t, "config", "[default]\nservices = local\n\n[services local]\nssm =\n  endpoint_url = http://127.0.0.1:9\n")}, nil,
			"check AWS_ENDPOINT_URL,", "services"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v) // restored when the test ends
				if v == unset {
					os.Unsetenv(k)
				}
			}
			got := runCLI(t, "", append([]string{"run", "--instances", ids, "--region", "us-east-1", "--out", filepath.Join(t.TempDir(), "out"),
				"--max-attempts", "1", "--quiet"}, tt.args...)...)
			if got.code != int(exitFatal) || !strings.Contains(got.stderr, "cannot reach "+url+": connection refused; "+tt.want) || strings.Contains(got.stderr, tt.not) {
				t.Errorf("exit %d, want %d saying %q, not %q\n%s", got.code, exitFatal, tt.want, tt.not, got.stderr)
			}
		})
	}
}

// TestSplitFailsWhenTheAuditStops: a --split-by that failed after an
// audit cut short was never told: a run whose endpoint stopped answering
// said so and exited 3, and with --mail-to-label it said "no group is
// mailed: the split by owner failed (below)" with nothing below; one whose
// credentials were refused half-way said that alone. The split's error is
// told, and its exit (4) wins over the incomplete run's (3).
func TestSplitFailsWhenTheAuditStops(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 6, Size: 200})
	var list strings.Builder
	list.WriteString("instance_id,owner,owner_email\n")
	for i, id := range fleet.IDs() {
		fmt.Fprintf(&list, "%s,team%d,team%d@example.com\n", id, i%3, i%3)
	}
	listPath := writeFile(t, "fleet.csv", list.String())
	tests := []struct {
		name string
		mail bool
		// stop makes the audit stop after 60 calls.
		stop func(sim *ssmsim.Server, stopServer func())
		says string
	}{
		{"endpoint lost", false, func(_ *ssmsim.Server, stopServer func()) { go stopServer() }, "stopped answering"},
		{"endpoint lost, mail to label", true, func(_ *ssmsim.Server, stopServer func()) { go stopServer() }, "stopped answering"},
		{"credentials refused", false, func(sim *ssmsim.Server, _ func()) {
			sim.DenyAccessKey("AKIATESTTESTTESTTEST", "UnrecognizedClientException")
		}, "UnrecognizedClientException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			split := report.SplitDir(out, "owner")
			sim := ssmsim.NewServer(fleet, ssmsim.Options{})
			var served atomic.Int64
			var stop func()
			var once sync.Once
			handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".DescribeInstanceAssociationsStatus") {
					// Someone else's directory where the split goes, made
					// once the run has checked that there is none.
					once.Do(func() {
						os.MkdirAll(split, 0o777)
						os.WriteFile(filepath.Join(split, "keep.txt"), []byte("x"), 0o644)
					})
				}
				if served.Add(1) == 60 {
					tt.stop(sim, stop)
				}
				sim.ServeHTTP(w, r)
			})
			var url string
			url, stop = stoppableServer(t, handler)
			t.Setenv("AWS_ENDPOINT_URL_STS", url)
			args := []string{"run", "--instances", listPath, "--endpoint-url", url, "--region", "us-east-1", "--out", out,
				"--max-attempts", "2", "--concurrency", "2", "--fail-on", "none", "--quiet", "--split-by", "owner"}
			if tt.mail {
				ms := newMailSetup(t, smtptest.Options{})
				args = append(append(args, "--mail-to-label", "owner_email", "--mail-to", "ops@example.com"), ms.args...)
			}
			got := runCLI(t, "", args...)
			if got.code != int(exitFatal) {
				t.Errorf("exit %d, want %d (the owners' reports could not be written)\n%s", got.code, exitFatal, got.stderr)
			}
			if !strings.Contains(got.stderr, tt.says) {
				t.Errorf("stderr does not say %q:\n%s", tt.says, got.stderr)
			}
			_, below, ok := strings.Cut(got.stderr, "the split by owner failed (below)")
			if !tt.mail {
				below, ok = got.stderr, true
			}
			if !ok || !strings.Contains(below, `split by "owner": `) || !strings.Contains(below, "was not made by a split") {
				t.Errorf("stderr does not say why the split failed:\n%s", got.stderr)
			}
		})
	}
}

// TestUnreachableComparesNothing: a run that audited nothing (its endpoint
// unreachable from the first call) compared nothing with its baseline; it
// said "0 new failures, 0 resolved, compared with the run of DATE", which
// a cron mail reads as a comparison that found nothing changed.
func TestUnreachableComparesNothing(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	first := filepath.Join(t.TempDir(), "first")
	args := []string{"run", "--instances", ids, "--region", "us-east-1", "--fail-on", "none", "--quiet"}
	if got := runCLI(t, "", append(args, "--endpoint-url", url, "--out", first)...); got.code != int(exitOK) {
		t.Fatalf("the baseline's run: exit %d\n%s", got.code, got.stderr)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	got := runCLI(t, "", append(args, "--endpoint-url", closed, "--out", filepath.Join(t.TempDir(), "second"), "--baseline", first)...)
	if got.code != int(exitFatal) {
		t.Fatalf("exit %d, want %d\n%s", got.code, exitFatal, got.stderr)
	}
	checkSays(t, got.stderr, []string{"cannot reach"}, []string{"new failure", "compared with"})
}
