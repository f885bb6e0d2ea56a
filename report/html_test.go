package report_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/templates"
)

// renderHTML renders opts as FormatHTML only and returns report.html.
func renderHTML(t *testing.T, opts report.Options) []byte {
	t.Helper()
	opts.Formats = []report.Format{report.FormatHTML}
	paths, err := report.Render(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(opts.Dir, report.HTMLFile)}
	if !slices.Equal(paths, want) {
		t.Fatalf("Render wrote %q, want %q", paths, want)
	}
	b, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHTMLGolden(t *testing.T) {
	for _, tt := range []struct{ fixture, golden string }{
		{"mixed", "report.golden.html"},
		{"empty", "html-empty.golden.html"},
	} {
		t.Run(tt.fixture, func(t *testing.T) {
			got := renderHTML(t, fixtureNamed(t, tt.fixture).options(t))
			checkGolden(t, tt.golden, got)
		})
	}
}

// parseHTML parses a report and fails the test if it is not HTML.
func parseHTML(t *testing.T, b []byte) *html.Node {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// elements returns every element node under n, in document order.
func elements(n *html.Node) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode {
			out = append(out, d)
		}
	}
	return out
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// byID returns the element with the given id, or nil.
func byID(doc *html.Node, id string) *html.Node {
	for _, e := range elements(doc) {
		if v, ok := attr(e, "id"); ok && v == id {
			return e
		}
	}
	return nil
}

// text returns the text content of n, as a browser shows it (entities
// decoded).
func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}

// tableRows returns the rows of a table that hold data cells (td), not the
// rows of the tables nested in it.
func tableRows(table *html.Node) []*html.Node {
	var rows []*html.Node
	for _, e := range elements(table) {
		if e.Data != "tr" || owningTable(e) != table {
			continue
		}
		for c := e.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode && c.Data == "td" {
				rows = append(rows, e)
				break
			}
		}
	}
	return rows
}

func owningTable(n *html.Node) *html.Node {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Type == html.ElementNode && p.Data == "table" {
			return p
		}
	}
	return nil
}

// allowedElements are the only elements a report may contain: tables and
// text (bdi isolates outside text's direction, time holds a date's exact
// value in attributes that nothing fetches or runs). Anything else (script, img, svg, iframe, link, object, form, ...)
// in the output came from data.
var allowedElements = []string{
	"html", "head", "body", "meta", "title", "style", "table", "thead", "tbody", "tr", "td", "th",
	"h1", "h2", "h3", "p", "div", "span", "strong", "a", "br", "wbr", "bdi", "time",
}

// safeStyle is what a style attribute may hold: CSS written in the template,
// with colours and numbers from Go. No quotes but the font names', no
// parentheses, no backslashes or angle brackets.
var safeStyle = regexp.MustCompile(`^[a-zA-Z0-9#:;%.,\- !']*$`)

// checkInert fails the test unless the parsed report can run nothing and
// fetch nothing (see inertProblems).
func checkInert(t *testing.T, raw []byte) {
	t.Helper()
	for _, p := range inertProblems(t, raw) {
		t.Error(p)
	}
}

// inertProblems lists why a page could run or fetch something: elements
// other than allowedElements, event attributes, links that are not http(s),
// resource attributes, style attributes with more than template CSS, a
// <style> outside <head> or more than one, or a missing or weaker CSP.
func inertProblems(t *testing.T, raw []byte) []string {
	t.Helper()
	doc := parseHTML(t, raw)
	var probs []string
	add := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	lower := strings.ToLower(string(raw))
	for _, bad := range []string{"<script", "<img", "<svg", "<iframe", "<link", "<object", "<embed", "<form"} {
		if i := strings.Index(lower, bad); i >= 0 {
			add("raw report contains %q: ...%s...", bad, raw[max(0, i-60):min(len(raw), i+60)])
		}
	}
	styles, csp := 0, false
	for _, e := range elements(doc) {
		if !slices.Contains(allowedElements, e.Data) {
			add("element <%s> in the report", e.Data)
		}
		for _, a := range e.Attr {
			key := strings.ToLower(a.Key)
			switch {
			case strings.HasPrefix(key, "on"):
				add("event attribute %s=%q on <%s>", a.Key, a.Val, e.Data)
			case key == "href":
				u, err := url.Parse(a.Val)
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					add("href %q is not an http(s) URL", a.Val)
				}
			case key == "src" || key == "srcset" || key == "action" || key == "formaction" || key == "background":
				add("attribute %s=%q on <%s>", a.Key, a.Val, e.Data)
			case key == "style":
				if !safeStyle.MatchString(a.Val) {
					add("style attribute %q holds more than template CSS", a.Val)
				}
			}
		}
		switch e.Data {
		case "style":
			styles++
			if e.Parent == nil || e.Parent.Data != "head" {
				add("<style> outside <head>")
			}
		case "meta":
			equiv, _ := attr(e, "http-equiv")
			if strings.EqualFold(equiv, "Content-Security-Policy") {
				if c, _ := attr(e, "content"); c != "default-src 'none'; style-src 'unsafe-inline'; img-src data:" {
					add("CSP is %q", c)
				}
				csp = true
			}
			if strings.EqualFold(equiv, "refresh") {
				add("meta refresh in the report")
			}
		}
	}
	if styles != 1 {
		add("%d <style> elements, want the template's 1", styles)
	}
	if !csp {
		add("no Content-Security-Policy meta tag")
	}
	return probs
}

