package cli

// Regression tests for "lose nothing, leak nothing": each reproduces a way
// an unlucky or hostile user could lose a record, leak a secret or get a
// wrong verdict, through the CLI's run function or the built binary.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/internal/dirlock"
	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
)

// runCtx is runCLI with a context of the test's choosing.
func runCtx(ctx context.Context, stdin io.Reader, args ...string) cliResult {
	var out, errb bytes.Buffer
	code := run(ctx, args, stdin, &out, &errb)
	return cliResult{code, out.String(), errb.String()}
}

// genFleet serves a generated fleet of n instances and writes its IDs.
func genFleet(t *testing.T, n int, opts ssmsim.Options) (url, ids string, fleet *ssmsim.Fleet, srv *ssmsim.Server) {
	t.Helper()
	fleet = ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 3, Size: n})
	url, srv = serve(t, fleet, opts)
	var b bytes.Buffer
	fleet.WriteIDs(&b)
	ids = writeFile(t, "ids.txt", b.String())
	return url, ids, fleet, srv
}

// snapshot returns every file of dir (not its lock) with its bytes.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == ".auditor.lock" || e.IsDir() {
			continue
		}
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		m[e.Name()] = string(b)
	}
	return m
}

func sameSnapshot(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestDemoRefusesARealAudit: `auditor demo --out DIR` once replaced a real
// audit's record and reports, and deleted a live run's record before it even
// took the lock.
func TestDemoRefusesARealAudit(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	prod := filepath.Join(t.TempDir(), "prod")
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	if got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", prod, "--quiet"); got.code != 1 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	before := snapshot(t, prod)
	got := runCLI(t, "", "demo", "--fleet-size", "20", "--out", prod, "--quiet")
	if got.code != 2 || !strings.Contains(got.stderr, "not a directory of the demo") {
		t.Errorf("demo into a real audit's directory: exit %d, want 2\n%s", got.code, got.stderr)
	}
	if after := snapshot(t, prod); !sameSnapshot(before, after) {
		t.Errorf("the demo changed a real audit's files: %d files before, %d after", len(before), len(after))
	}

	// Its own directory, held by a live run: nothing is deleted before the
	// lock is taken.
	demo := filepath.Join(t.TempDir(), "demo")
	if got := runCLI(t, "", "demo", "--fleet-size", "20", "--out", demo, "--quiet"); got.code != 0 {
		t.Fatalf("demo: exit %d\n%s", got.code, got.stderr)
	}
	before = snapshot(t, demo)
	unlock, err := dirlock.Lock(demo)
	if err != nil {
		t.Fatal(err)
	}
	got = runCLI(t, "", "demo", "--fleet-size", "20", "--out", demo, "--quiet")
	unlock()
	if got.code != 4 || !strings.Contains(got.stderr, "in use") {
		t.Errorf("demo into a locked directory: exit %d, want 4\n%s", got.code, got.stderr)
	}
	if after := snapshot(t, demo); !sameSnapshot(before, after) {
		t.Error("the demo deleted files of a directory another process held")
	}
	// And a demo directory is the demo's to replace.
	if got := runCLI(t, "", "demo", "--fleet-size", "20", "--out", demo, "--quiet"); got.code != 0 {
		t.Errorf("demo into its own directory: exit %d\n%s", got.code, got.stderr)
	}
}

// credentialHelper writes a credential_process script and an AWS config
// that uses it. The script answers good credentials that expire after
// goodFor for its first good calls, then behaves as bad says: "junk" prints
// unparseable output with the secret in it, "fail" exits 1.
func credentialHelper(t *testing.T, good int, goodFor time.Duration, bad string) (secret string) {
	t.Helper()
	dir := t.TempDir()
	secret = "SEKRET-" + fmt.Sprint(time.Now().UnixNano())
	counter := filepath.Join(dir, "calls")
	script := filepath.Join(dir, "creds.sh")
	badPart := `echo '{"Version": 1, "AccessKeyId": "AKIAHELPERHELPER0001", "SecretAccessKey": "` + secret + `", oops'`
	if bad == "fail" {
		badPart = `exit 1`
	}
	body := `#!/bin/sh
n=$(cat ` + counter + ` 2>/dev/null || echo 0)
n=$((n+1))
echo $n > ` + counter + `
if [ $n -le ` + fmt.Sprint(good) + ` ]; then
  exp=$(date -u -d "@$(( $(date +%s) + ` + fmt.Sprint(int(goodFor.Seconds())) + ` ))" +%Y-%m-%dT%H:%M:%SZ)
  echo '{"Version": 1, "AccessKeyId": "AKIAHELPERHELPER0001", "SecretAccessKey": "` + secret + `", "SessionToken": "tok", "Expiration": "'$exp'"}'
  exit 0
fi
` + badPart + "\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config")
	os.WriteFile(cfg, []byte("[profile helper]\ncredential_process = "+processCommand(script)+"\n"), 0o600)
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_CONFIG_FILE", cfg)
	return secret
}

