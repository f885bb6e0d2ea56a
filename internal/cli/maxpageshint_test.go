package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestMaxPagesHint: instances with more pages than --max-pages ended in
// PaginationLoop, and the command printed to retry them repeated
// --max-pages as it was, so that it failed the same way every time. The
// closing lines now say that it is the limit, not a loop, and to raise it.
func TestMaxPagesHint(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 1, Size: 30})
	url, _ := serve(t, fleet, ssmsim.Options{})
	ids := writeFile(t, "ids.txt", strings.Join(fleet.IDs(), "\n")+"\n")
	got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--out", filepath.Join(t.TempDir(), "out"),
		"--max-results", "1", "--max-pages", "2", "--format", "csv", "--region", "us-east-1")
	if got.code != int(exitIncomplete) {
		t.Fatalf("exit %d, want %d\n%s", got.code, exitIncomplete, got.stderr)
	}
	checkSays(t, got.stderr, []string{
		"have more than 2 pages (--max-pages 2)",
		"raise --max-pages",
		"fix the cause above, then retry them with",
	}, nil)
}

// TestMaxPagesHintWords: a merge of shards run with different
// --max-pages names no limit (it said "more than  pages (--max-pages )").
func TestMaxPagesHintWords(t *testing.T) {
	for _, tt := range []struct {
		n          int
		limit, say string
	}{
		{1, "1", "1 instance has more than 1 page (--max-pages 1)"},
		{21, "2", "21 instances have more than 2 pages (--max-pages 2)"},
		{3, "", "3 instances have more pages than their runs' --max-pages"},
	} {
		if got := maxPagesHint(tt.n, tt.limit); !strings.HasPrefix(got, tt.say+": the limit, not a loop") {
			t.Errorf("maxPagesHint(%d, %q) = %q, want it to start %q", tt.n, tt.limit, got, tt.say)
		}
	}
}
