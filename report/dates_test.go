package report_test

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
)

// The dates of datesOptions' run: executions seconds apart, with the
// milliseconds SSM serves, which a report cut to the minute shows alike.
var (
	datesStart    = time.Date(2026, 12, 1, 10, 55, 0, 0, time.UTC)
	datesBaseline = time.Date(2026, 11, 25, 23, 30, 0, 0, time.UTC)
	// lastRun is each listed instance's one execution date.
	lastRun = map[string]time.Time{
		"i-000000000000000a1": time.Date(2026, 12, 1, 9, 55, 7, 123e6, time.UTC),  // failed
		"i-000000000000000a2": time.Date(2026, 12, 1, 9, 55, 41, 7e6, time.UTC),   // failed
		"i-000000000000000a3": time.Date(2026, 11, 20, 8, 0, 3, 250e6, time.UTC),  // stale success
		"i-000000000000000a4": time.Date(2026, 11, 20, 8, 0, 58, 999e6, time.UTC), // stale success
	}
	// firstFailing is when i-a2's failure was first seen (carried from
	// the runs before the baseline).
	firstFailing = time.Date(2026, 11, 17, 6, 12, 33, 456e6, time.UTC)
)

// datesOptions returns Options for a run compared with a baseline: two
// failures (a new one, and one still failing since firstFailing), two
// stale successes, each on its own instance, all dated by lastRun.
func datesOptions(t *testing.T) report.Options {
	t.Helper()
	return datesOptionsAuditedAt(t, datesStart.Add(time.Minute))
}

// datesOptionsAuditedAt is datesOptions with the run's instances audited at
// at, which a new failure takes as its first_seen_failing.
func datesOptionsAuditedAt(t *testing.T, at time.Time) report.Options {
	t.Helper()
	result := func(id, status string, at time.Time) audit.Result {
		when := lastRun[id]
		a := audit.Association{AssociationID: "a-patch", AssociationName: "patch-baseline", Name: "AWS-RunPatchBaseline",
			Status: status, DetailedStatus: status, ExecutionDate: &when}
		if status == audit.StatusFailed {
			a.ErrorCode = "ScriptFailed"
		}
		return audit.Result{AccountID: acct1, Region: east, InstanceID: id, Outcome: audit.Judge([]audit.Association{a}),
			Pages: 1, AuditedAt: at, Associations: []audit.Association{a}}
	}
	basePath := filepath.Join(t.TempDir(), audit.ResultsFile)
	w, err := audit.CreateRecord(basePath)
	if err != nil {
		t.Fatal(err)
	}
	still := result("i-000000000000000a2", audit.StatusFailed, datesBaseline)
	still.Associations[0].FirstSeenFailing = &firstFailing
	for _, r := range []audit.Result{result("i-000000000000000a1", audit.StatusSuccess, datesBaseline), still} {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	base, err := audit.OpenBaseline(basePath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { base.Close() })
	base.At = datesBaseline

	now := result("i-000000000000000a2", audit.StatusFailed, at)
	now.Associations[0].FirstSeenFailing = &firstFailing
	// A new failure is first seen failing when it is audited, as the run
	// marks it (audit.Baseline).
	newFailure := result("i-000000000000000a1", audit.StatusFailed, at)
	newFailure.Associations[0].FirstSeenFailing = &at
	results := []audit.Result{
		newFailure, now,
		result("i-000000000000000a3", audit.StatusSuccess, at), result("i-000000000000000a4", audit.StatusSuccess, at),
	}
	return report.Options{
		Dir: t.TempDir(), Records: openRecord(t, results), Baseline: base,
		Run:        audit.RunInfo{Version: "test", StartedAt: datesStart, EndedAt: datesStart.Add(2 * time.Minute), Complete: true},
		StaleAfter: audit.DefaultStaleAfter,
	}
}

// dateRE matches a date as the reports write one, with its time or without.
var dateRE = regexp.MustCompile(`\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?Z?)?`)

// unzoned returns the dates in s that do not say their zone: neither an
// RFC 3339 "Z" nor " UTC" after them.
func unzoned(s string) []string {
	var out []string
	for _, loc := range dateRE.FindAllStringIndex(s, -1) {
		d := s[loc[0]:loc[1]]
		if !strings.HasSuffix(d, "Z") && !strings.HasPrefix(s[loc[1]:], " UTC") {
			out = append(out, d)
		}
	}
	return out
}

// columnHeading returns the heading (th) of the column of the table cell
// that holds n, or "" when n is in no such cell.
func columnHeading(n *html.Node) string {
	td := n
	for td != nil && !(td.Type == html.ElementNode && td.Data == "td") {
		td = td.Parent
	}
	if td == nil {
		return ""
	}
	col := 0
	for s := td.PrevSibling; s != nil; s = s.PrevSibling {
		if s.Type == html.ElementNode && s.Data == "td" {
			col++
		}
	}
	table := owningTable(td)
	for _, e := range elements(table) {
		if e.Data != "tr" || owningTable(e) != table {
			continue
		}
		var ths []*html.Node
		for c := e.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode && c.Data == "th" {
				ths = append(ths, c)
			}
		}
		if len(ths) > col {
			return text(ths[col])
		}
	}
	return ""
}