// TestCredentialFailuresAreFatalAndSecret: a credential_process whose
// credentials expire mid-run and that then prints unparseable output (its
// input, secret key included) once put that text in the record, the CSVs,
// summary.json and the workbook of 220 of 300 instances; a helper that
// exits 1 (an expired SSO session) left 224 instances in error, exit 3.
func TestCredentialFailuresAreFatalAndSecret(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a credential helper for seconds; skipped under -short")
	}
	for _, bad := range []string{"junk", "fail"} {
		t.Run(bad, func(t *testing.T) {
			isolateAWS(t, "")
			url, ids, _, _ := genFleet(t, 120, ssmsim.Options{Faults: ssmsim.Faults{Latency: 30 * time.Millisecond}})
			// Good for one call, valid for 2 s (the SDK refreshes a little
			// before expiry), then bad: the run lasts about 2 s.
			secret := credentialHelper(t, 1, 2*time.Second, bad)
			out := filepath.Join(t.TempDir(), "out")
			got := runCLI(t, "", "run", "--profile", "helper", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1",
				"--out", out, "--concurrency", "1", "--quiet")
			if got.code != 4 {
				t.Fatalf("exit %d, want 4 (fatal)\n%s", got.code, got.stderr)
			}
			if !strings.Contains(got.stderr, "credential") || !strings.Contains(got.stderr, "helper") {
				t.Errorf("stderr does not name the credential source and the profile:\n%s", got.stderr)
			}
			if strings.Contains(got.stderr+got.stdout, secret) {
				t.Errorf("the secret reached the terminal:\n%s", got.stderr)
			}
			filepath.Walk(out, func(p string, info os.FileInfo, err error) error {
				if err == nil && !info.IsDir() {
					if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(secret)) {
						t.Errorf("the secret is in %s", filepath.Base(p))
					}
				}
				return nil
			})
			rs, err := audit.OpenRecords(filepath.Join(out, "results.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			defer rs.Close()
			if rs.Len() == 0 || rs.Len() >= 120 || rs.Outcomes()[audit.OutcomeError] != 0 {
				t.Errorf("record: %d results, %d in error; want some, none in error, the rest left for --resume", rs.Len(), rs.Outcomes()[audit.OutcomeError])
			}
		})
	}
}

// TestEndpointChecksEveryConfiguration: AWS_ENDPOINT_URL_SSM (and a
// profile's services section) once sent signed requests in clear to another
// machine while --endpoint-url was refused for the same address; and a
// password in an endpoint URL was copied into run.json and the reports.
func TestEndpointChecksEveryConfiguration(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	remote := "http://192.0.2.10:4700" // TEST-NET-1: never answers
	cfgFile := writeFile(t, "config", "[profile svc]\nservices = remote\n\n[services remote]\nssm =\n  endpoint_url = "+remote+"\n")
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"AWS_ENDPOINT_URL_SSM", map[string]string{"AWS_ENDPOINT_URL_SSM": remote}, nil, "in clear"},
		{"AWS_ENDPOINT_URL", map[string]string{"AWS_ENDPOINT_URL": remote}, nil, "in clear"},
		{"a profile's services section", map[string]string{"AWS_CONFIG_FILE": cfgFile}, []string{"--profile", "svc"}, "in clear"},
		{"password in --endpoint-url", nil, []string{"--endpoint-url", "https://alice:hunter2@ssm.example.com"}, "user name or password"},
		{"password in AWS_ENDPOINT_URL_SSM", map[string]string{"AWS_ENDPOINT_URL_SSM": "https://alice:hunter2@ssm.example.com"}, nil, "user name or password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			out := filepath.Join(t.TempDir(), "out")
			args := append([]string{"run", "--instances", ids, "--region", "us-east-1", "--out", out, "--quiet"}, tt.args...)
			got := runCLI(t, "", args...)
			if got.code != 2 || !strings.Contains(got.stderr, tt.want) {
				t.Errorf("exit %d, want 2 saying %q\n%s", got.code, tt.want, got.stderr)
			}
			if strings.Contains(got.stderr, "hunter2") {
				t.Errorf("the password reached stderr:\n%s", got.stderr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("a refused run left an output directory behind")
			}
		})
	}
}

// TestURLWithALoginRefused: a login that url.Parse does not read as one
// (a password with "#", "/" or "?", a token with "/" as the user name) made
// the host and port of an endpoint that passed: the run went on, said
// "cannot reach https://svc:2024" and recorded the URL whole in run.json
// and every report; the refusals of --smtp and --upload, and of plain http,
// printed it whole. Each such URL is refused before anything is written,
// and stderr repeats none of it.
func TestURLWithALoginRefused(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	secrets := []string{"Spring", "2024", "34", "en@", "1?x", "X-Amz-Security-Token=x"}
	type setting struct {
		name string
		args []string
		env  map[string]string
	}
	var settings []setting
	for _, login := range []string{"svc:2024#Spring@", "user:12/34@", "tok/en@", "user:1?x@"} {
		ssm := "https://" + login + "127.0.0.1:18080"
		settings = append(settings,
			setting{"--endpoint-url", []string{"--endpoint-url", ssm}, nil},
			setting{"--endpoint-url http", []string{"--endpoint-url", "http://" + login + "ssm.example.com"}, nil},
			setting{"AWS_ENDPOINT_URL_SSM", nil, map[string]string{"AWS_ENDPOINT_URL_SSM": ssm}},
			setting{"AWS_ENDPOINT_URL", nil, map[string]string{"AWS_ENDPOINT_URL": ssm}},
			setting{"--smtp", []string{"--endpoint-url", "http://127.0.0.1:18080", "--mail-to", "ops@example.com", "--mail-from", "audit@example.com",
				"--smtp", "smtp://" + login + "mail.example.com:587"}, nil},
			setting{"--upload", []string{"--endpoint-url", "http://127.0.0.1:18080", "--upload", "s3://" + login + "my-bucket/runs/"}, nil},
			// The other services' endpoints the run will call: STS's
			// always, S3's for --upload.
			setting{"AWS_ENDPOINT_URL_STS", []string{"--endpoint-url", "http://127.0.0.1:18080"}, map[string]string{"AWS_ENDPOINT_URL_STS": ssm}},
			setting{"AWS_ENDPOINT_URL_S3", []string{"--endpoint-url", "http://127.0.0.1:18080", "--upload", "s3://my-bucket/runs/"}, map[string]string{"AWS_ENDPOINT_URL_S3": ssm}},
		)
	}
	settings = append(settings, setting{"--endpoint-url with a token", []string{"--endpoint-url", "https://127.0.0.1:18080/?X-Amz-Security-Token=x"}, nil})
	for i, st := range settings {
		// Named by number: the name is in the path of the output, which
		// the run may print.
		t.Run(fmt.Sprintf("%s %d", st.name, i), func(t *testing.T) {
			for k, v := range st.env {
				t.Setenv(k, v)
			}
			out := filepath.Join(t.TempDir(), "out")
			args := append([]string{"run", "--instances", ids, "--region", "us-east-1", "--out", out, "--max-attempts", "1", "--quiet"}, st.args...)
			got := runCLI(t, "", args...)
			what := fmt.Sprintf("%q %q", st.args, st.env)
			if got.code != 2 {
				t.Errorf("%s: exit %d, want 2\n%s", what, got.code, got.stderr)
			}
			for _, s := range secrets {
				if strings.Contains(got.stderr+got.stdout, s) {
					t.Errorf("%s: the output repeats %q:\n%s%s", what, s, got.stdout, got.stderr)
				}
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s: a refused run left an output directory behind", what)
			}
		})
	}
}

