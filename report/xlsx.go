package report

import (
	"bufio"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
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
	"github.com/auditor-dev/auditor/internal/extsort"
)

// XLSXFile is the file FormatXLSX writes.
const XLSXFile = "report.xlsx"

// The sheets of report.xlsx, in workbook order. A list longer than a sheet
// can hold continues on "Failures (2)", "Failures (3)", ... right after it.
const (
	sheetSummary      = "Summary"
	sheetChanges      = "Changes"
	sheetFailures     = "Failures"
	sheetErrorCodes   = "Error codes"
	sheetGroups       = "By association"
	sheetLabels       = "By label"
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

// xlsxDateFormat is the number format of every date cell; dates are UTC, to
// the millisecond that SSM serves.
const xlsxDateFormat = "yyyy-mm-dd hh:mm:ss.000"

// xlsxPercentFormat is the built-in number format 10, "0.00%": percentages
// are stored as fractions (0.3003), so that a formula over them is right.
const xlsxPercentFormat = 10

// xlsxEdgePercentFormat is the number format of a fraction that is neither
// 0 nor 1 but that xlsxPercentFormat would show as 0.00% or 100.00%
// (edgeShare): "<0.01%" or ">99.99%", the cell keeping the exact fraction.
const xlsxEdgePercentFormat = `[<0.5]"<0.01%";">99.99%"`

// edgeShare reports whether the fraction v is neither none nor all but
// shows as 0.00% or 100.00% in xlsxPercentFormat.
func edgeShare(v float64) bool {
	return v > 0 && v < 1 && (v < 0.00005 || v >= 0.99995)
}

// xlsxFont is the workbook's font, excelize's default, named in every style
// that sets a font so that bold text keeps the same face.
const xlsxFont = "Calibri"

// xlsxListSep joins the values of a multi-valued cell.
const xlsxListSep = "; "

// xlsxCreator is the workbook's author in its document properties.
const xlsxCreator = "auditor"

type xlsxWriter struct {
	stale staleRule
	opts  Options
	// now is the clock of the document's "created" property.
	now func() time.Time
}

// xlsxNow is the clock a workbook is dated by when its record says no time
// its run ended; a variable so that tests can move it.
var xlsxNow = time.Now

func newXLSX(opts Options) Writer {
	return xlsxWriter{stale: newStaleRule(opts), opts: opts, now: xlsxNow}
}

// Write writes report.xlsx via atomicfile. The sheets, in order:
//
//   - Summary: the headline, a "PARTIAL RUN" line when the run was not
//     complete or was interrupted, the key figures (as text, in the HTML's
//     words, where it says no count: "unknown" for those of the audited
//     instances when none was audited, "off" for the stale associations
//     when the check was off), the run in words (Model.About), the
//     instances per outcome (named as in the HTML, with their share of the
//     audited instances) and the top failures, with a chart of each
//     coloured as in the HTML (the charts read those cells).
//   - Failures: every Failed association of the audited instances, streamed
//     from rs (not the Model's capped list) in the Model's order: those of
//     the instances with the most failures first, then by key and
//     association ID, as report.html and summary.json list them. An output
//     URL whose scheme is http, https or s3 is a link (the first 1,000 of a
//     sheet: see xlsxMaxLinks); anything else, such as javascript:, is
//     plain text. Associations shows URLs as text only.
//   - Error codes and By association: Model.ErrorCodes and
//     Model.Associations.
//   - By label, when the instances have labels: Model.Labels, one row per
//     label value.
//   - Instances: one row per instance, every outcome, those with the most
//     failed associations first, then the most stale, then in key order.
//   - Associations: every association row, streamed from rs; Partial marks
//     the rows of an instance whose audit stopped partway, which no other
//     sheet counts.
//   - Problems: every instance that is not managed, ended in an error, or was
//     invalid input, streamed from rs in the Model's order: errors first,
//     then not managed, then invalid input, each in key order.
//
// The lists have the label columns (Model.LabelKeys) right after the
// instance ID, a bold header row that stays frozen and an autofilter;
// non-compliant instances, Failed associations and association groups with
// failures are filled. Numbers are number cells: counts, and association and
// document versions that are whole numbers. Percentages are fractions with a
// percent format. Dates are date cells in UTC, to the millisecond. Text is
// always a text cell, never a formula, whatever it begins with; text past
// Excel's 32,767 characters is cut and ends in a visible "… [cut: N
// characters]" marker. A list that passes Excel's 1,048,576 rows continues
// on "Name (2)" and so on. The document properties name the title, the
// subject (the headline), the creator "auditor" and, as the time it was
// created, the time its run ended (Model.Run.EndedAt; the time it is
// rendered when that is unknown). The parts are in name order (sortedZip):
// the same record renders the same bytes.
//
// The list sheets stream from rs, one result at a time, so memory does not
// grow with the number of associations while rows are written (excelize
// keeps each sheet's rows in a temporary file past 16 MB, and the finished
// zip is written straight to the file rather than assembled in memory
// first). What excelize still holds is the shared parts of the workbook
// and, while it zips a streamed sheet, that sheet's buffer. Associations
// is written in one pass in the record's order; Failures, Instances and
// Problems are sorted by what needs action, so that pass keeps 12 bytes
// for each instance they list (on disk past sortInMemory), and each then
// reads the record again in its order. The Model must come from the same
// rs: a list whose length differs from the Model's count is an error.
func (w xlsxWriter) Write(ctx context.Context, m *Model, rs *audit.Records, dir string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, XLSXFile)
	f := excelize.NewFile(excelize.Options{TmpDir: w.opts.TmpDir})
	defer f.Close()
	if err := w.build(ctx, f, m, rs); err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	err := atomicfile.Write(path, func(out io.Writer) error {
		// excelize assembles the whole zip in a memory buffer before it
		// writes it out; handing it a zip writer on the file instead halves
		// the peak memory of a million-row workbook (BENCHMARKS.md). What
		// this path skips is excelize's fix-up of zip64 headers for sheet
		// parts over 4 GiB, far past the row limit a sheet is split at. The
		// zip writer puts the parts in name order (see sortedZip).
		z, err := newSortedZip(out, w.opts.TmpDir)
		if err != nil {
			return err
		}
		defer z.remove()
		f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return z })
		return f.Write(io.Discard)
	})
	if err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	return []string{path}, nil
}

// xlsxStyles are the style IDs of the workbook, made once.
type xlsxStyles struct {
	header, date, fill, dateFill, link, percent, percentFill int
	// edge and edgeFill are percent and percentFill for an edgeShare.
	edge, edgeFill                 int
	title, section, partial, label int
	// summaryDate is date, left as the Summary's other values are.
	summaryDate int
}

