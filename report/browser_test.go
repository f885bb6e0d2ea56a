package report_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
)

// Where the browser test looks for a browser, in order.
var browserNames = []string{"chromium", "chromium-browser", "google-chrome", "chromium-headless-shell"}

// screenshotDirEnv names a directory that the browser test copies its
// screenshots into (for the README's pictures).
const screenshotDirEnv = "AUDITOR_SCREENSHOT_DIR"

// viewport is a screen the report is checked on.
type viewport struct{ width, height int64 }

// The screens a reader sees the report on: a laptop's first screen and a
// phone's.
var (
	desktop = viewport{1280, 800}
	phone   = viewport{390, 844}
)

// deadPort is a loopback port with nothing behind it: the browser's proxy,
// so that no request could leave the machine even if one were made.
const deadPort = "127.0.0.1:9"

// payloads would each set window.__pwned, call fetch, or load something,
// if the report let them run.
func payloads() []string {
	beacon := "http://" + deadPort + "/beacon"
	return []string{
		`<script>window.__pwned="script"</script>`,
		`"><script>window.__pwned="attr"</script>`,
		`<img src=x onerror="window.__pwned='img'">`,
		`<svg onload="window.__pwned='svg'"></svg>`,
		`<svg><script>window.__pwned='svgscript'</script></svg>`,
		`' onmouseover='window.__pwned=1' x='`,
		`<script>fetch("` + beacon + `")</script>`,
		`<img src="` + beacon + `/img">`,
		`<link rel=stylesheet href="` + beacon + `/css">`,
		`<style>@import url(` + beacon + `/import);</style>`,
		`</style><script>window.__pwned="style"</script>`,
		`</title><script>window.__pwned="title"</script>`,
		`<iframe src="` + beacon + `/frame"></iframe>`,
		`<meta http-equiv="refresh" content="0;url=` + beacon + `/refresh">`,
		`javascript:window.__pwned='url'`,
		`https://example.com/"><script>window.__pwned="href"</script>`,
		`<a href="javascript:window.__pwned=1">x</a>`,
		`{{.Headline}}`,
	}
}

// payloadFleet puts every payload in every text field of a failing instance,
// an error instance and an invalid one.
func payloadFleet() []audit.Result {
	var rs []audit.Result
	for i, p := range payloads() {
		rs = append(rs,
			audit.Result{
				AccountID: p, Region: p, InstanceID: fmt.Sprintf("i-%017x", 500+i), Outcome: audit.OutcomeNoncompliant,
				Labels: map[string]string{p: p}, Source: p, AuditedAt: runStart,
				Associations: []audit.Association{{
					AssociationID: p, AssociationName: p, Name: p, AssociationVersion: p, DocumentVersion: p,
					ExecutionDate: at(old), Status: audit.StatusFailed, DetailedStatus: p, ExecutionSummary: p,
					ErrorCode: p, OutputURL: s3(p),
				}},
			},
			audit.Result{
				AccountID: p, Region: p, InstanceID: fmt.Sprintf("i-%017x", 600+i), Outcome: audit.OutcomeError,
				Source: p, AuditedAt: runStart, Error: &audit.Error{Code: p, Message: p},
			},
			audit.Result{InstanceID: p, Outcome: audit.OutcomeInvalid, Source: p, Error: &audit.Error{Code: "Invalid", Message: p}},
		)
	}
	return rs
}

// unbreakable returns n characters of [A-Za-z0-9_] that start with prefix:
// one word with no place to break it.
func unbreakable(prefix string, n int) string {
	return (prefix + strings.Repeat("Ab0_", n))[:n]
}

