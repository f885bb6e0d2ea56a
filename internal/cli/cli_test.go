package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/internal/dirlock"
	"github.com/auditor-dev/auditor/ssmsim"
)

// isolateAWS points the AWS configuration chain at nothing but the given
// static keys, so that the machine's own AWS setup cannot change a test.
func isolateAWS(t *testing.T, keyID string) {
	t.Helper()
	empty := filepath.Join(t.TempDir(), "empty")
	os.WriteFile(empty, nil, 0o600)
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           keyID,
		"AWS_SECRET_ACCESS_KEY":       "test-secret",
		"AWS_SESSION_TOKEN":           "",
		"AWS_PROFILE":                 "",
		"AWS_DEFAULT_PROFILE":         "",
		"AWS_REGION":                  "",
		"AWS_DEFAULT_REGION":          "",
		"AWS_CONFIG_FILE":             empty,
		"AWS_SHARED_CREDENTIALS_FILE": empty,
		"AWS_ENDPOINT_URL":            "",
		"AWS_ENDPOINT_URL_SSM":        "",
		"AWS_ENDPOINT_URL_STS":        "",
		"AWS_ENDPOINT_URL_EC2":        "",
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_CA_BUNDLE":               "",
	} {
		t.Setenv(k, v)
	}
}

// shortN is full, or short under -short: fleets big enough to hold every
// case the test checks, smaller when only a quick check is asked for.
func shortN(full, short int) int {
	if testing.Short() {
		return short
	}
	return full
}

type cliResult struct {
	code           int
	stdout, stderr string
}

// runCLI runs the command in this process. Under -short, an audit that
// does not set --rate gets a fixed one: the adaptive limiter's slow start
// (about a second a run, waiting, not working) would be most of the
// package's time; the limiter has tests of its own, and the full run keeps
// the default.
func runCLI(t *testing.T, stdin string, args ...string) cliResult {
	t.Helper()
	if testing.Short() && len(args) > 0 && (args[0] == "run" || args[0] == "demo") && !slices.ContainsFunc(args, func(a string) bool {
		return a == "--rate" || strings.HasPrefix(a, "--rate=") || a == "--help" || a == "--generate-cli-skeleton"
	}) {
		args = append(slices.Clone(args), "--rate", "2000")
	}
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := run(ctx, args, strings.NewReader(stdin), &out, &errb)
	return cliResult{code, out.String(), errb.String()}
}

// handFleet is a fleet built by hand: one compliant instance, one failed,
// one unmanaged.
func handFleet(failed bool) *ssmsim.Fleet {
	f := ssmsim.NewFleet(ssmsim.FleetConfig{})
	d := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	status := "Success"
	if failed {
		status = "Failed"
	}
	f.Add(ssmsim.Instance{InstanceID: "i-0123456789abcdef0", Associations: []ssmsim.Association{
		{AssociationID: "11111111-1111-1111-1111-111111111111", Name: "AWS-RunPatchBaseline", InstanceID: "i-0123456789abcdef0", Status: "Success", DetailedStatus: "Success", ExecutionDate: d},
		{AssociationID: "22222222-2222-2222-2222-222222222222", Name: "AWS-UpdateSSMAgent", InstanceID: "i-0123456789abcdef0", Status: status, DetailedStatus: status, ErrorCode: "=HYPERLINK(\"x\")", ExecutionSummary: "-1+2", ExecutionDate: d},
	}})
	f.Add(ssmsim.Instance{InstanceID: "i-0123456789abcdef1", Associations: []ssmsim.Association{
		{AssociationID: "33333333-3333-3333-3333-333333333333", Name: "AWS-GatherSoftwareInventory", InstanceID: "i-0123456789abcdef1", Status: "Success", DetailedStatus: "Success", ExecutionDate: d},
	}})
	return f
}

