package audit

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxListLine is the longest line, in bytes without its line end, of a
// list the auditor reads (an instance list, a file of accounts): a longer
// one refuses the list, and is never buffered whole.
const MaxListLine = 1 << 20

// Limits of an instance list.
const (
	// listMaxLine is the longest line, in bytes, its line end not counted.
	listMaxLine = MaxListLine
	// listMaxColumns bounds the columns of a CSV header, so that a line of
	// a million commas cannot make every row a map of a million labels.
	listMaxColumns = 1000
	// listMaxKept bounds, in bytes, the raw value an invalid target keeps.
	listMaxKept = 256
	// listMaxShown bounds, in characters, a value quoted in a message.
	listMaxShown = 60
	// listMaxProblems is how many problems InputError.Error prints.
	listMaxProblems = 50
)

// listNotUTF8 is why a list is refused whose column name or label value is
// not UTF-8: replacing the bytes with U+FFFD would make "M\xfcller" and
// "M\xf6ller" (Latin-1) one owner, mailed each other's instances.
const listNotUTF8 = "not UTF-8 (a Latin-1 or Windows-1252 export?): save the list as UTF-8"

// AddID adds one ID given otherwise than in a list (on the command line,
// say), with Source source. White space around id is trimmed. An empty
// region or account means the run's default; a bad id, region or account
// makes an invalid target.
func (f *Fleet) AddID(source, id, region, account string) {
	id = strings.TrimSpace(id)
	t := Target{InstanceID: id, Region: region, AccountID: account, Source: source}
	t.Problem = listProblem(id, region, account)
	if t.Problem != "" {
		t.InstanceID = listCut(id, listMaxKept)
		t.Region = listCut(region, listMaxKept)
		t.AccountID = listCut(account, listMaxKept)
	}
	f.add(t, source, 0, 0, nil)
}

// listProblem returns why a target is not valid, or "".
func listProblem(id, region, account string) string {
	if p := ValidID(id); p != "" {
		return p
	}
	if region != "" {
		if p := ValidRegion(region); p != "" {
			return fmt.Sprintf("region %s: %s", listQuote(region), p)
		}
	}
	if account != "" {
		if p := ValidAccountID(account); p != "" {
			return fmt.Sprintf("account_id %s: %s", listQuote(account), p)
		}
	}
	return ""
}

