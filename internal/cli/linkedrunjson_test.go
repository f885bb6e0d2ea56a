package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestMergeKeepsLinkedRunJSONsStaleAfter: shards audited with
// --stale-after 1h whose run.json files are symbolic links (to a directory
// of run.json files kept apart) were merged as complete, by those links,
// but judged stale after the default 7 days, with nothing said: the
// judgement skipped a run.json that was not a regular file where the
// merge followed it. Both take the file the link names, the user's own.
func TestMergeKeepsLinkedRunJSONsStaleAfter(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 5, Size: 120, BaseTime: time.Now()})
	var b bytes.Buffer
	fleet.WriteIDs(&b)
	ids := writeFile(t, "ids.txt", b.String())
	url, _ := serve(t, fleet, ssmsim.Options{})
	root := t.TempDir()
	want := 0
	linked := filepath.Join(root, "linked")
	var records []string
	for k := range 2 {
		out := filepath.Join(root, "shard-"+strconv.Itoa(k))
		if got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out,
			"--quiet", "--fail-on", "none", "--shard", strconv.Itoa(k)+"/2", "--stale-after", "1h"); got.code != 0 {
			t.Fatalf("shard %d: exit %d\n%s", k, got.code, got.stderr)
		}
		want += staleCount(t, out)
		dir := filepath.Join(linked, "s"+strconv.Itoa(k))
		meta := filepath.Join(linked, "meta", "run"+strconv.Itoa(k)+".json")
		for _, d := range []string{dir, filepath.Dir(meta)} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		copyFile(t, filepath.Join(out, audit.ResultsFile), filepath.Join(dir, audit.ResultsFile))
		copyFile(t, filepath.Join(out, audit.RunFile), meta)
		if err := os.Symlink(filepath.Join("..", "meta", filepath.Base(meta)), filepath.Join(dir, audit.RunFile)); err != nil {
			t.Fatal(err)
		}
		records = append(records, filepath.Join(dir, audit.ResultsFile))
	}

	byDefault := filepath.Join(root, "default")
	if got := runCLI(t, "", "report", records[0], records[1], "--out", byDefault, "--fail-on", "none", "--stale-after", "7d"); got.code != 0 {
		t.Fatalf("merge with --stale-after 7d: exit %d\n%s", got.code, got.stderr)
	}
	if staleCount(t, byDefault) == want {
		t.Fatalf("as many stale associations after 7 days as after 1 hour (%d): nothing to test", want)
	}

	merged := filepath.Join(root, "merged")
	got := runCLI(t, "", "report", records[0], records[1], "--out", merged, "--fail-on", "none")
	if got.code != 0 {
		t.Fatalf("merge: exit %d, want 0 (complete, by the linked run.json files)\n%s", got.code, got.stderr)
	}
	if n := staleCount(t, merged); n != want {
		t.Errorf("merged: %d stale associations, want the shards' %d (--stale-after 1h)", n, want)
	}
	if !strings.Contains(got.stderr, "--stale-after 1h ") {
		t.Errorf("stderr does not say the shards' --stale-after 1h is kept:\n%s", got.stderr)
	}

	// A link of the user's to another user's run.json is not the user's
	// word either.
	if os.Geteuid() != 0 {
		t.Log("not run: giving a run.json to another user needs root (CI runs as root)")
		return
	}
	for k := range 2 {
		if err := os.Chown(filepath.Join(linked, "meta", "run"+strconv.Itoa(k)+".json"), 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}
	got = runCLI(t, "", "report", records[0], records[1], "--out", filepath.Join(root, "notmine"), "--fail-on", "none")
	if got.code != 0 || strings.Contains(got.stderr, "1h") {
		t.Errorf("linked to another user's run.json: exit %d, want 0 judged by the default, without a word of 1h\n%s", got.code, got.stderr)
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