// TestOneInstanceTwoTargets: the same ID bare in a text list and with the
// default region in a CSV list was audited twice and counted as two
// targets with one result, so the run was never complete (exit 3).
func TestOneInstanceTwoTargets(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	text := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	list := writeFile(t, "fleet.csv", "instance_id,region,owner\ni-0123456789abcdef0,us-east-1,alice\ni-0123456789abcdef1,,bob\n")
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", "run", "--instances", text, "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet")
	if got.code != 0 {
		t.Fatalf("exit %d, want 0\n%s", got.code, got.stderr)
	}
	ri, err := audit.ReadRunInfo(filepath.Join(out, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ri.Targets != 2 || ri.Duplicates != 1 || !ri.Complete {
		t.Errorf("run.json: %d targets, %d duplicates, complete %v; want 2, 1, true", ri.Targets, ri.Duplicates, ri.Complete)
	}
}

// TestResumeRelabels: an owner handed over between an interrupted run and
// its resume kept the instances audited before, in the record and in the
// split by owner, so that the mail for them went to the old owner.
func TestResumeRelabels(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	list := writeFile(t, "owners.csv", "instance_id,owner\ni-0123456789abcdef0,alice\ni-0123456789abcdef1,bob\n")
	out := filepath.Join(t.TempDir(), "out")
	args := []string{"run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--split-by", "owner"}
	if got := runCLI(t, "", args...); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	if err := os.WriteFile(list, []byte("instance_id,owner\ni-0123456789abcdef0,alice\ni-0123456789abcdef1,carol\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := runCLI(t, "", append(args, "--resume")...)
	if got.code != 0 || !strings.Contains(got.stderr, "1 audited again") {
		t.Errorf("resume: exit %d, want 0 and a word on the instance audited again\n%s", got.code, got.stderr)
	}
	rs, err := audit.OpenRecords(filepath.Join(out, audit.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	owners := map[string]string{}
	rs.Each(func(r audit.Result) error { owners[r.InstanceID] = r.Labels["owner"]; return nil })
	if owners["i-0123456789abcdef0"] != "alice" || owners["i-0123456789abcdef1"] != "carol" {
		t.Errorf("record's owners after the resume: %v; want alice and carol", owners)
	}
	index, err := os.ReadFile(filepath.Join(out, "by-owner", "index.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(index), "bob") || !strings.Contains(string(index), "carol") {
		t.Errorf("by-owner/index.csv after the resume still has bob, or lacks carol:\n%s", index)
	}
}

// TestResumeRefusesAnotherAudit: --resume with another list or another
// region once reported both fleets together as one complete run.
func TestResumeRefusesAnotherAudit(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	other := writeFile(t, "other.txt", "i-0123456789abcdef1\ni-0000000000000beef\n")
	out := filepath.Join(t.TempDir(), "out")
	if got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet"); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	before := snapshot(t, out)
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"another list", []string{"--instances", other, "--region", "us-east-1"}},
		{"another region", []string{"--instances", ids, "--region", "eu-west-1"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"run", "--resume", "--out", out, "--endpoint-url", url, "--quiet"}, tt.args...)
			got := runCLI(t, "", args...)
			if got.code != 2 || !strings.Contains(got.stderr, "of the run's are not among them") {
				t.Errorf("exit %d, want 2 saying the targets are not the run's\n%s", got.code, got.stderr)
			}
			if after := snapshot(t, out); !sameSnapshot(before, after) {
				t.Error("a refused resume changed the record or the reports")
			}
		})
	}
}

// TestReportWithoutRunInfoIsPartial: a record of 46 of 400 lines with no
// run.json once rendered as complete, exit 1, no partial banner.
func TestReportWithoutRunInfoIsPartial(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	src := filepath.Join(t.TempDir(), "src")
	if got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", src, "--quiet"); got.code != 1 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	// Only the record, with a torn last line, copied elsewhere.
	b, _ := os.ReadFile(filepath.Join(src, "results.jsonl"))
	lone := filepath.Join(t.TempDir(), "lone")
	os.Mkdir(lone, 0o777)
	os.WriteFile(filepath.Join(lone, "results.jsonl"), append(b, `{"schema":1,"instance_id":"i-0`...), 0o644)
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", "report", filepath.Join(lone, "results.jsonl"), "--out", out)
	if got.code != 3 {
		t.Errorf("exit %d, want 3 (completeness unknown)\n%s", got.code, got.stderr)
	}
	if !strings.Contains(got.stderr, "torn") || !strings.Contains(got.stderr, "no run.json") {
		t.Errorf("stderr does not report the torn line and the missing run.json:\n%s", got.stderr)
	}
	ri, err := audit.ReadRunInfo(filepath.Join(out, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ri.Complete || ri.Torn != 1 {
		t.Errorf("run.json: complete %v, torn %d; want false and 1", ri.Complete, ri.Torn)
	}
}

// TestReportMergeCountsOnce: `auditor report all/results.jsonl
// s1/results.jsonl --out all` counted 453 targets for 300 instances and
// exited 3; the same path given twice did the same.
func TestReportMergeCountsOnce(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, ids, _, _ := genFleet(t, 60, ssmsim.Options{})
	base := t.TempDir()
	var shards []string
	for k := range 3 {
		dir := filepath.Join(base, fmt.Sprintf("s%d", k))
		got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", dir,
			"--shard", fmt.Sprintf("%d/3", k), "--fail-on", "none", "--quiet")
		if got.code != 0 {
			t.Fatalf("shard %d: exit %d\n%s", k, got.code, got.stderr)
		}
		shards = append(shards, filepath.Join(dir, "results.jsonl"))
	}
	all := filepath.Join(base, "all")
	if got := runCLI(t, "", append(append([]string{"report"}, shards...), "--out", all, "--fail-on", "none")...); got.code != 0 {
		t.Fatalf("merge: exit %d\n%s", got.code, got.stderr)
	}
	for _, tt := range []struct {
		name   string
		inputs []string
	}{
		{"the merge and one of its shards", []string{filepath.Join(all, "results.jsonl"), shards[1]}},
		{"one shard twice", []string{shards[0], shards[0], shards[1], shards[2]}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "merged")
			if tt.inputs[0] == filepath.Join(all, "results.jsonl") {
				out = all // as the README once suggested: into the merge itself
			}
			got := runCLI(t, "", append(append([]string{"report"}, tt.inputs...), "--out", out, "--fail-on", "none")...)
			if got.code != 0 {
				t.Fatalf("exit %d, want 0\n%s", got.code, got.stderr)
			}
			ri, err := audit.ReadRunInfo(filepath.Join(out, "run.json"))
			if err != nil {
				t.Fatal(err)
			}
			if ri.Targets != 60 || !ri.Complete {
				t.Errorf("run.json: %d targets, complete %v; want 60, true", ri.Targets, ri.Complete)
			}
		})
	}
}

// TestReportKeepsRunMetadata: re-rendering once wrote its own default
// options into run.json (max_pages 1 became 1000; endpoint_url, region,
// resumed and limiter_rate vanished).
func TestReportKeepsRunMetadata(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	out := filepath.Join(t.TempDir(), "out")
	if got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--max-pages", "7", "--quiet"); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	before, _ := audit.ReadRunInfo(filepath.Join(out, "run.json"))
	if got := runCLI(t, "", "report", filepath.Join(out, "results.jsonl"), "--out", out, "--html-max-rows", "3"); got.code != 0 {
		t.Fatalf("report: exit %d\n%s", got.code, got.stderr)
	}
	after, _ := audit.ReadRunInfo(filepath.Join(out, "run.json"))
	for _, k := range []string{"max_pages", "endpoint_url", "region", "concurrency"} {
		if fmt.Sprint(after.Options[k]) != fmt.Sprint(before.Options[k]) {
			t.Errorf("option %s: %v after the report, %v before", k, after.Options[k], before.Options[k])
		}
	}
	if !after.StartedAt.Equal(before.StartedAt) || after.Stats != before.Stats || after.Version != before.Version {
		t.Errorf("run metadata changed: %+v, was %+v", after, before)
	}
	if after.Rendered == nil || fmt.Sprint(after.Rendered.Options["html_max_rows"]) != "3" {
		t.Errorf("the rendering is not recorded apart: %+v", after.Rendered)
	}
}

// blockingReader never returns until its context is done.
type blockingReader struct{ ctx context.Context }

func (r blockingReader) Read([]byte) (int, error) {
	<-r.ctx.Done()
	time.Sleep(time.Hour) // a real pipe would still not return
	return 0, io.EOF
}

// TestInterruptWhileReadingTargets: SIGINT while reading a slow standard
// input did nothing until the input ended and then blamed credentials (exit
// 4); a FIFO with no writer ignored SIGTERM.
func TestInterruptWhileReadingTargets(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := makeFIFO(fifo); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		list  string
		stdin func(context.Context) io.Reader
	}{
		{"slow standard input", "-", func(ctx context.Context) io.Reader { return blockingReader{ctx} }},
		{"FIFO with no writer", fifo, func(context.Context) io.Reader { return nil }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(200*time.Millisecond, cancel)
			out := filepath.Join(t.TempDir(), "out")
			done := make(chan cliResult, 1)
			go func() {
				done <- runCtx(ctx, tt.stdin(ctx), "run", "--instances", tt.list, "--region", "us-east-1", "--out", out, "--quiet")
			}()
			select {
			case got := <-done:
				if got.code != 3 || !strings.Contains(got.stderr, "interrupted") {
					t.Errorf("exit %d, want 3 saying interrupted\n%s", got.code, got.stderr)
				}
			case <-time.After(time.Minute):
				t.Fatal("the run did not end a minute after the interrupt")
			}
		})
	}
}

