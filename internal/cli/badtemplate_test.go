package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestBadTemplateRefusedBeforeAWS: a --template naming a field the report
// has not (inside a range, which the empty model it was checked against
// never entered) audited the whole fleet, then failed to write report.html
// and exited 4 calling the output "directory not writable". It is refused
// before the first call, exit 2, naming the file, the line and the field,
// by run, report and demo alike, and no output directory is made.
func TestBadTemplateRefusedBeforeAWS(t *testing.T) {
	url, srv, ids, earlier := earlierRun(t)
	tmpl := writeFile(t, "bad.tmpl", "<h1>{{.Headline}}</h1>\n{{range .Failures.Rows}}<p>{{.Nope}}</p>{{end}}\n")
	tests := []struct {
		name string
		args []string
	}{
		{"run", []string{"run", "--instances", ids, "--endpoint-url", url}},
		{"report", []string{"report", filepath.Join(earlier, audit.ResultsFile)}},
		{"demo", []string{"demo", "--fleet-size", "5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.ResetStats()
			out := filepath.Join(t.TempDir(), "out")
			got := runCLI(t, "", append(tt.args, "--out", out, "--quiet", "--template", tmpl)...)
			if got.code != int(exitUsage) {
				t.Fatalf("exit %d, want %d\n%s", got.code, exitUsage, got.stderr)
			}
			for _, w := range []string{"--template", tmpl, "bad.tmpl:2:", "Nope"} {
				if !strings.Contains(got.stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, got.stderr)
				}
			}
			if strings.Contains(got.stderr, "not writable") {
				t.Errorf("stderr blames the directory:\n%s", got.stderr)
			}
			if n := srv.Stats().Requests; n > 0 {
				t.Errorf("%d requests before the refusal", n)
			}
			if _, err := os.Lstat(out); err == nil {
				t.Errorf("%s was made for a refused command", out)
			}
		})
	}
}

// TestTemplateFailingOnDataIsNoUnwritableDirectory: a template that the
// check cannot fault (an index past the rows the sample has, which a
// fleet may have) and that fails on the record's data leaves report.html
// unwritten: exit 4, as any report not written, saying that the template
// failed, never that the directory cannot be written; the other reports
// are written.
func TestTemplateFailingOnDataIsNoUnwritableDirectory(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	t.Setenv("AWS_REGION", "us-east-1")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	tmpl := writeFile(t, "fails.tmpl", "<h1>{{.Headline}}</h1>\n<p>{{(index .Failures.Rows 40).InstanceID}}</p>\n")
	run := filepath.Join(t.TempDir(), "run")
	rep := filepath.Join(t.TempDir(), "rep")
	for _, tt := range []struct {
		name string
		args []string
		out  string
	}{
		{"run", []string{"run", "--instances", ids, "--endpoint-url", url}, run},
		{"report", []string{"report", filepath.Join(run, audit.ResultsFile)}, rep},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := runCLI(t, "", append(tt.args, "--out", tt.out, "--quiet", "--template", tmpl)...)
			if got.code != int(exitFatal) {
				t.Fatalf("exit %d, want %d\n%s", got.code, exitFatal, got.stderr)
			}
			for _, w := range []string{tmpl, "fails.tmpl:2:", "index out of range", report.HTMLFile + " not written"} {
				if !strings.Contains(got.stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, got.stderr)
				}
			}
			if strings.Contains(got.stderr, "not writable") {
				t.Errorf("stderr calls the output not writable, and it was written:\n%s", got.stderr)
			}
			for _, name := range []string{audit.RunFile, report.SummaryFile, report.InstancesCSV, report.XLSXFile} {
				if _, err := os.Stat(filepath.Join(tt.out, name)); err != nil {
					t.Errorf("%s not written beside the failed template: %v", name, err)
				}
			}
			if _, err := os.Stat(filepath.Join(tt.out, report.HTMLFile)); err == nil {
				t.Errorf("%s written, and its template failed", report.HTMLFile)
			}
		})
	}
}
