package report_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
)

// TestSplitGroupNamed: a group's report.html and workbook name the group
// in the title, the headline and the Summary, and say its targets are the
// group's, not the list's.
func TestSplitGroupNamed(t *testing.T) {
	results := labelledFleet()[:6]
	run := fixtureRun()
	run.Targets, run.Invalid, run.Complete = 6, 0, true
	opts := report.Options{Dir: t.TempDir(), Records: openRecord(t, results), Run: run, StaleAfter: audit.DefaultStaleAfter,
		Formats: []report.Format{report.FormatHTML, report.FormatXLSX}}
	groups, err := report.Split(context.Background(), opts, "team")
	if err != nil {
		t.Fatal(err)
	}
	var dir string
	for _, g := range groups {
		if g.Value == "payments-settlement-reconciliation" {
			dir = g.Dir
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, report.HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	const name = "team payments-settlement-reconciliation"
	title := regexp.MustCompile(`(?s)<title>(.*?)</title>`).FindStringSubmatch(page)
	if title == nil || !strings.Contains(title[1], name) {
		t.Errorf("the title does not name the group: %q", title)
	}
	h1 := regexp.MustCompile(`(?s)<h1 id="headline"[^>]*>(.*?)</h1>`).FindStringSubmatch(page)
	if h1 == nil || !strings.Contains(h1[1], name) {
		t.Errorf("the headline does not name the group: %q", h1)
	}
	if strings.Contains(page, "in the list") {
		t.Error("a group's report says its targets are in the list")
	}
	if !strings.Contains(page, "3 targets of the list in this group") {
		t.Error("a group's report does not count its targets as the group's")
	}
	f, err := excelize.OpenFile(filepath.Join(dir, report.XLSXFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("Summary")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range rows {
		if len(r) > 1 && r[0] == "Group" && r[1] == name {
			found = true
		}
		if len(r) > 0 && strings.Contains(r[0], "in the list") {
			t.Errorf("Summary row %q says the targets are the list's", r)
		}
	}
	if !found {
		t.Errorf("no Group row %q on Summary: %q", name, rows[:min(len(rows), 6)])
	}
}
