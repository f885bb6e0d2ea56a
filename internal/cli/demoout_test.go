package cli

import (
	"os"
	"path/filepath"
	"slices"
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

// TestDemoForeignOutThroughANewDirectory: auditor demo --out DIR/y/..,
// where DIR holds files the demo did not write, was refused only once it
// had made y/ and locked DIR, and left both there. It is refused before
// anything is made.
func TestDemoForeignOutThroughANewDirectory(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids := writeFile(t, "ids.txt", "")
	dir := filepath.Dir(ids)
	before := entries(t, dir)
	out := dir + string(os.PathSeparator) + "y" + string(os.PathSeparator) + ".."
	got := runCLI(t, "", "demo", "--fleet-size", "5", "--out", out, "--quiet")
	if got.code != 2 || !strings.Contains(got.stderr, "--out "+out+": not a directory of the demo") {
		t.Errorf("exit %d, want 2 refusing %s\n%s", got.code, out, got.stderr)
	}
	if after := entries(t, dir); !slices.Equal(before, after) {
		t.Errorf("%s held %q, and holds %q after the refusal", dir, before, after)
	}
}
