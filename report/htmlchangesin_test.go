package report_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/report"
)

// TestHTMLSaysWhereChangesAreOfItsFormats: report.html said that every
// change is in changes.csv and the Changes sheet of report.xlsx whatever
// --format wrote: with html alone, neither was there.
func TestHTMLSaysWhereChangesAreOfItsFormats(t *testing.T) {
	for _, tt := range []struct {
		name     string
		formats  []report.Format
		want     string // "" says nothing of where they are
		wantNone []string
	}{
		{"every format", nil, "every change is in changes.csv and the Changes sheet of report.xlsx", nil},
		{"html alone", []report.Format{report.FormatHTML}, "", []string{"changes.csv", "Changes sheet"}},
		{"csv and html", []report.Format{report.FormatCSV, report.FormatHTML}, "every change is in changes.csv", []string{"Changes sheet"}},
		{"xlsx and html", []report.Format{report.FormatXLSX, report.FormatHTML}, "every change is in the Changes sheet of report.xlsx", []string{"changes.csv"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := datesOptions(t)
			opts.Formats, opts.Dir = tt.formats, t.TempDir()
			if _, err := report.Render(context.Background(), opts); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(opts.Dir, report.HTMLFile))
			if err != nil {
				t.Fatal(err)
			}
			line := changesLineRE.FindSubmatch(b)
			if line == nil {
				t.Fatal("no line of changes in report.html: the test checks nothing")
			}
			got := string(line[1])
			if tt.want != "" && !strings.Contains(got, tt.want) {
				t.Errorf("line of changes %q, want %q", got, tt.want)
			}
			if tt.want == "" && strings.Contains(got, "every change is in") {
				t.Errorf("line of changes %q says where changes are, of reports that hold none", got)
			}
			for _, s := range tt.wantNone {
				if strings.Contains(got, s) {
					t.Errorf("line of changes %q names %q, not written", got, s)
				}
			}
		})
	}
}
