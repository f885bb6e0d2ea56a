package report_test

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
)

// negativeMore is a count of rows left out that is below zero.
var negativeMore = regexp.MustCompile(`-[0-9][0-9,]* more`)

// mailLists are a mail's lists: the id of the HTML table, what its "N more"
// line calls the rows, and the rows the Model has of it.
func mailLists(m *report.Model) []struct {
	id, what string
	total    int
} {
	lists := []struct {
		id, what string
		total    int
	}{
		{"mail-fails", "kinds of failure", len(m.ErrorCodes)},
		{"mail-worst", "of the worst instances", len(m.WorstInstances)},
		{"mail-problems", "instances not audited", m.Problems.Count},
		{"mail-failures", "failed associations", m.Failures.Count},
		{"mail-stale", "stale associations", m.Stale.Count},
	}
	if m.Changes != nil {
		lists = append(lists, struct {
			id, what string
			total    int
		}{"mail-changes", "changes", m.Changes.Count})
	}
	return lists
}

// checkMailMore checks that every "N more" line of a mail, HTML and text,
// counts the list's rows that the mail leaves out: never below zero, and the
// list's total less the rows shown. It returns the rows shown of each list,
// by its table's id.
func checkMailMore(t *testing.T, m *report.Model, h, x string) map[string]int {
	t.Helper()
	for part, s := range map[string]string{"HTML": h, "text": x} {
		if got := negativeMore.FindString(s); got != "" {
			t.Errorf("the %s part says %q", part, got)
		}
	}
	doc := parseHTML(t, []byte(h))
	shown := map[string]int{}
	for _, l := range mailLists(m) {
		rows := 0
		if table := byID(doc, l.id); table != nil {
			rows = len(tableRows(table))
		}
		shown[l.id] = rows
		more := 0
		if e := byID(doc, l.id+"-more"); e != nil {
			n, _, _ := strings.Cut(strings.TrimSpace(text(e)), " ")
			var err error
			if more, err = strconv.Atoi(strings.ReplaceAll(n, ",", "")); err != nil {
				t.Errorf("#%s-more says %q", l.id, text(e))
			}
		}
		if want := l.total - rows; more != want {
			t.Errorf("%s: %d shown and %d more in the HTML, want %d more (%d in all)", l.id, rows, more, want, l.total)
		}
		textMore := 0
		re := regexp.MustCompile(`(?m)^  (-?[0-9,]+) more ` + regexp.QuoteMeta(l.what) + ` in `)
		if g := re.FindStringSubmatch(x); g != nil {
			textMore, _ = strconv.Atoi(strings.ReplaceAll(g[1], ",", ""))
		}
		if textMore != more {
			t.Errorf("%s: the text says %d more, the HTML %d", l.id, textMore, more)
		}
	}
	return shown
}

// TestMailListLengths checks how long a mail's lists are before the byte
// budget cuts them: the top lists and the list of instances not audited
// Settings.Top rows, and never more than Settings.HTMLMaxRows; the long
// lists (failed and stale associations) Settings.HTMLMaxRows rows, however
// short the top lists are.
func TestMailListLengths(t *testing.T) {
	// 20 instances with a failed association that is stale too, each
	// failing its own way, and 20 that could not be audited.
	const n = 20
	var fleet []audit.Result
	for i, r := range failingFleet(n) {
		r.Associations[0].ErrorCode = fmt.Sprintf("Code%02d", i)
		r.Associations[0].ExecutionDate = at(old)
		fleet = append(fleet, r)
	}
	for i := range n {
		fleet = append(fleet, audit.Result{
			AccountID: acct1, Region: east, InstanceID: fmt.Sprintf("i-%017x", 0x100+i), Outcome: audit.OutcomeError,
			AuditedAt: runStart, Error: &audit.Error{Code: "AccessDenied", Message: "not authorized"},
		})
	}
	tests := []struct {
		name         string
		top, maxRows int
		want         map[string]int
	}{
		{"default rows", 10, 0, map[string]int{"mail-fails": 10, "mail-worst": 10, "mail-problems": 10, "mail-failures": n, "mail-stale": n}},
		{"rows below top", 10, 3, map[string]int{"mail-fails": 10, "mail-worst": 10, "mail-problems": 3, "mail-failures": 3, "mail-stale": 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := build(t, fleet, fixtureRun(), func(o *report.Options) { o.Top, o.HTMLMaxRows = tt.top, tt.maxRows })
			if m.Failures.Count != n || m.Stale.Count != n || m.Problems.Count != n {
				t.Fatalf("%d failed, %d stale, %d not audited, want %d of each", m.Failures.Count, m.Stale.Count, m.Problems.Count, n)
			}
			h, x := mailBody(t, m, report.MailOptions{MaxBody: 10 << 20})
			got := checkMailMore(t, m, h, x)
			for id, want := range tt.want {
				if got[id] != want {
					t.Errorf("%s shows %d rows, want %d", id, got[id], want)
				}
			}
		})
	}
}
