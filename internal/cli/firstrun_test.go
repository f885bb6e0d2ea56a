package cli

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/bench/synth"
	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestFirstRun: what a new user meets first, through the CLI's run
// function: mistakes are one line that says what to do, every problem that
// needs no call is reported at once, and nothing is left behind.
func TestFirstRun(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")

	t.Run("mistyped flag", func(t *testing.T) {
		got := runCLI(t, "", "run", "--instancs", ids)
		if got.code != 2 || got.stdout != "" || got.stderr != "auditor: unknown flag --instancs (did you mean --instances?)\n" {
			t.Errorf("exit %d\nstdout %q\nstderr %q", got.code, got.stdout, got.stderr)
		}
	})
	t.Run("the AWS CLI's global options", func(t *testing.T) {
		// --output is no typo of --out: "--out json" would write the
		// reports into a directory named json.
		for _, tt := range []struct{ flag, says string }{
			{"--output", "--format picks the reports"},
			{"--ca-bundle", "AWS_CA_BUNDLE"},
			{"--no-verify-ssl", "AWS_CA_BUNDLE"},
			{"--cli-read-timeout", "--call-timeout"},
			{"--cli-connect-timeout", "--call-timeout"},
			{"--page-size", "--max-results"},
		} {
			got := runCLI(t, "", "run", "--instances", ids, tt.flag, "json")
			if got.code != 2 || !strings.Contains(got.stderr, "unknown flag "+tt.flag+": ") || !strings.Contains(got.stderr, tt.says) || strings.Contains(got.stderr, "did you mean") {
				t.Errorf("%s: exit %d, want 2 and %q\n%s", tt.flag, got.code, tt.says, got.stderr)
			}
		}
		// For mail, whose TLS may be the SMTP server's, the option of that.
		got := runCLI(t, "", "mail", "--ca-bundle", "ca.pem")
		if got.code != 2 || !strings.Contains(got.stderr, "AWS_CA_BUNDLE") || !strings.Contains(got.stderr, "--smtp-ca-bundle") {
			t.Errorf("mail --ca-bundle: exit %d, want 2 and both bundles\n%s", got.code, got.stderr)
		}
	})
	t.Run("mistyped command", func(t *testing.T) {
		got := runCLI(t, "", "reprot")
		if got.code != 2 || !strings.Contains(got.stderr, "did you mean report?") {
			t.Errorf("exit %d, stderr %q", got.code, got.stderr)
		}
	})
	t.Run("help states each default once", func(t *testing.T) {
		got := runCLI(t, "", "run", "--help")
		if got.code != 0 || !strings.Contains(got.stdout, "--timeout") {
			t.Fatalf("exit %d, help:\n%s", got.code, got.stdout)
		}
		for _, line := range strings.Split(got.stdout, "\n") {
			if strings.Count(line, "(default") > 1 {
				t.Errorf("a default stated twice: %q", line)
			}
		}
	})
	t.Run("every problem at once, before credentials, nothing left behind", func(t *testing.T) {
		isolateAWS(t, "") // no credentials either
		t.Setenv("AWS_SECRET_ACCESS_KEY", "")
		out := filepath.Join(t.TempDir(), "out")
		got := runCLI(t, "", "run", "--instances", ids, "--max-results", "99", "--out", out)
		if got.code != 2 || !strings.Contains(got.stderr, "no region") || !strings.Contains(got.stderr, "--max-results 99") {
			t.Errorf("exit %d, want 2 naming the region and --max-results together\n%s", got.code, got.stderr)
		}
		if _, err := os.Stat(out); err == nil {
			t.Error("the output directory was created by a run that stopped before its first call")
		}
	})
	t.Run("missing credentials leave nothing behind", func(t *testing.T) {
		isolateAWS(t, "")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "")
		out := filepath.Join(t.TempDir(), "out")
		got := runCLI(t, "", "run", "--instances", ids, "--region", "us-east-1", "--out", out)
		if got.code != 4 || !strings.Contains(got.stderr, "credentials") {
			t.Errorf("exit %d, want 4 about credentials\n%s", got.code, got.stderr)
		}
		if _, err := os.Stat(out); err == nil {
			t.Error("a run without credentials left an output directory behind")
		}
	})
	t.Run("--out names a file", func(t *testing.T) {
		got := runCLI(t, "", "run", "--instances", ids, "--region", "us-east-1", "--out", ids)
		if got.code != 2 || !strings.Contains(got.stderr, "name a directory") {
			t.Errorf("exit %d, want 2\n%s", got.code, got.stderr)
		}
	})
	t.Run("standard input on a terminal", func(t *testing.T) {
		stdinTerminal = func(io.Reader) bool { return true }
		defer func() { stdinTerminal = isTerminal }()
		got := runCLI(t, "", "run", "--instances", "-", "--region", "us-east-1", "--out", filepath.Join(t.TempDir(), "o"))
		if !strings.Contains(got.stderr, "reading instance IDs from standard input") {
			t.Errorf("nothing says that the run waits for standard input:\n%s", got.stderr)
		}
	})
	t.Run("report speaks of rendering, in the right number", func(t *testing.T) {
		url, _ := serve(t, handFleet(false), ssmsim.Options{})
		out := filepath.Join(t.TempDir(), "out")
		one := writeFile(t, "one.txt", "i-0123456789abcdef1\n")
		got := runCLI(t, "", "run", "--instances", one, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet")
		if got.code != 0 || !strings.Contains(got.stderr, "audited 1 instance in") {
			t.Fatalf("exit %d\n%s", got.code, got.stderr)
		}
		got = runCLI(t, "", "report", filepath.Join(out, "results.jsonl"), "--out", out)
		if got.code != 0 || !strings.Contains(got.stderr, "rendered the reports of 1 instance from 1 record") || strings.Contains(got.stderr, "audited") {
			t.Errorf("exit %d\n%s", got.code, got.stderr)
		}
	})
}

