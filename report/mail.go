package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	texttemplate "text/template"
	"unicode"
	"unicode/utf8"

	"github.com/auditor-dev/auditor/internal/bidi"
	"github.com/auditor-dev/auditor/templates"
)

// DefaultMailMaxBody is MailOptions.MaxBody's default: 100,000 bytes of
// HTML, under the ~102 KB past which Gmail clips a message.
const DefaultMailMaxBody = 100_000

// Where a mail says the rows it leaves out are.
const (
	// mailWorkbook is the file whose attachment lets a mail say "in the
	// attached workbook".
	mailWorkbook = XLSXFile
	// maxSubject caps a subject, in runes.
	maxSubject = 200
)

// The mail templates in templates.FS.
const (
	mailHTMLTemplate = "mail.html.tmpl"
	mailTextTemplate = "mail.txt.tmpl"
)

// ErrMailTooLarge is returned (wrapped) by MailBody when the HTML is over
// MailOptions.MaxBody even with every list cut to nothing.
var ErrMailTooLarge = errors.New("mail body over its byte budget")

// MailOptions are the settings of MailBody. The zero value means a body of
// DefaultMailMaxBody bytes that says the complete lists are in report.xlsx.
type MailOptions struct {
	// MaxBody is the most bytes of HTML; zero or less means
	// DefaultMailMaxBody.
	MaxBody int
	// Attached are the base names of the files attached to the message
	// ("report.xlsx", "error_codes.csv"), in order.
	Attached []string
	// ReportsAt is where the reports are: an s3:// location or the output
	// directory (an http(s) URL becomes a link). A list cut short says its
	// rows are there when the workbook is not attached.
	ReportsAt string
	// Written are the base names of the reports at ReportsAt (its
	// --format's: "changes.csv", "report.xlsx", ...); nil when not known,
	// taken for every report. The mail says the changes are in a file
	// there only when it is written.
	Written []string
	// Notes are said under the headline, each a paragraph of plain text
	// (why this mail came, say).
	Notes []string
	// Group is the group of a split that the mail is of, which its
	// headline names; nil for a mail of a whole run.
	Group *MailGroup
}

// MailGroup is the group of a split (see Split) that a mail is of: the
// owners of two groups, and the recipients of the group of no value, tell
// its mail from another's by it.
type MailGroup struct {
	// Label is the label the run was split by ("team").
	Label string
	// Value is the group's value of it ("payments"); "" for the group of
	// the instances without one.
	Value string
	// name is String's, made from the value as it came, when the copy
	// for display (displayGroup) no longer holds it.
	name string
}

// String names the group as a mail's subject and headline do: "team
// payments", or "team (no value)" for the instances without one; nothing
// for no group (a whole run's mail). A value that could pass for another
// group's name is quoted, Go's way: one that begins with a parenthesis or
// a quote ("(no value)"), has spaces at its ends or two in a row, or holds
// a character that a subject shows as a space or not at all (a tab, a
// line break, a bidi control, a zero-width space). Label and
// value are each cut to 40 characters, a value cut with a short digest of
// it, so that two values alike for 40 characters are named apart. Bidi
// controls and line breaks are the caller's to take out (MailSubject and
// MailBody do).
func (g *MailGroup) String() string {
	if g == nil {
		return ""
	}
	if g.name != "" {
		return g.name
	}
	v := "(no value)"
	if g.Value != "" {
		v = g.Value
		if quoteGroupValue(v) {
			v = strconv.Quote(v)
		}
		if utf8.RuneCountInString(v) > 40 {
			sum := sha256.Sum256([]byte(g.Value))
			v = trunc(40, v) + " #" + hex.EncodeToString(sum[:3])
		}
	}
	return trunc(40, g.Label) + " " + v
}

// quoteGroupValue reports whether String quotes v (see String).
func quoteGroupValue(v string) bool {
	if strings.TrimSpace(v) != v || strings.HasPrefix(v, "(") || strings.HasPrefix(v, `"`) || strings.Contains(v, "  ") {
		return true
	}
	return strings.ContainsFunc(v, func(r rune) bool {
		return r != ' ' && (unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r))
	})
}

