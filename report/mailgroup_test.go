package report_test

import (
	"context"
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/report"
)

// headlineRE finds the text of the mail's HTML headline.
var headlineRE = regexp.MustCompile(`(?s)<h1 id="headline"[^>]*>(.*?)</h1>`)

// TestMailNamesItsGroup: the mail of one group of a split names the group,
// its label and value or that it has none, in its default subject and in
// the headline of both parts, so that an owner of two groups tells their
// mails apart, and the mail of the group of no value does not pass for
// the whole fleet's. A subject of the user's can name it too. A value is
// text from outside: no bidi control, one line in the text and the
// subject, escaped in HTML.
func TestMailNamesItsGroup(t *testing.T) {
	m, err := report.Build(context.Background(), datesOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		group *report.MailGroup
		want  string // the group's name, as the text part says it
		html  string // as the HTML's headline holds it, escaped
	}{
		{"a value", &report.MailGroup{Label: "team", Value: "payments"}, "team payments", "team payments"},
		{"no value", &report.MailGroup{Label: "team"}, "team (no value)", "team (no value)"},
		{"hostile value", &report.MailGroup{Label: "team", Value: "pay\u202ements<b>x</b>\r\nBcc: x@example.com"},
			// Quoted, its controls written as Go escapes them: no
			// reader takes it for another value, nor a header.
			`team "pay\u202ements<b>x</b>\r\nBcc: x@exampl… #9dc2c9`, `team &#34;pay\u202ements&lt;b&gt;x&lt;/b&gt;`},
		{"long value", &report.MailGroup{Label: "team", Value: strings.Repeat("p", 100)}, "team " + strings.Repeat("p", 40) + "… #abd3b1", "team " + strings.Repeat("p", 40) + "… #abd3b1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			subject, err := report.MailSubject("", m, tt.group)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(subject, tt.want+": ") {
				t.Errorf("subject %q does not start with %q", subject, tt.want+": ")
			}
			h, x := mailBody(t, m, report.MailOptions{Group: tt.group})
			if first, _, _ := strings.Cut(x, "\n"); first != tt.want+": "+m.Headline {
				t.Errorf("text's first line %q, want %q", first, tt.want+": "+m.Headline)
			}
			hl := headlineRE.FindStringSubmatch(h)
			if hl == nil {
				t.Fatalf("no headline in the HTML")
			}
			if !strings.Contains(hl[1], tt.html) || !strings.Contains(hl[1], html.EscapeString(m.Headline)) {
				t.Errorf("HTML headline %q does not name %q with %q", hl[1], tt.html, m.Headline)
			}
			for part, s := range map[string]string{"subject": subject, "html": h, "text": x} {
				if strings.ContainsRune(s, '\u202e') {
					t.Errorf("%s holds the value's bidi control", part)
				}
			}
			if strings.Contains(h, "<b>x") {
				t.Error("the HTML holds the value's markup unescaped")
			}
		})
	}
	t.Run("the whole run", func(t *testing.T) {
		subject, err := report.MailSubject("", m, nil)
		if err != nil {
			t.Fatal(err)
		}
		h, x := mailBody(t, m, report.MailOptions{})
		if first, _, _ := strings.Cut(x, "\n"); first != m.Headline || strings.Contains(subject, "team") || !strings.Contains(h, ">"+html.EscapeString(m.Headline)+"</h1>") {
			t.Errorf("a mail of no group: subject %q, text's first line %q, want the headline alone", subject, first)
		}
	})
	t.Run("a subject of the user's", func(t *testing.T) {
		got, err := report.MailSubject("{{with .Group}}[{{.Label}}={{.Value}}] {{end}}{{num .Totals.Audited}} audited", m, &report.MailGroup{Label: "team", Value: "payments"})
		if err != nil {
			t.Fatal(err)
		}
		if want := "[team=payments] 4 audited"; got != want {
			t.Errorf("subject %q, want %q", got, want)
		}
	})
}

// TestMailGroupNamesApart: a group whose value reads as another's name
// ("(no value)", a space, two values alike for 40 characters) got the
// other's name in its mail: an owner could not tell them apart, nor from
// the group of no value's. And {{.Group}} of a whole run's mail printed
// "<nil>".
func TestMailGroupNamesApart(t *testing.T) {
	long := strings.Repeat("p", 40)
	names := map[string]string{}
	for _, g := range []*report.MailGroup{
		{Label: "owner"},
		{Label: "owner", Value: "(no value)"},
		{Label: "owner", Value: " "},
		{Label: "owner", Value: "alice "},
		{Label: "owner", Value: "alice"},
		{Label: "owner", Value: long + "-payments"},
		{Label: "owner", Value: long + "-search"},
	} {
		s := g.String()
		if other, ok := names[s]; ok {
			t.Errorf("values %q and %q are both named %q", other, g.Value, s)
		}
		names[s] = g.Value
	}
	if got := (*report.MailGroup)(nil).String(); got != "" {
		t.Errorf("no group: %q, want nothing", got)
	}
	m, err := report.Build(context.Background(), datesOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := report.MailSubject("[{{.Group}}] {{.Scope}}", m, nil); err != nil || strings.Contains(got, "nil") {
		t.Errorf("a whole run's mail: %q, %v; want no group named", got, err)
	}
	// As the subject shows them: bidi controls dropped, spaces folded.
	for _, pair := range [][2]string{{"a b", "a  b"}, {"a b", "a\tb"}, {"ab", "a\u202eb"}, {"ab", "a\u200bb"}} {
		var subjects [2]string
		for i, v := range pair {
			if subjects[i], err = report.MailSubject("{{.Group}}", m, &report.MailGroup{Label: "team", Value: v}); err != nil {
				t.Fatal(err)
			}
		}
		if subjects[0] == subjects[1] {
			t.Errorf("values %q and %q both give the subject %q", pair[0], pair[1], subjects[0])
		}
	}
}
