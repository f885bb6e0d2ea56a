package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestDemoForeignOutNamedOnce: auditor demo --out / said "--out /: /: not
// a directory of the demo", the path twice. It is named once, by --out.
func TestDemoForeignOutNamedOnce(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids := writeFile(t, "ids.txt", "")
	dir := filepath.Dir(ids) // it holds ids.txt, which the demo did not write
	got := runCLI(t, "", "demo", "--fleet-size", "5", "--out", dir, "--quiet")
	if got.code != 2 || strings.Count(got.stderr, dir) != 1 || !strings.Contains(got.stderr, "--out "+dir+": not a directory of the demo") {
		t.Errorf("exit %d, want 2 naming %s once\n%s", got.code, dir, got.stderr)
	}
}
