package report_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
)

// figure is a count of associations that a report states, and what it
// counts: "total", a Status ("Success", "Failed", "Pending"), or "other"
// (every other Status).
type figure struct {
	where string
	of    string
	n     int
}

// wantFigure is the test's own count (countFleet) of what f counts.
func wantFigure(tl tally, of string) int {
	switch of {
	case "total":
		return tl.associations
	case "other":
		n := 0
		for st, c := range tl.statuses {
			if st != audit.StatusSuccess && st != audit.StatusFailed && st != audit.StatusPending {
				n += c
			}
		}
		return n
	}
	return tl.statuses[of]
}

// countsFigures states c, the sum of some rows, as figures.
func countsFigures(where string, c audit.Counts) []figure {
	return []figure{
		{where + " total", "total", c.Total}, {where + " success", audit.StatusSuccess, c.Success},
		{where + " failed", audit.StatusFailed, c.Failed}, {where + " pending", audit.StatusPending, c.Pending},
		{where + " other", "other", c.Other},
	}
}

// totalsReaders read, from the files that one format wrote to dir, every
// count of associations the format states: a total, a tally by status, and
// the sums of its instance rows and of each label key's values.
var totalsReaders = map[report.Format]func(t *testing.T, dir string) []figure{
	report.FormatCSV:  csvFigures,
	report.FormatXLSX: xlsxFigures,
	report.FormatHTML: htmlFigures,
	report.FormatJSON: jsonFigures,
}

// TestTotalsAgree renders every fixture in every format and checks each
// count of associations the format states against the test's own count of
// the fixture: the total, the tally by status, the sum of the instance
// rows, and for each label key the sum of its values. One rule holds in
// all of them: an instance summarised from its association overview
// (--triage) counts its overview's associations, by the overview's
// statuses; the rows of an instance whose audit stopped partway count in
// none.
func TestTotalsAgree(t *testing.T) {
	for _, fx := range fixtures(t) {
		want := countFleet(fx.results, runStart.Add(-7*24*time.Hour))
		for _, f := range report.Formats() {
			t.Run(fx.name+"/"+string(f), func(t *testing.T) {
				read, ok := totalsReaders[f]
				if !ok {
					t.Fatalf("format %s: no reader of the counts it states", f)
				}
				opts := fx.options(t)
				opts.Formats = []report.Format{f}
				if _, err := report.Render(context.Background(), opts); err != nil {
					t.Fatal(err)
				}
				checkFigures(t, read(t, opts.Dir), want)
			})
		}
		t.Run(fx.name+"/mail", func(t *testing.T) {
			h, x := mailBody(t, buildModel(t, fx.results, fx.run), report.MailOptions{})
			figs := basisFigures(t, "mail HTML", []byte(h))
			m := regexp.MustCompile(`(?:in the list|in the record|with a result), ([\d,]+) associations?, `).FindStringSubmatch(x)
			if m == nil {
				t.Fatalf("the mail's text states no total of associations:\n%s", x)
			}
			figs = append(figs, figure{"mail text", "total", atoi(t, m[1])})
			checkFigures(t, figs, want)
		})
	}
}

func checkFigures(t *testing.T, figs []figure, want tally) {
	t.Helper()
	if len(figs) == 0 {
		t.Fatal("no count of associations read")
	}
	for _, f := range figs {
		if w := wantFigure(want, f.of); f.n != w {
			t.Errorf("%s: %d, want %d", f.where, f.n, w)
		}
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.ReplaceAll(s, ",", ""))
	if err != nil {
		t.Fatalf("%q is not a count: %v", s, err)
	}
	return n
}

// csvFigures sums the columns of instances.csv over its rows that are not
// partial.
func csvFigures(t *testing.T, dir string) []figure {
	recs := readCSV(t, filepath.Join(dir, report.InstancesCSV))
	col := func(name string) int {
		i := slices.Index(recs[0], name)
		if i < 0 {
			t.Fatalf("instances.csv has no column %q", name)
		}
		return i
	}
	var c audit.Counts
	for _, r := range recs[1:] {
		if r[col("partial")] == "true" {
			continue
		}
		c.Merge(audit.Counts{Total: atoi(t, r[col("associations")]), Success: atoi(t, r[col("success")]),
			Failed: atoi(t, r[col("failed")]), Pending: atoi(t, r[col("pending")]), Other: atoi(t, r[col("other")])})
	}
	return countsFigures("instances.csv, sum of the rows:", c)
}