// longFleet has the longest values without a space that SSM or an inventory
// can give, in every field that the report shows as text: association names
// (SSM allows 128 characters) on failed, stale and healthy associations,
// document names, error codes, detailed statuses, summaries and output URLs
// of the node's agent, label keys and values, an instance error's code and
// message, and an input line that is not an instance ID.
func longFleet() []audit.Result {
	labels := map[string]string{unbreakable("labelkey", 120): unbreakable("labelvalue", 200)}
	var rs []audit.Result
	for i := range 3 {
		rs = append(rs, audit.Result{
			AccountID: "111111111111", Region: east, InstanceID: fmt.Sprintf("i-%017x", 800+i), Outcome: audit.OutcomeNoncompliant,
			Labels: labels, AuditedAt: runStart,
			Associations: []audit.Association{
				{
					AssociationID: fmt.Sprintf("4e3e196d-0000-0000-0000-%012d", i), AssociationName: unbreakable(fmt.Sprintf("failing%d", i), 125),
					Name: unbreakable(fmt.Sprintf("document%d", i), 128), AssociationVersion: "1", DocumentVersion: "1",
					ExecutionDate: at(fresh), Status: audit.StatusFailed, DetailedStatus: unbreakable("detailed", 200),
					ExecutionSummary: unbreakable("summary", 300), ErrorCode: unbreakable(fmt.Sprintf("errorcode%d", i), 200),
					OutputURL: s3(unbreakable("https://example.com/", 300)),
				},
				{AssociationID: fmt.Sprintf("5e3e196d-0000-0000-0000-%012d", i), AssociationName: unbreakable(fmt.Sprintf("healthy%d", i), 125),
					Name: unbreakable("healthydocument", 128), ExecutionDate: at(fresh), Status: audit.StatusSuccess},
				{AssociationID: fmt.Sprintf("6e3e196d-0000-0000-0000-%012d", i), AssociationName: unbreakable(fmt.Sprintf("stale%d", i), 125),
					Name: unbreakable("staledocument", 128), ExecutionDate: at(old), Status: audit.StatusSuccess},
			},
		})
	}
	// A failure without an error code is named for its detailed status.
	rs = append(rs,
		audit.Result{
			AccountID: "111111111111", Region: east, InstanceID: fmt.Sprintf("i-%017x", 810), Outcome: audit.OutcomeNoncompliant,
			Labels: labels, AuditedAt: runStart,
			Associations: []audit.Association{{AssociationID: "7e3e196d", AssociationName: unbreakable("nocode", 125), Name: "AWS-RunPatchBaseline",
				ExecutionDate: at(fresh), Status: audit.StatusFailed, DetailedStatus: unbreakable("detailednocode", 200)}},
		},
		audit.Result{AccountID: "111111111111", Region: east, InstanceID: fmt.Sprintf("i-%017x", 811), Outcome: audit.OutcomeNoAssociations, Labels: labels, AuditedAt: runStart},
		audit.Result{
			AccountID: "111111111111", Region: east, InstanceID: fmt.Sprintf("i-%017x", 812), Outcome: audit.OutcomeError, AuditedAt: runStart,
			Error: &audit.Error{Code: unbreakable("code", 200), Message: unbreakable("message", 300)},
		},
		audit.Result{InstanceID: unbreakable("notaninstance", 300), Outcome: audit.OutcomeInvalid, Source: unbreakable("source", 300),
			Error: &audit.Error{Code: "Invalid", Message: unbreakable("message", 300)}},
	)
	return rs
}

// findBrowser returns the path of a Chromium-like browser, or skips.
func findBrowser(t *testing.T) string {
	t.Helper()
	for _, name := range browserNames {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("AUDITOR_REQUIRE_CHROMIUM") != "" {
		t.Fatal("chromium not found, and AUDITOR_REQUIRE_CHROMIUM is set: CI must run the browser test")
	}
	t.Skip("chromium not found; .ci/run installs Debian's chromium")
	return ""
}

// pageLog is what a tab did while it showed a page.
type pageLog struct {
	mu       sync.Mutex
	requests []string
	console  []string
	thrown   []string
	dialogs  []string
	entries  []string
}

func (l *pageLog) listen(ev any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		l.requests = append(l.requests, ev.Request.URL)
	case *runtime.EventConsoleAPICalled:
		l.console = append(l.console, string(ev.Type))
	case *runtime.EventExceptionThrown:
		l.thrown = append(l.thrown, ev.ExceptionDetails.Text)
	case *page.EventJavascriptDialogOpening:
		l.dialogs = append(l.dialogs, ev.Message)
	case *log.EventEntryAdded:
		// A blocked load or a CSP violation is logged here.
		l.entries = append(l.entries, string(ev.Entry.Source)+": "+ev.Entry.Text)
	}
}