// TestTimeoutWhileReadingTargets: --timeout bounds the whole run, the
// reading of the lists too. A list from a pipe whose writer hung (or a FIFO
// nobody opens) kept a scheduled run waiting for ever, whatever --timeout
// said; it ends at the timeout with exit 3, saying which list did not end,
// and nothing is left in --out.
func TestTimeoutWhileReadingTargets(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := makeFIFO(fifo); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, list string
		stdin      func(context.Context) io.Reader
	}{
		{"slow standard input", "-", func(ctx context.Context) io.Reader { return blockingReader{ctx} }},
		{"FIFO with no writer", fifo, func(context.Context) io.Reader { return nil }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			out := filepath.Join(t.TempDir(), "out")
			done := make(chan cliResult, 1)
			go func() {
				done <- runCtx(ctx, tt.stdin(ctx), "run", "--instances", tt.list, "--region", "us-east-1", "--out", out, "--timeout", "300ms", "--quiet")
			}()
			select {
			case got := <-done:
				if got.code != 3 || !strings.Contains(got.stderr, "--timeout 300ms") || !strings.Contains(got.stderr, "--instances "+tt.list) {
					t.Errorf("exit %d, want 3 naming --timeout 300ms and --instances %s\n%s", got.code, tt.list, got.stderr)
				}
				if strings.Contains(got.stderr, "interrupted") {
					t.Errorf("a timeout said to be an interrupt:\n%s", got.stderr)
				}
				if _, err := os.Stat(out); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("--out %s left behind (%v)", out, err)
				}
			case <-time.After(time.Minute):
				t.Fatal("the run did not end a minute after its --timeout")
			}
		})
	}
}

