package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"maps"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	texttemplate "text/template"
	"text/template/parse"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/internal/atomicfile"
	"github.com/auditor-dev/auditor/internal/bidi"
	"github.com/auditor-dev/auditor/templates"
)

// HTMLFile is the file FormatHTML writes.
const HTMLFile = "report.html"

// htmlTemplate is the built-in template's name in templates.FS.
const htmlTemplate = "report.html.tmpl"

type htmlWriter struct {
	// template is the path of a user template; empty means the built-in one.
	template string
}

func newHTML(opts Options) Writer { return htmlWriter{template: opts.Template} }

// Write writes report.html: one self-contained page (no scripts, no external
// styles, fonts or images; layout in tables with inline styles, so that it
// reads the same offline, in a browser and as an e-mail body) rendered by
// html/template, which escapes every value for its context. Only http and
// https URLs become links. The built-in template states the basis of its
// percentages once, answers the four first questions (how bad, what fails
// most, what to fix first, what could not be audited) in the first screen,
// says "unknown" for what the run could not see, reflows on a narrow screen
// (tables scroll in their own box), and shows at most Settings.HTMLMaxRows
// rows in each long list (Settings.Top failures, 20 associations that need
// action), each in the Model's order of what needs action, with a line that
// counts the rows left out ("N more in report.xlsx").
//
// The page is rendered from displayCopy(m): no value from the record can
// carry a bidi control that reorders the text around it.
//
// When Options.Template is set, that file is parsed as an html/template and
// executed over the same *Model, with the functions documented at
// HTMLFuncs, in place of the built-in template. A template that cannot be
// read, parsed or executed is an error naming the file (and the line, where
// html/template reports one), which wraps ErrTemplate; no report.html is
// left behind.
func (w htmlWriter) Write(ctx context.Context, m *Model, _ *audit.Records, dir string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t, name, err := w.parse()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, HTMLFile)
	err = atomicfile.Write(path, func(out io.Writer) error {
		err := t.Execute(out, displayCopy(m))
		if err == nil {
			return nil
		}
		err = fmt.Errorf("executing %s: %w", name, err)
		// A failure to write comes back as it is; only what the template
		// did is the user template's fault.
		var ee texttemplate.ExecError
		var he *template.Error
		if w.template != "" && (errors.As(err, &ee) || errors.As(err, &he)) {
			return &templateError{err}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return []string{path}, nil
}

// parse returns the template to execute and a name for it in errors.
func (w htmlWriter) parse() (*template.Template, string, error) {
	if w.template == "" {
		t, err := builtinTemplate()
		return t, "built-in template " + htmlTemplate, err
	}
	t, err := parseUserTemplate(w.template, HTMLFuncs())
	return t, "template " + w.template, err
}

// ErrTemplate is wrapped by the errors of Render, Split and CheckTemplate
// that are a user template's (Options.Template): it cannot be read or
// parsed, html/template cannot escape it, or executing it over the Model
// fails. A failure to write report.html is not one: a caller tells a
// template to fix from a directory that cannot be written by it.
var ErrTemplate = errors.New("the template cannot render the report")

// templateError is err, a user template's fault: it reads as err, and is
// ErrTemplate too. It unwraps to err alone, so that it is never taken for
// several failures joined.
type templateError struct{ err error }

func (e *templateError) Error() string        { return e.err.Error() }
func (e *templateError) Unwrap() error        { return e.err }
func (e *templateError) Is(target error) bool { return target == ErrTemplate }

// builtinTemplate parses the embedded templates once.
var builtinTemplate = sync.OnceValues(func() (*template.Template, error) {
	t, err := template.New(htmlTemplate).Funcs(HTMLFuncs()).ParseFS(templates.FS, "*.tmpl")
	if err != nil {
		return nil, fmt.Errorf("parsing built-in template: %w", err)
	}
	return t, nil
})

// parseUserTemplate reads and parses the user template at path with funcs;
// its error is a *templateError. A file that is empty or holds white space
// alone is refused, and so is one whose text and actions, outside the
// templates it defines, can write nothing but white space whatever the
// data (a comment, definitions only): report.html would be an empty page,
// listed as written (a "> t.tmpl" that truncated the file, say). One that
// writes nothing only for some data ({{if false}}x{{end}}) is not told.
func parseUserTemplate(path string, funcs template.FuncMap) (*template.Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &templateError{fmt.Errorf("reading template: %w", err)}
	}
	switch {
	case len(b) == 0:
		return nil, &templateError{fmt.Errorf("template %s is empty: report.html would be an empty page", path)}
	case len(bytes.TrimSpace(b)) == 0:
		return nil, &templateError{fmt.Errorf("template %s holds only white space: report.html would be an empty page", path)}
	}
	// html/template names the template (its base name) and the line in its
	// errors; the wrap adds the path as given.
	t, err := template.New(filepath.Base(path)).Funcs(funcs).Parse(string(b))
	if err != nil {
		return nil, &templateError{fmt.Errorf("parsing template %s: %w", path, err)}
	}
	if t.Tree == nil || !mayWrite(t.Tree.Root) {
		return nil, &templateError{fmt.Errorf("template %s writes nothing but white space whatever the report holds (what a {{define}} holds is written only where a {{template}} calls it): report.html would be an empty page", path)}
	}
	return t, nil
}

// mayWrite reports whether executing n may write anything but white space:
// whether it holds text other than white space, an action that prints
// (not one that only sets a variable) or a {{template}} call.
func mayWrite(n parse.Node) bool {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return false
		}
		return slices.ContainsFunc(n.Nodes, mayWrite)
	case *parse.TextNode:
		return len(bytes.TrimSpace(n.Text)) > 0
	case *parse.ActionNode:
		return len(n.Pipe.Decl) == 0
	case *parse.IfNode:
		return mayWrite(n.List) || mayWrite(n.ElseList)
	case *parse.RangeNode:
		return mayWrite(n.List) || mayWrite(n.ElseList)
	case *parse.WithNode:
		return mayWrite(n.List) || mayWrite(n.ElseList)
	case *parse.TemplateNode:
		return true
	}
	return false
}

