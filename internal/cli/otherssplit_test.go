package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestResumeOfAnotherUsersSplit: a retry as another user (an arbitrary UID
// of a hardened container, in a directory of a shared group) found the
// split by owner made by the first attempt's user, and refused it, exit 2,
// as "not made by a split (it is another user's)": a usage error, which no
// scheduler retries, for a directory that a split did make. It says the
// directory belongs to another user, exit 4 (setup).
func TestResumeOfAnotherUsersSplit(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("giving a file to another user needs root")
	}
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, ownersFleet(), ssmsim.Options{})
	list := writeFile(t, "owners.csv", ownersList)
	out := filepath.Join(t.TempDir(), "out")
	args := []string{"run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet", "--split-by", "owner"}
	if got := runCLI(t, "", args...); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	if err := os.Chown(report.SplitDir(out, "owner"), 65534, 65534); err != nil {
		t.Fatal(err)
	}
	got := runCLI(t, "", append(args, "--resume")...)
	if got.code != 4 || !strings.Contains(got.stderr, "belongs to another user") || strings.Contains(got.stderr, "not made by a split") {
		t.Errorf("--resume: exit %d, want 4 saying the split belongs to another user\n%s", got.code, got.stderr)
	}
}