// displayGroup returns a copy of g without bidi controls (see
// displayCopy), named as g is; nil for nil.
func displayGroup(g *MailGroup) *MailGroup {
	if g == nil {
		return nil
	}
	d := mapStrings(g, bidi.Strip)
	d.name = bidi.Strip(g.String())
	return d
}

// MailBody renders the body of a mail from the Model: an HTML part made for
// mail clients (built-in templates mail.html.tmpl, with the header, banner
// and cards of report.html) and a plain-text part that says the same in
// words.
//
// The at-a-glance content comes first: the headline, the partial banner,
// what changed since the baseline (when m.Changes is set), the outcome
// cards, what fails most, the instances to fix first and what could not be
// audited; then the rows of the long lists (changes, failed and stale
// associations), each in the Model's order. The lists are cut, all to the
// same length (at most Settings.HTMLMaxRows), so that the HTML stays within
// MaxBody bytes; when even that is not enough, the top lists are cut too.
// Each list cut short ends with "N more in the attached workbook" (when
// report.xlsx is in Attached), "N more in the reports at REPORTSAT" (when
// ReportsAt is set) or "N more in report.xlsx". Likewise the line of
// changes and the footer say that the workbook has every change and every
// row only when it is attached, and else point to ReportsAt: changes.csv is
// never attached.
//
// The HTML follows report.html's rules: html/template escapes every value,
// only http(s) URLs become links, no script, no remote content. In the text,
// each value from the record is one line (control characters become
// spaces). In both, and in the subject, the record's values have no bidi
// controls (see displayCopy). MailBody returns an error wrapping ErrMailTooLarge when nothing
// fits, and errors from the templates.
func MailBody(m *Model, opts MailOptions) (html, text string, err error) {
	if m == nil {
		return "", "", errors.New("mail body: no model")
	}
	t, err := mailTemplates()
	if err != nil {
		return "", "", err
	}
	budget := opts.MaxBody
	if budget <= 0 {
		budget = DefaultMailMaxBody
	}
	v := newMailView(displayCopy(m), opts)
	render := func(top, rows int) (string, error) {
		var buf bytes.Buffer
		if err := t.html.Execute(&buf, v.cut(top, rows)); err != nil {
			return "", fmt.Errorf("executing built-in template %s: %w", mailHTMLTemplate, err)
		}
		return buf.String(), nil
	}
	// Sizes grow with the rows shown: find the most rows that fit, first
	// in the long lists, then, if the top lists alone are too long, in
	// those.
	fits := func(top, rows int) (bool, error) {
		h, err := render(top, rows)
		return err == nil && len(h) <= budget, err
	}
	top, rows := v.maxTop(), v.maxRows()
	html, err = render(top, rows)
	if err != nil {
		return "", "", err
	}
	if len(html) > budget {
		none, err := render(top, 0)
		if err != nil {
			return "", "", err
		}
		// Rows are of much the same size: guess from the sizes of none
		// and of all.
		guess := 0
		if len(html) > len(none) {
			guess = (budget - len(none)) * rows / (len(html) - len(none))
		}
		if rows, err = most(rows+1, guess, func(n int) (bool, error) { return fits(top, n) }); err != nil {
			return "", "", err
		}
		if rows < 0 {
			rows = 0
			if top, err = most(top+1, top, func(n int) (bool, error) { return fits(n, 0) }); err != nil {
				return "", "", err
			}
			if top < 0 {
				return "", "", fmt.Errorf("%w: %d bytes with every list cut, over the %d allowed", ErrMailTooLarge, len(none), budget)
			}
		}
		if html, err = render(top, rows); err != nil {
			return "", "", err
		}
	}
	var buf bytes.Buffer
	if err := t.text.Execute(&buf, mapStrings(v.cut(top, rows), oneLine)); err != nil {
		return "", "", fmt.Errorf("executing built-in template %s: %w", mailTextTemplate, err)
	}
	return html, buf.String(), nil
}

// most returns the largest n in [0, hi) for which fits(n), or -1 when none
// does; fits must be monotone (true up to some n, false after). It tries
// guess first, then steps away from it, doubling the step, and bisects what
// is left: a good guess costs a few renders, not log2(hi).
func most(hi, guess int, fits func(int) (bool, error)) (int, error) {
	lo, best := 0, -1 // every n < lo fits; every n >= hi does not
	probe := min(max(guess, 0), hi-1)
	for step := 1; lo < hi; step *= 2 {
		ok, err := fits(probe)
		if err != nil {
			return 0, err
		}
		if ok {
			best, lo = probe, probe+1
			probe += step
		} else {
			hi = probe
			probe -= step
		}
		if probe < lo || probe >= hi {
			probe = lo + (hi-lo)/2
		}
	}
	return best, nil
}

