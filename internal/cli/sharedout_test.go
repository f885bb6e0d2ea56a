//go:build unix

package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestOutRootOrHomeRefused: --out / and --out ~ were taken: a run wrote
// its run.json, results.jsonl, .auditor-targets, its lock and its reports
// among the files of the whole machine or of the user, where the next
// run's --baseline previous and every cleanup would look too. run, report
// and demo refuse the root of the file system and the home directory
// itself, however named, before the first call (exit 2), with an --out to
// give instead, and write nothing there; a directory under the home
// directory is an --out as any other.
//
// The root's cases carry a problem of their own (--concurrency 0,
// --html-max-rows 0), refused before anything is written, so that a
// regression, run as root, is refused all the same rather than write into
// the root.
func TestOutRootOrHomeRefused(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	base := t.TempDir()
	home := filepath.Join(base, "home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "notes.txt"), []byte("the user's own\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	toHome := filepath.Join(base, "tohome")
	if err := os.Symlink(home, toHome); err != nil {
		t.Fatal(err)
	}
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	audit1 := func(out string, more ...string) cliResult {
		return runCLI(t, "", append([]string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--fail-on", "none", "--quiet", "--out", out}, more...)...)
	}
	// A record to render, made under the home directory, which is taken.
	sub := filepath.Join(home, "audits", "week1")
	if got := audit1(sub); got.code != int(exitOK) {
		t.Fatalf("a run into %s: exit %d, want %d\n%s", sub, got.code, exitOK, got.stderr)
	}
	record := filepath.Join(sub, audit.ResultsFile)
	// And one in place in the home directory, as an earlier release let a
	// run leave it: rendered again there, it is refused too.
	b, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, audit.ResultsFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	const runExample, demoExample = "give one such as ./audit-{time}", "give one such as ./auditor-demo"
	homeSays := func(named string) string {
		if named == home {
			return "--out " + home + ": the home directory, not a directory for one run's reports: "
		}
		return "--out " + named + ": the home directory (" + home + "), not a directory for one run's reports: "
	}
	rootSays := "--out /: the root of the file system, not a directory for one run's reports: "
	for _, tt := range []struct {
		name string
		cwd  string
		args []string
		want []string
	}{
		{"run --out ~", base, []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", home}, []string{homeSays(home) + runExample}},
		{"run --out ~/", base, []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", home + "/"}, []string{"--out " + home + "/: the home directory, not", runExample}},
		{"run --out . from the home directory", home, []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", "."}, []string{homeSays(".") + runExample}},
		{"run --out a symlink to the home directory", base, []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", toHome}, []string{homeSays(toHome) + runExample}},
		{"run --resume --out ~", base, []string{"run", "--resume", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", home}, []string{homeSays(home) + runExample}},
		{"run --out /", base, []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", "/", "--concurrency", "0"}, []string{rootSays + runExample, "--concurrency 0"}},
		{"report --out ~", base, []string{"report", record, "--out", home}, []string{homeSays(home) + runExample}},
		{"report in place in the home directory", base, []string{"report", filepath.Join(home, audit.ResultsFile), "--out", home}, []string{homeSays(home) + runExample}},
		{"report --out /", base, []string{"report", record, "--out", "/", "--html-max-rows", "0"}, []string{rootSays + runExample}},
		{"demo --out ~", base, []string{"demo", "--fleet-size", "3", "--out", home}, []string{homeSays(home) + demoExample}},
		{"demo --out /", base, []string{"demo", "--fleet-size", "3", "--out", "/", "--concurrency", "0"}, []string{rootSays + demoExample}},
		// Through a directory that does not exist yet and back: made, it
		// would lead into the home directory or the root.
		{"run --out ~/new/..", base, []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", home + "/new/.."}, []string{homeSays(home+"/new/..") + runExample}},
		{"run --out new/.. from the home directory", home, []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", "new/.."}, []string{homeSays("new/..") + runExample}},
		{"run --resume --out ~/new/..", base, []string{"run", "--resume", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", home + "/new/.."}, []string{homeSays(home+"/new/..") + runExample}},
		{"run --out /{date}/..", base, []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", "/{date}/..", "--concurrency", "0"}, []string{"/..: the root of the file system (/), not a directory for one run's reports: " + runExample, "--concurrency 0"}},
		{"report --out ~/new/..", base, []string{"report", record, "--out", home + "/new/.."}, []string{homeSays(home+"/new/..") + runExample}},
		{"report --out /new/..", base, []string{"report", record, "--out", "/auditor-not-there/..", "--html-max-rows", "0"}, []string{"--out /auditor-not-there/..: the root of the file system (/), not a directory for one run's reports: " + runExample}},
		{"demo --out ~/new/..", base, []string{"demo", "--fleet-size", "3", "--out", home + "/new/.."}, []string{homeSays(home+"/new/..") + demoExample}},
		{"demo --out /new/..", base, []string{"demo", "--fleet-size", "3", "--out", "/auditor-not-there/..", "--concurrency", "0"}, []string{"--out /auditor-not-there/..: the root of the file system (/), not a directory for one run's reports: " + demoExample}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(tt.cwd)
			before, rootBefore := entries(t, home), entries(t, "/")
			got := runCLI(t, "", tt.args...)
			if got.code != int(exitUsage) {
				t.Errorf("exit %d, want %d\n%s", got.code, exitUsage, got.stderr)
			}
			checkSays(t, got.stderr, tt.want, nil)
			if after := entries(t, home); !slices.Equal(before, after) {
				t.Errorf("the home directory held %q, and holds %q after the refusal", before, after)
			}
			if after := entries(t, "/"); !slices.Equal(rootBefore, after) {
				t.Errorf("the root held %q, and holds %q after the refusal", rootBefore, after)
			}
		})
	}

	t.Run("run --out under the home directory", func(t *testing.T) {
		t.Chdir(home)
		for _, out := range []string{filepath.Join(home, "audits", "week2"), "week3"} {
			if got := audit1(out); got.code != int(exitOK) || strings.Contains(got.stderr, "home directory") {
				t.Errorf("--out %s: exit %d, want %d without a word of the home directory\n%s", out, got.code, exitOK, got.stderr)
			}
		}
	})
}
