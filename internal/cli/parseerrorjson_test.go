package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestParseErrorAsJSONLog: with the log format json, a flag the parser
// refuses is one ERROR record, as every error that ends the program is:
// it came out as plain text, because the console took its format only
// once the flags were parsed. The format is read from the command line
// even past the refused flag, from AUDITOR_LOG_FORMAT, and from the
// --cli-input-json file once read, in their order of precedence; a value
// that is not exactly json is not taken for it. The options file is read
// for it when the command line that names it failed before it was read. --help is unchanged.
func TestParseErrorAsJSONLog(t *testing.T) {
	ids := writeFile(t, "five.txt", "i-0123456789abcdef0\n")
	file := writeFile(t, "weekly.json", `{"log-format": "json", "concurrency": "x"}`)
	tests := []struct {
		name     string
		env      string // AUDITOR_LOG_FORMAT
		args     []string
		wantJSON bool
		says     string
	}{
		{name: "bad value, format from the environment", env: "json", args: []string{"run", "--instances", ids, "--concurrency", "x"},
			wantJSON: true, says: `invalid value "x" for --concurrency`},
		{name: "unknown flag after --log-format", args: []string{"run", "--log-format", "json", "--instances", ids, "--bogus"},
			wantJSON: true, says: "unknown flag --bogus"},
		{name: "unknown flag before --log-format", args: []string{"run", "--instances", ids, "--bogus", "--log-format", "json"},
			wantJSON: true, says: "unknown flag --bogus"},
		{name: "--log-format=json", args: []string{"run", "--bogus", "-log-format=json"},
			wantJSON: true, says: "unknown flag --bogus"},
		{name: "missing value", args: []string{"run", "--log-format", "json", "--instances"},
			wantJSON: true, says: "--instances: expected one argument"},
		{name: "report", args: []string{"report", "results.jsonl", "--bogus", "--log-format", "json"},
			wantJSON: true, says: "unknown flag --bogus"},
		{name: "format from the options file", args: []string{"run", "--instances", ids, "--cli-input-json", file},
			wantJSON: true, says: `"concurrency"`},
		{name: "a key of the options file it asks json in", args: []string{"run", "--instances", ids, "--cli-input-json", writeFile(t, "typo.json", `{"log-format": "json", "mail-to-lable": "owner"}`)},
			wantJSON: true, says: `"mail-to-lable"`},
		{name: "a flag typo, format from the options file", args: []string{"run", "--instances", ids, "--bogus", "--cli-input-json", writeFile(t, "json.json", `{"log-format": "json"}`)},
			wantJSON: true, says: "unknown flag --bogus"},
		{name: "a flag typo, options file read no more", args: []string{"run", "--cli-input-json", file, "--bogus", "--cli-input-json="},
			says: "unknown flag --bogus"},
		{name: "the command line wins over the environment", env: "json", args: []string{"run", "--bogus", "--log-format", "text"},
			says: "unknown flag --bogus"},
		{name: "the last --log-format wins", args: []string{"run", "--log-format", "json", "--bogus", "--log-format", "text"},
			says: "unknown flag --bogus"},
		{name: "not exactly json", args: []string{"run", "--bogus", "--log-format", "JSON"},
			says: "unknown flag --bogus"},
		{name: "text", args: []string{"run", "--instances", ids, "--concurrency", "x"},
			says: `invalid value "x" for --concurrency`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("AUDITOR_LOG_FORMAT", tt.env)
			got := runCLI(t, "", tt.args...)
			if got.code != int(exitUsage) {
				t.Fatalf("exit %d, want %d\n%s", got.code, exitUsage, got.stderr)
			}
			msg := got.stderr
			if tt.wantJSON {
				var rec struct{ Level, Msg string }
				if strings.Count(got.stderr, "\n") != 1 || json.Unmarshal([]byte(got.stderr), &rec) != nil || rec.Level != "ERROR" {
					t.Fatalf("want one JSON record at level ERROR:\n%s", got.stderr)
				}
				msg = rec.Msg
			} else if !strings.HasPrefix(msg, "auditor: ") {
				t.Errorf("want a line of text:\n%s", got.stderr)
			}
			if !strings.Contains(msg, tt.says) {
				t.Errorf("the error does not say %q:\n%s", tt.says, got.stderr)
			}
		})
	}
	t.Run("a flag typo, options file from the environment", func(t *testing.T) {
		t.Setenv("AUDITOR_CLI_INPUT_JSON", file)
		got := runCLI(t, "", "run", "--instances", ids, "--bogus")
		var rec struct{ Level, Msg string }
		if got.code != int(exitUsage) || json.Unmarshal([]byte(got.stderr), &rec) != nil || !strings.Contains(rec.Msg, "unknown flag --bogus") {
			t.Fatalf("exit %d, want %d and one JSON record of the typo:\n%s", got.code, exitUsage, got.stderr)
		}
	})
	t.Run("a flag typo, options file that is a pipe", func(t *testing.T) {
		// Opening a FIFO blocks until a writer comes: the file is read for
		// the format only when it is a regular file.
		fifo := filepath.Join(t.TempDir(), "fifo")
		if err := makeFIFO(fifo); err != nil {
			t.Fatal(err)
		}
		done := make(chan cliResult, 1)
		go func() { done <- runCLI(t, "", "run", "--bogus", "--cli-input-json", fifo) }()
		select {
		case got := <-done:
			if got.code != int(exitUsage) || !strings.Contains(got.stderr, "unknown flag --bogus") {
				t.Errorf("exit %d, want %d and the typo:\n%s", got.code, exitUsage, got.stderr)
			}
		case <-time.After(20 * time.Second):
			// Unblock the open, so that the test ends.
			if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
				f.Close()
			}
			t.Fatal("the refusal waited for the FIFO named by --cli-input-json")
		}
	})
	t.Run("--help", func(t *testing.T) {
		t.Setenv("AUDITOR_LOG_FORMAT", "json")
		got := runCLI(t, "", "run", "--help", "--log-format", "json")
		if got.code != int(exitOK) || got.stderr != "" || !strings.HasPrefix(got.stdout, "Usage: auditor run") {
			t.Errorf("exit %d, stderr %q, stdout beginning %.40q; want the help on stdout alone", got.code, got.stderr, got.stdout)
		}
	})
}
