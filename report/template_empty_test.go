package report_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/report"
)

// TestEmptyTemplateRefused: a --template file that is empty (a "> t.tmpl"
// that truncated it, say) rendered a report.html of 0 bytes, listed as
// written, with no warning. An empty file, one of white space alone, and
// one that can write nothing but white space whatever the data (a
// comment, definitions only) are refused by CheckTemplate and by Render,
// naming the file; Render writes nothing.
func TestEmptyTemplateRefused(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		content string
		want    string
	}{
		{"empty", "", "is empty"},
		{"white space", " \n\t\r\n  \n", "only white space"},
		{"a comment", "{{/* the report, some day */}}\n", "writes nothing"},
		{"definitions only", `{{define "row"}}<p>{{.InstanceID}}</p>{{end}}`, "writes nothing"},
		{"variables only", "{{$h := .Headline}}\n{{range .Failures.Rows}} {{end}}\n{{with .Changes}}{{else}}\t{{end}}", "writes nothing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".tmpl")
			if err := os.WriteFile(path, []byte(tt.content), 0o666); err != nil {
				t.Fatal(err)
			}
			err := report.CheckTemplate(path)
			if err == nil {
				t.Fatalf("CheckTemplate(%q) found no error", tt.content)
			}
			for _, w := range []string{path, tt.want} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("CheckTemplate error %q does not say %q", err, w)
				}
			}
			if !errors.Is(err, report.ErrTemplate) {
				t.Errorf("CheckTemplate error %v is not report.ErrTemplate", err)
			}
			opts := fixtureNamed(t, "mixed").options(t)
			opts.Template = path
			opts.Formats = []report.Format{report.FormatHTML}
			paths, err := report.Render(context.Background(), opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, report.ErrTemplate) {
				t.Errorf("Render = %q, %v; want report.ErrTemplate saying %q", paths, err, tt.want)
			}
			if entries, _ := os.ReadDir(opts.Dir); len(entries) != 0 {
				t.Errorf("a refused template left %d files", len(entries))
			}
		})
	}

	// A template that may write anything but white space is taken, however
	// little, and whatever it writes over the sample: a label the sample
	// has not, which a fleet may have.
	for _, content := range []string{"x", "{{.Headline}}", `{{define "row"}}<p>{{.InstanceID}}</p>{{end}}{{range .Failures.Rows}}{{template "row" .}}{{end}}`,
		`{{range .Failures.Rows}}{{.Labels.cost_centre}}{{end}}`} {
		path := filepath.Join(dir, "good.tmpl")
		if err := os.WriteFile(path, []byte(content), 0o666); err != nil {
			t.Fatal(err)
		}
		if err := report.CheckTemplate(path); err != nil {
			t.Errorf("CheckTemplate(%q): %v, want nil", content, err)
		}
	}
}
