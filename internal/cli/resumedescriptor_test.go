package cli

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestResumeCommandOfAListReadOnce: only --instances - was taken for a list
// that cannot be read again. --instances /dev/stdin, /dev/fd/N and
// /proc/self/fd/N (bash's <(...)) were printed in the command to resume as
// they were, with no word of it: pasted, it waited for a list typed at the
// terminal, or found no such file. Standard input by any of its names gets
// the note that - gets; another descriptor a note that names it.
//
// The run is the binary, run by bash, so that the descriptors are its own;
// it also shows that such a list is read. One instance of two fails with a
// server error and --max-attempts 1 gives it no retry: the run ends
// incomplete and prints the command.
func TestResumeCommandOfAListReadOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary: skipped with -short")
	}
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	bin := binary(t)
	const flaky = "i-0123456789abcdef1"
	url, _, _ := serveLogged(t, handFleet(false), func(w http.ResponseWriter, r wireReq) bool {
		if r.op != ssmsim.OpDescribeInstanceAssociationsStatus || r.instance != flaky {
			return false
		}
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"__type":"InternalServerError","message":"not this time"}`)
		return true
	})
	const ids = "i-0123456789abcdef0\ni-0123456789abcdef1\n"
	const stdinNote = " (with the same list on its standard input again: this run read it from there)"
	descriptorNote := func(list string) string {
		return " (with the same list again in place of " + list + ": this run read it from a descriptor that its shell opened, which is gone)"
	}
	tests := []struct {
		name string
		// list is what bash gives --instances, its standard input the
		// list; redirect is added after the command.
		list, redirect string
		// want is the note that ends the printed command, given the
		// --instances it holds.
		want func(list string) string
	}{
		{name: "/dev/stdin", list: "/dev/stdin", want: func(string) string { return stdinNote }},
		{name: "/dev/fd/0", list: "/dev/fd/0", want: func(string) string { return stdinNote }},
		{name: "/proc/self/fd/0", list: "/proc/self/fd/0", want: func(string) string { return stdinNote }},
		{name: "process substitution", list: "<(cat)", want: descriptorNote},
		{name: "/proc/self/fd/N", list: "/proc/self/fd/3", redirect: "3<&0", want: descriptorNote},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			script := `"$0" run --instances ` + tt.list + ` "$@" ` + tt.redirect
			cmd := exec.Command("bash", "-c", script, bin, "--region", "us-east-1", "--endpoint-url", url,
				"--max-attempts", "1", "--quiet", "--out", "inc")
			cmd.Dir = dir
			cmd.Stdin = strings.NewReader(ids)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != int(exitIncomplete) {
				t.Fatalf("%v, want exit %d\n%s", err, exitIncomplete, stderr.String())
			}
			_, line, ok := strings.Cut(stderr.String(), "retry them with: ")
			if !ok {
				t.Fatalf("no command to retry with\n%s", stderr.String())
			}
			line, _, _ = strings.Cut(line, "\n")
			cmdLine, _, ok := strings.Cut(line, " (with the same list")
			if !ok {
				t.Fatalf("%s\nsays nothing of the list, which cannot be read again", line)
			}
			words, err := shellWords(cmdLine)
			if err != nil {
				t.Fatalf("%s\nis not one plain command to a shell: %v", cmdLine, err)
			}
			i := slices.Index(words, "--instances")
			if i < 0 || i+1 == len(words) {
				t.Fatalf("%q: no --instances", words)
			}
			list := words[i+1]
			if want := cmdLine + tt.want(list); line != want {
				t.Errorf("the command printed is\n%s\nwant\n%s", line, want)
			}
		})
	}
}