// Read adds every target of one instance list, in the formats below. name is the file name used in Source and in messages; "-" (or "")
// means standard input and is shown as "stdin". Per-line problems go to
// Invalid. Read returns an error only when the list as a whole cannot be
// read; the error is a *ReadError naming the file and line, and f is then
// left as it was before the call.
//
// # Instance lists
//
// An instance list is UTF-8 text, in one of two formats told apart by its
// first line that is neither blank nor a comment (a line whose first
// character other than white space is "#", unless it is a CSV header:
// "#,Instance ID,Name", as exports that number their rows write, is one).
//
// Plain text: one instance ID per line, such as i-0123456789abcdef0,
// i-01234567 or mi-0123456789abcdef0. Blank lines are skipped, and so are
// comment lines, whose first character other than white space is "#". A "#"
// that follows a space or a tab starts a trailing comment:
// "i-0123456789abcdef0  # web-1" is the ID alone; "i-01234567#x" is not an
// ID. White space around an ID is trimmed, lines may end in \n or \r\n, and a
// UTF-8 byte-order mark at the start of the list is skipped. A line with a
// carriage return inside it (old Mac line ends) is an invalid line, whole:
// a comment in it does not hide the IDs after its "\r". A plain-text
// target has no Region and no AccountID: the run's defaults apply.
//
// CSV: when that first line is a header row with a column named instance_id,
// the list is CSV (RFC 4180, as encoding/csv reads it: quoted fields may hold
// commas, doubled quotes and line breaks, and bare quotes in unquoted fields
// are errors). Column names are matched ignoring case, white space, "_" and
// "-", so instance_id, InstanceId, instance-id and "Instance ID" all name the
// instance column. White space around a field is ignored, also before its
// opening quote. A region column (us-east-1...; or, where there is none,
// one of "AWS Region", "Region Code") and an account_id column
// (12 digits; AccountId, "AWS Account ID", account...; or, where there is
// none, "Account Number") set the target's Region and
// AccountID; an empty cell means the run's default. Where no column sets
// the Region, another whose name holds "region" (folded as above) and a
// value that is a Region refuses the list, naming it: its instances would
// be asked of the run's region and found not managed; likewise "account"
// and an account ID. Every other column is a label: its trimmed name is added to LabelKeys and its trimmed value to the
// target's Labels, both in Unicode Normalization Form C (NFC: Müller spelt
// with a combining diaeresis, as macOS and some exports write it, is the
// Müller spelt with ü, and two columns so named are two of one name); both
// must be text that reads as it is (ValidLabel; a
// value may hold line breaks, each of its lines such text; see Errors).
// Columns with an empty
// name are ignored. Rows whose cells are all blank are skipped. In a CSV
// list "#" is data, not a comment (comment lines may only precede the
// header): a row "#ops-alerts,i-0123abcd" is a target like any other. Every
// row must have as many fields as the header. A target's line is the line
// its row starts on.
//
// A first line with commas that has no instance_id column and no field that
// looks like an instance ID (i-..., mi-..., an instance ARN) is taken for a
// header that lacks the column, and the whole list is refused; a line of
// data with commas is an invalid line.
//
// # Errors
//
// A line that is not a valid target is recorded in Invalid, with its
// Source, the raw value and the Problem, and the rest of the list is read:
// an ID that is not valid (see ValidID), a bad region or account_id cell, a
// CSV row with the wrong number of fields or a misplaced quote within one
// line, a line of binary junk. Read refuses the whole list, with an error that names the
// file and line, only when the list cannot be read as a list: an I/O error,
// UTF-16 text (as UTF16 tells it), a first line with a comma and a
// carriage return (a CSV list with old Mac line ends; see LineEnds), a
// line longer than 1 MiB (never buffered whole), a NUL byte anywhere (a
// binary or UTF-16 file, or a value that a spreadsheet would drop the NUL
// of and read as a formula), a CSV header without an instance_id
// column, with two columns of the same name, or with more than 1000
// columns, or a quoted field that runs over several lines into an error or
// the end of the list (an unbalanced quote, which would swallow every row
// after it), and a CSV column name or label value that is not UTF-8 (a list
// saved as Latin-1, say: its names cannot be told apart once their bytes are
// replaced, so that two owners would become one), or a column name that
// ValidLabel refuses, named by its column and quoted as Quote does. A
// label value that ValidLabel refuses (a terminal escape, a bidi control, a
// zero-width or a no-break space: "bob" and "bob\u202e" would be two owners
// that read as one) makes an invalid line that names its column and the
// value quoted, and the value is not kept. Invalid UTF-8 in an
// instance ID, a region or an account_id makes an invalid line; in a comment
// or a column without a name it is ignored.
//
// Targets are distinct by Key: a later line with the Key of an earlier
// target (from any list or flag) is counted in Duplicates, and adds to the
// first occurrence the labels that it lacks; a label the first has keeps
// its value, even an empty one. So the same ID bare in a text list and with
// an owner in a CSV list has that owner, whichever list came first.
// Invalid lines are never collapsed. Targets that name no region or account
// are collapsed again once the run's defaults are known (ApplyDefaults).
func (f *Fleet) Read(r io.Reader, name string) error {
	if name == "-" || name == "" {
		name = "stdin"
	}
	m := f.mark()
	if err := f.read(r, name); err != nil {
		f.rollback(m)
		return err
	}
	f.applyMerges()
	return nil
}