// percentStyle returns the style of the percent cell v: edge for an
// edgeShare, else plain.
func (s xlsxStyles) percentStyle(v any, plain, edge int) int {
	if f, ok := v.(float64); ok && edgeShare(f) {
		return edge
	}
	return plain
}

func newXLSXStyles(f *excelize.File) (xlsxStyles, error) {
	var s xlsxStyles
	dateFmt, edgeFmt := xlsxDateFormat, xlsxEdgePercentFormat
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
		{&s.summaryDate, excelize.Style{CustomNumFmt: &dateFmt, Alignment: &excelize.Alignment{Horizontal: "left"}}},
		{&s.fill, excelize.Style{Fill: fill}},
		{&s.dateFill, excelize.Style{Fill: fill, CustomNumFmt: &dateFmt}},
		{&s.link, excelize.Style{Font: &excelize.Font{Family: xlsxFont, Size: 11, Color: "0563C1", Underline: "single"}}},
		{&s.percent, excelize.Style{NumFmt: xlsxPercentFormat}},
		{&s.percentFill, excelize.Style{NumFmt: xlsxPercentFormat, Fill: fill}},
		{&s.edge, excelize.Style{CustomNumFmt: &edgeFmt}},
		{&s.edgeFill, excelize.Style{CustomNumFmt: &edgeFmt, Fill: fill}},
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
	kindPercent
	kindLink
)

