package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/deliver/smtptest"
	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
)

// manyOwners are the owners of manyOwnersFleet, one instance each.
var manyOwners = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"}

// addressesOf are the addresses of owners, as manyOwnersFleet gives them.
func addressesOf(owners []string) []string {
	var to []string
	for _, owner := range owners {
		to = append(to, owner+"@example.com")
	}
	return to
}

// manyOwnersFleet is a fleet of one instance for each of manyOwners, each
// failing but those of clean, and its list, with each owner's address in
// owner_email.
func manyOwnersFleet(clean ...string) (*ssmsim.Fleet, string) {
	f := ssmsim.NewFleet(ssmsim.FleetConfig{})
	d := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	list := "instance_id,owner,owner_email\n"
	for i, owner := range manyOwners {
		id := fmt.Sprintf("i-000000000000%05x", 0xa01+i)
		status := "Failed"
		if slices.Contains(clean, owner) {
			status = "Success"
		}
		f.Add(ssmsim.Instance{InstanceID: id, Associations: []ssmsim.Association{
			{AssociationID: fmt.Sprintf("%08d-1111-1111-1111-111111111111", i), Name: "AWS-RunPatchBaseline", InstanceID: id, Status: status, DetailedStatus: status, ExecutionDate: d},
		}})
		list += fmt.Sprintf("%s,%s,%s@example.com\n", id, owner, owner)
	}
	return f, list
}

// downAfter is an SMTP server's address that passes its first n
// connections on to the server at addr, and greets every later one with
// 554 and closes it: a relay taken out of service midway.
func downAfter(t *testing.T, addr string, n int) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	go func() {
		for i := 0; ; i++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if i >= n {
				fmt.Fprint(c, "554 5.3.2 out of service\r\n")
				c.Close()
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				s, err := net.Dial("tcp", addr)
				if err != nil {
					return
				}
				defer s.Close()
				go func() { io.Copy(s, c); s.Close() }()
				io.Copy(c, s)
			}()
		}
	}()
	return ln.Addr().String()
}

// viaRelayGoneAfter is ms.args with --smtp naming a relay to its server
// that is gone after n connections (downAfter).
func viaRelayGoneAfter(t *testing.T, ms mailSetup, n int) []string {
	t.Helper()
	args := slices.Clone(ms.args)
	args[slices.Index(args, "--smtp")+1] = "smtp://" + downAfter(t, ms.srv.Addr, n)
	return args
}

// TestMailManyOwnersServerGoneMidway: a relay taken out of service after
// two owners' mails. The closing lines named each group not tried on a
// line of its own, and offered a command for each (2,994 lines for 3,000
// owners, none of them the one to run). They name the groups not tried on
// one line, and offer one command: it mails every owner whose mail was
// due and not delivered, and no owner mailed; run again, it mails nobody.
func TestMailManyOwnersServerGoneMidway(t *testing.T) {
	_, got, ms := runFailingMidway(t, nil)
	if got.code != int(exitDelivery) {
		t.Fatalf("exit %d, want %d\n%s", got.code, exitDelivery, got.stderr)
	}
	if n := len(ms.srv.Messages()); n != 2 {
		t.Fatalf("%d messages before the relay went, want 2\n%s", n, got.stderr)
	}
	if n := strings.Count(got.stderr, "not tried"); n != 1 || !strings.Contains(got.stderr, "5 groups not tried") {
		t.Errorf("%d lines of groups not tried, want one that counts 5\n%s", n, got.stderr)
	}
	cmds := retryCommands(t, got.stderr)
	if len(cmds) != 1 || !slices.Contains(cmds[0], "--undelivered") || !slices.Contains(cmds[0], "--mail-to-label") {
		t.Fatalf("commands %q, want one auditor mail --mail-to-label ... --undelivered\n%s", cmds, got.stderr)
	}
	words := cmds[0]
	words[slices.Index(words, "--smtp")+1] = "smtp://" + ms.srv.Addr // the relay is back
	again := runCLI(t, "", words[1:]...)
	var mailed []string
	for _, m := range ms.srv.Messages()[2:] {
		mailed = append(mailed, m.To...)
	}
	want := addressesOf(manyOwners[2:])
	if again.code != 0 || !slices.Equal(mailed, want) {
		t.Errorf("%q: exit %d, mailed %q, want 0 and %q\n%s", words, again.code, mailed, want, again.stderr)
	}
	before := len(ms.srv.Messages())
	if twice := runCLI(t, "", words[1:]...); twice.code != 0 || len(ms.srv.Messages()) != before {
		t.Errorf("%q again: exit %d, %d messages, want 0 and none\n%s", words, twice.code, len(ms.srv.Messages())-before, twice.stderr)
	}
}

// TestMailUndeliveredNeedsTheLabel: --undelivered mails the groups of
// --mail-to-label, each to the addresses it did not reach: without the
// label, or with --to beside it, it is refused before anything is sent.
func TestMailUndeliveredNeedsTheLabel(t *testing.T) {
	out := ownersRun(t)
	ms := newMailSetup(t, smtptest.Options{})
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"without --mail-to-label", []string{"--undelivered", "--to", "ops@example.com"}, "--undelivered needs --mail-to-label"},
		{"with --to", []string{"--undelivered", "--mail-to-label", "owner_email", "--to", "ops@example.com"}, "--undelivered"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := runCLI(t, "", append(append([]string{"mail", out}, tt.args...), ms.args...)...)
			if got.code != int(exitUsage) || !strings.Contains(got.stderr, tt.want) || len(ms.srv.Messages()) != 0 {
				t.Errorf("exit %d, %d messages, want %d, none, and %q\n%s", got.code, len(ms.srv.Messages()), exitUsage, tt.want, got.stderr)
			}
		})
	}
}