// TestVersionFromBuildInfo: --version says which commit a binary was built
// from, read from the build information that go build records.
func TestVersionFromBuildInfo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped under -short")
	}
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skip("not in a git checkout: go build records no commit")
	}
	// go build finds a repository only by a .git directory: in a linked
	// worktree or a submodule, .git is a file and no commit is recorded.
	if fi, err := os.Stat(filepath.Join(strings.TrimSpace(string(top)), ".git")); err != nil || !fi.IsDir() {
		t.Skip("a git worktree or submodule (.git is not a directory): go build records no commit there")
	}
	// -buildvcs=true, whatever GOFLAGS says: some machines turn it off.
	bin := filepath.Join(t.TempDir(), "auditor")
	if out, err := exec.Command("go", "build", "-buildvcs=true", "-o", bin, "../../cmd/auditor").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(out), "auditor ") || !strings.Contains(string(out), "(commit ") {
		t.Errorf("--version printed %q, want the version and the commit", out)
	}
}

// TestLogFormatJSON: with --log-format json every line on stderr is one
// JSON record with a level and a message, the SDK's own lines included, and
// the closing summary carries the figures.
func TestLogFormatJSON(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1",
		"--out", filepath.Join(t.TempDir(), "o"), "--log-format", "json")
	if got.code != 1 {
		t.Fatalf("exit %d\n%s", got.code, got.stderr)
	}
	var summary map[string]any
	for _, line := range strings.Split(strings.TrimSpace(got.stderr), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec["level"] == nil || rec["msg"] == nil {
			t.Fatalf("not a JSON log record: %q (%v)", line, err)
		}
		if rec["msg"] == "summary" {
			summary = rec
		}
	}
	if summary == nil || summary["exit"] != float64(1) || summary["instances"] != float64(2) {
		t.Errorf("summary record %v, want exit 1 and 2 instances", summary)
	}
}

// TestReportTMPDIRNotWritable: a record too large to index in memory, with
// a TMPDIR that does not exist, is exit 4 naming TMPDIR (the environment,
// not the input), and writes no report.
func TestReportTMPDIRNotWritable(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: writes and indexes a record of 70,000 instances")
	}
	dir := t.TempDir()
	path, _, err := synth.WriteDir(dir, synth.Config{Instances: 70_000, PerInstance: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "missing"))
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", "report", path, "--out", out)
	if got.code != 4 || !strings.Contains(got.stderr, "TMPDIR") {
		t.Errorf("exit %d, want 4 naming TMPDIR\n%s", got.code, got.stderr)
	}
	if _, err := os.Stat(filepath.Join(out, report.HTMLFile)); err == nil {
		t.Error("a report was written")
	}
}

// TestFirstRunHints: "auditor help run" is run's help, a mistyped --version
// gets a suggestion, --discover without a region names --regions, and
// simulate refuses an --ids that an organisation would ignore.
func TestFirstRunHints(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	if got := runCLI(t, "", "help", "run"); got.code != 0 || !strings.Contains(got.stdout, "auditor run --instances") {
		t.Errorf("help run: exit %d, stdout %.80q", got.code, got.stdout)
	}
	if got := runCLI(t, "", "--verison"); got.code != 2 || !strings.Contains(got.stderr, "did you mean --version") {
		t.Errorf("--verison: exit %d\n%s", got.code, got.stderr)
	}
	if got := runCLI(t, "", "run", "--discover", "--out", filepath.Join(t.TempDir(), "o")); got.code != 2 || !strings.Contains(got.stderr, "--regions") || strings.Contains(got.stderr, "region column") {
		t.Errorf("--discover without a region: exit %d\n%s", got.code, got.stderr)
	}
	if got := runCLI(t, "", "simulate", "--accounts", "2", "--ids", filepath.Join(t.TempDir(), "ids.txt")); got.code != 2 || !strings.Contains(got.stderr, "--ids") {
		t.Errorf("simulate --accounts with --ids: exit %d\n%s", got.code, got.stderr)
	}
}

