package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestOptionsFileAmbiguous: a key given twice in the --cli-input-json
// file, or text after its object, was dropped without a word: the later
// "fail-on" won, and a run with noncompliant instances passed its gate. It
// is refused, exit 2, naming the file, the line and the key or the text,
// before anything is written or asked of AWS.
func TestOptionsFileAmbiguous(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	failing, srv := serve(t, handFleet(true), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	list, _ := json.Marshal(ids)
	for _, tt := range []struct {
		name string
		args []string // after the run's own
		json string
		want []string
	}{
		{name: "a repeated key", json: `{"instances":[` + string(list) + `], "fail-on":"failed", "fail-on":"none"}`,
			want: []string{"o.json:1:", `"fail-on" given twice`}},
		{name: "a repeated key on another line", json: "{\n  \"instances\": [" + string(list) + "],\n  \"fail-on\": \"failed\",\n\n  \"fail-on\": \"none\"\n}\n",
			want: []string{"o.json:5:", `"fail-on" given twice (first on line 3)`}},
		{name: "a repeated key written with an escape", json: `{"instances":[` + string(list) + `], "fail-on":"failed", "fail\u002don":"none"}`,
			want: []string{"o.json:1:", `"fail-on" given twice`}},
		{name: "a repeated key in an option's value", args: []string{"--region", "us-east-1"},
			json: "{\"instances\":[" + string(list) + "],\n\"region\": {\"name\": \"eu-west-1\", \"name\": \"us-east-1\"}}",
			want: []string{"o.json:2:", `"name" given twice in "region"`}},
		{name: "a second object", json: `{"instances":[` + string(list) + `]}` + "\n" + `{"fail-on":"none"}` + "\n",
			want: []string{"o.json:2:", `text after the JSON object of options: "{\"fail-on\":\"none\"}"`}},
		{name: "garbage", json: `{"instances":[` + string(list) + `]} garbage here`,
			want: []string{"o.json:1:", `text after the JSON object of options: "garbage here"`}},
		{name: "long garbage is cut", json: `{"instances":[` + string(list) + `]}` + "\n\n" + strings.Repeat("x", 500),
			want: []string{"o.json:3:", `"` + strings.Repeat("x", 40) + `..."`}},
		{name: "a secret after the object is not shown", json: `{"instances":[` + string(list) + `]}, {"smtp-password": "hunter2"}`,
			want: []string{"o.json:1:", "text after the JSON object of options", "secrets are never options"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv.ResetStats()
			out := filepath.Join(t.TempDir(), "out")
			args := append([]string{"run", "--region", "us-east-1", "--quiet", "--endpoint-url", failing, "--out", out,
				"--cli-input-json", writeFile(t, "o.json", tt.json)}, tt.args...)
			got := runCLI(t, "", args...)
			if got.code != int(exitUsage) {
				t.Fatalf("exit %d, want %d\n%s", got.code, exitUsage, got.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(got.stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, got.stderr)
				}
			}
			if strings.Contains(got.stderr, "hunter2") {
				t.Errorf("stderr shows the secret:\n%s", got.stderr)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("--out was created (%v)", err)
			}
			if n := srv.Stats().Requests; n != 0 {
				t.Errorf("%d requests to AWS, want none", n)
			}
		})
	}
}

// TestOptionsFileTrailingSpace: blanks and line ends after the object are
// no text after it.
func TestOptionsFileTrailingSpace(t *testing.T) {
	file := writeFile(t, "o.json", "{\"max-pages\": 7}\r\n\n \t\n")
	c := newCommand("run", &bytes.Buffer{}, nil)
	c.layers.getenv = func(string) string { return "" }
	if _, err := c.parse(t.Context(), []string{"--cli-input-json", file}, false, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if c.o.maxPages != 7 {
		t.Errorf("max-pages %d, want 7 from the file", c.o.maxPages)
	}
}

// TestOptionsFileSyntaxError: a file that is not JSON was refused without
// a place ("invalid character ',' looking for beginning of object key
// string"): it names the line and column.
func TestOptionsFileSyntaxError(t *testing.T) {
	for _, tt := range []struct {
		name, json string
		want       string
	}{
		{"a doubled comma", "{\n  \"max-pages\": 3,\n  \"fail-on\": \"failed\",\n  \"region\": \"us-east-1\",\n  \"quiet\": true,\n  \"concurrency\": 16,,\n  \"format\": \"csv\"\n}\n",
			`o.json:6:21: not a JSON object of options: invalid character ','`},
		{"a column after wide characters", "{\"out\": \"é\" \"x\"}",
			`o.json:1:13: not a JSON object of options: invalid character '"' after object key:value pair`},
		{"an array", "\n[1, 2]", `o.json:2:1: not a JSON object of options but an array`},
		{"null", "\n null\n", `o.json:2:2: not a JSON object of options but null`},
		{"a string", "\n\n  \"x\"", `o.json:3:3: not a JSON object of options but a string`},
		{"an object not closed", "{\n  \"max-pages\": 3,\n", `o.json:3: not a JSON object of options: the file ends before the object does`},
		{"an empty file", "\n", `o.json: empty: want a JSON object of options`},
		{"UTF-16", "\xff\xfe{\x00}\x00", `o.json: UTF-16 text: save the file as UTF-8`},
		{"UTF-16 without a byte-order mark", "{\x00\r\x00\n\x00}\x00", `o.json: UTF-16 text: save the file as UTF-8`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newCommand("run", &bytes.Buffer{}, nil)
			c.layers.getenv = func(string) string { return "" }
			_, err := c.parse(t.Context(), []string{"--cli-input-json", writeFile(t, "o.json", tt.json)}, false, &bytes.Buffer{})
			var ue *usageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want a usage error saying %q", err, tt.want)
			}
		})
	}
}

// TestOptionsFileBOM: a file an editor on Windows saved with a UTF-8 BOM
// was refused ("invalid character 'ï'"); it is read as without one, also
// for the log format of a command line refused before the file is read,
// and its places are counted as without one.
func TestOptionsFileBOM(t *testing.T) {
	const bom = "\xEF\xBB\xBF"
	c := newCommand("run", &bytes.Buffer{}, nil)
	c.layers.getenv = func(string) string { return "" }
	if _, err := c.parse(t.Context(), []string{"--cli-input-json", writeFile(t, "o.json", bom+`{"max-pages": 7}`)}, false, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if c.o.maxPages != 7 {
		t.Errorf("max-pages %d, want 7 from the file", c.o.maxPages)
	}

	c = newCommand("run", &bytes.Buffer{}, nil)
	c.layers.getenv = func(string) string { return "" }
	_, err := c.parse(t.Context(), []string{"--cli-input-json", writeFile(t, "o.json", bom+`{"max-pages" 7}`)}, false, &bytes.Buffer{})
	if want := "o.json:1:14: "; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want %q", err, want)
	}

	t.Run("log format", func(t *testing.T) {
		t.Setenv("AUDITOR_LOG_FORMAT", "")
		got := runCLI(t, "", "run", "--bogus", "--cli-input-json", writeFile(t, "o.json", bom+`{"log-format": "json"}`))
		var rec struct{ Level, Msg string }
		if got.code != int(exitUsage) || json.Unmarshal([]byte(got.stderr), &rec) != nil || !strings.Contains(rec.Msg, "unknown flag --bogus") {
			t.Errorf("exit %d, want %d and one JSON record of the typo:\n%s", got.code, exitUsage, got.stderr)
		}
	})
}