type mailParsed struct {
	html *template.Template
	text *texttemplate.Template
}

// mailTemplates parses the mail templates once. The HTML one is parsed with
// report.html.tmpl, whose "header", "banner" and "cards" it uses. Both use
// only HTMLFuncs: every *.tmpl of templates.FS is also parsed with
// report.html.tmpl by the HTML writer.
var mailTemplates = sync.OnceValues(func() (mailParsed, error) {
	h, err := template.New(mailHTMLTemplate).Funcs(HTMLFuncs()).ParseFS(templates.FS, htmlTemplate, mailHTMLTemplate)
	if err != nil {
		return mailParsed{}, fmt.Errorf("parsing built-in template %s: %w", mailHTMLTemplate, err)
	}
	x, err := texttemplate.New(mailTextTemplate).Funcs(texttemplate.FuncMap(HTMLFuncs())).ParseFS(templates.FS, mailTextTemplate)
	if err != nil {
		return mailParsed{}, fmt.Errorf("parsing built-in template %s: %w", mailTextTemplate, err)
	}
	return mailParsed{h, x}, nil
})

// mailList is a list of a mail, perhaps cut: Rows shown, More left out.
type mailList[T any] struct {
	Rows []T
	More int
	// all are the rows the Model has, total their number in the record.
	all   []T
	total int
}

func newMailList[T any](all []T, total int) mailList[T] {
	return mailList[T]{all: all, total: max(total, len(all))}
}

// cut returns l showing its first n rows.
func (l mailList[T]) cut(n int) mailList[T] {
	l.Rows = l.all[:min(max(n, 0), len(l.all))]
	l.More = l.total - len(l.Rows)
	return l
}

// mailChange is a change with its kind in words.
type mailChange struct {
	ChangeRow
	Label string
}

// mailView is what the mail templates are executed over.
type mailView struct {
	// M is the Model, for the sub-templates of report.html and the counts.
	M *Model
	// Partial is whether the run was incomplete or interrupted.
	Partial bool
	// Where finishes "N more in ": "the attached workbook", "the reports
	// at s3://...", "report.xlsx". WhereURL is the ReportsAt to link, when
	// it is an http(s) URL.
	Where, WhereURL string
	// Workbook is whether report.xlsx is attached; ChangesIn finishes
	// "every change is in ": "the Changes sheet of the attached
	// report.xlsx", "changes.csv of the reports at s3://...", or "" when
	// neither is known to the reader (nothing is said then).
	Workbook  bool
	ChangesIn string
	// ReportsAt, Attached, Notes and Group are MailOptions'.
	ReportsAt string
	Attached  []string
	Notes     []string
	Group     *MailGroup
	// The top lists and the long ones.
	Fails    mailList[ErrorCode]
	Worst    mailList[Instance]
	Problems mailList[Problem]
	Changes  mailList[mailChange]
	Failures mailList[Row]
	Stale    mailList[Row]
}

func newMailView(m *Model, opts MailOptions) mailView {
	v := mailView{
		M: m, Partial: partial(m), ReportsAt: opts.ReportsAt, Attached: slices.Clone(opts.Attached), Notes: slices.Clone(opts.Notes),
		Group:    displayGroup(opts.Group),
		Fails:    newMailList(m.ErrorCodes, 0),
		Worst:    newMailList(m.WorstInstances, 0),
		Problems: newMailList(m.Problems.Items, m.Problems.Count),
		Failures: newMailList(m.Failures.Rows, m.Failures.Count),
		Stale:    newMailList(m.Stale.Rows, m.Stale.Count),
	}
	// Only what is attached is said to be: changes.csv never is, and the
	// workbook not when it was left out for size.
	switch {
	case slices.Contains(opts.Attached, mailWorkbook):
		v.Where, v.Workbook = "the attached workbook", true
		v.ChangesIn = "the Changes sheet of the attached " + mailWorkbook
	case opts.ReportsAt != "":
		v.Where = "the reports at " + opts.ReportsAt
		switch {
		case opts.Written == nil || slices.Contains(opts.Written, ChangesCSV):
			v.ChangesIn = ChangesCSV + " of the reports at " + opts.ReportsAt
		case slices.Contains(opts.Written, mailWorkbook):
			v.ChangesIn = "the Changes sheet of " + mailWorkbook + " of the reports at " + opts.ReportsAt
		}
		if httpURL(opts.ReportsAt) {
			v.WhereURL = opts.ReportsAt
		}
	default:
		v.Where = mailWorkbook
	}
	if m.Changes != nil {
		changes := make([]mailChange, len(m.Changes.Rows))
		for i, r := range m.Changes.Rows {
			changes[i] = mailChange{r, changeLabel(r.Kind)}
		}
		v.Changes = newMailList(changes, m.Changes.Count)
	}
	return v
}

