package report

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/internal/atomicfile"
)

// XLSXFile is the file FormatXLSX writes.
const XLSXFile = "report.xlsx"

// The sheets of report.xlsx, in workbook order. A list longer than a sheet
// can hold continues on "Failures (2)", "Failures (3)", ... right after it.
const (
	sheetSummary      = "Summary"
	sheetFailures     = "Failures"
	sheetErrorCodes   = "Error codes"
	sheetGroups       = "By association"
	sheetInstances    = "Instances"
	sheetAssociations = "Associations"
	sheetProblems     = "Problems"
)

// xlsxMaxRows is how many rows one sheet holds, header included: Excel's
// limit. It is a variable so that a test can exercise the split into
// "Name (2)" without writing a million rows.
var xlsxMaxRows = excelize.TotalRows

// xlsxMaxLinks caps the hyperlinks of one sheet. excelize adds a link in time
// proportional to the links (and relationships) the sheet already has, so n
// links cost O(n²): 20,000 links take seconds, against milliseconds for the
// rows. Past the cap an output URL is plain text, and Summary says so.
var xlsxMaxLinks = 1000

// xlsxMaxLinkLen bounds the length of a link address. Longer addresses stay
// plain text: Excel does not reliably open link targets of a few thousand
// characters, and no real S3 output URL is that long.
const xlsxMaxLinkLen = 2048

// xlsxDateFormat is the number format of every date cell; dates are UTC.
const xlsxDateFormat = "yyyy-mm-dd hh:mm:ss"

// xlsxFont is the workbook's font, excelize's default, named in every style
// that sets a font so that bold text keeps the same face.
const xlsxFont = "Calibri"

// xlsxListSep joins the values of a multi-valued cell.
const xlsxListSep = "; "

type xlsxWriter struct{ opts Options }

func newXLSX(opts Options) Writer { return xlsxWriter{opts: opts} }

// Write writes report.xlsx via atomicfile. The sheets, in order:
//
//   - Summary: the headline, a "PARTIAL RUN" line when the run was not
//     complete or was interrupted, the key figures, the run's metadata, the
//     instances per outcome and the top error codes, with a chart of each
//     (the charts read those cells).
//   - Failures: every Failed association, streamed from rs (not the Model's
//     capped list). An output URL whose scheme is http, https or s3 is a
//     link (the first 1,000 of a sheet: see xlsxMaxLinks); anything else,
//     such as javascript:, is plain text. Associations shows URLs as text
//     only.
//   - Error codes and By association: Model.ErrorCodes and
//     Model.Associations.
//   - Instances: one row per instance, every outcome, then one column per
//     label key (Model.LabelKeys).
//   - Associations: every association row, streamed from rs.
//   - Problems: every instance that is not managed, ended in an error, or was
//     invalid input, streamed from rs.
//
// Every list has a bold header row that stays frozen and an autofilter;
// non-compliant instances, Failed associations and association groups with
// failures are filled. Dates are date cells in UTC. Text is always a text
// cell, never a formula, whatever it begins with; text past Excel's 32,767
// characters is cut and ends in a visible "… [cut: N characters]" marker. A
// list that passes Excel's 1,048,576 rows continues on "Name (2)" and so on.
//
// The list sheets stream from rs in one pass, so memory does not grow with
// the number of associations while rows are written (excelize keeps each
// sheet's rows in a temporary file past 16 MB, and the finished zip is
// written straight to the file rather than assembled in memory first).
// What excelize still holds is the shared parts of the workbook and, while
// it zips a streamed sheet, that sheet's buffer. The Model must come from the same rs: a list whose length
// differs from the Model's count is an error.
func (w xlsxWriter) Write(ctx context.Context, m *Model, rs *audit.Records, dir string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, XLSXFile)
	f := excelize.NewFile()
	defer f.Close()
	if err := w.build(ctx, f, m, rs); err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	err := atomicfile.Write(path, func(out io.Writer) error {
		// excelize assembles the whole zip in a memory buffer before it
		// writes it out; handing it a zip writer on the file instead halves
		// the peak memory of a million-row workbook (BENCHMARKS.md). What
		// this path skips is excelize's fix-up of zip64 headers for sheet
		// parts over 4 GiB, far past the row limit a sheet is split at.
		f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zip.NewWriter(out) })
		return f.Write(io.Discard)
	})
	if err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	return []string{path}, nil
}

