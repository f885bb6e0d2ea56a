package report_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
)

// siteResults is n results of account east, the first verdicts of them
// compliant and the rest in error, as one account-region's instances are.
func siteResults(account string, n, verdicts int, at time.Time) []audit.Result {
	var out []audit.Result
	for i := range n {
		r := ownedResult(fmt.Sprintf("i-%017x", i+1), "alice", audit.StatusSuccess, at)
		r.AccountID = account
		if i >= verdicts {
			r.Outcome, r.Associations = audit.OutcomeError, nil
			r.Error = &audit.Error{Code: "InternalFailure", Message: "server error"}
		}
		out = append(out, r)
	}
	return out
}

// runSites renders results with run as summary.json, report.html and the
// text mail, and returns summary.json's "run", the HTML's partial banner and
// run details, and the text mail.
func runSites(t *testing.T, run audit.RunInfo, results []audit.Result) (map[string]any, string, string) {
	t.Helper()
	opts := report.Options{Dir: t.TempDir(), Run: run, Records: openRecord(t, results),
		Formats: []report.Format{report.FormatJSON, report.FormatHTML}, StaleAfter: audit.DefaultStaleAfter}
	if _, err := report.Render(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(opts.Dir, report.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	var summary struct{ Run map[string]any }
	if err := json.Unmarshal(b, &summary); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(opts.Dir, report.HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	doc := parseHTML(t, raw)
	page := text(byID(doc, "partial")) + "\n" + text(byID(doc, "run"))
	m, err := report.Build(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	_, mail := mailBody(t, m, report.MailOptions{})
	return summary.Run, page, mail
}

// sitesNamed returns summary.json's run list key as "ACCOUNT REGION
// audited=N" lines; none, and an error, when it is not a list.
func sitesNamed(t *testing.T, run map[string]any, key string) []string {
	t.Helper()
	list, ok := run[key].([]any)
	if !ok {
		t.Errorf("summary.json's run.%s is %#v, want a list", key, run[key])
		return nil
	}
	var out []string
	for _, v := range list {
		s := v.(map[string]any)
		n, _ := s["audited"].(float64)
		out = append(out, fmt.Sprintf("%s %s audited=%d", s["account_id"], s["region"], int(n)))
	}
	return out
}

// TestStoppedPartWay: an account-region whose endpoint was given up on
// part way (the circuit: five instances in a row ended in a server error),
// after its listing or in a run that lists nothing, was told "Not audited,
// so nothing in it is known" in every report, beside the results of it
// that the record holds and that every total counts. It is told as stopped
// part way, with its instances audited; one of which the record holds no
// verdict (a role refused: each of its instances in error) is still not
// audited.
func TestStoppedPartWay(t *testing.T) {
	at := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	const acct = "111111111111"
	down := &audit.Error{Code: "InternalFailure", Message: "5 instances in a row ended in a server error"}
	refused := &audit.Error{Code: "AccessDenied", Message: "refused"}
	tests := []struct {
		name        string
		discover    bool
		site        audit.SiteStats
		results     []audit.Result
		unaudited   []string
		stopped     []string
		say, notSay string
	}{
		{name: "circuit after the listing", discover: true,
			site:    audit.SiteStats{AccountID: acct, Region: "us-east-1", Targets: 5, Results: 4, Discovered: 5, Listed: true, Error: down, Unreachable: true},
			results: siteResults(acct, 4, 3, at),
			stopped: []string{acct + " us-east-1 audited=3"},
			say:     "stopped part way: 3 instances audited before it failed, nothing known of the rest (InternalFailure: 5 instances in a row ended in a server error)",
			notSay:  "Not audited"},
		{name: "circuit in a list run",
			site:    audit.SiteStats{AccountID: acct, Region: "us-east-1", Targets: 5, Results: 4, Error: down, Unreachable: true},
			results: siteResults(acct, 4, 3, at),
			stopped: []string{acct + " us-east-1 audited=3"},
			say:     "stopped part way: 3 instances audited before it failed, nothing known of the rest (InternalFailure: 5 instances in a row ended in a server error)",
			notSay:  "Not audited"},
		{name: "role refused in a list run",
			site:      audit.SiteStats{AccountID: acct, Region: "us-east-1", Targets: 2, Results: 2, Error: refused},
			results:   siteResults(acct, 2, 0, at),
			unaudited: []string{acct + " us-east-1 audited=0"},
			say:       "Not audited, so nothing in it is known",
			notSay:    "stopped part way"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := audit.RunInfo{StartedAt: at, Targets: tt.site.Targets, Error: "1 account-region could not be audited",
				Sites: []audit.SiteStats{tt.site}, Options: map[string]any{"discover": tt.discover}}
			got, page, mail := runSites(t, run, tt.results)
			for key, want := range map[string][]string{"unaudited": tt.unaudited, "stopped_part_way": tt.stopped, "listed_in_part": nil} {
				if g := sitesNamed(t, got, key); strings.Join(g, "; ") != strings.Join(want, "; ") {
					t.Errorf("summary.json's run.%s is %q, want %q", key, g, want)
				}
			}
			for what, s := range map[string]string{"report.html": page, "the text mail": mail} {
				flat := strings.Join(strings.Fields(s), " ")
				if !strings.Contains(flat, tt.say) {
					t.Errorf("%s does not say %q:\n%s", what, tt.say, flat)
				}
				if strings.Contains(flat, tt.notSay) {
					t.Errorf("%s says %q:\n%s", what, tt.notSay, flat)
				}
			}
		})
	}
}

// TestSplitKeepsStoppedPartWay: each group of a split tells an
// account-region stopped part way as the run's reports do, with the run's
// count, whether or not it holds any of its instances; by account name,
// its account's group counts it as no unaudited account-region.
func TestSplitKeepsStoppedPartWay(t *testing.T) {
	at := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	const mgmt, prod = "111111111111", "222222222222"
	down := &audit.Error{Code: "InternalFailure", Message: "5 instances in a row ended in a server error"}
	sites := []audit.SiteStats{
		{AccountID: mgmt, AccountName: "Management", Region: "us-east-1", Targets: 3, Results: 2, Error: down, Unreachable: true},
		{AccountID: prod, AccountName: "Production", Region: "us-east-1", Targets: 1, Results: 1},
	}
	results := siteResults(mgmt, 2, 1, at)
	bob := ownedResult("i-0000000000000000b", "bob", audit.StatusFailed, at)
	bob.AccountID = prod
	results = append(results, bob)
	for i, name := range []string{"Management", "Management", "Production"} {
		results[i].Labels[audit.AccountNameLabel] = name
	}
	for _, label := range []string{"owner", audit.AccountNameLabel} {
		t.Run(label, func(t *testing.T) {
			run := audit.RunInfo{StartedAt: at, Targets: 4, Error: "1 account-region could not be audited", Sites: sites}
			opts := report.Options{Dir: t.TempDir(), Run: run, Records: openRecord(t, results), Formats: []report.Format{report.FormatJSON}}
			groups, err := report.Split(context.Background(), opts, label)
			if err != nil {
				t.Fatal(err)
			}
			if len(groups) != 2 {
				t.Fatalf("%d groups, want 2: %+v", len(groups), groups)
			}
			for _, g := range groups {
				if g.Unaudited != 0 {
					t.Errorf("group %q counts %d account-regions unaudited, want 0", g.Value, g.Unaudited)
				}
				b, err := os.ReadFile(filepath.Join(g.Dir, report.SummaryFile))
				if err != nil {
					t.Fatal(err)
				}
				var summary struct{ Run map[string]any }
				if err := json.Unmarshal(b, &summary); err != nil {
					t.Fatal(err)
				}
				for key, want := range map[string]string{"unaudited": "", "stopped_part_way": mgmt + " us-east-1 audited=1"} {
					if got := strings.Join(sitesNamed(t, summary.Run, key), "; "); got != want {
						t.Errorf("group %q: run.%s is %q, want %q", g.Value, key, got, want)
					}
				}
			}
		})
	}
}
