package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/deliver/smtptest"
	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestInputJSONFromEnv: AUDITOR_CLI_INPUT_JSON names the options file as
// --cli-input-json does, and the flag, as for every option, wins over the
// variable (an empty flag says "no file").
func TestInputJSONFromEnv(t *testing.T) {
	envFile := writeFile(t, "env.json", `{"fail-on": "none", "out": "from-env"}`)
	lineFile := writeFile(t, "line.json", `{"out": "from-line"}`)
	for _, tt := range []struct {
		name              string
		args              []string
		wantOut, wantFail string
		wantInput         string
	}{
		{"variable alone", nil, "from-env", "none", envFile},
		{"flag over variable", []string{"--cli-input-json", lineFile}, "from-line", "", lineFile},
		{"empty flag over variable", []string{"--cli-input-json="}, "", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"AUDITOR_CLI_INPUT_JSON": envFile}
			c := newCommand("run", &bytes.Buffer{}, nil)
			c.o.getenv = func(k string) string { return env[k] }
			c.layers.getenv = c.o.getenv
			if _, err := c.parse(t.Context(), tt.args, false, &bytes.Buffer{}); err != nil {
				t.Fatal(err)
			}
			got := c.o
			if got.out != tt.wantOut || strings.Join(got.failOn.vals, ",") != tt.wantFail || got.inputJSON != tt.wantInput {
				t.Errorf("out %q, fail-on %q, input %q; want %q, %q, %q",
					got.out, got.failOn.vals, got.inputJSON, tt.wantOut, tt.wantFail, tt.wantInput)
			}
		})
	}
}

// TestInputJSONFromEnvRefusal: a refusal of an option from the file that
// AUDITOR_CLI_INPUT_JSON names says where it came from, and
// AUDITOR_GENERATE_CLI_SKELETON, which would turn a scheduled run into a
// print of the skeleton and exit 0, is refused by name.
func TestInputJSONFromEnvRefusal(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	// A run that got past its options would write here, not in the
	// package's directory.
	args := []string{"run", "--instance-id", "i-0123456789abcdef0", "--region", "us-east-1", "--quiet", "--out", t.TempDir() + "/run"}
	t.Run("input", func(t *testing.T) {
		t.Setenv("AUDITOR_CLI_INPUT_JSON", writeFile(t, "o.json", `{"max-pages": 0}`))
		got := runCLI(t, "", args...)
		if got.code != 2 || !strings.Contains(got.stderr, "--max-pages") || !strings.Contains(got.stderr, "AUDITOR_CLI_INPUT_JSON") {
			t.Errorf("exit %d, want 2 naming --max-pages and AUDITOR_CLI_INPUT_JSON\n%s", got.code, got.stderr)
		}
	})
	t.Run("skeleton", func(t *testing.T) {
		t.Setenv("AUDITOR_GENERATE_CLI_SKELETON", "true")
		got := runCLI(t, "", args...)
		if got.code != 2 || !strings.Contains(got.stderr, "AUDITOR_GENERATE_CLI_SKELETON") || got.stdout != "" {
			t.Errorf("exit %d, want 2 naming AUDITOR_GENERATE_CLI_SKELETON\nstdout:\n%s\nstderr:\n%s", got.code, got.stdout, got.stderr)
		}
	})
}

