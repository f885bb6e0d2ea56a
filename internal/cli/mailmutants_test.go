package cli

import (
	"encoding/json"
	"maps"
	"slices"
	"sort"
	"testing"

	"github.com/auditor-dev/auditor/deliver/smtptest"
)

// TestDropCarriedKeepsTheOthers: an owner mailed by a split of another
// label is taken off the carried marks, and only that owner: a mark due
// to two addresses keeps the other, whose mail is still owed; a mark due
// to that owner alone goes.
func TestDropCarriedKeepsTheOthers(t *testing.T) {
	mark := func(to ...string) string {
		b, _ := json.Marshal(undelivered{Note: "test", To: to})
		return string(b)
	}
	const two, one, other = "by-owner/alice/" + undeliveredFile, "by-owner/bob/" + undeliveredFile, "by-owner/carol/" + undeliveredFile
	dir := t.TempDir()
	if err := writeCarried(dir, map[string]string{
		two:   mark("a@example.com", "b@example.com"),
		one:   mark("a@example.com"),
		other: mark("c@example.com"),
	}); err != nil {
		t.Fatal(err)
	}
	if err := dropCarried(dir, []string{"A@example.com"}); err != nil {
		t.Fatal(err)
	}
	marks, err := readCarried(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for rel, m := range marks {
		var u undelivered
		if err := json.Unmarshal([]byte(m), &u); err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		got[rel] = u.To
	}
	want := map[string][]string{two: {"b@example.com"}, other: {"c@example.com"}}
	if !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("marks left %q, want %q", got, want)
	}
}

// TestMailToLabelSeparators: a --mail-to-label value may list its
// addresses with commas, semicolons or spaces, as the README says; each
// is mailed. A semicolon taken for part of an address refused both.
func TestMailToLabelSeparators(t *testing.T) {
	out := ownersRunOf(t, "instance_id,owner,owner_email\n"+
		"i-00000000000000a01,alice,\"alice@example.com;erin@example.com\"\n"+
		"i-00000000000000b01,bob,\"bob@example.com, frank@example.com\"\n"+
		"i-00000000000000c01,carol,carol@example.com grace@example.com\n")
	ms := newMailSetup(t, smtptest.Options{})
	got := runCLI(t, "", append([]string{"mail", out, "--mail-to-label", "owner_email"}, ms.args...)...)
	if got.code != 0 {
		t.Fatalf("exit %d\n%s", got.code, got.stderr)
	}
	var to []string
	for _, m := range ms.srv.Messages() {
		to = append(to, m.To...)
	}
	sort.Strings(to)
	want := []string{"alice@example.com", "bob@example.com", "carol@example.com", "erin@example.com", "frank@example.com", "grace@example.com"}
	if !slices.Equal(to, want) {
		t.Errorf("mailed %q, want %q\n%s", to, want, got.stderr)
	}
}
