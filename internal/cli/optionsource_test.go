package cli

import (
	"strings"
	"testing"
)

// TestProblemsSayWhereOptionsCameFrom: a value refused once the flags are
// parsed (an unknown format, a number out of range) is named by its flag;
// when options came from AUDITOR_* or --cli-input-json, the refusal says
// which, so that a scheduled job's owner who finds no such flag in its
// command line knows where to look. Values are not repeated: an option may
// hold a URL with a login.
func TestProblemsSayWhereOptionsCameFrom(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	file := writeFile(t, "weekly.json", `{"fail-on": ["bogus"], "concurrency": 4}`)
	for _, tt := range []struct {
		name    string
		env     map[string]string
		args    []string
		want    []string
		notWant []string
	}{
		{
			name: "format from the environment",
			env:  map[string]string{"AUDITOR_FORMAT": "pdf"},
			args: []string{"run", "--instance-id", "i-0123456789abcdef0", "--region", "us-east-1"},
			want: []string{`unknown report format "pdf"`, "from the environment: AUDITOR_FORMAT"},
		},
		{
			name: "a number from the environment",
			env:  map[string]string{"AUDITOR_MAX_PAGES": "0", "AUDITOR_QUIET": "true"},
			args: []string{"run", "--instance-id", "i-0123456789abcdef0", "--region", "us-east-1"},
			want: []string{"--max-pages 0: want at least 1", "from the environment: AUDITOR_MAX_PAGES, AUDITOR_QUIET"},
		},
		{
			name:    "an enum from the options file",
			args:    []string{"run", "--cli-input-json", file, "--instance-id", "i-0123456789abcdef0", "--region", "us-east-1"},
			want:    []string{`--fail-on "bogus"`, "(options from --cli-input-json " + file + ")"},
			notWant: []string{"from the environment"},
		},
		{
			name: "mail's own check",
			env:  map[string]string{"AUDITOR_MAIL_MAX_BODY": "5"},
			args: []string{"mail", t.TempDir(), "--to", "ops@example.com", "--mail-from", "audit@example.com", "--smtp", "smtp://localhost:25"},
			want: []string{"--mail-max-body 5: want at least", "from the environment: AUDITOR_MAIL_MAX_BODY"},
		},
		{
			name: "the log format",
			env:  map[string]string{"AUDITOR_LOG_FORMAT": "xml"},
			args: []string{"run", "--instance-id", "i-0123456789abcdef0", "--region", "us-east-1"},
			want: []string{`--log-format "xml": want text or json`, "from the environment: AUDITOR_LOG_FORMAT"},
		},
		{
			name:    "the command line alone",
			args:    []string{"run", "--format", "pdf", "--instance-id", "i-0123456789abcdef0", "--region", "us-east-1"},
			want:    []string{`unknown report format "pdf"`},
			notWant: []string{"from the environment", "from --cli-input-json"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			got := runCLI(t, "", tt.args...)
			if got.code != 2 {
				t.Fatalf("exit %d, want 2\n%s", got.code, got.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(got.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, got.stderr)
				}
			}
			if strings.Contains(got.stderr, "problems:") {
				t.Errorf("the note counted as a problem:\n%s", got.stderr)
			}
			for _, w := range tt.notWant {
				if strings.Contains(got.stderr, w) {
					t.Errorf("stderr has %q:\n%s", w, got.stderr)
				}
			}
		})
	}
}
