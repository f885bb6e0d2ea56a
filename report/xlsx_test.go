package report_test

import (
	"archive/zip"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/xuri/excelize/v2"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/internal/atomicfile"
	"github.com/auditor-dev/auditor/report"
)

// The fixed columns of the list sheets, written out here rather than taken
// from the package so that a change of header is a deliberate change of test.
// The label columns go after Instance (see withLabelHeaders).
var (
	xlsxAssociationHeader = []string{
		"Account", "Region", "Instance", "Association", "Association ID", "Association name",
		"Association version", "Document", "Document version", "Status", "Detailed status",
		"Execution date (UTC)", "Stale", "Error code", "Failure", "Execution summary", "Output URL", "Partial",
	}
	// Failures lists no partial row: it has no Partial column.
	xlsxFailureHeader  = xlsxAssociationHeader[:len(xlsxAssociationHeader)-1]
	xlsxInstanceHeader = []string{
		"Account", "Region", "Instance", "Outcome", "Associations", "Success", "Failed",
		"Pending", "Other", "Stale", "Failures", "Partial", "Error code", "Error message",
		"Source", "Audited at (UTC)", "Detail", "Ping status", "Agent version",
	}
	xlsxProblemHeader = []string{
		"Account", "Region", "Instance", "Outcome", "Code", "Message", "Source",
	}
	xlsxErrorCodeHeader = []string{
		"Failure", "Error code", "Failed associations", "Instances", "Association names", "Example instances",
	}
	xlsxGroupHeader = []string{
		"Association", "Document", "Instances", "Associations", "Success", "Failed",
		"Pending", "Other", "Stale", "Success %", "Grouped by (name or ID)",
	}
	xlsxLabelHeader = []string{
		"Label", "Value", "Instances", "Audited", "Non-compliant % of audited", "Compliant", "Non-compliant",
		"Pending", "No associations", "Not managed", "Error", "Invalid input", "Failed associations", "Stale associations",
	}
)

// withLabelHeaders returns a list sheet's header with the label keys after
// Instance.
func withLabelHeaders(fixed, keys []string) []string {
	return slices.Concat(fixed[:3], keys, fixed[3:])
}

// colOf returns the 1-based column of the header name on sheet.
func colOf(t *testing.T, f *excelize.File, sheet, name string) int {
	t.Helper()
	rows := sheetRows(t, f, sheet)
	i := slices.Index(rows[0], name)
	if i < 0 {
		t.Fatalf("%s has no column %q: %q", sheet, name, rows[0])
	}
	return i + 1
}

// renderXLSX renders fx with the XLSX writer alone and opens the workbook.
func renderXLSX(t *testing.T, fx fixture) (*excelize.File, string) {
	t.Helper()
	dir, paths, err := writeXLSX(t, fx)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	want := filepath.Join(dir, report.XLSXFile)
	if len(paths) != 1 || paths[0] != want {
		t.Fatalf("Write returned %q, want [%q]", paths, want)
	}
	f, err := excelize.OpenFile(want)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f, want
}

// writeXLSX builds fx's Model and writes its workbook, returning the
// directory, the paths written and the Writer's error.
func writeXLSX(t *testing.T, fx fixture) (string, []string, error) {
	t.Helper()
	opts := fx.options(t)
	ctx := context.Background()
	m, err := report.Build(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	w, err := report.NewWriter(report.FormatXLSX, opts)
	if err != nil {
		t.Fatal(err)
	}
	paths, err := w.Write(ctx, m, opts.Records, opts.Dir)
	return opts.Dir, paths, err
}

// fixtureCounts counts, from the fixture's results and independently of the
// report package, the rows each list sheet must have.
type fixtureCounts struct {
	instances, associations, failures, problems, codes, groups int
	labelKeys                                                  []string
}

func countFixture(fx fixture) fixtureCounts {
	var c fixtureCounts
	codes, groups, keys := map[string]bool{}, map[[2]string]bool{}, map[string]bool{}
	for _, r := range fx.results {
		c.instances++
		for k := range r.Labels {
			keys[k] = true
		}
		switch r.Outcome {
		case audit.OutcomeNotManaged, audit.OutcomeError, audit.OutcomeInvalid:
			c.problems++
		}
		c.associations += len(r.Associations)
		if r.Outcome == audit.OutcomeError {
			continue // partial rows: on Associations only
		}
		for _, a := range r.Associations {
			name := cmp.Or(a.AssociationName, a.AssociationID)
			groups[[2]string{name, cmp.Or(a.Name, report.None)}] = true
			if a.Status == audit.StatusFailed {
				c.failures++
				codes[failureKey(a)] = true
			}
		}
	}
	c.codes, c.groups = len(codes), len(groups)
	c.labelKeys = slices.Sorted(maps.Keys(keys))
	return c
}

// sheetRows returns the rows of a sheet, failing the test on error.
func sheetRows(t *testing.T, f *excelize.File, sheet string) [][]string {
	t.Helper()
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatalf("GetRows(%s): %v", sheet, err)
	}
	return rows
}

func cellName(t *testing.T, col, row int) string {
	t.Helper()
	name, err := excelize.CoordinatesToCellName(col, row)
	if err != nil {
		t.Fatal(err)
	}
	return name
}

func TestXLSXSheetsHeadersAndCounts(t *testing.T) {
	for _, fx := range fixtures(t) {
		t.Run(fx.name, func(t *testing.T) {
			f, _ := renderXLSX(t, fx)
			c := countFixture(fx)
			wantSheets := []string{"Summary", "Failures", "Error codes", "By association", "Instances", "Associations", "Problems"}
			if len(c.labelKeys) > 0 {
				wantSheets = slices.Insert(wantSheets, 4, "By label")
			}
			if got := f.GetSheetList(); !slices.Equal(got, wantSheets) {
				t.Fatalf("sheets = %q, want %q", got, wantSheets)
			}
			type sheetCase struct {
				sheet  string
				header []string
				rows   int
			}
			cases := []sheetCase{
				{"Failures", withLabelHeaders(xlsxFailureHeader, c.labelKeys), c.failures},
				{"Error codes", xlsxErrorCodeHeader, c.codes},
				{"By association", xlsxGroupHeader, c.groups},
				{"Instances", withLabelHeaders(xlsxInstanceHeader, c.labelKeys), c.instances},
				{"Associations", withLabelHeaders(xlsxAssociationHeader, c.labelKeys), c.associations},
				{"Problems", withLabelHeaders(xlsxProblemHeader, c.labelKeys), c.problems},
			}
			if len(c.labelKeys) > 0 {
				// One row per value of each key, and one for the instances
				// without it.
				n := 0
				for _, k := range c.labelKeys {
					values, lacking := map[string]bool{}, false
					for _, r := range fx.results {
						v, ok := r.Labels[k]
						if !ok || v == "" {
							lacking = true
							continue
						}
						values[v] = true
					}
					n += len(values)
					if lacking {
						n++
					}
				}
				cases = append(cases, sheetCase{"By label", xlsxLabelHeader, n})
			}
			for _, tc := range cases {
				rows := sheetRows(t, f, tc.sheet)
				if len(rows) == 0 {
					t.Errorf("%s: no header row", tc.sheet)
					continue
				}
				if !slices.Equal(rows[0], tc.header) {
					t.Errorf("%s header =\n%q\nwant\n%q", tc.sheet, rows[0], tc.header)
				}
				if got := len(rows) - 1; got != tc.rows {
					t.Errorf("%s has %d rows, want %d", tc.sheet, got, tc.rows)
				}
				panes, err := f.GetPanes(tc.sheet)
				if err != nil || !panes.Freeze || panes.YSplit != 1 || panes.TopLeftCell != "A2" {
					t.Errorf("%s panes = %+v, %v; want the header row frozen", tc.sheet, panes, err)
				}
				style, err := f.GetCellStyle(tc.sheet, "A1")
				if err != nil {
					t.Fatal(err)
				}
				if st, err := f.GetStyle(style); err != nil || st.Font == nil || !st.Font.Bold {
					t.Errorf("%s A1 style = %+v, %v; want bold", tc.sheet, st, err)
				}
			}
			checkAutoFilters(t, f)
		})
	}
}