// CheckTemplate parses the user template at path and executes it, as Render
// would, over a sample Model (a small fleet with a row in every list and
// every date, percentage and Changes set), discarding what it writes. It
// returns the first error that would stop Render whatever the record holds
// (a file that cannot be read, a syntax error, an unknown function, markup
// that html/template cannot escape, a field the Model does not have, a
// function given a value of the wrong type), naming the file and, where
// html/template reports one, the line; the error wraps ErrTemplate. So is
// a file that is empty or holds white space alone, and one that can write
// nothing but white space whatever the Model holds (see parseUserTemplate):
// report.html would be an empty page. A CLI calls it to reject a bad
// --template before a long run.
//
// What depends on the data the sample lacks is left to Render: an index
// or slice past the sample's rows, or a map key it does not have, ends the
// check there without an error (index and slice are checked with stand-ins
// that stop at what the builtins would return an error for or a nil value
// of), and neither the branches the sample does not take nor Run.Options,
// which the sample leaves empty, are evaluated.
func CheckTemplate(path string) error {
	t, err := parseUserTemplate(path, checkFuncs())
	if err != nil {
		return err
	}
	err = t.Execute(io.Discard, displayCopy(sampleModel()))
	if err == nil || errors.Is(err, errPastSample) {
		return nil
	}
	return &templateError{fmt.Errorf("executing template %s over a sample report: %w", path, err)}
}

// errPastSample stops CheckTemplate's execution where the template reaches
// past the sample's data: a real record may have what it looks for.
var errPastSample = errors.New("past the sample's data")

