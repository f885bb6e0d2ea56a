package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFlagWithoutItsValue: a flag given without its value took the next
// flag as its value, as Go's flag package does: "--out --quiet" wrote a
// whole run into a directory named --quiet, and "--out --instances
// fleet.txt" said the list was an unexpected argument. A value that is
// one of the command's flags is refused as the AWS CLI refuses it; one
// that only starts with a dash (-, a negative number), or a flag's name
// given with =, is a value.
func TestFlagWithoutItsValue(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	t.Chdir(t.TempDir())
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	refused := []struct {
		name string
		args []string
		want string
	}{
		{"a bool flag after", []string{"run", "--instances", ids, "--out", "--quiet"}, "argument --out: expected one argument"},
		{"a value flag after", []string{"run", "--out", "--instances", ids}, "argument --out: expected one argument"},
		{"the list's flag", []string{"run", "--instances", "--region", "us-east-1"}, "argument --instances: expected one argument"},
		{"one dash", []string{"run", "--instances", ids, "--out", "-quiet"}, "argument --out: expected one argument"},
		{"one dash before", []string{"run", "-out", "-quiet", "--instances", ids}, "argument --out: expected one argument"},
		{"a flag with its value", []string{"run", "--instances", ids, "--out", "--region=us-east-1"}, "argument --out: expected one argument"},
		{"the last flag", []string{"run", "--instances", ids, "--out"}, "argument --out: expected one argument"},
		{"demo", []string{"demo", "--out", "--quiet"}, "argument --out: expected one argument"},
		{"report", []string{"report", ids, "--out", "--quiet"}, "argument --out: expected one argument"},
		{"mail", []string{"mail", "dir", "--to", "--mail-from", "a@example.com"}, "argument --to: expected one argument"},
		{"simulate", []string{"simulate", "--ids", "--listen", "127.0.0.1:0"}, "argument --ids: expected one argument"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			got := runCLI(t, "", tt.args...)
			if got.code != int(exitUsage) || !strings.Contains(got.stderr, tt.want) {
				t.Errorf("exit %d, want %d saying %q\n%s", got.code, exitUsage, tt.want, got.stderr)
			}
			entries, _ := os.ReadDir(".")
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), "-") {
					t.Errorf("%s written", e.Name())
					os.RemoveAll(e.Name())
				}
			}
		})
	}
	// Values that only start with a dash are values: each is taken, and
	// the command stops at what comes after (an ID that is no ID, a rate
	// out of range, a run with no targets).
	taken := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"- is stdin", "i-bad\n", []string{"run", "--instances", "-", "--region", "us-east-1", "--out", filepath.Join(t.TempDir(), "o")}, `"i-bad"`},
		{"a negative number", "", []string{"run", "--instances", ids, "--region", "us-east-1", "--concurrency", "-1"}, "--concurrency -1"},
		{"a flag's name with =", "", []string{"run", "--out=--quiet"}, "no instances"},
	}
	for _, tt := range taken {
		t.Run(tt.name, func(t *testing.T) {
			got := runCLI(t, tt.stdin, tt.args...)
			if got.code != int(exitUsage) || !strings.Contains(got.stderr, tt.want) || strings.Contains(got.stderr, "expected one argument") {
				t.Errorf("exit %d, want %d saying %q\n%s", got.code, exitUsage, tt.want, got.stderr)
			}
		})
	}
}

// TestFlagBeforeItsCommand: a flag given without its command is named with
// the command that takes it, for every flag of every command; simulate's
// were left out ("auditor --listen 1" said unknown command "--listen").
// Of the commands that take one flag, the first in the help's order is
// named.
func TestFlagBeforeItsCommand(t *testing.T) {
	tests := []struct {
		arg, want string
	}{
		{"--listen", "simulate"},
		{"--rate-limit=5", "simulate"},
		{"-ids", "simulate"},
		{"--fleet-size", "demo"},
		{"--instances", "run"},
		{"--to", "mail"},
	}
	for _, tt := range tests {
		t.Run(tt.arg, func(t *testing.T) {
			got := runCLI(t, "", tt.arg, "1")
			name, _, _ := strings.Cut(strings.TrimLeft(tt.arg, "-"), "=")
			want := "did you mean auditor " + tt.want + " --" + name + "?"
			if got.code != int(exitUsage) || !strings.Contains(got.stderr, want) {
				t.Errorf("exit %d, want %d saying %q\n%s", got.code, exitUsage, want, got.stderr)
			}
		})
	}
	for _, c := range commands {
		flags, err := Flags(c)
		if err != nil {
			t.Fatal(err)
		}
		for name := range flags {
			if got, _ := commandOf("--" + name); got == "" {
				t.Errorf("auditor --%s names no command; %s takes it", name, c)
			}
		}
	}
}