// checkAutoFilters checks that every list sheet has an autofilter over its
// header and all its rows.
func checkAutoFilters(t *testing.T, f *excelize.File) {
	t.Helper()
	filters := map[string]string{}
	for _, dn := range f.GetDefinedName() {
		if dn.Name == "_xlnm._FilterDatabase" {
			filters[dn.Scope] = dn.RefersTo
		}
	}
	for _, sheet := range f.GetSheetList()[1:] {
		rows := sheetRows(t, f, sheet)
		last, err := excelize.ColumnNumberToName(len(rows[0]))
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("'%s'!$A$1:$%s$%d", sheet, last, len(rows))
		if got := filters[sheet]; got != want {
			t.Errorf("autofilter of %s = %q, want %q", sheet, got, want)
		}
	}
}

// TestXLSXFailuresStreamed checks that Failures lists every failed
// association, not the Model's capped list.
func TestXLSXFailuresStreamed(t *testing.T) {
	n := report.MinListRows + 5
	var results []audit.Result
	for i := range n {
		results = append(results, audit.Result{
			AccountID: acct1, Region: east, InstanceID: fmt.Sprintf("i-%017x", i), Outcome: audit.OutcomeNoncompliant,
			AuditedAt: runStart,
			Associations: []audit.Association{{
				AssociationID: "a-1", Name: "doc", ExecutionDate: at(fresh), Status: audit.StatusFailed, ErrorCode: "E",
			}},
		})
	}
	f, _ := renderXLSX(t, fixture{name: "many", run: fixtureRun(), results: results})
	rows := sheetRows(t, f, "Failures")
	if got := len(rows) - 1; got != n {
		t.Fatalf("Failures has %d rows, want %d", got, n)
	}
	if got, want := rows[n][2], fmt.Sprintf("i-%017x", n-1); got != want {
		t.Errorf("last failure is %q, want %q", got, want)
	}
}

func TestXLSXHostileTextStaysText(t *testing.T) {
	fx := fixtureNamed(t, "hostile")
	f, _ := renderXLSX(t, fx)

	// No cell of any sheet is a formula.
	cells := 0
	for _, sheet := range f.GetSheetList() {
		for r, row := range sheetRows(t, f, sheet) {
			for c := range row {
				ref := cellName(t, c+1, r+1)
				formula, err := f.GetCellFormula(sheet, ref)
				if err != nil {
					t.Fatal(err)
				}
				typ, err := f.GetCellType(sheet, ref)
				if err != nil {
					t.Fatal(err)
				}
				if formula != "" || typ == excelize.CellTypeFormula {
					t.Errorf("%s!%s is a formula %q (type %v)", sheet, ref, formula, typ)
				}
				cells++
			}
		}
	}
	if cells < 1000 {
		t.Fatalf("only %d cells checked", cells)
	}

	// Every hostile value comes back exactly, as a text cell, in every
	// column of its association rows.
	rows := sheetRows(t, f, "Associations")
	hostile := hostileValues()
	found := map[string]bool{}
	cols := map[string]int{}
	for _, name := range []string{"Account", "Region", "Association ID", "Association name", "Association version", "Document",
		"Document version", "Detailed status", "Error code", "Failure", "Execution summary", "Output URL"} {
		cols[name] = colOf(t, f, "Associations", name)
	}
	failureURL := colOf(t, f, "Failures", "Output URL")
	for r, row := range rows[1:] {
		h := row[cols["Association ID"]-1]
		if !slices.Contains(hostile, h) {
			continue
		}
		found[h] = true
		for _, col := range cols {
			ref := cellName(t, col, r+2)
			got, err := f.GetCellValue("Associations", ref)
			if err != nil {
				t.Fatal(err)
			}
			if got != h {
				t.Errorf("Associations!%s = %q, want %q", ref, got, h)
			}
			typ, _ := f.GetCellType("Associations", ref)
			if typ != excelize.CellTypeInlineString {
				t.Errorf("Associations!%s (%q) has type %v, want an inline string", ref, h, typ)
			}
		}
		if ok, target, _ := f.GetCellHyperLink("Associations", cellName(t, cols["Output URL"], r+2)); ok {
			t.Errorf("Associations: %q is a link to %q", h, target)
		}
	}
	for _, h := range hostile {
		if !found[h] {
			t.Errorf("Associations has no row for %q", h)
		}
	}

	// Hostile output URLs are never links on Failures either.
	for r := range sheetRows(t, f, "Failures")[1:] {
		if ok, target, _ := f.GetCellHyperLink("Failures", cellName(t, failureURL, r+2)); ok {
			t.Errorf("Failures row %d links to %q", r+2, target)
		}
	}

	// Hostile text on Summary (run version, error, options) stays text too.
	summary := strings.Join(slices.Concat(sheetRows(t, f, "Summary")...), "\x00")
	for _, h := range []string{hostile[0], hostile[4], hostile[1]} {
		if !strings.Contains(summary, h) {
			t.Errorf("Summary does not show %q", h)
		}
	}
}

