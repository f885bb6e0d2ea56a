package cli

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// foreignAnswerRun runs an audit of 200 instances against answer, which
// answers every call, and returns the result, the calls made and the
// outcomes recorded.
func foreignAnswerRun(t *testing.T, answer http.HandlerFunc, extra ...string) (cliResult, int64, map[audit.Outcome]int, string) {
	t.Helper()
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	serve(t, handFleet(false), ssmsim.Options{}) // STS
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 6, Size: 200})
	var ids bytes.Buffer
	fleet.WriteIDs(&ids)
	list := writeFile(t, "ids.txt", ids.String())
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		answer(w, r)
	}))
	defer srv.Close()
	out := filepath.Join(t.TempDir(), "out")
	args := append([]string{"run", "--instances", list, "--endpoint-url", srv.URL, "--region", "us-east-1", "--out", out,
		"--concurrency", "4", "--fail-on", "none", "--quiet", "--format", "csv"}, extra...)
	got := runCLI(t, "", args...)
	outcomes := map[audit.Outcome]int{}
	code := ""
	if rs, err := audit.OpenRecords(filepath.Join(out, audit.ResultsFile)); err == nil {
		rs.Each(func(r audit.Result) error {
			outcomes[r.Outcome]++
			if r.Error != nil {
				code = r.Error.Code
			}
			return nil
		})
		rs.Close()
	}
	return got, calls.Load(), outcomes, code
}

// TestForeignAnswerIsNoVerdict: an answer of HTTP 200 that is not SSM's (a
// health check's, a captive portal's, a load balancer's sent to the wrong
// target group) was read as an instance without associations: every
// instance no_associations, exit 0, a clean-looking audit of nothing. SSM
// always names its request (x-amzn-RequestId) and lists the statuses,
// an empty list too; an answer with neither is not SSM's protocol, and
// opens the circuit as a proxy's page does.
func TestForeignAnswerIsNoVerdict(t *testing.T) {
	for _, tc := range []struct {
		name, contentType, body string
	}{
		{"empty text", "text/plain", ""},
		{"another JSON", "application/json", `{"status":"ok"}`},
		{"JSON of AWS's content type", "application/x-amz-json-1.1", `{"message":"hello"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, calls, outcomes, code := foreignAnswerRun(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", tc.contentType)
				fmt.Fprint(w, tc.body)
			})
			if got.code != int(exitIncomplete) || !strings.Contains(got.stderr, "not SSM's protocol") {
				t.Fatalf("exit %d, want %d saying the answers are not SSM's protocol; outcomes %v\n%s", got.code, exitIncomplete, outcomes, got.stderr)
			}
			if outcomes[audit.OutcomeNoAssociations] > 0 || code != audit.CodeBadResponse {
				t.Errorf("outcomes %v, error code %q; want no no_associations, errors %s", outcomes, code, audit.CodeBadResponse)
			}
			if calls > 5+4 {
				t.Errorf("%d calls, want the circuit open after 5 instances (and 4 at once)", calls)
			}
		})
	}
}

// TestProxy429PageOpensTheCircuit: a proxy or load balancer answering
// every call HTTP 429 with an HTML page was taken for SSM's throttling
// alone: each instance took every attempt and the limiter's cuts, and the
// circuit, which counts answers not in SSM's protocol whatever their
// status, never opened (500 instances: 16 audited in 5 minutes, about 2
// hours in all). Such an answer is paced as a throttle and counts towards
// the circuit too.
func TestProxy429PageOpensTheCircuit(t *testing.T) {
	const attempts = 2
	got, calls, outcomes, code := foreignAnswerRun(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, "<html><body>Too Many Requests</body></html>")
	}, "--max-attempts", strconv.Itoa(attempts), "--rate", "1000")
	if want := "answered HTTP 429 with text/html"; got.code != int(exitIncomplete) || !strings.Contains(got.stderr, want) {
		t.Fatalf("exit %d, want %d saying %q; outcomes %v\n%s", got.code, exitIncomplete, want, outcomes, got.stderr)
	}
	if calls > (5+4)*attempts || code != audit.CodeBadResponse {
		t.Errorf("%d calls, error code %q; want at most (5 + concurrency) x attempts = %d, %s", calls, code, (5+4)*attempts, audit.CodeBadResponse)
	}
}

// TestAnswerWithOneSignTakenAsItIs: either sign of SSM alone, its request
// ID or the list it always answers, takes an answer as SSM's: an endpoint
// that sends no request ID (a proxy that strips headers, a simulator) or
// an empty answer that names its request is read as it is, not refused.
func TestAnswerWithOneSignTakenAsItIs(t *testing.T) {
	for _, tc := range []struct {
		name      string
		requestID string
		body      string
	}{
		{"the list without a request ID", "", `{"InstanceAssociationStatusInfos":[]}`},
		{"a request ID without the list", "0d5a6f3e-1b2c-4d5e-8f90-123456789abc", `{}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _, outcomes, _ := foreignAnswerRun(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/x-amz-json-1.1")
				if tc.requestID != "" {
					w.Header().Set("X-Amzn-Requestid", tc.requestID)
				}
				fmt.Fprint(w, tc.body)
			})
			if got.code != int(exitOK) || outcomes[audit.OutcomeNoAssociations] != 200 {
				t.Errorf("exit %d, outcomes %v; want 0 and every instance no_associations\n%s", got.code, outcomes, got.stderr)
			}
		})
	}
}