// xlsxFigures reads the key figure on Summary and sums the Instances sheet
// over its rows that are not partial.
func xlsxFigures(t *testing.T, dir string) []figure {
	f, err := excelize.OpenFile(filepath.Join(dir, report.XLSXFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var figs []figure
	for _, row := range sheetRows(t, f, "Summary") {
		if len(row) > 1 && row[0] == "Associations of audited instances" {
			figs = append(figs, figure{"report.xlsx Summary: " + row[0], "total", atoi(t, row[1])})
		}
	}
	if len(figs) != 1 {
		t.Errorf("report.xlsx Summary states the associations %d times, want once", len(figs))
	}
	rows := sheetRows(t, f, "Instances")
	col := func(name string) int {
		i := slices.Index(rows[0], name)
		if i < 0 {
			t.Fatalf("Instances has no column %q", name)
		}
		return i
	}
	var c audit.Counts
	for _, r := range rows[1:] {
		if r[col("Partial")] == "yes" {
			continue
		}
		c.Merge(audit.Counts{Total: atoi(t, r[col("Associations")]), Success: atoi(t, r[col("Success")]),
			Failed: atoi(t, r[col("Failed")]), Pending: atoi(t, r[col("Pending")]), Other: atoi(t, r[col("Other")])})
	}
	return append(figs, countsFigures("report.xlsx Instances, sum of the rows:", c)...)
}

func htmlFigures(t *testing.T, dir string) []figure {
	b, err := os.ReadFile(filepath.Join(dir, report.HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	return basisFigures(t, "report.html", b)
}

// basisFigures reads the total of associations in the line under the
// headline (#basis) of report.html or a mail.
func basisFigures(t *testing.T, where string, page []byte) []figure {
	t.Helper()
	basis := byID(parseHTML(t, page), "basis")
	if basis == nil {
		t.Fatalf("%s has no #basis", where)
	}
	m := regexp.MustCompile(`([\d,]+) associations?\b`).FindStringSubmatch(text(basis))
	if m == nil {
		t.Fatalf("%s #basis states no total of associations: %q", where, text(basis))
	}
	return []figure{{where + " #basis", "total", atoi(t, m[1])}}
}

// jsonFigures reads totals.associations, statuses, and the sums of each
// label key's values in summary.json.
func jsonFigures(t *testing.T, dir string) []figure {
	b, err := os.ReadFile(filepath.Join(dir, report.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	var sum struct {
		Totals struct {
			Associations int `json:"associations"`
		} `json:"totals"`
		Statuses []report.NameCount `json:"statuses"`
		Labels   []struct {
			Key    string `json:"key"`
			Values []struct {
				Associations audit.Counts `json:"associations"`
			} `json:"values"`
		} `json:"labels"`
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	figs := []figure{{"summary.json totals.associations", "total", sum.Totals.Associations}}
	var byStatus audit.Counts
	for _, s := range sum.Statuses {
		for range s.Count {
			byStatus.Add(audit.Association{Status: s.Name}, false)
		}
	}
	figs = append(figs, countsFigures("summary.json statuses", byStatus)...)
	for _, lb := range sum.Labels {
		var c audit.Counts
		for _, v := range lb.Values {
			c.Merge(v.Associations)
		}
		figs = append(figs, countsFigures("summary.json labels["+strconv.Quote(lb.Key)+"], sum of the values:", c)...)
	}
	return figs
}

// TestOverviewNotes: a --triage report says what its instances summarised
// from their overview are, by their actual outcomes (compliant or with no
// associations, not all "compliant"), and that the tables by association
// leave their associations out; a report without them says neither.
func TestOverviewNotes(t *testing.T) {
	for _, tt := range []struct {
		fixture string
		want    []string // in the note over the page (and the mail's text)
		byAssoc string   // under By association
	}{
		{"triage", []string{"4 instances are summarised from SSM's association overview", "3 compliant (every association succeeded), 1 with no associations",
			"Their 10 associations are counted from the overview"}, "the 10 counted from SSM's overview (--triage) are not"},
		{"mixed", nil, ""},
	} {
		t.Run(tt.fixture, func(t *testing.T) {
			fx := fixtureNamed(t, tt.fixture)
			doc := parseHTML(t, renderHTML(t, fx.options(t)))
			_, x := mailBody(t, buildModel(t, fx.results, fx.run), report.MailOptions{})
			for _, part := range []struct {
				where, note, byAssoc string
				hasNote              bool
			}{
				{where: "report.html", hasNote: byID(doc, "overview-note") != nil},
				{where: "the mail's text", hasNote: strings.Contains(x, "summarised from SSM's association overview")},
			} {
				if part.hasNote != (tt.want != nil) {
					t.Errorf("%s: a note of the instances summarised from their overview: %v, want %v", part.where, part.hasNote, tt.want != nil)
				}
			}
			note := byID(doc, "overview-note")
			for _, w := range tt.want {
				if got := strings.Join(strings.Fields(text(note)), " "); !strings.Contains(got, w) {
					t.Errorf("report.html #overview-note %q does not say %q", got, w)
				}
				if !strings.Contains(x, w) {
					t.Errorf("the mail's text does not say %q:\n%s", w, x)
				}
			}
			f, _ := renderXLSX(t, fx)
			summary := strings.Join(slices.Concat(sheetRows(t, f, "Summary")...), "\n")
			wantXLSX := "the 10 counted from the association overview (--triage) are in none of them"
			if got := strings.Contains(summary, wantXLSX); got != (tt.byAssoc != "") {
				t.Errorf("report.xlsx Summary says %q: %v, want %v", wantXLSX, got, tt.byAssoc != "")
			}
			by := byID(doc, "associations-overview")
			switch {
			case tt.byAssoc == "" && by != nil:
				t.Errorf("By association says %q with no instance summarised from its overview", text(by))
			case tt.byAssoc != "" && by == nil:
				t.Error("By association does not say that it leaves out the associations counted from overviews")
			case tt.byAssoc != "" && !strings.Contains(text(by), tt.byAssoc):
				t.Errorf("By association says %q, want %q", text(by), tt.byAssoc)
			}
		})
	}
}