// TestInertProblems shows that the check of TestHTMLHostileInert finds what
// it looks for.
func TestInertProblems(t *testing.T) {
	const head = `<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"><style>p{}</style></head><body>`
	tests := []struct {
		name, page, want string
	}{
		{"clean", head + `<p style="color:#fff">x <a href="https://example.com/">y</a></p>`, ""},
		{"script", head + `<script>x=1</script>`, "<script"},
		{"event", head + `<p onclick="x">x</p>`, "event attribute"},
		{"javascript link", head + `<a href="javascript:x">x</a>`, "not an http(s) URL"},
		{"s3 link", head + `<a href="s3://b/k">x</a>`, "not an http(s) URL"},
		{"image", head + `<p><IMG SRC=x></p>`, "<img"},
		{"style url", head + `<p style="background:url(http://x/)">x</p>`, "more than template CSS"},
		{"second style", head + `<style>@import "x";</style>`, "2 <style> elements"},
		{"weak csp", `<html><head><meta http-equiv="Content-Security-Policy" content="default-src *"><style></style></head>`, "CSP is"},
		{"no csp", `<html><head><style></style></head><body>x`, "no Content-Security-Policy"},
		{"refresh", head + `<meta http-equiv="refresh" content="0;url=http://x/">`, "meta refresh"},
		{"other element", head + `<details>x</details>`, "element <details>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probs := inertProblems(t, []byte(tt.page))
			if tt.want == "" {
				if len(probs) > 0 {
					t.Errorf("problems in a clean page: %q", probs)
				}
				return
			}
			if !strings.Contains(strings.Join(probs, "\n"), tt.want) {
				t.Errorf("problems %q do not mention %q", probs, tt.want)
			}
		})
	}
}

func TestHTMLHostileInert(t *testing.T) {
	raw := renderHTML(t, fixtureNamed(t, "hostile").options(t))
	doc := parseHTML(t, raw)
	checkInert(t, raw)

	// Every hostile value is shown as text: it is in the text of the page
	// (entities decoded), though no markup in it took effect. Long values
	// are cut, so look for their start. HTML parsing turns CR and CRLF into
	// LF, and the page drops bidi controls, so the values are compared so.
	body := text(doc)
	nl := strings.NewReplacer("\r\n", "\n", "\r", "\n")
	for _, h := range hostileValues() {
		want := []rune(withoutBidi(nl.Replace(h)))
		want = want[:min(len(want), 60)]
		if !strings.Contains(body, string(want)) {
			t.Errorf("hostile value %q not shown as text", h)
		}
	}
	// The javascript: output URL is text, not a link; nothing is a link,
	// since no hostile value is an http(s) URL.
	for _, e := range elements(doc) {
		if e.Data == "a" {
			t.Errorf("link %v in a report with no http(s) URL", e.Attr)
		}
	}
	if !strings.Contains(body, "javascript:alert(document.domain)") {
		t.Error("javascript: URL not shown as text")
	}
}

// TestHTMLLinksOnlyHTTP checks that only http(s) output URLs become links,
// that a link cannot break out of its href, and that its text names the
// host it leads to. The URL is the agent's on the instance, and was a
// link that read "output" wherever it went: a compromised instance could
// plant a phishing link in the compliance report. A host is named in
// ASCII (a look-alike letter as punycode), lower case, with its port, and
// not the user name in front of it.
func TestHTMLLinksOnlyHTTP(t *testing.T) {
	urls := []struct {
		url  string
		link bool
		text string // the link's, for a link
	}{
		{"https://s3.amazonaws.com/bucket/key", true, "s3.amazonaws.com"},
		{"https://bucket.s3.us-east-1.amazonaws.com/i-1/stdout", true, "bucket.s3.us-east-1.amazonaws.com"},
		{"http://example.com/x?a=1&b=2", true, "example.com"},
		{`https://example.com/"><script>window.__pwned=1</script>`, true, "example.com"},
		{"https://s3.amazonaws.com@evil.example/login", true, "evil.example"},
		{"https://S3.AmazonAWS.com.evil.example:8443/x", true, "s3.amazonaws.com.evil.example:8443"},
		{"https://s3.\u0430mazonaws.com/bucket/key", true, "s3.xn--mazonaws-06g.com"},
		{"s3://bucket/key", false, ""},
		{"javascript:alert(1)", false, ""},
		{"JavaScript:alert(1)", false, ""},
		{" javascript:alert(1)", false, ""},
		{"data:text/html,<script>alert(1)</script>", false, ""},
		{"vbscript:msgbox(1)", false, ""},
		{"//evil.example/x", false, ""},
		{"https:relative", false, ""},
		{"/etc/passwd", false, ""},
	}
	var results []audit.Result
	for i, u := range urls {
		results = append(results, audit.Result{
			AccountID: acct1, Region: east, InstanceID: fmt.Sprintf("i-%017x", i), Outcome: audit.OutcomeNoncompliant,
			AuditedAt: runStart,
			Associations: []audit.Association{{
				AssociationID: "a", AssociationName: "n", Name: "d", Status: audit.StatusFailed,
				ExecutionDate: at(fresh), ErrorCode: "E", OutputURL: s3(u.url),
			}},
		})
	}
	opts := report.Options{Dir: t.TempDir(), Records: openRecord(t, results), Run: fixtureRun()}
	raw := renderHTML(t, opts)
	doc := parseHTML(t, raw)
	checkInert(t, raw)

	rows := tableRows(byID(doc, "failures"))
	if len(rows) != len(urls) {
		t.Fatalf("%d failure rows, want %d", len(rows), len(urls))
	}
	for i, u := range urls {
		var links []string
		for _, e := range elements(rows[i]) {
			if e.Data == "a" {
				href, _ := attr(e, "href")
				links = append(links, href)
			}
		}
		if got := len(links) > 0; got != u.link {
			t.Errorf("%q: linked %v (%q), want %v", u.url, got, links, u.link)
			continue
		}
		if u.link {
			if got := text(rows[i]); !strings.Contains(got, u.text) {
				t.Errorf("%q: the row reads %q, want the link to read %q", u.url, got, u.text)
			}
			// The href must lead where the URL says, once decoded.
			got, err := url.Parse(links[0])
			want, _ := url.Parse(u.url)
			if err != nil || got.Host != want.Host || got.Scheme != want.Scheme {
				t.Errorf("%q: href %q", u.url, links[0])
			}
		} else if !strings.Contains(text(rows[i]), strings.TrimSpace(u.url)) {
			t.Errorf("%q: not shown as text in %q", u.url, text(rows[i]))
		}
	}
}

