package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestReportCleansCraftedOutputURLs: a record written by another tool, or
// before the output URL was cleaned of these forms (a login after no
// scheme, s3: or blob:; a token behind an escaped '=', a ';' or a space),
// reached results.jsonl, associations.csv, summary.json and report.html
// as it was through auditor report.
func TestReportCleansCraftedOutputURLs(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	const bare = "https://ssm-out.s3.amazonaws.com/run/stdout"
	crafted := []string{
		"AKIAEXAMPLESECRETID:SuperSecretValue123@bucket.s3.amazonaws.com/k1",
		"s3:AKIAEXAMPLESECRETID:SuperSecretValue123@bucket/k2",
		"blob:https://AKIAEXAMPLESECRETID:SuperSecretValue123@bucket/k3",
		"view-source:https://AKIAEXAMPLESECRETID:SuperSecretValue123@bucket/k4",
		bare + "?X-Amz-Security-Token%3DCRAFTEDTOKEN",
		bare + "?a=1;X-Amz-Security-Token=CRAFTEDTOKEN",
		bare + "?X-Amz-Security-Token =CRAFTEDTOKEN",
		bare + "?X-Amz-Security-Token[]=CRAFTEDTOKEN",
	}
	var lines strings.Builder
	for i, u := range crafted {
		fmt.Fprintf(&lines, `{"schema":%d,"region":"us-east-1","instance_id":"i-%017x","outcome":"noncompliant","pages":1,"audited_at":"2026-11-24T08:00:00Z",`+
			`"associations":[{"AssociationId":"a-%d","Name":"AWS-RunShellScript","Status":"Failed","DetailedStatus":"Failed","ExecutionDate":"2026-11-24T07:00:00Z",`+
			`"OutputUrl":{"S3OutputUrl":{"OutputUrl":%q}}}]}`+"\n", audit.Schema, i+1, i, u)
	}
	rec := writeFile(t, "crafted.jsonl", lines.String())
	out := filepath.Join(t.TempDir(), "cr")
	got := runCLI(t, "", "report", rec, "--out", out, "--format", "csv,html,json", "--fail-on", "none", "--quiet")
	// Incomplete: a record without its run.json says nothing of the targets.
	if got.code != int(exitIncomplete) {
		t.Fatalf("exit %d, want %d\n%s", got.code, exitIncomplete, got.stderr)
	}
	read := 0
	err := filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		read++
		for _, s := range []string{"AKIAEXAMPLESECRETID", "SuperSecretValue123", "CRAFTEDTOKEN"} {
			if strings.Contains(string(b), s) {
				t.Errorf("%s holds %q", filepath.Base(p), s)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if read == 0 {
		t.Fatalf("auditor report wrote nothing in %s", out)
	}
	if s := got.stdout + got.stderr; strings.Contains(s, "SuperSecretValue123") || strings.Contains(s, "CRAFTEDTOKEN") {
		t.Errorf("the output holds a secret:\n%s", s)
	}
}