// maxTop is the length of the top lists before any cut: Settings.Top.
func (v mailView) maxTop() int { return max(v.M.Settings.Top, 0) }

// maxRows is the length of the long lists before any cut:
// Settings.HTMLMaxRows.
func (v mailView) maxRows() int {
	if n := v.M.Settings.HTMLMaxRows; n > 0 {
		return n
	}
	return DefaultHTMLMaxRows
}

// cut returns v with the top lists cut to top rows and the long lists to
// rows (the top lists never longer than Settings.Top).
func (v mailView) cut(top, rows int) mailView {
	top, rows = min(top, v.maxTop()), min(rows, v.maxRows())
	v.Fails, v.Worst = v.Fails.cut(top), v.Worst.cut(top)
	v.Problems = v.Problems.cut(min(top, rows))
	v.Changes, v.Failures, v.Stale = v.Changes.cut(rows), v.Failures.cut(rows), v.Stale.cut(rows)
	return v
}

// partial reports whether m's run was incomplete or interrupted: what the
// banner of report.html and a mail's subject say.
func partial(m *Model) bool { return !m.Run.Complete || m.Run.Interrupted }

// mapStrings returns a copy of v in which every string (in structs,
// pointers, slices, arrays and maps, keys included) is f of it. The text
// part is made of mapStrings(v, oneLine), so that no value can start a line
// that looks like the mail's own.
func mapStrings[T any](v T, f func(string) string) T {
	return mapStringsValue(reflect.ValueOf(v), f).Interface().(T)
}

func mapStringsValue(v reflect.Value, f func(string) string) reflect.Value {
	switch v.Kind() {
	case reflect.String:
		out := reflect.New(v.Type()).Elem()
		out.SetString(f(v.String()))
		return out
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type().Elem())
		out.Elem().Set(mapStringsValue(v.Elem(), f))
		return out
	case reflect.Struct:
		out := reflect.New(v.Type()).Elem()
		out.Set(v)
		for i := range v.NumField() {
			if out.Field(i).CanSet() {
				out.Field(i).Set(mapStringsValue(v.Field(i), f))
			}
		}
		return out
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			out.Index(i).Set(mapStringsValue(v.Index(i), f))
		}
		return out
	case reflect.Array:
		out := reflect.New(v.Type()).Elem()
		for i := range v.Len() {
			out.Index(i).Set(mapStringsValue(v.Index(i), f))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			out.SetMapIndex(mapStringsValue(it.Key(), f), mapStringsValue(it.Value(), f))
		}
		return out
	}
	// Numbers, booleans, times' insides and interfaces (Run.Options: the
	// operator's settings, which the text does not show) are kept as they
	// are.
	return v
}

// oneLine returns s with each run of control characters and spaces made one
// space, trimmed, when it has a character that breaks a line; other strings
// are kept as they are.
func oneLine(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r != ' ' && breaks(r) }) {
		return s
	}
	return strings.Join(strings.FieldsFunc(s, breaks), " ")
}

// breaks reports whether r is a control character or a space of any kind
// (U+2028 LINE SEPARATOR is one).
func breaks(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }

// DefaultMailSubject is the subject a mail gets when the user gives none: the
// headline's figures and the scope, with "PARTIAL: " in front when the run
// was incomplete or interrupted, such as "PARTIAL: 37 of 1,204 audited
// instances non-compliant (3.07%), 12 not managed · 2 accounts, 3 regions";
// what changed since the baseline in brief before the headline (Changes.Brief:
// "3 new failures, 12 resolved · 37 of ..."); and the group's name in a
// group's mail, after PARTIAL, which stays first as it was before groups
// were named ("PARTIAL: team payments: ..."). It is a text/template;
// see MailSubject, which cuts its headline rather than its scope.
const DefaultMailSubject = `{{if .Partial}}PARTIAL: {{end}}{{with .Group}}{{.}}: {{end}}{{with .Changes}}{{with .Brief}}{{.}} · {{end}}{{end}}{{.Headline}} · {{.Scope}}`

// SubjectData is what a subject template is executed over: the Model's
// fields, and the words a subject needs.
type SubjectData struct {
	*Model
	// Partial is whether the run was incomplete (Run.Complete false) or
	// interrupted.
	Partial bool
	// Scope says what was audited: "2 accounts, 3 regions", "account
	// 111111111111, us-east-1", or when neither is known "1,204
	// instances".
	Scope string
	// Group is the group of a split that the mail is of, nil for a whole
	// run's: {{with .Group}}{{.}}{{end}} names it ("team payments", "team
	// (no value)"), and .Group.Label and .Group.Value are its parts (see
	// MailGroup).
	Group *MailGroup
}

// MailSubject executes tmpl, a text/template such as DefaultMailSubject,
// over SubjectData for m and group (nil for a mail of a whole run), with
// the functions of HTMLFuncs. The result is one line: control characters
// (CR, LF, tab) from the template or from the record's and the group's
// values become spaces, so that no label can start a header; it is trimmed
// and cut to 200 characters. An empty tmpl means DefaultMailSubject, whose
// headline is cut instead, so that its scope stays whole.
// A template that does not parse or execute is an error naming it as the
// mail subject.
func MailSubject(tmpl string, m *Model, group *MailGroup) (string, error) {
	if m == nil {
		return "", errors.New("mail subject: no model")
	}
	if tmpl == "" {
		tmpl = DefaultMailSubject
	}
	t, err := texttemplate.New("subject").Funcs(texttemplate.FuncMap(HTMLFuncs())).Parse(tmpl)
	if err != nil {
		return "", fmt.Errorf("mail subject template: %w", err)
	}
	m = displayCopy(m)
	data := SubjectData{Model: m, Partial: partial(m), Scope: scope(m), Group: displayGroup(group)}
	execute := func() (string, error) {
		var buf bytes.Buffer
		if err := t.Execute(&buf, data); err != nil {
			return "", fmt.Errorf("mail subject template: %w", err)
		}
		return strings.Join(strings.FieldsFunc(buf.String(), breaks), " "), nil
	}
	s, err := execute()
	if err != nil {
		return "", err
	}
	// The scope, last, says which accounts: the end of a long headline
	// (its rarer outcomes) is what the default subject can spare.
	if over := utf8.RuneCountInString(s) - maxSubject; over > 0 && tmpl == DefaultMailSubject {
		if n := utf8.RuneCountInString(m.Headline) - over - 1; n > 0 { // -1: trunc's "…"
			m.Headline = trunc(n, m.Headline)
			if s, err = execute(); err != nil {
				return "", err
			}
		}
	}
	return trunc(maxSubject, s), nil
}

// scope says what m covers: its accounts and regions, or its instances.
func scope(m *Model) string {
	var accounts, regions []string
	for _, l := range m.Locations {
		if l.AccountID != "" && !slices.Contains(accounts, l.AccountID) {
			accounts = append(accounts, l.AccountID)
		}
		if l.Region != "" && !slices.Contains(regions, l.Region) {
			regions = append(regions, l.Region)
		}
	}
	var parts []string
	switch len(accounts) {
	case 0:
	case 1:
		parts = append(parts, "account "+trunc(40, oneLine(accounts[0])))
	default:
		parts = append(parts, plural(len(accounts), "account", "accounts"))
	}
	switch len(regions) {
	case 0:
	case 1:
		parts = append(parts, trunc(40, oneLine(regions[0])))
	default:
		parts = append(parts, plural(len(regions), "region", "regions"))
	}
	if len(parts) == 0 {
		return plural(m.Totals.Instances, "instance", "instances")
	}
	return strings.Join(parts, ", ")
}