func TestXLSXLinks(t *testing.T) {
	urls := []struct {
		url  string
		link bool
	}{
		{"https://s3.amazonaws.com/bucket/key", true},
		{"http://example.com/out?x=1&y=2", true},
		{"s3://bucket/prefix/i-1/stdout", true},
		{"HTTPS://EXAMPLE.COM/UPPER", true},
		{"javascript:alert(document.domain)", false},
		{"JavaScript://example.com/%0aalert(1)", false},
		{"data:text/html,<script>alert(1)</script>", false},
		{"file:///etc/passwd", false},
		{"ftp://example.com/x", false},
		{"//example.com/no-scheme", false},
		// The login is no part of the URL shown, which is then the link
		// it shows: nothing to mislead with.
		{"https://user:pass@evil.example/", true},
		{" https://leading.space/", false},
		{"\thttps://leading.tab/", false},
		{"https:///no-host", false},
		{"not a url", false},
		{"https://example.com/" + strings.Repeat("a", 3000), false},
	}
	var assocs []audit.Association
	for i, u := range urls {
		assocs = append(assocs, audit.Association{
			AssociationID: fmt.Sprintf("a-%02d", i), Name: "doc", ExecutionDate: at(fresh),
			Status: audit.StatusFailed, OutputURL: s3(u.url),
		})
	}
	fx := fixture{name: "links", run: fixtureRun(), results: []audit.Result{{
		AccountID: acct1, Region: east, InstanceID: "i-00000000000000001", Outcome: audit.OutcomeNoncompliant,
		AuditedAt: runStart, Associations: assocs,
	}}}
	f, _ := renderXLSX(t, fx)
	colOutputURL := colOf(t, f, "Failures", "Output URL")
	// The URL as the workbook shows it, where it is not the one given.
	shown := map[string]string{"https://user:pass@evil.example/": "https://evil.example/"}
	for i, u := range urls {
		if s, ok := shown[u.url]; ok {
			u.url = s
		}
		ref := cellName(t, colOutputURL, i+2)
		text, _ := f.GetCellValue("Failures", ref)
		if text != u.url {
			t.Errorf("Failures!%s = %q, want %q", ref, text, u.url)
		}
		ok, target, err := f.GetCellHyperLink("Failures", ref)
		if err != nil {
			t.Fatal(err)
		}
		if ok != u.link {
			t.Errorf("%q: link = %v (target %q), want %v", u.url, ok, target, u.link)
		}
		if ok && !strings.EqualFold(target, u.url) {
			t.Errorf("%q links to %q", u.url, target)
		}
		// Associations shows the same URLs as text only.
		if ok, target, _ := f.GetCellHyperLink("Associations", ref); ok {
			t.Errorf("Associations!%s links to %q", ref, target)
		}
	}
}

func TestXLSXLinkCap(t *testing.T) {
	report.SetXLSXLimits(t, excelize.TotalRows, 3)
	var assocs []audit.Association
	for i := range 5 {
		assocs = append(assocs, audit.Association{
			AssociationID: fmt.Sprintf("a-%d", i), Status: audit.StatusFailed,
			OutputURL: s3(fmt.Sprintf("https://example.com/%d", i)),
		})
	}
	f, _ := renderXLSX(t, fixture{name: "cap", run: fixtureRun(), results: []audit.Result{{
		AccountID: acct1, Region: east, InstanceID: "i-00000000000000001", Outcome: audit.OutcomeNoncompliant,
		Associations: assocs,
	}}})
	var links []bool
	colOutputURL := colOf(t, f, "Failures", "Output URL")
	for i := range 5 {
		ok, _, _ := f.GetCellHyperLink("Failures", cellName(t, colOutputURL, i+2))
		links = append(links, ok)
	}
	if want := []bool{true, true, true, false, false}; !slices.Equal(links, want) {
		t.Errorf("links = %v, want %v", links, want)
	}
	summary := strings.Join(slices.Concat(sheetRows(t, f, "Summary")...), "\n")
	if want := "Failures: 2 output URLs past the first 3 of a sheet are text, not links."; !strings.Contains(summary, want) {
		t.Errorf("Summary does not say %q", want)
	}
}

func TestXLSXDates(t *testing.T) {
	// A date recorded with a zone offset must come out in UTC.
	kolkata := time.FixedZone("IST", 5*3600+1800)
	zoned := time.Date(2025, 6, 1, 15, 30, 45, 928e6, kolkata) // SSM serves milliseconds
	fx := fixture{name: "dates", run: fixtureRun(), results: []audit.Result{{
		AccountID: acct1, Region: east, InstanceID: "i-00000000000000001", Outcome: audit.OutcomeNoncompliant,
		AuditedAt: runStart,
		Associations: []audit.Association{
			{AssociationID: "a-1", ExecutionDate: at(zoned), Status: audit.StatusSuccess},
			{AssociationID: "a-2", ExecutionDate: at(old), Status: audit.StatusFailed},
			{AssociationID: "a-3", Status: audit.StatusPending},
			// A finer fraction than SSM serves is cut, as in the CSV, never
			// rounded up to the next second.
			{AssociationID: "a-4", ExecutionDate: at(time.Date(2025, 11, 21, 18, 11, 19, 999_900_000, time.UTC)), Status: audit.StatusSuccess},
		},
	}}}
	f, _ := renderXLSX(t, fx)
	colStale, colExecDate := colOf(t, f, "Associations", "Stale"), colOf(t, f, "Associations", "Execution date (UTC)")
	// Stale: before the run's start less 7 days (the default), or undated.
	for row, want := range map[int]string{2: "no", 3: "yes", 4: "yes", 5: "no"} {
		ref := cellName(t, colStale, row)
		if got, _ := f.GetCellValue("Associations", ref); got != want {
			t.Errorf("Associations!%s (Stale) = %q, want %q", ref, got, want)
		}
	}
	for _, tc := range []struct {
		sheet string
		ref   string
		want  time.Time // zero: an empty cell
	}{
		{"Associations", cellName(t, colExecDate, 2), zoned.UTC()},
		{"Associations", cellName(t, colExecDate, 3), old},
		{"Associations", cellName(t, colExecDate, 4), time.Time{}},
		{"Associations", cellName(t, colExecDate, 5), time.Date(2025, 11, 21, 18, 11, 19, 999e6, time.UTC)},
		{"Failures", cellName(t, colExecDate, 2), old},
		{"Instances", cellName(t, colOf(t, f, "Instances", "Audited at (UTC)"), 2), runStart},
		// The run's own dates, on Summary, are dates too: a sheet that
		// sorts or subtracts them must not meet text.
		{"Summary", "B" + strconv.Itoa(rowOf(t, f, "Summary", "Started (UTC)")), runStart},
		{"Summary", "B" + strconv.Itoa(rowOf(t, f, "Summary", "Ended (UTC)")), runStart.Add(95 * time.Second)},
	} {
		raw, err := f.GetCellValue(tc.sheet, tc.ref, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		if tc.want.IsZero() {
			if raw != "" {
				t.Errorf("%s!%s = %q, want empty", tc.sheet, tc.ref, raw)
			}
			continue
		}
		serial, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			t.Errorf("%s!%s = %q, not a date serial: %v", tc.sheet, tc.ref, raw, err)
			continue
		}
		// The serial counts days since 1899-12-30 (Excel's 1900 system past
		// February 1900). excelize reads dates back to the second only, so
		// the test converts it itself, to the millisecond SSM serves.
		got := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC).Add(time.Duration(serial * float64(24*time.Hour))).Round(time.Millisecond)
		if !got.Equal(tc.want) {
			t.Errorf("%s!%s = %v, want %v", tc.sheet, tc.ref, got, tc.want)
		}
		typ, _ := f.GetCellType(tc.sheet, tc.ref)
		if typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
			t.Errorf("%s!%s has type %v, want a number", tc.sheet, tc.ref, typ)
		}
		style, _ := f.GetCellStyle(tc.sheet, tc.ref)
		st, err := f.GetStyle(style)
		if err != nil {
			t.Fatal(err)
		}
		if st.CustomNumFmt == nil || *st.CustomNumFmt != "yyyy-mm-dd hh:mm:ss.000" {
			t.Errorf("%s!%s number format = %v, want yyyy-mm-dd hh:mm:ss.000", tc.sheet, tc.ref, st.CustomNumFmt)
		}
	}
}

