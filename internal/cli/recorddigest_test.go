package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestReportsNameTheirRecord: nothing tied the reports to the record they
// were rendered from, so that a report left beside a newer or edited
// results.jsonl could not be told from one of it. Every set of reports
// (a run's, a record rendered again in place after an edit, a render into
// another --out, each --split-by group's) names the results.jsonl beside
// it by its SHA-256 and size: summary.json, report.html and the
// workbook's Summary sheet alike, never the digest of a record elsewhere.
func TestReportsNameTheirRecord(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, ownersFleet("bob"), ssmsim.Options{})
	root := t.TempDir()
	out := filepath.Join(root, "out")
	got := runCLI(t, "", "run", "--instances", writeFile(t, "fleet.csv", ownersList), "--endpoint-url", url, "--region", "us-east-1",
		"--fail-on", "none", "--quiet", "--out", out, "--split-by", "owner")
	if got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	first := checkRecordNamed(t, out)

	split := report.SplitDir(out, "owner")
	for _, owner := range []string{"alice", "bob", "carol"} {
		group := filepath.Join(split, splitGroupName(t, split, owner))
		if sum := checkRecordNamed(t, group); sum == first {
			t.Errorf("group %s names the run's record, not its own", owner)
		}
	}

	// Edited since (an address changed by hand), then rendered again in
	// place: the reports name the record as it is now.
	rec := filepath.Join(out, audit.ResultsFile)
	b, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(b), "bob@example.com", "robert@example.com", 1)
	if edited == string(b) {
		t.Fatalf("%s holds no address to edit:\n%s", rec, b)
	}
	if err := os.WriteFile(rec, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := runCLI(t, "", "report", rec, "--out", out, "--fail-on", "none", "--quiet"); got.code != 0 {
		t.Fatalf("report in place: exit %d\n%s", got.code, got.stderr)
	}
	if again := checkRecordNamed(t, out); again == first {
		t.Errorf("the edited record rendered again still has the digest %s of the first", first)
	}

	// Rendered into another --out: the record named is the one written
	// there, not the source elsewhere.
	other := filepath.Join(root, "other")
	if got := runCLI(t, "", "report", rec, "--out", other, "--fail-on", "none", "--quiet"); got.code != 0 {
		t.Fatalf("report into another --out: exit %d\n%s", got.code, got.stderr)
	}
	checkRecordNamed(t, other)
}

// checkRecordNamed checks that summary.json, report.html and report.xlsx
// in dir name the results.jsonl there, by its SHA-256 and size, and
// returns the digest.
func checkRecordNamed(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, audit.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(b)
	want := hex.EncodeToString(h[:])

	var sum struct {
		Run struct {
			Record *struct {
				File   string `json:"file"`
				SHA256 string `json:"sha256"`
				Bytes  *int64 `json:"bytes"`
			} `json:"record"`
		} `json:"run"`
	}
	js, err := os.ReadFile(filepath.Join(dir, report.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(js, &sum); err != nil {
		t.Fatal(err)
	}
	switch r := sum.Run.Record; {
	case r == nil:
		t.Errorf("%s: summary.json names no record", dir)
	case r.File != audit.ResultsFile || r.SHA256 != want || r.Bytes == nil || *r.Bytes != int64(len(b)):
		t.Errorf("%s: summary.json names the record %+v (%v bytes), want %s, %s, %d bytes", dir, *r, r.Bytes, audit.ResultsFile, want, len(b))
	}

	html, err := os.ReadFile(filepath.Join(dir, report.HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), want) {
		t.Errorf("%s: report.html does not name the record's digest %s", dir, want)
	}

	f, err := excelize.OpenFile(filepath.Join(dir, report.XLSXFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("Summary")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range rows {
		found = found || strings.Contains(strings.Join(r, " "), want)
	}
	if !found {
		t.Errorf("%s: the workbook's Summary sheet does not name the record's digest %s", dir, want)
	}
	return want
}