func (f *Fleet) read(r io.Reader, name string) error {
	br := bufio.NewReaderSize(r, 64<<10)
	utf16, err := HeadUTF16(br)
	// Only what was read already: a Peek for more would read again.
	head, _ := br.Peek(min(br.Buffered(), UTF16Head))
	if err != nil {
		return &ReadError{name, 1 + bytes.Count(head, []byte("\n")), fmt.Errorf("reading: %w", err)}
	}
	if utf16 {
		return &ReadError{name, 1, errors.New("UTF-16 text: save the list as UTF-8")}
	}
	if bytes.HasPrefix(head, []byte("\xEF\xBB\xBF")) {
		br.Discard(3)
	}
	lr := &listReader{br: br, name: name}

	// Skip to the first line that is neither blank nor a comment: it tells
	// the format.
	var first []byte
	for {
		line, err := lr.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, ok := listPlainValue(line); ok || listHashHeader(line) {
			first = bytes.Clone(line)
			break
		}
	}
	if v, _ := listPlainValue(first); bytes.Contains(v, []byte(",")) {
		// A CSV list with old Mac line ends is one line: its header,
		// told as one, would be a column name with a "\r" in it.
		if p := LineEnds(string(v)); p != "" {
			return &ReadError{name, lr.line, fmt.Errorf("%s: %s", listQuote(string(v)), p)}
		}
	}
	header, isCSV, err := listHeader(first)
	if err != nil {
		return &ReadError{name, lr.line, err}
	}
	if isCSV {
		return f.readCSV(lr, first, header)
	}
	f.plainLine(lr, first, true)
	for {
		line, err := lr.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		f.plainLine(lr, line, false)
	}
}

// UTF16Head is how many of a file's first bytes UTF16 looks at: few, so
// that the answer is the same however the reads of a list are cut (a pipe
// or a terminal gives a few bytes at a time), and a list typed at a
// terminal is not read for more than its first line gives.
const UTF16Head = 4

// HeadUTF16 tells whether the text that br reads is UTF-16 (see UTF16),
// from its first UTF16Head bytes, and returns an error other than io.EOF
// that reading them gave. br keeps every byte. (A list of fewer bytes typed
// at a terminal waits for a second Ctrl-D, which a terminal's end of input
// gives once; a list of one instance ID has more.)
func HeadUTF16(br *bufio.Reader) (bool, error) {
	head, err := br.Peek(UTF16Head)
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	return UTF16(head), nil
}

// UTF16 tells whether the first UTF16Head bytes of head, the start of a
// text file (it looks at no more), are UTF-16: they open with a UTF-16
// byte-order mark, as Windows PowerShell 5's > writes, or, without one,
// every other byte of them is a NUL and none of the rest is, as ASCII text
// saved as UTF-16 is. Fewer than UTF16Head bytes without a mark are not
// told UTF-16.
func UTF16(head []byte) bool {
	if bytes.HasPrefix(head, []byte{0xff, 0xfe}) || bytes.HasPrefix(head, []byte{0xfe, 0xff}) {
		return true
	}
	if len(head) < UTF16Head {
		return false
	}
	head = head[:UTF16Head]
	le, be := true, true
	for i := 0; i < len(head); i += 2 {
		le = le && head[i] != 0 && head[i+1] == 0
		be = be && head[i] == 0 && head[i+1] != 0
	}
	return le || be
}

// plainLine adds the target of the plain-text line lr last returned, the
// list's first when first is set.
func (f *Fleet) plainLine(lr *listReader, line []byte, first bool) {
	v, ok := listPlainValue(line)
	if !ok {
		return
	}
	id := string(v)
	t := Target{InstanceID: id, Source: lr.source(lr.line)}
	if p := LineEnds(id); p != "" {
		// Said first: "contains a space" would hide what is wrong with
		// "i-0123abcd  # web\ri-…".
		t.InstanceID, t.Problem = listCut(id, listMaxKept), p
	} else if p := ValidID(id); p != "" {
		if strings.Contains(id, ",") {
			p = "contains a comma: a CSV list needs a header row with an instance_id column"
		}
		switch {
		case first && strings.Contains(id, "\t"):
			// Excel's "Text (Tab delimited)", whose header this is.
			p += `: a tab-separated list? save it as CSV (in Excel, "CSV UTF-8") with an instance_id column, or as one ID a line`
		case first && listSemicolons(id):
			// Excel's "CSV" where the region's list separator is ";", as
			// in most of Europe: "CSV UTF-8" is saved with ";" there too.
			p += `: a semicolon-separated list? save it as CSV with commas between fields (Excel writes ";" where the list separator of Windows' region settings is ";") with an instance_id column, or as one ID a line`
		}
		t.InstanceID, t.Problem = listCut(id, listMaxKept), p
	}
	f.add(t, lr.name, lr.line, 0, nil)
}

