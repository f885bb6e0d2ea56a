package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestEmptyListAmongOthers: a list that holds no instance IDs is refused
// (exit 2, naming it) beside other lists or --instance-id too, as it is
// alone: a cron job whose export failed and left one of its lists empty
// audited the rest and passed, with nothing said of the instances it lost.
func TestEmptyListAmongOthers(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	two := writeFile(t, "two.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	empty := writeFile(t, "empty.txt", "")
	comments := writeFile(t, "comments.csv", "# exported 2024-05-01\n\n")
	header := writeFile(t, "header.csv", "instance_id,owner\n")
	again := writeFile(t, "again.txt", "i-0123456789abcdef0\n")

	tests := []struct {
		name    string
		args    []string
		stdin   string
		want    int
		wantErr []string
		wantNot string
	}{
		{name: "an empty file after a list", args: []string{"--instances", two, "--instances", empty},
			want: 2, wantErr: []string{"empty.txt held no instance IDs"}, wantNot: "two.txt"},
		{name: "comments only before a list", args: []string{"--instances", comments, "--instances", two},
			want: 2, wantErr: []string{"comments.csv held no instance IDs"}, wantNot: "two.txt"},
		{name: "two empty among three", args: []string{"--instances", empty, "--instances", two, "--instances", header},
			want: 2, wantErr: []string{"empty.txt, ", "header.csv held no instance IDs"}, wantNot: "two.txt"},
		{name: "an empty list beside --instance-id", args: []string{"--instances", empty, "--instance-id", "i-0123456789abcdef0"},
			want: 2, wantErr: []string{"empty.txt held no instance IDs"}},
		{name: "standard input twice", args: []string{"--instances", "-", "--instances", "-"},
			stdin: "i-0123456789abcdef0\n", want: 2, wantErr: []string{"--instances - is given more than once: standard input is read once"}},
		{name: "empty standard input beside a list", args: []string{"--instances", two, "--instances", "-"},
			want: 2, wantErr: []string{"--instances - (standard input) held no instance IDs"}, wantNot: "two.txt"},
		// Every list empty: the message as for one.
		{name: "every list empty", args: []string{"--instances", empty, "--instances", comments},
			want: 2, wantErr: []string{"no instances to audit: ", "empty.txt, ", "comments.csv held no instance IDs"}},
		// A list of IDs that an earlier list has too held them.
		{name: "a list of duplicates", args: []string{"--instances", two, "--instances", again}, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"run", "--region", "us-east-1", "--quiet", "--endpoint-url", url,
				"--out", filepath.Join(t.TempDir(), "out")}, tt.args...)
			got := runCLI(t, tt.stdin, args...)
			if got.code != tt.want {
				t.Fatalf("exit %d, want %d\nstderr:\n%s", got.code, tt.want, got.stderr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(got.stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, got.stderr)
				}
			}
			if tt.wantNot != "" && strings.Contains(got.stderr, tt.wantNot) {
				t.Errorf("stderr names %s, which held IDs:\n%s", tt.wantNot, got.stderr)
			}
		})
	}
}