// rowOf returns the first row of sheet whose column A reads label.
func rowOf(t *testing.T, f *excelize.File, sheet, label string) int {
	t.Helper()
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		if len(r) > 0 && r[0] == label {
			return i + 1
		}
	}
	t.Fatalf("%s has no row %q", sheet, label)
	return 0
}

// hasFill reports whether the cell's style has a pattern fill.
func hasFill(t *testing.T, f *excelize.File, sheet, ref string) bool {
	t.Helper()
	id, err := f.GetCellStyle(sheet, ref)
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	return st.Fill.Pattern != 0 && len(st.Fill.Color) > 0
}

func TestXLSXFailedRowsHighlighted(t *testing.T) {
	f, _ := renderXLSX(t, fixtureNamed(t, "mixed"))
	for _, tc := range []struct {
		sheet  string
		column string
		// failed tells a highlighted row from the value of the column.
		failed func(string) bool
	}{
		{"Associations", "Status", func(s string) bool { return s == audit.StatusFailed }},
		{"Instances", "Outcome", func(s string) bool { return s == "Non-compliant" }},
	} {
		tc := struct {
			sheet  string
			col    int
			failed func(string) bool
		}{tc.sheet, colOf(t, f, tc.sheet, tc.column), tc.failed}
		rows := sheetRows(t, f, tc.sheet)
		var nFailed int
		for r, row := range rows[1:] {
			want := tc.failed(row[tc.col-1])
			if want {
				nFailed++
			}
			// Every cell of the row, the empty ones and the date included.
			for c := range rows[0] {
				ref := cellName(t, c+1, r+2)
				if got := hasFill(t, f, tc.sheet, ref); got != want {
					t.Errorf("%s!%s (%q): filled = %v, want %v", tc.sheet, ref, row[tc.col-1], got, want)
				}
			}
		}
		if nFailed == 0 || nFailed == len(rows)-1 {
			t.Errorf("%s: %d of %d rows failed: the fixture does not test highlighting", tc.sheet, nFailed, len(rows)-1)
		}
	}
}

func TestXLSXLabelColumns(t *testing.T) {
	fx := fixture{name: "labels", run: fixtureRun(), results: []audit.Result{{
		AccountID: acct1, Region: east, InstanceID: "i-00000000000000001", Outcome: audit.OutcomeNoAssociations,
		Labels: map[string]string{"Region": "r-upper", "region": "r-lower", "owner": "web", "Outcome": "o"},
	}}}
	f, _ := renderXLSX(t, fx)
	rows := sheetRows(t, f, "Instances")
	// Keys in byte order: Outcome, Region, owner, region, right after the
	// instance ID. A key that is also a fixed column (whatever its case) is
	// prefixed until unique.
	wantHeader := []string{"label: Outcome", "label: Region", "owner", "label: label: region"}
	wantValues := []string{"o", "r-upper", "web", "r-lower"}
	if got := rows[0][3:7]; !slices.Equal(got, wantHeader) {
		t.Errorf("label headers = %q, want %q", got, wantHeader)
	}
	if got := rows[1][3:7]; !slices.Equal(got, wantValues) {
		t.Errorf("label values = %q, want %q", got, wantValues)
	}
	if got := rows[0][7]; got != "Outcome" {
		t.Errorf("after the labels comes %q, want Outcome", got)
	}
	if got := rows[1][1]; got != east {
		t.Errorf("Region = %q, want %q", got, east)
	}
}

