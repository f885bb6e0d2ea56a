package report_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/report"
)

// changesLineRE finds the line under the HTML headline that says what
// changed, and footerRE the HTML's last line.
var (
	changesLineRE = regexp.MustCompile(`(?s)<div id="changes"[^>]*>(.*?)</div>`)
	footerRE      = regexp.MustCompile(`Sent by auditor [^<]*(?:<a [^>]*>[^<]*</a>[^<]*)?</td>`)
)

// TestMailSaysOnlyWhatIsAttached: the mail names as attached only the files
// that are (changes.csv never is, the workbook not when it was left out
// for size); of the others it says where the reports are.
func TestMailSaysOnlyWhatIsAttached(t *testing.T) {
	m, err := report.Build(context.Background(), datesOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		opts    report.MailOptions
		changes string // what the line of changes says of where they are; "" nothing
		whole   string // what the footer says has the lists whole; "" nothing
	}{
		{"workbook attached", report.MailOptions{Attached: []string{report.XLSXFile, report.ErrorCodesCSV}, ReportsAt: "s3://reports/weekly/"},
			"every change is in the Changes sheet of the attached report.xlsx", "the attached report.xlsx has them whole"},
		{"workbook left out", report.MailOptions{Attached: []string{report.ErrorCodesCSV}, ReportsAt: "s3://reports/weekly/"},
			"every change is in changes.csv of the reports at s3://reports/weekly/", "the reports there have them whole"},
		{"nothing attached, reports on the web", report.MailOptions{ReportsAt: "https://reports.example.com/weekly/"},
			"every change is in changes.csv of the reports at https://reports.example.com/weekly/", "the reports there have them whole"},
		// --format without csv: no changes.csv was written.
		{"workbook left out, no CSV written", report.MailOptions{Attached: []string{report.ErrorCodesCSV}, ReportsAt: "s3://reports/weekly/", Written: []string{report.XLSXFile, report.HTMLFile}},
			"every change is in the Changes sheet of report.xlsx of the reports at s3://reports/weekly/", "the reports there have them whole"},
		{"neither written", report.MailOptions{ReportsAt: "s3://reports/weekly/", Written: []string{report.HTMLFile, report.SummaryFile}},
			"", "the reports there have them whole"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, x := mailBody(t, m, tt.opts)
			line := changesLineRE.FindStringSubmatch(h)
			if line == nil {
				t.Fatal("no line of changes in the HTML")
			}
			if strings.Contains(line[1], "changes.csv and the Changes sheet") || !strings.Contains(line[1], tt.changes) {
				t.Errorf("HTML line of changes %q, want it to say %q", line[1], tt.changes)
			}
			if !strings.Contains(x, tt.changes) {
				t.Errorf("text does not say %q:\n%s", tt.changes, x)
			}
			if tt.changes == "" && (strings.Contains(line[1], "every change is in") || strings.Contains(x, "every change is in")) {
				t.Errorf("says where the changes are, of reports that hold none:\n%s\n%s", line[1], x)
			}
			footer := footerRE.FindString(h)
			if strings.Contains(footer, "; report.xlsx has them whole") || !strings.Contains(footer, tt.whole) {
				t.Errorf("HTML footer %q, want it to say %q", footer, tt.whole)
			}
		})
	}
}
