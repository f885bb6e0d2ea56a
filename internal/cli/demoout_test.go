package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestDemoForeignOutNamedOnce: auditor demo --out / said "--out /: /: not
// a directory of the demo", the path twice. It is named once, by --out.
func TestDemoForeignOutNamedOnce(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids := writeFile(t, "ids.txt", "")
	dir := filepath.Dir(ids) // it holds ids.txt, which the demo did not write
	got := runCLI(t, "", "demo", "--fleet-size", "5", "--out", dir, "--quiet")
	if got.code != 2 || strings.Count(got.stderr, dir) != 1 || !strings.Contains(got.stderr, "--out "+dir+": not a directory of the demo") {
		t.Errorf("exit %d, want 2 naming %s once\n%s", got.code, dir, got.stderr)
	}
}

// TestDemoForeignOutThroughANewDirectory: auditor demo --out DIR/y/..,
// where DIR holds files the demo did not write, was refused only once it
// had made y/ and locked DIR, and left both there. It is refused before
// anything is made.
func TestDemoForeignOutThroughANewDirectory(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids := writeFile(t, "ids.txt", "")
	dir := filepath.Dir(ids)
	before := entries(t, dir)
	out := dir + string(os.PathSeparator) + "y" + string(os.PathSeparator) + ".."
	got := runCLI(t, "", "demo", "--fleet-size", "5", "--out", out, "--quiet")
	if got.code != 2 || !strings.Contains(got.stderr, "--out "+out+": not a directory of the demo") {
		t.Errorf("exit %d, want 2 refusing %s\n%s", got.code, out, got.stderr)
	}
	if after := entries(t, dir); !slices.Equal(before, after) {
		t.Errorf("%s held %q, and holds %q after the refusal", dir, before, after)
	}
}

// TestOutThroughANewDirectoryMakesOnlyIt: --out DIR/e/y/.., where e does
// not exist, made e/y (as mkdir -p does), a directory nobody named, and
// left it empty beside the reports in e; the demo then found y in e under
// its lock and refused e as not its own. Only e is made, for demo, run and
// report alike.
func TestOutThroughANewDirectoryMakesOnlyIt(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	base := t.TempDir()
	sep := string(os.PathSeparator)
	through := func(name string) string { return base + sep + name + sep + "y" + sep + ".." }
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 1, Size: 3})
	var ids strings.Builder
	if err := f.WriteIDs(&ids); err != nil {
		t.Fatal(err)
	}
	url, _ := serve(t, f, ssmsim.Options{})
	list := writeFile(t, "ids.txt", ids.String())
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"demo", []string{"demo", "--fleet-size", "5", "--quiet", "--out", through("demo")}},
		{"run", []string{"run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--fail-on", "none", "--quiet", "--out", through("run")}},
		{"report", []string{"report", filepath.Join(base, "run", audit.ResultsFile), "--fail-on", "none", "--quiet", "--out", through("report")}},
	} {
		got := runCLI(t, "", tt.args...)
		if got.code != 0 {
			t.Errorf("%s: exit %d, want 0\n%s", tt.name, got.code, got.stderr)
		}
		if _, err := os.Stat(filepath.Join(base, tt.name, report.HTMLFile)); err != nil {
			t.Errorf("%s: no report in %s: %v", tt.name, tt.name, err)
		}
		if _, err := os.Lstat(filepath.Join(base, tt.name, "y")); err == nil {
			t.Errorf("%s: %s was made", tt.name, filepath.Join(tt.name, "y"))
		}
	}
}

// TestDemoOutTime: auditor demo --help says {date} and {time} in --out
// are the run's UTC date and time, as for run and report; the demo wrote
// into a directory named d-{time}, as it was given.
func TestDemoOutTime(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	base := t.TempDir()
	got := runCLI(t, "", "demo", "--fleet-size", "5", "--out", filepath.Join(base, "d-{date}-{time}"), "--quiet")
	if got.code != int(exitOK) && got.code != int(exitFindings) {
		t.Fatalf("exit %d\n%s", got.code, got.stderr)
	}
	names := entries(t, base)
	if len(names) != 1 || !regexp.MustCompile(`^d-\d{4}-\d{2}-\d{2}-\d{8}T\d{6}Z$`).MatchString(names[0]) {
		t.Fatalf("%s holds %q, want one directory named for the run's date and time", base, names)
	}
	if _, err := os.Stat(filepath.Join(base, names[0], report.HTMLFile)); err != nil {
		t.Errorf("the demo's reports are not in %s: %v", names[0], err)
	}
	if !strings.Contains(got.stdout, names[0]) {
		t.Errorf("stdout does not name %s:\n%s", names[0], got.stdout)
	}
}

// TestDemoListsEveryFileItWrites: stdout lists the written files (README),
// fleet.txt among them. The demo wrote fleet.txt and left it out.
func TestDemoListsEveryFileItWrites(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	out := filepath.Join(t.TempDir(), "demo")
	got := runCLI(t, "", "demo", "--fleet-size", "5", "--out", out)
	if got.code != int(exitOK) {
		t.Fatalf("exit %d\n%s", got.code, got.stderr)
	}
	listed := strings.Fields(got.stdout)
	for _, name := range entries(t, out) {
		if strings.HasPrefix(name, ".") {
			continue // the directory's own marks and lock
		}
		if !slices.Contains(listed, filepath.Join(out, name)) {
			t.Errorf("%s is not listed on stdout:\n%s", name, got.stdout)
		}
	}
}