// failingFleet returns n noncompliant instances with one Failed association
// each, with values of realistic length.
func failingFleet(n int) []audit.Result {
	var rs []audit.Result
	for i := range n {
		id := fmt.Sprintf("i-%017x", i)
		rs = append(rs, audit.Result{
			AccountID: acct1, Region: east, InstanceID: id, Outcome: audit.OutcomeNoncompliant, AuditedAt: runStart,
			Labels: map[string]string{"owner": "platform-team", "env": "prod"},
			Associations: []audit.Association{{
				AssociationID: fmt.Sprintf("3f2a9c1e-5b7d-4e8f-9a0b-%012x", i%7), AssociationName: "patch-baseline-prod",
				Name: "AWS-RunPatchBaseline", DocumentVersion: "1", AssociationVersion: "3", Status: audit.StatusFailed,
				DetailedStatus: "Failed", ErrorCode: "ScriptFailed", ExecutionDate: at(fresh),
				ExecutionSummary: "1 out of 1 plugin processed, 0 success, 1 failed, 0 timed out, 0 skipped.",
				OutputURL:        s3("https://s3.amazonaws.com/ssm-output-bucket/patching/" + id + "/awsrunShellScript/0.awsrunShellScript/stdout"),
			}},
		})
	}
	return rs
}

func TestHTMLFailureCap(t *testing.T) {
	tests := []struct {
		name      string
		instances int
		maxRows   int
		wantRows  int
		wantMore  string
	}{
		{"default cap", 520, 0, report.DefaultHTMLMaxRows, "20 more in report.xlsx"},
		{"small cap", 12, 5, 5, "7 more in report.xlsx"},
		{"under the cap", 4, 5, 4, ""},
		{"at the cap", 5, 5, 5, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := report.Options{
				Dir: t.TempDir(), Records: openRecord(t, failingFleet(tt.instances)), Run: fixtureRun(),
				HTMLMaxRows: tt.maxRows,
			}
			raw := renderHTML(t, opts)
			doc := parseHTML(t, raw)
			if got := len(tableRows(byID(doc, "failures"))); got != tt.wantRows {
				t.Errorf("%d failure rows, want %d", got, tt.wantRows)
			}
			more := byID(doc, "failures-more")
			switch {
			case tt.wantMore == "" && more != nil:
				t.Errorf("a 'more' line %q with every row shown", text(more))
			case tt.wantMore != "" && more == nil:
				t.Errorf("no 'more' line, want %q", tt.wantMore)
			case tt.wantMore != "" && !strings.Contains(text(more), tt.wantMore):
				t.Errorf("more line %q, want %q", text(more), tt.wantMore)
			}
			// The page stays small enough to attach to a mail: 500
			// realistic failure rows in under 400 KB (397 KB measured,
			// about 40 KB of it the exact dates, each twice in its <time>:
			// in datetime and in title, 5 KB the host that each
			// output link names, and 50 KB the link's aria-label, which
			// names the association and instance for a screen reader).
			t.Logf("report.html: %d bytes", len(raw))
			if len(raw) > 400<<10 {
				t.Errorf("report.html is %d bytes, want at most %d", len(raw), 400<<10)
			}
		})
	}
}

