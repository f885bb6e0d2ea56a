//go:build unix

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/internal/dirlock"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestReportOfARunStillWriting: a record another auditor is still writing
// (a first run, without its run.json yet, or a resume) is refused before
// anything is written, exit 4 as for an --out in use: merged, it would be
// taken for a killed run's, its reports marked partial, with advice to
// resume it that the lock then refuses.
func TestReportOfARunStillWriting(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	run := func(name string) string {
		dir := filepath.Join(t.TempDir(), name)
		if got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", dir, "--quiet"); got.code != 1 {
			t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
		}
		return dir
	}
	first, resumed, done := run("first"), run("resumed"), run("done")
	// A first run still going has no run.json yet.
	if err := os.Remove(filepath.Join(first, "run.json")); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{first, resumed} {
		unlock, err := dirlock.Lock(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(unlock)
	}
	for _, tt := range []struct {
		name   string
		inputs []string
		busy   string
	}{
		{"a first run", []string{first}, first},
		{"a resume", []string{resumed}, resumed},
		{"one of a merge", []string{done, first}, first},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "all")
			args := []string{"report"}
			for _, d := range tt.inputs {
				args = append(args, filepath.Join(d, "results.jsonl"))
			}
			got := runCLI(t, "", append(args, "--out", out)...)
			if got.code != 4 || !strings.Contains(got.stderr, tt.busy) || !strings.Contains(got.stderr, "still being written") {
				t.Errorf("exit %d, want 4 saying %s is still being written\n%s", got.code, tt.busy, got.stderr)
			}
			if strings.Contains(got.stderr, "--resume") {
				t.Errorf("advises a resume, which the lock would refuse:\n%s", got.stderr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was created", out)
			}
		})
	}
	// Its own lock, taken to render in place, is not another's.
	if got := runCLI(t, "", "report", filepath.Join(done, "results.jsonl"), "--out", done); got.code != 1 {
		t.Errorf("rendering again in place: exit %d, want 1\n%s", got.code, got.stderr)
	}
}