// xlsxStyles are the style IDs of the workbook, made once.
type xlsxStyles struct {
	header, date, fill, dateFill, link, decimal, decimalFill int
	title, section, partial, label                           int
}

func newXLSXStyles(f *excelize.File) (xlsxStyles, error) {
	var s xlsxStyles
	dateFmt := xlsxDateFormat
	fill := excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FFC7CE"}}
	for _, st := range []struct {
		id    *int
		style excelize.Style
	}{
		{&s.header, excelize.Style{
			Font:      &excelize.Font{Bold: true, Family: xlsxFont, Size: 11},
			Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"D9E1F2"}},
			Border:    []excelize.Border{{Type: "bottom", Color: "8EA9DB", Style: 1}},
			Alignment: &excelize.Alignment{Vertical: "center"},
		}},
		{&s.date, excelize.Style{CustomNumFmt: &dateFmt}},
		{&s.fill, excelize.Style{Fill: fill}},
		{&s.dateFill, excelize.Style{Fill: fill, CustomNumFmt: &dateFmt}},
		{&s.link, excelize.Style{Font: &excelize.Font{Family: xlsxFont, Size: 11, Color: "0563C1", Underline: "single"}}},
		{&s.decimal, excelize.Style{NumFmt: 2}}, // 0.00
		{&s.decimalFill, excelize.Style{NumFmt: 2, Fill: fill}},
		{&s.title, excelize.Style{Font: &excelize.Font{Bold: true, Family: xlsxFont, Size: 16}}},
		{&s.section, excelize.Style{
			Font:   &excelize.Font{Bold: true, Family: xlsxFont, Size: 12},
			Border: []excelize.Border{{Type: "bottom", Color: "8EA9DB", Style: 1}},
		}},
		{&s.partial, excelize.Style{
			Font: &excelize.Font{Bold: true, Family: xlsxFont, Color: "9C0006", Size: 12},
			Fill: fill,
		}},
		{&s.label, excelize.Style{Font: &excelize.Font{Bold: true, Family: xlsxFont, Size: 11}}},
	} {
		id, err := f.NewStyle(&st.style)
		if err != nil {
			return s, fmt.Errorf("making styles: %w", err)
		}
		*st.id = id
	}
	return s, nil
}

// xlsxColumn is one column of a list sheet.
type xlsxColumn struct {
	name  string
	width float64
	// kind picks the column's style.
	kind xlsxKind
}

type xlsxKind int

const (
	kindText xlsxKind = iota
	kindDate
	kindDecimal
	kindLink
)

// xlsxList writes one list to one or more sheets with a StreamWriter each.
// The sheets must exist, in order, before the first row (see planSheets), so
// that the workbook's sheet order and its autofilter names are right.
type xlsxList struct {
	f      *excelize.File
	names  []string
	cols   []xlsxColumn
	header []any
	// plain and filled are each column's style ID in a normal and in a
	// highlighted row; 0 means none.
	plain, filled []int
	link          int
	lastCol       string
	want          int

	part  int
	sw    *excelize.StreamWriter
	row   int
	links int
	total int
	// linksCut counts URLs left as text because of xlsxMaxLinks.
	linksCut int
}

func newXLSXList(f *excelize.File, st xlsxStyles, names []string, want int, cols []xlsxColumn) *xlsxList {
	l := &xlsxList{f: f, names: names, cols: cols, want: want, part: -1}
	l.lastCol, _ = excelize.ColumnNumberToName(len(cols))
	l.header = make([]any, len(cols))
	l.plain = make([]int, len(cols))
	l.filled = make([]int, len(cols))
	for i, c := range cols {
		l.header[i] = excelize.Cell{StyleID: st.header, Value: c.name}
		l.filled[i] = st.fill
		switch c.kind {
		case kindDate:
			l.plain[i], l.filled[i] = st.date, st.dateFill
		case kindDecimal:
			l.plain[i], l.filled[i] = st.decimal, st.decimalFill
		case kindLink:
			l.link = st.link
		}
	}
	return l
}