// TestXLSXLabelColumnsAfterInstance: on every list sheet of an instance,
// Changes included, the label columns come right after the instance ID, as
// the README says: Changes put them before it, after Region.
func TestXLSXLabelColumnsAfterInstance(t *testing.T) {
	labels := map[string]string{"owner": "web", "env": "prod"}
	keys := []string{"env", "owner"}
	dir := renderChangesOf(t, labels, report.FormatXLSX)
	f, err := excelize.OpenFile(filepath.Join(dir, report.XLSXFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, sheet := range []string{"Changes", "Failures", "Instances", "Associations", "Problems"} {
		header := sheetRows(t, f, sheet)[0]
		i := slices.Index(header, "Instance")
		if i < 0 || !slices.Equal(header[i+1:min(i+1+len(keys), len(header))], keys) {
			t.Errorf("%s header %q: want the label columns %q right after Instance", sheet, header, keys)
		}
	}
	rows := sheetRows(t, f, "Changes")
	wantHeader := []string{"Change", "Account", "Region", "Instance", "env", "owner", "Association", "Association ID", "Document",
		"Status before", "Status now", "Error code", "First seen failing (UTC)", "Error code before"}
	if !slices.Equal(rows[0], wantHeader) {
		t.Errorf("Changes header\n%q\nwant\n%q", rows[0], wantHeader)
	}
	if len(rows) != 2 || len(rows[1]) < 6 || !slices.Equal(rows[1][:6], []string{"New failure", "", east, "i-0000000000000000a", "prod", "web"}) {
		t.Errorf("Changes rows %q, want one new failure of i-0000000000000000a with its labels after it", rows[1:])
	}
}

func TestXLSXLongTextCut(t *testing.T) {
	exact := strings.Repeat("y", 32767)
	long := strings.Repeat("x", 40000)
	// 20,000 emoji are 40,000 UTF-16 code units: Excel's limit counts those.
	emoji := strings.Repeat("🔥", 20000)
	fx := fixture{name: "long", run: fixtureRun(), results: []audit.Result{{
		AccountID: acct1, Region: east, InstanceID: "i-00000000000000001", Outcome: audit.OutcomeNoncompliant,
		Associations: []audit.Association{
			{AssociationID: "a-1", Status: audit.StatusFailed, ExecutionSummary: long},
			{AssociationID: "a-2", Status: audit.StatusFailed, ExecutionSummary: exact},
			{AssociationID: "a-3", Status: audit.StatusFailed, ExecutionSummary: emoji},
		},
	}}}
	f, _ := renderXLSX(t, fx)
	for _, sheet := range []string{"Associations", "Failures"} {
		colSummary := colOf(t, f, sheet, "Execution summary")
		for _, tc := range []struct {
			row          int
			prefix, tail string
		}{
			{2, "xxxx", "… [cut: 40000 characters]"},
			{3, exact, ""},
			{4, "🔥🔥", "… [cut: 20000 characters]"},
		} {
			ref := cellName(t, colSummary, tc.row)
			got, err := f.GetCellValue(sheet, ref)
			if err != nil {
				t.Fatal(err)
			}
			units := len(utf16.Encode([]rune(got)))
			if units > 32767 {
				t.Errorf("%s!%s has %d UTF-16 units, past Excel's 32767", sheet, ref, units)
			}
			if !strings.HasPrefix(got, tc.prefix) || !strings.HasSuffix(got, tc.tail) {
				t.Errorf("%s!%s = %.20q…%q (%d units), want %.20q…%q", sheet, ref, got, got[max(0, len(got)-40):], units, tc.prefix, tc.tail)
			}
			if tc.tail == "" && got != tc.prefix {
				t.Errorf("%s!%s: a text of exactly 32767 characters was changed", sheet, ref)
			}
			if tc.tail != "" && units < 32767-2 {
				t.Errorf("%s!%s: cut to %d units, want as much as fits", sheet, ref, units)
			}
		}
	}
}

func TestXLSXSplitsLongLists(t *testing.T) {
	fx := fixtureNamed(t, "mixed")
	whole, _ := renderXLSX(t, fx)

	report.SetXLSXLimits(t, 6, 2000) // a header and 5 rows per sheet
	split, _ := renderXLSX(t, fx)
	c := countFixture(fx)
	parts := func(n int) int { return max((n+4)/5, 1) }
	var want []string
	for _, l := range []struct {
		name string
		n    int
	}{
		{"Summary", 1}, {"Failures", c.failures}, {"Error codes", c.codes}, {"By association", c.groups},
		{"By label", len(sheetRows(t, whole, "By label")) - 1},
		{"Instances", c.instances}, {"Associations", c.associations}, {"Problems", c.problems},
	} {
		want = append(want, l.name)
		if l.name == "Summary" {
			continue
		}
		for i := 2; i <= parts(l.n); i++ {
			want = append(want, fmt.Sprintf("%s (%d)", l.name, i))
		}
	}
	got := split.GetSheetList()
	if !slices.Equal(got, want) {
		t.Fatalf("sheets = %q, want %q", got, want)
	}
	if !slices.Contains(got, "Associations (3)") {
		t.Fatalf("the fixture has %d associations: too few to test a split in three", c.associations)
	}

	// The parts, each with its header, hold the rows of the whole sheet in
	// order.
	for _, base := range []string{"Failures", "Instances", "Associations", "Problems", "Error codes", "By association", "By label"} {
		wholeRows := sheetRows(t, whole, base)
		joined := [][]string{wholeRows[0]}
		for _, sheet := range got {
			if sheet != base && !strings.HasPrefix(sheet, base+" (") {
				continue
			}
			rows := sheetRows(t, split, sheet)
			if !slices.Equal(rows[0], wholeRows[0]) {
				t.Errorf("%s header = %q, want %q", sheet, rows[0], wholeRows[0])
			}
			if len(rows) > 6 {
				t.Errorf("%s has %d rows, more than the limit of 6", sheet, len(rows))
			}
			joined = append(joined, rows[1:]...)
		}
		if !slices.EqualFunc(joined, wholeRows, slices.Equal) {
			t.Errorf("%s: the split sheets hold\n%q\nwant\n%q", base, joined, wholeRows)
		}
	}
	checkAutoFilters(t, split)
	summary := strings.Join(slices.Concat(sheetRows(t, split, "Summary")...), "\n")
	if want := "Associations has more rows than a sheet holds: it continues on Associations (2), Associations (3)."; !strings.Contains(summary, want) {
		t.Errorf("Summary does not say %q", want)
	}
}

// TestXLSXPartialSaysWhy: the workbook's partial line said "some targets
// have no result or ended in an error. See the Problems sheet." of a run
// where every target had a verdict and two account-regions were refused,
// with nothing in the Problems sheet; the HTML and the mail named them.
func TestXLSXPartialSaysWhy(t *testing.T) {
	fx := fixtureNamed(t, "empty")
	fx.name = "refused"
	fx.run.Complete = false
	fx.run.Error = "2 account-regions could not be audited"
	denied := &audit.Error{Code: "AccessDenied", Message: "no"}
	fx.run.Sites = []audit.SiteStats{
		{AccountID: "111111111111", Region: "af-south-1", Error: denied},
		{AccountID: "111111111111", Region: "me-south-1", Error: denied},
	}
	f, _ := renderXLSX(t, fx)
	var partial string
	for _, row := range sheetRows(t, f, "Summary") {
		if len(row) > 0 && strings.Contains(row[0], "PARTIAL") {
			partial = row[0]
		}
	}
	if want := "2 account-regions could not be audited"; !strings.Contains(partial, want) || strings.Contains(partial, "no result or ended in an error") {
		t.Errorf("PARTIAL line = %q, want it to say %q and not blame targets", partial, want)
	}
}

func TestXLSXSummary(t *testing.T) {
	interrupted := fixtureNamed(t, "mixed")
	interrupted.name = "interrupted"
	interrupted.run.Interrupted = true
	complete := fixtureNamed(t, "mixed")
	complete.name = "complete"
	complete.run.Complete = true
	// Records merged without their run.json: nothing stopped them.
	undescribed := fixtureNamed(t, "empty")
	undescribed.name = "no run.json"
	undescribed.run.Complete, undescribed.run.Error = false, "no run.json beside a/results.jsonl: completeness unknown"
	stopped := fixtureNamed(t, "empty")
	stopped.name = "stopped"
	stopped.run.Complete, stopped.run.Error = false, "access denied"

	for _, tc := range []struct {
		fx fixture
		// partial is the start of the PARTIAL line, "" for none.
		partial string
	}{
		{fixtureNamed(t, "mixed"), "PARTIAL RUN: the run did not complete"},
		{interrupted, "PARTIAL RUN: the run was interrupted"},
		{undescribed, "PARTIAL RUN: the run did not complete: why partial: no run.json beside"},
		{stopped, "PARTIAL RUN: the run did not complete: stopped by: access denied"},
		{complete, ""},
		{fixtureNamed(t, "empty"), ""},
	} {
		t.Run(tc.fx.name, func(t *testing.T) {
			f, _ := renderXLSX(t, tc.fx)
			rows := sheetRows(t, f, "Summary")
			var partial string
			values, besides := map[string]string{}, map[string]string{}
			for _, row := range rows {
				if len(row) > 0 && strings.Contains(row[0], "PARTIAL") {
					partial = row[0]
				}
				if len(row) > 1 {
					values[row[0]] = row[1]
				}
				if len(row) > 2 {
					besides[row[0]] = row[2]
				}
			}
			if !strings.HasPrefix(partial, tc.partial) || (tc.partial == "") != (partial == "") {
				t.Errorf("PARTIAL line = %q, want one starting %q", partial, tc.partial)
			}
			c := countFixture(tc.fx)
			m, err := report.Build(context.Background(), tc.fx.options(t))
			if err != nil {
				t.Fatal(err)
			}
			failed := strconv.Itoa(c.failures)
			if m.Totals.Audited == 0 {
				// An empty record: nothing audited, so unknown (see
				// TestUnknownSaidAlike).
				failed = "unknown"
			}
			for label, want := range map[string]string{
				"Instances with a result":                                   strconv.Itoa(c.instances),
				"Associations of audited instances":                         strconv.Itoa(m.Totals.Associations),
				"Failed associations":                                       failed,
				"Could not audit (not managed, errors, invalid, no result)": strconv.Itoa(c.problems),
			} {
				if got := values[label]; got != want {
					t.Errorf("Summary %q = %q, want %q", label, got, want)
				}
			}
			// The run in the words of the HTML: Model.About, line for line;
			// a date as a date cell in UTC, the words after it beside it.
			for _, d := range m.About {
				if d.At != nil {
					label := d.Label + " (UTC)"
					if got, want := values[label], d.At.UTC().Format("2006-01-02 15:04:05.000"); got != want {
						t.Errorf("Summary %q = %q, want %q", label, got, want)
					}
					if got := besides[label]; got != d.Rest {
						t.Errorf("Summary %q, column C = %q, want %q", label, got, d.Rest)
					}
					continue
				}
				if got := values[d.Label]; got != d.Value {
					t.Errorf("Summary %q = %q, want %q", d.Label, got, d.Value)
				}
			}
			if got, want := values["Started (UTC)"], runStart.Format("2006-01-02 15:04:05.000"); got != want {
				t.Errorf("Started = %q, want %q", got, want)
			}
			if got, want := besides["Ended (UTC)"], "(took 1m35s)"; got != want {
				t.Errorf("Ended, column C = %q, want %q", got, want)
			}
			for _, raw := range []string{"Option rate", "168h0m0s", "Option "} {
				if strings.Contains(strings.Join(slices.Concat(rows...), "\n"), raw) {
					t.Errorf("Summary holds the raw option text %q", raw)
				}
			}
			// The outcome rows, named as in the HTML, are the data of the
			// first chart; the percentage is a fraction of the audited.
			for _, o := range m.Outcomes {
				row := -1
				for i, r := range rows {
					if len(r) > 1 && r[0] == outcomeLabels[o.Outcome] {
						row = i + 1
					}
				}
				if row < 0 {
					t.Errorf("Summary has no row for outcome %s (%q)", o.Outcome, outcomeLabels[o.Outcome])
					continue
				}
				raw, _ := f.GetCellValue("Summary", fmt.Sprintf("C%d", row), excelize.Options{RawCellValue: true})
				switch {
				case o.Percent == nil && raw != "":
					t.Errorf("%s: percent %q, want an empty cell (not a verdict)", o.Outcome, raw)
				case o.Percent != nil:
					frac, err := strconv.ParseFloat(raw, 64)
					if want := float64(o.Instances) / float64(m.Totals.Audited); err != nil || math.Abs(frac-want) > 1e-12 {
						t.Errorf("%s: percent cell %q, want the fraction %v", o.Outcome, raw, want)
					}
					shown, _ := f.GetCellValue("Summary", fmt.Sprintf("C%d", row))
					if want := fmt.Sprintf("%.2f%%", *o.Percent); shown != want {
						t.Errorf("%s: percent shows %q, want %q", o.Outcome, shown, want)
					}
				}
			}
		})
	}
}

// zipEntries returns the contents of the named entries of a zip file.
func zipEntries(t *testing.T, path string) map[string]string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out := map[string]string{}
	for _, zf := range zr.File {
		if !strings.HasPrefix(zf.Name, "xl/charts/") {
			out[zf.Name] = ""
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[zf.Name] = string(b)
	}
	return out
}

// chartCategories matches a chart's category reference to Summary cells,
// whether or not the chart XML prefixes its elements.
var chartCategories = regexp.MustCompile(`<(?:c:)?cat>\s*<(?:c:)?strRef>\s*<(?:c:)?f>Summary!\$A\$(\d+):\$A\$(\d+)</`)

func TestXLSXCharts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		charts int
	}{
		{"mixed", 2}, // outcomes and error codes
		{"empty", 1}, // no failed association: no error code chart
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, path := renderXLSX(t, fixtureNamed(t, tc.name))
			entries := zipEntries(t, path)
			for i := 1; i <= 3; i++ {
				name := fmt.Sprintf("xl/charts/chart%d.xml", i)
				xml, ok := entries[name]
				if ok != (i <= tc.charts) {
					t.Errorf("%s present = %v, want %v", name, ok, i <= tc.charts)
				}
				if ok && !chartCategories.MatchString(xml) {
					t.Errorf("%s does not read its categories from Summary", name)
				}
			}
			// The first chart's categories are the outcome cells.
			match := chartCategories.FindStringSubmatch(entries["xl/charts/chart1.xml"])
			if match == nil {
				t.Fatalf("chart1 has no category reference")
			}
			first, _ := strconv.Atoi(match[1])
			last, _ := strconv.Atoi(match[2])
			var got []string
			for r := first; r <= last; r++ {
				v, _ := f.GetCellValue("Summary", fmt.Sprintf("A%d", r))
				got = append(got, v)
			}
			var want []string
			for _, o := range audit.Outcomes() {
				want = append(want, outcomeLabels[o])
			}
			if !slices.Equal(got, want) {
				t.Errorf("chart1 categories %s = %q, want %q", match[0], got, want)
			}
			// Each outcome's bar has the outcome's colour, as in the HTML.
			for _, o := range audit.Outcomes() {
				if !strings.Contains(strings.ToLower(entries["xl/charts/chart1.xml"]), `val="`+strings.TrimPrefix(outcomeColors[o], "#")+`"`) {
					t.Errorf("chart1 has no bar in the colour of %s (%s)", o, outcomeColors[o])
				}
			}
		})
	}
}