// TestMailUndeliveredLeavesAMaybe: carol's mail was sent whole and not
// answered, and the relay refused the mails of the five owners after her.
// The one command for the groups undelivered mails those five, and not
// carol, who may have her mail: her own command comes with that warning,
// here and in what the command says, which exits 5 for it, as a retry of
// the run does (it exited 0, and a job that checks the exit code took the
// delivery for whole).
func TestMailUndeliveredLeavesAMaybe(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet, list := manyOwnersFleet()
	url, _ := serve(t, fleet, ssmsim.Options{})
	var fixed atomic.Bool
	ms := newMailSetup(t, smtptest.Options{
		DropAfterData: func(n int) bool { return !fixed.Load() && n == 3 },
		Reject: func(st smtptest.Stage, n int) *smtptest.Reply {
			if !fixed.Load() && st == smtptest.StageMail && n >= 4 {
				return &smtptest.Reply{Code: 554, Message: "5.7.1 not today"}
			}
			return nil
		},
	})
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", append([]string{"run", "--instances", writeFile(t, "fleet.csv", list), "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet",
		"--fail-on", "none", "--split-by", "owner", "--mail-to-label", "owner_email"}, ms.args...)...)
	if got.code != int(exitDelivery) {
		t.Fatalf("exit %d, want %d\n%s", got.code, exitDelivery, got.stderr)
	}
	maybe := maybeCommands(t, got.stderr)
	if len(maybe) != 1 || !slices.Contains(maybe[0], "carol@example.com") {
		t.Errorf("commands with the warning %q, want carol's alone\n%s", maybe, got.stderr)
	}
	cmds := retryCommands(t, got.stderr)
	if len(cmds) != 1 || !slices.Contains(cmds[0], "--undelivered") {
		t.Fatalf("commands %q, want one auditor mail --mail-to-label ... --undelivered\n%s", cmds, got.stderr)
	}
	fixed.Store(true)
	before := len(ms.srv.Messages())
	again := runCLI(t, "", cmds[0][1:]...)
	var mailed []string
	for _, m := range ms.srv.Messages()[before:] {
		mailed = append(mailed, m.To...)
	}
	want := addressesOf(manyOwners[3:])
	if again.code != int(exitDelivery) || !slices.Equal(mailed, want) {
		t.Errorf("%q: exit %d, mailed %q, want %d and %q\n%s", cmds[0], again.code, mailed, exitDelivery, want, again.stderr)
	}
	if m := maybeCommands(t, again.stderr); len(m) != 1 || !slices.Contains(m[0], "carol@example.com") {
		t.Errorf("the command does not say that carol's mail may have been delivered, with her command\n%s", again.stderr)
	}
}

// TestGroupsAgainMany: groups not tried, more than a few, get the whole
// run's command when none was mailed, one --undelivered command when each
// is marked undelivered, and their own commands when one is not.
func TestGroupsAgainMany(t *testing.T) {
	out := t.TempDir()
	dl := &delivery{out: out, toFlag: "mail-to", d: &deliveryOptions{mailToLabel: "owner_email", mailFrom: "a@example.com", smtp: "smtp://mail.example.com:587",
		mailMaxBody: report.DefaultMailMaxBody, mailMaxSize: 10_000_000}, warnf: t.Logf}
	var groups []*groupMailError
	for _, owner := range manyOwners {
		dir := filepath.Join(out, "by-owner", owner)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		groups = append(groups, &groupMailError{dir: dir, to: []string{owner + "@example.com"}, err: errors.New("not tried: the mail server failed for alice")})
	}
	untried := groupsMailed{errs: []error{&untriedGroups{groups: groups, cause: errors.New("the mail server failed for alice")}}}
	if got := dl.groupsAgain(untried); len(got) != 1 || !strings.Contains(got[0].cmd, "--mail-to-label") || strings.Contains(got[0].cmd, "--undelivered") {
		t.Errorf("none sent: %+v, want the whole run's command", got)
	}
	untried.sent = 1
	if got := dl.groupsAgain(untried); len(got) != len(groups) {
		t.Errorf("one sent, none marked: %d commands, want one for each of %d groups", len(got), len(groups))
	}
	for _, g := range groups {
		dl.markUndelivered(g.dir, g.to, true)
	}
	if got := dl.groupsAgain(untried); len(got) != 1 || !strings.Contains(got[0].cmd, "--undelivered") {
		t.Errorf("one sent, each marked: %+v, want one --undelivered command", got)
	}
	os.Remove(filepath.Join(groups[4].dir, undeliveredFile))
	if got := dl.groupsAgain(untried); len(got) != len(groups) {
		t.Errorf("one sent, one not marked: %d commands, want one for each of %d groups", len(got), len(groups))
	}
}

// TestUndeliveredAfterAKill: a run killed as it mailed its owners (an
// evicted pod, an OOM kill) had marked only the group in flight; auditor
// mail --undelivered then mailed that group alone, exited 0, and took
// away the mark that the mailing was under way, so that the next run
// under --mail-when changes mailed nobody either: the owners after the
// kill were never mailed, nor named. It is refused while that mark is
// there, and says which command continues the mailing.
func TestUndeliveredAfterAKill(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet, list := manyOwnersFleet()
	url, _ := serve(t, fleet, ssmsim.Options{})
	ms, reached, release := heldAtThirdMail(t)
	root := t.TempDir()
	killed := filepath.Join(root, "killed")
	args := append([]string{"run", "--instances", writeFile(t, "fleet.csv", list), "--endpoint-url", url, "--region", "us-east-1", "--out", filepath.Join(root, "run"), "--quiet",
		"--fail-on", "none", "--split-by", "owner", "--mail-to-label", "owner_email"}, ms.args...)
	copyHeld(t, args, filepath.Join(root, "run"), killed, reached, release, "the run", "its third mail")
	before := len(ms.srv.Messages())
	got := runCLI(t, "", append([]string{"mail", killed, "--mail-to-label", "owner_email", "--undelivered"}, ms.args...)...)
	// No command of every group to paste: it would mail alice and bob
	// again, and any owner --mail-when held back.
	if got.code != int(exitUsage) || len(ms.srv.Messages()) != before || !strings.Contains(got.stderr, "--resume") || strings.Contains(got.stderr, "--mail-from") {
		t.Errorf("--undelivered of a run killed as it mailed: exit %d, %d messages, want %d, none, and the command that continues it\n%s", got.code, len(ms.srv.Messages())-before, exitUsage, got.stderr)
	}
	if !statOK(filepath.Join(killed, groupsPendingFile)) {
		t.Errorf("the mark that the mailing was under way is gone")
	}
}

// TestUndeliveredTakesOffWhatWent: a group marked undelivered whose mail
// the journal says went (a kill between keeping the one and taking off
// the other) is not mailed by --undelivered, and its mark goes: it stayed,
// and the next run under --mail-when changes mailed that owner again,
// saying that the mail had not been delivered.
func TestUndeliveredTakesOffWhatWent(t *testing.T) {
	out, words, ms := failedMidway(t, nil)
	dave := filepath.Join(out, "by-owner", "dave")
	src, err := openMailSource(dave, dave)
	if err != nil {
		t.Fatal(err)
	}
	quietDelivery(out).keepSent(*src, []string{"dave@example.com"}, false)
	src.close()
	before := len(ms.srv.Messages())
	again := runCLI(t, "", words[1:]...)
	for _, m := range ms.srv.Messages()[before:] {
		if slices.Contains(m.To, "dave@example.com") {
			t.Errorf("dave, whose mail went, mailed again\n%s", again.stderr)
		}
	}
	if again.code != 0 || len(ms.srv.Messages())-before != len(manyOwners)-3 {
		t.Errorf("exit %d, %d messages, want 0 and %d\n%s", again.code, len(ms.srv.Messages())-before, len(manyOwners)-3, again.stderr)
	}
	if statOK(filepath.Join(dave, undeliveredFile)) {
		t.Errorf("dave's group is still marked undelivered")
	}
}

