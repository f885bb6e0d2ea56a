package cli

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/auditor-dev/auditor/deliver/smtptest"
	"github.com/auditor-dev/auditor/ssmsim"
)

// withProgram sets Program, as package main sets it from os.Args[0], for
// the rest of the test.
func withProgram(t *testing.T, arg0 string) {
	t.Helper()
	was := Program
	Program = arg0
	t.Cleanup(func() { Program = was })
}

// TestInvokedAs: the commands printed to be pasted said auditor whatever
// ran: from cron, /usr/local/bin/auditor or ./bin/auditor, where no
// auditor is on the PATH or another one is, the command pasted ran
// another auditor, or none. They name the program as it was invoked when
// that is a path; a name looked up on the PATH, and a build of go run,
// whose path is gone when it ends, stay auditor.
func TestInvokedAs(t *testing.T) {
	const tmp = "/scratch"
	for _, tt := range []struct {
		name, arg0, want string
	}{
		{"on the PATH", "auditor", "auditor"},
		{"unknown", "", "auditor"},
		{"an absolute path", "/usr/local/bin/auditor", "/usr/local/bin/auditor"},
		{"a relative path", "./bin/auditor", "./bin/auditor"},
		{"a relative path without a dot", "bin/auditor", "bin/auditor"},
		{"another name", "/opt/tools/ssm-audit", "/opt/tools/ssm-audit"},
		{"beside the temporary directory", "/scratchy/auditor", "/scratchy/auditor"},
		{"go run, in a temporary build directory", "/scratch/go-build2193/b001/exe/auditor", "auditor"},
		{"go run, under the temporary directory elsewhere", "/scratch/b001/exe/auditor", "auditor"},
		{"go run, with GOTMPDIR", "/var/cache/gotmp/go-build77/b001/exe/auditor", "auditor"},
		{"go run, from the build cache", "/home/me/.cache/go-build/3f/3fa4-d/auditor", "auditor"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := invokedAs(tt.arg0, tmp); got != tt.want {
				t.Errorf("invokedAs(%q, %q) = %q, want %q", tt.arg0, tmp, got, tt.want)
			}
		})
	}
}

// TestPrintedCommandsNameTheProgram: the resume command of an incomplete
// run, and the command that mails its reports again, name the program as
// it was invoked, quoted for a shell as the rest of the line is.
func TestPrintedCommandsNameTheProgram(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	const flaky = "i-0123456789abcdef1"
	url, _, _ := serveLogged(t, handFleet(false), func(w http.ResponseWriter, r wireReq) bool {
		if r.op != ssmsim.OpDescribeInstanceAssociationsStatus || r.instance != flaky {
			return false
		}
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"__type":"InternalServerError","message":"not this time"}`)
		return true
	})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n"+flaky+"\n")
	for _, tt := range []struct {
		name, arg0, want string
	}{
		{"on the PATH", "auditor", "auditor"},
		{"an absolute path", "/usr/local/bin/auditor", "/usr/local/bin/auditor"},
		{"a relative path", "./bin/auditor", "./bin/auditor"},
		{"a path with a space", "/opt/audit tools/auditor", "'/opt/audit tools/auditor'"},
		{"go run", "/scratch/go-build2193/b001/exe/auditor", "auditor"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			withProgram(t, tt.arg0)
			out := filepath.Join(t.TempDir(), "out")
			got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--max-attempts", "1", "--quiet")
			if got.code != int(exitIncomplete) {
				t.Fatalf("exit %d, want %d\n%s", got.code, exitIncomplete, got.stderr)
			}
			if want := "retry them with: " + tt.want + " run --resume "; !strings.Contains(got.stderr, want) {
				t.Errorf("stderr does not say %q:\n%s", want, got.stderr)
			}
			if d, want := dieMessage(), "continue with: "+tt.want+" run --resume "; !strings.Contains(d, want) {
				t.Errorf("a second signal would say\n%s\nwant %q", d, want)
			}
		})
	}

	t.Run("the mail again", func(t *testing.T) {
		withProgram(t, "/usr/local/bin/auditor")
		var mu sync.Mutex
		ms := newMailSetup(t, smtptest.Options{Reject: func(stage smtptest.Stage, n int) *smtptest.Reply {
			mu.Lock()
			defer mu.Unlock()
			if stage == smtptest.StageRcpt {
				return &smtptest.Reply{Code: 550, Message: "5.1.1 mailbox unavailable"}
			}
			return nil
		}})
		ok := writeFile(t, "ok.txt", "i-0123456789abcdef0\n")
		out := filepath.Join(t.TempDir(), "out")
		got := runCLI(t, "", append([]string{"run", "--instances", ok, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet", "--mail-to", "ops@example.com"}, ms.args...)...)
		if got.code != int(exitDelivery) {
			t.Fatalf("exit %d, want %d\n%s", got.code, exitDelivery, got.stderr)
		}
		if want := "deliver them with: /usr/local/bin/auditor mail " + out + " --to ops@example.com"; !strings.Contains(got.stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, got.stderr)
		}
	})
}