// TestTimeoutBeforeListOpened: a --timeout that ran out before the list's
// reader had started named standard input, "--instances -: the list had not
// ended", for a file. It names the file (the first list, when none was
// begun).
func TestTimeoutBeforeListOpened(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := makeFIFO(fifo); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Opening the other end lets the abandoned readers go.
		if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
	})
	for i := range 10 {
		got := runCLI(t, "", "run", "--instances", fifo, "--region", "us-east-1", "--out", filepath.Join(t.TempDir(), "out"), "--timeout", "1ns", "--quiet")
		if want := "--instances " + fifo + ": the list had not ended"; got.code != int(exitIncomplete) || !strings.Contains(got.stderr, want) {
			t.Fatalf("run %d: exit %d, want %d saying %q\n%s", i, got.code, exitIncomplete, want, got.stderr)
		}
	}
	ids := writeFile(t, "fleet.txt", "i-0123456789abcdef0\n")
	got := runCLI(t, "", "run", "--instances", ids, "--region", "us-east-1", "--out", filepath.Join(t.TempDir(), "out"), "--timeout", "1ns", "--quiet")
	if got.code != int(exitIncomplete) || strings.Contains(got.stderr, "--instances -") {
		t.Errorf("exit %d, want %d, not naming standard input\n%s", got.code, exitIncomplete, got.stderr)
	}
}

