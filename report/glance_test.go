package report_test

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
)

// labelledFleet is a fleet like the demo's, with the labels an inventory
// gives in practice: several on each instance, long values without a
// space (an e-mail address, a cost centre, a team's full name), on failed
// associations with a summary and an output URL, one of a document shared
// from another account (named by its ARN).
func labelledFleet() []audit.Result {
	var rs []audit.Result
	for i := range 40 {
		labels := map[string]string{
			"team":        []string{"platform-engineering-infrastructure", "payments-settlement-reconciliation"}[i%2],
			"owner":       fmt.Sprintf("firstname.lastname%02d@subsidiary.example.com", i),
			"cost-center": fmt.Sprintf("cc-%04d-shared-services-eu-central", i),
			"environment": "production-eu-west-1-blue",
			// Short words, as the organisation demo's: never broken.
			"account_name": []string{"Management", "Production", "Staging"}[i%3],
		}
		d := runStart.Add(-time.Hour)
		r := audit.Result{
			AccountID: fmt.Sprintf("1111111111%02d", i%3), Region: []string{east, west}[i%2], InstanceID: fmt.Sprintf("i-%017x", 900+i),
			Labels: labels, AuditedAt: runStart,
		}
		for j := range 3 {
			r.Associations = append(r.Associations, audit.Association{
				AssociationID: fmt.Sprintf("5e3e196d-0000-0000-%04d-%012d", j, i), AssociationName: fmt.Sprintf("baseline-%d-patching-and-inventory", j),
				Name: []string{"AWS-RunPatchBaseline", "AWS-ApplyAnsiblePlaybooks", "arn:aws:ssm:us-east-1:111122223333:document/Shared-SecurityBaseline"}[j], AssociationVersion: "1", DocumentVersion: "$DEFAULT", ExecutionDate: &d,
				Status: audit.StatusFailed, DetailedStatus: "Failed", ErrorCode: "ScriptFailed",
				ExecutionSummary: "1 out of 1 plugin processed, 0 success, 1 failed, 0 timedout, 0 skipped. The operation aws:runShellScript failed with exit code 1.",
				OutputURL:        s3(fmt.Sprintf("https://s3.amazonaws.com/ssm-output-bucket-example/%d/i-%017x/awsrunShellScript/stdout", j, 900+i)),
			})
		}
		r.Outcome = audit.Judge(r.Associations)
		rs = append(rs, r)
	}
	return rs
}

// showAt opens path in a new tab of browser on a screen width x height.
func showAt(t *testing.T, browser context.Context, path string, width, height int64) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path)}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height), chromedp.Navigate(u.String())); err != nil {
		t.Fatalf("opening %s: %v", u.String(), err)
	}
	return ctx
}

// tooWide lists the data tables wider than the box they scroll in, and the
// text cells of #failures (summary, output) squeezed under 140 px: a
// reader on a desktop sees the table cut at the box's edge, with its
// scrollbar only at the bottom of a long table, or reads a summary ten
// lines high.
const tooWide = `() => {
	const probs = [];
	for (const t of document.querySelectorAll(".scroll > table")) {
		const box = t.parentElement;
		if (t.getBoundingClientRect().width > box.clientWidth + 0.5) {
			probs.push("#" + t.id + " is " + Math.round(t.getBoundingClientRect().width) + " px wide in a " + box.clientWidth + " px box");
		}
	}
	for (const l of document.querySelectorAll("bdi.l:not(.long)")) {
		if (l.getClientRects().length > 1 || l.scrollWidth > l.clientWidth + 0.5) {
			probs.push("label " + l.textContent + " is broken inside a word");
			break;
		}
	}
	for (const c of document.querySelectorAll("#failures td.text")) {
		if (c.getBoundingClientRect().width < 140) {
			probs.push("#failures: a text cell is " + Math.round(c.getBoundingClientRect().width) + " px wide");
			break;
		}
	}
	return probs;
}`

// TestWideTablesFitOnDesktop: on 1366 and 1920 px screens, no table of the
// report is wider than its box, however long the labels; the text
// columns of the failures keep a readable width.
func TestWideTablesFitOnDesktop(t *testing.T) {
	if testing.Short() {
		t.Skip("starts headless Chromium (seconds); runs without -short, as in CI")
	}
	browser := startBrowser(t, t)
	run := fixtureRun()
	run.Targets, run.Invalid, run.Complete = 40, 0, true
	opts := report.Options{Dir: t.TempDir(), Records: openRecord(t, labelledFleet()), Run: run, StaleAfter: audit.DefaultStaleAfter}
	renderHTML(t, opts)
	path := filepath.Join(opts.Dir, report.HTMLFile)
	for _, w := range []int64{1366, 1920} {
		tab := showAt(t, browser, path, w, 900)
		if probs := evalProblems(t, tab, tooWide); len(probs) > 0 {
			t.Errorf("%d px: %q", w, probs)
		}
	}
}
