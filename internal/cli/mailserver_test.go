package cli

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/auditor-dev/auditor/deliver"
	"github.com/auditor-dev/auditor/deliver/smtptest"
	"github.com/auditor-dev/auditor/internal/dirlock"
	"github.com/auditor-dev/auditor/ssmsim"
)

// ownersRun audits ownersFleet split by owner, without mail, and returns
// its output directory.
func ownersRun(t *testing.T) string {
	t.Helper()
	return ownersRunOf(t, ownersList)
}

// ownersRunOf audits ownersFleet from list (CSV text) split by owner,
// without mail, and returns its output directory.
func ownersRunOf(t *testing.T, list string) string {
	t.Helper()
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, ownersFleet("alice"), ssmsim.Options{})
	path := writeFile(t, "fleet.csv", list)
	out := filepath.Join(t.TempDir(), "out")
	if got := runCLI(t, "", "run", "--instances", path, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet", "--fail-on", "none", "--split-by", "owner"); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	return out
}

// refusingGreeting is an SMTP server on loopback that greets every
// connection with reply (such as "421 4.3.2 too busy") and closes it; it
// returns its address and a count of the connections it took.
func refusingGreeting(t *testing.T, reply string) (string, func() int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var mu sync.Mutex
	n := 0
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			n++
			mu.Unlock()
			fmt.Fprintf(c, "%s\r\n", reply)
			c.Close()
		}
	}()
	return ln.Addr().String(), func() int {
		mu.Lock()
		defer mu.Unlock()
		return n
	}
}

// TestMailServerRefusingEveryConnection: a server that refuses every
// connection at its greeting (421 busy, 554 no service) fails the first
// group, at its own retries, and is not tried for every other group (each
// took 4 attempts and 14 s of backoff); the command printed mails the
// whole run again once the server is back.
func TestMailServerRefusingEveryConnection(t *testing.T) {
	out := ownersRun(t)
	for _, tt := range []struct {
		reply string
		conns int // the first group's attempts
	}{
		{"421 4.3.2 too busy, try later", deliver.DefaultAttempts},
		{"554 5.3.2 no service here", 1},
	} {
		t.Run(tt.reply[:3], func(t *testing.T) {
			ms := newMailSetup(t, smtptest.Options{})
			addr, conns := refusingGreeting(t, tt.reply)
			args := slices.Clone(ms.args)
			args[slices.Index(args, "--smtp")+1] = "smtp://" + addr
			got := runCLI(t, "", append([]string{"mail", out, "--mail-to-label", "owner_email"}, args...)...)
			if got.code != 5 {
				t.Fatalf("exit %d, want 5\n%s", got.code, got.stderr)
			}
			if n := conns(); n != tt.conns {
				t.Errorf("%d connections, want %d: one group's, not one group's for each of 3\n%s", n, tt.conns, got.stderr)
			}
			if n := strings.Count(got.stderr, "not tried"); n != 2 {
				t.Errorf("%d groups not tried, want 2\n%s", n, got.stderr)
			}
			words := retryCommand(t, got.stderr)
			if !slices.Contains(words, "--mail-to-label") {
				t.Fatalf("%q: want the whole run mailed again by --mail-to-label", words)
			}
			words[slices.Index(words, "--smtp")+1] = "smtp://" + ms.srv.Addr // the server is back
			if again := runCLI(t, "", words[1:]...); again.code != 0 || len(ms.srv.Messages()) != 3 {
				t.Errorf("%q: exit %d, %d messages, want 0 and one for each of 3 groups\n%s", words, again.code, len(ms.srv.Messages()), again.stderr)
			}
		})
	}
}

