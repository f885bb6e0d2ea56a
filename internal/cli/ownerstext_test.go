package cli

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/deliver/smtptest"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestOwnersUnseenCharacters: an inventory whose owner column holds a
// right-to-left override or a terminal escape made a group of its own,
// beside the owner it reads as, mailed its own reports, and carried the
// escape onto the terminal and into the reports. Its row is an invalid
// line: refused before any call, from a file or from standard input,
// naming the list, the line, the column and the value escaped, with
// nothing written or mailed; with --skip-invalid recorded as invalid
// without the value, the rest audited, and neither character anywhere in
// what the run writes or mails.
func TestOwnersUnseenCharacters(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, srv := serve(t, handFleet(true), ssmsim.Options{})
	ms := newMailSetup(t, smtptest.Options{})
	const list = "instance_id,owner,owner_email\n" +
		"i-0123456789abcdef0,bob,bob@example.com\n" +
		"i-0123456789abcdef1,bob\u202e,mallory@example.com\n" +
		"i-0000000000000dead,\x1b[31malice,alice@example.com\n"
	file := writeFile(t, "fleet.csv", list)
	for _, tc := range []struct {
		name, instances, stdin, want string
		extra                        []string
	}{
		{name: "a file", instances: file, want: `fleet.csv:3: "i-0123456789abcdef1": owner "bob\u202e": contains a format character (U+202E)`},
		{name: "standard input", instances: "-", stdin: list, want: `stdin:3: "i-0123456789abcdef1": owner "bob\u202e": contains a format character (U+202E)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			args := append([]string{"run", "--instances", tc.instances, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet",
				"--split-by", "owner", "--mail-to-label", "owner_email"}, ms.args...)
			got := runCLI(t, tc.stdin, append(args, tc.extra...)...)
			if got.code != 2 {
				t.Fatalf("exit %d, want 2\n%s", got.code, got.stderr)
			}
			if !strings.Contains(got.stderr, tc.want) || !strings.Contains(got.stderr, `:4: "i-0000000000000dead": owner "\x1b[31malice"`) {
				t.Errorf("stderr does not say %s and line 4's:\n%s", tc.want, got.stderr)
			}
			if strings.ContainsAny(got.stderr+got.stdout, "\x1b\u202e") {
				t.Errorf("the escape or the override reached the output unescaped:\n%q", got.stderr)
			}
			if n := srv.Stats().Requests; n != 0 {
				t.Errorf("%d requests to AWS, want none", n)
			}
			if n := len(ms.srv.Messages()); n != 0 {
				t.Errorf("%d messages sent, want none", n)
			}
			if _, err := os.Stat(out); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the output directory was made (%v), want nothing left behind", err)
			}
		})
	}
}

// TestOwnersUnseenCharactersSkipped: with --skip-invalid the rows whose
// owner reads as another's are recorded as invalid, and neither the
// override nor the escape reaches any file the run writes, nor a mail.
func TestOwnersUnseenCharactersSkipped(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	ms := newMailSetup(t, smtptest.Options{})
	file := writeFile(t, "fleet.csv", "instance_id,owner,owner_email\n"+
		"i-0123456789abcdef0,bob,bob@example.com\n"+
		"i-0123456789abcdef1,bob\u202e,mallory@example.com\n"+
		"i-0000000000000dead,\x1b[31malice,alice@example.com\n")
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", append([]string{"run", "--instances", file, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet",
		"--split-by", "owner", "--mail-to-label", "owner_email", "--skip-invalid", "--fail-on", "none"}, ms.args...)...)
	if got.code != 0 {
		t.Fatalf("exit %d, want 0\n%s", got.code, got.stderr)
	}
	invalid := 0
	err := filepath.WalkDir(out, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) == ".xlsx" { // compressed: any byte may be there
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), "\x1b") || strings.Contains(string(b), "\u202e") {
			t.Errorf("%s holds the escape or the override", path)
		}
		if filepath.Base(path) == "results.jsonl" {
			invalid = strings.Count(string(b), `"outcome":"invalid"`)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if invalid != 2 {
		t.Errorf("the record holds %d invalid results, want the 2 rows", invalid)
	}
	msgs := ms.srv.Messages()
	if len(msgs) == 0 {
		t.Fatal("nothing mailed: bob's group should be")
	}
	for _, m := range msgs {
		if to := strings.Join(m.To, ","); strings.Contains(to, "mallory@") || strings.Contains(to, "alice@") {
			t.Errorf("a mail went to the address of a row that is invalid: %s", to)
		}
		if data := string(m.Data); strings.Contains(data, "\x1b") || strings.Contains(data, "\u202e") {
			t.Error("a mail holds the escape or the override")
		}
	}
}
