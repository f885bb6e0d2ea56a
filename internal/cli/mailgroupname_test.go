package cli

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/deliver/smtptest"
	"github.com/auditor-dev/auditor/report"
)

// TestGroupMailNamesItsGroup: each owner's mail of a split names its group
// (the label and its value) in its subject and in the headline of both
// its parts, and the mail of the group of no value, sent to --mail-to,
// says it has none; the run's own mail to the same address names no group,
// so that the two do not look alike.
func TestGroupMailNamesItsGroup(t *testing.T) {
	// bob's instance has no owner: its group is the one of no value.
	out := ownersRunOf(t, "instance_id,owner,owner_email\ni-00000000000000a01,alice,alice@example.com\ni-00000000000000b01,,\ni-00000000000000c01,carol,carol@example.com\n")
	ms := newMailSetup(t, smtptest.Options{})
	got := runCLI(t, "", append([]string{"mail", out, "--mail-to-label", "owner_email", "--to", "ops@example.com"}, ms.args...)...)
	if got.code != 0 {
		t.Fatalf("exit %d\n%s", got.code, got.stderr)
	}
	var names []string // the group each message names, "" for none
	for _, msg := range ms.srv.Messages() {
		m, err := smtptest.Parse(msg.Data)
		if err != nil {
			t.Fatal(err)
		}
		name, _, _ := strings.Cut(m.Subject, ": ")
		if !strings.HasPrefix(name, "owner ") {
			name = ""
		}
		text := m.Part("text/plain")
		html := m.Part("text/html")
		if text == nil || html == nil {
			t.Fatalf("a message to %q without both parts", msg.To)
		}
		if first, _, _ := strings.Cut(string(text.Body), "\n"); name != "" && !strings.HasPrefix(first, name+": ") {
			t.Errorf("text to %q begins %q, want the group %q named as in its subject %q", msg.To, first, name, m.Subject)
		}
		if name != "" && !strings.Contains(string(html.Body), "<bdi>"+name+"</bdi>: ") {
			t.Errorf("HTML to %q does not name the group %q in its headline", msg.To, name)
		}
		names = append(names, strings.Join(msg.To, ",")+" "+name)
	}
	slices.Sort(names)
	want := []string{"alice@example.com owner alice", "carol@example.com owner carol", "ops@example.com ", "ops@example.com owner (no value)"}
	if !slices.Equal(names, want) {
		t.Errorf("messages (recipients, group named):\n got %q\nwant %q\n%s", names, want, got.stderr)
	}
	// One group's directory mailed alone names its group too.
	before := len(ms.srv.Messages())
	alone := runCLI(t, "", append([]string{"mail", filepath.Join(report.SplitDir(out, "owner"), "alice"), "--to", "lead@example.com"}, ms.args...)...)
	if msgs := ms.srv.Messages()[before:]; alone.code != 0 || len(msgs) != 1 {
		t.Fatalf("mail of alice's directory: exit %d, %d messages, want 0 and 1\n%s", alone.code, len(msgs), alone.stderr)
	}
	m, err := smtptest.Parse(ms.srv.Messages()[before].Data)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(m.Subject, "owner alice: ") {
		t.Errorf("subject of alice's directory mailed alone %q, want it to name the group", m.Subject)
	}
}