// TestMailViaSESPausedStopsTheGroups: SES refusing the account's sending
// (paused, suspended, throttled), or failing itself until the SDK's
// retries gave up (ServiceUnavailable, InternalFailure), fails the first
// group and is not asked for every other group.
func TestMailViaSESPausedStopsTheGroups(t *testing.T) {
	out := ownersRun(t)
	for _, tt := range []struct {
		errorType string
		status    int
	}{
		{"SendingPausedException", http.StatusBadRequest},
		{"ServiceUnavailable", http.StatusServiceUnavailable},
		{"InternalFailure", http.StatusInternalServerError},
	} {
		t.Run(tt.errorType, func(t *testing.T) {
			var mu sync.Mutex
			calls := 0
			ses := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				calls++
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("X-Amzn-ErrorType", tt.errorType)
				w.WriteHeader(tt.status)
				fmt.Fprint(w, `{"message": "Sending is not possible now."}`)
			}))
			defer ses.Close()
			t.Setenv("AWS_ENDPOINT_URL_SESV2", ses.URL)
			got := runCLI(t, "", "mail", out, "--mail-to-label", "owner_email", "--mail-from", "auditor@example.com", "--mail-via", "ses", "--region", "us-east-1")
			if got.code != 5 {
				t.Fatalf("exit %d, want 5\n%s", got.code, got.stderr)
			}
			if n := strings.Count(got.stderr, "not tried"); n != 2 {
				t.Errorf("%d groups not tried, want 2\n%s", n, got.stderr)
			}
			mu.Lock()
			defer mu.Unlock()
			if tt.status < 500 && calls != 1 {
				t.Errorf("%d calls to SES, want 1 (not one for each of 3 groups)\n%s", calls, got.stderr)
			}
			if tt.status >= 500 && calls > 8 {
				t.Errorf("%d calls to SES, want at most the first group's 8 attempts\n%s", calls, got.stderr)
			}
		})
	}
}

// TestMailOfARunInUse: auditor mail of a run that another auditor is still
// writing (or resuming), or of one group of it, is refused as run refuses
// an --out in use (exit 4), and mails nobody: it sent a subject from a
// record being written, and a workbook that the finished run replaced.
func TestMailOfARunInUse(t *testing.T) {
	out := ownersRun(t)
	ms := newMailSetup(t, smtptest.Options{})
	unlock, err := dirlock.Lock(out)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	// A first run's directory, its run.json not written yet: in use too,
	// not "no run.json" (exit 2), which a scheduled mail step cannot tell
	// from a wrong directory.
	first := t.TempDir()
	unlockFirst, err := dirlock.Lock(first)
	if err != nil {
		t.Fatal(err)
	}
	defer unlockFirst()
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"a first run", []string{"mail", first, "--to", "ops@example.com"}},
		{"the run", []string{"mail", out, "--to", "ops@example.com"}},
		{"each owner", []string{"mail", out, "--mail-to-label", "owner_email"}},
		{"one group", []string{"mail", filepath.Join(out, "by-owner", "alice"), "--to", "alice@example.com"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := runCLI(t, "", append(tt.args, ms.args...)...)
			if got.code != 4 || !strings.Contains(got.stderr, "in use by another auditor") {
				t.Errorf("exit %d, want 4 saying the run is in use by another auditor\n%s", got.code, got.stderr)
			}
			if n := len(ms.srv.Messages()); n != 0 {
				t.Errorf("%d messages, want none\n%s", n, got.stderr)
			}
		})
	}
	unlock()
	if got := runCLI(t, "", append([]string{"mail", out, "--to", "ops@example.com"}, ms.args...)...); got.code != 0 || len(ms.srv.Messages()) != 1 {
		t.Errorf("the run ended: exit %d, %d messages, want 0 and 1\n%s", got.code, len(ms.srv.Messages()), got.stderr)
	}
}