// checkFuncs are HTMLFuncs with stand-ins for the builtins index, slice and len
// that return errPastSample, instead of an error or a nil value, wherever
// the outcome depends on how many rows or which keys the data has.
func checkFuncs() template.FuncMap {
	fm := HTMLFuncs()
	fm["index"] = sampleIndex
	fm["slice"] = sampleSlice
	fm["len"] = sampleLen
	return fm
}

// sampleLen is the builtin len for CheckTemplate: the same result where
// the sample has a value, errPastSample for one it has not (an option of
// the run, a label) or that the builtin would refuse (left to Render).
func sampleLen(item reflect.Value) (int, error) {
	v := indirectValue(item)
	if !v.IsValid() {
		return 0, errPastSample
	}
	switch v.Kind() {
	case reflect.Array, reflect.Chan, reflect.Map, reflect.Slice, reflect.String:
		return v.Len(), nil
	}
	return 0, errPastSample
}

// sampleIndex is the builtin index for CheckTemplate: the same result where
// the sample has what is asked for, errPastSample otherwise (an index past
// its rows, a missing key whose value would be nil, and anything the
// builtin would refuse: it is left to Render).
func sampleIndex(item reflect.Value, indexes ...reflect.Value) (reflect.Value, error) {
	v := item
	for _, ix := range indexes {
		v, ix = indirectValue(v), indirectValue(ix)
		if !v.IsValid() || !ix.IsValid() {
			return reflect.Value{}, errPastSample
		}
		switch v.Kind() {
		case reflect.Array, reflect.Slice, reflect.String:
			i, ok := intValue(ix)
			if !ok || i < 0 || i >= v.Len() {
				return reflect.Value{}, errPastSample
			}
			v = v.Index(i)
		case reflect.Map:
			if !ix.Type().AssignableTo(v.Type().Key()) {
				return reflect.Value{}, errPastSample
			}
			x := v.MapIndex(ix)
			if !x.IsValid() {
				switch v.Type().Elem().Kind() {
				case reflect.Pointer, reflect.Interface, reflect.Func, reflect.Chan:
					return reflect.Value{}, errPastSample
				}
				x = reflect.Zero(v.Type().Elem())
			}
			v = x
		default:
			return reflect.Value{}, errPastSample
		}
	}
	return v, nil
}

// sampleSlice is the builtin slice for CheckTemplate, as sampleIndex is
// index's: a slice of a string or a slice within its length; errPastSample
// for anything else (a three-index slice, an array, bounds past the
// sample's rows), which is left to Render.
func sampleSlice(item reflect.Value, indexes ...reflect.Value) (reflect.Value, error) {
	v := indirectValue(item)
	if !v.IsValid() || len(indexes) > 2 || v.Kind() != reflect.String && v.Kind() != reflect.Slice {
		return reflect.Value{}, errPastSample
	}
	idx := [2]int{0, v.Len()}
	for i, ix := range indexes {
		x, ok := intValue(indirectValue(ix))
		if !ok || x < 0 || x > v.Len() {
			return reflect.Value{}, errPastSample
		}
		idx[i] = x
	}
	if idx[0] > idx[1] {
		return reflect.Value{}, errPastSample
	}
	return v.Slice(idx[0], idx[1]), nil
}

// indirectValue follows v through pointers and interfaces; a nil one is
// the zero Value.
func indirectValue(v reflect.Value) reflect.Value {
	for v.IsValid() && (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) {
		if v.IsNil() {
			return reflect.Value{}
		}
		v = v.Elem()
	}
	return v
}

// intValue returns v as an int, when it is an integer.
func intValue(v reflect.Value) (int, bool) {
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return int(v.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if u := v.Uint(); u <= math.MaxInt {
			return int(u), true
		}
	}
	return 0, false
}

