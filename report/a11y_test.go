package report_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"golang.org/x/net/html"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
)

// a11yPages renders report.html and the mail's HTML body of one run, and
// returns their paths.
func a11yPages(t *testing.T, results []audit.Result, run audit.RunInfo) (reportPath, mailPath string) {
	t.Helper()
	opts := report.Options{Dir: t.TempDir(), Records: openRecord(t, results), Run: run, StaleAfter: audit.DefaultStaleAfter}
	renderHTML(t, opts)
	m, err := report.Build(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := mailBody(t, m, report.MailOptions{})
	mailPath = filepath.Join(opts.Dir, "mail.html")
	if err := os.WriteFile(mailPath, []byte(body), 0o666); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(opts.Dir, report.HTMLFile), mailPath
}

// openIn opens the file at path in a new tab of browser, as printed when
// print is set, and returns the tab.
func openIn(t *testing.T, browser context.Context, path string, print bool) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	media := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if !print {
			return nil
		}
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
		return err
	})
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path)}
	if err := chromedp.Do(ctx, media, chromedp.EmulateViewport(desktop.width, desktop.height), chromedp.Navigate(u.String())); err != nil {
		t.Fatalf("opening %s: %v", u.String(), err)
	}
	return ctx
}

// evalProblems runs the JavaScript function js in tab and returns the
// problems it lists.
func evalProblems(t *testing.T, tab context.Context, js string) []string {
	t.Helper()
	probs, err := chromedp.Run(tab, chromedp.Evaluate[[]string](fmt.Sprintf("(%s)()", js)))
	if err != nil {
		t.Fatalf("evaluating: %v", err)
	}
	return probs
}

// printedTables lists what would keep a data table's column headings from
// repeating on every printed page, or let a row split across two: a table
// whose heading row is not in a thead shown as a table-header-group, a th
// among the body's rows, a body row that may break inside. The About
// table (#run) has row headings only.
const printedTables = `() => {
	const probs = [];
	for (const t of document.querySelectorAll("table.data")) {
		if (t.id === "run") continue;
		const name = "#" + t.id;
		const head = t.tHead;
		if (!head || head.querySelectorAll("th").length === 0) {
			probs.push(name + ": no thead with the column headings");
		} else if (getComputedStyle(head).display !== "table-header-group") {
			probs.push(name + ": thead shown as " + getComputedStyle(head).display);
		}
		for (const b of t.tBodies) {
			if (b.querySelector("th")) probs.push(name + ": a heading among the body rows");
			for (const r of b.rows) {
				const br = getComputedStyle(r).breakInside;
				if (br !== "avoid") { probs.push(name + ": a row may break across pages (break-inside " + br + ")"); break; }
			}
		}
	}
	return probs;
}`

// headingAlign lists the column headings that are aligned unlike their
// column's cells: a right-aligned figure under a left-aligned heading reads
// as the next column's. Alignments are compared as laid out in a
// left-to-right page (start is left, a th's default centre is its own).
const headingAlign = `() => {
	const side = (e) => {
		const a = getComputedStyle(e).textAlign;
		return {"-webkit-right": "right", "end": "right", "-webkit-left": "left", "start": "left", "-webkit-center": "center", "-internal-center": "center"}[a] || a;
	};
	const probs = [];
	for (const t of document.querySelectorAll("table.data")) {
		if (!t.tHead || !t.tBodies.length) continue;
		[...t.tHead.rows[0].cells].forEach((th, i) => {
			const want = side(th);
			for (const r of t.tBodies[0].rows) {
				const c = r.cells[i];
				if (c && side(c) !== want) {
					probs.push("#" + t.id + " " + JSON.stringify(th.innerText) + " is aligned " + want + ", its cells " + side(c));
					break;
				}
			}
		});
	}
	return probs;
}`

