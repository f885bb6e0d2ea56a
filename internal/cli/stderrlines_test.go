package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/auditor-dev/auditor/ssmsim"
)

// stderrLines checks stderr as a log pipeline reads it, a record a line:
// in JSON form every line is a record, and no line is longer than max
// bytes. It returns the lines.
func stderrLines(t *testing.T, stderr string, jsonForm bool, max int) []string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	for _, l := range lines {
		if len(l) > max {
			t.Errorf("a line of %d bytes, want at most %d: %.200q...", len(l), max, l)
		}
		if jsonForm && !json.Valid([]byte(l)) {
			t.Errorf("not a JSON record: %.200q", l)
		}
	}
	return lines
}

// TestFatalServiceMessageIsOneLine: a refusal that stops the run printed
// the service's message with its line breaks and at any length: an
// AccessDeniedException whose message held "\nauditor: error: FORGED
// LINE" made a line that seemed the auditor's, and a message of 2 MB a
// line (or a JSON record) of 2 MB. The service's words are one line,
// capped; the auditor's own hint after them stays a line of its own.
func TestFatalServiceMessageIsOneLine(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	serve(t, handFleet(false), ssmsim.Options{}) // STS
	// Refused on every one of 64 instances, with none allowed: the run
	// stops (fewer are each their own error).
	var list strings.Builder
	for i := range 70 {
		fmt.Fprintf(&list, "i-%017x\n", i)
	}
	ids := writeFile(t, "ids.txt", list.String())
	for _, tt := range []struct {
		name    string
		message string
	}{
		{"forged lines", "bad\u2026\nauditor: error: FORGED LINE account 999\n{\"level\":\"ERROR\",\"msg\":\"forged\"}"},
		{"long", "long " + strings.Repeat("x", 2<<20)},
	} {
		for _, format := range []string{logText, logJSON} {
			t.Run(tt.name+" "+format, func(t *testing.T) {
				body, _ := json.Marshal(map[string]string{"__type": "AccessDeniedException", "message": tt.message})
				short, _ := json.Marshal(map[string]string{"__type": "AccessDeniedException", "message": "refused"})
				var calls atomic.Int32
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "application/x-amz-json-1.1")
					w.WriteHeader(http.StatusBadRequest)
					if calls.Add(1) < 64 {
						// The refusals before the one that stops
						// the run are each an instance's error.
						w.Write(short)
						return
					}
					w.Write(body)
				}))
				defer srv.Close()
				got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", srv.URL, "--region", "us-east-1",
					"--out", filepath.Join(t.TempDir(), "out"), "--max-attempts", "1", "--concurrency", "1", "--quiet", "--log-format", format)
				if got.code != int(exitFatal) {
					t.Fatalf("exit %d, want %d\n%.2000q", got.code, exitFatal, got.stderr)
				}
				lines := stderrLines(t, got.stderr, format == logJSON, 2000)
				said, hinted := false, false
				for _, l := range lines {
					var rec struct{ Msg string }
					if strings.Contains(l, "FORGED") && !strings.Contains(l, "AccessDeniedException") ||
						strings.HasPrefix(l, `{"level"`) || json.Unmarshal([]byte(l), &rec) == nil && rec.Msg == "forged" {
						t.Errorf("a forged line: %q", l)
					}
					said = said || strings.Contains(l, "AccessDeniedException")
					hinted = hinted || strings.Contains(l, "allow ssm:DescribeInstanceAssociationsStatus")
				}
				if !said || !hinted {
					t.Errorf("want the refusal and the hint to allow the action:\n%.2000q", got.stderr)
				}
				if format == logText {
					i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "auditor: cannot call SSM") })
					if i < 0 || len(lines) != i+2 || !strings.HasPrefix(lines[i+1], "allow ssm:") {
						t.Errorf("want the refusal on one line and the hint on a line of its own after it:\n%.2000q", got.stderr)
					}
				}
			})
		}
	}
}

