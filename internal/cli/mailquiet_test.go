package cli

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/deliver"
	"github.com/auditor-dev/auditor/deliver/smtptest"
	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
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

// TestMailKeepsTheRunsHTMLMaxRows: auditor mail of a run rendered with
// --html-max-rows 3 listed the default 20 failure rows, where the run's
// own mail listed 3: the mail of the same reports said another thing.
func TestMailKeepsTheRunsHTMLMaxRows(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 21, Size: 60})
	var b bytes.Buffer
	fleet.WriteIDs(&b)
	url, _ := serve(t, fleet, ssmsim.Options{})
	ms := newMailSetup(t, smtptest.Options{})
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", append([]string{"run", "--instances", writeFile(t, "ids.txt", b.String()), "--endpoint-url", url, "--region", "us-east-1",
		"--out", out, "--quiet", "--fail-on", "none", "--html-max-rows", "3", "--mail-to", "ops@example.com"}, ms.args...)...)
	if got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	more := regexp.MustCompile(`\d[\d,]* more [a-z ]+ in `)
	want := more.FindAllString(textTo(t, ms, 0, "ops@example.com"), -1)
	if len(want) == 0 {
		t.Fatalf("the run's mail cut no list at 3 rows: the test checks nothing\n%s", textTo(t, ms, 0, "ops@example.com"))
	}
	got = runCLI(t, "", append([]string{"mail", out, "--to", "ops@example.com"}, ms.args...)...)
	if got.code != 0 {
		t.Fatalf("mail: exit %d\n%s", got.code, got.stderr)
	}
	if again := more.FindAllString(textTo(t, ms, 1, "ops@example.com"), -1); !slices.Equal(again, want) {
		t.Errorf("auditor mail cut its lists at %q, the run's mail at %q", again, want)
	}
}

// TestFitMailNamesOnlyWhatIsAttached: with the workbook left out, the body
// that says where the reports are instead can be longer than the one that
// named it attached, and the error codes then fitted no more: the mail
// went without them (or, since, was not sent) while its body said
// "Attached: error_codes.csv". The fit goes on until every attachment
// the body names is in the message, with room for the Date and
// Message-ID of the message sent.
func TestFitMailNamesOnlyWhatIsAttached(t *testing.T) {
	dir := t.TempDir()
	xlsx, csv := filepath.Join(dir, "report.xlsx"), filepath.Join(dir, "error_codes.csv")
	writeRandom(t, xlsx, 50_000)
	writeRandom(t, csv, 9_000)
	body := func(attached []string) (string, string, error) {
		text := "Attached: " + strings.Join(attached, ", ")
		if len(attached) < 2 {
			text += "; the others are in the reports at " + strings.Repeat("d", 6_000)
		}
		return "", text, nil
	}
	base := deliver.Message{From: "a@example.com", To: []string{"b@example.com"}, Subject: "s", Text: "Attached: " + csv}
	small := base
	small.Attachments = []string{csv}
	raw, _, err := small.Build()
	if err != nil {
		t.Fatal(err)
	}
	max := int64(len(raw)) + 100 // the short body and the error codes
	msg := base
	left, err := fitMail(&msg, []string{xlsx, csv}, max, body)
	if err != nil {
		t.Fatal(err)
	}
	_, out, err := msg.Build()
	if err != nil || len(out) > 0 || len(msg.Attachments) > 0 || !slices.Equal(left, []string{xlsx, csv}) || msg.Text != "Attached: ; the others are in the reports at "+strings.Repeat("d", 6_000) {
		t.Errorf("attached %q, left out %q then %q (%v), body %.40q; want nothing attached, both left out, and a body that says so",
			msg.Attachments, left, out, err, msg.Text)
	}
	for range 20 {
		// Another Date and Message-ID each time, as Send's build has.
		if _, out, err := msg.Build(); err != nil || len(out) > 0 {
			t.Fatalf("built again: left out %q, %v", out, err)
		}
	}
}

