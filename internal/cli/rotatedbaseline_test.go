package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/deliver/smtptest"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestRotatedBaseline: the cron rotation (mv latest previous; auditor run
// --out latest --baseline previous) moves a run to where its baseline
// was; rendered again in place, or mailed, it was compared with itself
// ("0 new, 0 resolved") or with whatever run was there now. A run is never
// its own baseline, and a record there of another run than the one
// compared with (run.json keeps when that one started) is not it: report
// refuses, as for a baseline gone, and mail leaves the changes out.
func TestRotatedBaseline(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	clean, _ := serve(t, handFleet(false), ssmsim.Options{})
	failing, _ := serve(t, handFleet(true), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	for _, tc := range []struct {
		name string
		// rotate moves the runs after week 2, compared with previous,
		// was written to latest; it returns week 2's directory now.
		rotate   func(t *testing.T, root string) string
		wantSaid string
	}{
		{name: "week 2 moved to its baseline's place", rotate: func(t *testing.T, root string) string {
			mv(t, filepath.Join(root, "previous"), filepath.Join(root, "old"))
			mv(t, filepath.Join(root, "latest"), filepath.Join(root, "previous"))
			return filepath.Join(root, "previous")
		}, wantSaid: "this run's own"},
		{name: "another run in its baseline's place", rotate: func(t *testing.T, root string) string {
			mv(t, filepath.Join(root, "previous"), filepath.Join(root, "old"))
			time.Sleep(10 * time.Millisecond)
			got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", clean, "--region", "us-east-1", "--fail-on", "none", "--quiet", "--out", filepath.Join(root, "previous"))
			if got.code != 0 {
				t.Fatalf("week 3: exit %d\n%s", got.code, got.stderr)
			}
			return filepath.Join(root, "latest")
		}, wantSaid: "another run"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			latest, previous := filepath.Join(root, "latest"), filepath.Join(root, "previous")
			args := []string{"run", "--instances", ids, "--region", "us-east-1", "--fail-on", "none", "--quiet", "--out", latest}
			if got := runCLI(t, "", append(args, "--endpoint-url", clean)...); got.code != 0 {
				t.Fatalf("week 1: exit %d\n%s", got.code, got.stderr)
			}
			mv(t, latest, previous)
			time.Sleep(10 * time.Millisecond)
			if got := runCLI(t, "", append(args, "--endpoint-url", failing, "--baseline", previous)...); got.code != 0 {
				t.Fatalf("week 2: exit %d\n%s", got.code, got.stderr)
			}
			dir := tc.rotate(t, root)
			before, err := os.ReadFile(filepath.Join(dir, "changes.csv"))
			if err != nil {
				t.Fatal(err)
			}
			got := runCLI(t, "", "report", filepath.Join(dir, audit.ResultsFile), "--out", dir, "--fail-on", "none")
			if got.code != int(exitUsage) || !strings.Contains(got.stderr, tc.wantSaid) {
				t.Errorf("rendered again in place: exit %d, want %d, saying the record there is %s\n%s", got.code, exitUsage, tc.wantSaid, got.stderr)
			}
			if after, err := os.ReadFile(filepath.Join(dir, "changes.csv")); err != nil || string(after) != string(before) {
				t.Errorf("changes.csv rendered again (%v):\n%s\nwas:\n%s", err, after, before)
			}
			ms := newMailSetup(t, smtptest.Options{})
			mail := runCLI(t, "", append([]string{"mail", dir, "--to", "ops@example.com"}, ms.args...)...)
			if mail.code != 0 || !strings.Contains(mail.stderr, "leaves out what changed") || !strings.Contains(mail.stderr, tc.wantSaid) {
				t.Errorf("mail: exit %d, want 0, saying it leaves out the changes as the record there is %s\n%s", mail.code, tc.wantSaid, mail.stderr)
			}
		})
	}
}

func mv(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}