// TestTimeoutWhileCheckingCredentials: a credential_process that hangs
// held the run past its --timeout; it ends at it, exit 3. (The SDK lets the
// process run on to its own minute's timeout, ignoring the cancel; the
// script sleeps 5 s so that it does not hold the test's output that long.)
func TestTimeoutWhileCheckingCredentials(t *testing.T) {
	isolateAWS(t, "")
	dir := t.TempDir()
	script := filepath.Join(dir, "creds.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nsleep 5\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config")
	if err := os.WriteFile(cfg, []byte("[profile hangs]\ncredential_process = "+processCommand(script)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", cfg)
	out := filepath.Join(t.TempDir(), "out")
	done := make(chan cliResult, 1)
	go func() {
		done <- runCLI(t, "", "run", "--instance-id", "i-0123456789abcdef0", "--profile", "hangs", "--region", "us-east-1", "--endpoint-url", "http://127.0.0.1:9", "--out", out, "--timeout", "300ms", "--quiet")
	}()
	select {
	case got := <-done:
		if got.code != 3 || !strings.Contains(got.stderr, "checking the credentials: --timeout 300ms ran out") {
			t.Errorf("exit %d, want 3 saying the timeout ran out checking the credentials\n%s", got.code, got.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the run did not end 30 s after its --timeout")
	}
}

// TestReportInterrupted: SIGTERM during `auditor report` once exited 4 with
// "context canceled" and no reports; it writes them whole, which leaves
// nothing undone, so that (as for run) the exit is the verdict the closing
// lines name, not 3 after "(exit 1)".
func TestReportInterrupted(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	src := filepath.Join(t.TempDir(), "src")
	if got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", src, "--quiet"); got.code != 1 {
		t.Fatalf("run: exit %d, want 1 (a failed association)\n%s", got.code, got.stderr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := filepath.Join(t.TempDir(), "out")
	got := runCtx(ctx, nil, "report", filepath.Join(src, "results.jsonl"), "--out", out)
	if got.code != 1 || !strings.Contains(got.stderr, "(exit 1)") {
		t.Errorf("exit %d, want 1, the verdict the closing lines name\n%s", got.code, got.stderr)
	}
	for _, name := range []string{"report.html", "report.xlsx", "instances.csv", "summary.json"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Errorf("an interrupted report left no %s", name)
		}
	}
}

// TestFatalFirstCallLeavesNoRecord: after UnrecognizedClientException (exit
// 4) an empty results.jsonl was left, and the same command then failed with
// exit 2 "already holds a record".
func TestFatalFirstCallLeavesNoRecord(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, srv := serve(t, handFleet(false), ssmsim.Options{DenyAccessKeys: map[string]string{"AKIATESTTESTTESTTEST": "UnrecognizedClientException"}})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	out := filepath.Join(t.TempDir(), "out")
	args := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet"}
	got := runCLI(t, "", args...)
	if got.code != 4 {
		t.Fatalf("denied: exit %d, want 4\n%s", got.code, got.stderr)
	}
	if !strings.Contains(got.stderr, "aws sts get-caller-identity --region us-east-1") {
		t.Errorf("refused credentials: no next step on stderr:\n%s", got.stderr)
	}
	srv.DenyAccessKey("AKIATESTTESTTESTTEST", "")
	if got := runCLI(t, "", args...); got.code != 0 {
		t.Errorf("the same command once the key works: exit %d, want 0\n%s", got.code, got.stderr)
	}
}

// TestUnbalancedQuoteWithSkipInvalid: --skip-invalid and an unbalanced
// quote swallowed the rest of a CSV as one invalid line (47 instances lost,
// exit 1).
func TestUnbalancedQuoteWithSkipInvalid(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	list := writeFile(t, "fleet.csv", "instance_id,owner\ni-0123456789abcdef0,\"alice\ni-0123456789abcdef1,bob\ni-0000000000000beef,carol\n")
	for _, extra := range [][]string{nil, {"--skip-invalid"}} {
		args := append([]string{"run", "--instances", list, "--region", "us-east-1", "--out", filepath.Join(t.TempDir(), "o"), "--quiet"}, extra...)
		got := runCLI(t, "", args...)
		if got.code != 2 || !strings.Contains(got.stderr, "fleet.csv:2:") || !strings.Contains(got.stderr, "lines 2 to 4") {
			t.Errorf("%v: exit %d, want 2 naming line 2 and the lines swallowed\n%s", extra, got.code, got.stderr)
		}
	}
}

// TestSmallerTrustFixes covers the smaller items: negative timeouts, a
// report that fails does not stop the others and is printed,
// "reports in" only when reports were written, and a timeout gives no grace.
func TestSmallerTrustFixes(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	t.Run("negative durations", func(t *testing.T) {
		for _, f := range []string{"--timeout", "--call-timeout"} {
			got := runCLI(t, "", "run", "--instances", ids, "--region", "us-east-1", f, "-2s", "--out", filepath.Join(t.TempDir(), "o"))
			if got.code != 2 || !strings.Contains(got.stderr, f) {
				t.Errorf("%s -2s: exit %d, want 2\n%s", f, got.code, got.stderr)
			}
		}
	})
	t.Run("a failed format is printed, the others written", func(t *testing.T) {
		url, _ := serve(t, handFleet(false), ssmsim.Options{})
		out := filepath.Join(t.TempDir(), "out")
		// A failure that only the rendering meets (a directory where a
		// report goes is refused before the first call): the HTML's
		// template fails with data (an index past the outcomes, which the
		// check takes for one past the sample's rows). report.Render joins
		// every format's failure; each is printed on its line.
		tmpl := writeFile(t, "fails.html.tmpl", "<p>{{index .Outcomes 100}}</p>\n")
		got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet", "--template", tmpl)
		if got.code != 4 {
			t.Errorf("exit %d, want 4\n%s", got.code, got.stderr)
		}
		if !strings.Contains(got.stderr, "auditor: writing html report") {
			t.Errorf("stderr does not name the failed format:\n%s", got.stderr)
		}
		for _, name := range []string{"report.xlsx", "summary.json", "instances.csv"} {
			if _, err := os.Stat(filepath.Join(out, name)); err != nil {
				t.Errorf("%s was not written after another format failed", name)
			}
		}
	})
	t.Run("no reports, no 'reports in'", func(t *testing.T) {
		url, _ := serve(t, handFleet(false), ssmsim.Options{DenyAccessKeys: map[string]string{"AKIATESTTESTTESTTEST": "UnrecognizedClientException"}})
		got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", filepath.Join(t.TempDir(), "o"))
		if got.code != 4 || strings.Contains(got.stderr, "reports in") || strings.Contains(got.stderr, "open ") {
			t.Errorf("exit %d; stderr points to reports that were not written:\n%s", got.code, got.stderr)
		}
	})
	t.Run("a timeout leaves no grace", func(t *testing.T) {
		// Every answer takes twice the timeout, and comes well within a
		// grace of a minute. The calls in flight are cut at the timeout:
		// none of them ends in the record. (The timeout is long enough
		// for the run's start on a loaded machine: one shorter ran out
		// before the first call, with no run.json.)
		url, _ := serve(t, handFleet(false), ssmsim.Options{Faults: ssmsim.Faults{Latency: 2 * stallTimeout}})
		out := filepath.Join(t.TempDir(), "out")
		got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out,
			"--timeout", stallTimeout.String(), "--grace", "1m", "--quiet")
		if got.code != 3 {
			t.Errorf("exit %d, want 3\n%s", got.code, got.stderr)
		}
		ri, _ := audit.ReadRunInfo(filepath.Join(out, "run.json"))
		if n := countLines(filepath.Join(out, "results.jsonl")); n != 0 || !ri.Interrupted {
			t.Errorf("%d results recorded after the timeout, interrupted %v; want 0 and true", n, ri.Interrupted)
		}
	})
}

// jsonKeys returns the top-level keys of a JSON file.
func jsonKeys(t *testing.T, path string) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestOutsideTextInTheSummary: an error message from the service (or from
// anyone who wrote a record) with line breaks, terminal escapes and bidi
// controls is one plain line in the closing summary, in text and in JSON
// logs, and is cut on a character, not inside one.
func TestOutsideTextInTheSummary(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "in")
	os.MkdirAll(dir, 0o777)
	w, err := audit.CreateRecord(filepath.Join(dir, audit.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	hostile := "line1\nSubject: injected\r\nBcc: x@example.com \x00\x1b[31mred\u202eesrever " + strings.Repeat("é", 200)
	at := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	w.Write(audit.Result{Region: "us-east-1", InstanceID: "i-0123456789abcdef0", AuditedAt: at, Outcome: audit.OutcomeError,
		Error: &audit.Error{Code: "Bad\nCode", Message: hostile}})
	w.Close()
	for _, format := range []string{"text", "json"} {
		out := filepath.Join(t.TempDir(), format)
		got := runCLI(t, "", "report", filepath.Join(dir, audit.ResultsFile), "--out", out, "--log-format", format)
		if got.code != 3 {
			t.Fatalf("%s: exit %d, want 3\n%s", format, got.code, got.stderr)
		}
		for _, bad := range []string{"\r", "\x00", "\x1b", "\u202e", "\nSubject:", "\nBcc:", "\ufffd"} {
			if strings.Contains(got.stderr, bad) {
				t.Errorf("%s: stderr holds %q:\n%s", format, bad, got.stderr)
			}
		}
		if !strings.Contains(got.stderr, "line1 Subject: injected Bcc: x@example.com") {
			t.Errorf("%s: the message is not on one line:\n%s", format, got.stderr)
		}
		if !utf8.ValidString(got.stderr) {
			t.Errorf("%s: stderr is not UTF-8 (a message cut inside a character)", format)
		}
	}
}

// TestFailOnNewNeedsABaseline: --fail-on new without --baseline was a gate
// that could never close (exit 0 whatever failed); it is a usage error,
// said before any call. With --baseline previous, the first run of a
// schedule has nothing to compare with, and runs.
func TestFailOnNewNeedsABaseline(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, srv := serve(t, handFleet(true), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	args := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--fail-on", "new", "--quiet"}
	got := runCLI(t, "", append(args, "--out", filepath.Join(t.TempDir(), "out"))...)
	if got.code != 2 || !strings.Contains(got.stderr, "--baseline") {
		t.Errorf("--fail-on new without --baseline: exit %d, want 2 naming --baseline\n%s", got.code, got.stderr)
	}
	if n := srv.Stats().Requests; n != 0 {
		t.Errorf("%d requests before the usage error, want none", n)
	}
	got = runCLI(t, "", append(args, "--out", filepath.Join(t.TempDir(), "first"), "--baseline", "previous")...)
	if got.code != 0 {
		t.Errorf("a schedule's first run with --fail-on new --baseline previous: exit %d, want 0\n%s", got.code, got.stderr)
	}
	// The demo takes --fail-on and exits 0 whatever it finds.
	if got := runCLI(t, "", "demo", "--fail-on", "new", "--fleet-size", "20", "--quiet", "--out", filepath.Join(t.TempDir(), "demo")); got.code != 0 {
		t.Errorf("demo --fail-on new: exit %d, want 0\n%s", got.code, got.stderr)
	}
}

// TestOutErrorAdvice: "wait for it" is advice for a directory another
// auditor holds, not for one that is not ours or cannot be made.
func TestOutErrorAdvice(t *testing.T) {
	mine := filepath.Join(t.TempDir(), "mine")
	os.MkdirAll(mine, 0o777)
	os.WriteFile(filepath.Join(mine, "notes.txt"), []byte("mine"), 0o644)
	got := runCLI(t, "", "demo", "--out", mine)
	if got.code != 2 || strings.Contains(got.stderr, "wait for it") || !strings.Contains(got.stderr, "choose another --out") {
		t.Errorf("demo into a directory not its own: exit %d\n%s", got.code, got.stderr)
	}
	if err := outError("held", fmt.Errorf("wrapped: %w", dirlock.ErrBusy)); !strings.Contains(err.Error(), "wait for it") {
		t.Errorf("a directory another auditor holds: %v", err)
	}
}

// TestBadEndpointSaidOnce: a bad --endpoint-url is one problem, and only
// plain http to another machine is told about --allow-insecure-endpoint.
func TestBadEndpointSaidOnce(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	for _, tc := range []struct {
		url  string
		hint bool
	}{
		{"http://u:pw@127.0.0.1:4566", false},
		{"ftp://127.0.0.1", false},
		{"localhost:4566", false},
		{"http://10.0.0.1", true},
	} {
		got := runCLI(t, "", "run", "--instance-id", "i-0123456789abcdef0", "--region", "us-east-1", "--endpoint-url", tc.url, "--out", filepath.Join(t.TempDir(), "out"))
		if got.code != 2 || strings.Count(got.stderr, "--endpoint-url") != 1 || strings.Contains(got.stderr, "problems") {
			t.Errorf("%s: exit %d, want 2 and the problem said once:\n%s", tc.url, got.code, got.stderr)
		}
		if strings.Contains(got.stderr, "--allow-insecure-endpoint") != tc.hint {
			t.Errorf("%s: the --allow-insecure-endpoint hint is there: %v, want %v\n%s", tc.url, !tc.hint, tc.hint, got.stderr)
		}
		if strings.Contains(got.stderr, "pw") {
			t.Errorf("%s: the password is in the message:\n%s", tc.url, got.stderr)
		}
	}
}

// TestOutKeepsOthersFiles: run and report into a directory that holds a
// report.html or summary.json the auditor did not write (no run of it is
// there) refuse it before any call, instead of replacing those files;
// a directory an earlier run of the auditor left (its run.json) is used.
func TestOutKeepsOthersFiles(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, srv := serve(t, handFleet(false), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	theirs := filepath.Join(t.TempDir(), "theirs")
	os.MkdirAll(theirs, 0o777)
	os.WriteFile(filepath.Join(theirs, "report.html"), []byte("my notes"), 0o644)
	os.WriteFile(filepath.Join(theirs, "summary.json"), []byte(`{"mine":1}`), 0o644)
	args := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--quiet"}
	got := runCLI(t, "", append(args, "--out", theirs)...)
	if got.code != 2 || !strings.Contains(got.stderr, "report.html") {
		t.Errorf("run into a directory of someone else's reports: exit %d, want 2 naming report.html\n%s", got.code, got.stderr)
	}
	if n := srv.Stats().Calls["DescribeInstanceAssociationsStatus"]; n != 0 {
		t.Errorf("%d calls before the refusal", n)
	}
	// A scheduled job resumes: the same protection.
	if got := runCLI(t, "", append(args, "--out", theirs, "--resume")...); got.code != 2 {
		t.Errorf("run --resume into a directory of someone else's reports: exit %d, want 2\n%s", got.code, got.stderr)
	}
	src := filepath.Join(t.TempDir(), "src")
	if got := runCLI(t, "", append(args, "--out", src)...); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	if got := runCLI(t, "", "report", filepath.Join(src, "results.jsonl"), "--out", theirs, "--quiet"); got.code != 2 {
		t.Errorf("report into a directory of someone else's reports: exit %d, want 2\n%s", got.code, got.stderr)
	}
	for name, want := range map[string]string{"report.html": "my notes", "summary.json": `{"mine":1}`} {
		if b, _ := os.ReadFile(filepath.Join(theirs, name)); string(b) != want {
			t.Errorf("%s was replaced", name)
		}
	}
	// An earlier run's directory whose record is gone (a fatal first call
	// leaves run.json alone) is the auditor's own.
	os.Remove(filepath.Join(src, "results.jsonl"))
	if got := runCLI(t, "", append(args, "--out", src)...); got.code != 0 {
		t.Errorf("run into an earlier run's directory: exit %d, want 0\n%s", got.code, got.stderr)
	}
}

// TestOutKeepsOthersSplit: a by-LABEL directory that no split made (a
// file of someone else's in it) was found only after the whole audit and
// reported as "directory not writable" (exit 4); run and report now
// refuse it before any call (exit 2), as they refuse other files they
// would replace, and leave it as it is. An earlier split's directory is
// replaced, as before.
func TestOutKeepsOthersSplit(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, srv := serve(t, handFleet(false), ssmsim.Options{})
	list := writeFile(t, "sp.csv", "instance_id,owner,owner_email\ni-0123456789abcdef0,alice,alice@example.com\ni-0123456789abcdef1,bob,bob@example.com\n")
	theirs := func(label string) string {
		out := filepath.Join(t.TempDir(), "out")
		os.MkdirAll(report.SplitDir(out, label), 0o777)
		os.WriteFile(filepath.Join(report.SplitDir(out, label), "keep.txt"), []byte("x"), 0o644)
		return out
	}
	refused := func(t *testing.T, got cliResult, out, label string) {
		t.Helper()
		dir := report.SplitDir(out, label)
		if got.code != 2 || !strings.Contains(got.stderr, dir) || strings.Contains(got.stderr, "not writable") {
			t.Errorf("exit %d, want 2 naming %s (not as a directory not writable)\n%s", got.code, dir, got.stderr)
		}
		if b, err := os.ReadFile(filepath.Join(dir, "keep.txt")); err != nil || string(b) != "x" {
			t.Errorf("keep.txt: %q, %v", b, err)
		}
	}
	run := []string{"run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--quiet"}
	t.Run("run", func(t *testing.T) {
		out := theirs("owner")
		refused(t, runCLI(t, "", append(run, "--out", out, "--split-by", "owner")...), out, "owner")
	})
	t.Run("run, the groups of --mail-to-label", func(t *testing.T) {
		out := theirs("owner_email")
		refused(t, runCLI(t, "", append(run, "--out", out, "--mail-to-label", "owner_email", "--mail-from", "a@example.com", "--smtp", "smtp://127.0.0.1:1")...), out, "owner_email")
	})
	if n := srv.Stats().Requests; n != 0 {
		t.Errorf("%d requests before the refusals, want none", n)
	}
	src := filepath.Join(t.TempDir(), "src")
	if got := runCLI(t, "", append(run, "--out", src, "--split-by", "owner")...); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	t.Run("report", func(t *testing.T) {
		out := theirs("owner")
		refused(t, runCLI(t, "", "report", filepath.Join(src, audit.ResultsFile), "--out", out, "--split-by", "owner", "--quiet"), out, "owner")
	})
	t.Run("report in place, an earlier split's directory", func(t *testing.T) {
		if got := runCLI(t, "", "report", filepath.Join(src, audit.ResultsFile), "--out", src, "--split-by", "owner", "--quiet"); got.code != 0 {
			t.Errorf("exit %d, want 0\n%s", got.code, got.stderr)
		}
	})
}

// TestReportOutTime: `auditor report --out 'merged/{time}'` created a
// directory named {time}, which the next week's merge then refused (a
// record it was not given) and --baseline previous never found beside it.
// {time} and {date} name the run, as for run.
func TestReportOutTime(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	if got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", run, "--quiet"); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	merged := filepath.Join(dir, "merged")
	if got := runCLI(t, "", "report", filepath.Join(run, "results.jsonl"), "--out", filepath.Join(merged, "{date}-{time}")); got.code != 0 {
		t.Fatalf("report: exit %d\n%s", got.code, got.stderr)
	}
	entries, err := os.ReadDir(merged)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || strings.ContainsAny(entries[0].Name(), "{}") || !strings.Contains(entries[0].Name(), "T") {
		t.Fatalf("report --out merged/{date}-{time} made %v, want one directory named by the date and time", entries)
	}
	if _, err := os.Stat(filepath.Join(merged, entries[0].Name(), "summary.json")); err != nil {
		t.Errorf("no reports in %s: %v", entries[0].Name(), err)
	}
}

// TestReportMergeOverlappingLists: two whole runs of two lists that share
// some instances, merged, were "incomplete: 4 of 24 targets have no
// result" (exit 3, PARTIAL): the targets of the lists were added up, the
// results counted once. An instance in two lists is one target, listed
// twice.
func TestReportMergeOverlappingLists(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _, fleet, _ := genFleet(t, 20, ssmsim.Options{})
	all := fleet.IDs()
	base := t.TempDir()
	var records []string
	for i, ids := range [][]string{all[:12], all[8:]} {
		list := writeFile(t, fmt.Sprintf("list%d.txt", i), strings.Join(ids, "\n")+"\n")
		dir := filepath.Join(base, fmt.Sprintf("r%d", i))
		if got := runCLI(t, "", "run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", dir, "--fail-on", "none", "--quiet"); got.code != 0 {
			t.Fatalf("run %d: exit %d\n%s", i, got.code, got.stderr)
		}
		records = append(records, filepath.Join(dir, "results.jsonl"))
	}
	out := filepath.Join(base, "all")
	got := runCLI(t, "", append(append([]string{"report"}, records...), "--out", out, "--fail-on", "none")...)
	if got.code != 0 {
		t.Fatalf("merge: exit %d, want 0\n%s", got.code, got.stderr)
	}
	ri, err := audit.ReadRunInfo(filepath.Join(out, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ri.Targets != 20 || ri.Duplicates != 4 || !ri.Complete {
		t.Errorf("run.json: %d targets, %d duplicates, complete %v; want 20, 4, true", ri.Targets, ri.Duplicates, ri.Complete)
	}
	// A merge of the two lists merged again with one of them cannot tell
	// its instances apart by list: it says so.
	again := runCLI(t, "", "report", filepath.Join(out, "results.jsonl"), records[0], "--out", filepath.Join(base, "again"), "--fail-on", "none")
	if !strings.Contains(again.stderr, "is a merge of several lists") {
		t.Errorf("a merge of two lists merged again: no warning that shared instances count twice\n%s", again.stderr)
	}
	if strings.Contains(got.stderr, "is a merge of several lists") {
		t.Errorf("the runs' own records merged: warned\n%s", got.stderr)
	}
}
