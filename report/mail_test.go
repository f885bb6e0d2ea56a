package report_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/deliver"
	"github.com/auditor-dev/auditor/deliver/smtptest"
	"github.com/auditor-dev/auditor/report"
)

// buildModel builds the Model of results and run with the CLI's default
// stale rule.
func buildModel(t *testing.T, results []audit.Result, run audit.RunInfo) *report.Model {
	t.Helper()
	m, err := report.Build(context.Background(), report.Options{
		Records: quickRecord(t, results), Run: run, StaleAfter: audit.DefaultStaleAfter,
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// quickRecord is openRecord without a sync per result (thousands of syncs
// take seconds): results encoded as a record, in the order given, and
// opened. The Records is closed when the test ends.
func quickRecord(t *testing.T, results []audit.Result) *audit.Records {
	t.Helper()
	if len(results) == 0 {
		return openRecord(t, nil)
	}
	var buf bytes.Buffer
	for _, r := range results {
		if err := audit.EncodeResult(&buf, r); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), audit.ResultsFile)
	if err := os.WriteFile(path, buf.Bytes(), 0o666); err != nil {
		t.Fatal(err)
	}
	rs, err := audit.OpenRecords(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rs.Close() })
	return rs
}

// mailBody renders m's mail body, failing the test on an error.
func mailBody(t *testing.T, m *report.Model, opts report.MailOptions) (string, string) {
	t.Helper()
	h, x, err := report.MailBody(m, opts)
	if err != nil {
		t.Fatal(err)
	}
	return h, x
}

// TestMailBody renders every fixture's mail body and checks that the HTML
// is inert and within its budget, puts the at-a-glance sections first, and
// that the text says the same, one value a line, and that every "N more"
// counts what its list leaves out.
func TestMailBody(t *testing.T) {
	for _, fx := range fixtures(t) {
		t.Run(fx.name, func(t *testing.T) {
			m := buildModel(t, fx.results, fx.run)
			h, x := mailBody(t, m, report.MailOptions{Attached: []string{report.XLSXFile}})
			if len(h) > report.DefaultMailMaxBody {
				t.Errorf("HTML is %d bytes, over %d", len(h), report.DefaultMailMaxBody)
			}
			checkInert(t, []byte(h))
			checkMailMore(t, m, h, x)
			doc := parseHTML(t, []byte(h))
			// The at-a-glance content, in this order, before any long list.
			order := []string{"headline", "cards", "mail-fails", "mail-worst", "mail-problems", "mail-failures"}
			if fx.name == "empty" {
				order = []string{"headline"}
			}
			last := -1
			for _, id := range order {
				i := strings.Index(h, `id="`+id+`"`)
				if i < 0 {
					t.Errorf("no #%s in the mail", id)
					continue
				}
				if i < last {
					t.Errorf("#%s comes before the section that precedes it", id)
				}
				last = i
			}
			if got := strings.Join(strings.Fields(text(byID(doc, "headline"))), " "); got != m.Headline {
				t.Errorf("headline %q, want %q", got, m.Headline)
			}
			if !strings.HasPrefix(x, m.Headline+"\n") {
				t.Errorf("text starts %q, want the headline", x[:min(len(x), 80)])
			}
			for _, want := range []string{"WHAT FAILS MOST", "INSTANCES TO FIX FIRST", "COULD NOT AUDIT"} {
				if !strings.Contains(x, want) {
					t.Errorf("text has no %q", want)
				}
			}
			if fx.name == "mixed" {
				for _, want := range []string{"PARTIAL RESULTS", "ScriptFailed: 2 failed in 2 instances", "i-00000000000000002 (111111111111 us-east-1): 2 failed", "Not managed 1;"} {
					if !strings.Contains(x, want) {
						t.Errorf("text has no %q:\n%s", want, x)
					}
				}
			}
			if fx.name == "hostile" {
				// Every value is one line: the second line of a hostile
				// value never starts a line of the text.
				for _, line := range strings.Split(x, "\n") {
					if strings.HasPrefix(line, "line two") || strings.HasPrefix(line, "=1+1") || strings.HasPrefix(line, " =1+\"<script>") {
						t.Errorf("a value broke the text into lines: %q", line)
					}
				}
				if strings.Contains(h, "<script") {
					t.Error("<script in the HTML")
				}
			}
		})
	}
}

// TestMailBodyBudget checks that a fleet with thousands of failures gives an
// HTML body within the budget, with its lists cut and counted.
func TestMailBodyBudget(t *testing.T) {
	// Thousands of failed associations, all stale too: 300 instances of 10
	// (a record of few instances keeps the test fast).
	const instances, each = 300, 10
	const failing = instances * each
	var fleet []audit.Result
	for _, r := range failingFleet(instances) {
		a := r.Associations[0]
		r.Associations = nil
		for i := range each {
			a.AssociationID, a.AssociationName, a.ExecutionDate = fmt.Sprintf("%s-%d", a.AssociationID, i), fmt.Sprintf("patch-baseline-%d", i), at(old)
			r.Associations = append(r.Associations, a)
		}
		fleet = append(fleet, r)
	}
	m := buildModel(t, fleet, fixtureRun())
	if m.Failures.Count != failing || m.Stale.Count != failing {
		t.Fatalf("%d failures and %d stale rows, want %d of each", m.Failures.Count, m.Stale.Count, failing)
	}
	moreLine := regexp.MustCompile(`^([0-9,]+) more failed associations in (.+)\.$`)
	tests := []struct {
		name      string
		opts      report.MailOptions
		wantWhere string
		wantRows  int // 0: as many as fit
	}{
		{"default budget, workbook attached", report.MailOptions{Attached: []string{"error_codes.csv", report.XLSXFile}}, "the attached workbook", 0},
		{"small budget, reports in S3", report.MailOptions{MaxBody: 30_000, ReportsAt: "s3://reports/weekly/"}, "the reports at s3://reports/weekly/", 0},
		{"reports on the web", report.MailOptions{MaxBody: 60_000, ReportsAt: "https://reports.example.com/weekly/"}, "the reports at https://reports.example.com/weekly/", 0},
		{"nothing attached", report.MailOptions{}, report.XLSXFile, 0},
		{"room for every row", report.MailOptions{MaxBody: 10 << 20}, report.XLSXFile, report.DefaultHTMLMaxRows},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, x := mailBody(t, m, tt.opts)
			budget := tt.opts.MaxBody
			if budget == 0 {
				budget = report.DefaultMailMaxBody
			}
			t.Logf("HTML %d bytes (budget %d), text %d bytes", len(h), budget, len(x))
			if len(h) > budget {
				t.Errorf("HTML is %d bytes, over %d", len(h), budget)
			}
			checkInert(t, []byte(h))
			doc := parseHTML(t, []byte(h))
			rows := len(tableRows(byID(doc, "mail-failures")))
			if rows == 0 {
				t.Fatal("no failure rows: the budget left room for some")
			}
			if tt.wantRows > 0 && rows != tt.wantRows {
				t.Errorf("%d failure rows, want %d", rows, tt.wantRows)
			}
			more := byID(doc, "mail-failures-more")
			if more == nil {
				t.Fatal("no line counting the rows left out")
			}
			got := moreLine.FindStringSubmatch(strings.Join(strings.Fields(text(more)), " "))
			if got == nil {
				t.Fatalf("more line %q", text(more))
			}
			if want := thousandsOf(failing - rows); got[1] != want || got[2] != tt.wantWhere {
				t.Errorf("more line says %s in %q, want %s in %q", got[1], got[2], want, tt.wantWhere)
			}
			if strings.HasPrefix(tt.wantWhere, "the reports at https:") {
				var links []string
				for _, e := range elements(more) {
					if href, ok := attr(e, "href"); ok && e.Data == "a" {
						links = append(links, href)
					}
				}
				if !slices.Equal(links, []string{tt.opts.ReportsAt}) {
					t.Errorf("links %q in the more line, want the reports' URL", links)
				}
			}
			if want := fmt.Sprintf("%s more failed associations in %s.", thousandsOf(failing-rows), tt.wantWhere); !strings.Contains(x, want) {
				t.Errorf("text has no %q", want)
			}
		})
	}

	// One byte less than a body takes: a row fewer.
	h, _ := mailBody(t, m, report.MailOptions{MaxBody: 50_000})
	h2, _ := mailBody(t, m, report.MailOptions{MaxBody: len(h) - 1})
	rows := func(h string) int {
		doc := parseHTML(t, []byte(h))
		return len(tableRows(byID(doc, "mail-failures"))) + len(tableRows(byID(doc, "mail-stale")))
	}
	if r1, r2 := rows(h), rows(h2); len(h2) >= len(h) || r2 >= r1 {
		t.Errorf("with a budget of %d bytes: %d bytes, %d rows; with %d: %d bytes, %d rows", len(h), len(h), r1, len(h)-1, len(h2), r2)
	}

	// A budget nothing fits in.
	if _, _, err := report.MailBody(m, report.MailOptions{MaxBody: 2_000}); !errors.Is(err, report.ErrMailTooLarge) {
		t.Errorf("MailBody with 2,000 bytes: %v, want ErrMailTooLarge", err)
	}
}