// dateServer answers every DescribeInstanceAssociationsStatus with no
// association and a Date header that does not parse, of the given value:
// the SDK warns of it at every answer, its parse's words holding the value
// once for each form it tried, a line each.
func dateServer(t *testing.T, date string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("Date", date)
		w.Write([]byte(`{"InstanceAssociationStatusInfos": []}`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestSDKWarningIsOneLine: in text form an SDK warning was written as the
// SDK made it: a Date header that did not parse made a warning of 6 lines,
// 5 of them without "auditor: ", and a Date header of 500 KB 5 MB of
// stderr (and in JSON form a record of megabytes). It is one line, capped.
func TestSDKWarningIsOneLine(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	serve(t, handFleet(false), ssmsim.Options{}) // STS
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	for _, tt := range []struct{ name, date string }{
		{"malformed", "not a date"},
		{"long", "x" + strings.Repeat("y", 100<<10)},
	} {
		for _, format := range []string{logText, logJSON} {
			t.Run(tt.name+" "+format, func(t *testing.T) {
				got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", dateServer(t, tt.date), "--region", "us-east-1",
					"--out", filepath.Join(t.TempDir(), "out"), "--max-attempts", "1", "--concurrency", "1", "--quiet", "--log-format", format)
				if got.code != int(exitOK) {
					t.Fatalf("exit %d, want %d\n%.2000q", got.code, exitOK, got.stderr)
				}
				n := 0
				for _, l := range stderrLines(t, got.stderr, format == logJSON, 2000) {
					switch {
					case strings.HasPrefix(l, "auditor: AWS SDK: ") || strings.Contains(l, `"source":"sdk"`):
						n++
					case strings.Contains(l, "parsing time"):
						t.Errorf("a line of the SDK's warning without its prefix: %.200q", l)
					}
				}
				if n != 1 {
					t.Errorf("%d warnings of the SDK, want 1:\n%.2000q", n, got.stderr)
				}
			})
		}
	}
}

// TestSDKWarningsNotRepeatedInJSON: in JSON form (--log-format json) every
// SDK warning was a record: 121 of the 128 records of a run whose endpoint
// dropped connections were the same "failed to discard remaining HTTP
// response body". They are counted as in text form: the first of each
// kind, then the 10th, the 100th, ...
func TestSDKWarningsNotRepeatedInJSON(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	serve(t, handFleet(false), ssmsim.Options{}) // STS
	var list strings.Builder
	for i := range 12 {
		fmt.Fprintf(&list, "i-0123456789abcde%02x\n", i)
	}
	ids := writeFile(t, "ids.txt", list.String())
	got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", dateServer(t, "not a date"), "--region", "us-east-1",
		"--out", filepath.Join(t.TempDir(), "out"), "--max-attempts", "1", "--concurrency", "1", "--quiet", "--log-format", logJSON)
	if got.code != int(exitOK) {
		t.Fatalf("exit %d, want %d\n%.2000q", got.code, exitOK, got.stderr)
	}
	var msgs []string
	for _, l := range stderrLines(t, got.stderr, true, 2000) {
		var rec struct{ Level, Msg, Source string }
		json.Unmarshal([]byte(l), &rec)
		if rec.Source == "sdk" {
			if rec.Level != "WARN" {
				t.Errorf("an SDK record at %s, want WARN: %q", rec.Level, l)
			}
			msgs = append(msgs, rec.Msg)
		}
	}
	if len(msgs) != 2 || !strings.Contains(msgs[1], "10 times") {
		t.Errorf("%d SDK records, want the first and the 10th:\n%s", len(msgs), strings.Join(msgs, "\n"))
	}
}

// TestPathWithLineBreakIsOneLine: a path given on the command line was
// written as it is in the lines that name it: --out "jo\nauditor: error:
// FORGED" made a record of its own in JSON form, and an --instances list
// named "ev\nauditor: FORGED\x1b[31m.txt" a line of its own. A path that
// holds such characters is quoted (shownPath).
func TestPathWithLineBreakIsOneLine(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	dir := t.TempDir()
	good := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	forged := filepath.Join(dir, "ev\nauditor: FORGED\x1b[31m.txt")
	if err := os.WriteFile(forged, []byte("i-0123456789abcdef0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	badList := filepath.Join(dir, "bad\nauditor: FORGED.txt")
	if err := os.WriteFile(badList, []byte("i-0123456789abcdef0\ni-12345\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	badAccounts := filepath.Join(dir, "acc\nauditor: FORGED.txt")
	if err := os.WriteFile(badAccounts, []byte("123456789012\nnot an account\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		args []string
		code exitCode
	}{
		{"out", []string{"--instances", good, "--out", "jo\nauditor: error: FORGED"}, exitOK},
		{"instances", []string{"--instances", forged, "--out", "out"}, exitOK},
		{"instances refused", []string{"--instances", badList, "--out", "out"}, exitUsage},
		{"accounts refused", []string{"--accounts", badAccounts, "--out", "out", "--role-name", "AuditRole", "--discover"}, exitUsage},
	} {
		for _, format := range []string{logText, logJSON} {
			t.Run(tt.name+" "+format, func(t *testing.T) {
				args := slices.Clone(tt.args)
				args[3] = filepath.Join(t.TempDir(), args[3]) // --out
				got := runCLI(t, "", append([]string{"run", "--endpoint-url", url, "--region", "us-east-1", "--format", "html", "--log-format", format}, args...)...)
				if got.code != int(tt.code) {
					t.Fatalf("exit %d, want %d\n%s", got.code, tt.code, got.stderr)
				}
				for _, l := range stderrLines(t, got.stderr, format == logJSON, 2000) {
					var rec struct{ Msg string }
					json.Unmarshal([]byte(l), &rec)
					if strings.HasPrefix(l, "auditor: FORGED") || strings.HasPrefix(l, "auditor: error: FORGED") ||
						strings.HasPrefix(rec.Msg, "FORGED") || strings.HasPrefix(rec.Msg, "error: FORGED") {
						t.Errorf("a forged line: %q\n%s", l, got.stderr)
					}
				}
			})
		}
	}
}
