package cli

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestTildeIsHome: a path that starts with ~/ reaches the auditor
// unexpanded from a quoted crontab line, a systemd unit, an AUDITOR_*
// variable or a --cli-input-json file; it is the home directory there, as
// a shell would have made it, not a directory named "~" made in the
// working directory under a name that reads as home (and that a later
// "rm -rf ~" would aim at home). Flags of a FILE or a DIR, and report's
// record, alike.
func TestTildeIsHome(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	home := t.TempDir()
	t.Setenv("HOME", home)
	if err := os.WriteFile(filepath.Join(home, "ids.txt"), []byte("i-0123456789abcdef0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	input := filepath.Join(home, "job.json")
	if err := os.WriteFile(input, []byte(`{"out": "~/from-json"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "job2.json"), []byte(`{"out": "~/from-url"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	t.Chdir(work)
	tests := []struct {
		name string
		args []string
		env  map[string]string
		out  string // under home
	}{
		{name: "flags", args: []string{"--instances", "~/ids.txt", "--out", "~/audits/a"}, out: "audits/a"},
		{name: "a variable", args: []string{"--instances", "~/ids.txt"}, env: map[string]string{"AUDITOR_OUT": "~/audits/b"}, out: "audits/b"},
		{name: "a --cli-input-json file", args: []string{"--instances", "~/ids.txt", "--cli-input-json", "~/job.json"}, out: "from-json"},
		// No shell expands a ~ after file://; the AWS CLI takes it as home.
		{name: "a --cli-input-json file:// URL", args: []string{"--instances", "~/ids.txt", "--cli-input-json", "file://~/job2.json"}, out: "from-url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			got := runCLI(t, "", append([]string{"run", "--endpoint-url", url, "--region", "us-east-1", "--quiet"}, tt.args...)...)
			if got.code != int(exitOK) {
				t.Fatalf("exit %d, want 0\n%s", got.code, got.stderr)
			}
			if _, err := os.Stat(filepath.Join(home, tt.out, "results.jsonl")); err != nil {
				t.Errorf("no record under the home directory: %v\n%s", err, got.stderr)
			}
			if _, err := os.Lstat(filepath.Join(work, "~")); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a directory named ~ in the working directory: %v", err)
			}
		})
	}
	t.Run("report", func(t *testing.T) {
		got := runCLI(t, "", "report", "~/audits/a/results.jsonl", "--out", "~/again", "--quiet", "--format", "csv")
		if got.code != int(exitOK) {
			t.Fatalf("exit %d, want 0\n%s", got.code, got.stderr)
		}
		if _, err := os.Stat(filepath.Join(home, "again", "instances.csv")); err != nil {
			t.Errorf("report: %v\n%s", err, got.stderr)
		}
		if _, err := os.Lstat(filepath.Join(work, "~")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a directory named ~ in the working directory: %v", err)
		}
	})
}

// TestTildeWithoutHome: with no home directory, a path from it is refused
// (exit 2), saying why, rather than taken as a directory named "~".
func TestTildeWithoutHome(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	t.Setenv("HOME", "")
	t.Chdir(t.TempDir())
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	got := runCLI(t, "", "run", "--instances", ids, "--out", "~/audits", "--endpoint-url", "http://127.0.0.1:1", "--region", "us-east-1")
	if got.code != int(exitUsage) || !strings.Contains(got.stderr, "HOME is not set") || !strings.Contains(got.stderr, `"~/audits" for --out`) {
		t.Errorf("exit %d, want %d naming --out and HOME\n%s", got.code, exitUsage, got.stderr)
	}
	if _, err := os.Lstat("~"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a directory named ~: %v", err)
	}
}

// TestHomeExpanded: ~ alone is the home directory itself, also where home
// is / (root in some containers), where it became "" and so no path at
// all (--out ~ a default ./audit-{time}, --baseline ~ no baseline).
func TestHomeExpanded(t *testing.T) {
	for _, tc := range []struct{ home, path, want string }{
		{"/home/ops", "~", "/home/ops"},
		{"/home/ops/", "~/audits", "/home/ops/audits"},
		{"/", "~", "/"},
		{"/", "~/audits/{time}/", "/audits/{time}/"},
		{"/home/ops", "~ops/x", "~ops/x"},
		{"/home/ops", "./~/x", "./~/x"},
	} {
		t.Setenv("HOME", tc.home)
		if got, err := homeExpanded(tc.path); err != nil || got != tc.want {
			t.Errorf("HOME=%s: homeExpanded(%q) = %q, %v; want %q", tc.home, tc.path, got, err, tc.want)
		}
	}
}