// thousandsOf writes n as the reports do ("2,500").
func thousandsOf(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func TestMailSubject(t *testing.T) {
	mixed := fixtureNamed(t, "mixed")
	complete := fixtureRun()
	complete.Complete = true
	complete.Targets, complete.Invalid = 1, 0 // the one result of each fleet below
	oneRegion := []audit.Result{{AccountID: acct1, Region: east, InstanceID: "i-00000000000000001", Outcome: audit.OutcomeCompliant, AuditedAt: runStart,
		Associations: []audit.Association{{AssociationID: "a", Name: "AWS-RunPatchBaseline", Status: audit.StatusSuccess, ExecutionDate: at(fresh)}}}}
	noPlace := []audit.Result{{InstanceID: "i-12345", Outcome: audit.OutcomeInvalid, Error: &audit.Error{Code: "Invalid", Message: "bad"}}}
	hostile := fixtureNamed(t, "hostile")
	tests := []struct {
		name    string
		tmpl    string
		results []audit.Result
		run     audit.RunInfo
		want    string // exact, or with a regexp: prefix
	}{
		{"partial, two accounts", "", mixed.results, mixed.run,
			"PARTIAL: 3 of 7 audited instances non-compliant (42.86%), 1 pending, 1 not managed, 1 not audited (error), 1 invalid · 2 accounts, 2 regions"},
		{"complete, one place", "", oneRegion, complete,
			"0 of 1 audited instance non-compliant (0%) · account 111111111111, us-east-1"},
		{"nowhere known", "", noPlace, complete, "No instance audited of 1, 1 invalid · 1 instance"},
		{"interrupted", "", oneRegion, func() audit.RunInfo { r := complete; r.Interrupted = true; return r }(),
			"PARTIAL: 0 of 1 audited instance non-compliant (0%) (run interrupted) · account 111111111111, us-east-1"},
		{"a template of the user's", "[SSM] {{num .Totals.Audited}} audited, {{pct .Totals.PercentNoncompliant}} failing{{if .Partial}} (partial){{end}}\n\n", mixed.results, mixed.run,
			"[SSM] 7 audited, 42.86% failing (partial)"},
		{"hostile labels", "{{.Scope}} {{range .Locations}}{{.Region}}{{end}}", hostile.results, hostile.run, "re:^[^\r\n\t]{1,201}$"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := buildModel(t, tt.results, tt.run)
			got, err := report.MailSubject(tt.tmpl, m, nil)
			if err != nil {
				t.Fatal(err)
			}
			if re, ok := strings.CutPrefix(tt.want, "re:"); ok {
				if !regexp.MustCompile(re).MatchString(got) {
					t.Errorf("subject %q does not match %s", got, re)
				}
				return
			}
			if got != tt.want {
				t.Errorf("subject\n got %q\nwant %q", got, tt.want)
			}
		})
	}
	m := buildModel(t, mixed.results, mixed.run)
	for _, bad := range []string{"{{.Headline", "{{nope}}", "{{.NoSuchField}}"} {
		if got, err := report.MailSubject(bad, m, nil); err == nil {
			t.Errorf("MailSubject(%q) = %q, want an error", bad, got)
		}
	}
	if got, _ := report.MailSubject(strings.Repeat("x", 500), m, nil); len([]rune(got)) > 201 {
		t.Errorf("subject of %d characters, want it cut", len([]rune(got)))
	}
}

