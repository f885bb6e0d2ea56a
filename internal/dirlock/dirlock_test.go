package dirlock_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/internal/dirlock"
)

// TestLockExcludesAnotherProcess takes the lock here and tries it again from
// a child process (flock locks are per open file, so a second process is the
// honest check).
func TestLockExcludesAnotherProcess(t *testing.T) {
	if dir := os.Getenv("DIRLOCK_CHILD"); dir != "" {
		_, err := dirlock.Lock(dir)
		if errors.Is(err, dirlock.ErrBusy) {
			os.Stdout.WriteString("busy: " + err.Error())
			os.Exit(0)
		}
		os.Stdout.WriteString("got the lock")
		os.Exit(1)
	}
	dir := t.TempDir()
	unlock, err := dirlock.Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	child := func() (string, error) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestLockExcludesAnotherProcess$")
		cmd.Env = append(os.Environ(), "DIRLOCK_CHILD="+dir)
		out, err := cmd.Output()
		return string(out), err
	}
	out, err := child()
	if err != nil || !strings.Contains(out, "busy") || !strings.Contains(out, "pid") {
		t.Fatalf("second process: %q, %v; want busy with the holder's pid", out, err)
	}
	unlock()
	if out, err := child(); err == nil {
		t.Fatalf("second process after unlock: %q, want it to get the lock", out)
	}
}

// TestLockDoesNotFollowLinks: a link planted at the lock file (by anyone
// who can write to the directory) is refused, not followed: Lock empties
// and writes the file it opens.
func TestLockDoesNotFollowLinks(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("precious\n"), 0o600)
	os.Symlink(victim, filepath.Join(dir, ".auditor.lock"))
	unlock, err := dirlock.Lock(dir)
	if err == nil {
		unlock()
		t.Error("Lock took a lock through a link")
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
		t.Errorf("Lock wrote through the link: the file it names holds %q", b)
	}
}
