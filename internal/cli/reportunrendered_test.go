package cli

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/deliver/smtptest"
	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestReportOfAFailedRenderingNotDelivered: auditor report with --mail-to
// and --upload whose rendering failed (a --template that fails on the
// data) sent nothing, rightly, but said only that the reports were not all
// written: no word that they were not mailed nor uploaded, nor how to
// deliver them once rendered again, as a run says. It says so, as a run
// does.
func TestReportOfAFailedRenderingNotDelivered(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	t.Setenv("AWS_REGION", "us-east-1")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	s3URL := serveS3(t, "reports")
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	tmpl := writeFile(t, "fails.tmpl", "<h1>{{.Headline}}</h1>\n<p>{{(index .Failures.Rows 40).InstanceID}}</p>\n")
	ms := newMailSetup(t, smtptest.Options{})
	root := t.TempDir()
	src := filepath.Join(root, "run")
	if got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--out", src, "--fail-on", "none", "--quiet"); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}

	out := filepath.Join(root, "rendered")
	got := runCLI(t, "", append([]string{"report", filepath.Join(src, audit.ResultsFile), "--out", out, "--fail-on", "none", "--template", tmpl,
		"--mail-to", "ops@example.com", "--upload", "s3://reports/weekly/"}, ms.args...)...)
	if got.code != int(exitFatal) {
		t.Fatalf("report: exit %d, want 4\n%s", got.code, got.stderr)
	}
	if n := len(ms.srv.Messages()); n != 0 {
		t.Errorf("%d messages, want none: the reports are not all written\n%s", n, got.stderr)
	}
	objects, err := s3Client(s3URL).ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("reports")})
	if err != nil {
		t.Fatal(err)
	}
	if len(objects.Contents) != 0 {
		t.Errorf("%d objects uploaded, want none", len(objects.Contents))
	}
	says := func(sub, also string) bool {
		return slices.ContainsFunc(strings.Split(got.stderr, "\n"), func(l string) bool { return strings.Contains(l, sub) && strings.Contains(l, also) })
	}
	if !says("not all written", report.HTMLFile) {
		t.Errorf("no line says that the reports are not all written, naming %s:\n%s", report.HTMLFile, got.stderr)
	}
	if !says("not mailed", "auditor mail") {
		t.Errorf("no line says that the reports were not mailed, with the auditor mail that mails them:\n%s", got.stderr)
	}
	if !says("not uploaded", "s3://reports/weekly/") {
		t.Errorf("no line says that the reports were not uploaded:\n%s", got.stderr)
	}
	if strings.Contains(got.stderr, "mailed the reports") {
		t.Errorf("stderr says mailed:\n%s", got.stderr)
	}
}