// TestMailDelivered renders a run's reports, makes its mail, sends it over
// SMTP (STARTTLS with a test certificate, AUTH PLAIN required) to a server
// in the test's process, and reads what the server received as a mail
// client would: the subject's figures, a text part, an HTML part within the
// budget that opens in headless Chromium with no request leaving the page,
// the workbook attached and readable. The hostile fixture and payloads in
// every field can add neither a header nor a script.
func TestMailDelivered(t *testing.T) {
	// One browser for every case, started by the first that needs it.
	var browser context.Context
	parent := t
	for _, tt := range []struct {
		name    string
		results []audit.Result
		run     audit.RunInfo
	}{
		{"mixed", fixtureNamed(t, "mixed").results, fixtureNamed(t, "mixed").run},
		{"hostile", append(fixtureNamed(t, "hostile").results, payloadFleet()...), fixtureNamed(t, "hostile").run},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			opts := report.Options{Dir: t.TempDir(), Records: openRecord(t, tt.results), Run: tt.run, StaleAfter: audit.DefaultStaleAfter}
			if _, err := report.Render(ctx, opts); err != nil {
				t.Fatal(err)
			}
			m, err := report.Build(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			attach := []string{filepath.Join(opts.Dir, report.XLSXFile), filepath.Join(opts.Dir, "error_codes.csv")}
			subject, err := report.MailSubject("", m, nil)
			if err != nil {
				t.Fatal(err)
			}
			h, x := mailBody(t, m, report.MailOptions{Attached: []string{report.XLSXFile, "error_codes.csv"}, ReportsAt: "s3://reports/run-1/"})
			srv := smtptest.NewServer(t, smtptest.Options{Username: "auditor", Password: "pw-" + tt.name})
			_, port, _ := strings.Cut(srv.Addr, ":")
			s := deliver.SMTP{URL: "smtp://localhost:" + port, Username: "auditor", Password: "pw-" + tt.name, TLSConfig: srv.TLSConfig("localhost")}
			msg := deliver.Message{From: "Auditor <auditor@example.com>", To: []string{"ops@example.com"}, Subject: subject, Text: x, HTML: h, Attachments: attach}
			if err := s.Send(ctx, msg); err != nil {
				t.Fatal(err)
			}
			got := srv.Messages()
			if len(got) != 1 {
				t.Fatalf("%d messages received, want 1", len(got))
			}
			mail, err := smtptest.Parse(got[0].Data)
			if err != nil {
				t.Fatal(err)
			}

			// Headers: only those a message has, the subject on one line
			// with the figures.
			var keys []string
			for k := range mail.Header {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			want := []string{"Auto-Submitted", "Content-Type", "Date", "From", "Message-Id", "Mime-Version", "Subject", "To", "X-Auto-Response-Suppress"}
			if !slices.Equal(keys, want) {
				t.Errorf("headers %q, want %q", keys, want)
			}
			if mail.Subject != subject || strings.ContainsAny(mail.Subject, "\r\n") {
				t.Errorf("subject %q, want %q on one line", mail.Subject, subject)
			}
			figures := fmt.Sprintf("%d of %d audited instances non-compliant", m.Totals.Outcomes[audit.OutcomeNoncompliant], m.Totals.Audited)
			if !strings.Contains(mail.Subject, figures) || !strings.HasPrefix(mail.Subject, "PARTIAL: ") {
				t.Errorf("subject %q, want PARTIAL and %q", mail.Subject, figures)
			}

			text := mail.Part("text/plain")
			html := mail.Part("text/html")
			if text == nil || html == nil || !slices.Equal(mail.Containers, []string{"multipart/mixed", "multipart/alternative"}) {
				t.Fatalf("parts %+v in %q, want text and HTML alternatives", mail.Parts, mail.Containers)
			}
			if !strings.HasPrefix(string(text.Body), m.Headline) {
				t.Errorf("text part starts %q, want the headline", string(text.Body[:min(80, len(text.Body))]))
			}
			if len(html.Body) > report.DefaultMailMaxBody {
				t.Errorf("HTML part is %d bytes, over %d", len(html.Body), report.DefaultMailMaxBody)
			}
			checkInert(t, html.Body)

			atts := mail.Attachments()
			if len(atts) != 2 || atts[0].Filename != report.XLSXFile || atts[1].Filename != "error_codes.csv" {
				t.Fatalf("attachments %+v, want report.xlsx and error_codes.csv", atts)
			}
			f, err := excelize.OpenReader(bytes.NewReader(atts[0].Body))
			if err != nil {
				t.Fatalf("the attached workbook does not open: %v", err)
			}
			defer f.Close()
			if sheets := f.GetSheetList(); len(sheets) < 2 {
				t.Errorf("the attached workbook has sheets %q", sheets)
			}
			csv, _ := os.ReadFile(attach[1])
			if !bytes.Equal(atts[1].Body, csv) {
				t.Error("the attached error_codes.csv differs from the file")
			}

			t.Run("in Chromium", func(t *testing.T) {
				if testing.Short() {
					t.Skip("starts headless Chromium (seconds); runs without -short, as in CI")
				}
				if browser == nil {
					browser = startBrowser(parent, t)
				}
				showMail(t, browser, html.Body)
			})
		})
	}
}

