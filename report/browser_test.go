package report_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
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
var browserNames = []string{"chromium", "chromium-browser", "google-chrome"}

// screenshotDirEnv names a directory that the browser test copies its
// screenshots into (for the README's pictures).
const screenshotDirEnv = "AUDITOR_SCREENSHOT_DIR"

// The first screen a reader sees.
const viewportWidth, viewportHeight = 1280, 800

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

// box is an element's bounding box in CSS pixels.
type box struct {
	Found                          bool
	Top, Left, Bottom, Right       float64
	ViewportWidth, ViewportHeight  float64
	Scripts, Images, Frames, Links int
	Pwned                          string
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
	};
}`

// showPage opens path in a new tab of the browser of parent, with the
// network off, and returns what the tab logged and the boxes of the
// elements selected by sels.
func showPage(t *testing.T, parent context.Context, path string, sels ...string) (pageLog, map[string]box, context.Context) {
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
		chromedp.EmulateViewport(viewportWidth, viewportHeight),
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
// off, and checks that the page runs no script and makes no request
// (hostile payloads in every field), that the headline and the outcome
// cards are in the first 1280x800 viewport, and takes a full-page
// screenshot. A control page proves that the checks see a script and a
// request when there are some.
func TestHTMLInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts headless Chromium (seconds); runs without -short, as in CI")
	}
	exe := findBrowser(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
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
		pl, boxes, _ := showPage(t, browserCtx, path, "#headline")
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

	for _, tt := range []struct {
		name    string
		results []audit.Result
	}{
		{"mixed", fixtureNamed(t, "mixed").results},
		{"hostile", append(fixtureNamed(t, "hostile").results, payloadFleet()...)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			run := fixtureRun()
			run.Version = payloads()[0]
			if tt.name == "mixed" {
				run = fixtureNamed(t, "mixed").run
			}
			opts := report.Options{Dir: t.TempDir(), Records: openRecord(t, tt.results), Run: run}
			m, err := report.Build(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(opts.Dir, report.HTMLFile)
			renderHTML(t, opts)

			pl, boxes, tabCtx := showPage(t, browserCtx, path, "#headline", "#cards", "#glance")
			if reqs := offPage(pl.requests, path); len(reqs) > 0 {
				t.Errorf("the page made requests: %q", reqs)
			}
			if len(pl.console)+len(pl.thrown)+len(pl.dialogs) > 0 {
				t.Errorf("scripts ran: console %q, exceptions %q, dialogs %q", pl.console, pl.thrown, pl.dialogs)
			}
			if len(pl.entries) > 0 {
				t.Errorf("the browser logged: %q", pl.entries)
			}
			for sel, b := range boxes {
				if !b.Found {
					t.Errorf("no %s element", sel)
					continue
				}
				if b.Pwned != "undefined" || b.Scripts+b.Images+b.Frames+b.Links > 0 {
					t.Errorf("window.__pwned is %s; %d scripts, %d images, %d frames, %d link elements",
						b.Pwned, b.Scripts, b.Images, b.Frames, b.Links)
				}
				if b.Top < 0 || b.Left < 0 || b.Bottom > b.ViewportHeight || b.Right > b.ViewportWidth || b.Bottom <= b.Top {
					t.Errorf("%s at (%.0f,%.0f)-(%.0f,%.0f), not inside the first %.0fx%.0f viewport",
						sel, b.Left, b.Top, b.Right, b.Bottom, b.ViewportWidth, b.ViewportHeight)
				}
			}
			headline, err := chromedp.Run(tabCtx, chromedp.Text(chromedp.ID("headline")))
			if err != nil {
				t.Fatal(err)
			}
			if strings.TrimSpace(headline) != m.Headline {
				t.Errorf("visible headline %q, want %q", headline, m.Headline)
			}

			png, err := chromedp.Run(tabCtx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			name := "report-" + tt.name + ".png"
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