// open starts the next sheet of the list and writes its header.
func (l *xlsxList) open() error {
	l.part++
	if l.part >= len(l.names) {
		return fmt.Errorf("sheet %s: more than the %d rows the model counts (was the record changed while rendering?)", l.names[0], l.want)
	}
	name := l.names[l.part]
	sw, err := l.f.NewStreamWriter(name)
	if err != nil {
		return fmt.Errorf("sheet %s: %w", name, err)
	}
	for i, c := range l.cols {
		if err := sw.SetColWidth(i+1, i+1, c.width); err != nil {
			return fmt.Errorf("sheet %s: %w", name, err)
		}
	}
	err = sw.SetPanes(&excelize.Panes{
		Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}},
	})
	if err == nil {
		err = sw.SetRow("A1", l.header, excelize.RowOpts{Height: 20})
	}
	if err != nil {
		return fmt.Errorf("sheet %s: %w", name, err)
	}
	l.sw, l.row, l.links = sw, 1, 0
	return nil
}

// flush ends the open sheet: its autofilter over every row, then Flush.
func (l *xlsxList) flush() error {
	if l.sw == nil {
		return nil
	}
	name := l.names[l.part]
	err := l.f.AutoFilter(name, "A1:"+l.lastCol+strconv.Itoa(l.row), nil)
	if err == nil {
		err = l.sw.Flush()
	}
	l.sw = nil
	if err != nil {
		return fmt.Errorf("sheet %s: %w", name, err)
	}
	return nil
}

// add writes one row. vals has one entry per column: nil for an empty cell,
// otherwise a string (already through cellText), a number, a bool or a
// time.Time. It may be reused by the caller after add returns. When url is
// not empty it is the link target of the link column's cell.
func (l *xlsxList) add(vals []any, highlight bool, url string) error {
	if l.sw == nil || l.row >= xlsxMaxRows {
		if err := l.flush(); err != nil {
			return err
		}
		if err := l.open(); err != nil {
			return err
		}
	}
	styles := l.plain
	if highlight {
		styles = l.filled
	}
	for i, s := range styles {
		if s != 0 {
			vals[i] = excelize.Cell{StyleID: s, Value: vals[i]}
		}
	}
	l.row++
	l.total++
	cell := "A" + strconv.Itoa(l.row)
	if err := l.sw.SetRow(cell, vals); err != nil {
		return fmt.Errorf("sheet %s row %d: %w", l.names[l.part], l.row, err)
	}
	if url == "" {
		return nil
	}
	if l.links >= xlsxMaxLinks {
		l.linksCut++
		return nil
	}
	for i, c := range l.cols {
		if c.kind != kindLink {
			continue
		}
		col, _ := excelize.ColumnNumberToName(i + 1)
		if err := l.f.SetCellHyperLink(l.names[l.part], col+strconv.Itoa(l.row), url, "External"); err != nil {
			return fmt.Errorf("sheet %s row %d: %w", l.names[l.part], l.row, err)
		}
		l.links++
	}
	return nil
}

// close ends the list, opening its first sheet if no row was written so
// that an empty list still has its header.
func (l *xlsxList) close() error {
	if l.part < 0 {
		if err := l.open(); err != nil {
			return err
		}
	}
	if err := l.flush(); err != nil {
		return err
	}
	if l.total != l.want || l.part != len(l.names)-1 {
		return fmt.Errorf("sheet %s: %d rows, the model counts %d (was the record changed while rendering?)", l.names[0], l.total, l.want)
	}
	return nil
}

// sheetNames returns the sheets a list of n rows needs: base, then "base (2)"
// and so on, each holding xlsxMaxRows-1 rows under its header.
func sheetNames(base string, n int) []string {
	per := max(xlsxMaxRows-1, 1)
	parts := max((n+per-1)/per, 1)
	names := []string{base}
	for i := 2; i <= parts; i++ {
		names = append(names, fmt.Sprintf("%s (%d)", base, i))
	}
	return names
}

