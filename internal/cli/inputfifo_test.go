package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCLIInputJSONFIFOInterrupted: a --cli-input-json FIFO that nobody
// writes is read as a list is: a signal ends the command at once (exit 3),
// naming the file, with nothing written. Opening it blocked where no
// signal was heard, and only a second one ended the run, advising a
// --resume of a record that did not exist.
func TestCLIInputJSONFIFOInterrupted(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	dir := t.TempDir()
	fifo := filepath.Join(dir, "options.json")
	mkfifo(t, fifo)
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	out := filepath.Join(dir, "out")
	for _, tt := range []struct {
		args []string
		// signal is false for a run whose --timeout must end the wait.
		signal bool
		want   string
	}{
		{[]string{"run", "--cli-input-json", fifo, "--instances", ids, "--region", "us-east-1", "--out", out}, true, "interrupted before any instance was audited"},
		{[]string{"run", "--timeout", "1s", "--cli-input-json", fifo, "--instances", ids, "--region", "us-east-1", "--out", out}, false, "had not ended when --timeout 1s ran out"},
		{[]string{"report", "--cli-input-json", fifo, filepath.Join(dir, "results.jsonl")}, true, "nothing was done or written"},
		{[]string{"mail", dir, "--to", "ops@example.com", "--cli-input-json", fifo}, true, "nothing was done or written"},
		{[]string{"demo", "--cli-input-json", fifo, "--out", out}, true, "nothing was done or written"},
	} {
		args := tt.args
		name := args[0]
		if !tt.signal {
			name += " --timeout"
		}
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			type ended struct {
				code           int
				stderr, stdout string
			}
			done := make(chan ended, 1)
			go func() {
				var o, e bytes.Buffer
				code := run(ctx, args, strings.NewReader(""), &o, &e)
				done <- ended{code, e.String(), o.String()}
			}()
			if tt.signal {
				time.Sleep(200 * time.Millisecond) // the command waits in the open
				cancel()                           // the signal
			}
			var got ended
			select {
			case got = <-done:
			case <-time.After(time.Minute):
				// Unblock the open so that the goroutine ends.
				if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
					w.Close()
				}
				t.Fatal("the command did not end after the signal while opening the --cli-input-json FIFO")
			}
			if got.code != int(exitIncomplete) {
				t.Errorf("exit %d, want %d\n%s", got.code, exitIncomplete, got.stderr)
			}
			if !strings.Contains(got.stderr, "--cli-input-json") || !strings.Contains(got.stderr, tt.want) || strings.Contains(got.stderr, "--resume") {
				t.Errorf("stderr does not name --cli-input-json and say %q, or advises --resume:\n%s", tt.want, got.stderr)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("--out was made (%v)", err)
			}
		})
	}
}
