//go:build unix

package cli

import (
	"bytes"
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/auditor-dev/auditor/internal/dirlock"
)

// TestOutErrorNoLocks: an --out on a filesystem that takes no locks (NFS
// mounted nolock) is not "in use by another auditor", which would have
// every run wait for ever: it says why, names the directory, and what to
// do, with exit 4 (the output cannot be used).
func TestOutErrorNoLocks(t *testing.T) {
	tests := []struct {
		name  string
		cause error
		want  []string
		not   string
	}{
		{"nolock", fmt.Errorf("locking nfs/out: %w: %w", dirlock.ErrNoLocks, syscall.ENOLCK),
			[]string{"--out nfs/out", "does not support locks", "no locks available", "local disk"}, "in use"},
		{"busy", fmt.Errorf("%w: nfs/out", dirlock.ErrBusy),
			[]string{"--out nfs/out", "in use by another auditor", "wait for it"}, "support locks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			code := exitFor(outError("nfs/out", tt.cause), newConsole(&buf))
			got := buf.String()
			if code != exitFatal {
				t.Errorf("exit %d, want %d", code, exitFatal)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("message %q lacks %q", got, w)
				}
			}
			if strings.Contains(got, tt.not) {
				t.Errorf("message %q says %q", got, tt.not)
			}
		})
	}
}
