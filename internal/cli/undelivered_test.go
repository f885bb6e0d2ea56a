package cli

import (
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/deliver/smtptest"
	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestMailWhenChangesAfterAWeekUndelivered: under --mail-when changes, a
// run whose mail failed is still the next run's baseline; the next run,
// with nothing new since it, mailed nobody, and the failed week's changes
// reached no one. A run whose baseline's mail was due and not delivered is
// mailed whatever changed since; once one is delivered, the weeks after
// mail on changes again. The same holds for each owner's mail.
func TestMailWhenChangesAfterAWeekUndelivered(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ms := newMailSetup(t, smtptest.Options{})
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "smtp://" + ln.Addr().String()
	ln.Close()
	for _, tc := range []struct {
		name string
		mail []string
		to   []string // who week 3 mails
	}{
		{"the run", []string{"--mail-to", "ops@example.com"}, []string{"ops@example.com"}},
		{"each owner", []string{"--split-by", "owner_email", "--mail-to-label", "owner_email"}, []string{"alice@example.com"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			w1 := writeFile(t, "w1.csv", "instance_id,owner_email\ni-0123456789abcdef0,alice@example.com\n")
			w2 := writeFile(t, "w2.csv", "instance_id,owner_email\ni-0123456789abcdef0,alice@example.com\ni-0123456789abcdef1,alice@example.com\n")
			week := func(n int, list, smtp string) cliResult {
				args := append([]string{"run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1",
					"--out", filepath.Join(root, "w"+string(rune('0'+n))), "--quiet", "--fail-on", "none",
					"--baseline", "previous", "--mail-when", "changes"}, tc.mail...)
				args = append(args, ms.args...)
				args[slices.Index(args, "--smtp")+1] = smtp
				return runCLI(t, "", args...)
			}
			mailed := func() [][]string {
				var to [][]string
				for _, m := range ms.srv.Messages() {
					to = append(to, m.To)
				}
				return to
			}
			if got := week(1, w1, "smtp://"+ms.srv.Addr); got.code != 0 {
				t.Fatalf("week 1: exit %d\n%s", got.code, got.stderr)
			}
			// Week 2: an instance more, and the server down.
			if got := week(2, w2, down); got.code != 5 {
				t.Fatalf("week 2: exit %d, want 5\n%s", got.code, got.stderr)
			}
			// Week 2's reports mailed to someone else: its own readers
			// still have not had them.
			aside := append([]string{"mail", filepath.Join(root, "w2"), "--to", "boss@example.com"}, ms.args...)
			if got := runCLI(t, "", aside...); got.code != 0 && got.code != 5 {
				t.Fatalf("week 2 mailed aside: exit %d\n%s", got.code, got.stderr)
			}
			if tc.name == "each owner" {
				aside[1] = filepath.Join(report.SplitDir(filepath.Join(root, "w2"), "owner_email"), report.SafeName("alice@example.com"))
				if got := runCLI(t, "", aside...); got.code != 0 {
					t.Fatalf("week 2's group mailed aside: exit %d\n%s", got.code, got.stderr)
				}
			}
			before := len(mailed())
			got := week(3, w2, "smtp://"+ms.srv.Addr)
			if all := mailed(); got.code != 0 || len(all) != before+1 || !slices.Equal(all[before], tc.to) {
				t.Fatalf("week 3: exit %d, mailed %q, want one mail to %q (week 2's was not delivered)\n%s", got.code, all[before:], tc.to, got.stderr)
			}
			// The mail says why it came, and where the changes it
			// does not show are; so does stderr, --quiet or not.
			msg, err := smtptest.Parse(ms.srv.Messages()[before].Data)
			if err != nil {
				t.Fatal(err)
			}
			for _, ct := range []string{"text/plain", "text/html"} {
				if p := msg.Part(ct); p == nil || !strings.Contains(string(p.Body), "was not delivered") || !strings.Contains(string(p.Body), "changes.csv") {
					t.Errorf("week 3's mail, %s, does not say that week 2's was not delivered and where its changes are", ct)
				}
			}
			if !strings.Contains(got.stderr, "was not delivered") {
				t.Errorf("week 3's stderr does not say why it mailed:\n%s", got.stderr)
			}
			before = len(mailed())
			got = week(4, w2, "smtp://"+ms.srv.Addr)
			if all := mailed(); got.code != 0 || len(all) != before {
				t.Errorf("week 4: exit %d, mailed %q, want none (nothing changed, week 3's delivered)\n%s", got.code, all[before:], got.stderr)
			}
		})
	}
}

// TestMailWhenChangesHandedOver: under --mail-when changes, an instance
// handed to another owner is compared in its new owner's group, where a
// failure still failing is no change: its new owner was never told of it,
// nor mailed, until it changed again. A group that instances joined is
// mailed.
func TestMailWhenChangesHandedOver(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ms := newMailSetup(t, smtptest.Options{})
	url, _ := serve(t, ownersFleet("bob"), ssmsim.Options{})
	root := t.TempDir()
	run := func(week, list string) cliResult {
		return runCLI(t, "", append([]string{"run", "--instances", writeFile(t, week+".csv", list), "--endpoint-url", url, "--region", "us-east-1",
			"--out", filepath.Join(root, week), "--quiet", "--fail-on", "none", "--baseline", "previous",
			"--mail-when", "changes", "--split-by", "owner", "--mail-to-label", "owner_email"}, ms.args...)...)
	}
	if got := run("w1", ownersList); got.code != 0 {
		t.Fatalf("week 1: exit %d\n%s", got.code, got.stderr)
	}
	before := len(ms.srv.Messages())
	// Bob's failing instance goes to carol; nothing else changes.
	handed := strings.Replace(ownersList, "i-00000000000000b01,bob,bob@example.com", "i-00000000000000b01,carol,carol@example.com", 1)
	got := run("w2", handed)
	var to [][]string
	for _, m := range ms.srv.Messages()[before:] {
		to = append(to, m.To)
	}
	if got.code != 0 || !slices.ContainsFunc(to, func(a []string) bool { return slices.Equal(a, []string{"carol@example.com"}) }) {
		t.Errorf("week 2: exit %d, mailed %q, want carol mailed the failure handed to her\n%s", got.code, to, got.stderr)
	}
	if slices.ContainsFunc(to, func(a []string) bool { return slices.Equal(a, []string{"alice@example.com"}) }) {
		t.Errorf("week 2: alice mailed, though nothing of hers changed: %q", to)
	}
	if !strings.Contains(got.stderr, "handed over") {
		t.Errorf("week 2: stderr does not say why carol was mailed:\n%s", got.stderr)
	}
	for _, m := range ms.srv.Messages()[before:] {
		msg, err := smtptest.Parse(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		if p := msg.Part("text/plain"); slices.Equal(m.To, []string{"carol@example.com"}) && (p == nil || !strings.Contains(string(p.Body), "handed over to you")) {
			t.Errorf("carol's mail does not say why it came")
		}
	}
	// Week 3: alice's compliant instance goes to carol too: nothing
	// failing was handed over, no mail.
	before = len(ms.srv.Messages())
	both := strings.Replace(handed, "i-00000000000000a01,alice,alice@example.com", "i-00000000000000a01,carol,carol@example.com", 1)
	got = run("w3", both)
	if n := len(ms.srv.Messages()) - before; got.code != 0 || n != 0 {
		t.Errorf("week 3: exit %d, %d mails, want none: nothing failing was handed over\n%s", got.code, n, got.stderr)
	}
}