func TestHTMLPartialBanner(t *testing.T) {
	tests := []struct {
		name        string
		complete    bool
		interrupted bool
		runErr      string
		sites       []audit.SiteStats
		want        []string // nil: no banner
		notWant     []string
	}{
		{name: "complete", complete: true},
		{name: "incomplete", want: []string{"Partial results", "did not give every instance a verdict", "1 could not be audited"}},
		{name: "interrupted", interrupted: true, want: []string{"Partial results", "interrupted"}},
		{name: "stopped", runErr: "access denied", want: []string{"Partial results", "Stopped by: access denied"}},
		// Records merged without their run.json: nothing stopped, so no
		// "Stopped by".
		{name: "no run.json", runErr: "no run.json beside a/results.jsonl: completeness unknown",
			want: []string{"Partial results", "Why partial: no run.json beside a/results.jsonl: completeness unknown"}, notWant: []string{"Stopped by"}},
		// A merge of a list's shards audited in two accounts: worked out
		// from the records, not a stop.
		{name: "list of two accounts", runErr: "one list was audited with the credentials of 2 accounts (111111111111, 222222222222), each taking its rows without an account for its own: the shards and whole runs of one do not stand for the other's; merge the runs of each account apart",
			want: []string{"Partial results", "Why partial: one list was audited"}, notWant: []string{"Stopped by"}},
		// An account whose role refuses: which one, and why, since no
		// count of the report covers it.
		{name: "account refused", runErr: "2 account-regions could not be audited", sites: []audit.SiteStats{
			{AccountID: "111111111111", Region: "eu-west-1", Targets: 4, Results: 4},
			{AccountID: "333333333333", Region: audit.AllRegions, Error: &audit.Error{Code: "AccessDenied", Message: "not authorized to perform sts:AssumeRole"}},
			{AccountID: "222222222222", Region: "ap-south-1", Error: &audit.Error{Code: "UnrecognizedClientException", Message: "region not enabled"}},
		}, want: []string{
			"Not audited, so nothing in them is known",
			"account 222222222222, ap-south-1: UnrecognizedClientException region not enabled",
			"account 333333333333, every region: AccessDenied not authorized to perform sts:AssumeRole",
		}, notWant: []string{"111111111111", "more in run.json"}},
		// A listing that failed after its first page: what it listed
		// has results, as the record holds them (4 of 111111111111
		// us-east-1); one whose record holds none is not audited.
		{name: "listed in part", runErr: "2 account-regions could not be audited", sites: []audit.SiteStats{
			{AccountID: "111111111111", Region: "us-east-1", Discovered: 50, Results: 1, Error: &audit.Error{Code: "ThrottlingException", Message: "Rate exceeded"}},
			{AccountID: "444444444444", Region: "us-east-1", Discovered: 50, Error: &audit.Error{Code: "AccessDeniedException", Message: "denied"}},
		}, want: []string{
			"Not audited, so nothing in it is known",
			"account 444444444444, us-east-1: AccessDeniedException denied",
			"Audited in part",
			"account 111111111111, us-east-1: listed in part: 4 nodes audited before the listing failed (ThrottlingException: Rate exceeded)",
		}, notWant: []string{"account 111111111111, us-east-1: ThrottlingException"}},
		{name: "many refused", runErr: "12 account-regions could not be audited", sites: refusedSites(12),
			want: []string{"account 100000000000", "account 100000000009", "2 more in run.json"}, notWant: []string{"account 100000000010"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := fixtureNamed(t, "mixed").options(t)
			opts.Run.Complete, opts.Run.Interrupted, opts.Run.Error = tt.complete, tt.interrupted, tt.runErr
			opts.Run.Sites = tt.sites
			doc := parseHTML(t, renderHTML(t, opts))
			banner := byID(doc, "partial")
			if tt.want == nil {
				if banner != nil {
					t.Errorf("banner %q in a complete run", text(banner))
				}
				return
			}
			if banner == nil {
				t.Fatal("no partial-run banner")
			}
			for _, w := range tt.want {
				if !strings.Contains(text(banner), w) {
					t.Errorf("banner %q does not say %q", text(banner), w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(text(banner), w) {
					t.Errorf("banner %q says %q", text(banner), w)
				}
			}
		})
	}
}

// refusedSites is n account-regions that could not be audited, in an order
// the report must sort.
func refusedSites(n int) []audit.SiteStats {
	var out []audit.SiteStats
	for i := n - 1; i >= 0; i-- {
		out = append(out, audit.SiteStats{AccountID: fmt.Sprintf("1%011d", i), Region: "us-east-1", Error: &audit.Error{Code: "AccessDenied"}})
	}
	return out
}

// TestHTMLOrder checks that the sections come in the order that answers a
// reader's questions first, and that the headline is the model's.
func TestHTMLOrder(t *testing.T) {
	opts := fixtureNamed(t, "mixed").options(t)
	m, err := report.Build(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	raw := renderHTML(t, opts)
	doc := parseHTML(t, raw)
	if got := text(byID(doc, "headline")); got != m.Headline {
		t.Errorf("headline %q, want the model's %q", got, m.Headline)
	}
	last := -1
	for _, id := range []string{"headline", "basis", "partial", "partial-rows", "cards", "glance", "worst", "error-codes", "associations", "failures", "problems", "stale", "run"} {
		i := bytes.Index(raw, []byte(`id="`+id+`"`))
		if i < 0 {
			t.Errorf("no section %q", id)
			continue
		}
		if i < last {
			t.Errorf("section %q out of order", id)
		}
		last = i
	}
	// One card per outcome, with its count, and one for the stale
	// associations; percentages only on verdicts, of the audited.
	cards := byID(doc, "cards")
	var labels []string
	for _, e := range elements(cards) {
		if c, _ := attr(e, "class"); c == "card" {
			labels = append(labels, strings.Join(strings.Fields(text(e)), " "))
		}
	}
	if len(labels) != len(audit.Outcomes())+1 {
		t.Fatalf("%d cards %q, want one per outcome and one for stale associations", len(labels), labels)
	}
	for _, o := range m.Outcomes {
		if !strings.Contains(text(cards), fmt.Sprint(o.Instances)) {
			t.Errorf("cards %q lack the count of %s", text(cards), o.Outcome)
		}
	}
	for _, want := range []string{"Compliant 2 28.57%", "Non-compliant 3 42.86%", "Stale associations 4 older than 7 days", "Error 1 could not audit"} {
		if !slices.Contains(labels, want) {
			t.Errorf("cards %q: none reads %q", labels, want)
		}
	}
	if basis := text(byID(doc, "basis")); !strings.Contains(basis, "Percentages are of the 7 audited instances") {
		t.Errorf("basis %q does not state the basis of the percentages", basis)
	}
}

func TestHTMLUserTemplate(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o666); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.tmpl", `<h1>{{.Headline}}</h1>
{{range .Failures.Rows}}<p>{{.InstanceID}} {{.ErrorCode}} {{date .ExecutionDate}}</p>
{{end}}<p>{{num 1234567}} {{pct .Totals.PercentNoncompliant}}</p>
`)
	opts := fixtureNamed(t, "mixed").options(t)
	opts.Template = good
	m, err := report.Build(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	got := string(renderHTML(t, opts))
	var want strings.Builder
	fmt.Fprintf(&want, "<h1>%s</h1>\n", template.HTMLEscapeString(m.Headline))
	for _, r := range m.Failures.Rows {
		fmt.Fprintf(&want, "<p>%s %s %s</p>\n", r.InstanceID, r.ErrorCode, r.ExecutionDate.Format("2006-01-02 15:04:05 UTC"))
	}
	fmt.Fprintf(&want, "<p>1,234,567 %v%%</p>\n", *m.Totals.PercentNoncompliant)
	if got != want.String() {
		t.Errorf("user template output:\n%s\nwant:\n%s", got, want.String())
	}
	if err := report.CheckTemplate(good); err != nil {
		t.Errorf("CheckTemplate(good): %v", err)
	}

	// The built-in template is a valid user template: a copy of it gives the
	// same page, so it can be the starting point of one.
	builtin, err := templates.FS.ReadFile("report.html.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	copyOpts := fixtureNamed(t, "mixed").options(t)
	want2 := renderHTML(t, copyOpts)
	copyOpts.Dir = t.TempDir()
	copyOpts.Template = write("copy.tmpl", string(builtin))
	if got := renderHTML(t, copyOpts); !bytes.Equal(got, want2) {
		t.Error("a copy of the built-in template renders differently from the built-in one")
	}

	// A user template is escaped like the built-in one.
	hostile := write("hostile.tmpl", `{{range .Failures.Rows}}<a href="{{.OutputURL}}" title="{{.ErrorCode}}">{{.ExecutionSummary}}</a>{{end}}`)
	hopts := fixtureNamed(t, "hostile").options(t)
	hopts.Template = hostile
	raw := renderHTML(t, hopts)
	if bytes.Contains(bytes.ToLower(raw), []byte("<script")) || bytes.Contains(bytes.ToLower(raw), []byte(`href="javascript:`)) {
		t.Errorf("user template output not escaped: %.300s", raw)
	}
}

func TestHTMLBadTemplate(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		content string // "" means the file does not exist
		want    []string
		check   bool // CheckTemplate finds it too
		wantIs  error
	}{
		{"missing file", "", []string{"missing.tmpl"}, true, os.ErrNotExist},
		{"syntax", "<p>\n{{.Headline</p>\n", []string{"syntax.tmpl", ":2:"}, true, nil},
		{"unknown function", "<p>{{nope .Headline}}</p>", []string{"unknown-function.tmpl", `"nope"`}, true, nil},
		{"unclosed action in attribute", `<a href="{{if .Run.Complete}}x{{else}}">{{end}}`, []string{"unclosed-action-in-attribute.tmpl"}, true, nil},
		{"unknown field", "<p>\n\n{{.NoSuchField}}</p>", []string{"unknown-field.tmpl", ":3:", "NoSuchField"}, true, nil},
		// CheckTemplate executes the template over a sample Model with a
		// row in every list, so that the bodies of range and with run too.
		{"unknown field of a failure", "<p>\n{{range .Failures.Rows}}{{.Nope}}{{end}}</p>", []string{"unknown-field-of-a-failure.tmpl", ":2:", "Nope"}, true, nil},
		{"unknown field of a label value", "{{range .Labels}}{{range .Values}}{{.Nope}}{{end}}{{end}}", []string{"unknown-field-of-a-label-value.tmpl", ":1:", "Nope"}, true, nil},
		{"unknown field of a problem", "{{range .Problems.Items}}{{.Nope}}{{end}}", []string{"unknown-field-of-a-problem.tmpl", "Nope"}, true, nil},
		{"unknown field of a date", "{{.Run.StartedAt.Nope}}", []string{"unknown-field-of-a-date.tmpl", "Nope"}, true, nil},
		{"argument of the wrong type", "<p>{{num .Headline}}</p>", []string{"argument-of-the-wrong-type.tmpl", "num"}, true, nil},
		{"call of no function", "<p>{{call .Headline}}</p>", []string{"call-of-no-function.tmpl", "Headline"}, true, nil},
		// Outcomes always has one entry per outcome: an index past them
		// fails with any data, but the sample cannot tell it from an
		// index past the rows the sample has and a fleet may have.
		{"index past the data", "<p>\n{{index .Outcomes 100}}</p>", []string{"index-past-the-data.tmpl", ":2:", "index out of range"}, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".tmpl")
			if tt.content == "" {
				path = filepath.Join(dir, "missing.tmpl")
			} else if err := os.WriteFile(path, []byte(tt.content), 0o666); err != nil {
				t.Fatal(err)
			}
			opts := fixtureNamed(t, "mixed").options(t)
			opts.Template = path
			opts.Formats = []report.Format{report.FormatHTML}
			paths, err := report.Render(context.Background(), opts)
			if err == nil {
				t.Fatalf("Render succeeded with %q", paths)
			}
			t.Logf("error: %v", err)
			for _, w := range append(tt.want, path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v is not %v", err, tt.wantIs)
			}
			if !errors.Is(err, report.ErrTemplate) {
				t.Errorf("error %v is not report.ErrTemplate: a caller would take it for a directory that cannot be written", err)
			}
			if entries, _ := os.ReadDir(opts.Dir); len(entries) != 0 {
				t.Errorf("a failed template left %d files", len(entries))
			}
			cerr := report.CheckTemplate(path)
			switch {
			case tt.check && cerr == nil:
				t.Error("CheckTemplate found no error")
			case tt.check && !strings.Contains(cerr.Error(), path):
				t.Errorf("CheckTemplate error %q does not name the file", cerr)
			case tt.check && !errors.Is(cerr, report.ErrTemplate):
				t.Errorf("CheckTemplate error %v is not report.ErrTemplate", cerr)
			case !tt.check && cerr != nil:
				t.Errorf("CheckTemplate: %v, want nil (the error depends on data)", cerr)
			}
		})
	}
}

