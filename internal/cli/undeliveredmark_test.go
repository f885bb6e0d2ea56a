package cli

import (
	"os"
	"path/filepath"
	"testing"
)

// TestUndeliveredMark: the mark of an undelivered mail goes only once a
// mail reached each address it names, however an address is written (a
// display name, another case); a mark that cannot be read is kept by a
// mail (who was due is not known), not taken away.
func TestUndeliveredMark(t *testing.T) {
	dl := &delivery{logf: func(string, ...any) {}, warnf: func(string, ...any) {}}
	marked := func(dir string) bool {
		_, err := os.Stat(filepath.Join(dir, undeliveredFile))
		return err == nil
	}
	dir := t.TempDir()
	dl.markUndelivered(dir, []string{"Ops <ops@example.com>", "boss@example.com"}, true)
	dl.markUndelivered(dir, []string{"someone@example.com"}, false)
	if !marked(dir) {
		t.Fatal("a mail to someone else took the mark away")
	}
	dl.markUndelivered(dir, []string{"OPS@example.com"}, false)
	if !marked(dir) {
		t.Fatal("a mail to ops alone took the mark away, boss@ still due")
	}
	dl.markUndelivered(dir, []string{"Boss <boss@EXAMPLE.com>"}, false)
	if marked(dir) {
		t.Error("the mark stays after a mail reached every address it names")
	}

	garbled := t.TempDir()
	if err := os.WriteFile(filepath.Join(garbled, undeliveredFile), []byte("not json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dl.markUndelivered(garbled, []string{"someone@example.com"}, false)
	if !marked(garbled) {
		t.Error("a mail took away a mark it could not read")
	}
}