// xlsxList writes one list to one or more sheets with a StreamWriter each.
// The sheets must exist, in order, before the first row (see planSheets), so
// that the workbook's sheet order and its autofilter names are right.
type xlsxList struct {
	f      *excelize.File
	st     xlsxStyles
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
	l := &xlsxList{f: f, st: st, names: names, cols: cols, want: want, part: -1}
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
		case kindPercent:
			l.plain[i], l.filled[i] = st.percent, st.percentFill
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
	if err := printList(l.f, name); err != nil {
		return fmt.Errorf("sheet %s: %w", name, err)
	}
	sw, err := l.f.NewStreamWriter(name)
	if err != nil {
		return fmt.Errorf("sheet %s: %w", name, err)
	}
	// One width a run of equal columns (the label columns): excelize
	// merges each call with every column set before it.
	for i := 0; i < len(l.cols); {
		j := i + 1
		for j < len(l.cols) && l.cols[j].width == l.cols[i].width {
			j++
		}
		if err := sw.SetColWidth(i+1, j, l.cols[i].width); err != nil {
			return fmt.Errorf("sheet %s: %w", name, err)
		}
		i = j
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

// printList sets up a list sheet for printing: its header row repeats at
// the top of every page (the sheet's _xlnm.Print_Titles), landscape, as wide
// as one page and as many pages long as it takes (fitToHeight 0). It runs
// before the sheet's StreamWriter flushes, which writes these settings.
func printList(f *excelize.File, sheet string) error {
	err := f.SetDefinedName(&excelize.DefinedName{
		Name: "_xlnm.Print_Titles", RefersTo: "'" + strings.ReplaceAll(sheet, "'", "''") + "'!$1:$1", Scope: sheet,
	})
	wide, long, landscape := 1, 0, "landscape"
	if err == nil {
		err = f.SetPageLayout(sheet, &excelize.PageLayoutOptions{Orientation: &landscape, FitToWidth: &wide, FitToHeight: &long})
	}
	if err == nil {
		fit := true
		err = f.SetSheetProps(sheet, &excelize.SheetPropsOptions{FitToPage: &fit})
	}
	return err
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
		if l.cols[i].kind == kindPercent {
			if highlight {
				s = l.st.percentStyle(vals[i], s, l.st.edgeFill)
			} else {
				s = l.st.percentStyle(vals[i], s, l.st.edge)
			}
		}
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
	return cutCell(s, s, func(string, rune) int { return 0 }, func(kept string) string { return kept })
}

// cutCell returns stored, the text s as the cell stores it, when it is
// within the limit of a cell; else the longest start of s that store
// turns, with the marker of a cut, into a text within it. grow says by
// how many code units the stored text is longer than s at a rune r (rest
// being s from r on).
func cutCell(s, stored string, grow func(rest string, r rune) int, store func(kept string) string) string {
	units := 0
	for _, r := range stored {
		units += utf16Len(r)
	}
	if units <= excelize.TotalCellChars {
		return stored
	}
	marker := fmt.Sprintf("… [cut: %d characters]", utf8.RuneCountInString(s))
	keep := excelize.TotalCellChars - len(utf16.Encode([]rune(marker)))
	units = 0
	for i, r := range s {
		n := utf16Len(r) + grow(s[i:], r)
		if units+n > keep {
			return store(s[:i]) + marker
		}
		units += n
	}
	return stored
}

// xlsxLiteral returns s with each underscore that begins an OOXML escape
// (_xHHHH_, which Excel reads as the character U+HHHH) escaped itself as
// _x005F_, so that Excel shows s as written: an error code _x000D_ stays
// that text, not a carriage return. The stream writer of excelize does the
// same for the list sheets; text that goes to the shared strings table
// (SetCellStr, the Summary sheet) is stored as given, so it must pass here
// first. Escapes that overlap (_x000D_x000A_) each get theirs.
func xlsxLiteral(s string) string {
	if !strings.Contains(s, "_x") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '_' && isOOXMLEscape(s[i:]) {
			b.WriteString("_x005F")
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// literalCellText is xlsxLiteral(s), cut as cellText cuts, to the limit
// of a cell in the escaped text: each escaped escape grows by six
// characters, and excelize cuts a stored text past the limit with no
// marker.
func literalCellText(s string) string {
	grow := func(rest string, r rune) int {
		if r == '_' && isOOXMLEscape(rest) {
			return len("_x005F")
		}
		return 0
	}
	return cutCell(s, xlsxLiteral(s), grow, xlsxLiteral)
}

// isOOXMLEscape reports whether s begins with _xHHHH_.
func isOOXMLEscape(s string) bool {
	if len(s) < 7 || s[0] != '_' || s[1] != 'x' || s[6] != '_' {
		return false
	}
	for _, c := range []byte(s[2:6]) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
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
	// Cut to the millisecond the cells show, as the CSV is: a finer
	// fraction would round the shown second up.
	return t.UTC().Truncate(time.Millisecond)
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

// labelsAfter is the column of every list sheet of instances that the
// label columns come right after: the instance ID.
const labelsAfter = "Instance"

// labelsAt returns where the label columns go among the fixed columns of a
// list sheet: right after its labelsAfter column.
func labelsAt(fixed []xlsxColumn) int {
	return slices.IndexFunc(fixed, func(c xlsxColumn) bool { return c.name == labelsAfter }) + 1
}

var (
	// associationColumns are the columns of Associations; Failures has all
	// but the last, Partial, since it lists no partial row.
	associationColumns = []xlsxColumn{
		{name: "Account", width: 14},
		{name: "Region", width: 12},
		{name: "Instance", width: 21},
		{name: "Association", width: 30},
		{name: "Association ID", width: 38},
		{name: "Association name", width: 26},
		{name: "Association version", width: 11},
		{name: "Document", width: 30},
		{name: "Document version", width: 11},
		{name: "Status", width: 10},
		{name: "Detailed status", width: 16},
		{name: "Execution date (UTC)", width: 23, kind: kindDate},
		{name: "Stale", width: 7},
		{name: "Error code", width: 22},
		{name: "Failure", width: 26},
		{name: "Execution summary", width: 50},
		{name: "Output URL", width: 50, kind: kindLink},
		{name: "Partial", width: 8},
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
		{name: "Failures", width: 28},
		{name: "Partial", width: 8},
		{name: "Error code", width: 22},
		{name: "Error message", width: 50},
		{name: "Source", width: 16},
		{name: "Audited at (UTC)", width: 23, kind: kindDate},
		{name: "Detail", width: 10},
		{name: "Ping status", width: 15},
		{name: "Agent version", width: 22},
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
		{name: "Failure", width: 28},
		{name: "Error code", width: 22},
		{name: "Failed associations", width: 12},
		{name: "Instances", width: 10},
		{name: "Association names", width: 40},
		{name: "Example instances", width: 60},
	}
	groupColumns = []xlsxColumn{
		{name: "Association", width: 34},
		{name: "Document", width: 30},
		{name: "Instances", width: 10},
		{name: "Associations", width: 12},
		{name: "Success", width: 9},
		{name: "Failed", width: 9},
		{name: "Pending", width: 9},
		{name: "Other", width: 9},
		{name: "Stale", width: 9},
		{name: "Success %", width: 10, kind: kindPercent},
		{name: "Grouped by (name or ID)", width: 38},
	}
)

// labelColumnsFixed are the columns of By label before one per outcome.
var labelColumnsFixed = []xlsxColumn{
	{name: "Label", width: 16},
	{name: "Value", width: 24},
	{name: "Instances", width: 10},
	{name: "Audited", width: 10},
	{name: "Non-compliant % of audited", width: 14, kind: kindPercent},
}

// labelSheetColumns are the columns of By label: the fixed ones, one per
// outcome, then the failed and stale associations.
func labelSheetColumns() []xlsxColumn {
	cols := slices.Clone(labelColumnsFixed)
	for _, o := range audit.Outcomes() {
		cols = append(cols, xlsxColumn{name: outcomeLabel(o), width: 12})
	}
	return append(cols,
		xlsxColumn{name: "Failed associations", width: 12},
		xlsxColumn{name: "Stale associations", width: 12})
}

// withLabels returns fixed with one column per label key after the instance
// ID.
func withLabels(fixed []xlsxColumn, keys []string) []xlsxColumn {
	at := labelsAt(fixed)
	cols := slices.Clone(fixed[:at])
	cols = append(cols, labelHeaders(keys, fixed)...)
	return append(cols, fixed[at:]...)
}

// withLabelCells returns row with the label cells inserted at at (labelsAt
// of the row's fixed columns), reusing dst.
func withLabelCells(dst, row, labels []any, at int) []any {
	dst = append(dst[:0], row[:at]...)
	dst = append(dst, labels...)
	return append(dst, row[at:]...)
}

// fraction returns n/of, the value of a percent cell; nil (an empty cell)
// when of is 0.
func fraction(n, of int) any {
	if of == 0 {
		return nil
	}
	return float64(n) / float64(of)
}

// versionCell is an association or document version: a number cell when it
// is a whole number ("3"), so that Excel neither flags it as a number stored
// as text nor sorts 10 before 9; text otherwise ("$DEFAULT").
func versionCell(s string) any {
	// Only plain digits: no sign, no leading zero, at most 15 digits (what
	// a spreadsheet holds exactly).
	if s == "" || len(s) > 15 || (s[0] == '0' && s != "0") || strings.Trim(s, "0123456789") != "" {
		return text(s)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return text(s)
	}
	return n
}

// ErrTooWide is returned (wrapped) by the workbook's Writer when the
// instances have more label keys than a sheet has columns: the workbook is
// not written, and the other formats, which keep every label, are.
var ErrTooWide = errors.New("the workbook cannot show every label")

// OnlyTooWide reports whether err, as Render or Split returns it, says
// only that the workbook was left out (ErrTooWide): every other report was
// written.
func OnlyTooWide(err error) bool {
	if err == nil {
		return false
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if !OnlyTooWide(e) {
				return false
			}
		}
		return true
	}
	return errors.Is(err, ErrTooWide)
}

// tooWide reports whether a sheet cannot hold the columns of labelKeys
// label keys besides the widest sheet's own.
func tooWide(labelKeys int) bool {
	widest := 0
	for _, fixed := range [][]xlsxColumn{associationColumns, instanceColumns, problemColumns, changeSheetColumns} {
		widest = max(widest, len(fixed))
	}
	return widest+labelKeys > excelize.MaxColumns
}

// TooWide reports whether the workbook of rs is one that the workbook's
// Writer leaves out (ErrTooWide): its instances, with keys (as
// Options.LabelKeys), have more label keys than a sheet has columns. It
// reads every result of rs, and returns the error of reading them.
func TooWide(rs *audit.Records, keys []string) (bool, error) {
	seen := map[string]bool{}
	for _, k := range keys {
		seen[k] = true
	}
	err := rs.Each(func(r audit.Result) error {
		for k := range r.Labels {
			seen[k] = true
		}
		return nil
	})
	return tooWide(len(seen)), err
}

func (w xlsxWriter) build(ctx context.Context, f *excelize.File, m *Model, rs *audit.Records) error {
	if tooWide(len(m.LabelKeys)) {
		return fmt.Errorf("%w: the instances have %d label keys, and a sheet holds %s columns at most; the CSV, HTML and JSON formats keep every label",
			ErrTooWide, len(m.LabelKeys), thousands(excelize.MaxColumns))
	}
	st, err := newXLSXStyles(f)
	if err != nil {
		return err
	}
	nLabelValues := 0
	for _, lb := range m.Labels {
		nLabelValues += len(lb.Values)
	}
	failureNames := sheetNames(sheetFailures, m.Failures.Count)
	codeNames := sheetNames(sheetErrorCodes, len(m.ErrorCodes))
	groupNames := sheetNames(sheetGroups, len(m.Associations))
	var labelNames []string
	if len(m.LabelKeys) > 0 {
		labelNames = sheetNames(sheetLabels, nLabelValues)
	}
	instanceNames := sheetNames(sheetInstances, m.Totals.Instances)
	// A row per association row, partial ones included: the associations
	// counted from overviews have none.
	assocRows := m.Totals.Associations - m.Totals.OverviewAssociations + m.Totals.PartialAssociations
	assocNames := sheetNames(sheetAssociations, assocRows)
	problemNames := sheetNames(sheetProblems, m.Problems.Count)
	var changeNames []string
	if m.Changes != nil {
		changeNames = sheetNames(sheetChanges, m.Changes.Count)
	}
	if err := f.SetSheetName("Sheet1", sheetSummary); err != nil {
		return err
	}
	for _, names := range [][]string{changeNames, failureNames, codeNames, groupNames, labelNames, instanceNames, assocNames, problemNames} {
		for _, name := range names {
			if _, err := f.NewSheet(name); err != nil {
				return fmt.Errorf("adding sheet %s: %w", name, err)
			}
		}
	}

	assocCols := withLabels(associationColumns, m.LabelKeys)
	failures := newXLSXList(f, st, failureNames, m.Failures.Count, assocCols[:len(assocCols)-1])
	instances := newXLSXList(f, st, instanceNames, m.Totals.Instances, withLabels(instanceColumns, m.LabelKeys))
	assocs := newXLSXList(f, st, assocNames, assocRows, assocCols)
	problems := newXLSXList(f, st, problemNames, m.Problems.Count, withLabels(problemColumns, m.LabelKeys))
	orders := newSheetOrders(w.opts.TmpDir)
	defer orders.Close()
	if err := w.streamLists(ctx, m, rs, assocs, orders); err != nil {
		return err
	}
	// Failures, Instances and Problems are in the order of what needs
	// action, as in the Model: each reads the record again in its order.
	if err := w.writeFailures(ctx, failures, m, rs, orders.failures); err != nil {
		return err
	}
	if err := w.writeInstances(ctx, instances, m, rs, orders.instances); err != nil {
		return err
	}
	if err := w.writeProblems(ctx, problems, m, rs, orders.problems); err != nil {
		return err
	}
	for _, l := range []*xlsxList{failures, instances, assocs, problems} {
		if err := l.close(); err != nil {
			return err
		}
	}

	if m.Changes != nil {
		if err := w.writeChanges(ctx, f, st, m, changeNames); err != nil {
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
		row = append(row[:0], text(ec.Name), text(ec.Code), ec.Associations, ec.Instances,
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
		row = append(row[:0], text(g.Name), text(g.Document), g.Instances, g.Total,
			g.Success, g.Failed, g.Pending, g.Other, g.Stale, fraction(g.Success, g.Total), text(g.Association))
		if err := groups.add(row, g.Failed > 0, ""); err != nil {
			return err
		}
	}
	if err := groups.close(); err != nil {
		return err
	}

	if labelNames != nil {
		cols := labelSheetColumns()
		labels := newXLSXList(f, st, labelNames, nLabelValues, cols)
		row = make([]any, len(cols))
		for _, lb := range m.Labels {
			for _, v := range lb.Values {
				// No value is an empty cell, as in instances.csv: apart
				// from a value that reads "(none)".
				value := text(v.Value)
				if v.NoValue {
					value = nil
				}
				row = append(row[:0], text(lb.Key), value, v.Instances, v.Audited,
					fraction(v.Outcomes[audit.OutcomeNoncompliant], v.Audited))
				for _, o := range audit.Outcomes() {
					row = append(row, v.Outcomes[o])
				}
				row = append(row, v.Associations.Failed, v.Associations.Stale)
				if err := labels.add(row, v.Outcomes[audit.OutcomeNoncompliant] > 0, ""); err != nil {
					return err
				}
			}
		}
		if err := labels.close(); err != nil {
			return err
		}
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
	if n := m.Totals.OverviewAssociations; n > 0 {
		notes = append(notes, fmt.Sprintf("By association, Failures and Associations are of the associations fetched in detail: the %s counted from the association overview (--triage) are in none of them, since an overview counts associations without naming them.",
			thousands(n)))
	}
	for _, lb := range m.Labels {
		if lb.ValuesTotal > len(lb.Values) {
			notes = append(notes, fmt.Sprintf("By label lists %s of the %s values of %q (those with the most non-compliant instances).",
				thousands(len(lb.Values)), thousands(lb.ValuesTotal), lb.Key))
		}
	}
	if err := writeSummary(f, st, m, notes); err != nil {
		return fmt.Errorf("sheet %s: %w", sheetSummary, err)
	}
	// Dated when the run ended, not when it is rendered, so that the same
	// record renders the same bytes.
	created := w.now().UTC().Format(time.RFC3339)
	if m.Run.EndedAt != nil {
		created = m.Run.EndedAt.UTC().Format(time.RFC3339)
	}
	if err := f.SetDocProps(&excelize.DocProperties{
		Title:          "SSM association audit",
		Subject:        m.Headline,
		Description:    "The audit of AWS SSM State Manager associations across a fleet: " + m.Headline,
		Creator:        xlsxCreator,
		LastModifiedBy: xlsxCreator,
		Created:        created,
		Modified:       created,
		Language:       "en-US",
	}); err != nil {
		return fmt.Errorf("setting document properties: %w", err)
	}
	// Summary, the first sheet, is the active one by default. (Setting it
	// would make excelize parse every streamed sheet back into memory.)
	return nil
}

// instanceRow is what the Instances sheet shows of one instance.
type instanceRow struct {
	account, region, id string
	outcome             audit.Outcome
	counts              audit.Counts
	failures            string
	partial             bool
	errCode, errMsg     string
	source              string
	audited             time.Time
	labels              []string
	detail, ping, agent string
}

// rowOf is r's row of the Instances sheet.
func (w xlsxWriter) rowOf(m *Model, r audit.Result) instanceRow {
	row := instanceRow{
		account: r.AccountID, region: r.Region, id: r.InstanceID,
		outcome: r.Outcome, counts: w.stale.count(r), partial: r.Partial(),
		failures: strings.Join(failureNames(r), xlsxListSep),
		source:   r.Source, audited: r.AuditedAt,
		detail: r.Detail, ping: infoPing(r.Info), agent: infoAgent(r.Info),
	}
	if r.Error != nil {
		row.errCode, row.errMsg = r.Error.Code, r.Error.Message
	}
	if len(m.LabelKeys) > 0 {
		row.labels = make([]string, len(m.LabelKeys))
		for i, k := range m.LabelKeys {
			row.labels[i] = r.Labels[k]
		}
	}
	return row
}

// sheetOrder is where an instance goes on a sheet sorted by what needs
// action: by rank, then by its position in the record. The record is sorted
// by key, so its position stands for the key, and a sheet sorts 12 bytes an
// instance rather than its rows: in memory up to sortInMemory instances, on
// disk past them. Each sheet then reads the record again in that order.
type sheetOrder struct {
	// rank orders first; lower comes first.
	rank [2]int32
	pos  int32
}

func compareSheetOrder(x, y sheetOrder) int {
	return cmp.Or(cmp.Compare(x.rank[0], y.rank[0]), cmp.Compare(x.rank[1], y.rank[1]), cmp.Compare(x.pos, y.pos))
}

// The ranks of the sorted sheets, each the order of its list in the Model
// (and so of report.html and summary.json).
//
// instanceRank: Instances, the most failed associations first, then the
// most stale (Model.WorstInstances).
func instanceRank(c audit.Counts) [2]int32 { return [2]int32{-int32(c.Failed), -int32(c.Stale)} }

// failureRank: Failures, the rows of the instances with the most failed
// associations first (Model.Failures).
func failureRank(c audit.Counts) [2]int32 { return [2]int32{-int32(c.Failed), 0} }

// problemRank: Problems, errors first, then not managed, then invalid
// input (Model.Problems).
func problemRank(o audit.Outcome) [2]int32 { return [2]int32{int32(problemOrder[o]), 0} }

// sortInMemory is how many instances the order of a sorted sheet is sorted
// in memory for. A variable so that tests can make it spill.
var sortInMemory = 1 << 16

var sheetOrderCodec = extsort.Codec[sheetOrder]{
	Append: func(b []byte, o sheetOrder) []byte {
		for _, v := range [3]int32{o.rank[0], o.rank[1], o.pos} {
			b = binary.LittleEndian.AppendUint32(b, uint32(v))
		}
		return b
	},
	Read: func(r *bufio.Reader) (sheetOrder, error) {
		var b [12]byte
		if n, err := io.ReadFull(r, b[:]); err != nil {
			if n == 0 && err == io.EOF {
				return sheetOrder{}, io.EOF
			}
			return sheetOrder{}, io.ErrUnexpectedEOF
		}
		u := func(b []byte) int32 { return int32(binary.LittleEndian.Uint32(b)) }
		return sheetOrder{rank: [2]int32{u(b[0:]), u(b[4:])}, pos: u(b[8:])}, nil
	},
}

// sheetOrders are the orders of the sheets that are not in the record's
// order, gathered in the pass that writes Associations.
type sheetOrders struct {
	instances, failures, problems *extsort.Sorter[sheetOrder]
}

func newSheetOrders(tmpDir string) sheetOrders {
	sorter := func() *extsort.Sorter[sheetOrder] {
		return extsort.New(sortInMemory, tmpDir, compareSheetOrder, sheetOrderCodec)
	}
	return sheetOrders{instances: sorter(), failures: sorter(), problems: sorter()}
}

func (o sheetOrders) Close() error {
	return errors.Join(o.instances.Close(), o.failures.Close(), o.problems.Close())
}

// eachInOrder calls fn for the results of rs at the positions order yields,
// in that order.
func eachInOrder(ctx context.Context, rs *audit.Records, order *extsort.Sorter[sheetOrder], fn func(audit.Result) error) error {
	var sortErr error
	positions := func(yield func(int) bool) {
		for o, err := range order.Sorted() {
			if err != nil {
				sortErr = err
				return
			}
			if !yield(int(o.pos)) {
				return
			}
		}
	}
	err := rs.EachAt(positions, func(r audit.Result) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return fn(r)
	})
	return cmp.Or(err, sortErr)
}

// associationCells appends to dst the cells of one association row of
// Associations and Failures, without its labels: account, region and
// instance (already cells), then the association's columns, the last
// Partial.
func (w xlsxWriter) associationCells(dst []any, account, region, instance any, r audit.Result, a audit.Association) []any {
	failure := ""
	if a.Status == audit.StatusFailed {
		failure = failureName(a)
	}
	return append(dst[:0], account, region, instance,
		text(associationName(a)), text(a.AssociationID), text(a.AssociationName), versionCell(a.AssociationVersion),
		text(a.Name), versionCell(a.DocumentVersion), text(a.Status), text(a.DetailedStatus),
		date(a.ExecutionDate), yesNo(w.stale.stale(r, a)), text(a.ErrorCode), text(failure),
		text(a.ExecutionSummary), text(a.URL()), yesNo(r.Partial()))
}

// labelCells sets labels to the cells of r's labels, in the order of keys.
func labelCells(labels []any, keys []string, r audit.Result) {
	for i, k := range keys {
		labels[i] = text(r.Labels[k])
	}
}

// streamLists writes Associations in one pass over rs, in the record's
// order, and adds to orders where each instance goes on Instances,
// Failures (one with a failed association and a verdict) and Problems (one
// without a verdict).
func (w xlsxWriter) streamLists(ctx context.Context, m *Model, rs *audit.Records, assocs *xlsxList, orders sheetOrders) error {
	nLabels := len(m.LabelKeys)
	at := labelsAt(associationColumns)
	assocRow := make([]any, 0, len(associationColumns))
	fullRow := make([]any, 0, len(associationColumns)+nLabels)
	labels := make([]any, nLabels)
	pos := 0
	return rs.Each(func(r audit.Result) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		c := w.stale.count(r)
		here := int32(pos)
		pos++
		if err := orders.instances.Add(sheetOrder{rank: instanceRank(c), pos: here}); err != nil {
			return err
		}
		// Failures lists no partial row (see Model).
		if c.Failed > 0 && !r.Partial() {
			if err := orders.failures.Add(sheetOrder{rank: failureRank(c), pos: here}); err != nil {
				return err
			}
		}
		switch r.Outcome {
		case audit.OutcomeNotManaged, audit.OutcomeError, audit.OutcomeInvalid:
			if err := orders.problems.Add(sheetOrder{rank: problemRank(r.Outcome), pos: here}); err != nil {
				return err
			}
		}

		labelCells(labels, m.LabelKeys, r)
		account, region, instance := text(r.AccountID), text(r.Region), text(r.InstanceID)
		for _, a := range sortedAssociations(r) {
			assocRow = w.associationCells(assocRow, account, region, instance, r, a)
			fullRow = withLabelCells(fullRow, assocRow, labels, at)
			if err := assocs.add(fullRow, a.Status == audit.StatusFailed, ""); err != nil {
				return err
			}
		}
		return nil
	})
}

// writeFailures writes the Failures rows, reading the record again in
// their order: every Failed association of an instance with a verdict,
// those of the instances with the most failures first.
func (w xlsxWriter) writeFailures(ctx context.Context, l *xlsxList, m *Model, rs *audit.Records, order *extsort.Sorter[sheetOrder]) error {
	nLabels := len(m.LabelKeys)
	at := labelsAt(associationColumns)
	assocRow := make([]any, 0, len(associationColumns))
	failRow := make([]any, 0, len(associationColumns)+nLabels)
	labels := make([]any, nLabels)
	return eachInOrder(ctx, rs, order, func(r audit.Result) error {
		labelCells(labels, m.LabelKeys, r)
		account, region, instance := text(r.AccountID), text(r.Region), text(r.InstanceID)
		for _, a := range sortedAssociations(r) {
			if a.Status != audit.StatusFailed {
				continue
			}
			// Failures has every column of Associations but Partial.
			assocRow = w.associationCells(assocRow, account, region, instance, r, a)
			failRow = withLabelCells(failRow, assocRow[:len(assocRow)-1], labels, at)
			target, ok := linkTarget(a.URL())
			if !ok {
				target = ""
			}
			if err := l.add(failRow, false, target); err != nil {
				return err
			}
		}
		return nil
	})
}

// writeProblems writes the Problems rows, reading the record again in
// their order: the instances without a verdict, errors first.
func (w xlsxWriter) writeProblems(ctx context.Context, l *xlsxList, m *Model, rs *audit.Records, order *extsort.Sorter[sheetOrder]) error {
	at := labelsAt(problemColumns)
	probRow := make([]any, 0, len(problemColumns))
	fullRow := make([]any, 0, len(problemColumns)+len(m.LabelKeys))
	labels := make([]any, len(m.LabelKeys))
	return eachInOrder(ctx, rs, order, func(r audit.Result) error {
		labelCells(labels, m.LabelKeys, r)
		code, msg := None, ""
		if r.Error != nil {
			code, msg = orNone(r.Error.Code), r.Error.Message
		}
		probRow = append(probRow[:0], text(r.AccountID), text(r.Region), text(r.InstanceID), outcomeLabel(r.Outcome),
			text(code), text(msg), text(r.Source))
		fullRow = withLabelCells(fullRow, probRow, labels, at)
		return l.add(fullRow, false, "")
	})
}

// writeInstances writes the Instances rows, reading the record again in
// their order.
func (w xlsxWriter) writeInstances(ctx context.Context, l *xlsxList, m *Model, rs *audit.Records, order *extsort.Sorter[sheetOrder]) error {
	nLabels := len(m.LabelKeys)
	at := labelsAt(instanceColumns)
	fixed := make([]any, 0, len(instanceColumns))
	labels := make([]any, nLabels)
	out := make([]any, 0, len(instanceColumns)+nLabels)
	return eachInOrder(ctx, rs, order, func(res audit.Result) error {
		r := w.rowOf(m, res)
		c := r.counts
		var errCode, errMsg any
		if r.errCode != "" || r.errMsg != "" {
			errCode, errMsg = text(r.errCode), text(r.errMsg)
		}
		fixed = append(fixed[:0], text(r.account), text(r.region), text(r.id), outcomeLabel(r.outcome),
			c.Total, c.Success, c.Failed, c.Pending, c.Other, c.Stale,
			text(r.failures), yesNo(r.partial), errCode, errMsg, text(r.source), date(&r.audited),
			text(r.detail), text(r.ping), text(r.agent))
		for i, v := range r.labels {
			labels[i] = text(v)
		}
		out = withLabelCells(out, fixed, labels, at)
		return l.add(out, r.outcome == audit.OutcomeNoncompliant, "")
	})
}

// summary writes the Summary sheet top to bottom in two columns.
type summary struct {
	f   *excelize.File
	st  xlsxStyles
	row int
	err error
	// labels is the length of column A's text by row, and valued the rows
	// with a value in B: there a label cannot run on into B and is cut
	// where B begins.
	labels map[int]int
	valued map[int]bool
}

// Column A's width on Summary: at least summaryLabelMin, as wide as its
// longest label beside a value (bold: about a tenth wider), at most
// summaryLabelMax (a failure's name from outside can be of any length).
const (
	summaryLabelMin = 46.0
	summaryLabelMax = 100.0
)

// labelWidth is the width column A needs.
func (s *summary) labelWidth() float64 {
	w := summaryLabelMin
	for row, n := range s.labels {
		if s.valued[row] {
			w = max(w, math.Ceil(1.1*float64(n))+1)
		}
	}
	return min(w, summaryLabelMax)
}

func (s *summary) cell(col string, v any, style int) {
	if s.err != nil {
		return
	}
	ref := col + strconv.Itoa(s.row)
	switch str, ok := v.(string); {
	case col == "A" && ok:
		s.labels[s.row] = utf8.RuneCountInString(str)
	case col == "B" && v != nil:
		s.valued[s.row] = true
	}
	if str, ok := v.(string); ok {
		// SetCellStr writes a text cell whatever the text begins with, and
		// stores it unescaped (see xlsxLiteral).
		s.err = s.f.SetCellStr(sheetSummary, ref, literalCellText(str))
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
		style = s.st.summaryDate
	case bool:
		v = yesNo(t)
	}
	s.cell("B", v, style)
}

// percentLine writes a label and the fraction n/of as a percentage.
func (s *summary) percentLine(label string, n, of int) {
	s.row++
	s.cell("A", label, s.st.label)
	v := fraction(n, of)
	s.cell("B", v, s.st.percentStyle(v, s.st.percent, s.st.edge))
}

// figureWords are what a key figure says instead of a count, in the words
// of the HTML's cards: the value, and beside it what it means.
type figureWords struct{ value, note string }

var (
	// figureUnknown is a figure of the audited instances when none was.
	figureUnknown = figureWords{"unknown", "nothing audited"}
	// figureOff is the stale figure when the check was off.
	figureOff = figureWords{"off", "check turned off"}
)

// wordsLine writes a label and, for its value, words as text cells: the
// value in B, the note beside it in C.
func (s *summary) wordsLine(label string, w figureWords) {
	s.line(label, w.value)
	s.cell("C", w.note, 0)
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

// partialRun explains why m's run is partial, as the HTML's banner does,
// or returns "" for a complete one.
func partialRun(m *Model) string {
	r := m.Run
	switch {
	case r.Interrupted:
		return "PARTIAL RUN: the run was interrupted. These figures cover only the instances audited before it stopped."
	case r.Complete:
		return ""
	}
	var why []string
	if r.Targets > 0 && m.Totals.Instances < r.Targets {
		why = append(why, thousands(m.Totals.Instances)+" of "+thousands(r.Targets)+" targets have a result")
	}
	if n := r.RunWithoutResult; n > 0 {
		why = append(why, "the run left "+plural(n, "target", "targets")+" without a result, which of them are this group's is not known")
	}
	if n := m.Totals.Outcomes[audit.OutcomeError]; n > 0 {
		why = append(why, plural(n, "instance", "instances")+" ended in an error (see the Problems sheet)")
	}
	if n := len(r.Unaudited); n > 0 {
		why = append(why, plural(n, "account-region", "account-regions")+" could not be audited (Not audited, below)")
	}
	if n := len(r.ListedInPart); n > 0 {
		why = append(why, plural(n, "account-region", "account-regions")+" listed in part (Listed in part, below)")
	}
	if n := len(r.StoppedPartWay); n > 0 {
		why = append(why, plural(n, "account-region", "account-regions")+" stopped part way (Stopped part way, below)")
	}
	if len(why) == 0 && r.Error != "" {
		why = append(why, strings.ToLower(r.ErrorLabel())+": "+trunc(300, r.Error))
	}
	if len(why) == 0 {
		return "PARTIAL RUN: the run did not complete."
	}
	return "PARTIAL RUN: the run did not complete: " + strings.Join(why, "; ") + "."
}

// The hidden columns of Summary that hold one series per outcome for the
// outcome chart: column chartSeriesCol+k has outcome k's count in outcome
// k's row and nothing elsewhere, so that each bar takes its outcome's
// colour.
const chartSeriesCol = 27 // AA

func writeSummary(f *excelize.File, st xlsxStyles, m *Model, notes []string) error {
	s := &summary{f: f, st: st, labels: map[int]int{}, valued: map[int]bool{}}
	for _, w := range []struct {
		col   string
		width float64
	}{{"B", 58}, {"C", 14}} {
		if err := f.SetColWidth(sheetSummary, w.col, w.col, w.width); err != nil {
			return err
		}
	}
	s.row = 1
	s.cell("A", "SSM association audit", st.title)
	s.row++
	s.cell("A", m.Headline, st.label)
	if m.Group != nil {
		// A group's workbook reads like every other group's but for this.
		s.line("Group", m.Group.String())
	}
	if p := partialRun(m); p != "" {
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
	// Where the HTML says "unknown" (nothing audited: what fails, what to
	// fix first, what is stale) or "off" (the stale check), so does
	// Summary, in its words and as text: never a 0 that reads as nothing
	// to fix.
	blind := t.Audited == 0
	s.heading("Key figures")
	if m.Run.Targets > 0 {
		s.line("Targets "+targetsWhere(m.Run), m.Run.Targets)
	}
	s.line("Instances with a result", t.Instances)
	s.line("Audited instances (the basis of every %)", t.Audited)
	if blind {
		s.wordsLine("Non-compliant instances", figureUnknown)
		s.wordsLine("Non-compliant % of audited", figureUnknown)
	} else {
		s.line("Non-compliant instances", t.Outcomes[audit.OutcomeNoncompliant])
		s.percentLine("Non-compliant % of audited", t.Outcomes[audit.OutcomeNoncompliant], t.Audited)
	}
	s.line("Associations of audited instances", t.Associations)
	if t.OverviewAssociations > 0 {
		s.line("of which counted from the association overview (--triage), with no rows", t.OverviewAssociations)
	}
	if blind {
		s.wordsLine("Failed associations", figureUnknown)
	} else {
		s.line("Failed associations", m.Failures.Count)
	}
	switch {
	case m.Settings.staleOff():
		s.wordsLine("Stale associations", figureOff)
	case blind:
		s.wordsLine("Stale associations", figureUnknown)
	default:
		s.line("Stale associations", m.Stale.Count)
	}
	s.line("Instances without associations", m.NoAssociations.Count)
	s.line("Could not audit (not managed, errors, invalid, no result)", m.Problems.Count+t.WithoutResult)
	if t.WithoutResult > 0 {
		s.line("of which targets without a result (not audited)", t.WithoutResult)
	}
	if t.PartialAssociations > 0 {
		s.line("Partial rows left out (instances in error)", t.PartialAssociations)
	}
	if t.FromOverview > 0 {
		s.line("Summarised from the association overview (--triage)", t.FromOverview)
	}
	if t.Disconnected > 0 || t.OldAgent > 0 {
		s.line("Non-compliant and out of touch with SSM (ping status not Online)", t.Disconnected)
		s.line("Non-compliant and running an agent that is not the latest", t.OldAgent)
	}
	if c := m.Changes; c != nil {
		s.heading("Since the baseline")
		s.line("Changes", c.Summary)
		for _, k := range audit.ChangeKinds() {
			s.line(changeLabel(k), c.Counts[k])
		}
	}

	s.heading("Run")
	for _, d := range m.About {
		if d.At == nil || d.At.IsZero() {
			s.line(d.Label, d.Value)
			continue
		}
		s.line(d.Label+" (UTC)", d.At)
		s.cell("C", d.Rest, 0)
	}

	s.heading("Instances by outcome")
	s.row++
	for col, h := range []string{"Outcome", "Instances", "% of audited"} {
		s.cell(string(rune('A'+col)), h, st.header)
	}
	first := s.row + 1
	for k, o := range m.Outcomes {
		s.row++
		s.cell("A", outcomeLabel(o.Outcome), 0)
		s.cell("B", o.Instances, 0)
		if o.Percent != nil {
			v := fraction(o.Instances, t.Audited)
			s.cell("C", v, st.percentStyle(v, st.percent, st.edge))
		}
		col, _ := excelize.ColumnNumberToName(chartSeriesCol + k)
		s.cell(col, o.Instances, 0)
	}
	outcomes := [2]int{first, s.row}

	s.heading("Top failures (failed associations)")
	s.row++
	codeHeader := s.row
	for col, h := range []string{"Failure", "Associations", "Instances"} {
		s.cell(string(rune('A'+col)), h, st.header)
	}
	first = s.row + 1
	top := m.ErrorCodes[:min(len(m.ErrorCodes), m.Settings.Top)]
	for _, ec := range top {
		s.row++
		s.cell("A", ec.Name, 0)
		s.cell("B", ec.Associations, 0)
		s.cell("C", ec.Instances, 0)
	}
	if len(top) == 0 {
		s.row++
		if t.Audited == 0 {
			s.cell("A", "Unknown: no instance was audited.", 0)
		} else {
			s.cell("A", "No failed associations.", 0)
		}
	}
	codes := [2]int{first, s.row}
	if s.err != nil {
		return s.err
	}
	if err := f.SetColWidth(sheetSummary, "A", "A", s.labelWidth()); err != nil {
		return err
	}
	lastSeries, _ := excelize.ColumnNumberToName(chartSeriesCol + len(m.Outcomes) - 1)
	firstSeries, _ := excelize.ColumnNumberToName(chartSeriesCol)
	if err := f.SetColVisible(sheetSummary, firstSeries+":"+lastSeries, false); err != nil {
		return err
	}

	maxOutcome := 0
	for _, o := range m.Outcomes {
		maxOutcome = max(maxOutcome, o.Instances)
	}
	if err := addOutcomeChart(f, "E6", m.Outcomes, outcomes, maxOutcome); err != nil {
		return err
	}
	if len(top) > 0 {
		if err := addBarChart(f, "E24", "Top failures (failed associations)", codeHeader, codes, top[0].Associations); err != nil {
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

// chartAxes are the axes of the Summary charts: categories top to bottom in
// the order of the cells, and whole ticks for small counts.
func chartAxes(maxVal int) (x, y excelize.ChartAxis) {
	axisFont := excelize.Font{Family: xlsxFont, Size: 9, Color: "404040"}
	y = excelize.ChartAxis{MajorGridLines: true, Font: axisFont}
	if maxVal < 10 {
		y.MajorUnit = 1
	}
	return excelize.ChartAxis{ReverseOrder: true, Font: axisFont}, y
}

func summaryRange(col string, rows [2]int) string {
	return fmt.Sprintf("%s!$%s$%d:$%s$%d", sheetSummary, col, rows[0], col, rows[1])
}

// addOutcomeChart adds the chart of instances by outcome: one bar per
// outcome in the outcome's colour (as in the HTML), from the hidden series
// columns (see chartSeriesCol), stacked so that each row shows its one
// non-empty series.
func addOutcomeChart(f *excelize.File, at string, outcomes []OutcomeCount, rows [2]int, maxVal int) error {
	const title = "Instances by outcome"
	var series []excelize.ChartSeries
	for k, o := range outcomes {
		col, _ := excelize.ColumnNumberToName(chartSeriesCol + k)
		series = append(series, excelize.ChartSeries{
			Name:       fmt.Sprintf("%s!$A$%d", sheetSummary, rows[0]+k),
			Categories: summaryRange("A", rows),
			Values:     summaryRange(col, rows),
			Fill:       excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{strings.TrimPrefix(outcomeColor(o.Outcome), "#")}},
		})
	}
	noVary := false
	overlap := 100
	x, y := chartAxes(maxVal)
	err := f.AddChart(sheetSummary, at, &excelize.Chart{
		Type:         excelize.BarStacked,
		Series:       series,
		Title:        excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: title}}},
		Legend:       excelize.ChartLegend{Position: "none"},
		VaryColors:   &noVary,
		Overlap:      &overlap,
		XAxis:        x,
		YAxis:        y,
		PlotArea:     excelize.ChartPlotArea{ShowVal: true},
		ShowBlanksAs: "gap",
		Dimension:    excelize.ChartDimension{Width: 560, Height: 320},
		Format:       excelize.GraphicOptions{AltText: title},
	})
	if err != nil {
		return fmt.Errorf("adding chart %q: %w", title, err)
	}
	return nil
}

// addBarChart adds a horizontal bar chart of the Summary cells A (names) and
// B (values) of the rows rows[0] to rows[1], in the colour of failures; the
// series is named by the cell B of the row header. maxVal is the largest
// value: small counts get whole ticks.
func addBarChart(f *excelize.File, at, title string, header int, rows [2]int, maxVal int) error {
	noVary := false
	x, y := chartAxes(maxVal)
	err := f.AddChart(sheetSummary, at, &excelize.Chart{
		Type: excelize.Bar,
		Series: []excelize.ChartSeries{{
			Name:       fmt.Sprintf("%s!$B$%d", sheetSummary, header),
			Categories: summaryRange("A", rows),
			Values:     summaryRange("B", rows),
			Fill:       excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{strings.TrimPrefix(outcomeColor(audit.OutcomeNoncompliant), "#")}},
		}},
		Title:      excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: title}}},
		Legend:     excelize.ChartLegend{Position: "none"},
		VaryColors: &noVary,
		XAxis:      x,
		YAxis:      y,
		PlotArea:   excelize.ChartPlotArea{ShowVal: true},
		Dimension:  excelize.ChartDimension{Width: 560, Height: 320},
		Format:     excelize.GraphicOptions{AltText: title},
	})
	if err != nil {
		return fmt.Errorf("adding chart %q: %w", title, err)
	}
	return nil
}

// changeSheetColumns are the columns of the Changes sheet.
var changeSheetColumns = []xlsxColumn{
	{name: "Change", width: 20},
	{name: "Account", width: 14},
	{name: "Region", width: 12},
	{name: "Instance", width: 21},
	{name: "Association", width: 30},
	{name: "Association ID", width: 38},
	{name: "Document", width: 30},
	{name: "Status before", width: 12},
	{name: "Status now", width: 12},
	{name: "Error code", width: 22},
	{name: "First seen failing (UTC)", width: 23, kind: kindDate},
	// For a failure still failing, the code it failed with then: the
	// summary counts those with another code.
	{name: "Error code before", width: 22},
}

// changeLabel names a kind of change for a person.
func changeLabel(k audit.ChangeKind) string {
	return map[audit.ChangeKind]string{
		audit.NewFailure: "New failure", audit.StillFailing: "Still failing", audit.Resolved: "Resolved",
		audit.NewInstance: "New instance", audit.VanishedInstance: "Instance gone",
		audit.NewAssociation: "New association", audit.VanishedAssociation: "Association gone",
	}[k]
}

// writeChanges streams every change since the baseline to the Changes sheet,
// new failures filled.
func (w xlsxWriter) writeChanges(ctx context.Context, f *excelize.File, st xlsxStyles, m *Model, names []string) error {
	at := labelsAt(changeSheetColumns)
	l := newXLSXList(f, st, names, m.Changes.Count, withLabels(changeSheetColumns, m.LabelKeys))
	fixed := make([]any, 0, len(changeSheetColumns))
	labels := make([]any, len(m.LabelKeys))
	row := make([]any, 0, len(changeSheetColumns)+len(m.LabelKeys))
	_, err := audit.Compare(w.opts.Baseline.Records(), w.opts.Records, func(c audit.Change) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		r := changeRow(c)
		fixed = append(fixed[:0], changeLabel(r.Kind), text(r.AccountID), text(r.Region), text(r.InstanceID),
			text(r.Association), text(r.AssociationID), text(r.Document), text(r.Before), text(r.After),
			text(r.ErrorCode), date(r.FirstSeenFailing), text(r.ErrorCodeBefore))
		for i, k := range m.LabelKeys {
			labels[i] = text(c.Labels[k])
		}
		row = withLabelCells(row, fixed, labels, at)
		return l.add(row, r.Kind == audit.NewFailure, "")
	})
	if err != nil {
		return fmt.Errorf("sheet %s: %w", sheetChanges, err)
	}
	return l.close()
}
