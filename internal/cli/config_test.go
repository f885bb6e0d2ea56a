package cli

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// values returns every flag's value as text.
func values(fs *flagSet) map[string]string {
	m := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) { m[f.Name] = f.Value.String() })
	return m
}

// TestSkeletonRoundTrip: --generate-cli-skeleton, fed back through
// --cli-input-json, gives every option its default, for every command.
func TestSkeletonRoundTrip(t *testing.T) {
	for _, name := range []string{"run", "demo", "report"} {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			c := newCommand(name, &out, nil)
			c.o.getenv = func(string) string { return "" }
			c.layers.getenv = c.o.getenv
			if _, err := c.parse(t.Context(), []string{"--generate-cli-skeleton"}, false, &out); err != errSkeleton {
				t.Fatalf("--generate-cli-skeleton: %v", err)
			}
			var skeleton map[string]any
			if err := json.Unmarshal(out.Bytes(), &skeleton); err != nil {
				t.Fatalf("the skeleton is not JSON: %v\n%s", err, out.String())
			}
			defaults := values(newCommand(name, &out, nil).fs)
			delete(defaults, inputJSONFlag)
			delete(defaults, skeletonFlag)
			if len(skeleton) != len(defaults) {
				t.Errorf("the skeleton has %d options, the command %d", len(skeleton), len(defaults))
			}
			file := filepath.Join(t.TempDir(), "options.json")
			os.WriteFile(file, out.Bytes(), 0o644)
			back := newCommand(name, &out, nil)
			back.layers.getenv = func(string) string { return "" }
			if _, err := back.parse(t.Context(), []string{"--cli-input-json", "file://" + file}, false, &out); err != nil {
				t.Fatalf("--cli-input-json of the skeleton: %v", err)
			}
			got := values(back.fs)
			for k, want := range defaults {
				if got[k] != want {
					t.Errorf("--%s = %q from the skeleton, default %q", k, got[k], want)
				}
			}
		})
	}
}

// TestOptionPrecedence: a flag beats AUDITOR_<FLAG>, which beats the file,
// which beats the default; every flag has its variable.
func TestOptionPrecedence(t *testing.T) {
	file := writeFile(t, "options.json", `{"max-pages": 11, "concurrency": 3, "fail-on": ["failed", "pending"], "region": "eu-west-1", "quiet": true}`)
	env := map[string]string{"AUDITOR_MAX_PAGES": "22", "AUDITOR_SHARD_COUNT": "6"}
	c := newCommand("run", &bytes.Buffer{}, nil)
	c.layers.getenv = func(k string) string { return env[k] }
	if _, err := c.parse(t.Context(), []string{"--cli-input-json", file, "--max-pages", "33", "--region", "us-east-1"}, false, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	o := c.o
	if o.maxPages != 33 || o.concurrency != 3 || o.region != "us-east-1" || o.shardCount != 6 || !o.quiet ||
		strings.Join(o.failOn.vals, ",") != "failed,pending" || o.maxResults != 50 {
		t.Errorf("max-pages %d (flag 33), concurrency %d (file 3), region %q (flag), shard-count %d (env 6), quiet %v (file), fail-on %q (file), max-results %d (default 50)",
			o.maxPages, o.concurrency, o.region, o.shardCount, o.quiet, o.failOn.vals, o.maxResults)
	}

	c = newCommand("run", &bytes.Buffer{}, nil)
	c.layers.getenv = func(k string) string { return env[k] }
	c.parse(t.Context(), []string{"--cli-input-json", file}, false, &bytes.Buffer{})
	if c.o.maxPages != 22 {
		t.Errorf("max-pages %d, want 22 from AUDITOR_MAX_PAGES over the file's 11", c.o.maxPages)
	}
}

// TestCLIInputErrors: a key that is not an option is refused with a
// suggestion, and one that looks like a secret says where secrets go.
func TestCLIInputErrors(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	for _, tt := range []struct {
		json, want string
	}{
		{`{"max-page": 3}`, `did you mean "max-pages"?`},
		{`{"smtp-password": "hunter2"}`, "secrets are never options"},
		{`{"concurrency": "many"}`, `"concurrency"`},
		{`[1, 2]`, "not a JSON object"},
	} {
		file := writeFile(t, "o.json", tt.json)
		got := runCLI(t, "", "run", "--cli-input-json", file, "--instance-id", "i-0123456789abcdef0", "--region", "us-east-1")
		if got.code != 2 || !strings.Contains(got.stderr, tt.want) || strings.Contains(got.stderr, "hunter2") {
			t.Errorf("%s: exit %d, want 2 saying %q\n%s", tt.json, got.code, tt.want, got.stderr)
		}
	}
}

// TestCLIInputOptionOfAnotherCommand: a key that is an option of another
// command ("upload-kms-key" in a file given to auditor mail) was called a
// secret, as any key with "key" in it was: it is named as the option of
// the commands that take it. A key that looks like a secret and is no
// command's option still says where secrets go; the value is never shown.
func TestCLIInputOptionOfAnotherCommand(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	run := []string{"run", "--instance-id", "i-0123456789abcdef0", "--region", "us-east-1"}
	mail := []string{"mail", t.TempDir(), "--to", "ops@example.com"}
	for _, tt := range []struct {
		name    string
		args    []string
		json    string
		want    string
		notWant string
	}{
		{"a key of run and report", mail, `{"upload-kms-key": "alias/reports"}`,
			`"upload-kms-key" is an option of auditor run and auditor report, not of auditor mail`, "secret"},
		{"a key of run alone", []string{"report", "records.jsonl", "--out", t.TempDir()}, `{"role-name": "AuditRole"}`,
			`"role-name" is an option of auditor run, not of auditor report`, "secret"},
		{"a key of demo and simulate", mail, `{"fleet-size": 30}`,
			`"fleet-size" is an option of auditor demo and auditor simulate, not of auditor mail`, "secret"},
		{"a misspelt key with key in it", run, `{"upload-kms-keys": "alias/reports"}`,
			`did you mean "upload-kms-key"?`, "secret"},
		{"a mail password", mail, `{"smtp-password": "hunter2"}`, "secrets are never options", "hunter2"},
		{"an AWS secret key", run, `{"aws-secret-access-key": "hunter2"}`, "secrets are never options", "hunter2"},
		{"an AWS access key ID", run, `{"aws_access_key_id": "hunter2"}`, "secrets are never options", "hunter2"},
		{"a session token", run, `{"session-token": "hunter2"}`, "secrets are never options", "hunter2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			file := writeFile(t, "o.json", tt.json)
			got := runCLI(t, "", append(append([]string{}, tt.args...), "--cli-input-json", file)...)
			if got.code != 2 || !strings.Contains(got.stderr, tt.want) {
				t.Errorf("exit %d, want 2 saying %q\n%s", got.code, tt.want, got.stderr)
			}
			if strings.Contains(got.stderr, tt.notWant) {
				t.Errorf("stderr says %q:\n%s", tt.notWant, got.stderr)
			}
		})
	}
}