// lowContrast lists the text set in a colour of less than 4.5:1 contrast
// with the background behind it (WCAG 2 AA for normal text; applied to
// large text too). The background is the nearest one set on the text's
// element or an ancestor, taken as opaque.
const lowContrast = `() => {
	const rgb = (s) => (s.match(/[\d.]+/g) || []).map(Number);
	const lum = ([r, g, b]) => {
		const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
		return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
	};
	const background = (e) => {
		for (; e; e = e.parentElement) {
			const c = rgb(getComputedStyle(e).backgroundColor);
			if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c;
		}
		return [255, 255, 255];
	};
	const probs = [], seen = new Set();
	const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
	for (let n = walk.nextNode(); n; n = walk.nextNode()) {
		const e = n.parentElement, text = n.textContent.trim();
		if (!text || seen.has(e)) continue;
		seen.add(e);
		const fg = lum(rgb(getComputedStyle(e).color)), bg = lum(background(e));
		const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
		if (ratio < 4.5) {
			const id = e.closest("[id]");
			probs.push((id ? "#" + id.id + " " : "") + JSON.stringify(text.slice(0, 30)) + " " + getComputedStyle(e).color + " on " + background(e) + ": " + ratio.toFixed(2) + ":1");
		}
	}
	return probs;
}`

// headingOrder lists the headings that come more than one level below the
// heading before them (h1 then h3), which a screen reader's outline of the
// page reads as a level left out.
const headingOrder = `() => {
	const probs = [];
	let last = 0;
	for (const h of document.querySelectorAll("h1, h2, h3, h4, h5, h6")) {
		const level = Number(h.tagName.slice(1));
		if (level > last + 1) probs.push(h.tagName + " " + JSON.stringify(h.innerText.trim().slice(0, 30)) + " after h" + last);
		last = level;
	}
	return probs;
}`

// answerHeadings lists the four answers (#glance-*) whose title is not an
// h2 set as the small grey caption it always was: an h2, as the sections
// after them, so that the page's headings go h1, h2 without a level
// skipped.
const answerHeadings = `() => {
	const probs = [], answers = document.querySelectorAll("#glance > .answer");
	if (answers.length !== 4) probs.push(answers.length + " answers, want 4");
	for (const a of answers) {
		const h = a.firstElementChild, s = getComputedStyle(h);
		if (h.tagName !== "H2" || !h.innerText.trim()) {
			probs.push("#" + a.id + ": its title is a " + h.tagName + ", want an h2");
			continue;
		}
		const look = [s.fontSize, s.fontWeight, s.color, s.marginTop, s.marginBottom, s.display].join(" ");
		if (look !== "12px 400 rgb(89, 99, 110) 0px 4px block") probs.push("#" + a.id + ": its title looks like " + look);
	}
	return probs;
}`

