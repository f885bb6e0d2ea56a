package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/internal/dirlock"
	"github.com/auditor-dev/auditor/ssmsim"
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

// TestFlagValueWanted: a value that does not parse is refused naming the
// flag with two dashes and what it wants, on the command line, in an
// AUDITOR_* variable and in --cli-input-json alike; the flag package said
// "parse error", and spelled a boolean flag with one dash.
func TestFlagValueWanted(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	input := writeFile(t, "input.json", `{"concurrency": "many"}`)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{"a duration", nil, []string{"run", "--instances", ids, "--call-timeout", "30"}, []string{`invalid value "30" for --call-timeout: want a duration such as 30s`}},
		{"a boolean", nil, []string{"run", "--instances", ids, "--skip-invalid=yes"}, []string{`invalid value "yes" for --skip-invalid: want true or false`}},
		{"an integer", nil, []string{"run", "--instances", ids, "--concurrency", "x"}, []string{`invalid value "x" for --concurrency: want an integer`}},
		{"an integer out of range", nil, []string{"run", "--instances", ids, "--max-pages", "99999999999999999999"}, []string{`for --max-pages: want an integer`, "out of range"}},
		{"a number", nil, []string{"run", "--instances", ids, "--rate", "fast"}, []string{`invalid value "fast" for --rate: want a number`}},
		{"an age", nil, []string{"run", "--instances", ids, "--stale-after", "7"}, []string{`invalid value "7" for --stale-after: want a duration such as 7d`}},
		// Out of range, these became a negative age or 0, both of which
		// turned the stale check off without a word.
		{"an age too long", nil, []string{"run", "--instances", ids, "--stale-after", "200000d"}, []string{`invalid value "200000d" for --stale-after: longer than the longest age, about 106751.99d (2562047h)`}},
		// Past the bound by less than a day; and as a Go duration, which
		// said no more than "want a duration".
		{"an age too long by hours", nil, []string{"run", "--instances", ids, "--stale-after", "106752d"}, []string{`invalid value "106752d" for --stale-after: longer than the longest age, about 106751.99d (2562047h)`}},
		{"a Go age too long", nil, []string{"run", "--instances", ids, "--stale-after", "2562048h"}, []string{`invalid value "2562048h" for --stale-after: longer than the longest age, about 106751.99d (2562047h)`}},
		{"an age not a number", nil, []string{"run", "--instances", ids, "--stale-after", "NaNd"}, []string{`invalid value "NaNd" for --stale-after: want a duration such as 7d`}},
		{"an age infinite", nil, []string{"run", "--instances", ids, "--stale-after", "Infd"}, []string{`invalid value "Infd" for --stale-after: want a duration such as 7d`}},
		{"an age shorter than a nanosecond", nil, []string{"run", "--instances", ids, "--stale-after", "1e-15d"}, []string{`invalid value "1e-15d" for --stale-after: shorter than 1ns (0 turns the check off)`}},
		{"an age that underflows to zero", nil, []string{"run", "--instances", ids, "--stale-after", "1e-400d"}, []string{`invalid value "1e-400d" for --stale-after: shorter than 1ns (0 turns the check off)`}},
		{"a hexadecimal age that underflows to zero", nil, []string{"run", "--instances", ids, "--stale-after", "0x1p-1100d"}, []string{`invalid value "0x1p-1100d" for --stale-after: shorter than 1ns (0 turns the check off)`}},
		{"a Go age shorter than a nanosecond", nil, []string{"run", "--instances", ids, "--stale-after", "0.5ns"}, []string{`invalid value "0.5ns" for --stale-after: shorter than 1ns (0 turns the check off)`}},
		{"simulate's", nil, []string{"simulate", "--latency", "5"}, []string{`invalid value "5" for --latency: want a duration`}},
		{"the environment", map[string]string{"AUDITOR_QUIET": "yes"}, []string{"run", "--instances", ids}, []string{`AUDITOR_QUIET="yes"`, "--quiet", "want true or false"}},
		{"the environment of simulate", map[string]string{"AUDITOR_SEED": "x"}, []string{"simulate"}, []string{`AUDITOR_SEED="x"`, "--seed", "want an integer"}},
		{"the input file", nil, []string{"run", "--instances", ids, "--cli-input-json", input}, []string{`"concurrency"`, "--concurrency", "want an integer"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			got := runCLI(t, "", tt.args...)
			if got.code != int(exitUsage) || strings.Contains(got.stderr, "parse error") {
				t.Errorf("exit %d, want %d, without \"parse error\"\n%s", got.code, exitUsage, got.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(got.stderr, w) {
					t.Errorf("stderr does not say %q\n%s", w, got.stderr)
				}
			}
		})
	}
	// The help still names each flag's value, as the README's table does
	// (TestHelpPlaceholders).
	help := runCLI(t, "", "run", "--help").stdout
	for _, w := range []string{"--call-timeout D\n", "--concurrency N\n", "--rate TPS\n", "--skip-invalid\n", "--stale-after AGE\n"} {
		if !strings.Contains(help, w) {
			t.Errorf("auditor run --help does not say %q", w)
		}
	}
}

