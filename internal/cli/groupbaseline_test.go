package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestGroupDirAsBaseline: a --split-by group's directory named as
// --baseline holds the instances of one group; the others' failures were
// all new, without the warning a baseline of another list gets, as a
// group's run.json has no parts to tell. It is recognised by what its
// run.json says (split by a label, no parts), and the warning names the
// run to compare with instead.
func TestGroupDirAsBaseline(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, ownersFleet("bob"), ssmsim.Options{})
	list := writeFile(t, "fleet.csv", ownersList)
	root := t.TempDir()
	s1, s2 := filepath.Join(root, "s1"), filepath.Join(root, "s2")
	args := []string{"run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--fail-on", "none", "--quiet"}
	if got := runCLI(t, "", append(args, "--out", s1, "--split-by", "owner")...); got.code != 0 {
		t.Fatalf("s1: exit %d\n%s", got.code, got.stderr)
	}
	group := filepath.Join(report.SplitDir(s1, "owner"), "alice")
	got := runCLI(t, "", append(args, "--out", s2, "--baseline", group)...)
	if got.code != 0 {
		t.Fatalf("s2: exit %d\n%s", got.code, got.stderr)
	}
	for _, want := range []string{"covers other targets", "--split-by group", "--baseline " + s1} {
		if !strings.Contains(got.stderr, want) {
			t.Errorf("--baseline of a group: stderr lacks %q:\n%s", want, got.stderr)
		}
	}
}