// TestAccessibleInBrowser opens report.html and the mail's body in headless
// Chromium and checks what a reader who prints them, or reads them with a
// screen reader or low vision, depends on.
func TestAccessibleInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts headless Chromium (seconds); runs without -short, as in CI")
	}
	browser := startBrowser(t, t)
	// The mixed fleet and a few hundred more failures, so that every data
	// table has rows and the failures run over several printed pages
	// (failingFleet's first IDs are the mixed fleet's); and a run that
	// audited nothing, whose cards say "unknown".
	mixed, empty := fixtureNamed(t, "mixed"), fixtureNamed(t, "empty")
	type page struct{ name, path string }
	var pages []page
	for _, fx := range []fixture{{name: "many", results: append(mixed.results, failingFleet(300)[32:]...), run: mixed.run}, empty} {
		r, m := a11yPages(t, fx.results, fx.run)
		pages = append(pages, page{fx.name + " report", r}, page{fx.name + " mail", m})
	}

	t.Run("printed tables repeat their headings", func(t *testing.T) {
		for _, p := range pages {
			tab := openIn(t, browser, p.path, true)
			for _, prob := range evalProblems(t, tab, printedTables) {
				t.Errorf("%s printed: %s", p.name, prob)
			}
			n, err := chromedp.Run(tab, chromedp.Evaluate[int](`document.querySelectorAll("table.data").length`))
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(p.name, "many") && n < 5 {
				t.Errorf("%s: %d data tables, want the many failures' tables checked", p.name, n)
			}
		}
	})

	t.Run("numeric headings aligned with their figures", func(t *testing.T) {
		for _, p := range pages {
			for _, prob := range evalProblems(t, openIn(t, browser, p.path, false), headingAlign) {
				t.Errorf("%s: %s", p.name, prob)
			}
		}
	})

	t.Run("headings skip no level", func(t *testing.T) {
		for _, p := range pages {
			for _, prob := range evalProblems(t, openIn(t, browser, p.path, false), headingOrder) {
				t.Errorf("%s: %s", p.name, prob)
			}
		}
	})

	t.Run("answers have headings", func(t *testing.T) {
		for _, p := range pages {
			if !strings.HasSuffix(p.name, "report") {
				continue
			}
			for _, prob := range evalProblems(t, openIn(t, browser, p.path, false), answerHeadings) {
				t.Errorf("%s: %s", p.name, prob)
			}
		}
	})

	t.Run("text contrast at least 4.5:1", func(t *testing.T) {
		for _, p := range pages {
			for _, prob := range evalProblems(t, openIn(t, browser, p.path, false), lowContrast) {
				t.Errorf("%s: %s", p.name, prob)
			}
		}
	})
}

// a11yMarkup renders report.html and the mail's HTML body for the mixed
// fleet, which has a row in every list, and parses them.
func a11yMarkup(t *testing.T) map[string]*html.Node {
	t.Helper()
	fx := fixtureNamed(t, "mixed")
	reportPath, mailPath := a11yPages(t, fx.results, fx.run)
	docs := map[string]*html.Node{}
	for name, path := range map[string]string{"report": reportPath, "mail": mailPath} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		docs[name] = parseHTML(t, b)
	}
	return docs
}

// ariaHidden reports whether n or an ancestor has aria-hidden="true".
func ariaHidden(n *html.Node) bool {
	for ; n != nil; n = n.Parent {
		if v, ok := attr(n, "aria-hidden"); ok && v == "true" {
			return true
		}
	}
	return false
}

// TestSwatchesHidden: the outcome swatch (■) is decoration, next to the
// outcome's name; a screen reader would read it as "black square".
func TestSwatchesHidden(t *testing.T) {
	for name, doc := range a11yMarkup(t) {
		seen := 0
		for n := range doc.Descendants() {
			if n.Type != html.TextNode || !strings.Contains(n.Data, "\u25a0") {
				continue
			}
			seen++
			if !ariaHidden(n.Parent) {
				t.Errorf("%s: swatch in %q is read aloud (no aria-hidden)", name, text(n.Parent.Parent))
			}
		}
		if name == "report" && seen == 0 {
			t.Error("report: no swatch found: the test checks nothing")
		}
	}
}

// TestTablesNamed: each data table is named by its section's heading
// (aria-labelledby), so that a screen reader's list of tables says which is
// which, and the About table's labels are row headings.
func TestTablesNamed(t *testing.T) {
	for name, doc := range a11yMarkup(t) {
		tables := 0
		for _, e := range elements(doc) {
			if c, _ := attr(e, "class"); e.Data != "table" || c != "data" {
				continue
			}
			tables++
			id, _ := attr(e, "id")
			ref, ok := attr(e, "aria-labelledby")
			if !ok {
				t.Errorf("%s: table #%s has no aria-labelledby", name, id)
				continue
			}
			h := byID(doc, ref)
			if h == nil || h.Data != "h2" || strings.TrimSpace(text(h)) == "" {
				t.Errorf("%s: table #%s is labelled by %q, want its section's h2", name, id, ref)
			}
		}
		if tables < 5 {
			t.Errorf("%s: %d data tables, want the mixed fleet's", name, tables)
		}
	}
	run := byID(a11yMarkup(t)["report"], "run")
	if run == nil {
		t.Fatal("report: no About table (#run)")
	}
	rows := 0
	for _, e := range elements(run) {
		if e.Data != "tr" {
			continue
		}
		rows++
		var first *html.Node
		for c := e.FirstChild; c != nil && first == nil; c = c.NextSibling {
			if c.Type == html.ElementNode {
				first = c
			}
		}
		if scope, _ := attr(first, "scope"); first.Data != "th" || scope != "row" {
			t.Errorf("About: label %q is a <%s scope=%q>, want <th scope=\"row\">", text(first), first.Data, scope)
		}
	}
	if rows == 0 {
		t.Error("About: no rows")
	}
}

