package report_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
)

// a11yPages renders report.html and the mail's HTML body of one model: the
// mixed fleet and a few hundred more failures, so that every data table has
// rows and the failures run over several printed pages. It returns their
// paths.
func a11yPages(t *testing.T) (reportPath, mailPath string) {
	t.Helper()
	mixed := fixtureNamed(t, "mixed")
	// failingFleet's first IDs are the mixed fleet's.
	results := append(mixed.results, failingFleet(300)[32:]...)
	opts := report.Options{Dir: t.TempDir(), Records: openRecord(t, results), Run: mixed.run, StaleAfter: audit.DefaultStaleAfter}
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
	if (document.querySelectorAll("table.data").length === 0) probs.push("no data table");
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
	reportPath, mailPath := a11yPages(t)
	pages := []struct{ name, path string }{{"report", reportPath}, {"mail", mailPath}}

	t.Run("printed tables repeat their headings", func(t *testing.T) {
		for _, p := range pages {
			tab := openIn(t, browser, p.path, true)
			for _, prob := range evalProblems(t, tab, printedTables) {
				t.Errorf("%s printed: %s", p.name, prob)
			}
		}
	})
}