// TestDidYouMean: a mistyped flag or command is named with the nearest
// one. --instance is one edit from --instances and a prefix of
// --instance-id; a prefix counts as one edit, and a tie went to the first
// in alphabetical order, so it suggested --instance-id. A flag given
// without its command, or a command in capitals, got no suggestion.
func TestDidYouMean(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"one edit beats a prefix", []string{"run", "--instance", "fleet.txt"}, "unknown flag --instance (did you mean --instances?)"},
		{"a prefix of two", []string{"run", "--instanc", "fleet.txt"}, "unknown flag --instanc (did you mean --instances?)"},
		{"one edit", []string{"run", "--instance-i", "i-0123456789abcdef0"}, "unknown flag --instance-i (did you mean --instance-id?)"},
		{"a prefix alone", []string{"run", "--concur", "4"}, "unknown flag --concur (did you mean --concurrency?)"},
		{"a flag without its command", []string{"--instances", "fleet.txt"}, `unknown command "--instances" (did you mean auditor run --instances?)`},
		{"a flag with its value, without its command", []string{"--out=o"}, `unknown command "--out=o" (did you mean auditor run --out?)`},
		{"a command in capitals", []string{"RUN", "--instances", "fleet.txt"}, `unknown command "RUN" (did you mean run?)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runCLI(t, "", tt.args...)
			if got.code != int(exitUsage) || !strings.Contains(got.stderr, tt.want) {
				t.Errorf("exit %d, want %d saying %q\n%s", got.code, exitUsage, tt.want, got.stderr)
			}
		})
	}
}

// TestRenderFailureSaysItsExit: when a report cannot be written the run
// exits 4, and the closing summary says 4 too (not the verdict's 1), in its
// JSON record as on the process; run.json goes last, once the reports
// that could be written are on disk.
func TestRenderFailureSaysItsExit(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	// Passes the check, which takes an index past the sample's rows for
	// one a fleet may have; fails with any data (Outcomes has one entry
	// per outcome).
	tmpl := writeFile(t, "fails.html.tmpl", "<p>{{index .Outcomes 100}}</p>\n")
	out := filepath.Join(t.TempDir(), "o")
	got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1",
		"--out", out, "--log-format", "json", "--template", tmpl)
	if got.code != 4 {
		t.Fatalf("exit %d, want 4\n%s", got.code, got.stderr)
	}
	var summary map[string]any
	for _, line := range strings.Split(strings.TrimSpace(got.stderr), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "summary" {
			summary = rec
		}
		if strings.Contains(line, "(exit 1)") {
			t.Errorf("a line says exit 1: %s", line)
		}
	}
	if summary == nil || summary["exit"] != float64(4) {
		t.Errorf("summary record %v, want exit 4", summary)
	}
	run, err := os.Stat(filepath.Join(out, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"summary.json", "instances.csv", "report.xlsx"} {
		st, err := os.Stat(filepath.Join(out, f))
		if err != nil {
			t.Errorf("%s: %v", f, err)
		} else if st.ModTime().After(run.ModTime()) {
			t.Errorf("%s written after run.json", f)
		}
	}
}

// TestReportPathTakenFoundFirst: a directory where a report goes (a
// report.html made by hand) is found before the first call, exit 4 naming
// it, not after the whole audit.
func TestReportPathTakenFoundFirst(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, srv := serve(t, handFleet(true), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	out := filepath.Join(t.TempDir(), "o")
	if err := os.MkdirAll(filepath.Join(out, "report.html"), 0o777); err != nil {
		t.Fatal(err)
	}
	got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out)
	if got.code != 4 || !strings.Contains(got.stderr, "report.html") {
		t.Errorf("exit %d, want 4 naming report.html\n%s", got.code, got.stderr)
	}
	if n := srv.Stats().Requests; n != 0 {
		t.Errorf("%d requests made before the taken path was found", n)
	}
	// Only the files of the formats asked for count.
	if got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--format", "csv"); got.code != 1 {
		t.Errorf("--format csv beside a report.html directory: exit %d, want 1 (findings)\n%s", got.code, got.stderr)
	}
}