// TestMailCommandGoneMidway: auditor mail --mail-to-label of a run, its
// relay gone after two owners' mails: it marked no group it failed, and
// offered a command for each. It marks them as a run does, and offers the
// one --undelivered command, which mails those owners alone.
func TestMailCommandGoneMidway(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet, list := manyOwnersFleet()
	url, _ := serve(t, fleet, ssmsim.Options{})
	out := filepath.Join(t.TempDir(), "out")
	if got := runCLI(t, "", "run", "--instances", writeFile(t, "fleet.csv", list), "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet", "--fail-on", "none", "--split-by", "owner"); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	ms := newMailSetup(t, smtptest.Options{})
	args := viaRelayGoneAfter(t, ms, 2)
	got := runCLI(t, "", append([]string{"mail", out, "--mail-to-label", "owner_email"}, args...)...)
	cmds := retryCommands(t, got.stderr)
	if got.code != int(exitDelivery) || len(cmds) != 1 || !slices.Contains(cmds[0], "--undelivered") {
		t.Fatalf("exit %d, commands %q, want %d and one --undelivered\n%s", got.code, cmds, exitDelivery, got.stderr)
	}
	words := cmds[0]
	words[slices.Index(words, "--smtp")+1] = "smtp://" + ms.srv.Addr
	again := runCLI(t, "", words[1:]...)
	var mailed []string
	for _, m := range ms.srv.Messages()[2:] {
		mailed = append(mailed, m.To...)
	}
	want := addressesOf(manyOwners[2:])
	if again.code != 0 || !slices.Equal(mailed, want) {
		t.Errorf("%q: exit %d, mailed %q, want 0 and %q\n%s", words, again.code, mailed, want, again.stderr)
	}
}

// TestMailServerHangingOnEveryOther: a server that takes every other
// owner's message and gives no answer never failed twice in a row, and
// was tried for every owner, at a minute each on a real server, each a
// mail for a person to decide about. The mailing stops at the fifth such
// failure; the owners after it are not tried, and are named on one line.
func TestMailServerHangingOnEveryOther(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	f := ssmsim.NewFleet(ssmsim.FleetConfig{})
	list := "instance_id,owner,owner_email\n"
	for i := range 16 {
		id := fmt.Sprintf("i-000000000000%05x", 0xb01+i)
		f.Add(ssmsim.Instance{InstanceID: id, Associations: []ssmsim.Association{
			{AssociationID: fmt.Sprintf("%08d-2222-2222-2222-222222222222", i), Name: "AWS-RunPatchBaseline", InstanceID: id, Status: "Success", DetailedStatus: "Success", ExecutionDate: time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)},
		}})
		list += fmt.Sprintf("%s,o%02d,o%02d@example.com\n", id, i, i)
	}
	url, _ := serve(t, f, ssmsim.Options{})
	ms := newMailSetup(t, smtptest.Options{DropAfterData: func(n int) bool { return n%2 == 0 }})
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", append([]string{"run", "--instances", writeFile(t, "fleet.csv", list), "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet",
		"--fail-on", "none", "--split-by", "owner", "--mail-to-label", "owner_email"}, ms.args...)...)
	if got.code != int(exitDelivery) {
		t.Fatalf("exit %d, want %d\n%s", got.code, exitDelivery, got.stderr)
	}
	if n := len(ms.srv.Messages()); n != 10 {
		t.Errorf("the server got %d messages, want 10: 5 answered, 5 not, and then none\n%s", n, got.stderr)
	}
	if !strings.Contains(got.stderr, "6 groups not tried") || len(maybeCommands(t, got.stderr)) != 5 {
		t.Errorf("want 6 groups not tried on one line, and 5 mails that may have been delivered\n%s", got.stderr)
	}
}

// TestRetryOfManyOwnersSaysOnce: a retry of a run whose owners were all
// mailed said so on a line for each owner (3,000 lines); it says it on
// one, and mails nobody.
func TestRetryOfManyOwnersSaysOnce(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet, list := manyOwnersFleet()
	url, _ := serve(t, fleet, ssmsim.Options{})
	ms := newMailSetup(t, smtptest.Options{})
	out := filepath.Join(t.TempDir(), "out")
	args := append([]string{"run", "--instances", writeFile(t, "fleet.csv", list), "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet", "--resume",
		"--fail-on", "none", "--split-by", "owner", "--mail-to-label", "owner_email"}, ms.args...)
	if got := runCLI(t, "", args...); got.code != 0 || len(ms.srv.Messages()) != len(manyOwners) {
		t.Fatalf("exit %d, %d messages, want 0 and %d\n%s", got.code, len(ms.srv.Messages()), len(manyOwners), got.stderr)
	}
	got := runCLI(t, "", args...)
	if n := strings.Count(got.stderr, "already mailed"); got.code != 0 || n != 1 || !strings.Contains(got.stderr, fmt.Sprintf("%d groups", len(manyOwners))) || len(ms.srv.Messages()) != len(manyOwners) {
		t.Errorf("the retry: exit %d, %d lines of mails already sent, %d messages, want 0, one line that counts %d groups, and none\n%s",
			got.code, n, len(ms.srv.Messages())-len(manyOwners), len(manyOwners), got.stderr)
	}
}

