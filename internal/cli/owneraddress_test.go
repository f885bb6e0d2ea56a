package cli

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/deliver/smtptest"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestMailToLabelOddAddresses: an owner's tag of an address that net/mail
// takes but that is no bare name@domain ("ops@corp.example"@evil.example,
// whose quotes net/mail drops) passed the check of --mail-to-label, then
// building the group's message failed: exit 5, and a command to mail
// again that could only fail again. Only a bare address of a dot-atom
// and a host name is taken: any other value is refused at the check, as
// any value that is no address is (a warning naming the instance and the
// value, quoted), and the group's valid owner is mailed, exit 0.
func TestMailToLabelOddAddresses(t *testing.T) {
	for _, tt := range []struct {
		name, email string
		refused     []string // as the warnings quote them
	}{
		{"quoted local part with an @", `"ops@corp.example"@evil.example`, []string{`"\"ops@corp.example\"@evil.example"`}},
		{"quoted local part with a space", `"ops team"@corp.example`, []string{`"\"ops"`, `"team\"@corp.example"`}},
		{"quoted local part with a backslash", `"ops\team"@corp.example`, []string{`"\"ops\\team\"@corp.example"`}},
		{"quoted local part", `"ops"@corp.example`, []string{`"\"ops\"@corp.example"`}},
		{"display name", `Ops <ops@corp.example>`, []string{`"Ops"`, `"<ops@corp.example>"`}},
		{"comment", `ops@corp.example(Ops)`, []string{`"ops@corp.example(Ops)"`}},
		{"trailing dot", `ops@corp.example.`, []string{`"ops@corp.example."`}},
		{"IP literal", `user@[10.0.0.1]`, []string{`"user@[10.0.0.1]"`}},
		{"bare IPv4 address", `user@10.0.0.1`, []string{`"user@10.0.0.1"`}},
		{"non-ASCII local part", `jörg@corp.example`, []string{`"jörg@corp.example"`}},
		{"non-ASCII domain", `ops@bücher.example`, []string{`"ops@bücher.example"`}},
		{"underscore in the domain", `ops@corp_mail.example`, []string{`"ops@corp_mail.example"`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			isolateAWS(t, "AKIATESTTESTTESTTEST")
			f := ssmsim.NewFleet(ssmsim.FleetConfig{})
			d := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
			var ids strings.Builder
			for i, email := range []string{"alice@example.com", tt.email} {
				id := fmt.Sprintf("i-00000000000000a0%d", i+1)
				ids.WriteString(id + "\n")
				f.Add(ssmsim.Instance{InstanceID: id, Tags: map[string]string{"Owner": "alice", "Email": email}, Associations: []ssmsim.Association{
					{AssociationID: fmt.Sprintf("%08d-1111-1111-1111-111111111111", i), Name: "AWS-RunPatchBaseline", InstanceID: id, Status: "Success", DetailedStatus: "Success", ExecutionDate: d},
				}})
			}
			url, _ := serve(t, f, ssmsim.Options{})
			t.Setenv("AWS_ENDPOINT_URL_EC2", url)
			ms := newMailSetup(t, smtptest.Options{})
			list := writeFile(t, "ids.txt", ids.String())
			got := runCLI(t, "", append([]string{"run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", filepath.Join(t.TempDir(), "out"),
				"--tag-labels", "Owner,Email", "--split-by", "tag:Owner", "--mail-to-label", "tag:Email", "--fail-on", "none"}, ms.args...)...)
			if got.code != 0 || strings.Contains(got.stderr, "auditor mail '") {
				t.Fatalf("exit %d, want 0 and no command to mail again\n%s", got.code, got.stderr)
			}
			var to []string
			for _, m := range ms.srv.Messages() {
				to = append(to, m.To...)
			}
			if !slices.Equal(to, []string{"alice@example.com"}) {
				t.Errorf("mailed %q, want alice@example.com alone\n%s", to, got.stderr)
			}
			for _, v := range tt.refused {
				if want := "ids.txt:2 (i-00000000000000a02): tag:Email " + v + ": not mailed, not a mail address"; !strings.Contains(got.stderr, want) {
					t.Errorf("stderr does not say %s:\n%s", want, got.stderr)
				}
			}
			// A bare IP address is no host name: the warning says so.
			if want := `its domain "10.0.0.1" is an IP address, not a host name`; strings.HasSuffix(tt.email, "@10.0.0.1") && !strings.Contains(got.stderr, want) {
				t.Errorf("stderr does not say %s:\n%s", want, got.stderr)
			}
		})
	}
}