// HTMLFuncs returns the functions that the built-in HTML template and a user
// template (Options.Template) can call, besides html/template's own. A user
// template receives the *Model (see Model and summary.json for its fields)
// as its data. Every function returns plain text, which html/template then
// escapes for its context, except hyphens and labels, which return markup
// built from escaped text.
//
//   - num N: an integer with thousands separators ("1,204").
//   - pct F: a percentage of 0-100 (a float64 or a *float64) with up to two
//     decimals ("3.07%"), or "—" for a nil *float64; "<0.01%" and ">99.99%"
//     for a share that is neither 0 nor 100 but would round to it.
//   - plural N ONE MANY: N with thousands separators and the noun that goes
//     with it ("1 instance", "2 instances").
//   - date T: a *time.Time or time.Time in UTC ("2025-06-01 12:00:00 UTC"),
//     or "—" when nil or zero.
//   - cutoffDate T: a stale cut-off (Settings.StaleBefore and the like) as
//     date writes it, but with the milliseconds when it has any, a finer
//     fraction rounded up ("2025-06-01 12:00:05.536 UTC"): an execution
//     date (whole milliseconds) is before T exactly when it is before the
//     date written, to the second as it would not be.
//   - shortDate T: like date, without the zone ("2025-06-01 12:00:05"),
//     for table cells under a "(UTC)" heading.
//   - exactDate T: a *time.Time or time.Time as stored, RFC 3339 in UTC
//     with the milliseconds SSM serves ("2025-06-01T12:00:05.123Z", as in
//     the CSV files), or "" when nil or zero: for the datetime and title
//     of a <time> element, whose text is shortDate's.
//   - elapsed START END: the time between two *time.Time as a duration
//     ("1m35s"), or "—" when either is unknown.
//   - seconds F: a number of seconds as a duration ("1.9s", "1h2m3s").
//   - days S: a stale age in words: Settings.StaleAfter as it is ("7
//     days", "off"), or a Go duration of whole days ("168h0m0s") as days.
//   - httpURL S: whether S is an absolute http or https URL with a host, the
//     only URLs the built-in template makes links of.
//   - urlHost S: the host an http(s) URL S leads to, in ASCII and lower
//     case, with its port ("bucket.s3.us-east-1.amazonaws.com"), or "" when
//     S is not one to link: the text of a link names where it goes.
//   - hyphens S: S escaped, with a line-break opportunity (<wbr>) after
//     each hyphen, so that a long ID wraps there and nowhere else.
//   - pathBreaks S: S escaped, with a line-break opportunity (<wbr>) after
//     each colon and slash, so that a shared document's ARN
//     (arn:aws:ssm:REGION:ACCOUNT:document/NAME) wraps between its parts
//     rather than widen its table.
//   - outcomeLabel O: an audit.Outcome for people ("Non-compliant").
//   - outcomeColor O: the colour of an outcome ("#cf222e"), from a fixed
//     table (grey for an unknown outcome).
//   - bars OUTCOMES [WITHOUT]: for Model.Outcomes, one bar per outcome with
//     Outcome, Instances, Percent (as in Model.Outcomes) and Width (an
//     integer 0-100 computed in Go: the share of all instances, at least 1
//     when Instances > 0; the widths sum to 100 when there is any
//     instance). With WITHOUT (Totals.WithoutResult) above 0, a last bar
//     with an empty Outcome counts the targets without a result, and the
//     widths are shares of the targets, results and those together.
//   - anyField LIST NAME: whether any element of LIST (structs or pointers
//     to structs) has a non-zero field NAME: whether a column has data.
//   - attention GROUPS: the groups of Model.Associations or Documents that
//     need action (a Failed, Pending, other or stale row), in order;
//     healthy GROUPS: the others, every row a recent success.
//   - first N LIST: the first N elements of a list (all when it is shorter).
//   - more TOTAL SHOWN: TOTAL-SHOWN, or 0 when that is negative: the rows a
//     capped list leaves out.
//   - summarize N LIST TOTAL: the first N strings of LIST joined by ", ",
//     then " +K more" where K is TOTAL (or, when TOTAL is 0, len LIST)
//     minus the strings shown.
//   - trunc N S: S cut to N characters with "…" appended when longer.
//   - labels MAP: a label map sorted by key, each key=value in a <bdi
//     class=l> of its own (boxed by the built-in template's style), a key
//     or value quoted when it is empty or holds a comma, an equals sign, a
//     quote or spaces at its ends (markup built from escaped text, like
//     hyphens).
//   - options MAP: Run.Options as a list of {Key, Value} sorted by key,
//     Value a string (JSON for what is not a string).
//   - odd I: whether the integer I is odd (for striped rows).
//   - orNone S: S, or "(none)" when empty.
//   - dict K V ...: a map of the key, value pairs, to pass several values
//     to a sub-template.
func HTMLFuncs() template.FuncMap {
	return template.FuncMap{
		"num":          htmlNum,
		"pct":          htmlPct,
		"plural":       htmlPlural,
		"date":         htmlDate,
		"cutoffDate":   htmlCutoffDate,
		"shortDate":    htmlShortDate,
		"exactDate":    htmlExactDate,
		"elapsed":      htmlElapsed,
		"seconds":      htmlSeconds,
		"days":         htmlDays,
		"httpURL":      httpURL,
		"urlHost":      urlHost,
		"hyphens":      hyphens,
		"pathBreaks":   pathBreaks,
		"outcomeLabel": outcomeLabel,
		"outcomeColor": outcomeColor,
		"bars":         outcomeBars,
		"anyField":     anyField,
		"attention":    func(gs []Group) []Group { return filterGroups(gs, true) },
		"healthy":      func(gs []Group) []Group { return filterGroups(gs, false) },
		"first":        first,
		"more":         func(total, shown int) int { return max(0, total-shown) },
		"summarize":    summarize,
		"trunc":        trunc,
		"labels":       labelText,
		"options":      optionList,
		"odd":          func(i int) bool { return i%2 == 1 },
		"orNone":       orNone,
		"dict":         dict,
	}
}