// TestCheckTemplateSample: CheckTemplate executes a user template over a
// sample Model that has a row in every list and a value in every field
// that may be unknown, so that a mistake in the body of a range, a with or
// an if is found before the audit, even where this run's data would skip
// it; and it refuses no template that renders, whatever data the sample
// lacks that a fleet may have (an index past its rows, a label key it has
// not).
func TestCheckTemplateSample(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o666); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bad := []struct{ name, content, want string }{
		{"change", "{{with .Changes}}\n{{range .Rows}}\n{{.Nope}}{{end}}{{end}}", ":3:"},
		{"change date", "{{with .Changes}}{{.Since.Nope}}{{end}}", "Nope"},
		{"unaudited site", "{{range .Run.Unaudited}}{{.Nope}}{{end}}", "Nope"},
		{"instance without associations", "{{range .NoAssociations.Instances}}{{.Nope}}{{end}}", "Nope"},
		{"stale row", "{{range .Stale.Rows}}{{.ExecutionDate.Nope}}{{end}}", "Nope"},
		{"worst instance", "{{range .WorstInstances}}{{.Nope}}{{end}}", "Nope"},
		{"error code", "{{range .ErrorCodes}}{{range .ExampleInstanceIDs}}{{.Nope}}{{end}}{{end}}", "Nope"},
		{"percent", "{{range .Outcomes}}{{pct .Percent.Nope}}{{end}}", "Nope"},
		{"stale cut-off", "{{.Settings.StaleBefore.Nope}}", "Nope"},
		{"detail", "{{range .About}}{{with .At}}{{.Nope}}{{end}}{{end}}", "Nope"},
		{"a shard's run", "{{if .Run.Shards}}{{.Nope}}{{end}}", "Nope"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			path := write(strings.ReplaceAll(tt.name, " ", "-")+".tmpl", tt.content)
			err := report.CheckTemplate(path)
			if err == nil {
				t.Fatalf("CheckTemplate(%q) found no error", tt.content)
			}
			for _, w := range []string{path, tt.want} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if !errors.Is(err, report.ErrTemplate) {
				t.Errorf("error %v is not report.ErrTemplate", err)
			}
		})
	}

	builtin, err := templates.FS.ReadFile("report.html.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	// Each renders over every fixture: good templates, which the check
	// must take.
	good := []struct{ name, content string }{
		{"built-in", string(builtin)},
		{"index past the sample's rows", `{{range $i, $r := .Failures.Rows}}{{(index $.Failures.Rows $i).InstanceID}} {{end}}`},
		{"label the sample has not", `{{range .Failures.Rows}}{{index .Labels "cost-centre"}}{{.Labels.cost_centre}}{{end}}`},
		{"option the sample has not", `{{index .Run.Options "region"}} {{.Run.Options.region}} {{range $k, $v := .Run.Options}}{{$k}}={{$v}} {{end}}`},
		{"every outcome", `{{range .Outcomes}}{{index $.Totals.Outcomes .Outcome}} {{end}}`},
		{"first rows", `{{if gt (len .Failures.Rows) 50}}{{(index .Failures.Rows 50).InstanceID}}{{end}}{{slice .Headline 0 1}}`},
		{"with a baseline or not", `{{with .Changes}}{{.Summary}}{{range .Rows}}{{.Kind}} {{date .FirstSeenFailing}}{{end}}{{else}}no baseline{{end}}`},
	}
	for _, tt := range good {
		t.Run(tt.name, func(t *testing.T) {
			path := write(strings.ReplaceAll(tt.name, " ", "-")+".tmpl", tt.content)
			for _, fx := range fixtures(t) {
				opts := fx.options(t)
				opts.Template = path
				renderHTML(t, opts)
			}
			if err := report.CheckTemplate(path); err != nil {
				t.Errorf("CheckTemplate refused a template that renders every fixture: %v", err)
			}
		})
	}
	// The length of an option the sample has not (its options are empty),
	// which a run of lists has: refused as "call of reflect.Value.Type on
	// zero Value", though it rendered every such run.
	path := write("option-length.tmpl", `<p>Lists audited: {{len .Run.Options.instances}}</p>`)
	if err := report.CheckTemplate(path); err != nil {
		t.Errorf("CheckTemplate refused the length of an option the sample has not: %v", err)
	}
}

