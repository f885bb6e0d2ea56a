package report_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
	"github.com/xuri/excelize/v2"
)

// TestStaleJudgedWhenRead: a run interrupted on Friday and resumed on
// Monday keeps Friday as its started_at (and the results read on Friday
// their audited_at). An association read on Monday is judged from Monday,
// and one read on Friday from Friday, in the model, the CSV and the
// workbook alike, and the reports name no single cut-off that neither of
// them was judged by.
func TestStaleJudgedWhenRead(t *testing.T) {
	day := 24 * time.Hour
	friday := runStart
	monday := friday.Add(3 * day)
	// Just past the cut-off as seen on Monday, well inside it as seen on
	// Friday.
	executed := monday.Add(-7*day - time.Minute)
	assoc := func(id string) []audit.Association {
		return []audit.Association{{AssociationID: id, Name: "AWS-RunPatchBaseline", Status: audit.StatusSuccess, ExecutionDate: at(executed)}}
	}
	const readFriday, readMonday = "i-00000000000000001", "i-00000000000000002"
	results := []audit.Result{
		{AccountID: acct1, Region: east, InstanceID: readFriday, Outcome: audit.OutcomeCompliant, Pages: 1,
			AuditedAt: friday.Add(time.Minute), Associations: assoc("a-friday")},
		{AccountID: acct1, Region: east, InstanceID: readMonday, Outcome: audit.OutcomeCompliant, Pages: 1,
			AuditedAt: monday, Associations: assoc("a-monday")},
	}
	run := fixtureRun()
	run.StartedAt = friday // the first attempt's start, as --resume keeps it
	run.EndedAt = monday.Add(time.Minute)
	run.Targets, run.Invalid = 2, 0

	opts := report.Options{Dir: t.TempDir(), Records: openRecord(t, results), Run: run, StaleAfter: audit.DefaultStaleAfter,
		Formats: []report.Format{report.FormatCSV, report.FormatXLSX, report.FormatHTML}}
	if _, err := report.Render(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{readFriday: false, readMonday: true}

	m, err := report.Build(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if m.Stale.Count != 1 || len(m.Stale.Rows) != 1 || m.Stale.Rows[0].InstanceID != readMonday {
		t.Errorf("model: %d stale (%v), want only %s's", m.Stale.Count, rowIDs(m.Stale.Rows), readMonday)
	}

	recs := readCSV(t, filepath.Join(opts.Dir, report.AssociationsCSV))
	id, stale := indexOf(t, recs[0], "instance_id"), indexOf(t, recs[0], "stale")
	for _, rec := range recs[1:] {
		if got := rec[stale] == "true"; got != want[rec[id]] {
			t.Errorf("associations.csv: %s stale %q, want %v", rec[id], rec[stale], want[rec[id]])
		}
	}

	f, err := excelize.OpenFile(filepath.Join(opts.Dir, report.XLSXFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows := sheetRows(t, f, "Associations")
	xid, xstale := indexOf(t, rows[0], "Instance"), indexOf(t, rows[0], "Stale")
	for _, row := range rows[1:] {
		if got := cellAt(row, xstale) == "yes"; got != want[row[xid]] {
			t.Errorf("workbook: %s Stale %q, want %v", row[xid], cellAt(row, xstale), want[row[xid]])
		}
	}

	// No single cut-off holds for both: the reports say how it is judged.
	if m.Settings.StaleBefore != nil {
		t.Errorf("stale_before %v: one cut-off for instances read three days apart", m.Settings.StaleBefore)
	}
	earliest, latest := friday.Add(time.Minute-7*day), monday.Add(-7*day)
	if e, l := m.Settings.StaleBeforeEarliest, m.Settings.StaleBeforeLatest; e == nil || l == nil || !e.Equal(earliest) || !l.Equal(latest) {
		t.Errorf("stale cut-offs %v to %v, want %v to %v", e, l, earliest, latest)
	}
	page, err := os.ReadFile(filepath.Join(opts.Dir, report.HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	if words := strings.Join(strings.Fields(text(parseHTML(t, page))), " "); !strings.Contains(words,
		"older than 7 days when their instance was read (before 2025-05-25 12:01:00 UTC for the first read, 2025-05-28 12:00:00 UTC for the last)") {
		t.Errorf("report.html does not say that stale associations are judged from when each instance was read:\n%s", words)
	}
	for _, d := range m.About { // the HTML's and the workbook's run in words
		if d.Label != "Stale after" {
			continue
		}
		for _, w := range []string{"before each instance was read", "2025-05-25 12:01:00 UTC", "2025-05-28 12:00:00 UTC"} {
			if !strings.Contains(d.Value, w) {
				t.Errorf("Stale after: %q, want it to say %q", d.Value, w)
			}
		}
	}
}

func indexOf(t *testing.T, header []string, name string) int {
	t.Helper()
	for i, h := range header {
		if h == name {
			return i
		}
	}
	t.Fatalf("no column %q in %q", name, header)
	return -1
}