// dict builds a map from key, value pairs, to pass several values to a
// sub-template.
func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, errors.New("dict: want key, value pairs")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

func htmlNum(v any) (string, error) {
	switch n := v.(type) {
	case int:
		return thousands(n), nil
	case int64:
		return thousands(int(n)), nil
	case int32:
		return thousands(int(n)), nil
	}
	return "", fmt.Errorf("num: %T is not an integer", v)
}

func htmlPct(v any) (string, error) {
	switch f := v.(type) {
	case float64:
		return formatPercent(f), nil
	case *float64:
		if f == nil {
			return "—", nil
		}
		return formatPercent(*f), nil
	}
	return "", fmt.Errorf("pct: %T is not a number", v)
}

func htmlPlural(n any, one, many string) (string, error) {
	s, err := htmlNum(n)
	if err != nil {
		return "", err
	}
	if s == "1" {
		return "1 " + one, nil
	}
	return s + " " + many, nil
}

// dateLayout is how dates are shown: UTC, to the second, with the zone
// spelled out so that a reader in another zone is not misled.
const dateLayout = "2006-01-02 15:04:05 UTC"

// DateText writes t as every report, mail and summary shows a date to a
// reader: in UTC, to the second, with the zone spelled out ("2025-06-01
// 12:00:05 UTC"); "—" for the zero time.
func DateText(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format(dateLayout)
}

// cutoffLayout is dateLayout with the milliseconds.
const cutoffLayout = "2006-01-02 15:04:05.000 UTC"