// TestSampleModelIsFull: the sample CheckTemplate executes a template over
// has a value in every pointer and a row in every list and map of the
// Model, a field added later included, so that no body of a range or a
// with goes unchecked; Run.Options alone is empty (see the sample).
func TestSampleModelIsFull(t *testing.T) {
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if v.IsNil() {
				t.Errorf("%s is nil in the sample", path)
				return
			}
			walk(path, v.Elem())
		case reflect.Struct:
			if v.Type() == reflect.TypeFor[time.Time]() {
				return
			}
			for i := range v.NumField() {
				if f := v.Type().Field(i); f.IsExported() {
					walk(path+"."+f.Name, v.Field(i))
				}
			}
		case reflect.Slice:
			if v.Len() == 0 {
				t.Errorf("%s is empty in the sample", path)
			}
			for i := range v.Len() {
				walk(fmt.Sprintf("%s[%d]", path, i), v.Index(i))
			}
		case reflect.Map:
			if path == "Model.Run.Options" {
				if v.Len() != 0 {
					t.Errorf("%s holds %d options in the sample; its values' types differ between a run and its run.json", path, v.Len())
				}
				return
			}
			if v.Len() == 0 {
				t.Errorf("%s is empty in the sample", path)
			}
			for _, k := range v.MapKeys() {
				walk(fmt.Sprintf("%s[%v]", path, k), v.MapIndex(k))
			}
		}
	}
	walk("Model", reflect.ValueOf(report.SampleModel()))
}

