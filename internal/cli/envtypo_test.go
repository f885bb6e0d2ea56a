package cli

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/ssmsim"
)

// envSecret is the value of the variables these tests set: no warning may
// repeat it, as a value may hold a secret.
const envSecret = "hunter2-not-for-logs"

// typoWarning is the line that a variable no command reads gets.
func typoWarning(name, suggestion string) string {
	w := "auditor: warning: " + name + " is not an option of any auditor command, and is ignored"
	if suggestion != "" {
		w += " (did you mean " + suggestion + "?)"
	}
	return w + "\n"
}

// TestEnvTypoWarns: a misspelled AUDITOR_* variable (AUDITOR_FAIL_ONN for
// AUDITOR_FAIL_ON) was ignored without a word, so a scheduled job's
// compliance gate could silently not apply. Each is named once on stderr,
// with the variable meant, and the run goes on as it would without it;
// a variable of another command's flag, the SMTP login and the names the
// tests read are not warned of, and no value is repeated.
func TestEnvTypoWarns(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	record := filepath.Join(t.TempDir(), "record")
	if got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", record, "--quiet"); got.code != int(exitFindings) {
		t.Fatalf("run: exit %d, want 1 (a failed association)\n%s", got.code, got.stderr)
	}
	runArgs := func() []string {
		return []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", filepath.Join(t.TempDir(), "out"), "--quiet"}
	}
	reportArgs := func() []string {
		return []string{"report", filepath.Join(record, "results.jsonl"), "--out", filepath.Join(t.TempDir(), "out"), "--quiet"}
	}
	for _, tt := range []struct {
		name string
		args []string
		env  []string
		want string // the warnings, in order
	}{
		{"misspelled, run", runArgs(), []string{"AUDITOR_FAIL_ONN"}, typoWarning("AUDITOR_FAIL_ONN", "AUDITOR_FAIL_ON")},
		{"underscore left out, report", reportArgs(), []string{"AUDITOR_FAILON"}, typoWarning("AUDITOR_FAILON", "AUDITOR_FAIL_ON")},
		{"the AWS CLI's word", runArgs(), []string{"AUDITOR_OUTPUT"}, typoWarning("AUDITOR_OUTPUT", "AUDITOR_OUT")},
		{"two, by name", runArgs(), []string{"AUDITOR_SMTP_PASSWORDD", "AUDITOR_FAIL_ONN"},
			typoWarning("AUDITOR_FAIL_ONN", "AUDITOR_FAIL_ON") + typoWarning("AUDITOR_SMTP_PASSWORDD", "AUDITOR_SMTP_PASSWORD")},
		{"nothing near", runArgs(), []string{"AUDITOR_ZZZZZZZZZZZZ"}, typoWarning("AUDITOR_ZZZZZZZZZZZZ", "")},
		{"mail's --to, report", reportArgs(), []string{"AUDITOR_TO"}, ""},
		{"mail's --to, run", runArgs(), []string{"AUDITOR_TO"}, ""},
		{"demo's --fleet-size, run", runArgs(), []string{"AUDITOR_FLEET_SIZE"}, ""},
		{"what the tests read", runArgs(), []string{"AUDITOR_REQUIRE_AWSCLI", "AUDITOR_REQUIRE_CHROMIUM", "AUDITOR_BENCH_SIMULATOR", "AUDITOR_SCREENSHOT_DIR"}, ""},
		{"the SMTP login", reportArgs(), []string{"AUDITOR_SMTP_USERNAME", "AUDITOR_SMTP_PASSWORD"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range tt.env {
				t.Setenv(k, envSecret)
			}
			got := runCLI(t, "", tt.args...)
			rest, ok := strings.CutPrefix(got.stderr, tt.want)
			if got.code != int(exitFindings) || !ok || strings.Contains(rest, "warning") || strings.Contains(rest, "AUDITOR_") {
				t.Errorf("exit %d, want 1 as without the variables, and stderr starting\n%s\nwith nothing more of them; got\n%s", got.code, tt.want, got.stderr)
			}
			if strings.Contains(got.stderr+got.stdout, envSecret) {
				t.Errorf("a variable's value was repeated:\n%s%s", got.stdout, got.stderr)
			}
		})
	}
}

// TestEnvTypoWarnsOnce: the warning is one line per variable, for every
// command that reads AUDITOR_* (simulate too), when the command is then
// refused as well, and a record of level WARN under --log-format json.
func TestEnvTypoWarnsOnce(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	t.Setenv("AUDITOR_FAIL_ONN", envSecret)
	want := typoWarning("AUDITOR_FAIL_ONN", "AUDITOR_FAIL_ON")
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"demo", []string{"demo", "--fleet-size", "0", "--out", filepath.Join(t.TempDir(), "out"), "--quiet"}},
		{"mail", []string{"mail"}},
		{"report", []string{"report", "--out", filepath.Join(t.TempDir(), "out")}},
		{"simulate", []string{"simulate", "--fleet-size", "0"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := runCLI(t, "", tt.args...)
			if got.code != int(exitUsage) || strings.Count(got.stderr, want) != 1 || !strings.HasPrefix(got.stderr, want) {
				t.Errorf("exit %d, want 2 after the warning once:\n%s\ngot\n%s", got.code, want, got.stderr)
			}
			if strings.Contains(got.stderr, envSecret) {
				t.Errorf("the variable's value was repeated:\n%s", got.stderr)
			}
		})
	}

	t.Run("json", func(t *testing.T) {
		got := runCLI(t, "", "demo", "--fleet-size", "0", "--out", filepath.Join(t.TempDir(), "out"), "--log-format", "json")
		line, _, _ := strings.Cut(got.stderr, "\n")
		var rec struct{ Level, Msg string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Level != "WARN" ||
			rec.Msg != strings.TrimSuffix(strings.TrimPrefix(want, "auditor: "), "\n") || strings.Count(got.stderr, "AUDITOR_FAIL_ONN") != 1 {
			t.Errorf("exit %d, want a WARN record first, once:\n%s", got.code, got.stderr)
		}
	})
}

// TestEnvTypoListInjected: the environment whose names are checked is the
// command's, as its getenv is, so that what the process holds does not
// count. A variable set empty, which would leave its option unset if it
// were spelled right, is no mistake to tell.
func TestEnvTypoListInjected(t *testing.T) {
	var stderr bytes.Buffer
	c := newCommand("run", &bytes.Buffer{}, &stderr)
	env := map[string]string{"AUDITOR_MAX_PAGE": "5"}
	c.layers.getenv = func(k string) string { return env[k] }
	c.layers.environ = func() []string {
		return []string{"AUDITOR_MAX_PAGE=5", "AUDITOR_REQUIRE_AWSCLI=1", "AUDITOR_FAIL_ONN=", "AUDITOR_FORMATS=\r\n", "PATH=/bin"}
	}
	if _, err := c.parse(t.Context(), []string{"--instance-id", "i-0123456789abcdef0"}, false, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if got, want := stderr.String(), typoWarning("AUDITOR_MAX_PAGE", "AUDITOR_MAX_PAGES"); got != want {
		t.Errorf("stderr\n%s\nwant\n%s", got, want)
	}
}