func (l *pageLog) snapshot() pageLog {
	l.mu.Lock()
	defer l.mu.Unlock()
	return pageLog{
		requests: append([]string(nil), l.requests...),
		console:  append([]string(nil), l.console...),
		thrown:   append([]string(nil), l.thrown...),
		dialogs:  append([]string(nil), l.dialogs...),
		entries:  append([]string(nil), l.entries...),
	}
}

// box is an element's bounding box in CSS pixels, with the page's state.
type box struct {
	Found                          bool
	Top, Left, Bottom, Right       float64
	ViewportWidth, ViewportHeight  float64
	Scripts, Images, Frames, Links int
	Pwned                          string
	// ScrollWidth is the document's width: past ViewportWidth, the page
	// scrolls sideways.
	ScrollWidth float64
	// Text is the element's visible text.
	Text string
	// Wide names the text, outside a box that scrolls on its own, that
	// ends past the viewport's right edge: what widens the page.
	Wide []string
}

// inspect reads the page's state: the headline and cards boxes, the script,
// image and frame elements, and whether a payload set window.__pwned. It
// runs through DevTools, which the page's CSP does not restrict.
const inspect = `(sel) => {
	const e = document.querySelector(sel);
	const r = e ? e.getBoundingClientRect() : {top: 0, left: 0, bottom: 0, right: 0};
	return {
		Found: !!e, Top: r.top, Left: r.left, Bottom: r.bottom, Right: r.right,
		ViewportWidth: window.innerWidth, ViewportHeight: window.innerHeight,
		Scripts: document.scripts.length, Images: document.images.length,
		Frames: document.querySelectorAll("iframe,frame,object,embed").length,
		Links: document.querySelectorAll("link").length,
		Pwned: typeof window.__pwned,
		ScrollWidth: document.documentElement.scrollWidth,
		Text: e ? e.innerText : "",
		Wide: (() => {
			const wide = [], walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT), r = document.createRange();
			for (let n = walk.nextNode(); n; n = walk.nextNode()) {
				r.selectNodeContents(n);
				const p = n.parentElement;
				if (!p.closest(".scroll") && r.getBoundingClientRect().right > window.innerWidth + 0.5) {
					const id = p.closest("[id]");
					wide.push((id ? "#" + id.id + " " : "") + p.tagName.toLowerCase() + " " + JSON.stringify(n.textContent.slice(0, 30)));
				}
			}
			return wide;
		})(),
	};
}`

// splitWords lists the words, in the page's tables, that are laid out on
// more than one line though a reader takes them in whole: every instance ID
// shown as a value (a hyphen is no place to break one), and each word of the input line
// (FILE:LINE) of a target that could not be audited when that line is short
// enough to fit one (wholeInput characters). Each is named with the table
// it is in.
const splitWords = `(wholeInput) => {
	const split = [];
	const lines = (r) => new Set([...r.getClientRects()].filter(b => b.width > 0).map(b => Math.round(b.top))).size;
	const check = (cell, re) => {
		const nodes = [];
		let text = "";
		const walk = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
		for (let n = walk.nextNode(); n; n = walk.nextNode()) {
			nodes.push({n, at: text.length});
			text += n.textContent;
		}
		// The text node holding offset i; at an end, the one it ends.
		const find = (i, end) => nodes.findLast(x => end ? x.at < i : x.at <= i);
		for (const m of text.matchAll(re)) {
			const from = find(m.index, false), to = find(m.index + m[0].length, true);
			const r = document.createRange();
			r.setStart(from.n, m.index - from.at);
			r.setEnd(to.n, m.index + m[0].length - to.at);
			if (lines(r) > 1) {
				const t = cell.closest("table[id]");
				split.push((t ? "#" + t.id + " " : "") + JSON.stringify(m[0]));
			}
		}
	};
	// An ID as a value, not one that a message mentions in its prose.
	for (const cell of document.querySelectorAll("td, span")) {
		if (/^\s*m?i-[0-9a-f]{8}(?:[0-9a-f]{9})?\s*$/.test(cell.textContent)) {
			check(cell, /\S+/g);
		}
	}
	for (const cell of document.querySelectorAll("#problems tr > td:last-child")) {
		if (cell.textContent.length <= wholeInput) {
			check(cell, /\S+/g);
		}
	}
	return split;
}`

