package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestResumeKeepsEarlierVersionAndOptions: a resume with another build and
// --max-attempts 8 wrote run.json, summary.json and report.html as if
// that build had read every result with 8 attempts a call, though most
// were read by the first with 2. Its version says both now, as a merge's
// does; its options stay the last attempt's, which the next --resume
// compares with, and earlier_options keeps the values the earlier
// attempts ran with that the last did not (resume aside, which differs by
// nature).
func TestResumeKeepsEarlierVersionAndOptions(t *testing.T) {
	defer func(v string) { Version = v }(Version)
	Version = "v1.0.0"
	dir, args, _ := goodRun(t, 30)
	os.RemoveAll(dir)
	if got := runCLI(t, "", append(args, "--out", dir, "--max-attempts", "2")...); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	record := filepath.Join(dir, audit.ResultsFile)
	b, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	os.WriteFile(record, []byte(strings.Join(lines[:20], "")), 0o644)
	Version = "v9.9.9"
	if got := runCLI(t, "", append(args, "--out", dir, "--resume", "--max-attempts", "8")...); got.code != 0 {
		t.Fatalf("resume: exit %d\n%s", got.code, got.stderr)
	}
	ri, err := audit.ReadRunInfo(filepath.Join(dir, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"v1.0.0", "v9.9.9"} {
		if !strings.Contains(ri.Version, v) {
			t.Errorf("run.json version %q does not say %s", ri.Version, v)
		}
	}
	if got := optionText(ri.Options["max_attempts"]); got != "8" {
		t.Errorf("run.json max_attempts %s, want the last attempt's, 8", got)
	}
	if got, _ := json.Marshal(ri.EarlierOptions); string(got) != `{"max_attempts":[2]}` {
		t.Errorf("run.json earlier_options %s, want {\"max_attempts\":[2]}", got)
	}
	var summary struct {
		Run struct {
			Version        string           `json:"version"`
			EarlierOptions map[string][]any `json:"earlier_options"`
		} `json:"run"`
	}
	b, _ = os.ReadFile(filepath.Join(dir, "summary.json"))
	if err := json.Unmarshal(b, &summary); err != nil {
		t.Fatal(err)
	}
	if summary.Run.Version != ri.Version || len(summary.Run.EarlierOptions["max_attempts"]) != 1 {
		t.Errorf("summary.json run: version %q, earlier options %v; want %q and max_attempts 2", summary.Run.Version, summary.Run.EarlierOptions, ri.Version)
	}
	html, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	for _, w := range []string{"v1.0.0, v9.9.9", "Earlier attempts", "2 attempts per call at most"} {
		if !strings.Contains(string(html), w) {
			t.Errorf("report.html does not say %q", w)
		}
	}

	// A third attempt with the first's options: the values the last did
	// not run with are the second's.
	os.WriteFile(record, []byte(strings.Join(lines[:20], "")), 0o644)
	Version = "v1.0.0"
	if got := runCLI(t, "", append(args, "--out", dir, "--resume", "--max-attempts", "2")...); got.code != 0 {
		t.Fatalf("second resume: exit %d\n%s", got.code, got.stderr)
	}
	if ri, err = audit.ReadRunInfo(filepath.Join(dir, audit.RunFile)); err != nil {
		t.Fatal(err)
	}
	if ri.Version != "v1.0.0, v9.9.9" {
		t.Errorf("run.json version %q, want v1.0.0, v9.9.9", ri.Version)
	}
	if got, _ := json.Marshal(ri.EarlierOptions); string(got) != `{"max_attempts":[8]}` {
		t.Errorf("run.json earlier_options %s, want {\"max_attempts\":[8]}", got)
	}
}

// TestResumedReportSaysWhatCallsCount: after a resume, "API calls" counted
// the last attempt's calls alone, and "Attempts: 8 attempts per call at
// most" sat beside the run's attempts, which are its resumes. The labels
// say what they count now.
func TestResumedReportSaysWhatCallsCount(t *testing.T) {
	dir, args, _ := goodRun(t, 30)
	record := filepath.Join(dir, audit.ResultsFile)
	b, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(record, []byte(strings.Join(strings.SplitAfter(string(b), "\n")[:20], "")), 0o644)
	if got := runCLI(t, "", append(args, "--out", dir, "--resume", "--max-attempts", "8")...); got.code != 0 {
		t.Fatalf("resume: exit %d\n%s", got.code, got.stderr)
	}
	var summary struct {
		About []struct{ Label, Value string } `json:"about"`
	}
	b, _ = os.ReadFile(filepath.Join(dir, "summary.json"))
	if err := json.Unmarshal(b, &summary); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{}
	for _, d := range summary.About {
		labels[d.Label] = d.Value
	}
	for _, l := range []string{"API calls (the last attempt)", "Call attempts"} {
		if _, ok := labels[l]; !ok {
			t.Errorf("summary.json's about has no %q: %v", l, labels)
		}
	}
	for _, l := range []string{"API calls", "Attempts"} {
		if _, ok := labels[l]; ok {
			t.Errorf("summary.json's about says %q: %s", l, labels[l])
		}
	}
}
