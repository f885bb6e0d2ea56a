package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/deliver/smtptest"
	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestMailOfAFailedRendering: a run whose rendering failed (a --template
// that fails on the record's data here; a full disk below) printed
// "reports in DIR" as if they were there, and auditor mail of it sent what
// was on disk and said "mailed the reports" (exit 0), naming no report
// missing. The run says its reports are not all written; the mail is
// refused before anything is sent (exit 2, as a directory whose run.json is
// not of its record), naming the missing reports and the command that
// renders them again; and a run that mails its reports mails nobody and
// says so.
func TestMailOfAFailedRendering(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	t.Setenv("AWS_REGION", "us-east-1")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	tmpl := writeFile(t, "fails.tmpl", "<h1>{{.Headline}}</h1>\n<p>{{(index .Failures.Rows 40).InstanceID}}</p>\n")
	ms := newMailSetup(t, smtptest.Options{})
	out := filepath.Join(t.TempDir(), "out")
	run := []string{"run", "--instances", ids, "--endpoint-url", url, "--out", out, "--fail-on", "none", "--template", tmpl}

	got := runCLI(t, "", append(run, append([]string{"--mail-to", "ops@example.com"}, ms.args...)...)...)
	if got.code != int(exitFatal) {
		t.Fatalf("run: exit %d, want 4\n%s", got.code, got.stderr)
	}
	if n := len(ms.srv.Messages()); n != 0 {
		t.Errorf("run: %d messages, want none: its reports are not all written\n%s", n, got.stderr)
	}
	for _, bad := range []string{"\nreports in " + out, "open " + filepath.Join(out, report.HTMLFile), "mailed the reports"} {
		if strings.Contains(got.stderr, bad) {
			t.Errorf("run: stderr says %q:\n%s", bad, got.stderr)
		}
	}
	says := func(sub, also string) bool {
		return slices.ContainsFunc(strings.Split(got.stderr, "\n"), func(l string) bool { return strings.Contains(l, sub) && strings.Contains(l, also) })
	}
	if !says("not all written", report.HTMLFile) {
		t.Errorf("run: no line says that the reports are not all written, naming %s:\n%s", report.HTMLFile, got.stderr)
	}
	if !says("not mailed", "auditor mail") {
		t.Errorf("run: no line says that the reports were not mailed, with the auditor mail that mails them:\n%s", got.stderr)
	}

	got = runCLI(t, "", append([]string{"mail", out, "--to", "ops@example.com"}, ms.args...)...)
	if got.code != int(exitUsage) {
		t.Fatalf("mail: exit %d, want 2\n%s", got.code, got.stderr)
	}
	again := "auditor report " + shellQuote(filepath.Join(out, audit.ResultsFile)) + " --out " + shellQuote(out)
	for _, w := range []string{out, report.HTMLFile, again, "--template " + shellQuote(tmpl)} {
		if !strings.Contains(got.stderr, w) {
			t.Errorf("mail: stderr does not say %q:\n%s", w, got.stderr)
		}
	}
	if strings.Contains(got.stderr, "mailed") {
		t.Errorf("mail: stderr says mailed:\n%s", got.stderr)
	}
	if n := len(ms.srv.Messages()); n != 0 {
		t.Errorf("mail: %d messages, want none", n)
	}
}

// TestMailOfWholeReportsThatLackSomeFormat: the reports that a directory
// holds are whole when they are those of the formats its run.json records
// (--format csv,json: no workbook, no report.html), for a group's
// directory of a split, a merge rendered by auditor report, and a run.json
// that records no options at all (not the auditor's to say): each is
// mailed.
func TestMailOfWholeReportsThatLackSomeFormat(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	t.Setenv("AWS_REGION", "us-east-1")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	ids := writeFile(t, "fleet.csv", "instance_id,owner\ni-0123456789abcdef0,alice\ni-0123456789abcdef1,bob\n")
	ms := newMailSetup(t, smtptest.Options{})
	dir := t.TempDir()
	csvJSON := filepath.Join(dir, "csvjson")
	split := filepath.Join(dir, "split")
	merged := filepath.Join(dir, "merged")
	noOptions := filepath.Join(dir, "nooptions")
	for _, args := range [][]string{
		{"run", "--instances", ids, "--endpoint-url", url, "--out", csvJSON, "--format", "csv,json"},
		{"run", "--instances", ids, "--endpoint-url", url, "--out", split, "--format", "csv,xlsx", "--split-by", "owner"},
		{"report", filepath.Join(csvJSON, audit.ResultsFile), "--out", merged, "--format", "xlsx"},
		{"run", "--instances", ids, "--endpoint-url", url, "--out", noOptions},
	} {
		if got := runCLI(t, "", append(args, "--quiet", "--fail-on", "none")...); got.code != 0 {
			t.Fatalf("%q: exit %d\n%s", args, got.code, got.stderr)
		}
	}
	// A run.json that records no options: which reports it had is not
	// known, and one missing is no sign of a failed rendering.
	p := filepath.Join(noOptions, audit.RunFile)
	var ri map[string]any
	b, err := os.ReadFile(p)
	if err == nil {
		err = json.Unmarshal(b, &ri)
	}
	if err != nil {
		t.Fatal(err)
	}
	delete(ri, "options")
	if b, err = json.Marshal(ri); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(noOptions, report.HTMLFile)); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		dir    string
		attach []string
	}{
		{"--format csv,json", csvJSON, []string{report.ErrorCodesCSV}},
		{"one group of a split", filepath.Join(split, "by-owner", "alice"), []string{report.XLSXFile, report.ErrorCodesCSV}},
		{"a merge in xlsx alone", merged, []string{report.XLSXFile}},
		{"a run.json without options", noOptions, []string{report.XLSXFile, report.ErrorCodesCSV}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n := len(ms.srv.Messages())
			got := runCLI(t, "", append([]string{"mail", tt.dir, "--to", "ops@example.com"}, ms.args...)...)
			if got.code != 0 {
				t.Fatalf("exit %d, want 0\n%s", got.code, got.stderr)
			}
			if a := attachments(t, ms, n); len(a) != 1 || !slices.Equal(a[0], tt.attach) {
				t.Errorf("attached %q, want one message with %q", a, tt.attach)
			}
		})
	}
}

