package cli

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
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
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, ownersFleet("alice"), ssmsim.Options{})
	list := writeFile(t, "fleet.csv", ownersList)
	out := filepath.Join(t.TempDir(), "out")
	if got := runCLI(t, "", "run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet", "--fail-on", "none", "--split-by", "owner"); got.code != 0 {
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
// (paused, suspended, throttled) fails the first group and is not asked
// for every other group.
func TestMailViaSESPausedStopsTheGroups(t *testing.T) {
	out := ownersRun(t)
	var mu sync.Mutex
	calls := 0
	ses := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-ErrorType", "SendingPausedException")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"message": "Sending is paused for this account."}`)
	}))
	defer ses.Close()
	t.Setenv("AWS_ENDPOINT_URL_SESV2", ses.URL)
	got := runCLI(t, "", "mail", out, "--mail-to-label", "owner_email", "--mail-from", "auditor@example.com", "--mail-via", "ses", "--region", "us-east-1")
	if got.code != 5 {
		t.Fatalf("exit %d, want 5\n%s", got.code, got.stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if calls != 1 {
		t.Errorf("%d calls to SES, want 1 (not one for each of 3 groups)\n%s", calls, got.stderr)
	}
	if n := strings.Count(got.stderr, "not tried"); n != 2 {
		t.Errorf("%d groups not tried, want 2\n%s", n, got.stderr)
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
	for _, tt := range []struct {
		name string
		args []string
	}{
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
