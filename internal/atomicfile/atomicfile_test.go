//go:build unix

package atomicfile_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/auditor-dev/auditor/internal/atomicfile"
)

func TestWriteIsAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.csv")
	if err := atomicfile.WriteFile(path, []byte("old")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := atomicfile.Write(path, func(w io.Writer) error {
		w.Write([]byte("half of the new"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("after a failed write the file holds %q, want the old content", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if err := atomicfile.WriteFile(path, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Errorf("file holds %q, want new", b)
	}
}

func TestWriteFollowsUmask(t *testing.T) {
	old := syscall.Umask(0o027)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "f")
	if err := atomicfile.WriteFile(path, nil); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if got := st.Mode().Perm(); got != 0o640 {
		t.Errorf("mode %v with umask 027, want -rw-r-----", got)
	}
}

func TestCheckDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	if err := atomicfile.CheckDir(dir); err != nil {
		t.Fatalf("creating %s: %v", dir, err)
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	if err := atomicfile.CheckDir(filepath.Join(file, "sub")); !errors.Is(err, atomicfile.ErrNotWritable) {
		t.Errorf("under a file: err = %v, want ErrNotWritable", err)
	}
}

// plantLink puts a symbolic link at dir/name to a file elsewhere that holds
// "precious", and returns a check that the file is untouched.
func plantLink(t *testing.T, dir, name string) (untouched func() bool) {
	t.Helper()
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("precious\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
	return func() bool {
		b, err := os.ReadFile(victim)
		return err == nil && string(b) == "precious\n"
	}
}

// TestCheckDirDoesNotFollowLinks: a link planted where the write check
// makes its probe is neither followed (the file it names emptied) nor in
// the way.
func TestCheckDirDoesNotFollowLinks(t *testing.T) {
	dir := t.TempDir()
	untouched := plantLink(t, dir, ".auditor-write-check")
	if err := atomicfile.CheckDir(dir); err != nil {
		t.Errorf("CheckDir: %v", err)
	}
	if !untouched() {
		t.Error("CheckDir wrote through a link planted in the directory")
	}
}

// TestOpenFileRefusesLinks: OpenFile, which the record and the lock use,
// refuses a link in place of the file, dangling or not, and says so.
func TestOpenFileRefusesLinks(t *testing.T) {
	dir := t.TempDir()
	untouched := plantLink(t, dir, "results.jsonl")
	_, err := atomicfile.OpenFile(filepath.Join(dir, "results.jsonl"), os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o666)
	if !errors.Is(err, atomicfile.ErrLink) || !strings.Contains(err.Error(), "results.jsonl") {
		t.Errorf("err = %v, want ErrLink naming the file", err)
	}
	if !untouched() {
		t.Error("OpenFile wrote through the link")
	}
	dangling := filepath.Join(dir, "dangling")
	os.Symlink(filepath.Join(t.TempDir(), "nothing-yet"), dangling)
	if _, err := atomicfile.OpenFile(dangling, os.O_WRONLY|os.O_CREATE, 0o666); !errors.Is(err, atomicfile.ErrLink) {
		t.Errorf("dangling link: err = %v, want ErrLink", err)
	}
	f, err := atomicfile.OpenFile(filepath.Join(dir, "plain"), os.O_WRONLY|os.O_CREATE, 0o666)
	if err != nil {
		t.Fatalf("a plain new file: %v", err)
	}
	f.Close()
}