// checkHTMLDatesZoned fails the test for each date in page's text that
// says no zone, unless its column's heading does ("Last run (UTC)").
func checkHTMLDatesZoned(t *testing.T, where string, page []byte) {
	t.Helper()
	n := 0
	for d := range parseHTML(t, page).Descendants() {
		if d.Type != html.TextNode {
			continue
		}
		n += len(dateRE.FindAllString(d.Data, -1))
		for _, date := range unzoned(d.Data) {
			if h := columnHeading(d); !strings.Contains(h, "(UTC)") {
				t.Errorf("%s: %q in %q names no zone (column %q)", where, date, strings.TrimSpace(d.Data), h)
			}
		}
	}
	if n == 0 {
		t.Errorf("%s shows no date: nothing checked", where)
	}
}

// TestDatesNameTheirZone: every date that report.html and both parts of
// the mail show says its zone, beside it or in its column's heading, as
// report.html has always done for its run's dates.
func TestDatesNameTheirZone(t *testing.T) {
	opts := datesOptions(t)
	checkHTMLDatesZoned(t, "report.html", renderHTML(t, opts))
	m, err := report.Build(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	h, x := mailBody(t, m, report.MailOptions{})
	checkHTMLDatesZoned(t, "the mail's HTML", []byte(h))
	if dates := dateRE.FindAllString(x, -1); len(dates) < 6 {
		t.Errorf("the mail's text shows %d dates, want the baseline's, 2 failures', 2 stale rows' and a first failure's:\n%s", len(dates), x)
	}
	for _, line := range strings.Split(x, "\n") {
		if d := unzoned(line); d != nil {
			t.Errorf("the mail's text: %q in %q names no zone", d, line)
		}
	}
}

// TestDatesToTheSecond: the execution dates of the failures and stale
// rows are shown to the second in report.html and both parts of the mail,
// so that executions seconds apart read apart; in HTML each is a <time>
// whose datetime and title are the date as stored, RFC 3339 to the
// millisecond.
func TestDatesToTheSecond(t *testing.T) {
	opts := datesOptions(t)
	m, err := report.Build(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	h, x := mailBody(t, m, report.MailOptions{})
	for _, page := range []struct {
		where  string
		raw    []byte
		tables []string
	}{
		{"report.html", renderHTML(t, opts), []string{"failures", "stale"}},
		{"the mail's HTML", []byte(h), []string{"mail-failures", "mail-stale"}},
	} {
		doc := parseHTML(t, page.raw)
		for _, id := range page.tables {
			table := byID(doc, id)
			if table == nil {
				t.Errorf("%s: no #%s", page.where, id)
				continue
			}
			rows := tableRows(table)
			if len(rows) != 2 {
				t.Errorf("%s #%s: %d rows, want 2", page.where, id, len(rows))
			}
			for _, row := range rows {
				id := strings.TrimSpace(text(row.FirstChild))
				want, ok := lastRun[id]
				if !ok {
					t.Errorf("%s: a row of %q", page.where, id)
					continue
				}
				var times []*html.Node
				for _, e := range elements(row) {
					if e.Data == "time" {
						times = append(times, e)
					}
				}
				if len(times) != 1 {
					t.Errorf("%s %s: %d <time> elements, want 1", page.where, id, len(times))
					continue
				}
				exact := want.Format("2006-01-02T15:04:05.000Z")
				dt, _ := attr(times[0], "datetime")
				title, _ := attr(times[0], "title")
				shown := want.Format(time.DateTime)
				if dt != exact || title != exact || text(times[0]) != shown {
					t.Errorf("%s %s: <time datetime=%q title=%q>%s</time>, want datetime and title %q, showing %q",
						page.where, id, dt, title, text(times[0]), exact, shown)
				}
			}
		}
	}
	for id, when := range lastRun {
		want := id + " (" + east + "): patch-baseline, "
		line := ""
		for _, l := range strings.Split(x, "\n") {
			if strings.Contains(l, want) {
				line = l
			}
		}
		if shown := "last run " + when.Format(time.DateTime) + " UTC"; !strings.HasSuffix(line, shown) {
			t.Errorf("the mail's text: %q, want it to end %q", line, shown)
		}
	}
}

// TestCSVDatesToTheMillisecond: every date in every CSV file is RFC 3339
// UTC with exactly the milliseconds, as the README says, even one taken
// from a clock with nanoseconds (first_seen_failing of a new failure is
// when it was audited).
func TestCSVDatesToTheMillisecond(t *testing.T) {
	opts := datesOptionsAuditedAt(t, datesStart.Add(time.Minute+123456789))
	opts.Formats = []report.Format{report.FormatCSV}
	paths, err := report.Render(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	rfc := regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$`)
	seen := 0
	for _, path := range paths {
		for _, rec := range readCSV(t, path) {
			for _, cell := range rec {
				m := rfc.FindStringSubmatch(cell)
				if m == nil {
					continue
				}
				seen++
				if len(m[1]) != 4 {
					t.Errorf("%s: date %q, want RFC 3339 UTC with milliseconds", filepath.Base(path), cell)
				}
			}
		}
	}
	if seen == 0 {
		t.Fatal("no date in the CSV files")
	}
}
