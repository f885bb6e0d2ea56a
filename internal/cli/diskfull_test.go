//go:build linux

package cli

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestRenderingOnAFullDisk: a resume whose reports found the disk full
// said it had removed the earlier attempt's reports because "this one did
// not" write them, when it could not; it ended on "rendering reports
// failed (see above)" with no command to render them once there is room;
// and a run.json that could not be written either, or a format's second
// file, came on a line without the "auditor:" of every other error line.
func TestRenderingOnAFullDisk(t *testing.T) {
	disk := smallDisk(t)
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\ni-0000000000000dead\n")
	out := filepath.Join(disk, "a")
	args := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out}
	if got := runCLI(t, "", args...); got.code == int(exitFatal) {
		t.Fatalf("first attempt: exit %d\n%s", got.code, got.stderr)
	}
	again := "auditor report " + shellQuote(filepath.Join(out, audit.ResultsFile)) + " --out " + shellQuote(out)
	resume := append([]string{"run", "--resume"}, args[1:]...)

	fill(t, disk)
	got := runCLI(t, "", resume...)
	if got.code != int(exitFatal) {
		t.Fatalf("exit %d, want 4\n%s", got.code, got.stderr)
	}
	removed := lineWith(got.stderr, "auditor: removed ")
	if removed == "" || strings.Contains(removed, "this one did not") || !strings.Contains(removed, "failed") {
		t.Errorf("the earlier reports' removal does not say that this rendering failed:\n%s", got.stderr)
	}
	lastSays(t, got.stderr, "rendering reports failed", again)
	prefixed(t, got.stderr)

	// The reports are gone, and run.json was written in their room: now
	// it cannot be either.
	fill(t, disk)
	got = runCLI(t, "", resume...)
	if got.code != int(exitFatal) {
		t.Fatalf("exit %d, want 4\n%s", got.code, got.stderr)
	}
	if lineWith(got.stderr, audit.RunFile+": ") == "" {
		t.Errorf("run.json's failure is not told:\n%s", got.stderr)
	}
	lastSays(t, got.stderr, "rendering reports failed", again)
	prefixed(t, got.stderr)

	got = runCLI(t, "", append(resume, "--log-format", "json")...)
	for _, line := range strings.Split(strings.TrimSpace(got.stderr), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("--log-format json: %q is no JSON", line)
		}
	}
	if !strings.Contains(got.stderr, shellQuote(out)) || !strings.Contains(got.stderr, "auditor report ") {
		t.Errorf("--log-format json: no command to render again:\n%s", got.stderr)
	}
}

// smallDisk returns a directory on a file system of its own, a tmpfs of
// 1 MiB, unmounted when the test ends. Mounting one needs root (CI runs as
// root): without it, the test is skipped, and says why.
func smallDisk(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("filling a disk needs a small tmpfs, and mounting one needs root (CI runs as root)")
	}
	disk := t.TempDir()
	if err := syscall.Mount("tmpfs", disk, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("mounting a tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(disk, 0) })
	return disk
}

// fill writes to a file in dir until its file system is full.
func fill(t *testing.T, dir string) {
	t.Helper()
	f, err := os.CreateTemp(dir, "fill")
	if err != nil && !errors.Is(err, syscall.ENOSPC) {
		t.Fatal(err)
	}
	if f == nil {
		return
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return
		}
	}
}

// lineWith returns the first line of s that holds sub, or "".
func lineWith(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}

// lastSays checks that the last line of stderr says each of want.
func lastSays(t *testing.T, stderr string, want ...string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	last := lines[len(lines)-1]
	for _, w := range want {
		if !strings.Contains(last, w) {
			t.Errorf("the last line %q does not say %q:\n%s", last, w, stderr)
		}
	}
}

// prefixed checks that every line of stderr that tells of the full disk
// is the auditor's, as every other error line.
func prefixed(t *testing.T, stderr string) {
	t.Helper()
	for _, l := range strings.Split(stderr, "\n") {
		if strings.Contains(l, "no space left on device") && !strings.HasPrefix(l, "auditor: ") {
			t.Errorf("a line without \"auditor: \": %q", l)
		}
	}
}
