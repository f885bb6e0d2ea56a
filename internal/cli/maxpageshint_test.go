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
