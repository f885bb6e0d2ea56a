package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestStaleUnderClockSkewWarned: with this machine's clock days off AWS's,
// every association was judged stale (or none), against --stale-after's
// week, though the SDK had corrected its signing by the answers' Date and
// nothing said so. The run now says how far the clocks are apart and what
// it did to the staleness it judged; with the clocks together it says
// nothing of the kind, nor with the check off.
func TestStaleUnderClockSkewWarned(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	for _, c := range []struct {
		skew  time.Duration
		stale string
		warn  bool
	}{{0, "7d", false}, {-8 * 24 * time.Hour, "7d", true}, {3 * time.Hour, "7d", true}, {-8 * 24 * time.Hour, "0", false}} {
		// The fleet's dates are AWS's, and AWS's clock is skew off this
		// machine's.
		f := ssmsim.NewFleet(ssmsim.FleetConfig{Size: 30, Seed: 5, BaseTime: time.Now().Add(c.skew).UTC()})
		url, _ := serve(t, f, ssmsim.Options{ClockSkew: c.skew})
		ids := filepath.Join(t.TempDir(), "ids.txt")
		if err := os.WriteFile(ids, []byte(strings.Join(f.IDs(), "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "o")
		got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--rate", "500", "--format", "csv", "--stale-after", c.stale)
		if got.code != 0 && got.code != 1 {
			t.Fatalf("skew %v: exit %d\n%s", c.skew, got.code, got.stderr)
		}
		warned := strings.Contains(got.stderr, "this machine's clock")
		if warned != c.warn {
			t.Errorf("skew %v: warned %v, want %v\n%s", c.skew, warned, c.warn, got.stderr)
		}
		if c.warn && !strings.Contains(got.stderr, "--stale-after") {
			t.Errorf("skew %v: the warning does not name --stale-after\n%s", c.skew, got.stderr)
		}
	}
}
