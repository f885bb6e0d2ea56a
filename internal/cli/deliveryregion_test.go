package cli

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestSESWithoutARegion: --mail-via ses with no region to send in (no
// --region, AWS_REGION or profile's: an organisation run names its
// regions with --regions) is refused before any call, as --regions all
// alone is: SES found the region missing at the send, after the whole
// audit (exit 5, "Missing Region"), and the auditor mail command it
// printed had no --region either. auditor mail and auditor report refuse
// it before they send or render anything.
func TestSESWithoutARegion(t *testing.T) {
	_, srv, accounts := serveOrg(t, 10)
	var sesCalls atomic.Int64
	ses := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sesCalls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"MessageId": "m-1"}`))
	}))
	t.Cleanup(ses.Close)
	t.Setenv("AWS_ENDPOINT_URL_SESV2", ses.URL)
	mail := []string{"--mail-from", "auditor@example.com", "--mail-via", "ses"}
	const want = "--mail-via ses needs a region: pass --region or set AWS_REGION"

	// A run of the organisation, whose record auditor mail and auditor
	// report take below, with a region.
	src := filepath.Join(t.TempDir(), "src")
	org := []string{"--accounts", "org", "--role-name", "AuditRole", "--regions", "us-east-1,eu-west-1", "--discover", "--exclude-accounts", accounts[2].ID}
	if got := runCLI(t, "", append([]string{"run", "--out", src, "--quiet", "--fail-on", "none", "--region", "us-east-1"}, org...)...); got.code != 0 {
		t.Fatalf("run with a region: exit %d\n%s", got.code, got.stderr)
	}

	tests := []struct {
		name string
		args []string
		out  bool // whether the command makes an --out
	}{
		{name: "run", args: append(append([]string{"run", "--quiet", "--fail-on", "none", "--mail-to", "ops@example.com"}, org...), mail...), out: true},
		{name: "report", args: append([]string{"report", filepath.Join(src, "results.jsonl"), "--quiet", "--mail-to", "ops@example.com"}, mail...), out: true},
		{name: "mail", args: append([]string{"mail", src, "--to", "ops@example.com"}, mail...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.ResetStats()
			sesCalls.Store(0)
			out := filepath.Join(t.TempDir(), "out")
			args := tt.args
			if tt.out {
				args = append(slices.Clone(args), "--out", out)
			}
			got := runCLI(t, "", args...)
			if got.code != int(exitUsage) || !strings.Contains(got.stderr, want) {
				t.Fatalf("exit %d, want %d saying %q\n%s", got.code, exitUsage, want, got.stderr)
			}
			if n, m := srv.Stats().Requests, sesCalls.Load(); n != 0 || m != 0 {
				t.Errorf("%d requests to AWS and %d to SES before the refusal, want none", n, m)
			}
			if _, err := os.Stat(out); tt.out && err == nil {
				t.Error("the output directory was made")
			}
		})
	}

	// With AWS_REGION alone: mailed.
	t.Setenv("AWS_REGION", "eu-west-1")
	sesCalls.Store(0)
	got := runCLI(t, "", append(append([]string{"run", "--quiet", "--fail-on", "none", "--mail-to", "ops@example.com", "--out", filepath.Join(t.TempDir(), "out")}, org...), mail...)...)
	if got.code != 0 || sesCalls.Load() != 1 {
		t.Errorf("with AWS_REGION: exit %d, %d sent, want 0 and 1\n%s", got.code, sesCalls.Load(), got.stderr)
	}
}

// TestSESAgainNamesItsRegion: the auditor mail command printed after SES
// refused a mail carries the region it was sent in, wherever the region
// came from (AWS_REGION here), so that it works where the variable is not
// set.
func TestSESAgainNamesItsRegion(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	ses := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-ErrorType", "MessageRejected")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"message": "Email address is not verified."}`))
	}))
	t.Cleanup(ses.Close)
	t.Setenv("AWS_ENDPOINT_URL_SESV2", ses.URL)
	t.Setenv("AWS_REGION", "eu-west-1")
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	src := filepath.Join(t.TempDir(), "src")
	mail := []string{"--mail-from", "auditor@example.com", "--mail-via", "ses"}
	if got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--out", src, "--quiet", "--fail-on", "none"); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"run", append([]string{"run", "--instances", ids, "--endpoint-url", url, "--quiet", "--fail-on", "none", "--mail-to", "ops@example.com", "--out", filepath.Join(t.TempDir(), "out")}, mail...)},
		{"report", append([]string{"report", filepath.Join(src, "results.jsonl"), "--quiet", "--fail-on", "none", "--mail-to", "ops@example.com", "--out", filepath.Join(t.TempDir(), "out")}, mail...)},
		{"mail", append([]string{"mail", src, "--to", "ops@example.com"}, mail...)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := runCLI(t, "", tt.args...)
			if got.code != int(exitDelivery) {
				t.Fatalf("exit %d, want %d\n%s", got.code, exitDelivery, got.stderr)
			}
			again := retryCommand(t, got.stderr)
			if r := flagValue(again, "--region"); r != "eu-west-1" {
				t.Errorf("%q: --region %q, want eu-west-1", again, r)
			}
		})
	}
}

// TestUploadWithoutARegion: --upload needs no region: with none (an
// organisation run that names its regions with --regions, a report), the
// upload starts in the run's home region (the first of --regions), else
// in us-east-1 as the AWS CLI's does, and goes on in the bucket's, which
// S3 names. It failed after the whole audit, exit 5: "resolve endpoint:
// endpoint rule error, Invalid region: region was not a valid DNS name."
func TestUploadWithoutARegion(t *testing.T) {
	_, _, accounts := serveOrg(t, 10)
	s3 := serveRegionalS3(t, &regionalS3{home: "ap-south-1"})
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", "run", "--accounts", "org", "--role-name", "AuditRole", "--regions", "eu-west-1,us-east-1", "--discover",
		"--exclude-accounts", accounts[2].ID, "--out", out, "--quiet", "--fail-on", "none", "--upload", "s3://reports/auditor/")
	if got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	report := filepath.Join(t.TempDir(), "report")
	got = runCLI(t, "", "report", filepath.Join(out, "results.jsonl"), "--out", report, "--quiet", "--fail-on", "none", "--upload", "s3://reports/merged/")
	if got.code != 0 {
		t.Fatalf("report: exit %d\n%s", got.code, got.stderr)
	}
	s3.mu.Lock()
	defer s3.mu.Unlock()
	if want := []string{"eu-west-1", "ap-south-1", "us-east-1", "ap-south-1"}; !slices.Equal(slices.Compact(slices.Clone(s3.signed)), want) {
		t.Errorf("requests signed for %q, want the first of each upload in %s", s3.signed, want)
	}
	for _, k := range []string{"auditor/report.html", "merged/report.html"} {
		if !slices.Contains(s3.keys, k) {
			t.Errorf("put %q, want %s among them", s3.keys, k)
		}
	}
}
