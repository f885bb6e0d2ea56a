package report_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
)

// TestFleetBarCountsTargetsWithoutResult: on a partial run the outcome bar
// is of the targets, with a grey "no result" part for those without one
// and its count under its swatch in Could not audit; it used to fill the whole width with
// the few results.
func TestFleetBarCountsTargetsWithoutResult(t *testing.T) {
	run := fixtureRun()
	run.Targets, run.Invalid, run.Complete = 40, 0, false
	results := labelledFleet()[:10]
	opts := report.Options{Dir: t.TempDir(), Records: openRecord(t, results), Run: run, StaleAfter: audit.DefaultStaleAfter}
	page := string(renderHTML(t, opts))
	bar := regexp.MustCompile(`(?s)<table id="fleet-bar".*?</table>`).FindString(page)
	if bar == "" {
		t.Fatal("no #fleet-bar")
	}
	sum := 0
	for _, m := range regexp.MustCompile(`<td width="(\d+)%"`).FindAllStringSubmatch(bar, -1) {
		var n int
		fmt.Sscan(m[1], &n)
		sum += n
	}
	if sum != 100 {
		t.Errorf("the bar's parts sum to %d%%, want 100", sum)
	}
	if !strings.Contains(bar, `title="No result: 30"`) || !strings.Contains(bar, `width="75%"`) {
		t.Errorf("the bar has no 75%% part for the 30 of 40 targets without a result:\n%s", bar)
	}
	// Could not audit is the legend of the bar's greys: a swatch of the
	// part's colour before the count.
	legend := regexp.MustCompile(`(?s)<div id="glance-no-result">.*?</div>`).FindString(page)
	if !strings.Contains(legend, "#8c959f") || !strings.Contains(legend, "30 targets") || !strings.Contains(bar, "#8c959f") {
		t.Errorf("no legend in the bar's grey counts the 30 targets without a result: %q", legend)
	}
	// A complete run has no such part.
	run.Targets, run.Complete = 10, true
	opts = report.Options{Dir: t.TempDir(), Records: openRecord(t, results), Run: run, StaleAfter: audit.DefaultStaleAfter}
	if page := string(renderHTML(t, opts)); strings.Contains(page, "No result:") || strings.Contains(page, `id="glance-no-result"`) {
		t.Error("a complete run's bar has a no result part")
	}
}
