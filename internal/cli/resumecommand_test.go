package cli

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestPrintedResumeCommandResumes: the command that the closing lines of
// an incomplete run gave to continue it, "auditor run --resume --out inc
// (and the same targets and options)", could not be pasted: without the
// list it was refused (exit 2), and with the list, without the region.
// The command printed is the run's own command line, with --resume once
// and --out naming the directory the run wrote; pasted into a POSIX shell
// from the same directory, it continues the run. A secret flag's value is
// not in it: the shell takes it from AUDITOR_<FLAG>, and refuses to run
// the command when that is unset, rather than run it without. A second
// signal, which stops the run at once, names the same command.
//
// One instance of two fails with a server error while failing is set, and
// --max-attempts 1 gives it no retry: the run ends incomplete whatever the
// timing, and its resume audits that instance alone.
func TestPrintedResumeCommandResumes(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	const flaky = "i-0123456789abcdef1"
	var failing atomic.Bool
	url, _, _ := serveLogged(t, handFleet(false), func(w http.ResponseWriter, r wireReq) bool {
		if !failing.Load() || r.op != ssmsim.OpDescribeInstanceAssociationsStatus || r.instance != flaky {
			return false
		}
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"__type":"InternalServerError","message":"not this time"}`)
		return true
	})
	const ids = "i-0123456789abcdef0\ni-0123456789abcdef1\n"
	const secret = "pxsecret-external-id-0123456789"
	tests := []struct {
		name string
		// list is the instance list's path, relative to the working
		// directory; - reads ids from standard input.
		list string
		args []string
		// out is the directory the run writes, relative to the working
		// directory, as a glob when --out has {time} or is the default.
		out string
		// env is what the shell that runs the printed command needs.
		env []string
		// podEnv is set for the run alone, as a pod's scheduler sets it,
		// and unset for the printed command, pasted elsewhere.
		podEnv map[string]string
	}{
		{name: "as the reviewer ran it", list: "s30.txt", args: []string{"--region", "us-east-1", "--out", "inc"}, out: "inc"},
		{name: "paths with a space and a quote", list: "my lists/it's.txt", args: []string{"--region=us-east-1", "--out", "the run's out"}, out: "the run's out"},
		{name: "the default --out", list: "s30.txt", args: []string{"--region", "us-east-1"}, out: "audit-*"},
		{name: "{time} in --out", list: "s30.txt", args: []string{"--region", "us-east-1", "--out=runs/{time}"}, out: "runs/*"},
		{name: "--resume given already", list: "s30.txt", args: []string{"--resume", "--region", "us-east-1", "--out", "inc"}, out: "inc"},
		{name: "a secret flag", list: "s30.txt", args: []string{"--region", "us-east-1", "--out", "inc", "--role-name", "auditor-read", "--external-id", secret},
			out: "inc", env: []string{"AUDITOR_EXTERNAL_ID=" + secret}},
		{name: "a secret flag with =", list: "s30.txt", args: []string{"--region", "us-east-1", "--out", "inc", "--role-name", "auditor-read", "--external-id=" + secret},
			out: "inc", env: []string{"AUDITOR_EXTERNAL_ID=" + secret}},
		{name: "the list from standard input", list: "-", args: []string{"--region", "us-east-1", "--out", "inc"}, out: "inc"},
		{name: "--shard auto in a Kubernetes pod", list: "s30.txt", args: []string{"--region", "us-east-1", "--out", "inc", "--shard", "auto", "--shard-count", "1"},
			out: "inc", podEnv: map[string]string{"JOB_COMPLETION_INDEX": "0"}},
		{name: "--shard auto from the environment", list: "s30.txt", args: []string{"--region", "us-east-1", "--out", "inc"},
			out: "inc", podEnv: map[string]string{"AUDITOR_SHARD": "auto", "AWS_BATCH_JOB_ARRAY_INDEX": "0", "AWS_BATCH_JOB_ARRAY_SIZE": "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			stdin := ""
			if tt.list == "-" {
				stdin = ids
			} else {
				if err := os.MkdirAll(filepath.Dir(tt.list), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(tt.list, []byte(ids), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for _, k := range []string{"JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX", "AWS_BATCH_JOB_ARRAY_SIZE", "AUDITOR_SHARD", "AUDITOR_SHARD_COUNT"} {
				t.Setenv(k, tt.podEnv[k])
			}
			failing.Store(true)
			args := append([]string{"run", "--instances", tt.list, "--endpoint-url", url, "--max-attempts", "1", "--quiet"}, tt.args...)
			got := runCLI(t, stdin, args...)
			if got.code != int(exitIncomplete) {
				t.Fatalf("exit %d, want %d\n%s", got.code, exitIncomplete, got.stderr)
			}
			if strings.Contains(got.stdout+got.stderr, secret) {
				t.Errorf("the secret is repeated:\n%s", got.stderr)
			}
			_, line, ok := strings.Cut(got.stderr, "retry them with: ")
			if !ok {
				t.Fatalf("no command to retry with\n%s", got.stderr)
			}
			line, _, _ = strings.Cut(line, "\n")
			// A second signal, which ends the process at once, names the
			// same command.
			if d := dieMessage(); !strings.HasSuffix(d, "continue with: "+line) {
				t.Errorf("a second signal would say\n%s\nwant it to end with the command\n%s", d, line)
			}
			if tt.list == "-" {
				// The list cannot be read again: the command says it
				// wants it on standard input.
				const note = " (with the same list on its standard input again: this run read it from there)"
				cmd, ok := strings.CutSuffix(line, note)
				if !ok {
					t.Fatalf("%s\ndoes not end saying the list is wanted on standard input again", line)
				}
				line = cmd
			}
			if tt.env == nil {
				if _, err := shellWords(line); err != nil {
					t.Errorf("%s\nis not one plain command to a shell: %v", line, err)
				}
			} else if _, err := pasted(t, line, nil); err == nil {
				t.Errorf("%s\nran without %s set", line, tt.env[0][:strings.Index(tt.env[0], "=")])
			}
			words, err := pasted(t, line, tt.env)
			if err != nil {
				t.Fatalf("%s\ndoes not run in a shell: %v", line, err)
			}
			if tt.podEnv != nil {
				// Outside the pod, auto finds no index: the command
				// names the shard the run audited.
				if !strings.Contains(" "+strings.Join(words, " ")+" ", " --shard 0/1 ") || slices.Contains(words, "auto") || slices.Contains(words, "--shard-count") {
					t.Errorf("%q: want --shard 0/1, neither auto nor --shard-count", words)
				}
				for k := range tt.podEnv {
					os.Unsetenv(k)
				}
			}
			if len(words) < 1 || words[0] != "run" {
				t.Fatalf("%s\ngives auditor %q: want auditor run ...", line, words)
			}
			if n := strings.Count(" "+strings.Join(words, " ")+" ", " --resume "); n != 1 {
				t.Errorf("%q: --resume %d times, want once", words, n)
			}
			matches, _ := filepath.Glob(tt.out)
			if len(matches) != 1 {
				t.Fatalf("%s: %q, want the one directory the run wrote", tt.out, matches)
			}
			failing.Store(false)
			again := runCLI(t, stdin, words...)
			if again.code != int(exitOK) {
				t.Fatalf("%s\nexit %d, want %d\n%s", line, again.code, exitOK, again.stderr)
			}
			if !strings.Contains(again.stderr, "audited 1 instance in") || !strings.Contains(again.stderr, "1 from earlier runs") {
				t.Errorf("the pasted command did not resume the run:\n%s", again.stderr)
			}
			if o := recordKeys(t, matches[0])[flaky]; o != audit.OutcomeCompliant {
				t.Errorf("%s: %s in the record, want %s", flaky, o, audit.OutcomeCompliant)
			}
		})
	}
}

// pasted runs line in a POSIX shell with env added to this process's
// environment, as someone who pasted it would, and returns the arguments
// the shell gave the auditor; an error when the shell did not run it.
func pasted(t *testing.T, line string, env []string) ([]string, error) {
	t.Helper()
	// A function in the auditor's place prints each of its arguments,
	// ended by a NUL, which no argument holds.
	cmd := exec.Command("/bin/sh", "-c", `auditor() { for a in "$@"; do printf '%s\0' "$a"; done; }
`+line)
	cmd.Env = append(slices.Clone(os.Environ()), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%w: %s", err, strings.TrimSpace(errb.String()))
	}
	words := strings.Split(out.String(), "\x00")
	return words[:len(words)-1], nil
}
