package cli

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestUploadTimeOfAResumedRun: {time} in --upload is the run's, as in
// --out; a resume filled it with its own attempt's time, so that the
// reports of one run went under two prefixes (the partial ones under the
// first). A resume takes the prefix its run was uploaded under.
func TestUploadTimeOfAResumedRun(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	s3URL := serveS3(t, "reports")
	list := writeFile(t, "fleet.csv", "instance_id\ni-0123456789abcdef0\ni-0123456789abcdef1\n")
	out := filepath.Join(t.TempDir(), "out")
	args := []string{"run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet",
		"--fail-on", "none", "--upload", "s3://reports/r/{time}/"}
	if got := runCLI(t, "", args...); got.code != 0 {
		t.Fatalf("exit %d\n%s", got.code, got.stderr)
	}
	prefixes := func() map[string]bool {
		l, err := s3Client(s3URL).ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("reports"), Prefix: aws.String("r/"), Delimiter: aws.String("/")})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, p := range l.CommonPrefixes {
			got[*p.Prefix] = true
		}
		return got
	}
	first := prefixes()
	if len(first) != 1 {
		t.Fatalf("the run uploaded under %v, want one prefix", first)
	}
	// The next second, so that the attempt's own time reads otherwise.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(1100 * time.Millisecond)))
	got := runCLI(t, "", append(args, "--resume")...)
	if got.code != 0 {
		t.Fatalf("resume: exit %d\n%s", got.code, got.stderr)
	}
	if after := prefixes(); len(after) != 1 {
		t.Errorf("the resumed run uploaded under %v, want the run's own prefix %v only", after, first)
	}
}

// TestFillsTemplate: a recorded prefix is taken for a template only when
// it is that template filled.
func TestFillsTemplate(t *testing.T) {
	for _, tc := range []struct {
		template, s string
		want        bool
	}{
		{"s3://b/r/{time}/", "s3://b/r/20261202T141815Z/", true},
		{"s3://b/r/{date}/{time}/", "s3://b/r/2026-12-02/20261202T141815Z/", true},
		{"s3://b/r/{time}/", "s3://b/other/20261202T141815Z/", false},
		{"s3://b/r/{time}/", "s3://b/r/{time}/", false},
		{"s3://b/r.x/{date}/", "s3://b/rzx/2026-12-02/", false}, // the dot is a dot
		{"s3://b/r/{date}/", "s3://b/r/2026-12-02/extra/", false},
	} {
		if got := fillsTemplate(tc.template, tc.s); got != tc.want {
			t.Errorf("fillsTemplate(%q, %q) = %v, want %v", tc.template, tc.s, got, tc.want)
		}
	}
}

// TestUploadTimeOfARunKilledBeforeItsRunJSON: a run killed before it wrote
// run.json is resumed: the resume filled --upload's {time} with the first
// attempt's start, which comes after the lists were read (minutes later,
// for an organisation), not with the instant that named the run's
// directory, so that the reports went under a prefix naming no directory
// of the run. The first attempt keeps the prefix it filled (startFile),
// and the resume takes it; a directory's name is no guide (a name chosen
// to look like another run's {time} would upload over that run's).
func TestUploadTimeOfARunKilledBeforeItsRunJSON(t *testing.T) {
	named := time.Date(2026, 12, 5, 10, 40, 16, 0, time.UTC)
	started := named.Add(3386 * time.Millisecond)
	for _, tc := range []struct{ dir, kept, want string }{
		{"audit-20261205T104016Z", `{"upload":"s3://r/p/20261205T104016Z/"}`, "s3://r/p/20261205T104016Z/"},
		// Kept by a release that kept none, or for another template:
		// the first attempt's start.
		{"audit-20261205T104016Z", "", "s3://r/p/20261205T104019Z/"},
		{"audit-20261205T104016Z", `{"upload":"s3://other/20261205T104016Z/"}`, "s3://r/p/20261205T104019Z/"},
		{"20261205T090000Z-rerun", "", "s3://r/p/20261205T104019Z/"},
	} {
		dir := filepath.Join(t.TempDir(), tc.dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := audit.WriteAttempts(filepath.Join(dir, audit.AttemptsFile), []time.Time{started}); err != nil {
			t.Fatal(err)
		}
		line := `{"instance_id":"i-0123456789abcdef0","region":"us-east-1","outcome":"compliant","audited_at":"` + started.Add(time.Second).Format(time.RFC3339Nano) + `"}` + "\n"
		if err := os.WriteFile(filepath.Join(dir, audit.ResultsFile), []byte(line), 0o644); err != nil {
			t.Fatal(err)
		}
		if tc.kept != "" {
			if err := os.WriteFile(filepath.Join(dir, startFile), []byte(tc.kept+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		o := &runOptions{out: dir, now: func() time.Time { return started.Add(time.Hour) }}
		if got := resumedUpload(o, "s3://r/p/{time}/", "now"); got != tc.want {
			t.Errorf("%s, %s kept: upload %q, want %q", tc.dir, tc.kept, got, tc.want)
		}
	}
}