// listSemicolons tells whether line, a list's first, is a header or a row
// with ";" between its fields: one of them an instance_id column name (as
// listHeader knows them) or an instance ID.
func listSemicolons(line string) bool {
	if !strings.Contains(line, ";") {
		return false
	}
	for _, v := range strings.Split(line, ";") {
		v = strings.Trim(strings.TrimSpace(v), `"`)
		if listColumnName(v) == "instanceid" || ValidID(v) == "" {
			return true
		}
	}
	return false
}

// listPlainValue returns the value of a plain-text line, without white space
// and trailing comment, and false for a blank or comment line. A line with a
// carriage return in it is returned whole, comment and all: it is lines with
// old Mac line ends (LineEnds), and a comment in the first of them would
// swallow the rest, so that a list of three IDs audited one, or none.
func listPlainValue(line []byte) ([]byte, bool) {
	v := bytes.TrimSpace(line)
	if bytes.IndexByte(v, '\r') >= 0 {
		return v, true
	}
	if len(v) == 0 || v[0] == '#' {
		return nil, false
	}
	for i := 1; i < len(v); i++ {
		if v[i] == '#' && (v[i-1] == ' ' || v[i-1] == '\t') {
			v = bytes.TrimSpace(v[:i])
			break
		}
	}
	return v, true
}

// listHashHeader tells whether line, which listPlainValue tells a comment,
// is a CSV header all the same: one with a field that names the instance_id
// column, such as "#,Instance ID,Name" (exports that number their rows in a
// column named "#"), whose first field is "#" alone. "# instance_id, one a
// line" stays a comment.
func listHashHeader(line []byte) bool {
	v := bytes.TrimSpace(line)
	if len(v) == 0 || v[0] != '#' || bytes.IndexByte(v, ',') < 0 {
		return false
	}
	cr := csv.NewReader(bytes.NewReader(v))
	cr.FieldsPerRecord = -1
	names, err := cr.Read()
	if err != nil || strings.TrimSpace(names[0]) != "#" {
		// "# exported from cmdb: hostname,instance_id" is a comment.
		return false
	}
	for _, n := range names {
		if listColumnName(NFC(strings.TrimSpace(n))) == "instanceid" {
			return true
		}
	}
	return false
}

// listColumns is the layout of a CSV list, from its header.
type listColumns struct {
	n                   int // fields per row
	id, region, account int // column indexes, -1 when absent
	labels              []listLabel
	// suspects are the label columns whose names speak of the region or
	// the account when no column sets it: one whose values are Regions
	// (account IDs) refuses the list (listSuspect.check).
	suspects []listSuspect
}

// listSuspect is a label column that may hold what a region or account_id
// column does.
type listSuspect struct {
	col     int
	name    string
	account bool // account IDs, else Regions
}

// check returns why the list is refused when v, the column's value on line
// line, is a Region (an account ID), or "".
func (s listSuspect) check(v string, line int) string {
	if s.account {
		if v == "" || ValidAccountID(v) != "" {
			return ""
		}
		return fmt.Sprintf(`column %d %s holds AWS account IDs (%s on line %d), but only an account_id column sets an instance's account: `+
			`rename it account_id; or, if it is not the instances' own account (a payer's, say), add an account_id column with theirs`, s.col+1, listQuote(s.name), listQuote(v), line)
	}
	if v == "" || ValidRegion(strings.ToLower(v)) != "" {
		return ""
	}
	return fmt.Sprintf(`column %d %s holds AWS Regions (%s on line %d), but only a region column sets an instance's Region: `+
		`rename it region; or, if it is not the instances' own Region (a disaster-recovery one, say), add a region column with theirs`, s.col+1, listQuote(s.name), listQuote(v), line)
}

// listColumnKinds maps a column name, folded by listColumnName, to the
// column it names. The second names of the region and the account are
// spelt by inventories and exports ("AWS Region", "Region Code", "AWS
// Account", "Account Number"): read as labels, their instances were asked
// of the run's region or the caller's account, and found not managed. Each
// is taken only where no first name is in the header. Names that exports
// give words as often as codes ("Region Name": "US East (N. Virginia)";
// "AWS Account": "Production") are labels, refused when they hold codes
// where no column sets the Region or account (listSuspect).
var listColumnKinds = map[string]struct {
	kind   string // instance_id, region or account_id
	second bool
}{
	"instanceid":       {"instance_id", false},
	"region":           {"region", false},
	"awsregion":        {"region", true},
	"regioncode":       {"region", true},
	"awsregioncode":    {"region", true},
	"accountid":        {"account_id", false},
	"awsaccountid":     {"account_id", false},
	"account":          {"account_id", false},
	"accountnumber":    {"account_id", true},
	"awsaccountnumber": {"account_id", true},
}