// The outcomes as the HTML names and colours them, written out here.
var (
	outcomeLabels = map[audit.Outcome]string{
		audit.OutcomeCompliant: "Compliant", audit.OutcomeNoncompliant: "Non-compliant", audit.OutcomePending: "Pending",
		audit.OutcomeNoAssociations: "No associations", audit.OutcomeNotManaged: "Not managed", audit.OutcomeError: "Error",
		audit.OutcomeInvalid: "Invalid input",
	}
	outcomeColors = map[audit.Outcome]string{
		audit.OutcomeCompliant: "#1a7f37", audit.OutcomeNoncompliant: "#cf222e", audit.OutcomePending: "#9a6700",
		audit.OutcomeNoAssociations: "#0969da", audit.OutcomeNotManaged: "#8250df", audit.OutcomeError: "#bc4c00",
		audit.OutcomeInvalid: "#6e7781",
	}
)

// TestXLSXWorkbookAsDocument checks what a reader of the file sees before
// the cells: the document properties, numbers stored as numbers, and
// Instances sorted by what needs fixing.
func TestXLSXWorkbookAsDocument(t *testing.T) {
	fx := fixtureNamed(t, "mixed")
	f, _ := renderXLSX(t, fx)
	m, err := report.Build(context.Background(), fx.options(t))
	if err != nil {
		t.Fatal(err)
	}
	props, err := f.GetDocProps()
	if err != nil {
		t.Fatal(err)
	}
	if props.Creator != "auditor" || props.LastModifiedBy != "auditor" || props.Title == "" || props.Subject != m.Headline {
		t.Errorf("document properties %+v, want creator auditor, a title, the headline as subject", props)
	}
	if created, err := time.Parse(time.RFC3339, props.Created); err != nil || created.IsZero() {
		t.Errorf("created %q: %v", props.Created, err)
	}

	// Versions that are whole numbers are number cells; others stay text.
	rows := sheetRows(t, f, "Associations")
	av, dv := colOf(t, f, "Associations", "Association version"), colOf(t, f, "Associations", "Document version")
	numbers, texts := 0, 0
	for r, row := range rows[1:] {
		for _, col := range []int{av, dv} {
			ref := cellName(t, col, r+2)
			typ, _ := f.GetCellType("Associations", ref)
			isNum := typ == excelize.CellTypeUnset || typ == excelize.CellTypeNumber
			if _, err := strconv.Atoi(row[col-1]); (err == nil) != isNum {
				t.Errorf("Associations!%s %q: number cell %v", ref, row[col-1], isNum)
			}
			if isNum {
				numbers++
			} else {
				texts++
			}
		}
	}
	if numbers == 0 || texts == 0 {
		t.Errorf("%d number and %d text versions: the fixture tests too little", numbers, texts)
	}

	// Instances: most failed first, then most stale, then key; the same
	// when the sort goes to disk.
	// i-6 ended in error: its counts are of its partial rows (see Partial).
	want := []string{"02:2:1", "10:2:0", "06:1:1", "08:1:1", "03:0:1", "09:0:1", "45:0:0", "05:0:0", "01:0:0", "04:0:0"}
	if got := instancesOrder(t, f); !slices.Equal(got, want) {
		t.Errorf("Instances (id:failed:stale) %q, want %q", got, want)
	}
	report.SetSortInMemory(t, 3)
	spilled, _ := renderXLSX(t, fx)
	if got := instancesOrder(t, spilled); !slices.Equal(got, want) {
		t.Errorf("sorted on disk, Instances (id:failed:stale) %q, want %q", got, want)
	}
}

