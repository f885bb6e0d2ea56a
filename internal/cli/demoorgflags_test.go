package cli

import (
	"os"
	"strings"
	"testing"
)

// TestDemoOrgCountsRefused: demo's --accounts and --regions are counts, yet
// --accounts 0 (or a negative count, or --regions 0) was refused with
// run's message for its list form, quoting an empty value the user never
// typed: `--accounts "": names no account (want a comma-separated list of
// account IDs, ...)`. The demo names the count given and what it takes,
// and writes nothing.
func TestDemoOrgCountsRefused(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--accounts", "0"}, "--accounts 0: want at least 1"},
		{[]string{"--accounts", "-1"}, "--accounts -1: want at least 1"},
		{[]string{"--regions", "0"}, "--regions 0: want at least 1"},
		{[]string{"--accounts", "2", "--regions", "-3"}, "--regions -3: want at least 1"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Chdir(t.TempDir())
			got := runCLI(t, "", append([]string{"demo", "--out", "d"}, tt.args...)...)
			if got.code != int(exitUsage) || !strings.Contains(got.stderr, tt.want) || strings.Contains(got.stderr, `""`) {
				t.Errorf("exit %d, want %d saying %q\n%s", got.code, exitUsage, tt.want, got.stderr)
			}
			if _, err := os.Stat("d"); !os.IsNotExist(err) {
				t.Errorf("the demo made its directory: %v", err)
			}
		})
	}
}
