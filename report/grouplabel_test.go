package report_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
)

// TestGroupLabel: a group of a split is known by where it is and by what
// Split left there (its marker, and its index listing the group), so that
// a group rendered again in place keeps the column of the label it is
// split by; a directory Split did not list, or of a split stopped before
// its index, has no label.
func TestGroupLabel(t *testing.T) {
	at := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	r := ownedResult("i-0000000000000000a", "alice", audit.StatusSuccess, at)
	r.Labels["tag:Team"] = "Red Team"
	out := t.TempDir()
	opts := report.Options{Dir: out, Records: openRecord(t, []audit.Result{r}), Run: audit.RunInfo{StartedAt: at, Complete: true}, Formats: []report.Format{report.FormatCSV}}
	groupOf := map[string]string{} // label → its group's directory
	for _, label := range []string{"owner", "tag:Team", "=cmd"} {
		groups, err := report.Split(context.Background(), opts, label)
		if err != nil {
			t.Fatal(err)
		}
		groupOf[label] = groups[0].Dir
	}
	alice := groupOf["owner"]
	stray := filepath.Join(report.SplitDir(out, "owner"), "mallory")
	if err := os.MkdirAll(stray, 0o777); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		dir  string
		want string
	}{
		{"a group", alice, "owner"},
		{"a group, its path not clean", alice + string(filepath.Separator), "owner"},
		{"a group of a label that is not a file name", groupOf["tag:Team"], "tag:Team"},
		{"a group of a label its index escapes", groupOf["=cmd"], "=cmd"},
		{"the run's directory", out, ""},
		{"the split's directory", report.SplitDir(out, "owner"), ""},
		{"a directory the index does not list", stray, ""},
		{"not there", filepath.Join(out, "nowhere"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := report.GroupLabel(tt.dir); got != tt.want {
				t.Errorf("GroupLabel(%s) = %q, want %q", tt.dir, got, tt.want)
			}
		})
	}
	t.Run("a relative path", func(t *testing.T) {
		t.Chdir(alice)
		if got := report.GroupLabel("."); got != "owner" {
			t.Errorf("GroupLabel(.) in alice's group = %q, want owner", got)
		}
	})
	// Another user's marker or index, in a directory anyone may write to,
	// is not Split's for this user.
	for _, file := range []string{".auditor-split", report.SplitIndex} {
		t.Run(file+" of another user", func(t *testing.T) {
			if os.Geteuid() != 0 {
				t.Skip("giving a file to another user needs root")
			}
			p := filepath.Join(filepath.Dir(alice), file)
			if err := os.Chown(p, 65534, 65534); err != nil {
				t.Fatal(err)
			}
			defer os.Chown(p, 0, 0)
			if got := report.GroupLabel(alice); got != "" {
				t.Errorf("GroupLabel of a group whose split's %s is another user's = %q, want none", file, got)
			}
		})
	}
	t.Run("an index that is not a regular file", func(t *testing.T) {
		split := filepath.Dir(alice)
		index := filepath.Join(split, report.SplitIndex)
		if err := os.Rename(index, index+".real"); err != nil {
			t.Fatal(err)
		}
		defer os.Rename(index+".real", index)
		if err := os.Symlink(index+".real", index); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(index)
		if got := report.GroupLabel(alice); got != "" {
			t.Errorf("GroupLabel of a group whose split's index is a link = %q, want none", got)
		}
	})
	// Each removal spoils one split: the tests above are done with them.
	for _, tt := range []struct{ file, label string }{{".auditor-split", "=cmd"}, {report.SplitIndex, "tag:Team"}} {
		t.Run("without "+tt.file, func(t *testing.T) {
			dir := groupOf[tt.label]
			if err := os.Remove(filepath.Join(filepath.Dir(dir), tt.file)); err != nil {
				t.Fatal(err)
			}
			if got := report.GroupLabel(dir); got != "" {
				t.Errorf("GroupLabel of a group whose split has no %s = %q, want none", tt.file, got)
			}
		})
	}
}
