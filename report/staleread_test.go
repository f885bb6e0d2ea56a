package report_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
	"github.com/xuri/excelize/v2"
)

// TestStaleJudgedFromAttempt: a run interrupted on Friday and resumed on
// Monday keeps Friday as its started_at, and run.json lists both attempts'
// starts. An association read on Monday is judged from Monday's start, and
// one read on Friday from Friday's, in the model, the CSV and the workbook
// alike, and the reports name no single cut-off that neither of them was
// judged by. Within an attempt the cut-off is its start, not each
// instance's read: one that ran a little less than the age before the
// attempt began is not stale for being read an hour into it.
func TestStaleJudgedFromAttempt(t *testing.T) {
	day := 24 * time.Hour
	friday := runStart
	monday := friday.Add(3 * day)
	// Just past the cut-off as seen from Monday's start, well inside it as
	// seen from Friday's.
	executed := monday.Add(-7*day - time.Minute)
	assoc := func(id string, ran time.Time) []audit.Association {
		return []audit.Association{{AssociationID: id, Name: "AWS-RunPatchBaseline", Status: audit.StatusSuccess, ExecutionDate: at(ran)}}
	}
	const readFriday, readMonday, readMondayLate = "i-00000000000000001", "i-00000000000000002", "i-00000000000000003"
	results := []audit.Result{
		{AccountID: acct1, Region: east, InstanceID: readFriday, Outcome: audit.OutcomeCompliant, Pages: 1,
			AuditedAt: friday.Add(time.Hour), Associations: assoc("a-friday", executed)},
		{AccountID: acct1, Region: east, InstanceID: readMonday, Outcome: audit.OutcomeCompliant, Pages: 1,
			AuditedAt: monday.Add(time.Hour), Associations: assoc("a-monday", executed)},
		// Inside the age at Monday's start, past it when read an hour on.
		{AccountID: acct1, Region: east, InstanceID: readMondayLate, Outcome: audit.OutcomeCompliant, Pages: 1,
			AuditedAt: monday.Add(time.Hour), Associations: assoc("a-late", monday.Add(-7*day+30*time.Minute))},
	}
	run := fixtureRun()
	run.StartedAt = friday // the first attempt's start, as --resume keeps it
	run.Attempts = []time.Time{friday, monday}
	run.EndedAt = monday.Add(2 * time.Hour)
	run.Targets, run.Invalid = len(results), 0

	opts := report.Options{Dir: t.TempDir(), Records: openRecord(t, results), Run: run, StaleAfter: audit.DefaultStaleAfter,
		Formats: []report.Format{report.FormatCSV, report.FormatXLSX, report.FormatHTML}}
	if _, err := report.Render(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{readFriday: false, readMonday: true, readMondayLate: false}

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
		t.Errorf("stale_before %v: one cut-off for attempts three days apart", m.Settings.StaleBefore)
	}
	earliest, latest := friday.Add(-7*day), monday.Add(-7*day)
	if e, l := m.Settings.StaleBeforeEarliest, m.Settings.StaleBeforeLatest; e == nil || l == nil || !e.Equal(earliest) || !l.Equal(latest) {
		t.Errorf("stale cut-offs %v to %v, want %v to %v", e, l, earliest, latest)
	}
	page, err := os.ReadFile(filepath.Join(opts.Dir, report.HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	if words := strings.Join(strings.Fields(text(parseHTML(t, page))), " "); !strings.Contains(words,
		"older than 7 days when the attempt that read their instance started (before 2025-05-25 12:00:00 UTC for the first attempt, 2025-05-28 12:00:00 UTC for the last)") {
		t.Errorf("report.html does not say that stale associations are judged from the start of each attempt:\n%s", words)
	}
	for _, d := range m.About { // the HTML's and the workbook's run in words
		if d.Label != "Stale after" {
			continue
		}
		for _, w := range []string{"before the attempt that read each instance started", "2025-05-25 12:00:00 UTC for the first attempt", "2025-05-28 12:00:00 UTC for the last"} {
			if !strings.Contains(d.Value, w) {
				t.Errorf("Stale after: %q, want it to say %q", d.Value, w)
			}
		}
	}
}

// TestStaleOneCutOffForOneAttempt: the workers of one attempt read its
// instances milliseconds apart; they are all judged from the attempt's
// start, so the run has one cut-off, which summary.json's stale_before and
// the run in words give, as they did before instances were judged apart.
func TestStaleOneCutOffForOneAttempt(t *testing.T) {
	var results []audit.Result
	for i := range 50 {
		results = append(results, audit.Result{AccountID: acct1, Region: east, InstanceID: fmt.Sprintf("i-%017x", i+1),
			Outcome: audit.OutcomeCompliant, Pages: 1, AuditedAt: runStart.Add(time.Duration(7*i+3) * time.Millisecond),
			Associations: []audit.Association{{AssociationID: "a-1", Name: "AWS-RunPatchBaseline", Status: audit.StatusSuccess, ExecutionDate: at(fresh)}}})
	}
	want := runStart.Add(-7 * 24 * time.Hour)
	for _, tt := range []struct {
		name     string
		attempts []time.Time
	}{
		{"one attempt", []time.Time{runStart}},
		{"run.json without attempts", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			run := fixtureRun()
			run.Attempts = tt.attempts
			m := build(t, results, run, nil)
			if got := m.Settings.StaleBefore; got == nil || !got.Equal(want) {
				t.Errorf("stale_before %v, want %v: one attempt, one cut-off", got, want)
			}
			if e, l := m.Settings.StaleBeforeEarliest, m.Settings.StaleBeforeLatest; e == nil || l == nil || !e.Equal(want) || !l.Equal(want) {
				t.Errorf("stale cut-offs %v to %v, want %v for both", e, l, want)
			}
			for _, d := range m.About {
				if d.Label == "Stale after" && d.Value != "7 days (stale: last run before 2025-05-25 12:00:00 UTC, or never)" {
					t.Errorf("Stale after: %q", d.Value)
				}
			}
		})
	}
}

// TestStaleWithoutAttempts: a run.json written before attempts were kept
// says nothing of when a resume started: every result is judged from the
// run's start, as it was then, however long after it was read. A result
// without an audited_at is judged from the run's start too.
func TestStaleWithoutAttempts(t *testing.T) {
	day := 24 * time.Hour
	monday := runStart.Add(3 * day)
	executed := monday.Add(-7*day - time.Minute) // stale from Monday, not from the run's start
	results := []audit.Result{
		{AccountID: acct1, Region: east, InstanceID: "i-00000000000000001", Outcome: audit.OutcomeCompliant, Pages: 1, AuditedAt: monday,
			Associations: []audit.Association{{AssociationID: "a-1", Name: "AWS-RunPatchBaseline", Status: audit.StatusSuccess, ExecutionDate: at(executed)}}},
		{AccountID: acct1, Region: east, InstanceID: "i-00000000000000002", Outcome: audit.OutcomeCompliant, Pages: 1,
			Associations: []audit.Association{{AssociationID: "a-2", Name: "AWS-RunPatchBaseline", Status: audit.StatusSuccess, ExecutionDate: at(executed)}}},
	}
	run := fixtureRun()
	run.Attempts = nil
	m := build(t, results, run, nil)
	if m.Stale.Count != 0 {
		t.Errorf("%d stale (%v), want none: judged from the run's start", m.Stale.Count, rowIDs(m.Stale.Rows))
	}
	if want := runStart.Add(-7 * day); m.Settings.StaleBefore == nil || !m.Settings.StaleBefore.Equal(want) {
		t.Errorf("stale_before %v, want %v", m.Settings.StaleBefore, want)
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

// TestStaleAttemptsReadAlike: attempts that started within one millisecond
// (shards started together, then merged) have cut-offs that read alike, as
// the reports print a cut-off to the millisecond, rounded up: the reports
// give the date once, not twice for the first and the last. Attempts 300ms
// apart have cut-offs that a row can fall between: both are given, though
// they share a second.
func TestStaleAttemptsReadAlike(t *testing.T) {
	for _, tt := range []struct {
		name          string
		first, second time.Time
		want          string // the dates, as the reports give them
	}{
		{"in one millisecond", runStart.Add(100 * time.Microsecond), runStart.Add(300 * time.Microsecond),
			"2025-05-25 12:00:00.001 UTC"},
		{"in one second", runStart, runStart.Add(300 * time.Millisecond),
			"2025-05-25 12:00:00 UTC for the first attempt, 2025-05-25 12:00:00.300 UTC for the last"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var results []audit.Result
			for i, read := range []time.Time{tt.first.Add(tt.second.Sub(tt.first) / 2), tt.second.Add(time.Millisecond)} {
				results = append(results, audit.Result{AccountID: acct1, Region: east, InstanceID: fmt.Sprintf("i-%017x", i+1),
					Outcome: audit.OutcomeCompliant, Pages: 1, AuditedAt: read,
					Associations: []audit.Association{{AssociationID: "a-1", Name: "AWS-RunPatchBaseline", Status: audit.StatusSuccess, ExecutionDate: at(old)}}})
			}
			run := fixtureRun()
			run.StartedAt = tt.first
			run.Attempts = []time.Time{tt.second, tt.first} // unsorted: a hand-edited run.json
			run.Targets, run.Invalid = len(results), 0
			opts := report.Options{Dir: t.TempDir(), Records: openRecord(t, results), Run: run, StaleAfter: audit.DefaultStaleAfter,
				Formats: []report.Format{report.FormatHTML}}
			if _, err := report.Render(context.Background(), opts); err != nil {
				t.Fatal(err)
			}
			m, err := report.Build(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			if m.Settings.StaleBefore != nil {
				t.Errorf("stale_before %v for two cut-offs", m.Settings.StaleBefore)
			}
			page, err := os.ReadFile(filepath.Join(opts.Dir, report.HTMLFile))
			if err != nil {
				t.Fatal(err)
			}
			words := strings.Join(strings.Fields(text(parseHTML(t, page))), " ")
			if want := "when the attempt that read their instance started (before " + tt.want + "), or that never ran"; !strings.Contains(words, want) {
				t.Errorf("report.html does not say %q:\n%s", want, words)
			}
			for _, d := range m.About {
				if want := "(stale: last run before " + tt.want + ", or never)"; d.Label == "Stale after" && !strings.HasSuffix(d.Value, want) {
					t.Errorf("Stale after: %q, want it to end %q", d.Value, want)
				}
			}
		})
	}
}

// TestStaleJudgedFromItsOwnAttempt: a merge of two shards that ran side by
// side lists both starts in its attempts; a row that shard 0 read after
// shard 1 started is judged from shard 0's start, which its result keeps,
// not from the later start that its read time alone would pick.
func TestStaleJudgedFromItsOwnAttempt(t *testing.T) {
	shard0 := runStart
	shard1 := shard0.Add(time.Minute)
	// Past the cut-off as seen from shard 1's start, inside it from shard 0's.
	executed := shard0.Add(-time.Duration(audit.DefaultStaleAfter) + 30*time.Second)
	const own, legacy = "i-00000000000000001", "i-00000000000000002"
	results := []audit.Result{
		{AccountID: acct1, Region: east, InstanceID: own, Outcome: audit.OutcomeCompliant, Pages: 1,
			AuditedAt: shard1.Add(time.Second), AttemptStartedAt: shard0,
			Associations: []audit.Association{{AssociationID: "a-own", Name: "AWS-RunPatchBaseline", Status: audit.StatusSuccess, ExecutionDate: at(executed)}}},
		// A record written before results kept their attempt: judged
		// from the latest start before its read, as before.
		{AccountID: acct1, Region: east, InstanceID: legacy, Outcome: audit.OutcomeCompliant, Pages: 1,
			AuditedAt:    shard1.Add(time.Second),
			Associations: []audit.Association{{AssociationID: "a-legacy", Name: "AWS-RunPatchBaseline", Status: audit.StatusSuccess, ExecutionDate: at(executed)}}},
	}
	run := fixtureRun()
	run.StartedAt = shard0
	run.Attempts = []time.Time{shard0, shard1}
	run.Targets, run.Invalid = len(results), 0
	m, err := report.Build(context.Background(), report.Options{Records: openRecord(t, results), Run: run, StaleAfter: audit.DefaultStaleAfter})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Stale.Rows; len(got) != 1 || got[0].InstanceID != legacy {
		t.Errorf("stale rows %v, want only %s's (%s judged from its own attempt's start)", rowIDs(got), legacy, own)
	}
}

// TestStaleIgnoresAnAttemptTheRunDoesNotKnow: a line's attempt_started_at
// that cannot be the start of the attempt that read it (a hand-edited or
// foreign record: year 9999, year 0, after the line was read) does not
// judge it; the attempt its read time names does.
// Before, year 9999 made every association of the line stale, and year 0
// a cut-off that summary.json cannot hold, which failed the rendering.
func TestStaleIgnoresAnAttemptTheRunDoesNotKnow(t *testing.T) {
	start := runStart
	executed := start.Add(-time.Duration(audit.DefaultStaleAfter) + time.Hour) // not stale from start
	for _, bogus := range []time.Time{
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		start.Add(3 * time.Minute), // after the line was read
	} {
		results := []audit.Result{{AccountID: acct1, Region: east, InstanceID: "i-00000000000000001", Outcome: audit.OutcomeCompliant, Pages: 1,
			AuditedAt: start.Add(2 * time.Minute), AttemptStartedAt: bogus,
			Associations: []audit.Association{{AssociationID: "a-1", Name: "AWS-RunPatchBaseline", Status: audit.StatusSuccess, ExecutionDate: at(executed)}}}}
		run := fixtureRun()
		run.StartedAt = start
		run.Attempts = []time.Time{start}
		run.Targets, run.Invalid = 1, 0
		opts := report.Options{Dir: t.TempDir(), Records: openRecord(t, results), Run: run, StaleAfter: audit.DefaultStaleAfter,
			Formats: []report.Format{report.FormatJSON}}
		if _, err := report.Render(context.Background(), opts); err != nil {
			t.Errorf("attempt_started_at %s: %v", bogus, err)
			continue
		}
		m, err := report.Build(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		if m.Stale.Count != 0 || m.Settings.StaleBefore == nil || !m.Settings.StaleBefore.Equal(start.Add(-time.Duration(audit.DefaultStaleAfter))) {
			t.Errorf("attempt_started_at %s: %d stale, stale_before %v; want none, judged from the run's start %s", bogus, m.Stale.Count, m.Settings.StaleBefore, start)
		}
	}
}

// TestStaleFromAKilledAttempt: an attempt killed before it wrote its
// run.json keeps its start in .auditor-attempts, not in run.json, and the
// lines it read keep it too. They are judged from it, not from the
// attempt before: a check that a line's start be one of run.json's
// attempts judged them from an attempt days earlier, and the merge of a
// shard with no run.json from the other shard's start.
func TestStaleFromAKilledAttempt(t *testing.T) {
	day := 24 * time.Hour
	first := runStart
	killed := first.Add(10 * day)
	// Stale seen from the killed attempt's start, not from the first's.
	executed := killed.Add(-8 * day)
	results := []audit.Result{{AccountID: acct1, Region: east, InstanceID: "i-00000000000000001", Outcome: audit.OutcomeCompliant, Pages: 1,
		AuditedAt: killed.Add(time.Second), AttemptStartedAt: killed,
		Associations: []audit.Association{{AssociationID: "a-1", Name: "AWS-RunPatchBaseline", Status: audit.StatusSuccess, ExecutionDate: at(executed)}}}}
	run := fixtureRun()
	run.StartedAt = first
	run.Attempts = []time.Time{first}
	run.Targets, run.Invalid = 1, 0
	m, err := report.Build(context.Background(), report.Options{Records: openRecord(t, results), Run: run, StaleAfter: audit.DefaultStaleAfter})
	if err != nil {
		t.Fatal(err)
	}
	if m.Stale.Count != 1 {
		t.Errorf("%d stale, want the association last run 8 days before the attempt that read it", m.Stale.Count)
	}
}

// TestStaleFromAnAttemptReadBeforeItStarted: a clock stepped back during an
// attempt (NTP, a VM resumed) dates a read a second before the attempt's
// own start. The line's start, one of the run's attempts, still judges
// it, not the attempt before, a month earlier.
func TestStaleFromAnAttemptReadBeforeItStarted(t *testing.T) {
	day := 24 * time.Hour
	second := runStart.Add(30 * day)
	executed := second.Add(-8 * day) // stale from the second attempt only
	results := []audit.Result{{AccountID: acct1, Region: east, InstanceID: "i-00000000000000001", Outcome: audit.OutcomeCompliant, Pages: 1,
		AuditedAt: second.Add(-time.Second), AttemptStartedAt: second,
		Associations: []audit.Association{{AssociationID: "a-1", Name: "AWS-RunPatchBaseline", Status: audit.StatusSuccess, ExecutionDate: at(executed)}}}}
	run := fixtureRun()
	run.StartedAt = runStart
	run.Attempts = []time.Time{runStart, second}
	run.Targets, run.Invalid = 1, 0
	m, err := report.Build(context.Background(), report.Options{Records: openRecord(t, results), Run: run, StaleAfter: audit.DefaultStaleAfter})
	if err != nil {
		t.Fatal(err)
	}
	if m.Stale.Count != 1 {
		t.Errorf("%d stale, want the association judged from the second attempt's start", m.Stale.Count)
	}
}
