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
// escape onto the terminal and into the reports. It is refused before any
// call, with or without --skip-invalid, from a file or from standard
// input, naming the list, the line, the column and the value escaped, and
// nothing is written or mailed.
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
		{name: "a file", instances: file, want: `fleet.csv:3: owner "bob\u202e": contains a format character (U+202E)`},
		{name: "a file, --skip-invalid", instances: file, extra: []string{"--skip-invalid"}, want: `fleet.csv:3: owner "bob\u202e"`},
		{name: "standard input", instances: "-", stdin: list, want: `stdin:3: owner "bob\u202e": contains a format character (U+202E)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			args := append([]string{"run", "--instances", tc.instances, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet",
				"--split-by", "owner", "--mail-to-label", "owner_email"}, ms.args...)
			got := runCLI(t, tc.stdin, append(args, tc.extra...)...)
			if got.code != 2 {
				t.Fatalf("exit %d, want 2\n%s", got.code, got.stderr)
			}
			if !strings.Contains(got.stderr, tc.want) {
				t.Errorf("stderr does not say %s:\n%s", tc.want, got.stderr)
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
