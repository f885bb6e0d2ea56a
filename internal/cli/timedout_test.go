package cli

import (
	"path/filepath"
	"testing"
	"time"
)

// TestTimedDir: the directory claimed is --out itself, as the run names it
// (a directory not made yet and back is no step), when the time is in it;
// none when --out leads back out of it. Claiming the step that holds the
// time parted shards started together (RUN/{time}/shard-K) into two
// seconds' directories, where they no longer heard each other's pace.
func TestTimedDir(t *testing.T) {
	t.Chdir(t.TempDir())
	now := time.Date(2026, 11, 30, 3, 4, 5, 0, time.UTC)
	const stamp = "20261130T030405Z"
	j := filepath.Join
	for _, tt := range []struct {
		name, out, want string
	}{
		{"last step", j("runs", "{time}"), j("runs", stamp)},
		{"within a step", "audit-{time}", "audit-" + stamp},
		{"a step before the last", j("runs", "{time}", "x"), j("runs", stamp, "x")},
		{"through a new directory and back", j("{time}", "y", ".."), stamp},
		{"led back out of", j("runs", "{time}", ".."), ""},
		{"no time", j("runs", "{date}"), ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := timedDir(tt.out, now); got != tt.want {
				t.Errorf("timedDir(%q) = %q, want %q", tt.out, got, tt.want)
			}
		})
	}
}