// serve serves f and points STS at it too (AWS_ENDPOINT_URL_STS), so that
// the run learns its account from the simulator, not from AWS.
func serve(t *testing.T, f *ssmsim.Fleet, opts ssmsim.Options) (string, *ssmsim.Server) {
	t.Helper()
	srv := ssmsim.NewServer(f, opts)
	url, stop, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	t.Setenv("AWS_ENDPOINT_URL_STS", url)
	return url, srv
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExitCodes(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	clean, _ := serve(t, handFleet(false), ssmsim.Options{})
	failing, _ := serve(t, handFleet(true), ssmsim.Options{})
	denied, _ := serve(t, handFleet(false), ssmsim.Options{DenyAccessKeys: map[string]string{"AKIATESTTESTTESTTEST": "UnrecognizedClientException"}})
	broken, _ := serve(t, handFleet(false), ssmsim.Options{Faults: ssmsim.Faults{ErrorRate: 1}})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	withUnmanaged := writeFile(t, "ids2.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\ni-0000000000000dead\n")
	bad := writeFile(t, "bad.txt", "i-0123456789abcdef0\ni-12345\n")
	notDir := writeFile(t, "file", "")

	tests := []struct {
		name      string
		args      []string
		want      int
		wantInErr string
	}{
		{"clean fleet", []string{"--instances", ids, "--endpoint-url", clean}, 0, "audited 2 instances"},
		{"failed association", []string{"--instances", ids, "--endpoint-url", failing}, 1, "1 noncompliant"},
		{"not managed is no finding by default", []string{"--instances", withUnmanaged, "--endpoint-url", clean}, 0, "1 not_managed"},
		{"not managed with --fail-on", []string{"--instances", withUnmanaged, "--endpoint-url", clean, "--fail-on", "not_managed"}, 1, "1 not_managed"},
		{"fail-on none", []string{"--instances", ids, "--endpoint-url", failing, "--fail-on", "none"}, 0, ""},
		{"bad input line", []string{"--instances", bad, "--endpoint-url", clean}, 2, `bad.txt:2: "i-12345"`},
		{"bad input skipped", []string{"--instances", bad, "--endpoint-url", clean, "--skip-invalid"}, 0, "1 invalid"},
		{"no targets", []string{"--endpoint-url", clean}, 2, "no instances to audit"},
		{"empty list", []string{"--instances", writeFile(t, "e.txt", "# nothing\n\n"), "--endpoint-url", clean}, 2, "held no instance IDs"},
		// "- held no instance IDs" did not say it was standard input.
		{"empty stdin", []string{"--instances", "-", "--endpoint-url", clean}, 2, "standard input held no instance IDs"},
		{"max-results too big", []string{"--instances", ids, "--max-results", "51"}, 2, "--max-results 51"},
		{"unknown flag", []string{"--instances", ids, "--bogus"}, 2, "bogus"},
		{"unknown format", []string{"--instances", ids, "--format", "pdf"}, 2, "pdf"},
		{"bad fail-on", []string{"--instances", ids, "--fail-on", "sometimes"}, 2, "sometimes"},
		{"insecure endpoint", []string{"--instances", ids, "--endpoint-url", "http://10.1.2.3:80"}, 2, "in clear"},
		{"server errors leave it incomplete", []string{"--instances", ids, "--endpoint-url", broken, "--max-attempts", "2"}, 3, "2 error"},
		{"bad credentials", []string{"--instances", ids, "--endpoint-url", denied}, 4, "UnrecognizedClientException"},
		{"output under a file", []string{"--instances", ids, "--endpoint-url", clean, "--out", filepath.Join(notDir, "sub")}, 2, "name a directory"},
		{"stdin list", []string{"--instances", "-", "--endpoint-url", clean}, 0, "audited 2 instances"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"run", "--region", "us-east-1", "--quiet"}, tt.args...)
			if !contains(tt.args, "--out") {
				args = append(args, "--out", filepath.Join(t.TempDir(), "out"))
			}
			stdin := ""
			if contains(tt.args, "-") && tt.name != "empty stdin" {
				stdin = "i-0123456789abcdef0\ni-0123456789abcdef1\n"
			}
			got := runCLI(t, stdin, args...)
			if got.code != tt.want {
				t.Fatalf("exit %d, want %d\nstderr:\n%s", got.code, tt.want, got.stderr)
			}
			if !strings.Contains(got.stderr, tt.wantInErr) {
				t.Errorf("stderr does not say %q:\n%s", tt.wantInErr, got.stderr)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestRunWritesRecordAndCSV checks the record and the CSVs against the
// fleet's truth, field by field.
func TestRunWritesRecordAndCSV(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := handFleet(true)
	url, _ := serve(t, fleet, ssmsim.Options{})
	out := filepath.Join(t.TempDir(), "out")
	ids := writeFile(t, "ids.csv", "instance_id,owner\ni-0123456789abcdef1,team-b\ni-0123456789abcdef0,=team-a\ni-0123456789abcdef0,dup\n")
	got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--max-results", "1", "--quiet")
	if got.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", got.code, got.stderr)
	}
	for _, name := range []string{"results.jsonl", "run.json", "associations.csv", "instances.csv", "error_codes.csv"} {
		if !strings.Contains(got.stdout, filepath.Join(out, name)) {
			t.Errorf("stdout does not list %s:\n%s", name, got.stdout)
		}
	}
	rs, err := audit.OpenRecords(filepath.Join(out, "results.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	n := 0
	err = rs.Each(func(r audit.Result) error {
		n++
		truth := fleet.Associations(r.InstanceID)
		if len(r.Associations) != len(truth) || r.Pages != len(truth) {
			t.Errorf("%s: %d associations in %d pages, want %d", r.InstanceID, len(r.Associations), r.Pages, len(truth))
			return nil
		}
		for i, a := range r.Associations {
			w := truth[i]
			if a.AssociationID != w.AssociationID || a.Status != w.Status || a.ErrorCode != w.ErrorCode || a.ExecutionSummary != w.ExecutionSummary || !a.ExecutionDate.Equal(w.ExecutionDate) {
				t.Errorf("%s association %d = %+v, want %+v", r.InstanceID, i, a, w)
			}
		}
		return nil
	})
	if err != nil || n != 2 {
		t.Fatalf("%d results, err %v; want 2", n, err)
	}
	ri, err := audit.ReadRunInfo(filepath.Join(out, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ri.Schema != audit.Schema || !ri.Complete || ri.Duplicates != 1 || ri.Outcomes[audit.OutcomeNoncompliant] != 1 || ri.Stats.Pages != 3 {
		t.Errorf("run.json = %+v", ri)
	}

	f, _ := os.Open(filepath.Join(out, "instances.csv"))
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := "account_id,region,instance_id,outcome,associations,success,failed,pending,other,stale,error_codes,partial,error_code,error_message,detail,ping_status,agent_version,owner"
	if h := strings.Join(rows[0], ","); h != wantHeader {
		t.Errorf("instances.csv header %q, want %q", h, wantHeader)
	}
	if len(rows) != 3 || rows[1][2] != "i-0123456789abcdef0" || rows[1][17] != "'=team-a" || rows[2][17] != "team-b" {
		t.Errorf("instances.csv rows = %q", rows[1:])
	}
}

func TestExistingRecordNeedsResume(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, srv := serve(t, handFleet(false), ssmsim.Options{})
	out := filepath.Join(t.TempDir(), "out")
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	args := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet"}
	if got := runCLI(t, "", args...); got.code != 0 {
		t.Fatalf("first run: exit %d\n%s", got.code, got.stderr)
	}
	got := runCLI(t, "", args...)
	if got.code != 2 || !strings.Contains(got.stderr, "--resume") {
		t.Fatalf("second run without --resume: exit %d, want 2 and a hint to --resume\n%s", got.code, got.stderr)
	}
	before := srv.Stats().Calls[ssmsim.OpDescribeInstanceAssociationsStatus]
	got = runCLI(t, "", append(args, "--resume")...)
	if got.code != 0 {
		t.Fatalf("resume: exit %d\n%s", got.code, got.stderr)
	}
	if after := srv.Stats().Calls[ssmsim.OpDescribeInstanceAssociationsStatus]; after != before {
		t.Errorf("resume of a finished run made %d calls, want none", after-before)
	}
	// Its summary says it audited none itself, not both in no time with
	// no call (run.json's stats are this run's).
	if got := runCLI(t, "", append(args[:len(args)-1], "--resume")...); !strings.Contains(got.stderr, "audited 0 instances") || !strings.Contains(got.stderr, "2 from earlier runs") {
		t.Errorf("resume of a finished run says:\n%s\nwant audited 0 instances, 2 from earlier runs", got.stderr)
	}
}

func TestHelpAndVersion(t *testing.T) {
	if got := runCLI(t, "", "--help"); got.code != 0 || !strings.Contains(got.stdout, "Examples:") {
		t.Errorf("--help: exit %d, stdout %q", got.code, got.stdout)
	}
	if got := runCLI(t, "", "run", "--help"); got.code != 0 || !strings.Contains(got.stdout, "-instances") {
		t.Errorf("run --help: exit %d, stdout %q", got.code, got.stdout)
	}
	if got := runCLI(t, "", "--version"); got.code != 0 || !strings.HasPrefix(got.stdout, "auditor ") {
		t.Errorf("--version: exit %d, stdout %q", got.code, got.stdout)
	}
	if got := runCLI(t, ""); got.code != 2 {
		t.Errorf("no command: exit %d, want 2", got.code)
	}
	if got := runCLI(t, "", "frobnicate"); got.code != 2 || !strings.Contains(got.stderr, "unknown command") {
		t.Errorf("unknown command: exit %d, stderr %q", got.code, got.stderr)
	}
}

func TestDemo(t *testing.T) {
	t.Setenv("AWS_PROFILE", "does-not-exist") // the demo must not read it
	out := filepath.Join(t.TempDir(), "demo")
	got := runCLI(t, "", "demo", "--fleet-size", "60", "--out", out, "--quiet")
	if got.code != 0 {
		t.Fatalf("demo: exit %d\n%s", got.code, got.stderr)
	}
	for _, name := range []string{"results.jsonl", "run.json", "associations.csv", "instances.csv", "error_codes.csv"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Errorf("demo did not write %s: %v", name, err)
		}
	}
	if !strings.Contains(got.stderr, "open "+filepath.Join(out, "report.html")) {
		t.Errorf("demo does not name the file to open:\n%s", got.stderr)
	}
	// Run again into the same directory: a fresh record, not an appended one.
	if got := runCLI(t, "", "demo", "--fleet-size", "60", "--out", out, "--quiet"); got.code != 0 {
		t.Fatalf("second demo: exit %d\n%s", got.code, got.stderr)
	}
	rs, err := audit.OpenRecords(filepath.Join(out, "results.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	if rs.Len() != 60 {
		t.Errorf("demo record has %d instances, want 60", rs.Len())
	}
}

// TestDemoOrganisation: auditor demo --accounts 3 --regions 2 audits a
// simulated organisation end to end: accounts from Organizations, a role
// assumed in each, every node discovered in both regions.
func TestDemoOrganisation(t *testing.T) {
	t.Setenv("AWS_PROFILE", "does-not-exist") // the demo must not read it
	out := filepath.Join(t.TempDir(), "demo")
	got := runCLI(t, "", "demo", "--accounts", "3", "--regions", "2", "--fleet-size", "120", "--out", out, "--quiet")
	if got.code != 0 {
		t.Fatalf("exit %d\n%s", got.code, got.stderr)
	}
	ri, err := audit.ReadRunInfo(filepath.Join(out, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	sites := map[string]bool{}
	for _, s := range ri.Sites {
		if s.Results > 0 {
			sites[s.AccountID+"/"+s.Region] = true
		}
	}
	if len(sites) != 6 || !ri.Complete {
		t.Errorf("audited %d account-regions (%v), complete %v; want 3 accounts x 2 regions", len(sites), sites, ri.Complete)
	}
}

// TestCustomCABundle: a CA bundle in the AWS configuration (as behind a
// corporate TLS proxy) must still load; the SDK applies it only to the HTTP
// client type it builds itself.
func TestCustomCABundle(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	tls := httptest.NewTLSServer(http.NotFoundHandler())
	tls.Close()
	pemFile := writeFile(t, "ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tls.Certificate().Raw})))
	t.Setenv("AWS_CA_BUNDLE", pemFile)
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	got := runCLI(t, "", "run", "--instance-id", "i-0123456789abcdef0", "--endpoint-url", url, "--region", "us-east-1", "--out", filepath.Join(t.TempDir(), "out"), "--quiet")
	if got.code != 0 {
		t.Fatalf("exit %d with AWS_CA_BUNDLE set, want 0\n%s", got.code, got.stderr)
	}
}

// TestNoSecretsInOutput: the secret key and session token appear in no
// output file and in neither stream.
func TestNoSecretsInOutput(t *testing.T) {
	isolateAWS(t, "AKIASECRETCANARYKEY1")
	const secret, token = "wJalrXUtnFEMI-canary-secret-0123456789", "FwoGZXIvYXdzE-canary-session-token"
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	t.Setenv("AWS_SESSION_TOKEN", token)
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", "run", "--instance-id", "i-0123456789abcdef0", "--instance-id", "i-0000000000000dead", "--endpoint-url", url, "--region", "us-east-1", "--out", out)
	if got.code != 1 {
		t.Fatalf("exit %d\n%s", got.code, got.stderr)
	}
	check := func(where, text string) {
		for _, s := range []string{secret, token} {
			if strings.Contains(text, s) {
				t.Errorf("%s holds a secret", where)
			}
		}
	}
	check("stdout", got.stdout)
	check("stderr", got.stderr)
	entries, err := os.ReadDir(out)
	if err != nil || len(entries) < 8 {
		t.Fatalf("%d files in the output (%v)", len(entries), err)
	}
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(out, e.Name()))
		check(e.Name(), string(b))
	}
}

func TestTimeoutIsIncomplete(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 3, Size: 40})
	url, srv := serveStallable(t, fleet, ssmsim.Options{})
	srv.StallFrom(11)
	ids := filepath.Join(t.TempDir(), "ids.txt")
	writeIDs(ids, fleet)
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--concurrency", "2", "--timeout", stallTimeout.String(), "--grace", "0s", "--quiet")
	if got.code != 3 || !strings.Contains(got.stderr, "--timeout") {
		t.Fatalf("exit %d, want 3 and a word on --timeout\n%s", got.code, got.stderr)
	}
	ri, err := audit.ReadRunInfo(filepath.Join(out, "run.json"))
	if err != nil || ri.Complete || !ri.Interrupted {
		t.Errorf("run.json complete %v interrupted %v (%v), want false and true", ri.Complete, ri.Interrupted, err)
	}
	if n := countLines(filepath.Join(out, "results.jsonl")); n == 0 || n >= fleet.Len() {
		t.Errorf("%d of %d instances recorded before the timeout", n, fleet.Len())
	}
}

// TestSkipInvalidOddLines: empty and repeated bad values are each recorded,
// the reports render, and a resume reads the record back.
func TestSkipInvalidOddLines(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	list := writeFile(t, "ids.csv", "instance_id,owner\ni-0123456789abcdef0,a\n,b\ni-bad,c\ni-bad,d\n")
	out := filepath.Join(t.TempDir(), "out")
	args := []string{"run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--skip-invalid", "--quiet"}
	got := runCLI(t, "", args...)
	if got.code != 0 {
		t.Fatalf("exit %d\n%s", got.code, got.stderr)
	}
	ri, err := audit.ReadRunInfo(filepath.Join(out, "run.json"))
	if err != nil || ri.Outcomes[audit.OutcomeInvalid] != 3 || !ri.Complete {
		t.Errorf("run.json: %d invalid, complete %v (%v); want 3 and true", ri.Outcomes[audit.OutcomeInvalid], ri.Complete, err)
	}
	got = runCLI(t, "", append(args[:len(args)-1], "--resume")...)
	if got.code != 0 {
		t.Fatalf("resume: exit %d\n%s", got.code, got.stderr)
	}
	// The invalid lines, recorded again, were not audited by the resume.
	if !strings.Contains(got.stderr, "audited 0 instances") {
		t.Errorf("resume says:\n%s\nwant audited 0 instances", got.stderr)
	}
}

// TestResumeRegionFromEnvironment: a record whose region came from
// AWS_REGION is matched on resume, so nothing is fetched again.
func TestResumeRegionFromEnvironment(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	t.Setenv("AWS_REGION", "eu-west-1")
	url, srv := serve(t, handFleet(false), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	out := filepath.Join(t.TempDir(), "out")
	args := []string{"run", "--instances", ids, "--endpoint-url", url, "--out", out, "--quiet"}
	if got := runCLI(t, "", args...); got.code != 0 {
		t.Fatalf("exit %d\n%s", got.code, got.stderr)
	}
	before := srv.Stats().Calls[ssmsim.OpDescribeInstanceAssociationsStatus]
	if got := runCLI(t, "", append(args, "--resume")...); got.code != 0 {
		t.Fatalf("resume: exit %d\n%s", got.code, got.stderr)
	}
	if n := srv.Stats().Calls[ssmsim.OpDescribeInstanceAssociationsStatus] - before; n != 0 {
		t.Errorf("the resume made %d calls, want none", n)
	}
	if n := countLines(filepath.Join(out, "results.jsonl")); n != 2 {
		t.Errorf("record has %d lines after the resume, want 2", n)
	}
}

// TestResumeCountsTornLine: --resume of a record that ends in a torn line
// cuts it off, says so in its log, and run.json's torn counts it; torn was
// empty, as the record had been reopened after the cut and its count,
// none by then, written instead.
func TestResumeCountsTornLine(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids, url, _ := scheduledFleet(t, 30)
	full, out := filepath.Join(t.TempDir(), "full"), filepath.Join(t.TempDir(), "out")
	args := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--fail-on", "none"}
	if got := runCLI(t, "", append(args, "--out", full, "--quiet")...); got.code != 0 {
		t.Fatalf("full run: exit %d\n%s", got.code, got.stderr)
	}
	record, err := os.ReadFile(filepath.Join(full, audit.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(record), "\n")
	cut := strings.Join(lines[:10], "") + lines[10][:len(lines[10])/2]
	os.MkdirAll(out, 0o777)
	if err := os.WriteFile(filepath.Join(out, audit.ResultsFile), []byte(cut), 0o644); err != nil {
		t.Fatal(err)
	}
	got := runCLI(t, "", append(args, "--out", out, "--resume")...)
	if got.code != 0 {
		t.Fatalf("resume: exit %d\n%s", got.code, got.stderr)
	}
	if !strings.Contains(got.stderr, "torn lines dropped: 1") {
		t.Errorf("the log does not say the torn line was dropped:\n%s", got.stderr)
	}
	checkLines(t, filepath.Join(out, audit.ResultsFile), false)
	ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	if ri.Torn != 1 || !ri.Complete {
		t.Errorf("run.json torn %d, complete %v; want 1 and complete", ri.Torn, ri.Complete)
	}
}

func TestReportMergeSafety(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 4, Size: 30})
	url, _ := serve(t, fleet, ssmsim.Options{})
	ids := filepath.Join(t.TempDir(), "ids.txt")
	writeIDs(ids, fleet)
	root := t.TempDir()
	shard := func(k int) string {
		dir := filepath.Join(root, "s"+string(rune('0'+k)))
		got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", dir, "--shard", string(rune('0'+k))+"/2", "--fail-on", "none", "--quiet")
		if got.code != 0 {
			t.Fatalf("shard %d: exit %d\n%s", k, got.code, got.stderr)
		}
		return filepath.Join(dir, "results.jsonl")
	}
	s0, s1 := shard(0), shard(1)

	// Merging into a directory that holds another record is refused.
	got := runCLI(t, "", "report", s1, "--out", filepath.Dir(s0), "--quiet")
	if got.code != 2 || !strings.Contains(got.stderr, "already holds a record") {
		t.Errorf("merge over an unrelated record: exit %d\n%s", got.code, got.stderr)
	}
	// Merging into one of the inputs' directories keeps every shard.
	got = runCLI(t, "", "report", s0, s1, "--out", filepath.Dir(s0), "--fail-on", "none", "--quiet")
	if got.code != 0 {
		t.Fatalf("merge into s0: exit %d\n%s", got.code, got.stderr)
	}
	if n := countLines(s0); n != fleet.Len() {
		t.Errorf("merged record has %d instances, want %d", n, fleet.Len())
	}

	// A shard cut short makes the merge incomplete: exit 3.
	b, _ := os.ReadFile(s1)
	lines := strings.SplitAfter(string(b), "\n")
	os.WriteFile(s1, []byte(strings.Join(lines[:len(lines)/2], "")), 0o644)
	got = runCLI(t, "", "report", s1, "--out", filepath.Join(root, "cut"), "--fail-on", "none", "--quiet")
	if got.code != 3 {
		t.Errorf("merge of a cut shard: exit %d, want 3\n%s", got.code, got.stderr)
	}
}

func TestOutputLockedByAnotherRun(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	out := t.TempDir()
	unlock, err := dirlock.Lock(out)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	got := runCLI(t, "", "run", "--instance-id", "i-0123456789abcdef0", "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet")
	if got.code != 4 || !strings.Contains(got.stderr, "in use") {
		t.Errorf("run into a locked directory: exit %d, want 4 saying it is in use\n%s", got.code, got.stderr)
	}
}