// TestFailedRenderingOfARetryNamesOnlyTheUnmailed: a retry of a run that
// had mailed ops, whose rendering then failed, printed an auditor mail
// naming every --mail-to address, ops's too, so that running it mailed ops
// a second time. It names only those no attempt mailed, and says who had
// the reports.
func TestFailedRenderingOfARetryNamesOnlyTheUnmailed(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	t.Setenv("AWS_REGION", "us-east-1")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	tmpl := writeFile(t, "fails.tmpl", "<h1>{{.Headline}}</h1>\n<p>{{(index .Failures.Rows 40).InstanceID}}</p>\n")
	ms := newMailSetup(t, smtptest.Options{})
	out := filepath.Join(t.TempDir(), "out")
	run := []string{"run", "--instances", ids, "--endpoint-url", url, "--out", out, "--fail-on", "none", "--resume"}
	if got := runCLI(t, "", append(run, append([]string{"--mail-to", "ops@example.com"}, ms.args...)...)...); got.code != 0 || len(ms.srv.Messages()) != 1 {
		t.Fatalf("first attempt: exit %d, %d messages, want 0 and 1\n%s", got.code, len(ms.srv.Messages()), got.stderr)
	}
	got := runCLI(t, "", append(run, append([]string{"--template", tmpl, "--mail-to", "ops@example.com,sec@example.com"}, ms.args...)...)...)
	if got.code != int(exitFatal) || len(ms.srv.Messages()) != 1 {
		t.Fatalf("the retry whose rendering failed: exit %d, %d messages, want 4 and none more\n%s", got.code, len(ms.srv.Messages())-1, got.stderr)
	}
	cmds := commandsAfter(t, got.stderr, "mail them with: ")
	if len(cmds) != 1 || !slices.Contains(cmds[0], "sec@example.com") || slices.ContainsFunc(cmds[0], func(w string) bool { return strings.Contains(w, "ops@") }) {
		t.Errorf("commands that mail the reports once rendered: %q, want one, to sec@example.com alone\n%s", cmds, got.stderr)
	}
	if !strings.Contains(got.stderr, "already mailed") {
		t.Errorf("stderr does not say that an earlier attempt mailed ops@example.com\n%s", got.stderr)
	}
}
