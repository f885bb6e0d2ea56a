package audit_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
)

// TestAttemptsReadBack: the starts written are the starts read, to the
// nanosecond, sorted and each once; what is not a time, or is after the
// bound, is passed over, and a missing file or a link gives none.
func TestAttemptsReadBack(t *testing.T) {
	a := time.Date(2026, 12, 2, 17, 32, 29, 512345678, time.UTC)
	b := a.Add(102 * time.Second)
	c := b.Add(4 * time.Second)
	dir := t.TempDir()
	path := filepath.Join(dir, audit.AttemptsFile)
	if err := audit.WriteAttempts(path, []time.Time{b, a.In(time.FixedZone("x", 3600)), a}); err != nil {
		t.Fatal(err)
	}
	if got, want := audit.ReadAttempts(path, c), []time.Time{a, b}; !slices.EqualFunc(got, want, time.Time.Equal) {
		t.Errorf("read back %v, want %v", got, want)
	}
	raw, _ := os.ReadFile(path)
	odd := string(raw) + "not a time\n\x00\xff\n" + c.Add(time.Hour).Format(time.RFC3339Nano) + "\n" + strings.Repeat("9", 70000) + "\n  " + c.Format(time.RFC3339Nano) + "  \n"
	if err := os.WriteFile(path, []byte(odd), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, want := audit.ReadAttempts(path, c), []time.Time{a, b, c}; !slices.EqualFunc(got, want, time.Time.Equal) {
		t.Errorf("read back with odd lines %v, want %v", got, want)
	}
	if got := audit.ReadAttempts(filepath.Join(dir, "none"), c); got != nil {
		t.Errorf("missing file: %v, want none", got)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	if got := audit.ReadAttempts(link, c); got != nil {
		t.Errorf("a link: %v, want none", got)
	}
}