type listLabel struct {
	col  int
	name string
}

// listHeader tells whether line (the first line that is neither blank nor a
// comment) is the header of a CSV list, and if so returns its columns. The
// error is for a line that is a header but not a usable one.
func listHeader(line []byte) (listColumns, bool, error) {
	cols := listColumns{id: -1, region: -1, account: -1}
	cr := csv.NewReader(bytes.NewReader(line))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	names, err := cr.Read()
	if err != nil {
		return cols, false, nil // not CSV: a plain-text line, right or wrong
	}
	cols.n = len(names)
	first := map[string]bool{} // the kinds a first name is given for
	for _, raw := range names {
		if k, ok := listColumnKinds[listColumnName(NFC(strings.TrimSpace(raw)))]; ok && !k.second {
			first[k.kind] = true
		}
	}
	index := map[string]int{}
	bad, why := -1, "" // the first label column whose name cannot be a label's
	for i, raw := range names {
		// In one Unicode form (NFC), so that two names that read alike are
		// two columns of one name, refused, not two labels that read as
		// one.
		name := NFC(strings.TrimSpace(raw))
		var slot *int
		k, ok := listColumnKinds[listColumnName(name)]
		canon := k.kind
		switch {
		case !ok || k.second && first[k.kind]:
		case canon == "instance_id":
			slot = &cols.id
		case canon == "region":
			slot = &cols.region
		case canon == "account_id":
			slot = &cols.account
		}
		if slot != nil {
			if *slot >= 0 {
				return cols, true, fmt.Errorf("two %s columns in the header (columns %d and %d)", canon, *slot+1, i+1)
			}
			*slot = i
			continue
		}
		if name == "" {
			continue
		}
		if j, ok := index[name]; ok {
			return cols, true, fmt.Errorf("two columns named %s in the header (columns %d and %d)", listQuote(name), j+1, i+1)
		}
		if p := listLabelProblem(name); p != "" && bad < 0 {
			bad, why = i, p
		}
		index[name] = i
		cols.labels = append(cols.labels, listLabel{i, name})
	}
	if cols.id < 0 {
		if len(names) < 2 {
			return cols, false, nil
		}
		for _, n := range names {
			v := strings.ToLower(strings.TrimSpace(n))
			if strings.HasPrefix(v, "i-") || strings.HasPrefix(v, "mi-") || strings.Contains(v, ":instance/") {
				return cols, false, nil // a line of data with commas
			}
		}
		return cols, true, fmt.Errorf("no instance_id column in the header (have: %s)", listNames(names))
	}
	if cols.n > listMaxColumns {
		return cols, true, fmt.Errorf("%d columns in the header, more than %d", cols.n, listMaxColumns)
	}
	if bad >= 0 {
		return cols, true, fmt.Errorf("column %d %s: %s", bad+1, listQuote(strings.TrimSpace(names[bad])), why)
	}
	for _, l := range cols.labels {
		// Only where no column sets it: beside a region column, dr_region
		// is a label whatever it holds.
		folded := listColumnName(l.name)
		if cols.region < 0 && strings.Contains(folded, "region") {
			cols.suspects = append(cols.suspects, listSuspect{col: l.col, name: l.name})
		}
		if cols.account < 0 && strings.Contains(folded, "account") {
			cols.suspects = append(cols.suspects, listSuspect{col: l.col, name: l.name, account: true})
		}
	}
	return cols, true, nil
}

// listColumnName folds a column name for matching: lower case, without
// white space, "_" and "-".
func listColumnName(name string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r == '-' || unicode.IsSpace(r) {
			return -1
		}
		return unicode.ToLower(r)
	}, name)
}

// listNames lists header names for a message: the first ten, each as
// listName shows it.
func listNames(names []string) string {
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		if i == 10 {
			fmt.Fprintf(&b, "and %d more", len(names)-i)
			break
		}
		b.WriteString(listName(strings.TrimSpace(n)))
	}
	return b.String()
}