// cellText returns s cut to Excel's limit of 32,767 UTF-16 code units per
// cell; a cut text ends with "… [cut: N characters]", N being the length of
// s in characters, so that a cut is never silent.
func cellText(s string) string {
	// A UTF-16 code unit takes at least one byte of UTF-8.
	if len(s) <= excelize.TotalCellChars {
		return s
	}
	units := 0
	for _, r := range s {
		units += utf16Len(r)
	}
	if units <= excelize.TotalCellChars {
		return s
	}
	marker := fmt.Sprintf("… [cut: %d characters]", utf8.RuneCountInString(s))
	keep := excelize.TotalCellChars - len(utf16.Encode([]rune(marker)))
	units = 0
	for i, r := range s {
		if units+utf16Len(r) > keep {
			return s[:i] + marker
		}
		units += utf16Len(r)
	}
	return s
}

func utf16Len(r rune) int {
	if n := utf16.RuneLen(r); n > 0 {
		return n
	}
	// An invalid rune is written as U+FFFD.
	return 1
}

// text returns the cell value of a text: nil (an empty cell) for "", else
// the text cut to fit a cell. A string value is always written as a text
// cell, never as a formula.
func text(s string) any {
	if s == "" {
		return nil
	}
	return cellText(s)
}

// date returns the cell value of a time: nil for none, else the time in UTC.
func date(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return t.UTC()
}