// TestKilledRunAdvice: --baseline previous passes over a run killed before
// its run.json, and says how to continue it; the advice, pasted as
// printed, exited 2 "no instances to audit": it left out the targets,
// which the other resume hints say are needed, and did not quote a
// directory the shell would split.
func TestKilledRunAdvice(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	audits := t.TempDir()
	first := filepath.Join(audits, "first")
	if got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", first, "--quiet"); got.code != 1 {
		t.Fatalf("first run: exit %d\n%s", got.code, got.stderr)
	}
	// The second, killed: its record without its run.json.
	b, err := os.ReadFile(filepath.Join(first, audit.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	killed := filepath.Join(audits, "killed run")
	os.Mkdir(killed, 0o777)
	if err := os.WriteFile(filepath.Join(killed, audit.ResultsFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", filepath.Join(audits, "third"), "--quiet", "--baseline", "previous")
	want := "continue it with auditor run --resume --out " + shellQuote(killed) + " (and the same targets and options)"
	if !strings.Contains(got.stderr, want) {
		t.Errorf("stderr does not say %q\n%s", want, got.stderr)
	}

	// A run still going (two runs of a schedule that overlap) holds its
	// directory: it is no killed run to continue, and --resume there
	// would be refused as the directory in use.
	unlock, err := dirlock.Lock(killed)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	os.RemoveAll(filepath.Join(audits, "third")) // the killed run the latest again
	got = runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", filepath.Join(audits, "fourth"), "--quiet", "--baseline", "previous")
	if strings.Contains(got.stderr, "continue it with") || !strings.Contains(got.stderr, "still running") {
		t.Errorf("a run still going is called stopped, or not said to be running:\n%s", got.stderr)
	}
}

// TestTimeoutWhileReadingAFile: a --timeout that ran out while a regular
// file was read said "check what writes to it", of a file nothing writes
// to; that is for a pipe, a FIFO, or standard input that is one. A file,
// as a list or as standard input, has the timeout called too short.
func TestTimeoutWhileReadingAFile(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids := writeFile(t, "fleet.csv", "instance_id\ni-0123456789abcdef0\n")
	stdin, err := os.Open(ids)
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	for _, tt := range []struct {
		name  string
		list  string
		stdin io.Reader
	}{
		{"a file", ids, nil},
		{"a file as standard input", "-", stdin},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), []string{"run", "--instances", tt.list, "--region", "us-east-1", "--out", filepath.Join(t.TempDir(), "out"), "--timeout", "1ns", "--quiet"}, tt.stdin, &out, &errb)
			want := "--instances " + tt.list + ": --timeout 1ns ran out while the list was being read (too short?)"
			if code != int(exitIncomplete) || !strings.Contains(errb.String(), want) || strings.Contains(errb.String(), "writes to it") {
				t.Errorf("exit %d, want %d saying %q\n%s", code, exitIncomplete, want, errb.String())
			}
		})
	}
}