// listName shows a column name in a message: as it is, or quoted when it
// would not read plainly.
func listName(n string) string {
	plain := len(n) <= 40 && n != "" && strings.TrimSpace(n) == n
	for _, r := range n {
		if !unicode.IsPrint(r) || r == ',' || r == '"' || r == utf8.RuneError {
			plain = false
		}
	}
	if plain {
		return n
	}
	return listQuote(n)
}

// readCSV reads the rows of a CSV list whose header line, the one lr last
// returned, is header.
func (f *Fleet) readCSV(lr *listReader, header []byte, cols listColumns) error {
	names := make([]string, len(cols.labels))
	for i, l := range cols.labels {
		f.addLabelKey(l.name)
		names[i] = l.name
	}
	layout := f.newLayout(names)
	vals := make([]string, len(names))
	start := lr.line // the header's line: line 1 to the csv.Reader
	src := &listCSVSource{lr: lr}
	src.buf = append(append(src.line[:0], header...), '\n')
	cr := csv.NewReader(src)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	if _, err := cr.Read(); err != nil {
		return listCSVErr(err, lr, start)
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) && pe.Line == pe.StartLine {
			t := Target{Source: lr.source(start + pe.StartLine - 1), Problem: listCSVProblem(pe, start-1)}
			f.add(t, "", 0, 0, nil)
			continue
		}
		if errors.As(err, &pe) {
			// A quoted field that ran over lines into an error: a quote
			// left open swallows every row after it, so no row of it can
			// be trusted, --skip-invalid or not.
			open, end := start+pe.StartLine-1, start+pe.Line-1
			return &ReadError{lr.name, open, fmt.Errorf(
				"a quoted field opened on this line runs over lines %d to %d without closing properly: "+
					`close the quote, or double a quote inside a quoted field ("a""b")`, open, end)}
		}
		if err != nil {
			return listCSVErr(err, lr, start)
		}
		line := start + listFieldLine(cr) - 1
		for _, s := range cols.suspects {
			if s.col >= len(rec) {
				continue
			}
			if p := s.check(strings.TrimSpace(rec[s.col]), line); p != "" {
				return &ReadError{lr.name, start, errors.New(p)}
			}
		}
		if err := f.csvRow(rec, cols, lr, line, layout, vals); err != nil {
			return err
		}
	}
}

// listCSVErr returns the error of the csv.Reader: the listReader's own
// *ReadError, or another that it names the line of.
func listCSVErr(err error, lr *listReader, start int) error {
	var re *ReadError
	if errors.As(err, &re) {
		return re
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &ReadError{lr.name, start + pe.StartLine - 1, pe.Err}
	}
	return &ReadError{lr.name, lr.line, err}
}

// listFieldLine returns the line, counted by cr, that its last record
// started on.
func listFieldLine(cr *csv.Reader) int {
	line, _ := cr.FieldPos(0)
	return line
}

// listCSVProblem says what is wrong with the quotes of a row whose line
// numbers, counted by the csv.Reader, are off by offset.
func listCSVProblem(pe *csv.ParseError, offset int) string {
	p := CSVProblem(pe.Err)
	if pe.Line != pe.StartLine {
		return fmt.Sprintf("%s (at line %d, column %d)", p, pe.Line+offset, pe.Column)
	}
	return fmt.Sprintf("%s (at column %d)", p, pe.Column)
}