// cutoffText writes a stale cut-off (Settings.StaleBefore) as DateText
// writes a date, but exact: with its milliseconds when it has any
// ("2025-06-01 12:00:05.536 UTC"), a finer fraction rounded up. SSM's dates
// are whole milliseconds, and one is before the cut-off exactly when it is
// before the date written, so a reader can check each row as the reports
// show it (to the millisecond in the CSV files, the workbook and a <time>'s
// title); cut to the second, a stale row of 12:00:05.375 would read as not
// before a cut-off of 12:00:05. "—" for the zero time.
func cutoffText(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	t = t.UTC()
	if ms := t.Truncate(time.Millisecond); !ms.Equal(t) {
		t = ms.Add(time.Millisecond)
	}
	if t.Nanosecond() == 0 {
		return t.Format(dateLayout)
	}
	return t.Format(cutoffLayout)
}

func htmlDate(v any) (string, error) {
	switch t := v.(type) {
	case *time.Time:
		if t == nil {
			return "—", nil
		}
		return DateText(*t), nil
	case time.Time:
		return DateText(t), nil
	case nil:
		return "—", nil
	}
	return "", fmt.Errorf("date: %T is not a time", v)
}

func htmlCutoffDate(v any) (string, error) {
	switch t := v.(type) {
	case *time.Time:
		if t == nil {
			return "—", nil
		}
		return cutoffText(*t), nil
	case time.Time:
		return cutoffText(t), nil
	case nil:
		return "—", nil
	}
	return "", fmt.Errorf("cutoffDate: %T is not a time", v)
}

func htmlShortDate(v any) (string, error) {
	s, err := htmlDate(v)
	if err != nil || s == "—" {
		return s, err
	}
	return strings.TrimSuffix(s, " UTC"), nil
}

func htmlExactDate(v any) (string, error) {
	switch t := v.(type) {
	case *time.Time:
		return csvTime(t), nil
	case time.Time:
		return csvTime(&t), nil
	case nil:
		return "", nil
	}
	return "", fmt.Errorf("exactDate: %T is not a time", v)
}

func htmlElapsed(start, end *time.Time) string {
	if start == nil || end == nil || end.Before(*start) {
		return "—"
	}
	return roundDuration(end.Sub(*start)).String()
}

func htmlSeconds(s float64) string {
	if s <= 0 || math.IsNaN(s) || math.IsInf(s, 0) {
		return "0s"
	}
	return roundDuration(time.Duration(s * float64(time.Second))).String()
}

// roundDuration keeps a tenth of a second under a minute, whole seconds
// above.
func roundDuration(d time.Duration) time.Duration {
	if d < time.Minute {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}

func htmlDays(s string) string {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 || d%(24*time.Hour) != 0 {
		return s
	}
	return audit.StaleAfter(d).String()
}

// httpURL reports whether s is an absolute http(s) URL with a host. Anything
// else (s3://, javascript:, relative or unparsable text) is shown as text.
func httpURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Hostname() == "" {
		return false // a port alone (https://:443/) names no host
	}
	return u.Scheme == "http" || u.Scheme == "https"
}

// urlHost returns the host that the http(s) URL s leads to, as the text of
// its link names it: lower case, with its port, a host past ASCII in
// punycode (xn--...), so that a look-alike letter cannot pass for
// amazonaws.com, and without a user name in front of it, which is not
// where it leads. It returns "" for what httpURL refuses and for a host
// that IDNA cannot write in ASCII: such a URL is shown as text. An output
// URL is the agent's on the instance, and a link that named no host could
// take the reader of a compliance report anywhere.
func urlHost(s string) string {
	if !httpURL(s) {
		return ""
	}
	u, _ := url.Parse(s)
	host := u.Hostname()
	if strings.ContainsFunc(host, func(r rune) bool { return r > unicode.MaxASCII }) {
		var err error
		if host, err = idna.Lookup.ToASCII(host); err != nil {
			return ""
		}
	}
	host = strings.ToLower(host)
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // IPv6
	}
	if p := u.Port(); p != "" {
		host += ":" + p
	}
	return host
}

