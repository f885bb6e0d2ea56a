package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestResumeProbeStopped: the resume of a record that names no account,
// whose instances are all in error, asks SSM whether these credentials'
// account manages one of them before it goes on. --timeout or a signal
// while it asked was taken for SSM's "no", and the resume refused as
// another account's record (exit 2, "start anew with another --out"). It
// is said as what stopped it (exit 3), and the record is left as it was.
func TestResumeProbeStopped(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	const id = "i-0123456789abcdef0"
	ids := writeFile(t, "ids.txt", id+"\ni-0123456789abcdef1\n")
	for _, tc := range []struct {
		name   string
		signal bool
		says   string
	}{
		{name: "--timeout", says: "--timeout"},
		{name: "a signal", signal: true, says: "interrupted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, srv := serveStallable(t, handFleet(true), ssmsim.Options{})
			out := filepath.Join(t.TempDir(), "run")
			if err := os.MkdirAll(out, 0o777); err != nil {
				t.Fatal(err)
			}
			w, err := audit.CreateRecord(filepath.Join(out, audit.ResultsFile))
			if err != nil {
				t.Fatal(err)
			}
			// As a first attempt killed before its run.json, with STS out
			// of reach, left it: no account named.
			if err := w.Write(audit.Result{Region: "us-east-1", InstanceID: id, Source: ids + ":1", AuditedAt: time.Now().UTC(),
				Outcome: audit.OutcomeError, Error: &audit.Error{Code: "ThrottlingException", Message: "Rate exceeded"}}); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			before := regularFiles(t, out)
			srv.StallFrom(1) // the probe waits until the run gives up
			args := []string{"run", "--resume", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet", "--fail-on", "none", "--rate", "100"}
			var code int
			var stderr bytes.Buffer
			if tc.signal {
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan int, 1)
				go func() { done <- run(ctx, args, strings.NewReader(""), io.Discard, &stderr) }()
				for srv.calls.Load() == 0 {
					time.Sleep(10 * time.Millisecond)
				}
				cancel() // as the first SIGINT or SIGTERM does
				select {
				case code = <-done:
				case <-time.After(time.Minute):
					t.Fatal("the run did not stop")
				}
			} else {
				got := runCLI(t, "", append(args, "--timeout", stallTimeout.String())...)
				code = got.code
				stderr.WriteString(got.stderr)
			}
			if code != int(exitIncomplete) || !strings.Contains(stderr.String(), tc.says) || strings.Contains(stderr.String(), "another --out") {
				t.Errorf("exit %d, want %d saying %q, not refused\n%s", code, exitIncomplete, tc.says, stderr.String())
			}
			if after := regularFiles(t, out); !sameSnapshot(before, after) {
				t.Errorf("%s changed: %v, was %v", out, after, before)
			}
		})
	}
}