// showPage opens path in a new tab of the browser of parent, on a screen of
// size vp with the network off, and returns what the tab logged and the
// boxes of the elements selected by sels.
func showPage(t *testing.T, parent context.Context, path string, vp viewport, sels ...string) (pageLog, map[string]box, context.Context) {
	t.Helper()
	var pl pageLog
	ctx, cancel := chromedp.NewContext(parent, chromedp.WithListener(pl.listen))
	t.Cleanup(cancel)
	// Any dialog would block the page: record it (pl.listen) and dismiss it.
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	offline := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			MatchedNetworkConditions: []*network.Conditions{{Offline: true, DownloadThroughput: -1, UploadThroughput: -1}},
		})
		return err
	})
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path)}
	if err := chromedp.Do(ctx,
		offline,
		chromedp.EmulateViewport(vp.width, vp.height),
		chromedp.Navigate(u.String()),
	); err != nil {
		t.Fatalf("opening %s: %v", u.String(), err)
	}
	boxes := map[string]box{}
	for _, sel := range sels {
		b, err := chromedp.Run(ctx, chromedp.Evaluate[box](fmt.Sprintf("(%s)(%q)", inspect, sel)))
		if err != nil {
			t.Fatalf("inspecting %s: %v", sel, err)
		}
		boxes[sel] = b
	}
	return pl.snapshot(), boxes, ctx
}