// TestInputJSONFromEnvDeliverAgain: a job configured by
// AUDITOR_CLI_INPUT_JSON whose mail failed printed an auditor mail command
// that, run in the same environment, read the run's file and refused its
// run options (exit 2): the command that delivers again did not. It says
// --cli-input-json=, so that it reads no file.
func TestInputJSONFromEnvDeliverAgain(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ms := newMailSetup(t, smtptest.Options{})
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	t.Setenv("AUDITOR_CLI_INPUT_JSON", writeFile(t, "job.json", `{"fail-on": "none", "endpoint-url": "`+url+`", "region": "us-east-1"}`))
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	t.Setenv(envSMTPPassword, "not-the-password")
	got := runCLI(t, "", append([]string{"run", "--instances", ids, "--out", filepath.Join(t.TempDir(), "out"), "--quiet",
		"--mail-to", "ops@example.com"}, ms.args...)...)
	if got.code != int(exitDelivery) {
		t.Fatalf("exit %d, want %d\n%s", got.code, exitDelivery, got.stderr)
	}
	t.Setenv(envSMTPPassword, "s3cret-pass")
	if mailed := runRetries(t, ms, got.stderr); len(mailed) != 1 {
		t.Errorf("the commands that deliver again mailed %q, want ops@example.com once\n%s", mailed, got.stderr)
	}
}

// TestInputJSONFromEnvSplitAgain: mailed by a label the run was not split
// by, auditor mail printed the auditor report command that splits it;
// run in a job configured by AUDITOR_CLI_INPUT_JSON, that command read the
// run's file and refused its run options (exit 2). It says
// --cli-input-json=, as the command that mails again does.
func TestInputJSONFromEnvSplitAgain(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	t.Setenv("AUDITOR_CLI_INPUT_JSON", writeFile(t, "job.json", `{"fail-on": "none", "endpoint-url": "`+url+`", "region": "us-east-1"}`))
	// The instance has the label: mailed by a label none has, the
	// message says so instead of how to split.
	ids := writeFile(t, "ids.csv", "instance_id,owner\ni-0123456789abcdef0,alice\n")
	out := filepath.Join(t.TempDir(), "out")
	if got := runCLI(t, "", "run", "--instances", ids, "--out", out, "--quiet"); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	ms := newMailSetup(t, smtptest.Options{})
	got := runCLI(t, "", append([]string{"mail", out, "--cli-input-json=", "--mail-to-label", "owner"}, ms.args...)...)
	if got.code != int(exitDelivery) {
		t.Fatalf("mail by a label the run was not split by: exit %d, want %d\n%s", got.code, exitDelivery, got.stderr)
	}
	cmds := commandsAfter(t, got.stderr, "split it: ")
	if len(cmds) != 1 {
		t.Fatalf("want one command that splits the run, got %q\n%s", cmds, got.stderr)
	}
	if again := runCLI(t, "", cmds[0][1:]...); again.code != 0 {
		t.Fatalf("%q: exit %d, want 0\n%s", cmds[0], again.code, again.stderr)
	}
	if _, err := os.Stat(filepath.Join(report.SplitDir(out, "owner"), report.SplitIndex)); err != nil {
		t.Errorf("the command did not split the run: %v", err)
	}
}

// TestInlineInputJSONRefused: the AWS CLI's --cli-input-json takes the JSON
// itself; the auditor's takes a file, and said "open {...}: no such file or
// directory" of the JSON. It says to write it to a file instead, as its own
// words, from the flag and from the variable.
func TestInlineInputJSONRefused(t *testing.T) {
	const inline = ` {"region": "us-east-1", "instance-id": ["i-0123456789abcdef0"]}`
	for _, tt := range []struct {
		name, env string
		args      []string
		from      string
	}{
		{name: "flag", args: []string{"run", "--cli-input-json", inline}, from: "--cli-input-json"},
		{name: "variable", env: inline, args: []string{"run"}, from: "AUDITOR_CLI_INPUT_JSON"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("AUDITOR_CLI_INPUT_JSON", tt.env)
			got := runCLI(t, "", tt.args...)
			if got.code != int(exitUsage) {
				t.Fatalf("exit %d, want %d\n%s", got.code, exitUsage, got.stderr)
			}
			if !strings.Contains(got.stderr, tt.from+" takes a file") || !strings.Contains(got.stderr, "write the JSON to a file") || strings.Contains(got.stderr, "no such file") {
				t.Errorf("want it to say that %s takes a file:\n%s", tt.from, got.stderr)
			}
		})
	}
}