func TestHTMLFuncs(t *testing.T) {
	when := time.Date(2025, 6, 1, 9, 5, 7, 0, time.FixedZone("CEST", 2*3600))
	tests := []struct {
		tmpl string
		data any
		want string
	}{
		{"{{num .}}", 0, "0"},
		{"{{num .}}", 999, "999"},
		{"{{num .}}", 1204, "1,204"},
		{"{{num .}}", int64(-1234567), "-1,234,567"},
		{"{{pct .}}", 3.0679, "3.07%"},
		{"{{pct .}}", 100.0, "100%"},
		{"{{pct .}}", 0.5, "0.5%"},
		{"{{pct .}}", 0.0, "0%"},
		{"{{pct .}}", 0.003, "&lt;0.01%"},
		{"{{pct .}}", 99.997, "&gt;99.99%"},
		{"{{pct .}}", 99.99, "99.99%"},
		{"{{date .}}", when, "2025-06-01 07:05:07 UTC"},
		{"{{date .}}", &when, "2025-06-01 07:05:07 UTC"},
		{"{{date .}}", (*time.Time)(nil), "—"},
		{"{{date .}}", time.Time{}, "—"},
		{"{{shortDate .}}", &when, "2025-06-01 07:05:07"},
		{"{{shortDate .}}", (*time.Time)(nil), "—"},
		{"{{exactDate .}}", when.Add(123 * time.Millisecond), "2025-06-01T07:05:07.123Z"},
		{"{{exactDate .}}", &when, "2025-06-01T07:05:07.000Z"},
		{"{{exactDate .}}", (*time.Time)(nil), ""},
		{"{{seconds .}}", 1.94, "1.9s"},
		{"{{seconds .}}", 3723.4, "1h2m3s"},
		{"{{days .}}", "168h0m0s", "7 days"},
		{"{{days .}}", "24h0m0s", "1 day"},
		{"{{days .}}", "36h0m0s", "36h0m0s"},
		{"{{days .}}", "off", "off"},
		{"{{httpURL .}}", "https://s3.amazonaws.com/b/k", "true"},
		{"{{httpURL .}}", "HTTP://example.com", "true"},
		{"{{httpURL .}}", "s3://b/k", "false"},
		{"{{httpURL .}}", "javascript:alert(1)", "false"},
		{"{{httpURL .}}", "//example.com/x", "false"},
		{"{{httpURL .}}", "https:/x", "false"},
		{"{{httpURL .}}", "", "false"},
		{"{{httpURL .}}", "https://:443/x", "false"},
		{"{{urlHost .}}", "https://:443/x", ""},
		{"{{urlHost .}}", "https://User@Bucket.S3.amazonaws.com:8443/k", "bucket.s3.amazonaws.com:8443"},
		{"{{outcomeLabel .}}", audit.OutcomeNoncompliant, "Non-compliant"},
		{"{{outcomeLabel .}}", audit.Outcome("future"), "future"},
		{"{{outcomeColor .}}", audit.Outcome("<x>"), "#6e7781"},
		{"{{range first 2 .}}{{.}};{{end}}", []string{"a", "b", "c"}, "a;b;"},
		{"{{range first 5 .}}{{.}};{{end}}", []string{"a", "b"}, "a;b;"},
		{"{{more 10 3}} {{more 3 10}}", nil, "7 0"},
		{"{{summarize 2 . 0}}", []string{"a", "b", "c"}, "a, b &#43;1 more"},
		{"{{summarize 2 . 10}}", []string{"a", "b", "c"}, "a, b &#43;8 more"},
		{"{{summarize 5 . 0}}", []string{"a", "b"}, "a, b"},
		{"{{trunc 3 .}}", "héllo", "hél…"},
		{"{{trunc 5 .}}", "héllo", "héllo"},
		{"{{labels .}}", map[string]string{"owner": "web", "env": "prod"}, `<bdi class=l>env=prod</bdi>, <bdi class=l>owner=web</bdi>`},
		{"{{range options .}}{{.Key}}={{.Value}};{{end}}", map[string]any{"b": []string{"x", "y"}, "a": 8, "c": "s"}, `a=8;b=[&#34;x&#34;,&#34;y&#34;];c=s;`},
		{"{{range bars .}}{{.Outcome}}:{{.Width}};{{end}}", []report.OutcomeCount{
			{Outcome: audit.OutcomeCompliant, Instances: 995, Percent: ptr(99.5)},
			{Outcome: audit.OutcomeNoncompliant, Instances: 4, Percent: ptr(0.4)},
			{Outcome: audit.OutcomePending, Instances: 0, Percent: ptr(0.0)},
			{Outcome: audit.OutcomeNotManaged, Instances: 1},
		}, "compliant:98;noncompliant:1;pending:0;not_managed:1;"},
		{"{{pct .}}", ptr(30.0300001), "30.03%"},
		{"{{pct .}}", (*float64)(nil), "—"},
		{"{{plural . \"instance\" \"instances\"}}", 1, "1 instance"},
		{"{{plural . \"instance\" \"instances\"}}", 1300, "1,300 instances"},
		{"{{plural . \"x\" \"xs\"}}", 0, "0 xs"},
		{"{{hyphens .}}", "4e3e196d-2b56-<b>", "4e3e196d-<wbr>2b56-<wbr>&lt;b&gt;"},
		{"{{hyphens .}}", "InvalidInstanceId", "InvalidInstanceId"},
		{"{{anyField . \"AccountID\"}}", []report.Location{{Region: east}, {AccountID: acct1}}, "true"},
		{"{{anyField . \"AccountID\"}}", []report.Location{{Region: east}}, "false"},
		{"{{anyField . \"Labels\"}}", []report.Row{{Labels: map[string]string{}}}, "false"},
		{"{{anyField . \"Labels\"}}", []report.Row{{}, {Labels: map[string]string{"a": "b"}}}, "true"},
		{"{{range attention .}}{{.Name}};{{end}}|{{range healthy .}}{{.Name}};{{end}}", []report.Group{
			{Name: "fails", Counts: audit.Counts{Total: 2, Failed: 1, Success: 1}},
			{Name: "ok", Counts: audit.Counts{Total: 2, Success: 2}},
			{Name: "stale", Counts: audit.Counts{Total: 1, Success: 1, Stale: 1}},
		}, "fails;stale;|ok;"},
		{"{{with dict \"a\" 1 \"b\" \"x\"}}{{.a}}{{.b}}{{end}}", nil, "1x"},
		{"{{days .}}", "7 days", "7 days"},
		{"{{odd 1}} {{odd 2}}", nil, "true false"},
		{"{{orNone .}}", "", "(none)"},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl+fmt.Sprint(tt.data), func(t *testing.T) {
			tmpl, err := template.New("t").Funcs(report.HTMLFuncs()).Parse(tt.tmpl)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			if err := tmpl.Execute(&b, tt.data); err != nil {
				t.Fatal(err)
			}
			if got := b.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	// num, pct, anyField and dict refuse what they cannot read, so that a
	// template bug shows.
	for _, tt := range []struct {
		tmpl string
		data any
	}{
		{"{{num .}}", "12"},
		{"{{pct .}}", "12"},
		{"{{anyField . \"Nope\"}}", []report.Location{{}}},
		{"{{anyField . \"X\"}}", "not a list"},
		{"{{dict \"a\"}}", nil},
		{"{{dict 1 2}}", nil},
	} {
		tmpl := template.Must(template.New("t").Funcs(report.HTMLFuncs()).Parse(tt.tmpl))
		if err := tmpl.Execute(&strings.Builder{}, tt.data); err == nil {
			t.Errorf("%s over %v succeeded, want an error", tt.tmpl, tt.data)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestHTMLCanceled(t *testing.T) {
	opts := fixtureNamed(t, "mixed").options(t)
	w, err := report.NewWriter(report.FormatHTML, opts)
	if err != nil {
		t.Fatal(err)
	}
	m, err := report.Build(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := w.Write(ctx, m, opts.Records, opts.Dir); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
	if entries, _ := os.ReadDir(opts.Dir); len(entries) != 0 {
		t.Errorf("a canceled Write left %d files", len(entries))
	}
}

// TestHTMLUnknown renders a run in which every instance ended in error: the
// page must say that what it could not see is unknown, never that there is
// nothing to fix, and give no percentage.
func TestHTMLUnknown(t *testing.T) {
	var results []audit.Result
	for i := range 4 {
		results = append(results, audit.Result{
			Region: east, InstanceID: fmt.Sprintf("i-%017x", i), Outcome: audit.OutcomeError, AuditedAt: runStart,
			Error:        &audit.Error{Code: "PaginationLoop", Message: "more than 1 pages"},
			Associations: []audit.Association{{AssociationID: "a-1", Name: "doc", Status: audit.StatusFailed, ErrorCode: "E"}},
		})
	}
	opts := report.Options{Dir: t.TempDir(), Records: openRecord(t, results), Run: fixtureRun(), StaleAfter: audit.DefaultStaleAfter}
	raw := renderHTML(t, opts)
	doc := parseHTML(t, raw)
	for _, id := range []string{"glance-fails", "glance-associations", "glance-fix", "worst", "error-codes", "associations"} {
		n := byID(doc, id)
		if n == nil {
			// The sections without a table say it in their paragraph.
			continue
		}
		if got := text(n); !strings.Contains(got, "Unknown") {
			t.Errorf("#%s says %q, want unknown", id, got)
		}
	}
	body := text(doc)
	for _, wrong := range []string{"Nothing to fix", "No failed associations", "No audited instance has", "None failing"} {
		if strings.Contains(body, wrong) {
			t.Errorf("the page says %q although nothing was audited", wrong)
		}
	}
	if cards := text(byID(doc, "cards")); strings.Contains(cards, "%") {
		t.Errorf("cards %q give a percentage of nothing audited", cards)
	}
	if got := strings.Count(body, "Unknown: no instance was audited."); got < 5 {
		t.Errorf("%d sections say unknown, want every section about the audited instances", got)
	}
	if n := byID(doc, "partial-rows"); n == nil || !strings.Contains(text(n), "4 association rows") {
		t.Errorf("no note of the 4 partial rows left out")
	}
}

// bidiFleet is the reviewer's case: 12 failures whose error code ends in
// U+202E RIGHT-TO-LEFT OVERRIDE, with the agent's other texts and a label
// value doing the same, and a label after it.
func bidiFleet() []audit.Result {
	rs := failingFleet(12)
	for i := range rs {
		a := &rs[i].Associations[0]
		a.ErrorCode = "ExecutionError\u202e"
		a.DetailedStatus = "Failed\u202e"
		a.ExecutionSummary = "\u2067summary\u202a of the agent"
		a.AssociationName = "patch\u202d-baseline"
		rs[i].Labels = map[string]string{"env": "prod\u202e", "owner": "platform-team", "\u2066team\u2069": "x\u202b"}
	}
	return rs
}

// isBidiControl reports whether r is a bidi embedding, override or isolate
// control: U+202A-U+202E or U+2066-U+2069.
func isBidiControl(r rune) bool {
	return (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069')
}

// withoutBidi returns s without its bidi controls, as people are shown it.
func withoutBidi(s string) string {
	return strings.Map(func(r rune) rune {
		if isBidiControl(r) {
			return -1
		}
		return r
	}, s)
}

// TestBidiControlsStripped checks that no bidi embedding, override or
// isolate control from the record reaches report.html, the mail's HTML and
// text or its subject, where it would reorder the text after it ("12 in 12
// instances" read as "secnatsni 21 ni 21"), while the CSV and summary.json
// keep every value exactly.
func TestBidiControlsStripped(t *testing.T) {
	hostile := fixtureNamed(t, "hostile")
	for _, tt := range []struct {
		name    string
		results []audit.Result
		run     audit.RunInfo
	}{
		{"override after an error code", bidiFleet(), fixtureRun()},
		{"hostile", hostile.results, hostile.run},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := report.Options{Dir: t.TempDir(), Records: openRecord(t, tt.results), Run: tt.run, StaleAfter: audit.DefaultStaleAfter}
			page := renderHTML(t, opts)
			m := buildModel(t, tt.results, tt.run)
			mailHTML, mailText := mailBody(t, m, report.MailOptions{})
			subject, err := report.MailSubject("{{.Headline}} {{range .ErrorCodes}}{{.Name}} {{end}}", m, nil)
			if err != nil {
				t.Fatal(err)
			}
			for name, out := range map[string]string{report.HTMLFile: string(page), "mail HTML": mailHTML, "mail text": mailText, "subject": subject} {
				if i := strings.IndexFunc(out, isBidiControl); i >= 0 {
					r, _ := utf8.DecodeRuneInString(out[i:])
					t.Errorf("%s: %U at byte %d, in %q", name, r, i, out[max(0, i-60):min(len(out), i+60)])
				}
			}
			// The model, which summary.json and the CSV are written from,
			// is left as it was.
			for _, c := range m.ErrorCodes {
				if tt.name != "hostile" && c.Code != "ExecutionError\u202e" {
					t.Errorf("the model's error code is %q, want it exact", c.Code)
				}
			}
		})
	}

	// The reviewer's case reads in order, and the values stay whole.
	m := buildModel(t, bidiFleet(), fixtureRun())
	_, text := mailBody(t, m, report.MailOptions{})
	if want := "  - ExecutionError: 12 failed in 12 instances"; !strings.Contains(text, want) {
		t.Errorf("the mail's text has no line %q:\n%s", want, text)
	}
	dir := renderCSV(t, bidiFleet(), fixtureRun())
	if recs := readCSV(t, filepath.Join(dir, report.ErrorCodesCSV)); len(recs) != 2 || recs[1][1] != "ExecutionError\u202e" {
		t.Errorf("error_codes.csv %q, want the error code exact", recs)
	}
}

// TestRightToLeftValuesIsolated: a value in a right-to-left script (a
// Hebrew error code, label value, association name, document) that shares
// a line with the report's own words and figures is isolated in a <bdi>,
// so that the figure after it ("· 12 in 12 instances") and the values
// beside it keep their places.
func TestRightToLeftValuesIsolated(t *testing.T) {
	rs := failingFleet(12)
	for i := range rs {
		a := &rs[i].Associations[0]
		a.ErrorCode = "שגיאה"
		a.Name = "מסמך"
		rs[i].Labels = map[string]string{"team": "צוות", "env": "prod"}
	}
	opts := report.Options{Dir: t.TempDir(), Records: openRecord(t, rs), Run: fixtureRun(), StaleAfter: audit.DefaultStaleAfter}
	doc := parseHTML(t, renderHTML(t, opts))
	isolated := map[string]int{}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "bdi" {
			isolated[text(n)]++
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	for _, v := range []string{"שגיאה", "מסמך", "team=צוות", "env=prod"} {
		if isolated[v] == 0 {
			t.Errorf("%q is in no <bdi> of its own (isolated: %v)", v, isolated)
		}
	}
}
