package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestWorkbookOfTooManyLabels: lists whose label keys are more than a
// sheet has columns made the workbook refuse, and the run called it a
// fatal "directory not writable" (exit 4), which a scheduler takes for an
// outage. The workbook is left out with a warning that says why; the
// other reports keep every label, and the run ends as its findings say.
func TestWorkbookOfTooManyLabels(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	args := []string{"run", "--endpoint-url", url, "--region", "us-east-1", "--quiet", "--fail-on", "none", "--format", "csv,xlsx,json"}
	// A list holds at most 1,000 columns: 17 lists of 999 labels each,
	// on one instance.
	for k := range 17 {
		var head, row strings.Builder
		head.WriteString("instance_id")
		row.WriteString("i-0123456789abcdef0")
		for i := range 999 {
			fmt.Fprintf(&head, ",k%02d_%03d", k, i)
			row.WriteString(",v")
		}
		args = append(args, "--instances", writeFile(t, fmt.Sprintf("w%02d.csv", k), head.String()+"\n"+row.String()+"\n"))
	}
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", append(args, "--out", out)...)
	if got.code != int(exitOK) || !strings.Contains(got.stderr, "warning") || !strings.Contains(got.stderr, report.XLSXFile) || !strings.Contains(got.stderr, "16983 label keys") {
		t.Errorf("exit %d, want 0 with a warning that names %s and the 16983 label keys\n%s", got.code, report.XLSXFile, got.stderr)
	}
	if _, err := os.Stat(filepath.Join(out, report.XLSXFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s: %v, want none", report.XLSXFile, err)
	}
	head, err := os.ReadFile(filepath.Join(out, "instances.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(strings.SplitN(string(head), "\n", 2)[0], ",k"); n != 17*999 {
		t.Errorf("instances.csv has %d label columns, want %d", n, 17*999)
	}
	// The workbook alone: nothing would be written, a failure.
	alone := slices.Clone(args)
	alone[slices.Index(alone, "csv,xlsx,json")] = "xlsx"
	got = runCLI(t, "", append(alone, "--out", filepath.Join(t.TempDir(), "out"))...)
	if got.code != int(exitFatal) || !strings.Contains(got.stderr, "16983 label keys") || !strings.Contains(got.stderr, "no report written") ||
		strings.Contains(got.stderr, "not writable") {
		t.Errorf("--format xlsx alone: exit %d, want 4 saying no report was written for the 16983 label keys, not that the directory is not writable\n%s", got.code, got.stderr)
	}
}
