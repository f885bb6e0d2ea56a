package cli

import (
	"io"
	"net/http"
	"os"
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
// another auditor, or none. They name the program as it was invoked: a
// path, or a name the shell found on the PATH (ssm-audit, which auditor
// would not find); only a build of go run, whose path is gone when it
// ends, stays auditor. A go run build is told precisely (a go-build
// work directory, go-build followed by digits, or the build cache), not
// by a directory whose name merely starts with go-build.
func TestInvokedAs(t *testing.T) {
	const cache = "/srv/gocache"
	for _, tt := range []struct {
		name, arg0, want string
	}{
		{"on the PATH", "auditor", "auditor"},
		{"on the PATH under another name", "ssm-audit", "ssm-audit"},
		{"unknown", "", "auditor"},
		{"an absolute path", "/usr/local/bin/auditor", "/usr/local/bin/auditor"},
		{"a relative path", "./bin/auditor", "./bin/auditor"},
		{"a relative path without a dot", "bin/auditor", "bin/auditor"},
		{"another name", "/opt/tools/ssm-audit", "/opt/tools/ssm-audit"},
		{"in a directory named go-builders", "/root/bin/go-builders/auditor", "/root/bin/go-builders/auditor"},
		{"in a directory named go-build-tools", "/opt/go-build-tools/auditor", "/opt/go-build-tools/auditor"},
		{"in a directory named go-build", "/opt/go-build/auditor", "/opt/go-build/auditor"},
		{"beside the build cache", "/srv/gocache-tools/auditor", "/srv/gocache-tools/auditor"},
		{"go run, in a temporary build directory", "/tmp/go-build2193/b001/exe/auditor", "auditor"},
		{"go run, with GOTMPDIR", "/var/cache/gotmp/go-build77/b001/exe/auditor", "auditor"},
		{"go run, from the build cache", cache + "/3f/3fa4-d/auditor", "auditor"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := invokedAs(tt.arg0, cache); got != tt.want {
				t.Errorf("invokedAs(%q, %q) = %q, want %q", tt.arg0, cache, got, tt.want)
			}
		})
	}
}

// TestProgramGoRunCache: program found a go run build by the temporary
// directory, not by the build cache: any program installed under $TMPDIR
// was named auditor, and a go run build from a GOCACHE of its own (go run
// keeps what it builds there since Go 1.24) was named by its path, gone
// once the cache is trimmed. The build cache is $GOCACHE, else go-build in
// the user's cache directory.
func TestProgramGoRunCache(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	t.Setenv("XDG_CACHE_HOME", filepath.Join(tmp, "xdg"))
	userCache, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, gocache, arg0, want string
	}{
		{"installed under TMPDIR", "", tmp + "/tools/auditor", tmp + "/tools/auditor"},
		{"go run, from GOCACHE", "/srv/gocache", "/srv/gocache/3f/3fa4-d/auditor", "auditor"},
		{"go run, from the user's cache", "", userCache + "/go-build/3f/3fa4-d/auditor", "auditor"},
		{"beside GOCACHE", "/srv/gocache", "/srv/tools/auditor", "/srv/tools/auditor"},
		{"GOCACHE off", "off", "/srv/tools/auditor", "/srv/tools/auditor"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GOCACHE", tt.gocache)
			withProgram(t, tt.arg0)
			if got := program(); got != tt.want {
				t.Errorf("program() of %s with GOCACHE=%q = %q, want %q", tt.arg0, tt.gocache, got, tt.want)
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
		{"on the PATH under another name", "ssm-audit", "ssm-audit"},
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