// showMail opens a mail's HTML part in browser on a desktop and a phone
// screen, and checks that it makes no request, runs nothing, and shows the
// headline and the cards whole on the first screen without scrolling
// sideways.
func showMail(t *testing.T, browser context.Context, body []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mail.html")
	if err := os.WriteFile(path, body, 0o666); err != nil {
		t.Fatal(err)
	}
	for _, vp := range []viewport{desktop, phone} {
		pl, boxes, _ := showPage(t, browser, path, vp, "#headline", "#cards")
		if reqs := offPage(pl.requests, path); len(reqs) > 0 {
			t.Errorf("%dpx: the mail made requests: %q", vp.width, reqs)
		}
		if len(pl.console)+len(pl.thrown)+len(pl.dialogs)+len(pl.entries) > 0 {
			t.Errorf("%dpx: console %q, exceptions %q, dialogs %q, log %q", vp.width, pl.console, pl.thrown, pl.dialogs, pl.entries)
		}
		for sel, b := range boxes {
			if !b.Found || b.Pwned != "undefined" || b.Scripts+b.Images+b.Frames+b.Links > 0 {
				t.Errorf("%dpx %s: %+v", vp.width, sel, b)
			}
			if b.Left < 0 || b.Right > b.ViewportWidth {
				t.Errorf("%dpx: %s is cut at the sides (%.0f-%.0f)", vp.width, sel, b.Left, b.Right)
			}
		}
		if b := boxes["#headline"]; b.ScrollWidth > b.ViewportWidth {
			t.Errorf("%dpx: the mail is %.0f px wide: it scrolls sideways", vp.width, b.ScrollWidth)
		}
		if b := boxes["#headline"]; b.Top < 0 || b.Bottom > b.ViewportHeight {
			t.Errorf("%dpx: the headline is not on the first screen", vp.width)
		}
	}
}

