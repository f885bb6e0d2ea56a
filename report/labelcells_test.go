package report_test

import (
	"bytes"
	"html/template"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/auditor-dev/auditor/report"
)

// TestLabelCellsDelimited: each label of an HTML cell is an element of its
// own, visibly boxed, and a value that holds the separators (", k=v"),
// quotes or nothing is quoted: "owner=alice, team=payments" cannot pass for
// two labels, nor an empty value for a value "(none)".
func TestLabelCellsDelimited(t *testing.T) {
	tmpl := template.Must(template.New("t").Funcs(report.HTMLFuncs()).Parse(`{{labels .}}`))
	for _, tt := range []struct {
		labels map[string]string
		want   []string
	}{
		{map[string]string{"owner": "alice, team=payments"}, []string{`owner="alice, team=payments"`}},
		{map[string]string{"owner": "web", "env": "prod"}, []string{"env=prod", "owner=web"}},
		{map[string]string{"owner": "", "team": "(none)"}, []string{`owner=""`, "team=(none)"}},
		{map[string]string{"note": `say "hi"`}, []string{`note="say \"hi\""`}},
	} {
		var b bytes.Buffer
		if err := tmpl.Execute(&b, tt.labels); err != nil {
			t.Fatal(err)
		}
		doc, err := html.Parse(strings.NewReader("<div>" + b.String() + "</div>"))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, n := range elements(doc) {
			if n.Data != "bdi" {
				continue
			}
			if class, _ := attr(n, "class"); class != "l" {
				t.Errorf("label %q is not of class l, which the page boxes (class %q)", text(n), class)
			}
			got = append(got, text(n))
		}
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("labels %v render as %q, want %q", tt.labels, got, tt.want)
		}
	}
	// The built-in page boxes each label.
	fx := noneLabelFixture()
	page := renderHTML(t, fx.options(t))
	if !regexp.MustCompile(`bdi\.l\{[^}]*border:1px solid`).Match(page) {
		t.Error("report.html does not box bdi.l")
	}
	doc := parseHTML(t, page)
	var boxed []string
	for _, n := range elements(doc) {
		if c, _ := attr(n, "class"); n.Data == "bdi" && c == "l" {
			boxed = append(boxed, text(n))
		}
	}
	if !slices.Contains(boxed, "owner=(none)") {
		t.Errorf("report.html labels %q: want owner=(none) boxed", boxed)
	}
}