// TestHTMLInBrowser opens report.html in headless Chromium with the network
// off, on a 1280x800 screen and on a 390x844 phone, and checks that the page
// runs no script and makes no request (hostile payloads in every field);
// that it never scrolls sideways and cuts neither the headline nor the
// cards; that on the first 1280x800 screen it answers the four questions
// (how bad, what fails most, what to fix first, what could not be
// audited); and that a run that saw nothing says "unknown". It takes a
// full-page screenshot of each. A control page proves that the checks see
// a script and a request when there are some.
func TestHTMLInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts headless Chromium (seconds); runs without -short, as in CI")
	}
	exe := findBrowser(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// No UserDataDir: chromedp then makes the profile's directory
		// and removes it once the browser has exited, killing any child
		// left writing there first. A t.TempDir would fail the test when
		// such a child writes in it during the test's cleanup.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("proxy-server", "http://"+deadPort),
		chromedp.Flag("proxy-bypass-list", "<-loopback>"),
		chromedp.Flag("hide-scrollbars", true),
	)
	defer cancelAlloc()
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	if err := chromedp.Do(browserCtx); err != nil {
		t.Fatalf("starting %s: %v", exe, err)
	}

	t.Run("control", func(t *testing.T) {
		// Without the template's escaping, the same kind of payload runs and
		// fetches: the checks below would see it.
		path := filepath.Join(t.TempDir(), "control.html")
		control := `<!DOCTYPE html><title>control</title><h1 id="headline">x</h1>` +
			`<script>window.__pwned="control"; fetch("http://` + deadPort + `/control").catch(() => {}); console.log("ran")</script>`
		if err := os.WriteFile(path, []byte(control), 0o666); err != nil {
			t.Fatal(err)
		}
		pl, boxes, _ := showPage(t, browserCtx, path, desktop, "#headline")
		if got := boxes["#headline"].Pwned; got != "string" {
			t.Errorf("control page: window.__pwned is %s, want the script to set it", got)
		}
		if got := boxes["#headline"].Scripts; got != 1 {
			t.Errorf("control page: %d scripts, want 1", got)
		}
		if len(offPage(pl.requests, path)) == 0 {
			t.Errorf("control page: no request seen besides the file (requests %q)", pl.requests)
		}
		if len(pl.console) == 0 {
			t.Error("control page: console.log not seen")
		}
	})

	// Every instance in error: the run saw nothing, and the page must say
	// "unknown", never that there is nothing to fix.
	var blind []audit.Result
	for i := range 6 {
		blind = append(blind, audit.Result{
			Region: east, InstanceID: fmt.Sprintf("i-%017x", 700+i), Outcome: audit.OutcomeError, AuditedAt: runStart,
			Error:        &audit.Error{Code: "PaginationLoop", Message: "more than 1 pages"},
			Associations: []audit.Association{{AssociationID: "a-1", Name: "AWS-RunPatchBaseline", Status: audit.StatusFailed, ErrorCode: "ScriptFailed"}},
		})
	}

	// The four questions a reader brings, and where the page answers them.
	questions := map[string]string{
		"how bad":                     "#headline",
		"what fails most":             "#glance-fails",
		"what to fix first":           "#glance-fix",
		"what could not be audited":   "#glance-unaudited",
		"how bad, outcome by outcome": "#cards",
	}
	sels := []string{"#headline", "#cards", "#glance"}
	for _, sel := range questions {
		if !slices.Contains(sels, sel) {
			sels = append(sels, sel)
		}
	}
	slices.Sort(sels)

	for _, tt := range []struct {
		name    string
		results []audit.Result
	}{
		{"mixed", fixtureNamed(t, "mixed").results},
		{"hostile", append(fixtureNamed(t, "hostile").results, payloadFleet()...)},
		{"unknown", blind},
		{"long", longFleet()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			run := fixtureRun()
			run.Version = payloads()[0]
			if tt.name == "mixed" {
				run = fixtureNamed(t, "mixed").run
			}
			opts := report.Options{Dir: t.TempDir(), Records: openRecord(t, tt.results), Run: run, StaleAfter: audit.DefaultStaleAfter}
			m, err := report.Build(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(opts.Dir, report.HTMLFile)
			renderHTML(t, opts)

			// The mail's body, made from the same model, does not scroll
			// sideways either.
			body, _, err := report.MailBody(m, report.MailOptions{})
			if err != nil {
				t.Fatal(err)
			}
			mailPath := filepath.Join(opts.Dir, "mail.html")
			if err := os.WriteFile(mailPath, []byte(body), 0o666); err != nil {
				t.Fatal(err)
			}
			for _, vp := range []viewport{desktop, phone} {
				_, boxes, tabCtx := showPage(t, browserCtx, mailPath, vp, "#headline")
				if b := boxes["#headline"]; b.ScrollWidth > b.ViewportWidth {
					t.Errorf("the mail is %.0f px wide on a %.0f px screen: it scrolls sideways, widened by %q", b.ScrollWidth, b.ViewportWidth, b.Wide)
				}
				if split := splitIn(t, tabCtx); len(split) > 0 {
					t.Errorf("the mail at %d px: laid out on more than one line: %q", vp.width, split)
				}
			}

			for _, vp := range []viewport{desktop, phone} {
				t.Run(fmt.Sprintf("%dx%d", vp.width, vp.height), func(t *testing.T) {
					pl, boxes, tabCtx := showPage(t, browserCtx, path, vp, sels...)
					if reqs := offPage(pl.requests, path); len(reqs) > 0 {
						t.Errorf("the page made requests: %q", reqs)
					}
					if len(pl.console)+len(pl.thrown)+len(pl.dialogs) > 0 {
						t.Errorf("scripts ran: console %q, exceptions %q, dialogs %q", pl.console, pl.thrown, pl.dialogs)
					}
					if len(pl.entries) > 0 {
						t.Errorf("the browser logged: %q", pl.entries)
					}
					for _, sel := range sels {
						b := boxes[sel]
						if !b.Found {
							t.Errorf("no %s element", sel)
							continue
						}
						if b.Pwned != "undefined" || b.Scripts+b.Images+b.Frames+b.Links > 0 {
							t.Errorf("window.__pwned is %s; %d scripts, %d images, %d frames, %d link elements",
								b.Pwned, b.Scripts, b.Images, b.Frames, b.Links)
						}
						// Nothing is cut at the sides, on any screen.
						if b.Left < 0 || b.Right > b.ViewportWidth || b.Bottom <= b.Top {
							t.Errorf("%s at (%.0f,%.0f)-(%.0f,%.0f): not whole within the %.0f px width",
								sel, b.Left, b.Top, b.Right, b.Bottom, b.ViewportWidth)
						}
					}
					if split := splitIn(t, tabCtx); len(split) > 0 {
						t.Errorf("laid out on more than one line: %q", split)
					}
					if b := boxes["#headline"]; b.ScrollWidth > b.ViewportWidth {
						t.Errorf("the page is %.0f px wide on a %.0f px screen: it scrolls sideways, widened by %q", b.ScrollWidth, b.ViewportWidth, b.Wide)
					}
					if vp == desktop {
						// Every question is answered in the first screen.
						for q, sel := range questions {
							if b := boxes[sel]; b.Top < 0 || b.Bottom > b.ViewportHeight {
								t.Errorf("%q (%s) ends at %.0f px, below the first %.0f px", q, sel, b.Bottom, b.ViewportHeight)
							}
						}
					} else if b := boxes["#headline"]; b.Top < 0 || b.Bottom > b.ViewportHeight {
						t.Errorf("the headline ends at %.0f px, below the phone's first screen", b.Bottom)
					}
					if tt.name == "unknown" {
						for _, sel := range []string{"#glance-fails", "#glance-fix"} {
							if got := boxes[sel].Text; !strings.Contains(got, "Unknown") || strings.Contains(got, "Nothing to fix") || strings.Contains(got, "No failed") {
								t.Errorf("%s says %q with nothing audited, want unknown", sel, got)
							}
						}
					}

					headline, err := chromedp.Run(tabCtx, chromedp.Text(chromedp.ID("headline")))
					if err != nil {
						t.Fatal(err)
					}
					if strings.Join(strings.Fields(headline), " ") != m.Headline {
						t.Errorf("visible headline %q, want %q", headline, m.Headline)
					}

					png, err := chromedp.Run(tabCtx, chromedp.FullScreenshot(100))
					if err != nil {
						t.Fatal(err)
					}
					name := fmt.Sprintf("report-%s-%d.png", tt.name, vp.width)
					shot := filepath.Join(t.TempDir(), name)
					if err := os.WriteFile(shot, png, 0o666); err != nil {
						t.Fatal(err)
					}
					if dir := os.Getenv(screenshotDirEnv); dir != "" {
						if err := os.WriteFile(filepath.Join(dir, name), png, 0o666); err != nil {
							t.Fatal(err)
						}
						t.Logf("screenshot in %s", filepath.Join(dir, name))
					}
				})
			}
			if tt.name == "unknown" {
				// A card's figure in words ("unknown") stays whole on
				// one line, within its card, at every width.
				for _, w := range []int64{390, 1000, 1400} {
					_, boxes, _ := showPage(t, browserCtx, path, viewport{w, 900}, "#card-stale", "#card-stale > div:nth-child(2)")
					card, fig := boxes["#card-stale"], boxes["#card-stale > div:nth-child(2)"]
					if !fig.Found || fig.Text != "unknown" {
						t.Fatalf("%d px: the stale card's figure is %q, want unknown", w, fig.Text)
					}
					if h := fig.Bottom - fig.Top; h > 1.5*24 || fig.Right > card.Right || fig.Left < card.Left {
						t.Errorf("%d px: the stale card's figure is %.0f px high (one line is 31) from x %.0f to %.0f, its card from %.0f to %.0f: unknown breaks or spills",
							w, h, fig.Left, fig.Right, card.Left, card.Right)
					}
				}
			}
		})
	}
}

// splitIn returns splitWords of the page shown in tabCtx: IDs never break
// mid-word, nor a short input line.
func splitIn(t *testing.T, tabCtx context.Context) []string {
	t.Helper()
	split, err := chromedp.Run(tabCtx, chromedp.Evaluate[[]string](fmt.Sprintf("(%s)(%d)", splitWords, 40)))
	if err != nil {
		t.Fatalf("finding split words: %v", err)
	}
	return split
}

// offPage returns the requested URLs other than the page's own file.
func offPage(requests []string, path string) []string {
	self := url.URL{Scheme: "file", Path: filepath.ToSlash(path)}
	var out []string
	for _, r := range requests {
		if r != self.String() {
			out = append(out, r)
		}
	}
	return out
}
