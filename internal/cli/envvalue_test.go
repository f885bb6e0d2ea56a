package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEnvRefusalNamesVariable: a value from the environment refused after
// parsing is told with the variable it came from, as the README promises,
// since a scheduled job's command line has no such flag.
func TestEnvRefusalNamesVariable(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	for _, tt := range []struct {
		name, env, value string
		args             []string
		want             string
	}{
		{"resume with {time}", "AUDITOR_RESUME", "true",
			[]string{"--instance-id", "i-0123456789abcdef0", "--out", filepath.Join(t.TempDir(), "{time}")}, "--resume with {time} in --out"},
		{"resume without --out", "AUDITOR_RESUME", "true",
			[]string{"--instance-id", "i-0123456789abcdef0"}, "--resume needs --out DIR"},
		{"IDs with a comma", "AUDITOR_INSTANCE_ID", "i-0123456789abcdef0,i-0123456789abcdef1",
			[]string{"--out", filepath.Join(t.TempDir(), "out")}, "contains a comma"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(tt.env, tt.value)
			got := runCLI(t, "", append([]string{"run", "--region", "us-east-1", "--quiet"}, tt.args...)...)
			if got.code != 2 || !strings.Contains(got.stderr, tt.want) || !strings.Contains(got.stderr, "from the environment: "+tt.env) {
				t.Errorf("exit %d, want 2 saying %q and naming %s\n%s", got.code, tt.want, tt.env, got.stderr)
			}
		})
	}
}

// TestEnvValueTrailingNewline: a value from the environment ending in a
// newline (a YAML "|" block's, a file read with $(cat) on Windows) is taken
// without it, as each item of a list is taken without the blanks around
// it: AUDITOR_OUT made a directory whose name ends in a newline.
func TestEnvValueTrailingNewline(t *testing.T) {
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	for _, tt := range []struct {
		name, suffix string
	}{
		{"LF", "\n"},
		{"CRLF", "\r\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{
				"AUDITOR_OUT":       "runs/{time}" + tt.suffix,
				"AUDITOR_INSTANCES": ids + tt.suffix,
				"AUDITOR_FORMAT":    "csv,json" + tt.suffix,
			}
			c := newCommand("run", &bytes.Buffer{}, nil)
			c.o.getenv = func(k string) string { return env[k] }
			c.layers.getenv = c.o.getenv
			if _, err := c.parse(t.Context(), nil, false, &bytes.Buffer{}); err != nil {
				t.Fatal(err)
			}
			if got := c.o.out; got != "runs/{time}" {
				t.Errorf("out %q, want %q", got, "runs/{time}")
			}
			if got := c.o.instances.vals; len(got) != 1 || got[0] != ids {
				t.Errorf("instances %q, want [%q]", got, ids)
			} else if _, err := os.Stat(got[0]); err != nil {
				t.Error(err)
			}
			if got := strings.Join(c.o.formats.vals, ","); got != "csv,json" {
				t.Errorf("format %q, want csv,json", got)
			}
		})
	}
}
