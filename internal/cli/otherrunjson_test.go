package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
)

// TestReportRefusesAnotherRunsRunFile: the run.json of another run of the
// same list, copied beside a record, was taken for its own: the reports
// said that run's start, while every line said it was read by an attempt
// of the other. It is refused as another audit's run.json is, exit 2,
// naming the start no attempt of it made; the record's own run.json, and
// a merge of both runs rendered again, are not.
func TestReportRefusesAnotherRunsRunFile(t *testing.T) {
	r1, args, _ := goodRun(t, 20)
	r2 := filepath.Join(filepath.Dir(r1), "second")
	if got := runCLI(t, "", append(args, "--out", r2)...); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	mix := filepath.Join(t.TempDir(), "mix")
	os.MkdirAll(mix, 0o777)
	for _, c := range [][2]string{{filepath.Join(r1, audit.ResultsFile), audit.ResultsFile}, {filepath.Join(r2, audit.RunFile), audit.RunFile}} {
		b, err := os.ReadFile(c[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(mix, c[1]), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := runCLI(t, "", "report", filepath.Join(mix, audit.ResultsFile), "--out", filepath.Join(t.TempDir(), "mixout"), "--quiet")
	if got.code != int(exitUsage) {
		t.Fatalf("exit %d, want %d\n%s", got.code, exitUsage, got.stderr)
	}
	for _, w := range []string{filepath.Join(mix, audit.RunFile), "names no such attempt"} {
		if !strings.Contains(got.stderr, w) {
			t.Errorf("stderr does not say %q:\n%s", w, got.stderr)
		}
	}

	merged := filepath.Join(t.TempDir(), "merged")
	for _, in := range [][]string{
		{filepath.Join(r1, audit.ResultsFile)},
		{filepath.Join(r1, audit.ResultsFile), filepath.Join(r2, audit.ResultsFile)},
		{filepath.Join(merged, audit.ResultsFile)},
	} {
		out := merged
		if len(in) == 1 && in[0] != filepath.Join(merged, audit.ResultsFile) {
			out = filepath.Join(t.TempDir(), "own")
		}
		got := runCLI(t, "", append(append([]string{"report"}, in...), "--out", out, "--fail-on", "none", "--quiet")...)
		if got.code != 0 {
			t.Fatalf("report %v: exit %d\n%s", in, got.code, got.stderr)
		}
	}
}

// TestReportOfKilledResumeRenderedAgain: a resume killed before its
// run.json left results of an attempt that run.json does not name, whose
// start the directory keeps. Its report is taken (a later attempt's), and
// so is the report of that report: the run.json it writes names the
// attempt too.
func TestReportOfKilledResumeRenderedAgain(t *testing.T) {
	ids, url := slowFleet(t)
	out := filepath.Join(t.TempDir(), "out")
	args := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out,
		"--concurrency", "8", "--rate", "2000", "--fail-on", "none", "--quiet"}
	if got := runCLI(t, "", args...); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	record := filepath.Join(out, audit.ResultsFile)
	b, _ := os.ReadFile(record)
	os.WriteFile(record, []byte(strings.Join(strings.SplitAfter(string(b), "\n")[:10], "")), 0o644)
	runJSON, _ := os.ReadFile(filepath.Join(out, audit.RunFile))
	killedAttempt(t, append(slices.Clone(args), "--resume", "--concurrency", "2"))
	os.WriteFile(filepath.Join(out, audit.RunFile), runJSON, 0o644)

	first := filepath.Join(t.TempDir(), "first")
	if got := runCLI(t, "", "report", record, "--out", first, "--fail-on", "none", "--quiet"); got.code == int(exitUsage) {
		t.Fatalf("report: exit %d\n%s", got.code, got.stderr)
	}
	again := filepath.Join(t.TempDir(), "again")
	if got := runCLI(t, "", "report", filepath.Join(first, audit.ResultsFile), "--out", again, "--fail-on", "none", "--quiet"); got.code == int(exitUsage) {
		t.Fatalf("report of the report: exit %d\n%s", got.code, got.stderr)
	}
}

// copyFiles copies the files at the top of src (not its lock, not its
// directories) into dst, made if need be.
func copyFiles(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o777); err != nil {
		t.Fatal(err)
	}
	for name, b := range snapshot(t, src) {
		if err := os.WriteFile(filepath.Join(dst, name), []byte(b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOlderRunFileBesideKeptStarts: an older run's run.json copied into a
// later run's directory took the later run's start that the directory
// keeps (.auditor-attempts) for that of a resume killed before its
// run.json, and a report in place wrote it again naming both attempts.
// The starts a directory keeps are another run's when they do not hold
// the run.json's own start, and are not joined. The record is not
// refused: lines of an attempt after a run.json's are also those of a
// resume killed before it, which a copy or an auditor report of the
// previous release leaves unnamed, complete or not.
func TestOlderRunFileBesideKeptStarts(t *testing.T) {
	r1, args, _ := goodRun(t, 20)
	r2 := filepath.Join(filepath.Dir(r1), "second")
	if got := runCLI(t, "", append(args, "--out", r2)...); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	mix := filepath.Join(t.TempDir(), "mix")
	copyFiles(t, r2, mix)
	b, err := os.ReadFile(filepath.Join(r1, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mix, audit.RunFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	older, err := audit.ReadRunInfo(filepath.Join(r1, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	got := runCLI(t, "", "report", filepath.Join(mix, audit.ResultsFile), "--out", mix, "--fail-on", "none", "--quiet")
	if got.code == int(exitUsage) {
		t.Fatalf("exit %d, want the record taken\n%s", got.code, got.stderr)
	}
	written, err := audit.ReadRunInfo(filepath.Join(mix, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(written.AttemptStarts(), older.AttemptStarts(), time.Time.Equal) {
		t.Errorf("attempts %v, want the run.json's own %v: the later run's kept start is not its", written.AttemptStarts(), older.AttemptStarts())
	}
}

// TestResumeRefusesAnotherRunsRunFile: --resume did not ask whether the
// run.json beside the record was its own: with another run's there, it
// resumed, and wrote a run.json that the next report refused. It is
// refused as report refuses it (exit 2), before any call, naming the file,
// and nothing in --out changes: a later run's run.json beside an earlier
// record. (An earlier run's beside a later record is taken, as report
// takes it: see TestOlderRunFileBesideKeptStarts.)
func TestResumeRefusesAnotherRunsRunFile(t *testing.T) {
	r1, args, _ := goodRun(t, 20)
	r2 := filepath.Join(filepath.Dir(r1), "second")
	if got := runCLI(t, "", append(args, "--out", r2)...); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	for _, tt := range []struct{ name, record, runJSON string }{
		{"a later run's", r1, r2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mix := filepath.Join(t.TempDir(), "mix")
			copyFiles(t, tt.record, mix)
			// Half audited, so that the resume would call the endpoint,
			// which answers nothing.
			record := filepath.Join(mix, audit.ResultsFile)
			lines, _ := os.ReadFile(record)
			os.WriteFile(record, []byte(strings.Join(strings.SplitAfter(string(lines), "\n")[:10], "")), 0o644)
			b, err := os.ReadFile(filepath.Join(tt.runJSON, audit.RunFile))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(mix, audit.RunFile), b, 0o644); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, mix)
			got := runCLI(t, "", append(slices.Clone(args), "--out", mix, "--resume", "--endpoint-url", "http://127.0.0.1:1")...)
			if got.code != int(exitUsage) {
				t.Fatalf("exit %d, want %d\n%s", got.code, exitUsage, got.stderr)
			}
			for _, w := range []string{filepath.Join(mix, audit.RunFile), "names no such attempt"} {
				if !strings.Contains(got.stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, got.stderr)
				}
			}
			if after := snapshot(t, mix); !sameSnapshot(before, after) {
				t.Errorf("the refused resume changed %s", mix)
			}
		})
	}
}
