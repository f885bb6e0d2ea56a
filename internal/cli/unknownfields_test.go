package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestRunJSONOfANewerVersion: a run.json written by a newer auditor may
// hold fields this one does not know (a rollback after a bad release, a
// Batch retry on a host with the older image). Rendering it in place, or
// resuming it, rewrote run.json without them, and nothing said so, so a
// later run ranked or merged it otherwise. Both now warn, naming the
// fields and the version to use.
func TestRunJSONOfANewerVersion(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	if got := runCLI(t, "", "demo", "--out", dir, "--quiet", "--format", "csv"); got.code != 0 {
		t.Fatalf("demo: exit %d\n%s", got.code, got.stderr)
	}
	path := filepath.Join(dir, audit.RunFile)
	addField(t, path)
	ri, err := audit.ReadRunInfo(path)
	if err != nil || len(ri.Unknown) != 1 || ri.Unknown[0] != "future_field" {
		t.Fatalf("ReadRunInfo: unknown fields %v (%v), want [future_field]", ri.Unknown, err)
	}
	got := runCLI(t, "", "report", filepath.Join(dir, audit.ResultsFile), "--out", dir, "--format", "csv", "--fail-on", "none")
	if got.code != 0 {
		t.Fatalf("report in place: exit %d\n%s", got.code, got.stderr)
	}
	for _, w := range []string{"warning", path, "auditor 9.9.9", "future_field", "leaves them out"} {
		if !strings.Contains(got.stderr, w) {
			t.Errorf("report in place: stderr does not say %q:\n%s", w, got.stderr)
		}
	}
	// Resumed: the run.json the resume writes leaves them out too.
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 4, Size: 20, BaseTime: time.Now()})
	var ids bytes.Buffer
	fleet.WriteIDs(&ids)
	list := writeFile(t, "ids.txt", ids.String())
	url, _ := serve(t, fleet, ssmsim.Options{})
	run := filepath.Join(t.TempDir(), "run")
	args := []string{"run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", run, "--quiet", "--fail-on", "none", "--format", "csv"}
	if got := runCLI(t, "", args...); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	addField(t, filepath.Join(run, audit.RunFile))
	got = runCLI(t, "", append(args, "--resume")...)
	if got.code != 0 || !strings.Contains(got.stderr, "future_field") || !strings.Contains(got.stderr, "leaves them out") {
		t.Errorf("resume: exit %d, want 0 with a warning naming future_field\n%s", got.code, got.stderr)
	}

	// Fields spelt in another case are known: encoding/json reads them.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), `"complete"`, `"Complete"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if ri, err := audit.ReadRunInfo(path); err != nil || len(ri.Unknown) != 0 {
		t.Errorf("run.json with Complete for complete: unknown fields %v (%v), want none", ri.Unknown, err)
	}

	// This version's own run.json: no word of it.
	got = runCLI(t, "", "report", filepath.Join(dir, audit.ResultsFile), "--out", dir, "--format", "csv", "--fail-on", "none")
	if got.code != 0 || strings.Contains(got.stderr, "does not know") {
		t.Errorf("report of its own run.json: exit %d, want 0 without a warning\n%s", got.code, got.stderr)
	}
}

// addField rewrites the run.json at path as auditor 9.9.9 wrote it, with a
// field this version does not know.
func addField(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m["version"] = "9.9.9"
	m["future_field"] = []string{"kept by 9.9.9"}
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