// CSVProblem says what is wrong with a CSV line that encoding/csv refused
// with err, in the words of an instance list's invalid line: a bare quote in
// an unquoted field, or a quote out of place in a quoted one. Other errors
// are told as they are.
func CSVProblem(err error) string {
	switch {
	case errors.Is(err, csv.ErrBareQuote):
		return `bare " in an unquoted field (quote the whole field and double the quote: "a""b")`
	case errors.Is(err, csv.ErrQuote):
		return `extra or missing " in a quoted field`
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// csvRow adds the target of one CSV row that starts on line of lr's list;
// vals is a buffer for its label values, one per label column. The error is
// a *ReadError for a label value that is not UTF-8, which refuses the list;
// a value ValidLabel refuses makes the row an invalid line.
func (f *Fleet) csvRow(rec []string, cols listColumns, lr *listReader, line, layout int, vals []string) error {
	blank := true
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			blank = false
			break
		}
	}
	if blank {
		return nil
	}
	source := lr.source(line)
	if len(rec) != cols.n {
		v := strings.Join(rec, ",")
		if cols.id < len(rec) {
			v = strings.TrimSpace(rec[cols.id])
		}
		f.add(Target{InstanceID: listCut(v, listMaxKept), Source: source,
			Problem: fmt.Sprintf("%d field%s, but the header has %d", len(rec), listPlural(len(rec)), cols.n)}, "", 0, 0, nil)
		return nil
	}
	t := Target{InstanceID: strings.TrimSpace(rec[cols.id]), Source: source}
	if cols.region >= 0 {
		t.Region = strings.TrimSpace(rec[cols.region])
	}
	if cols.account >= 0 {
		t.AccountID = strings.TrimSpace(rec[cols.account])
	}
	labelProblem := ""
	for i, l := range cols.labels {
		// In one Unicode form (NFC): Müller typed on a Mac and Müller
		// typed elsewhere are one owner and one group of a split.
		v := NFC(strings.TrimSpace(rec[l.col]))
		switch p := listLabelProblem(v); {
		case p == listNotUTF8:
			return &ReadError{lr.name, line, fmt.Errorf("%s %s: %s", listName(l.name), listQuote(v), p)}
		case p != "":
			// The row's alone: an invalid line, which --skip-invalid
			// records and passes over. The value is not kept.
			if labelProblem == "" {
				labelProblem = fmt.Sprintf("%s %s: %s", listName(l.name), listQuote(v), p)
			}
			v = ""
		}
		vals[i] = v
	}
	if t.InstanceID == "" {
		t.Problem = "no instance ID in the instance_id column"
	} else {
		t.Problem = listProblem(t.InstanceID, t.Region, t.AccountID)
	}
	if labelProblem != "" {
		// Both said, so that one fix mends the line.
		t.Problem = strings.TrimPrefix(t.Problem+"; "+labelProblem, "; ")
	}
	if t.Problem != "" {
		t.InstanceID = listCut(t.InstanceID, listMaxKept)
		t.Region = listCut(t.Region, listMaxKept)
		t.AccountID = listCut(t.AccountID, listMaxKept)
		if len(cols.labels) > 0 {
			t.Labels = make(map[string]string, len(cols.labels))
			for i, l := range cols.labels {
				t.Labels[l.name] = vals[i]
			}
		}
	}
	f.add(t, lr.name, line, layout, vals)
	return nil
}

// listLabelProblem returns why v cannot be a label's name or value in a
// list, or "": listNotUTF8, or ValidLabel's reason for one of its lines. A
// quoted CSV field may hold line breaks (a CMDB's notes over several
// lines), and they are the one control character a label of a list keeps:
// a reader sees them, where an escape or a bidi control is not seen.
func listLabelProblem(v string) string {
	if !utf8.ValidString(v) {
		return listNotUTF8
	}
	for line := range strings.SplitSeq(v, "\n") {
		if p := ValidLabel(line); p != "" {
			return p
		}
	}
	return ""
}

func (f *Fleet) addLabelKey(name string) {
	for _, k := range f.LabelKeys {
		if k == name {
			return
		}
	}
	f.LabelKeys = append(f.LabelKeys, name)
}

// Err returns nil when the fleet has no invalid targets, else an *InputError
// listing them.
func (f *Fleet) Err() error {
	if len(f.Invalid) == 0 {
		return nil
	}
	return &InputError{Problems: append([]Target(nil), f.Invalid...), Rest: f.Len() > 0}
}

// InputError lists the bad lines of the input: targets with a Problem.
type InputError struct {
	Problems []Target
	// Rest says whether targets are left to audit without the bad lines:
	// the list's valid ones (or those a discovery will find).
	Rest bool
}

