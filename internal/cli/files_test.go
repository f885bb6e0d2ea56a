package cli

import (
	"os"
	"path/filepath"
	"testing"
)

// mkfifo makes a named pipe at path, or skips the test where it cannot.
func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := makeFIFO(path); err != nil {
		t.Skipf("no FIFO here: %v", err)
	}
}

// copyRegularFiles copies the regular files of src (not its lock, nor its
// directories) into dst, made for them.
func copyRegularFiles(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() && e.Name() != ".auditor.lock" {
			copyFile(t, filepath.Join(src, e.Name()), filepath.Join(dst, e.Name()))
		}
	}
}

// regularFiles is snapshot of the regular files of dir alone: a FIFO in
// it would hold a read until a writer came.
func regularFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || e.Name() == ".auditor.lock" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = string(b)
	}
	return m
}