// TestTitleNamesTheDocument: a page's title (the tab, the window list, a
// bookmark, what a screen reader says first) names what the document is and
// the run's date before the headline; a run of unknown start has no date.
func TestTitleNamesTheDocument(t *testing.T) {
	fx := fixtureNamed(t, "mixed")
	unknownStart := fx.run
	unknownStart.StartedAt = time.Time{}
	for _, tt := range []struct {
		name   string
		run    audit.RunInfo
		prefix string
	}{
		{"started", fx.run, "SSM association audit, " + report.DateText(fx.run.StartedAt) + ": "},
		{"start unknown", unknownStart, "SSM association audit: "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := buildModel(t, fx.results, tt.run)
			reportPath, mailPath := a11yPages(t, fx.results, tt.run)
			for _, path := range []string{reportPath, mailPath} {
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				var title string
				for _, e := range elements(parseHTML(t, b)) {
					if e.Data == "title" {
						title = text(e)
					}
				}
				if want := tt.prefix + m.Headline; title != want {
					t.Errorf("%s: title\n got %q\nwant %q", filepath.Base(path), title, want)
				}
			}
		})
	}
}

// TestOutputLinksNamed: a failure's output link is named for the
// association and the instance it is the output of, not only by its host
// ("s3.amazonaws.com", the same on every row), so that a screen reader's
// list of links tells them apart. The name starts with the text seen, so
// that a voice command saying it finds the link (WCAG's label in name). The
// name is text from the record, escaped as any attribute's.
func TestOutputLinksNamed(t *testing.T) {
	fx := fixtureNamed(t, "mixed")
	hostile := `"><script>x</script>`
	results := append(fx.results, audit.Result{
		AccountID: acct1, Region: east, InstanceID: "i-0000000000000abcd", Outcome: audit.OutcomeNoncompliant, AuditedAt: runStart,
		Associations: []audit.Association{{AssociationID: "h-1", AssociationName: hostile, Name: "AWS-RunShellScript",
			ExecutionDate: at(fresh), Status: audit.StatusFailed, ErrorCode: "ScriptFailed", OutputURL: s3("https://s3.amazonaws.com/bucket/h")}},
	})
	reportPath, _ := a11yPages(t, results, fx.run)
	b, err := os.ReadFile(reportPath)
	if err != nil {
		t.Fatal(err)
	}
	checkInert(t, b)
	table := byID(parseHTML(t, b), "failures")
	if table == nil {
		t.Fatal("no #failures table")
	}
	links := 0
	for _, row := range tableRows(table) {
		for _, e := range elements(row) {
			if e.Data != "a" {
				continue
			}
			links++
			label, _ := attr(e, "aria-label")
			var cells []string
			for c := row.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.ElementNode {
					cells = append(cells, text(c))
				}
			}
			instance := cells[0]
			var name string
			for _, s := range elements(row) {
				if s.Data == "strong" {
					name = text(s)
					break
				}
			}
			want := fmt.Sprintf("%s: output of %s on %s", text(e), name, instance)
			if label != want {
				t.Errorf("link to %s: aria-label %q, want %q", text(e), label, want)
			}
		}
	}
	if links < 3 {
		t.Errorf("%d output links, want the mixed fleet's and the hostile one", links)
	}
}