// startBrowser starts headless Chromium, with the network pointed at a dead
// port, that stops when owner ends; t skips when there is none (see
// findBrowser). Its profile is a directory chromedp makes and removes
// itself once the browser and any child it left have exited (see
// TestHTMLInBrowser): one of t's was removed under the running browser.
func startBrowser(owner, t *testing.T) context.Context {
	t.Helper()
	exe := findBrowser(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	owner.Cleanup(cancel)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("proxy-server", "http://"+deadPort),
		chromedp.Flag("proxy-bypass-list", "<-loopback>"),
		chromedp.Flag("hide-scrollbars", true),
	)
	owner.Cleanup(cancelAlloc)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	owner.Cleanup(cancelBrowser)
	if err := chromedp.Do(browserCtx); err != nil {
		t.Fatalf("starting %s: %v", exe, err)
	}
	return browserCtx
}

// TestMailNamesUnauditedSites: an account-region that could not be audited
// is named, with its code, in the mail's text and HTML and in the model's
// run details, on one line each however its message is written.
func TestMailNamesUnauditedSites(t *testing.T) {
	fx := fixtureNamed(t, "mixed")
	run := fx.run
	run.Complete, run.Error = false, "1 account-region could not be audited"
	run.Sites = []audit.SiteStats{{AccountID: "333333333333", Region: audit.AllRegions, Error: &audit.Error{Code: "AccessDenied", Message: "denied\n=1+1 <b>x</b>"}}}
	m := buildModel(t, fx.results, run)
	if len(m.Run.Unaudited) != 1 || m.Run.Unaudited[0].Code != "AccessDenied" {
		t.Fatalf("model: unaudited %+v, want the one account-region", m.Run.Unaudited)
	}
	h, x := mailBody(t, m, report.MailOptions{})
	want := "account 333333333333, every region: AccessDenied denied =1+1 <b>x</b>"
	if !strings.Contains(x, "\n  - "+want+"\n") {
		t.Errorf("text does not name the account-region on a line of its own as %q:\n%s", want, x)
	}
	// As a browser shows it: white space collapsed.
	if got := strings.Join(strings.Fields(text(byID(parseHTML(t, []byte(h)), "unaudited"))), " "); !strings.Contains(got, want) {
		t.Errorf("HTML names %q, want %q", got, want)
	}
	if strings.Contains(h, "<b>x</b>") {
		t.Error("the message's markup reached the HTML unescaped")
	}
	found := false
	for _, d := range m.About {
		if d.Label == "Not audited" {
			found = d.Value == "1 account-region: 333333333333 every region (AccessDenied)"
			if !found {
				t.Errorf("About: Not audited %q", d.Value)
			}
		}
	}
	if !found {
		t.Errorf("About has no Not audited line: %+v", m.About)
	}
}