// Error prints one problem a line, as `FILE:LINE: "value": reason` (without
// the value when it is empty), the first 50 and then "... and N more invalid
// lines". Values are quoted with Go escapes
// and cut to 60 characters, so that control characters and binary junk print
// safely.
func (e *InputError) Error() string {
	var b strings.Builder
	for i, t := range e.Problems {
		if i == listMaxProblems {
			n := len(e.Problems) - i
			fmt.Fprintf(&b, "... and %d more invalid line%s\n", n, listPlural(n))
			break
		}
		b.WriteString(t.Source)
		b.WriteString(": ")
		if t.InstanceID != "" {
			b.WriteString(listQuote(t.InstanceID))
			b.WriteString(": ")
		}
		b.WriteString(t.Problem)
		b.WriteByte('\n')
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func listPlural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// Quote quotes s for a message as the errors of Read quote a value from a
// list: with Go escapes, so that a control character, a terminal escape, a
// bidi control or invalid UTF-8 prints as \x1b, \u202e or \xff, and cut
// to 60 characters with "…", so that a value of megabytes does not flood
// the terminal.
func Quote(s string) string { return listQuote(s) }

// listQuote quotes s for a message: Go escapes, cut to listMaxShown
// characters with "…".
func listQuote(s string) string {
	// range and RuneCountInString both count a byte of invalid UTF-8 as one
	// character.
	if utf8.RuneCountInString(s) <= listMaxShown {
		return strconv.Quote(s)
	}
	n := 0
	for i := range s {
		if n == listMaxShown-1 {
			s = s[:i] + "…"
			break
		}
		n++
	}
	return strconv.Quote(s)
}

// listCut cuts s to at most max bytes, on a character boundary.
func listCut(s string, max int) string {
	if len(s) <= max {
		return s
	}
	i := max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// listReader reads the lines of a list, counting them, and refuses a line
// longer than listMaxLine without buffering more of it, and a line with a
// NUL byte.
type listReader struct {
	br   *bufio.Reader
	name string
	line int // the number of the line last returned
	long []byte
	// ended is set once a read gave the end of input, which is not read
	// for again: a terminal gives it once (a Ctrl-D), and a last line
	// without its "\n" would otherwise wait for another.
	ended bool
}

// next returns the next line without its "\n", valid until the next call; a
// *ReadError; or io.EOF after the last line.
func (lr *listReader) next() ([]byte, error) {
	lr.long = lr.long[:0]
	if lr.ended {
		return nil, io.EOF
	}
	for {
		b, err := lr.br.ReadSlice('\n')
		lr.ended = errors.Is(err, io.EOF)
		n := len(lr.long) + len(b)
		switch {
		case err == nil:
			n-- // the "\n"
			if len(b) >= 2 && b[len(b)-2] == '\r' || len(b) == 1 && len(lr.long) > 0 && lr.long[len(lr.long)-1] == '\r' {
				n-- // and the "\r" of "\r\n"
			}
		case errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF):
			if n == 0 {
				return nil, io.EOF
			}
		default:
			return nil, &ReadError{lr.name, lr.line + 1, fmt.Errorf("reading: %w", err)}
		}
		if n > listMaxLine {
			return nil, &ReadError{lr.name, lr.line + 1, errors.New("line longer than 1 MiB")}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			lr.long = append(lr.long, b...)
			continue
		}
		lr.line++
		if err == nil {
			b = b[:len(b)-1]
		}
		if len(lr.long) > 0 {
			lr.long = append(lr.long, b...)
			b = lr.long
		}
		if bytes.IndexByte(b, 0) >= 0 {
			// Anywhere in a list: a spreadsheet drops a leading NUL of a
			// label and reads what follows as a formula.
			return nil, &ReadError{lr.name, lr.line, fmt.Errorf(
				"%s: NUL byte (a binary file? want a text list of instance IDs)", listQuote(string(b)))}
		}
		return b, nil
	}
}

func (lr *listReader) source(line int) string {
	return lr.name + ":" + strconv.Itoa(line)
}

// listCSVSource feeds a csv.Reader the lines of a listReader, one "\n" after
// each, so that the csv.Reader's line numbers match and no line it buffers is
// longer than listMaxLine.
type listCSVSource struct {
	lr   *listReader
	line []byte // the current line and its "\n"
	buf  []byte // what of it is left to read
	err  error
}

func (s *listCSVSource) Read(p []byte) (int, error) {
	for len(s.buf) == 0 {
		if s.err != nil {
			return 0, s.err
		}
		b, err := s.lr.next()
		if err != nil {
			s.err = err
			continue
		}
		s.line = append(append(s.line[:0], b...), '\n')
		s.buf = s.line
	}
	n := copy(p, s.buf)
	s.buf = s.buf[n:]
	return n, nil
}