// linkTarget returns the address to link to for an output URL, and whether
// it may be a link at all: only an absolute http, https or s3 URL with a
// host and no user information, and no longer than xlsxMaxLinkLen. Anything
// else (javascript:, data:, file:, relative or malformed text) stays text.
func linkTarget(s string) (string, bool) {
	if s == "" || len(s) > xlsxMaxLinkLen {
		return "", false
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.Opaque != "" {
		return "", false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "s3":
		return u.String(), true
	}
	return "", false
}

// labelHeaders names the label columns: the key, or "label: key" when the key
// is also the name of a fixed column.
func labelHeaders(keys []string, fixed []xlsxColumn) []xlsxColumn {
	taken := map[string]bool{}
	for _, c := range fixed {
		taken[strings.ToLower(c.name)] = true
	}
	cols := make([]xlsxColumn, len(keys))
	for i, k := range keys {
		name := k
		for taken[strings.ToLower(name)] {
			name = "label: " + name
		}
		taken[strings.ToLower(name)] = true
		cols[i] = xlsxColumn{name: cellText(name), width: 14}
	}
	return cols
}

var (
	associationColumns = []xlsxColumn{
		{name: "Account", width: 14},
		{name: "Region", width: 12},
		{name: "Instance", width: 21},
		{name: "Association ID", width: 38},
		{name: "Association name", width: 26},
		{name: "Association version", width: 11},
		{name: "Document", width: 30},
		{name: "Document version", width: 11},
		{name: "Status", width: 10},
		{name: "Detailed status", width: 16},
		{name: "Execution date (UTC)", width: 20, kind: kindDate},
		{name: "Stale", width: 7},
		{name: "Error code", width: 22},
		{name: "Execution summary", width: 50},
		{name: "Output URL", width: 50, kind: kindLink},
	}
	instanceColumns = []xlsxColumn{
		{name: "Account", width: 14},
		{name: "Region", width: 12},
		{name: "Instance", width: 21},
		{name: "Outcome", width: 16},
		{name: "Associations", width: 12},
		{name: "Success", width: 9},
		{name: "Failed", width: 9},
		{name: "Pending", width: 9},
		{name: "Other", width: 9},
		{name: "Stale", width: 9},
		{name: "Failure error codes", width: 28},
		{name: "Error code", width: 22},
		{name: "Error message", width: 50},
		{name: "Source", width: 16},
		{name: "Audited at (UTC)", width: 20, kind: kindDate},
	}
	problemColumns = []xlsxColumn{
		{name: "Account", width: 14},
		{name: "Region", width: 12},
		{name: "Instance", width: 21},
		{name: "Outcome", width: 14},
		{name: "Code", width: 24},
		{name: "Message", width: 60},
		{name: "Source", width: 16},
	}
	errorCodeColumns = []xlsxColumn{
		{name: "Error code", width: 26},
		{name: "Failed associations", width: 12},
		{name: "Instances", width: 10},
		{name: "Association names", width: 40},
		{name: "Example instances", width: 60},
	}
	groupColumns = []xlsxColumn{
		{name: "Association", width: 30},
		{name: "Document", width: 30},
		{name: "Instances", width: 10},
		{name: "Associations", width: 12},
		{name: "Success", width: 9},
		{name: "Failed", width: 9},
		{name: "Pending", width: 9},
		{name: "Other", width: 9},
		{name: "Stale", width: 9},
		{name: "Success %", width: 10, kind: kindDecimal},
	}
)

func withLabels(fixed []xlsxColumn, keys []string) []xlsxColumn {
	return append(slices.Clone(fixed), labelHeaders(keys, fixed)...)
}

func (w xlsxWriter) build(ctx context.Context, f *excelize.File, m *Model, rs *audit.Records) error {
	st, err := newXLSXStyles(f)
	if err != nil {
		return err
	}
	failureNames := sheetNames(sheetFailures, m.Failures.Count)
	codeNames := sheetNames(sheetErrorCodes, len(m.ErrorCodes))
	groupNames := sheetNames(sheetGroups, len(m.Associations))
	instanceNames := sheetNames(sheetInstances, m.Totals.Instances)
	assocNames := sheetNames(sheetAssociations, m.Totals.Associations)
	problemNames := sheetNames(sheetProblems, m.Problems.Count)
	if err := f.SetSheetName("Sheet1", sheetSummary); err != nil {
		return err
	}
	for _, names := range [][]string{failureNames, codeNames, groupNames, instanceNames, assocNames, problemNames} {
		for _, name := range names {
			if _, err := f.NewSheet(name); err != nil {
				return fmt.Errorf("adding sheet %s: %w", name, err)
			}
		}
	}

	failures := newXLSXList(f, st, failureNames, m.Failures.Count, withLabels(associationColumns, m.LabelKeys))
	instances := newXLSXList(f, st, instanceNames, m.Totals.Instances, withLabels(instanceColumns, m.LabelKeys))
	assocs := newXLSXList(f, st, assocNames, m.Totals.Associations, withLabels(associationColumns, m.LabelKeys))
	problems := newXLSXList(f, st, problemNames, m.Problems.Count, withLabels(problemColumns, m.LabelKeys))
	if err := w.streamLists(ctx, m, rs, failures, instances, assocs, problems); err != nil {
		return err
	}
	for _, l := range []*xlsxList{failures, instances, assocs, problems} {
		if err := l.close(); err != nil {
			return err
		}
	}

	codes := newXLSXList(f, st, codeNames, len(m.ErrorCodes), errorCodeColumns)
	row := make([]any, len(errorCodeColumns))
	for _, ec := range m.ErrorCodes {
		names := strings.Join(ec.AssociationNames, xlsxListSep)
		if more := ec.AssociationNamesTotal - len(ec.AssociationNames); more > 0 {
			names += fmt.Sprintf("%s(%d more)", xlsxListSep, more)
		}
		row = append(row[:0], text(ec.Code), ec.Associations, ec.Instances,
			text(names), text(strings.Join(ec.ExampleInstanceIDs, xlsxListSep)))
		if err := codes.add(row, false, ""); err != nil {
			return err
		}
	}
	if err := codes.close(); err != nil {
		return err
	}

	groups := newXLSXList(f, st, groupNames, len(m.Associations), groupColumns)
	row = make([]any, len(groupColumns))
	for _, g := range m.Associations {
		row = append(row[:0], text(g.Association), text(g.Document), g.Instances, g.Total,
			g.Success, g.Failed, g.Pending, g.Other, g.Stale, g.SuccessRate)
		if err := groups.add(row, g.Failed > 0, ""); err != nil {
			return err
		}
	}
	if err := groups.close(); err != nil {
		return err
	}

	var notes []string
	for _, l := range []*xlsxList{failures, instances, assocs, problems} {
		if len(l.names) > 1 {
			notes = append(notes, fmt.Sprintf("%s has more rows than a sheet holds: it continues on %s.",
				l.names[0], strings.Join(l.names[1:], ", ")))
		}
		if l.linksCut > 0 {
			notes = append(notes, fmt.Sprintf("%s: %s output URLs past the first %s of a sheet are text, not links.",
				l.names[0], thousands(l.linksCut), thousands(xlsxMaxLinks)))
		}
	}
	if err := writeSummary(f, st, m, notes); err != nil {
		return fmt.Errorf("sheet %s: %w", sheetSummary, err)
	}
	// Summary, the first sheet, is the active one by default. (Setting it
	// would make excelize parse every streamed sheet back into memory.)
	return nil
}

// streamLists writes the streamed lists in one pass over rs.
func (w xlsxWriter) streamLists(ctx context.Context, m *Model, rs *audit.Records, failures, instances, assocs, problems *xlsxList) error {
	stale := newBuilder(w.opts)
	nLabels := len(m.LabelKeys)
	assocRow := make([]any, 0, len(associationColumns)+nLabels)
	instRow := make([]any, 0, len(instanceColumns)+nLabels)
	probRow := make([]any, 0, len(problemColumns)+nLabels)
	labels := make([]any, nLabels)
	var codes []string
	return rs.Each(func(r audit.Result) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		for i, k := range m.LabelKeys {
			labels[i] = text(r.Labels[k])
		}
		account, region, instance := text(r.AccountID), text(r.Region), text(r.InstanceID)
		var c audit.Counts
		nStale := 0
		codes = codes[:0]
		for _, a := range sortedAssociations(r) {
			isStale := stale.isStale(r, a)
			failed := a.Status == audit.StatusFailed
			c.Total++
			switch a.Status {
			case audit.StatusSuccess:
				c.Success++
			case audit.StatusFailed:
				c.Failed++
				if code := orNone(a.ErrorCode); !slices.Contains(codes, code) {
					codes = append(codes, code)
				}
			case audit.StatusPending:
				c.Pending++
			default:
				c.Other++
			}
			if isStale {
				nStale++
			}
			outURL := a.URL()
			assocRow = append(assocRow[:0], account, region, instance,
				text(a.AssociationID), text(a.AssociationName), text(a.AssociationVersion),
				text(a.Name), text(a.DocumentVersion), text(a.Status), text(a.DetailedStatus),
				date(a.ExecutionDate), yesNo(isStale), text(a.ErrorCode), text(a.ExecutionSummary),
				text(outURL))
			assocRow = append(assocRow, labels...)
			if failed {
				// Failures gets its own copy: add wraps styled cells in place.
				row := slices.Clone(assocRow)
				target, ok := linkTarget(outURL)
				if !ok {
					target = ""
				}
				if err := failures.add(row, false, target); err != nil {
					return err
				}
			}
			if err := assocs.add(assocRow, failed, ""); err != nil {
				return err
			}
		}

		var errCode, errMsg any
		if r.Error != nil {
			errCode, errMsg = text(r.Error.Code), text(r.Error.Message)
		}
		slices.Sort(codes)
		instRow = append(instRow[:0], account, region, instance, string(r.Outcome),
			c.Total, c.Success, c.Failed, c.Pending, c.Other, nStale,
			text(strings.Join(codes, xlsxListSep)), errCode, errMsg, text(r.Source),
			date(&r.AuditedAt))
		instRow = append(instRow, labels...)
		if err := instances.add(instRow, r.Outcome == audit.OutcomeNoncompliant, ""); err != nil {
			return err
		}

		switch r.Outcome {
		case audit.OutcomeNotManaged, audit.OutcomeError, audit.OutcomeInvalid:
			code, msg := None, ""
			if r.Error != nil {
				code, msg = orNone(r.Error.Code), r.Error.Message
			}
			probRow = append(probRow[:0], account, region, instance, string(r.Outcome),
				text(code), text(msg), text(r.Source))
			probRow = append(probRow, labels...)
			if err := problems.add(probRow, false, ""); err != nil {
				return err
			}
		}
		return nil
	})
}

