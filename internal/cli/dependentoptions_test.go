package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestDependentOptionsRefused: an option that means something only with
// another (a mail set-up without recipients, an encryption without an
// upload, a role's session settings without a role) was taken and did
// nothing: a run with --smtp and --mail-from and no --mail-to exited with
// its verdict and mailed nobody, without a word. It is refused before
// anything is asked of AWS (exit 2), saying what to add, where the user
// set it for the command: on the command line or in --cli-input-json (an
// AUDITOR_* variable reaches every command of a job: see
// TestDependentOptionsLeftAtDefault).
func TestDependentOptionsRefused(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, srv := serve(t, handFleet(false), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	// The record that auditor report renders.
	record := filepath.Join(t.TempDir(), "first")
	if got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", record, "--quiet"); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	tmpl := writeFile(t, "ok.tmpl", "<h1>{{.Headline}}</h1>\n")
	tests := []struct {
		name string
		cmd  string // run or report
		args []string
		env  map[string]string
		file string // the --cli-input-json file's content
		want []string
	}{
		{name: "a mail set-up without recipients", cmd: "run",
			args: []string{"--smtp", "smtp://localhost:2525", "--mail-from", "Auditor <audit@example.com>", "--mail-when", "always"},
			want: []string{"--mail-from, --smtp and --mail-when need --mail-to ADDRESSES, or --mail-to-label LABEL"}},
		{name: "a mail's size alone", cmd: "run", args: []string{"--mail-max-body", "20000"},
			want: []string{"--mail-max-body needs --mail-to ADDRESSES, or --mail-to-label LABEL"}},
		{name: "a report's mail set-up without recipients", cmd: "report", args: []string{"--mail-from", "audit@example.com", "--mail-via", "ses"},
			want: []string{"--mail-from and --mail-via need --mail-to"}},
		{name: "an encryption without an upload", cmd: "run", args: []string{"--upload-sse", "aws:kms"},
			want: []string{"--upload-sse needs --upload s3://BUCKET/PREFIX/"}},
		{name: "a report's encryption without an upload", cmd: "report", args: []string{"--upload-sse", "AES256", "--upload-bucket-owner", "111122223333"},
			want: []string{"--upload-sse and --upload-bucket-owner need --upload"}},
		{name: "an external ID without a role", cmd: "run", args: []string{"--external-id", "abc"},
			want: []string{"--external-id needs --role-name ROLE, or --role-arn ARN"}},
		{name: "a role's sessions without a role", cmd: "run", args: []string{"--role-session-name", "xy", "--role-duration", "2h"},
			want: []string{"--role-session-name and --role-duration need --role-name ROLE, or --role-arn ARN"}},
		{name: "a mail's condition from the file", cmd: "run", file: `{"mail-when": "changes"}`,
			want: []string{"--mail-when needs --mail-to", "from --cli-input-json"}},
		// report.html alone is shaped by them: with --format csv they were
		// taken without a word, and nothing was made of them.
		{name: "a template without html", cmd: "run", args: []string{"--format", "csv", "--template", tmpl},
			want: []string{"--template needs html in --format", "add html to --format, or leave out --template"}},
		{name: "a report's rows without html", cmd: "report", args: []string{"--format", "csv,xlsx", "--html-max-rows", "100"},
			want: []string{"--html-max-rows needs html in --format"}},
		// summary.json's lists hold 1,000 rows whatever it says under that.
		{name: "a report's rows for summary.json under its least", cmd: "report", args: []string{"--format", "json", "--html-max-rows", "200"},
			want: []string{"--html-max-rows needs html in --format", "past 1000"}},
		{name: "a report's template without html", cmd: "report", args: []string{"--format", "xlsx", "--template", tmpl, "--html-max-rows", "100"},
			want: []string{"--template and --html-max-rows need html in --format", "or leave them out"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			srv.ResetStats()
			out := filepath.Join(t.TempDir(), "out")
			args := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet"}
			if tt.cmd == "report" {
				args = []string{"report", filepath.Join(record, "results.jsonl"), "--out", out, "--quiet"}
			}
			if tt.file != "" {
				args = append(args, "--cli-input-json", writeFile(t, "options.json", tt.file))
			}
			got := runCLI(t, "", append(args, tt.args...)...)
			if got.code != int(exitUsage) {
				t.Fatalf("exit %d, want 2\n%s", got.code, got.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(got.stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, got.stderr)
				}
			}
			if n := srv.Stats().Requests; n != 0 {
				t.Errorf("%d requests before the refusal, want none", n)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("the output directory was made")
			}
		})
	}
}

// TestDependentOptionsLeftAtDefault: what the user did not set is not
// refused: a file of --generate-cli-skeleton holds every option at its
// default (mail-when always, mail-max-body, role-duration 0s), a variable
// may give an option its default, and an empty value on the command line
// over a variable leaves the option unset.
func TestDependentOptionsLeftAtDefault(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	skeleton := runCLI(t, "", "run", "--generate-cli-skeleton")
	if skeleton.code != 0 {
		t.Fatalf("--generate-cli-skeleton: exit %d\n%s", skeleton.code, skeleton.stderr)
	}
	file := writeFile(t, "weekly.json", skeleton.stdout)
	tests := []struct {
		name string
		args []string
		env  map[string]string
	}{
		{name: "a skeleton's defaults", args: []string{"--cli-input-json", file}},
		{name: "a default from the environment", env: map[string]string{"AUDITOR_MAIL_WHEN": "always", "AUDITOR_ROLE_DURATION": "0s", "AUDITOR_MAIL_MAX_BODY": "100000"}},
		// A job's variables reach every command it runs, and those the
		// auditor prints to run again: AUDITOR_MAIL_WHEN for the run
		// reaches the auditor report --split-by it prints.
		{name: "a job's variables", env: map[string]string{"AUDITOR_MAIL_WHEN": "changes", "AUDITOR_SMTP": "smtp://localhost:2525", "AUDITOR_MAIL_FROM": "a@example.com", "AUDITOR_UPLOAD_SSE": "AES256", "AUDITOR_EXTERNAL_ID": "job-42"}},
		{name: "a variable emptied on the command line", args: []string{"--smtp=", "--upload-sse="},
			env: map[string]string{"AUDITOR_SMTP": "smtp://localhost:2525", "AUDITOR_UPLOAD_SSE": "AES256"}},
		// summary.json's lists hold --html-max-rows rows past 1,000.
		{name: "rows for summary.json alone", args: []string{"--format", "json", "--html-max-rows", "5000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			got := runCLI(t, "", append([]string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1",
				"--out", filepath.Join(t.TempDir(), "out"), "--quiet"}, tt.args...)...)
			if got.code != int(exitOK) {
				t.Errorf("exit %d, want 0\n%s", got.code, got.stderr)
			}
		})
	}
}