// instancesOrder is the Instances sheet as id:failed:stale, the ID by its
// last two characters.
func instancesOrder(t *testing.T, f *excelize.File) []string {
	t.Helper()
	inst := sheetRows(t, f, "Instances")
	id, failed, stale := colOf(t, f, "Instances", "Instance")-1, colOf(t, f, "Instances", "Failed")-1, colOf(t, f, "Instances", "Stale")-1
	var got []string
	for _, row := range inst[1:] {
		got = append(got, row[id][len(row[id])-2:]+":"+row[failed]+":"+row[stale])
	}
	return got
}

func TestXLSXCanceled(t *testing.T) {
	opts := fixtureNamed(t, "mixed").options(t)
	m, err := report.Build(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	w, err := report.NewWriter(report.FormatXLSX, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := w.Write(ctx, m, opts.Records, opts.Dir); !errors.Is(err, context.Canceled) {
		t.Errorf("Write with a canceled context = %v, want context.Canceled", err)
	}
	entries, err := os.ReadDir(opts.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("a canceled Write left %d files in the directory", len(entries))
	}
}

// benchRecord writes a fleet of instances×perInstance associations, one in
// twelve failed, and returns the Records and its Model.
func benchRecord(b *testing.B, instances, perInstance int) (report.Options, *report.Model) {
	b.Helper()
	path := filepath.Join(b.TempDir(), audit.ResultsFile)
	rw, err := audit.CreateRecord(path)
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for i := range instances {
		r := audit.Result{
			AccountID: acct1, Region: []string{east, west}[i%2], InstanceID: fmt.Sprintf("i-%017x", i),
			Labels: map[string]string{"owner": fmt.Sprintf("team-%d", i%7), "env": "prod"},
			Source: fmt.Sprintf("fleet.csv:%d", i+2), Pages: 1, AuditedAt: runStart,
		}
		for j := range perInstance {
			a := audit.Association{
				AssociationID:   fmt.Sprintf("%08x-0000-4000-8000-%012x", j, i),
				AssociationName: fmt.Sprintf("assoc-%d", j), Name: fmt.Sprintf("AWS-Document-%d", j),
				AssociationVersion: "1", DocumentVersion: "$DEFAULT", InstanceID: r.InstanceID,
				ExecutionDate: at(fresh), Status: audit.StatusSuccess, DetailedStatus: "Success",
				ExecutionSummary: "1 out of 1 plugin processed, 1 success, 0 failed, 0 timedout, 0 skipped.",
				OutputURL:        s3(fmt.Sprintf("https://s3.amazonaws.com/bucket/%s/%d", r.InstanceID, j)),
			}
			if n%12 == 0 {
				a.Status, a.DetailedStatus, a.ErrorCode = audit.StatusFailed, "Failed", fmt.Sprintf("Code%d", j%4)
				a.ExecutionSummary = "1 out of 1 plugin processed, 0 success, 1 failed, 0 timedout, 0 skipped."
			}
			r.Associations = append(r.Associations, a)
			n++
		}
		r.Outcome = audit.Judge(r.Associations)
		if err := rw.Write(r); err != nil {
			b.Fatal(err)
		}
	}
	if err := rw.Close(); err != nil {
		b.Fatal(err)
	}
	rs, err := audit.OpenRecords(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { rs.Close() })
	opts := report.Options{Dir: b.TempDir(), Records: rs, Run: fixtureRun()}
	m, err := report.Build(context.Background(), opts)
	if err != nil {
		b.Fatal(err)
	}
	return opts, m
}

// The benchmarks write 20,000 associations (2,000 instances). BenchmarkXLSX
// writes the whole workbook; BenchmarkXLSXBaseline writes the same cells of
// the Associations sheet with a bare excelize StreamWriter (no styles beyond
// the date format, links, filters, other sheets or charts), reading the same
// record and saving through the same atomicfile. Compare their ns/op.
const benchInstances, benchPerInstance = 2000, 10

func BenchmarkXLSX(b *testing.B) {
	opts, m := benchRecord(b, benchInstances, benchPerInstance)
	w, err := report.NewWriter(report.FormatXLSX, opts)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := w.Write(ctx, m, opts.Records, opts.Dir); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(m.Totals.Associations), "associations")
}

func BenchmarkXLSXBaseline(b *testing.B) {
	opts, m := benchRecord(b, benchInstances, benchPerInstance)
	path := filepath.Join(opts.Dir, "baseline.xlsx")
	b.ResetTimer()
	for b.Loop() {
		if err := writeBaseline(opts.Records, m.LabelKeys, path); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(m.Totals.Associations), "associations")
}

// BenchmarkXLSXRatio alternates the two, one of each per iteration, and
// reports the workbook's time as a multiple of the baseline's, so that load
// from other processes falls on both alike.
func BenchmarkXLSXRatio(b *testing.B) {
	opts, m := benchRecord(b, benchInstances, benchPerInstance)
	w, err := report.NewWriter(report.FormatXLSX, opts)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	path := filepath.Join(opts.Dir, "baseline.xlsx")
	var full, bare time.Duration
	for b.Loop() {
		start := time.Now()
		if err := writeBaseline(opts.Records, m.LabelKeys, path); err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		if _, err := w.Write(ctx, m, opts.Records, opts.Dir); err != nil {
			b.Fatal(err)
		}
		full += time.Since(mid)
		bare += mid.Sub(start)
	}
	b.ReportMetric(float64(full)/float64(bare), "x-baseline")
}

func writeBaseline(rs *audit.Records, labelKeys []string, path string) error {
	f := excelize.NewFile()
	defer f.Close()
	dateFmt := "yyyy-mm-dd hh:mm:ss"
	dateStyle, err := f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt})
	if err != nil {
		return err
	}
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		return err
	}
	header := make([]any, 0, len(xlsxAssociationHeader)+len(labelKeys))
	for _, h := range append(slices.Clone(xlsxAssociationHeader), labelKeys...) {
		header = append(header, h)
	}
	if err := sw.SetRow("A1", header); err != nil {
		return err
	}
	row := 1
	vals := make([]any, 0, len(header))
	str := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	err = rs.Each(func(r audit.Result) error {
		as := slices.Clone(r.Associations)
		slices.SortStableFunc(as, func(x, y audit.Association) int { return strings.Compare(x.AssociationID, y.AssociationID) })
		for _, a := range as {
			var when any
			if a.ExecutionDate != nil {
				when = excelize.Cell{StyleID: dateStyle, Value: a.ExecutionDate.UTC()}
			}
			vals = append(vals[:0], str(r.AccountID), str(r.Region), str(r.InstanceID),
				str(a.AssociationID), str(a.AssociationName), str(a.AssociationVersion), str(a.Name),
				str(a.DocumentVersion), str(a.Status), str(a.DetailedStatus), when, "no",
				str(a.ErrorCode), str(a.ExecutionSummary), str(a.URL()))
			for _, k := range labelKeys {
				vals = append(vals, str(r.Labels[k]))
			}
			row++
			if err := sw.SetRow("A"+strconv.Itoa(row), vals); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return atomicfile.Write(path, func(w io.Writer) error { return f.Write(w) })
}

// TestXLSXLabelColumnsPastExcelsLimit: a list with more label keys than a
// sheet has columns (16,384) made every list sheet's header cost minutes
// (a width set column by column, each merged with all before it) and then
// failed in excelize with no word of why. The workbook is refused at once,
// saying how many label keys there are and what holds them all.
func TestXLSXLabelColumnsPastExcelsLimit(t *testing.T) {
	labels := make(map[string]string, excelize.MaxColumns)
	for i := range excelize.MaxColumns {
		labels[fmt.Sprintf("k%05d", i)] = "v"
	}
	fx := fixture{name: "many-labels", run: fixtureRun(), results: []audit.Result{{
		AccountID: acct1, Region: east, InstanceID: "i-00000000000000001", Outcome: audit.OutcomeNoAssociations, Labels: labels,
	}}}
	dir, _, err := writeXLSX(t, fx)
	if err == nil || !strings.Contains(err.Error(), "16384 label keys") || !strings.Contains(err.Error(), "16,384 columns") {
		t.Errorf("Write: %v, want a refusal naming the 16384 label keys and the 16,384 columns of a sheet", err)
	}
	if _, err := os.Stat(filepath.Join(dir, report.XLSXFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("report.xlsx after the refusal: %v, want none", err)
	}
}

// TestXLSXChangesErrorCodeBefore: the HTML says every change is in
// changes.csv and the Changes sheet, and its summary counts the failures
// still failing with another error code; the sheet had no column for the
// code before, so a workbook's reader could not find which they were.
func TestXLSXChangesErrorCodeBefore(t *testing.T) {
	at := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	result := func(code string, when time.Time) audit.Result {
		d := when.Add(-time.Hour)
		return audit.Result{
			Region: east, InstanceID: "i-0000000000000000a", Outcome: audit.OutcomeNoncompliant, AuditedAt: when,
			Associations: []audit.Association{{AssociationID: "a-1", Name: "AWS-RunPatchBaseline", Status: audit.StatusFailed, ErrorCode: code, ExecutionDate: &d}},
		}
	}
	basePath := filepath.Join(t.TempDir(), audit.ResultsFile)
	w, err := audit.CreateRecord(basePath)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(result("ExecutionError", at.Add(-24*time.Hour))); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	base, err := audit.OpenBaseline(basePath)
	if err != nil {
		t.Fatal(err)
	}
	defer base.Close()
	opts := report.Options{
		Dir: t.TempDir(), Records: openRecord(t, []audit.Result{result("TimedOut", at)}), Baseline: base,
		Run: audit.RunInfo{StartedAt: at, Complete: true}, Formats: []report.Format{report.FormatXLSX}, StaleAfter: audit.DefaultStaleAfter,
	}
	if _, err := report.Render(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenFile(filepath.Join(opts.Dir, report.XLSXFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows := sheetRows(t, f, "Changes")
	col := slices.Index(rows[0], "Error code before")
	if col < 0 || len(rows) != 2 {
		t.Fatalf("Changes sheet %q: want a column Error code before and one change", rows)
	}
	if got := rows[1]; got[0] != "Still failing" || got[slices.Index(rows[0], "Error code")] != "TimedOut" || len(got) <= col || got[col] != "ExecutionError" {
		t.Errorf("Changes row %q: want still failing with TimedOut, ExecutionError before", got)
	}
}

// TestXLSXSameRecordSameBytes: the same record renders the same workbook,
// byte for byte, whenever it is rendered, so that a report's hash can be
// checked against its record by rendering it again. The workbook is dated
// when its run ended; its parts are in name order, so that
// [Content_Types].xml comes first, as readers that sniff a file's type
// expect.
func TestXLSXSameRecordSameBytes(t *testing.T) {
	fx := fixtureNamed(t, "mixed")
	clock := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	report.SetXLSXClock(t, func() time.Time { clock = clock.Add(time.Hour); return clock })
	var first []byte
	for i := range 5 {
		dir, _, err := writeXLSX(t, fx)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, report.XLSXFile))
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = b
			continue
		}
		if !bytes.Equal(b, first) {
			t.Fatalf("render %d of the same record differs from the first (%d and %d bytes)", i+1, len(b), len(first))
		}
	}
	zr, err := zip.NewReader(bytes.NewReader(first), int64(len(first)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, zf := range zr.File {
		names = append(names, zf.Name)
		// As archive/zip's Create writes them: Excel is strict about a
		// zip's headers, and a version of 0 is no version it knows.
		if zf.ReaderVersion != 20 || zf.CreatorVersion&0xff != 20 || zf.Method != zip.Deflate || zf.Flags&0x8 != 0 && zf.CompressedSize64 == 0 {
			t.Errorf("part %s: version needed %d, made by %d, method %d, flags %#x; want 20, 20, Deflate", zf.Name, zf.ReaderVersion, zf.CreatorVersion, zf.Method, zf.Flags)
		}
	}
	if !slices.IsSorted(names) || len(names) == 0 || names[0] != "[Content_Types].xml" {
		t.Errorf("parts %q, want them in name order, [Content_Types].xml first", names)
	}
	f, err := excelize.OpenReader(bytes.NewReader(first))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	props, err := f.GetDocProps()
	if err != nil {
		t.Fatal(err)
	}
	if want := fx.run.EndedAt.UTC().Format(time.RFC3339); props.Created != want || props.Modified != want {
		t.Errorf("created %q, modified %q, want the run's end %q", props.Created, props.Modified, want)
	}
}