var outcomeStyles = map[audit.Outcome]struct{ label, color string }{
	audit.OutcomeCompliant:      {"Compliant", "#1a7f37"},
	audit.OutcomeNoncompliant:   {"Non-compliant", "#cf222e"},
	audit.OutcomePending:        {"Pending", "#9a6700"},
	audit.OutcomeNoAssociations: {"No associations", "#0969da"},
	audit.OutcomeNotManaged:     {"Not managed", "#8250df"},
	audit.OutcomeError:          {"Error", "#bc4c00"},
	audit.OutcomeInvalid:        {"Invalid input", "#6e7781"},
}

func outcomeLabel(o audit.Outcome) string {
	if s, ok := outcomeStyles[o]; ok {
		return s.label
	}
	return string(o)
}

func outcomeColor(o audit.Outcome) string {
	if s, ok := outcomeStyles[o]; ok {
		return s.color
	}
	return "#6e7781"
}

// bar is one bar of the outcome chart (see HTMLFuncs, bars).
type bar struct {
	Outcome   audit.Outcome
	Instances int
	// Percent is OutcomeCount.Percent: of the audited instances, nil for an
	// outcome that is not a verdict.
	Percent *float64
	// Width is the bar's length in percent of the chart, 0-100.
	Width int
}

func outcomeBars(oc []OutcomeCount, without ...int) []bar {
	// The targets without a result are a bar of their own: drawn from the
	// results alone, the bar of a run that reached 778 of 3,000 targets
	// filled the whole width.
	if n := sumInts(without); n > 0 {
		oc = append(slices.Clone(oc), OutcomeCount{Instances: n})
	}
	total := 0
	for _, o := range oc {
		total += o.Instances
	}
	bars := make([]bar, 0, len(oc))
	sum, widest := 0, -1
	for i, o := range oc {
		w := 0
		if total > 0 {
			w = int(math.Round(float64(o.Instances) * 100 / float64(total)))
		}
		if o.Instances > 0 {
			w = max(w, 1)
		}
		w = min(max(w, 0), 100)
		sum += w
		if widest < 0 || w > bars[widest].Width {
			widest = i
		}
		bars = append(bars, bar{Outcome: o.Outcome, Instances: o.Instances, Percent: o.Percent, Width: w})
	}
	// The widest bar gives back what rounding and the 1% floor added (or
	// takes what they lost), so that the widths sum to 100: past 100 a
	// browser shrinks the bars, and a 1% bar can vanish.
	if sum > 0 && sum != 100 {
		bars[widest].Width = max(bars[widest].Width-(sum-100), 1)
	}
	return bars
}

// pathBreaks escapes s and lets it break after its colons and slashes.
func pathBreaks(s string) template.HTML {
	var b strings.Builder
	for _, r := range s {
		b.WriteString(template.HTMLEscapeString(string(r)))
		if r == ':' || r == '/' {
			b.WriteString("<wbr>")
		}
	}
	return template.HTML(b.String())
}

func sumInts(ns []int) int {
	sum := 0
	for _, n := range ns {
		sum += max(n, 0)
	}
	return sum
}

// hyphens escapes s and lets it break after its hyphens only.
func hyphens(s string) template.HTML {
	parts := strings.Split(s, "-")
	for i, p := range parts {
		parts[i] = template.HTMLEscapeString(p)
	}
	return template.HTML(strings.Join(parts, "-<wbr>"))
}

func anyField(list any, name string) (bool, error) {
	v := reflect.ValueOf(list)
	if v.Kind() != reflect.Slice {
		return false, fmt.Errorf("anyField: %T is not a list", list)
	}
	for i := range v.Len() {
		e := v.Index(i)
		for e.Kind() == reflect.Pointer || e.Kind() == reflect.Interface {
			if e.IsNil() {
				break
			}
			e = e.Elem()
		}
		if e.Kind() != reflect.Struct {
			return false, fmt.Errorf("anyField: %s is not a struct", e.Type())
		}
		f := e.FieldByName(name)
		if !f.IsValid() {
			return false, fmt.Errorf("anyField: %s has no field %s", e.Type(), name)
		}
		if !f.IsZero() && !(f.Kind() == reflect.Map && f.Len() == 0) {
			return true, nil
		}
	}
	return false, nil
}