// summary writes the Summary sheet top to bottom in two columns.
type summary struct {
	f   *excelize.File
	st  xlsxStyles
	row int
	err error
}

func (s *summary) cell(col string, v any, style int) {
	if s.err != nil {
		return
	}
	ref := col + strconv.Itoa(s.row)
	if str, ok := v.(string); ok {
		// SetCellStr writes a text cell whatever the text begins with.
		s.err = s.f.SetCellStr(sheetSummary, ref, cellText(str))
	} else if v != nil {
		s.err = s.f.SetCellValue(sheetSummary, ref, v)
	}
	if s.err == nil && style != 0 {
		s.err = s.f.SetCellStyle(sheetSummary, ref, ref, style)
	}
}

// line writes a label and its value on a new row; a *time.Time is a date
// cell, nil an empty one.
func (s *summary) line(label string, v any) {
	s.row++
	s.cell("A", label, s.st.label)
	style := 0
	switch t := v.(type) {
	case *time.Time:
		v = date(t)
		style = s.st.date
	case float64:
		style = s.st.decimal
	case bool:
		v = yesNo(t)
	}
	s.cell("B", v, style)
}

func (s *summary) heading(title string) {
	s.row += 2
	s.cell("A", title, s.st.section)
	s.cell("B", nil, s.st.section)
	s.cell("C", nil, s.st.section)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// partialRun explains why a run is partial, or returns "" for a complete one.
func partialRun(r Run) string {
	switch {
	case r.Interrupted:
		return "PARTIAL RUN: the run was interrupted. These figures cover only the instances audited before it stopped."
	case !r.Complete:
		return "PARTIAL RUN: the run did not complete (some targets have no result or ended in an error). See the Problems sheet."
	}
	return ""
}

func writeSummary(f *excelize.File, st xlsxStyles, m *Model, notes []string) error {
	s := &summary{f: f, st: st}
	for _, w := range []struct {
		col   string
		width float64
	}{{"A", 40}, {"B", 24}, {"C", 12}} {
		if err := f.SetColWidth(sheetSummary, w.col, w.col, w.width); err != nil {
			return err
		}
	}
	s.row = 1
	s.cell("A", "SSM association audit", st.title)
	s.row++
	s.cell("A", m.Headline, st.label)
	if p := partialRun(m.Run); p != "" {
		s.row++
		s.cell("A", p, st.partial)
		// The fill runs under the whole line of text.
		for col := 'B'; col <= 'K'; col++ {
			s.cell(string(col), nil, st.partial)
		}
	}
	for _, n := range notes {
		s.row++
		s.cell("A", n, 0)
	}

	t := m.Totals
	s.heading("Key figures")
	s.line("Instances", t.Instances)
	s.line("Audited instances", t.Audited)
	s.line("Non-compliant instances", t.Outcomes[audit.OutcomeNoncompliant])
	s.line("Non-compliant % of audited", t.PercentNoncompliant)
	s.line("Associations", t.Associations)
	s.line("Failed associations", m.Failures.Count)
	s.line("Stale associations", m.Stale.Count)
	s.line("Instances without associations", m.NoAssociations.Count)
	s.line("Problems (not managed, errors, invalid)", m.Problems.Count)

	r := m.Run
	s.heading("Run")
	s.line("Version", r.Version)
	s.line("Started (UTC)", r.StartedAt)
	s.line("Ended (UTC)", r.EndedAt)
	s.line("Complete", r.Complete)
	s.line("Interrupted", r.Interrupted)
	if r.Error != "" {
		s.line("Stopped because", r.Error)
	}
	s.line("Targets", r.Targets)
	s.line("Duplicate input lines", r.Duplicates)
	s.line("Invalid input lines", r.Invalid)
	s.line("Resumed results", r.Resumed)
	s.line("API calls", r.Stats.Calls)
	s.line("Pages", r.Stats.Pages)
	s.line("Throttled calls", r.Stats.Throttled)
	s.line("Retries", r.Stats.Retries)
	s.line("Calls per second", r.Stats.Rate)
	s.line("Fetch seconds", r.Stats.Seconds)
	s.line("Stale after", m.Settings.StaleAfter)
	s.line("Stale before (UTC)", m.Settings.StaleBefore)
	for _, k := range slices.Sorted(maps.Keys(r.Options)) {
		s.line("Option "+k, optionText(r.Options[k]))
	}

	s.heading("Instances by outcome")
	s.row++
	outcomeHeader := s.row
	for col, h := range []string{"Outcome", "Instances", "Percent"} {
		s.cell(string(rune('A'+col)), h, st.header)
	}
	first := s.row + 1
	for _, o := range m.Outcomes {
		s.row++
		s.cell("A", string(o.Outcome), 0)
		s.cell("B", o.Instances, 0)
		s.cell("C", o.Percent, st.decimal)
	}
	outcomes := [2]int{first, s.row}

	s.heading("Top error codes (failed associations)")
	s.row++
	codeHeader := s.row
	for col, h := range []string{"Error code", "Associations", "Instances"} {
		s.cell(string(rune('A'+col)), h, st.header)
	}
	first = s.row + 1
	top := m.ErrorCodes[:min(len(m.ErrorCodes), m.Settings.Top)]
	for _, ec := range top {
		s.row++
		s.cell("A", ec.Code, 0)
		s.cell("B", ec.Associations, 0)
		s.cell("C", ec.Instances, 0)
	}
	if len(top) == 0 {
		s.row++
		s.cell("A", "No failed associations.", 0)
	}
	codes := [2]int{first, s.row}
	if s.err != nil {
		return s.err
	}

	maxOutcome := 0
	for _, o := range m.Outcomes {
		maxOutcome = max(maxOutcome, o.Instances)
	}
	if err := addBarChart(f, "E6", "Instances by outcome", outcomeHeader, outcomes, maxOutcome); err != nil {
		return err
	}
	if len(top) > 0 {
		if err := addBarChart(f, "E24", "Top error codes (failed associations)", codeHeader, codes, top[0].Associations); err != nil {
			return err
		}
	}
	// Summary prints on one landscape page.
	fit, landscape := 1, "landscape"
	if err := f.SetPageLayout(sheetSummary, &excelize.PageLayoutOptions{
		Orientation: &landscape, FitToWidth: &fit, FitToHeight: &fit,
	}); err != nil {
		return err
	}
	enable := true
	return f.SetSheetProps(sheetSummary, &excelize.SheetPropsOptions{FitToPage: &enable})
}

// optionText renders a run option: a string as it is, anything else as JSON.
func optionText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// addBarChart adds a horizontal bar chart of the Summary cells A (names) and
// B (values) of the rows rows[0] to rows[1]; the series is named by the cell
// B of the row header. maxVal is the largest value: small counts get whole
// ticks.
func addBarChart(f *excelize.File, at, title string, header int, rows [2]int, maxVal int) error {
	ref := func(col string) string {
		return fmt.Sprintf("%s!$%s$%d:$%s$%d", sheetSummary, col, rows[0], col, rows[1])
	}
	noVary := false
	axisFont := excelize.Font{Family: xlsxFont, Size: 9, Color: "404040"}
	valueAxis := excelize.ChartAxis{MajorGridLines: true, Font: axisFont}
	if maxVal < 10 {
		valueAxis.MajorUnit = 1
	}
	err := f.AddChart(sheetSummary, at, &excelize.Chart{
		Type: excelize.Bar,
		Series: []excelize.ChartSeries{{
			Name:       fmt.Sprintf("%s!$B$%d", sheetSummary, header),
			Categories: ref("A"),
			Values:     ref("B"),
			Fill:       excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"4472C4"}},
		}},
		Title:      excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: title}}},
		Legend:     excelize.ChartLegend{Position: "none"},
		VaryColors: &noVary,
		// Categories top to bottom in the order of the cells.
		XAxis:     excelize.ChartAxis{ReverseOrder: true, Font: axisFont},
		YAxis:     valueAxis,
		PlotArea:  excelize.ChartPlotArea{ShowVal: true},
		Dimension: excelize.ChartDimension{Width: 560, Height: 320},
		Format:    excelize.GraphicOptions{AltText: title},
	})
	if err != nil {
		return fmt.Errorf("adding chart %q: %w", title, err)
	}
	return nil
}
