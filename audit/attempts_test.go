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
// bound (when there is one), is passed over, and a missing file or a link gives none.
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
	if got, want := audit.ReadAttempts(path, time.Time{}), []time.Time{a, b, c, c.Add(time.Hour)}; !slices.EqualFunc(got, want, time.Time.Equal) {
		t.Errorf("read back with no bound %v, want %v", got, want)
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

// TestKeptAttempts: the starts a directory keeps join its run.json's when
// they are its run's (they hold its start): a resume killed before it
// wrote its run.json. Another run's kept starts (the run.json of an
// earlier run put in a later run's directory) add none. A start kept
// before the run's is its run's all the same when the file holds the
// run's start: a resume whose clock had been put back after the first
// attempt ran with a clock ahead; and the run's start is looked for in
// the whole file, as it may be ahead of now. A kept time ahead of now
// that ri does not name is no attempt that has run.
func TestKeptAttempts(t *testing.T) {
	s1 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	s2, s3 := s1.Add(time.Hour), s1.Add(2*time.Hour)
	before := s1.Add(-time.Hour)
	now := s3.Add(time.Minute)
	for _, tt := range []struct {
		name string
		ri   audit.RunInfo
		kept []time.Time
		now  time.Time
		want []time.Time
	}{
		{"nothing kept", audit.RunInfo{StartedAt: s1, Attempts: []time.Time{s1}}, nil, now, []time.Time{s1}},
		{"a killed resume", audit.RunInfo{StartedAt: s1, Attempts: []time.Time{s1}}, []time.Time{s1, s2}, now, []time.Time{s1, s2}},
		{"two killed resumes", audit.RunInfo{StartedAt: s1, Attempts: []time.Time{s1, s2}}, []time.Time{s1, s2, s3}, now, []time.Time{s1, s2, s3}},
		{"a run.json without attempts", audit.RunInfo{StartedAt: s1}, []time.Time{s1, s3}, now, []time.Time{s1, s3}},
		{"another run's, later", audit.RunInfo{StartedAt: s1, Attempts: []time.Time{s1}}, []time.Time{s2}, now, []time.Time{s1}},
		{"another run's, before and after", audit.RunInfo{StartedAt: s1, Attempts: []time.Time{s1}}, []time.Time{before, s3}, now, []time.Time{s1}},
		{"its own, with one before its start", audit.RunInfo{StartedAt: s1, Attempts: []time.Time{s1}}, []time.Time{before, s1, s2}, now, []time.Time{before, s1, s2}},
		{"first attempt ahead, killed resume with the clock put back", audit.RunInfo{StartedAt: s3, Attempts: []time.Time{s3}}, []time.Time{s1, s3}, s1.Add(time.Minute), []time.Time{s1, s3}},
		{"a time ahead of now it does not name", audit.RunInfo{StartedAt: s1, Attempts: []time.Time{s1}}, []time.Time{s1, s2, s3}, s2, []time.Time{s1, s2}},
		{"start unknown", audit.RunInfo{}, []time.Time{s1}, now, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.ri.KeptAttempts(tt.kept, tt.now); !slices.EqualFunc(got, tt.want, time.Time.Equal) {
				t.Errorf("KeptAttempts(%v, %v) = %v, want %v", tt.kept, tt.now, got, tt.want)
			}
		})
	}
}