// TestMailToLabelRefusedAddresses: a value of --mail-to-label that is not a
// mail address is refused with a warning naming the instance, its list
// line and the value, escaped, and the group's other addresses are
// mailed; a group whose only values are refused is said to be so, not to
// have no address. They were dropped without a word, and such groups
// summed up as having "no address in label". (A value with a no-break
// space or a line separator now refuses the list, as any label's does;
// from a tag, it is refused here: TestMailAddressWithFormatCharacters.)
func TestMailToLabelRefusedAddresses(t *testing.T) {
	out := ownersRunOf(t, "instance_id,owner,owner_email\n"+
		"i-00000000000000a01,alice,\"erin@@example.com, alice@example.com\"\n"+
		"i-00000000000000b01,bob,TO:<bob@example.com>\n"+
		"i-00000000000000c01,carol,\"c4@example.com>,<c5@example.com\"\n")
	ms := newMailSetup(t, smtptest.Options{})
	got := runCLI(t, "", append([]string{"mail", out, "--mail-to-label", "owner_email"}, ms.args...)...)
	// The groups none of whose values is an address are not mailed, week
	// after week: a failed delivery (exit 5), as a label no instance has,
	// each named, with no command to mail again (the list is to fix).
	if got.code != 5 || !strings.Contains(got.stderr, "bob: not mailed") || strings.Contains(got.stderr, "auditor mail '") {
		t.Fatalf("exit %d, want 5 naming bob's group and no command to mail again\n%s", got.code, got.stderr)
	}
	var to []string
	for _, m := range ms.srv.Messages() {
		to = append(to, m.To...)
	}
	if !slices.Equal(to, []string{"alice@example.com"}) {
		t.Errorf("mailed %q, want alice@example.com alone\n%s", to, got.stderr)
	}
	for _, want := range []string{
		`fleet.csv:2 (i-00000000000000a01): owner_email "erin@@example.com"`,
		`fleet.csv:3 (i-00000000000000b01): owner_email "TO:<bob@example.com>"`,
		`fleet.csv:4 (i-00000000000000c01): owner_email "c4@example.com>"`,
		`fleet.csv:4 (i-00000000000000c01): owner_email "<c5@example.com"`,
	} {
		if !strings.Contains(got.stderr, want) {
			t.Errorf("stderr does not say %s:\n%s", want, got.stderr)
		}
	}
	if strings.Contains(got.stderr, "no address in label") {
		t.Errorf("groups whose addresses were refused are said to have none:\n%s", got.stderr)
	}
}

// TestMailToLabelNoInstanceHas: a --mail-to-label that no instance has (a
// typo) mails nobody: auditor mail, and a run, fail with exit 5 naming the
// labels the instances do have, instead of ending with a warning and exit
// 0, week after week.
func TestMailToLabelNoInstanceHas(t *testing.T) {
	out := ownersRun(t)
	ms := newMailSetup(t, smtptest.Options{})
	got := runCLI(t, "", append([]string{"mail", out, "--mail-to-label", "owner_emial"}, ms.args...)...)
	if got.code != 5 || !strings.Contains(got.stderr, "the labels they have: owner, owner_email") || !strings.Contains(got.stderr, "owner_emial") {
		t.Errorf("auditor mail: exit %d, want 5 naming the label and those the instances have\n%s", got.code, got.stderr)
	}
	if n := len(ms.srv.Messages()); n != 0 {
		t.Errorf("%d messages, want none", n)
	}
	// A label that every instance has, empty: no typo, no failure; each
	// group is said to have no address, as before.
	empty := ownersRunOf(t, "instance_id,owner,owner_email\ni-00000000000000a01,alice,\ni-00000000000000b01,bob,\n")
	got = runCLI(t, "", append([]string{"mail", empty, "--mail-to-label", "owner_email"}, ms.args...)...)
	if got.code != 0 || !strings.Contains(got.stderr, "no address in label") || strings.Contains(got.stderr, "no instance has the label") {
		t.Errorf("a label of empty values: exit %d, want 0 with the groups said to have no address\n%s", got.code, got.stderr)
	}
	url, _ := serve(t, ownersFleet("alice"), ssmsim.Options{})
	list := writeFile(t, "fleet.csv", ownersList)
	got = runCLI(t, "", append([]string{"run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", filepath.Join(t.TempDir(), "out"), "--quiet",
		"--fail-on", "none", "--split-by", "owner", "--mail-to-label", "owner_emial"}, ms.args...)...)
	if got.code != 5 || !strings.Contains(got.stderr, "the labels they have: owner, owner_email") {
		t.Errorf("auditor run: exit %d, want 5 naming the labels the instances have\n%s", got.code, got.stderr)
	}
}

