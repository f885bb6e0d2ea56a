package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/deliver/smtptest"
)

// TestMailQuiet: auditor mail of a report per owner, from a scheduled job,
// wrote a line for each owner mailed (3,000 lines for 3,000 owners) and
// took no --quiet, as run, demo and report do. With it, the owners are
// mailed and stderr says nothing of each.
func TestMailQuiet(t *testing.T) {
	out := ownersRun(t)
	ms := newMailSetup(t, smtptest.Options{})
	got := runCLI(t, "", append([]string{"mail", out, "--mail-to-label", "owner_email", "--quiet"}, ms.args...)...)
	if got.code != 0 {
		t.Fatalf("exit %d, want 0\n%s", got.code, got.stderr)
	}
	if n := len(ms.srv.Messages()); n != 3 {
		t.Errorf("the server got %d messages, want one for each of 3 owners", n)
	}
	if strings.Contains(got.stderr, "mailed the reports to") {
		t.Errorf("--quiet: want no line for each mail sent\n%s", got.stderr)
	}
}

// TestMailLogFormatJSON: a job whose stderr is read as JSON records
// (AUDITOR_LOG_FORMAT=json, as the shipped schedule sets for its runs) got
// text lines from auditor mail, which took no --log-format: the mail's
// lines are records too, on the command line and from the environment.
func TestMailLogFormatJSON(t *testing.T) {
	out := ownersRun(t)
	ms := newMailSetup(t, smtptest.Options{})
	for _, how := range []struct {
		name string
		args []string
		env  string
	}{
		{"flag", []string{"--log-format", "json"}, ""},
		{"environment", nil, "json"},
	} {
		t.Run(how.name, func(t *testing.T) {
			if how.env != "" {
				t.Setenv("AUDITOR_LOG_FORMAT", how.env)
			}
			args := append([]string{"mail", out, "--to", "ops@example.com"}, how.args...)
			got := runCLI(t, "", append(args, ms.args...)...)
			if got.code != 0 {
				t.Fatalf("exit %d, want 0\n%s", got.code, got.stderr)
			}
			var msgs []string
			for line := range strings.Lines(got.stderr) {
				var rec struct{ Level, Msg string }
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatalf("a line of stderr is not a JSON record (%v): %q\n%s", err, line, got.stderr)
				}
				msgs = append(msgs, rec.Msg)
			}
			if len(msgs) == 0 || !strings.Contains(strings.Join(msgs, "\n"), "mailed the reports to ops@example.com") {
				t.Errorf("want a record of the mail sent, got %q", msgs)
			}
		})
	}
}
