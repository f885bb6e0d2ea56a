package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestReportRefusesLyingOutcomes: `auditor report` trusted each line's
// outcome. One that is no outcome ("Compliant ", with a space) fell into no
// count: the headline said 0% non-compliant above a list of failures, and
// run.json said complete with an outcome of its own. One that its own
// associations contradict (compliant beside a Failed row, not_managed with
// rows) was counted one way and listed another, and error_codes.csv
// counted a failure of an instance that was not audited. Each is refused
// as a bad record line is, naming the file, the line and the value,
// before anything is written.
func TestReportRefusesLyingOutcomes(t *testing.T) {
	const (
		success = `{"AssociationId":"a-1","Name":"AWS-RunPatchBaseline","Status":"Success","ExecutionDate":"2026-11-24T07:00:00Z"}`
		failed  = `{"AssociationId":"a-2","Name":"AWS-RunPatchBaseline","Status":"Failed","ErrorCode":"1","ExecutionDate":"2026-11-24T07:00:00Z"}`
	)
	line := func(id int, oc string, assocs ...string) string {
		return fmt.Sprintf(`{"schema":%d,"region":"us-east-1","instance_id":"i-%017x","outcome":%q,"pages":1,"audited_at":"2026-11-24T08:00:00Z","associations":[%s]}`+"\n",
			audit.Schema, id, oc, strings.Join(assocs, ","))
	}
	for _, tt := range []struct{ name, line, shown string }{
		{"trailing space", line(2, "Compliant ", success, failed), `:2: outcome "Compliant "`},
		{"unknown", line(2, "bogus", failed), `:2: outcome "bogus"`},
		{"compliant with a failure", line(2, "compliant", success, failed), `:2: outcome "compliant": its associations make it "noncompliant"`},
		{"noncompliant with none failed", line(2, "noncompliant", success), `:2: outcome "noncompliant": its associations make it "compliant"`},
		{"not_managed with rows", line(2, "not_managed", failed), `:2: outcome "not_managed" with 1 association`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := filepath.Join(t.TempDir(), audit.ResultsFile)
			if err := os.WriteFile(rec, []byte(line(1, "compliant", success)+tt.line+line(3, "noncompliant", failed)), 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "out")
			got := runCLI(t, "", "report", rec, "--out", out, "--fail-on", "none", "--quiet")
			if want := rec + tt.shown; got.code != 2 || !strings.Contains(got.stderr, want) {
				t.Errorf("exit %d, want 2 and an error containing %q\n%s", got.code, want, got.stderr)
			}
			if entries, err := os.ReadDir(out); err == nil && len(entries) > 0 {
				t.Errorf("a refused record was rendered: %s holds %d entries", out, len(entries))
			}
		})
	}
}

// TestBaselineRefusedLineNamedOnce: a baseline whose record holds a line
// the reader refuses (past its first, which the check before the run
// reads) was told as "--baseline: baseline: ...", and skipped by
// --baseline previous as "skipped DIR: --baseline: baseline: ...".
func TestBaselineRefusedLineNamedOnce(t *testing.T) {
	url, _, ids, earlier := earlierRun(t)
	record := filepath.Join(earlier, audit.ResultsFile)
	b, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	lines[1] = strings.Replace(lines[1], `"outcome":"`, `"outcome":"x`, 1)
	if err := os.WriteFile(record, []byte(strings.Join(lines, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, baseline := range []string{earlier, "previous"} {
		got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--out", filepath.Join(filepath.Dir(earlier), "now-"+filepath.Base(baseline)),
			"--baseline", baseline, "--fail-on", "none", "--quiet")
		if strings.Contains(got.stderr, "baseline: baseline:") || !strings.Contains(got.stderr, "results.jsonl:2") {
			t.Errorf("--baseline %s: exit %d; want the refused line named once, by file and line:\n%s", baseline, got.code, got.stderr)
		}
	}
}