// TestMailFitsTheServersSize: a server whose SIZE (EHLO) is under
// --mail-max-size gets the message fitted under it, attachments left out
// as --mail-max-size leaves them, and the body saying where the reports
// are. It got the whole message, sent to be refused with 552 at its end,
// and a command to mail again that failed the same way.
func TestMailFitsTheServersSize(t *testing.T) {
	out := ownersRun(t)
	ms := newMailSetup(t, smtptest.Options{})
	if got := runCLI(t, "", append([]string{"mail", out, "--to", "ops@example.com"}, ms.args...)...); got.code != 0 {
		t.Fatalf("exit %d\n%s", got.code, got.stderr)
	}
	whole := len(ms.srv.Messages()[0].Data)
	all, err := smtptest.Parse(ms.srv.Messages()[0].Data)
	if err != nil {
		t.Fatal(err)
	}

	small := newMailSetup(t, smtptest.Options{MaxSize: int64(whole - 1)})
	got := runCLI(t, "", append([]string{"mail", out, "--to", "ops@example.com"}, small.args...)...)
	if got.code != 0 || len(small.srv.Messages()) != 1 {
		t.Fatalf("a server that takes a byte less than the whole message: exit %d, %d messages, want 0 and 1\n%s", got.code, len(small.srv.Messages()), got.stderr)
	}
	m, err := smtptest.Parse(small.srv.Messages()[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(m.Attachments()), len(all.Attachments()); got >= want {
		t.Errorf("%d attachments under the server's SIZE, want fewer than the whole message's %d", got, want)
	}
	if text := m.Part("text/plain"); text == nil || !strings.Contains(string(text.Body), filepath.Base(out)) {
		t.Errorf("the body does not say where the reports are")
	}
	// The one who runs it is told, not only the owner: the workbook was
	// left out with exit 0 and no word on stderr.
	if !regexp.MustCompile(`warning: mail to ops@example\.com: (report\.xlsx|error_codes\.csv)(, error_codes\.csv)? left out`).MatchString(got.stderr) {
		t.Errorf("stderr does not say that the workbook was left out\n%s", got.stderr)
	}

	// Not even the bodies fit: the error says the server's limit and what
	// to lower; nothing is sent.
	tiny := newMailSetup(t, smtptest.Options{MaxSize: 2000})
	got = runCLI(t, "", append([]string{"mail", out, "--to", "ops@example.com"}, tiny.args...)...)
	if got.code != 5 || !strings.Contains(got.stderr, "at most 2000 bytes") || !strings.Contains(got.stderr, "raise the server's message size limit") {
		t.Errorf("a server that takes 2000 bytes: exit %d, want 5 saying its limit, under any mail's\n%s", got.code, got.stderr)
	}
	if n := tiny.srv.Transactions(); n != 0 {
		t.Errorf("%d transactions, want none", n)
	}
	// The command to mail again reads the server's SIZE again: a
	// --mail-max-size of it (under the 100000 the flag takes) made a
	// command that refused itself.
	if words := retryCommand(t, got.stderr); slices.Contains(words, "--mail-max-size") {
		t.Errorf("%q: want no --mail-max-size, the server's SIZE is read again", words)
	}

	// 552 at the end of DATA, no SIZE to go by: the error says to lower
	// --mail-max-size.
	refusing := newMailSetup(t, smtptest.Options{Reject: func(stage smtptest.Stage, _ int) *smtptest.Reply {
		if stage == smtptest.StageData {
			return &smtptest.Reply{Code: 552, Message: "5.3.4 message too big"}
		}
		return nil
	}})
	got = runCLI(t, "", append([]string{"mail", out, "--to", "ops@example.com"}, refusing.args...)...)
	if got.code != 5 || !strings.Contains(got.stderr, "lower --mail-max-size") {
		t.Errorf("552 at the end of DATA: exit %d, want 5 saying to lower --mail-max-size\n%s", got.code, got.stderr)
	}
}