// TestMailReadsWithoutItsStyleBlock: clients that drop the <style> block
// (the Gmail app on an account not Google's) keep what the attributes and
// inline styles say: numbers aligned right, the tables' heads shaded, the
// mail's font.
func TestMailReadsWithoutItsStyleBlock(t *testing.T) {
	for _, fx := range fixtures(t) {
		t.Run(fx.name, func(t *testing.T) {
			m := buildModel(t, fx.results, fx.run)
			h, _ := mailBody(t, m, report.MailOptions{Attached: []string{report.XLSXFile}})
			doc := parseHTML(t, []byte(h))
			numbers, heads := 0, 0
			for _, e := range elements(doc) {
				class, _ := attr(e, "class")
				switch {
				case (e.Data == "td" || e.Data == "th") && slices.Contains(strings.Fields(class), "n"):
					numbers++
					if a, _ := attr(e, "align"); a != "right" {
						t.Errorf("a number's <%s class=%q> has align=%q, want right", e.Data, class, a)
					}
				case e.Data == "tr" && e.Parent != nil && e.Parent.Data == "thead":
					heads++
					if b, _ := attr(e, "bgcolor"); b == "" {
						t.Errorf("a table head's row has no bgcolor")
					}
				case e.Data == "td" && slices.Contains(strings.Fields(class), "outer"):
					if s, _ := attr(e, "style"); !strings.Contains(s, "font-family:") {
						t.Errorf("the outer cell's style %q names no font", s)
					}
				}
			}
			if fx.name != "empty" && (numbers == 0 || heads == 0) {
				t.Errorf("%d numbers and %d table heads: want some, to check", numbers, heads)
			}
		})
	}
}

// TestMailTextListedInPart: with account-regions both not audited and
// listed in part, the text mail ran the heading of the second list onto
// the last line of the first ("... AccessDenied denied Audited in part,
// ..."). Each list starts a line of its own.
func TestMailTextListedInPart(t *testing.T) {
	fx := fixtureNamed(t, "mixed")
	m := buildModel(t, fx.results, fx.run)
	m.Run.Complete = false
	m.Run.Unaudited = []report.Site{{AccountID: "333333333333", Code: "AccessDenied", Message: "denied"}}
	m.Run.ListedInPart = []report.Site{{AccountID: "111111111111", Region: "us-east-1", Code: "ThrottlingException", Message: "Rate exceeded", Audited: 4}}
	_, x := mailBody(t, m, report.MailOptions{})
	if want := "every region: AccessDenied denied\nAudited in part, so only the nodes listed"; !strings.Contains(x, want) {
		t.Errorf("text mail does not say %q:\n%s", want, x)
	}
}

// TestMailTextPartialRows: the mail's HTML part said how many association
// rows of instances in error were left out of every count; its text part,
// which a text-only reader and a mail filter read, did not.
func TestMailTextPartialRows(t *testing.T) {
	fx := fixtureNamed(t, "mixed")
	m := buildModel(t, fx.results, fx.run)
	if m.Totals.PartialAssociations == 0 {
		t.Fatal("the mixed fixture has no partial rows to tell")
	}
	h, x := mailBody(t, m, report.MailOptions{})
	want := fmt.Sprintf("%d association rows", m.Totals.PartialAssociations)
	if m.Totals.PartialAssociations == 1 {
		want = "1 association row"
	}
	if !strings.Contains(h, want) {
		t.Fatalf("the HTML part does not say %q either", want)
	}
	if !strings.Contains(x, want) {
		t.Errorf("the text part does not say %q:\n%s", want, x)
	}
}