// filterGroups returns the groups that need action (want true) or the
// others, in their order.
func filterGroups(gs []Group, want bool) []Group {
	out := []Group{}
	for _, g := range gs {
		if (g.Failed+g.Pending+g.Other+g.Stale > 0) == want {
			out = append(out, g)
		}
	}
	return out
}

func first(n int, list any) (any, error) {
	v := reflect.ValueOf(list)
	if v.Kind() != reflect.Slice {
		return nil, fmt.Errorf("first: %T is not a list", list)
	}
	if v.Len() > n {
		v = v.Slice(0, max(n, 0))
	}
	return v.Interface(), nil
}

func summarize(n int, list []string, total int) string {
	shown := list[:min(len(list), max(n, 0))]
	if total <= 0 {
		total = len(list)
	}
	s := strings.Join(shown, ", ")
	if k := total - len(shown); k > 0 {
		s += " +" + thousands(k) + " more"
	}
	return s
}

func trunc(n int, s string) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:max(n, 0)]) + "…"
}

// labelText is an instance's labels for HTML: each key=value in a <bdi> of
// its own (class l, which the built-in template boxes, so that a
// reader sees where one label ends), so that right-to-left text in one
// value cannot move the values and figures around it; a key or value that could pass for the separators
// or for another label (a comma, an equals sign, a quote, spaces at its
// ends, nothing at all) is quoted as well (labelWord), for a reader
// without the styles: owner="alice, team=payments" is one label.
func labelText(m map[string]string) template.HTML {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		// A long one may break anywhere (templates/report.html.tmpl);
		// a short one never, as the words of a short one would be.
		class := "l"
		word := labelWord(k) + "=" + labelWord(m[k])
		if utf8.RuneCountInString(word) > longLabel {
			class = `"l long"`
		}
		parts = append(parts, `<bdi class=`+class+`>`+template.HTMLEscapeString(word)+"</bdi>")
	}
	return template.HTML(strings.Join(parts, ", "))
}

// longLabel is the length in characters past which a label (key=value)
// may break inside a word in report.html, rather than widen its table.
const longLabel = 32

// labelWord is a label's key or value as labelText shows it: as it is, or
// in double quotes (with \ and " escaped) when it is empty or holds what
// could be read as a separator.
func labelWord(s string) string {
	if s != "" && !strings.ContainsAny(s, ",=\"\\\n\r\t") && strings.TrimSpace(s) == s {
		return s
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// displayCopy returns a copy of m for what people read: report.html, the
// mail's parts and its subject. In it, no string has a bidi control
// (bidi.Strip): ErrorCode, DetailedStatus and ExecutionSummary come from
// the node's agent and labels from whoever writes the inventory, and a
// U+202E RIGHT-TO-LEFT OVERRIDE at the end of one would reverse everything
// after it to the end of its paragraph ("12 in 12 instances" read as
// "secnatsni 21 ni 21"). An unclosed control cannot be closed for it in
// the mail's plain text, so it is dropped everywhere. m itself, which
// summary.json, the CSV and the workbook are written from, keeps every
// value exactly.
func displayCopy(m *Model) *Model { return mapStrings(m, bidi.Strip) }

// option is one run option (see HTMLFuncs, options).
type option struct {
	Key, Value string
}

func optionList(m map[string]any) []option {
	out := make([]option, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v := m[k]
		var s string
		if str, ok := v.(string); ok {
			s = str
		} else if b, err := json.Marshal(v); err == nil {
			s = string(b)
		} else {
			s = fmt.Sprint(v)
		}
		out = append(out, option{k, s})
	}
	return out
}