func writeRandom(t *testing.T, path string, n int) {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestMailSubjectCheckedForAGroup: a --mail-subject was tried only as a
// whole run's mail's, without a group: a field of the group that does not
// exist, inside {{with .Group}}, passed, and every owner's mail then
// failed after the run (exit 5); .Group.Label, outside it, was refused
// with Go's words alone.
func TestMailSubjectCheckedForAGroup(t *testing.T) {
	out := ownersRun(t)
	ms := newMailSetup(t, smtptest.Options{})
	for _, tt := range []struct{ subject, want string }{
		{"{{with .Group}}{{.Team}}{{end}} {{.Headline}}", "Team"},
		{"{{.Group.Label}}: {{.Headline}}", "{{with .Group}}"},
	} {
		got := runCLI(t, "", append([]string{"mail", out, "--mail-to-label", "owner_email", "--mail-subject", tt.subject}, ms.args...)...)
		if got.code != int(exitUsage) || !strings.Contains(got.stderr, tt.want) {
			t.Errorf("--mail-subject %q: exit %d, want %d naming %q\n%s", tt.subject, got.code, exitUsage, tt.want, got.stderr)
		}
	}
	if n := len(ms.srv.Messages()); n != 0 {
		t.Errorf("%d messages sent, want none", n)
	}
	got := runCLI(t, "", append([]string{"mail", out, "--mail-to-label", "owner_email", "--mail-subject", "{{with .Group}}{{.Label}}={{.Value}}{{end}} {{.Headline}}"}, ms.args...)...)
	if got.code != 0 || len(ms.srv.Messages()) != 3 {
		t.Fatalf("a subject of the group's parts: exit %d, %d messages, want 0 and 3\n%s", got.code, len(ms.srv.Messages()), got.stderr)
	}
	for _, msg := range ms.srv.Messages() {
		if m, err := smtptest.Parse(msg.Data); err != nil || !strings.HasPrefix(m.Subject, "owner=") {
			t.Errorf("subject of the mail to %q does not name its group: %v", msg.To, err)
		}
	}
}

// TestLeftOutSaidOfOneMail: a run split by owner that mails only its own
// reports (--mail-to, no --mail-to-label) said of its one mail that
// "other groups' mails may leave theirs out too".
func TestLeftOutSaidOfOneMail(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, ownersFleet("alice"), ssmsim.Options{})
	list := writeFile(t, "fleet.csv", ownersList)
	run := func(ms mailSetup) cliResult {
		return runCLI(t, "", append([]string{"run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", filepath.Join(t.TempDir(), "out"), "--quiet",
			"--fail-on", "none", "--split-by", "owner", "--mail-to", "ops@example.com"}, ms.args...)...)
	}
	whole := newMailSetup(t, smtptest.Options{})
	if got := run(whole); got.code != 0 || len(whole.srv.Messages()) != 1 {
		t.Fatalf("exit %d, %d messages; want 0 and 1\n%s", got.code, len(whole.srv.Messages()), got.stderr)
	}
	// Under the whole message by more than its paths' lengths differ
	// between the two runs (each in a TempDir of its own).
	small := newMailSetup(t, smtptest.Options{MaxSize: int64(len(whole.srv.Messages()[0].Data) - 500)})
	got := run(small)
	if got.code != 0 || !strings.Contains(got.stderr, " left out") || strings.Contains(got.stderr, "other groups") {
		t.Errorf("exit %d; want 0, what was left out, and nothing of other groups\n%s", got.code, got.stderr)
	}
}

// TestMailOfReportsWithoutCSV: a run rendered without csv (--format
// html,json) was mailed saying that every change is in changes.csv of its
// reports, which it never wrote.
func TestMailOfReportsWithoutCSV(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 21, Size: 20})
	var b bytes.Buffer
	fleet.WriteIDs(&b)
	ids := writeFile(t, "ids.txt", b.String())
	url, _ := serve(t, fleet, ssmsim.Options{})
	root := t.TempDir()
	run := func(out string, extra ...string) {
		t.Helper()
		if got := runCLI(t, "", append([]string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1",
			"--out", filepath.Join(root, out), "--quiet", "--fail-on", "none"}, extra...)...); got.code != 0 {
			t.Fatalf("%s: exit %d\n%s", out, got.code, got.stderr)
		}
	}
	run("before")
	fleet.Add(ssmsim.Instance{InstanceID: "i-0fffffffffffffff0", Associations: []ssmsim.Association{
		{AssociationID: "99999999-9999-9999-9999-999999999999", Name: "AWS-RunPatchBaseline", InstanceID: "i-0fffffffffffffff0", Status: "Failed", DetailedStatus: "Failed", ExecutionDate: time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)},
	}})
	if err := os.WriteFile(ids, []byte(b.String()+"i-0fffffffffffffff0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run("after", "--baseline", filepath.Join(root, "before"), "--format", "html,json")
	ms := newMailSetup(t, smtptest.Options{})
	if got := runCLI(t, "", append([]string{"mail", filepath.Join(root, "after"), "--to", "ops@example.com"}, ms.args...)...); got.code != 0 {
		t.Fatalf("mail: exit %d\n%s", got.code, got.stderr)
	}
	text := textTo(t, ms, 0, "ops@example.com")
	if !strings.Contains(text, "new") {
		t.Fatalf("the mail says nothing of what changed: the test checks nothing\n%s", text)
	}
	if strings.Contains(text, report.ChangesCSV) {
		t.Errorf("the mail sends the reader to %s, which the run did not write:\n%s", report.ChangesCSV, text)
	}
}

// TestFitMailNamesTheLimitGiven: bodies over --mail-max-size were said to
// pass a limit 64 bytes under it (the room fitMail keeps for the headers
// of the message built again), a limit nobody set.
func TestFitMailNamesTheLimitGiven(t *testing.T) {
	msg := deliver.Message{From: "a@example.com", To: []string{"b@example.com"}, Subject: "s"}
	_, err := fitMail(&msg, nil, 100_000, func([]string) (string, string, error) { return "", strings.Repeat("x ", 60_000), nil })
	if err == nil || !strings.Contains(err.Error(), "100000") {
		t.Errorf("fitMail = %v, want an error naming the limit of 100000 bytes", err)
	}
}