// TestMailSentNotKeptSaysOnce: a directory in place of the mark of the
// mails sent (a volume mounted over it, a hostile user) kept no mail, and
// the run said so for each owner; it says it once.
func TestMailSentNotKeptSaysOnce(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet, list := manyOwnersFleet()
	url, _ := serve(t, fleet, ssmsim.Options{})
	ms := newMailSetup(t, smtptest.Options{})
	out := filepath.Join(t.TempDir(), "out")
	if err := os.MkdirAll(filepath.Join(out, sentFile, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	got := runCLI(t, "", append([]string{"run", "--instances", writeFile(t, "fleet.csv", list), "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet",
		"--fail-on", "none", "--split-by", "owner", "--mail-to-label", "owner_email"}, ms.args...)...)
	if n := strings.Count(got.stderr, "cannot learn that this mail went"); n != 1 || len(ms.srv.Messages()) != len(manyOwners) {
		t.Errorf("exit %d, %d messages, said %d times that a mail could not be kept, want %d messages and once\n%s", got.code, len(ms.srv.Messages()), n, len(manyOwners), got.stderr)
	}
}

// TestSayAlreadyOfFour: four groups already mailed, one more than are
// named one by one, made the closing line panic (a slice of five).
func TestSayAlreadyOfFour(t *testing.T) {
	for _, n := range []int{4, 5, 6} {
		var said []string
		dl := &delivery{warnf: func(format string, a ...any) { said = append(said, fmt.Sprintf(format, a...)) }}
		var already []alreadyMailed
		for i := range n {
			already = append(already, alreadyMailed{dir: filepath.Join("run", "by-owner", manyOwners[i]), to: []string{manyOwners[i] + "@example.com"}})
		}
		dl.sayAlready(already)
		if len(said) != 1 || !strings.Contains(said[0], fmt.Sprintf("%d groups", n)) || strings.Contains(said[0], "and 0 more") {
			t.Errorf("%d groups already mailed: said %q, want one line that counts them", n, said)
		}
	}
}

// failedMidway runs manyOwnersFleet(clean...) split by owner, mailing
// each through a relay gone after two mails, with more flags, and
// returns its directory, the one command printed, and the mail set-up.
func failedMidway(t *testing.T, clean []string, more ...string) (out string, cmd []string, ms mailSetup) {
	t.Helper()
	out, got, ms := runFailingMidway(t, clean, more...)
	cmds := retryCommands(t, got.stderr)
	if got.code != int(exitDelivery) || len(cmds) != 1 || !slices.Contains(cmds[0], "--undelivered") {
		t.Fatalf("exit %d, commands %q, want %d and one --undelivered\n%s", got.code, cmds, exitDelivery, got.stderr)
	}
	cmds[0][slices.Index(cmds[0], "--smtp")+1] = "smtp://" + ms.srv.Addr // the relay is back
	return out, cmds[0], ms
}

// runFailingMidway runs manyOwnersFleet(clean...) split by owner, mailing
// each through a relay gone after two mails, with more flags, and
// returns its directory, its result and the mail set-up.
func runFailingMidway(t *testing.T, clean []string, more ...string) (out string, got cliResult, ms mailSetup) {
	t.Helper()
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet, list := manyOwnersFleet(clean...)
	url, _ := serve(t, fleet, ssmsim.Options{})
	ms = newMailSetup(t, smtptest.Options{})
	out = filepath.Join(t.TempDir(), "out")
	got = runCLI(t, "", append(append([]string{"run", "--instances", writeFile(t, "fleet.csv", list), "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet",
		"--fail-on", "none", "--split-by", "owner", "--mail-to-label", "owner_email"}, more...), viaRelayGoneAfter(t, ms, 2)...)...)
	return out, got, ms
}

// mailedBy runs words (a command printed) and returns its result and the
// addresses it mailed.
func mailedBy(t *testing.T, ms mailSetup, words []string) (cliResult, []string) {
	t.Helper()
	before := len(ms.srv.Messages())
	got := runCLI(t, "", words[1:]...)
	var to []string
	for _, m := range ms.srv.Messages()[before:] {
		to = append(to, m.To...)
	}
	return got, to
}

// TestRenderedAgainKeepsTheMarks: the reports of a run whose mail failed
// midway, rendered again in place (auditor report, to fix a template),
// lost every group's mark that its mail was not delivered: the command
// the run printed then mailed nobody and exited 0, and the run compared
// with it mailed only what changed. The rendering keeps the marks.
func TestRenderedAgainKeepsTheMarks(t *testing.T) {
	out, cmd, ms := failedMidway(t, nil)
	if got := runCLI(t, "", "report", filepath.Join(out, audit.ResultsFile), "--out", out, "--fail-on", "none", "--quiet", "--split-by", "owner"); got.code != 0 {
		t.Fatalf("report in place: exit %d\n%s", got.code, got.stderr)
	}
	got, mailed := mailedBy(t, ms, cmd)
	want := addressesOf(manyOwners[2:])
	if got.code != 0 || !slices.Equal(mailed, want) {
		t.Errorf("%q after the reports were rendered again: exit %d, mailed %q, want 0 and %q\n%s", cmd, got.code, mailed, want, got.stderr)
	}
}

// TestSignalledBeforeGroupsHeldBack: a report stopped by a signal before
// its delivery, with owners whose mail --mail-when findings held back,
// printed the --undelivered command, which refused the run (its groups
// were still marked pending). The command mails the owners due alone.
func TestSignalledBeforeGroupsHeldBack(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet, list := manyOwnersFleet("bob", "erin")
	url, _ := serve(t, fleet, ssmsim.Options{})
	out := filepath.Join(t.TempDir(), "out")
	if got := runCLI(t, "", "run", "--instances", writeFile(t, "fleet.csv", list), "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet", "--fail-on", "none", "--split-by", "owner"); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	ms := newMailSetup(t, smtptest.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got := runCtx(ctx, nil, append([]string{"report", filepath.Join(out, audit.ResultsFile), "--out", out, "--fail-on", "none", "--quiet",
		"--split-by", "owner", "--mail-to-label", "owner_email", "--mail-when", "findings"}, ms.args...)...)
	cmds := retryCommands(t, got.stderr)
	if got.code != int(exitDelivery) || len(cmds) != 1 {
		t.Fatalf("exit %d, commands %q, want %d and one\n%s", got.code, cmds, exitDelivery, got.stderr)
	}
	again, mailed := mailedBy(t, ms, cmds[0])
	var want []string
	for _, owner := range manyOwners {
		if owner != "bob" && owner != "erin" {
			want = append(want, owner+"@example.com")
		}
	}
	if again.code != 0 || !slices.Equal(mailed, want) {
		t.Errorf("%q: exit %d, mailed %q, want 0 and %q\n%s", cmds[0], again.code, mailed, want, again.stderr)
	}
}

// TestMailCommandFailedAfterAKill: a run killed as it mailed its owners,
// then auditor mail of every group, its relay gone midway: the commands
// it prints run (not --undelivered, which refuses a run whose groups are
// pending), and mail each owner it did not.
func TestMailCommandFailedAfterAKill(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet, list := manyOwnersFleet()
	url, _ := serve(t, fleet, ssmsim.Options{})
	ms, reached, release := heldAtThirdMail(t)
	root := t.TempDir()
	killed := filepath.Join(root, "killed")
	args := append([]string{"run", "--instances", writeFile(t, "fleet.csv", list), "--endpoint-url", url, "--region", "us-east-1", "--out", filepath.Join(root, "run"), "--quiet",
		"--fail-on", "none", "--split-by", "owner", "--mail-to-label", "owner_email"}, ms.args...)
	copyHeld(t, args, filepath.Join(root, "run"), killed, reached, release, "the run", "its third mail")
	relay := viaRelayGoneAfter(t, ms, 2)
	got := runCLI(t, "", append([]string{"mail", killed, "--mail-to-label", "owner_email"}, relay...)...)
	cmds := retryCommands(t, got.stderr)
	if got.code != int(exitDelivery) || len(cmds) == 0 {
		t.Fatalf("exit %d, commands %q, want %d and some\n%s", got.code, cmds, exitDelivery, got.stderr)
	}
	var mailed []string
	for _, words := range cmds {
		words[slices.Index(words, "--smtp")+1] = "smtp://" + ms.srv.Addr
		again, to := mailedBy(t, ms, words)
		if again.code != 0 {
			t.Errorf("%q: exit %d\n%s", words, again.code, again.stderr)
		}
		mailed = append(mailed, to...)
	}
	want := addressesOf(manyOwners[2:])
	if !slices.Equal(mailed, want) {
		t.Errorf("the commands mailed %q, want %q\n%s", mailed, want, got.stderr)
	}
}

// TestMailCommandFailingIsNoUndeliveredRun: a week whose owners' mail
// --mail-when changes held back (nothing changed), then auditor mail of
// its groups, its relay gone midway: the groups it did not mail were
// marked as the run's mail undelivered, and the next week, compared with
// it, mailed those owners though nothing had changed, saying that the
// mail of the week before was not delivered (it was not due). They are
// marked for auditor mail --undelivered alone.
func TestMailCommandFailingIsNoUndeliveredRun(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet, list := manyOwnersFleet()
	url, _ := serve(t, fleet, ssmsim.Options{})
	ms := newMailSetup(t, smtptest.Options{})
	root := t.TempDir()
	fl := writeFile(t, "fleet.csv", list)
	week := func(out string, more ...string) cliResult {
		return runCLI(t, "", append(append([]string{"run", "--instances", fl, "--endpoint-url", url, "--region", "us-east-1", "--out", filepath.Join(root, out), "--quiet",
			"--fail-on", "none", "--split-by", "owner", "--mail-to-label", "owner_email", "--mail-when", "changes"}, more...), ms.args...)...)
	}
	if got := week("w0"); got.code != 0 {
		t.Fatalf("w0: exit %d\n%s", got.code, got.stderr)
	}
	before := len(ms.srv.Messages())
	if got := week("w1", "--baseline", filepath.Join(root, "w0")); got.code != 0 || len(ms.srv.Messages()) != before {
		t.Fatalf("w1, nothing changed: exit %d, %d messages, want 0 and none\n%s", got.code, len(ms.srv.Messages())-before, got.stderr)
	}
	relay := viaRelayGoneAfter(t, ms, 2)
	got := runCLI(t, "", append([]string{"mail", filepath.Join(root, "w1"), "--mail-to-label", "owner_email"}, relay...)...)
	cmds := retryCommands(t, got.stderr)
	if got.code != int(exitDelivery) || len(cmds) != 1 || !slices.Contains(cmds[0], "--undelivered") {
		t.Fatalf("auditor mail: exit %d, commands %q, want %d and one --undelivered\n%s", got.code, cmds, exitDelivery, got.stderr)
	}
	before = len(ms.srv.Messages())
	if got := week("w2", "--baseline", filepath.Join(root, "w1")); got.code != 0 || len(ms.srv.Messages()) != before {
		t.Errorf("w2, nothing changed since w1: exit %d, %d messages, want 0 and none\n%s", got.code, len(ms.srv.Messages())-before, got.stderr)
	}
	cmds[0][slices.Index(cmds[0], "--smtp")+1] = "smtp://" + ms.srv.Addr
	again, mailed := mailedBy(t, ms, cmds[0])
	if again.code != 0 || len(mailed) != len(manyOwners)-2 {
		t.Errorf("%q: exit %d, mailed %q, want 0 and the %d owners not mailed\n%s", cmds[0], again.code, mailed, len(manyOwners)-2, again.stderr)
	}
}

// killedWhileRendering leaves out as a rendering killed as it wrote its
// split again leaves it: the groups' marks kept apart, then the split
// taken away whole (report.Split's first step).
func killedWhileRendering(t *testing.T, out string) {
	t.Helper()
	if g := carryGroupMarks(out, io.Discard); len(g.marks) == 0 {
		t.Fatal("no group's mark to keep")
	}
	if err := os.RemoveAll(filepath.Join(out, "by-owner")); err != nil {
		t.Fatal(err)
	}
}

// TestKilledWhileRenderingKeepsTheMarks: an in-place rendering killed as
// it wrote the split again (an OOM kill, the SIGKILL after a pod's grace)
// lost every group's mark: the --undelivered command then mailed nobody,
// and the run compared with it mailed only what changed. The marks are
// kept apart while the split is written: the next rendering puts them
// back, and the next run sees them meanwhile.
func TestKilledWhileRenderingKeepsTheMarks(t *testing.T) {
	want := addressesOf(manyOwners[2:])
	t.Run("rendered again", func(t *testing.T) {
		out, cmd, ms := failedMidway(t, nil)
		killedWhileRendering(t, out)
		if got := runCLI(t, "", "report", filepath.Join(out, audit.ResultsFile), "--out", out, "--fail-on", "none", "--quiet", "--split-by", "owner"); got.code != 0 {
			t.Fatalf("report in place: exit %d\n%s", got.code, got.stderr)
		}
		got, mailed := mailedBy(t, ms, cmd)
		if got.code != 0 || !slices.Equal(mailed, want) {
			t.Errorf("%q: exit %d, mailed %q, want 0 and %q\n%s", cmd, got.code, mailed, want, got.stderr)
		}
	})
	t.Run("the next run", func(t *testing.T) {
		out, _, ms := failedMidway(t, nil, "--mail-when", "changes")
		killedWhileRendering(t, out)
		fleet, list := manyOwnersFleet()
		url, _ := serve(t, fleet, ssmsim.Options{})
		before := len(ms.srv.Messages())
		got := runCLI(t, "", append([]string{"run", "--instances", writeFile(t, "fleet.csv", list), "--endpoint-url", url, "--region", "us-east-1", "--out", filepath.Join(t.TempDir(), "w2"), "--quiet",
			"--fail-on", "none", "--split-by", "owner", "--mail-to-label", "owner_email", "--mail-when", "changes", "--baseline", out}, ms.args...)...)
		var mailed []string
		for _, m := range ms.srv.Messages()[before:] {
			mailed = append(mailed, m.To...)
		}
		if got.code != 0 || !slices.Equal(mailed, want) {
			t.Errorf("the next run, nothing changed: exit %d, mailed %q, want 0 and %q (the owners not mailed)\n%s", got.code, mailed, want, got.stderr)
		}
	})
}

// TestRenderedByAnotherLabelKeepsTheMarks: the reports of a run whose
// mail failed midway, rendered again in place split by another label,
// lost the split by owner and every mark in it: the --undelivered command
// mailed nobody and exited 0. The rendering says which groups' mail was
// not delivered; the command fails and says so; once the split by owner
// is rendered again, it mails them.
func TestRenderedByAnotherLabelKeepsTheMarks(t *testing.T) {
	out, cmd, ms := failedMidway(t, nil)
	other := runCLI(t, "", "report", filepath.Join(out, audit.ResultsFile), "--out", out, "--fail-on", "none", "--quiet", "--split-by", "owner_email")
	if other.code != 0 || !strings.Contains(other.stderr, "6 groups") || !strings.Contains(other.stderr, "not delivered") {
		t.Errorf("rendered by another label: exit %d, want 0 and the 6 groups whose mail was not delivered named\n%s", other.code, other.stderr)
	}
	got, mailed := mailedBy(t, ms, cmd)
	if got.code != int(exitDelivery) || len(mailed) != 0 || !strings.Contains(got.stderr, "render that split again") {
		t.Errorf("%q with no split by owner: exit %d, mailed %q, want %d, none, and what to do\n%s", cmd, got.code, mailed, exitDelivery, got.stderr)
	}
	if again := runCLI(t, "", "report", filepath.Join(out, audit.ResultsFile), "--out", out, "--fail-on", "none", "--quiet", "--split-by", "owner"); again.code != 0 {
		t.Fatalf("rendered by owner again: exit %d\n%s", again.code, again.stderr)
	}
	got, mailed = mailedBy(t, ms, cmd)
	if len(mailed) != len(manyOwners)-2 || got.code != 0 {
		t.Errorf("%q once split by owner again: exit %d, mailed %q, want 0 and the %d owners not mailed\n%s", cmd, got.code, mailed, len(manyOwners)-2, got.stderr)
	}
}

// TestUndeliveredOfAMarkUnread: a mark of one group that cannot be read
// (a FIFO in its place) hid the group's other mark: --undelivered
// skipped it without a word and exited 0. The other mark's addresses are
// mailed, and the one unread is a failure that names it.
func TestUndeliveredOfAMarkUnread(t *testing.T) {
	out, cmd, ms := failedMidway(t, nil)
	carol := filepath.Join(out, "by-owner", "carol")
	if err := os.Mkdir(filepath.Join(carol, unsentFile), 0o755); err != nil {
		t.Fatal(err)
	}
	got, mailed := mailedBy(t, ms, cmd)
	if got.code != int(exitDelivery) || !slices.Contains(mailed, "carol@example.com") || !strings.Contains(got.stderr, "cannot be read") {
		t.Errorf("%q: exit %d, mailed %q, want %d, carol among them, and the mark unread named\n%s", cmd, got.code, mailed, exitDelivery, got.stderr)
	}
}

// renderInPlace renders out's record again in place, split by label.
func renderInPlace(t *testing.T, out, label string) cliResult {
	t.Helper()
	return runCLI(t, "", "report", filepath.Join(out, audit.ResultsFile), "--out", out, "--fail-on", "none", "--quiet", "--split-by", label)
}

// TestKeptMarksWriteNowhereElse: a key of the kept marks planted under a
// by-* link to another directory (another run's groups) made the
// rendering write a mark there, with addresses of the planter's choosing,
// which that run's --undelivered would then mail. Nothing is written
// outside the split the rendering wrote.
func TestKeptMarksWriteNowhereElse(t *testing.T) {
	out, _, _ := failedMidway(t, nil)
	outside := filepath.Join(t.TempDir(), "alice")
	if err := os.MkdirAll(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Dir(outside), filepath.Join(out, "by-evil")); err != nil {
		t.Fatal(err)
	}
	planted := map[string]string{"by-evil/alice/" + undeliveredFile: `{"to": ["eve@example.com"]}`}
	if err := writeCarried(out, planted); err != nil {
		t.Fatal(err)
	}
	for _, label := range []string{"owner", "evil"} {
		renderInPlace(t, out, label)
		if statOK(filepath.Join(outside, undeliveredFile)) {
			t.Fatalf("rendered split by %s: a mark written through the link, outside the run", label)
		}
	}
}

// TestKeptMarksGoOnceMailed: owners whose marks were kept for the split
// by owner, mailed by a split of another label, were mailed again once
// the split by owner was rendered again. A mail that reaches an address
// takes it off the kept marks too.
func TestKeptMarksGoOnceMailed(t *testing.T) {
	out, cmd, ms := failedMidway(t, nil)
	if got := renderInPlace(t, out, "owner_email"); got.code != 0 {
		t.Fatalf("rendered by owner_email: exit %d\n%s", got.code, got.stderr)
	}
	if got := runCLI(t, "", append([]string{"mail", out, "--mail-to-label", "owner_email"}, ms.args...)...); got.code != 0 {
		t.Fatalf("every owner mailed by the split by owner_email: exit %d\n%s", got.code, got.stderr)
	}
	if got := renderInPlace(t, out, "owner"); got.code != 0 {
		t.Fatalf("rendered by owner again: exit %d\n%s", got.code, got.stderr)
	}
	if got, mailed := mailedBy(t, ms, cmd); got.code != 0 || len(mailed) != 0 {
		t.Errorf("%q once every owner was mailed: exit %d, mailed %q, want 0 and nobody\n%s", cmd, got.code, mailed, got.stderr)
	}
}

// TestKeptMarkOfAGroupGone: a mark kept for a group that the split of its
// label, written again, has not (its instances gone, another baseline)
// failed every --undelivered for ever, and rendering that split again
// kept it. It is dropped, naming the addresses its mail did not reach.
func TestKeptMarkOfAGroupGone(t *testing.T) {
	out, cmd, ms := failedMidway(t, nil)
	killedWhileRendering(t, out)
	g, err := readCarried(out)
	if err != nil {
		t.Fatal(err)
	}
	g["by-owner/zed/"+undeliveredFile] = `{"to": ["zed@example.com"]}`
	if err := writeCarried(out, g); err != nil {
		t.Fatal(err)
	}
	got := renderInPlace(t, out, "owner")
	if got.code != 0 || !strings.Contains(got.stderr, "zed@example.com") || !strings.Contains(got.stderr, "dropped") {
		t.Errorf("rendered by owner: exit %d, want 0 and zed's address named, its mark dropped\n%s", got.code, got.stderr)
	}
	if again, mailed := mailedBy(t, ms, cmd); again.code != 0 || len(mailed) != len(manyOwners)-2 {
		t.Errorf("%q: exit %d, mailed %q, want 0 and the %d owners not mailed\n%s", cmd, again.code, mailed, len(manyOwners)-2, again.stderr)
	}
}

// TestKeptMarksUnread: the kept marks cut short (a disk full as they were
// written) were taken for none: the rendering wrote over them, and
// --undelivered mailed nobody and exited 0. They are moved aside, not
// written over, and --undelivered fails, naming them; and a rendering by
// another label keeps the marks of the split it removes all the same (it
// lost them: the kept marks could not be written while the file it could
// not read was there).
func TestKeptMarksUnread(t *testing.T) {
	out, cmd, ms := failedMidway(t, nil)
	p := filepath.Join(out, carriedMarksFile)
	cut := []byte(`{"note": "the marks`)
	if err := os.WriteFile(p, cut, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := renderInPlace(t, out, "owner_email"); got.code != 0 || !strings.Contains(got.stderr, "cannot be read") {
		t.Errorf("rendered by another label: exit %d, want 0 and the kept marks named unread\n%s", got.code, got.stderr)
	}
	aside := filepath.Join(out, unreadCarriedFile)
	if now, _ := os.ReadFile(aside); !bytes.Equal(now, cut) {
		t.Errorf("the kept marks that cannot be read are not in %s as they were", unreadCarriedFile)
	}
	if got, _ := mailedBy(t, ms, cmd); got.code != int(exitDelivery) || !strings.Contains(got.stderr, unreadCarriedFile) {
		t.Errorf("%q: exit %d, want %d and %s named\n%s", cmd, got.code, exitDelivery, unreadCarriedFile, got.stderr)
	}
	// Looked at, and removed, as the message says.
	if err := os.Remove(aside); err != nil {
		t.Fatal(err)
	}
	if got := renderInPlace(t, out, "owner"); got.code != 0 {
		t.Fatalf("rendered by owner again: exit %d\n%s", got.code, got.stderr)
	}
	if got, mailed := mailedBy(t, ms, cmd); got.code != 0 || len(mailed) != len(manyOwners)-2 {
		t.Errorf("%q: exit %d, mailed %q, want 0 and the %d owners not mailed\n%s", cmd, got.code, mailed, len(manyOwners)-2, got.stderr)
	}
}

// TestKeptMarksStayForAMailToOthers: a mail of one group's reports to
// another owner (auditor mail DIR/GROUP --to ...) took that owner off the
// marks kept for the split by owner, though she never had her own: she
// was never mailed, nor named. Only an owner's own mail by the label
// takes her off.
func TestKeptMarksStayForAMailToOthers(t *testing.T) {
	out, cmd, ms := failedMidway(t, nil)
	if got := renderInPlace(t, out, "owner_email"); got.code != 0 {
		t.Fatalf("rendered by owner_email: exit %d\n%s", got.code, got.stderr)
	}
	var bobs []string // not filepath.Glob: a '[' in TMPDIR would match nothing
	entries, _ := os.ReadDir(filepath.Join(out, "by-owner_email"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "bob") {
			bobs = append(bobs, filepath.Join(out, "by-owner_email", e.Name()))
		}
	}
	if len(bobs) != 1 {
		t.Fatalf("bob's group by owner_email: %q, want one", bobs)
	}
	if got := runCLI(t, "", append([]string{"mail", bobs[0], "--to", "carol@example.com"}, ms.args...)...); got.code != 0 {
		t.Fatalf("bob's reports to carol: exit %d\n%s", got.code, got.stderr)
	}
	if got := renderInPlace(t, out, "owner"); got.code != 0 {
		t.Fatalf("rendered by owner again: exit %d\n%s", got.code, got.stderr)
	}
	if got, mailed := mailedBy(t, ms, cmd); got.code != 0 || !slices.Contains(mailed, "carol@example.com") {
		t.Errorf("%q: exit %d, mailed %q, want 0 and carol among them\n%s", cmd, got.code, mailed, got.stderr)
	}
}

// TestGroupMarkUnreadIsNamed: a group's mark that cannot be read went
// with the split written again, in silence: --undelivered had named it,
// and after the rendering mailed nobody of that group and exited 0.
func TestGroupMarkUnreadIsNamed(t *testing.T) {
	out, _, _ := failedMidway(t, nil)
	if err := os.WriteFile(filepath.Join(out, "by-owner", "carol", undeliveredFile), []byte("{garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := renderInPlace(t, out, "owner"); got.code != 0 || !strings.Contains(got.stderr, filepath.Join("by-owner", "carol")+": its mark") {
		t.Errorf("rendered again: exit %d, want 0 and carol's mark named unread\n%s", got.code, got.stderr)
	}
}

// TestMarksOfAnOutWithABracket: an --out whose name holds a '[' (audit[1])
// was taken for a pattern where the groups' marks were sought: a
// rendering in place lost them all, in silence, and --undelivered mailed
// nobody.
func TestMarksOfAnOutWithABracket(t *testing.T) {
	out, cmd, ms := failedMidway(t, nil)
	odd := filepath.Join(filepath.Dir(out), "audit[1]")
	if err := os.Rename(out, odd); err != nil {
		t.Fatal(err)
	}
	cmd[slices.Index(cmd, out)] = odd
	if got := renderInPlace(t, odd, "owner"); got.code != 0 {
		t.Fatalf("rendered again: exit %d\n%s", got.code, got.stderr)
	}
	if got, mailed := mailedBy(t, ms, cmd); got.code != 0 || !slices.Equal(mailed, addressesOf(manyOwners[2:])) {
		t.Errorf("%q: exit %d, mailed %q, want 0 and %q\n%s", cmd, got.code, mailed, addressesOf(manyOwners[2:]), got.stderr)
	}
}

// TestWeekAfterAnOutageSaysOnce: the week after a mailing that failed
// midway, each owner whose mail was not delivered got a line of its own
// on stderr saying so (3,000 lines); it is one line, and they are mailed.
func TestWeekAfterAnOutageSaysOnce(t *testing.T) {
	out, _, ms := failedMidway(t, nil, "--mail-when", "changes")
	fleet, list := manyOwnersFleet()
	url, _ := serve(t, fleet, ssmsim.Options{})
	before := len(ms.srv.Messages())
	got := runCLI(t, "", append([]string{"run", "--instances", writeFile(t, "fleet.csv", list), "--endpoint-url", url, "--region", "us-east-1", "--out", filepath.Join(t.TempDir(), "w2"), "--quiet",
		"--fail-on", "none", "--split-by", "owner", "--mail-to-label", "owner_email", "--mail-when", "changes", "--baseline", out}, ms.args...)...)
	var mailed []string
	for _, m := range ms.srv.Messages()[before:] {
		mailed = append(mailed, m.To...)
	}
	if n := strings.Count(got.stderr, "was not delivered"); got.code != 0 || n != 1 || !slices.Equal(mailed, addressesOf(manyOwners[2:])) {
		t.Errorf("exit %d, %d lines saying a mail was not delivered, mailed %q, want 0, one, and %q\n%s", got.code, n, mailed, addressesOf(manyOwners[2:]), got.stderr)
	}
}

// TestSayUndeliveredBasesOfFour: four groups, one more than are named one
// by one, on one line that counts them.
func TestSayUndeliveredBasesOfFour(t *testing.T) {
	for _, n := range []int{4, 5, 6} {
		var said []string
		dl := &delivery{warnf: func(format string, a ...any) { said = append(said, fmt.Sprintf(format, a...)) }}
		var bases []alreadyMailed
		for i := range n {
			bases = append(bases, alreadyMailed{dir: filepath.Join("w2", "by-owner", manyOwners[i]), to: []string{filepath.Join("w1", "by-owner", manyOwners[i])}})
		}
		dl.sayUndeliveredBases(bases)
		if len(said) != 1 || !strings.Contains(said[0], fmt.Sprintf("%d groups", n)) || strings.Contains(said[0], "and 0 more") {
			t.Errorf("%d groups: said %q, want one line that counts them", n, said)
		}
	}
}

// TestNextWeekOfUnreadMarks: the week after a rendering that found its
// kept marks unreadable (moved aside) mailed every owner "because the
// mail of the baseline was not delivered", though alice and bob had
// theirs; of them it says that it is not known.
func TestNextWeekOfUnreadMarks(t *testing.T) {
	out, _, ms := failedMidway(t, nil, "--mail-when", "changes")
	if err := os.WriteFile(filepath.Join(out, carriedMarksFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := renderInPlace(t, out, "owner"); got.code != 0 {
		t.Fatalf("rendered again: exit %d\n%s", got.code, got.stderr)
	}
	fleet, list := manyOwnersFleet()
	url, _ := serve(t, fleet, ssmsim.Options{})
	before := len(ms.srv.Messages())
	got := runCLI(t, "", append([]string{"run", "--instances", writeFile(t, "fleet.csv", list), "--endpoint-url", url, "--region", "us-east-1", "--out", filepath.Join(t.TempDir(), "w2"), "--quiet",
		"--fail-on", "none", "--split-by", "owner", "--mail-to-label", "owner_email", "--mail-when", "changes", "--baseline", out}, ms.args...)...)
	if text := textTo(t, ms, before, "alice@example.com"); !strings.Contains(text, "is not known") {
		t.Errorf("alice's mail says:\n%s\nwant that whether the mail before reached her is not known", text)
	}
	// Six owners' mail was not delivered, and is said so; of the two
	// mailed, it is not known.
	if got.code != 0 || !strings.Contains(got.stderr, "6 groups (carol,") || !strings.Contains(got.stderr, "alice: the marks") || !strings.Contains(got.stderr, "bob: the marks") {
		t.Errorf("exit %d, want 0, the 6 groups whose mail was not delivered, and alice's and bob's marks not known\n%s", got.code, got.stderr)
	}
}

// textTo returns the plain text of the last message the server took for
// address since before.
func textTo(t *testing.T, ms mailSetup, before int, address string) string {
	t.Helper()
	msgs := ms.srv.Messages()[before:]
	for i := len(msgs) - 1; i >= 0; i-- {
		if slices.Contains(msgs[i].To, address) {
			m, err := smtptest.Parse(msgs[i].Data)
			if err != nil {
				t.Fatal(err)
			}
			if p := m.Part("text/plain"); p != nil {
				return string(p.Body)
			}
		}
	}
	t.Fatalf("no message to %s", address)
	return ""
}

// TestNextWeekOfABaselineKilledMailing: the week after a run killed as it
// mailed its owners (alice and bob had theirs) told alice, on stderr and
// in her mail, that the mail of that run was not delivered. Of the groups
// whose mail is not known it says that it is not known.
func TestNextWeekOfABaselineKilledMailing(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet, list := manyOwnersFleet()
	url, _ := serve(t, fleet, ssmsim.Options{})
	ms, reached, release := heldAtThirdMail(t)
	root := t.TempDir()
	killed := filepath.Join(root, "killed")
	fl := writeFile(t, "fleet.csv", list)
	args := func(out string, more ...string) []string {
		return append(append([]string{"run", "--instances", fl, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet",
			"--fail-on", "none", "--split-by", "owner", "--mail-to-label", "owner_email", "--mail-when", "changes"}, more...), ms.args...)
	}
	copyHeld(t, args(filepath.Join(root, "run")), filepath.Join(root, "run"), killed, reached, release, "the run", "its third mail")
	before := len(ms.srv.Messages())
	got := runCLI(t, "", args(filepath.Join(root, "w2"), "--baseline", killed)...)
	if got.code != 0 || strings.Contains(got.stderr, "alice: the mail of its baseline") || !strings.Contains(got.stderr, "stopped midway") {
		t.Errorf("exit %d, want 0 and alice's baseline mail not known, not undelivered\n%s", got.code, got.stderr)
	}
	if text := textTo(t, ms, before, "alice@example.com"); !strings.Contains(text, "is not known") || strings.Contains(text, "was not delivered") {
		t.Errorf("alice's mail says:\n%s\nwant that whether the mail before reached her is not known", text)
	}
}

// TestUnreadMarksTwiceKeepsBoth: a second file of kept marks that could
// not be read was moved over the first one moved aside: the first's
// marks were gone without a word.
func TestUnreadMarksTwiceKeepsBoth(t *testing.T) {
	out, _, _ := failedMidway(t, nil)
	for _, garbage := range []string{"{first", "{second"} {
		if err := os.WriteFile(filepath.Join(out, carriedMarksFile), []byte(garbage), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := renderInPlace(t, out, "owner"); got.code != 0 {
			t.Fatalf("rendered again: exit %d\n%s", got.code, got.stderr)
		}
	}
	first, _ := os.ReadFile(filepath.Join(out, unreadCarriedFile))
	second, _ := os.ReadFile(filepath.Join(out, unreadCarriedFile+".2"))
	if string(first) != "{first" || string(second) != "{second" {
		t.Errorf("moved aside: %q and %q, want both, each in its own file", first, second)
	}
}

// TestUnreadAsideOfNoDirectory: the name to move unread kept marks to was
// sought until one did not exist, and a path that cannot be looked at
// (not a directory) never says so: it looped for ever.
func TestUnreadAsideOfNoDirectory(t *testing.T) {
	file := writeFile(t, "not-a-dir", "x")
	done := make(chan string, 1)
	go func() { done <- unreadAside(file) }()
	select {
	case name := <-done:
		if name != unreadCarriedFile {
			t.Errorf("unreadAside of a file = %q, want %q (whose move fails, saying why)", name, unreadCarriedFile)
		}
	case <-time.After(time.Minute):
		// Not a measure of speed: the loop never ends.
		t.Fatal("unreadAside has not returned after a minute")
	}
}
