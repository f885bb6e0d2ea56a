package report

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/auditor-dev/auditor/audit"
)

// about describes the run and the report's settings in words, one Detail a
// line, for the HTML's "About this run" and the workbook's Summary alike.
// Run options it knows are said in words ("Rate": "fixed at 20 calls/s per
// account and region (mean 7.5 calls/s, all account-regions together)");
// any other option is named after its key, its value in words too (yes or
// no, a list's items).
func about(m *Model) []Detail {
	r := m.Run
	var ds []Detail
	add := func(label, value string) { ds = append(ds, Detail{Label: label, Value: value}) }

	add("Version", "auditor "+orNone(r.Version))
	ds = append(ds, Detail{Label: "Started", Value: dateWords(r.StartedAt), At: r.StartedAt})
	took := ""
	if r.Merged > 0 {
		// The time from the first run's start to the last one's end is no
		// run's duration.
		took = " (" + thousands(r.Merged) + " runs merged: the first start and the last end)"
	} else if d := elapsedWords(r.StartedAt, r.EndedAt); d != "" {
		took = " (took " + d + ")"
	} else if r.StartedAt != nil && r.EndedAt != nil && r.EndedAt.Before(*r.StartedAt) {
		// Started is the first attempt's start, the run's name for the
		// runs compared with it: a resume once a clock ahead was put right
		// ends before it, and an end before a start with no word on why
		// reads as a broken report.
		took = " (before the start above, the first attempt's: a clock was moved between attempts)"
	}
	ds = append(ds, Detail{Label: "Ended", Value: dateWords(r.EndedAt) + took, At: r.EndedAt, Rest: strings.TrimSpace(took)})
	add("State", stateWords(m))
	if r.Error != "" {
		add(r.ErrorLabel(), r.Error)
	}
	if len(r.Unaudited) > 0 {
		add("Not audited", sitesWords(r.Unaudited))
	}
	if len(r.ListedInPart) > 0 {
		add("Listed in part", listedWords(r.ListedInPart))
	}
	if len(r.StoppedPartWay) > 0 {
		add("Stopped part way", stoppedWords(r.StoppedPartWay))
	}
	if len(r.WithoutInfo) > 0 {
		add("Instance information", "not read in "+sitesWords(r.WithoutInfo)+"; their instances were audited without it")
	}
	add("Targets", instancesWords(m))
	s := r.Stats
	opts := r.Options
	add(callsLabel(r), fmt.Sprintf("%s for %s; %s throttled, %s",
		plural(int(s.Calls), "call", "calls"), plural(int(s.Pages), "page", "pages"),
		thousands(int(s.Throttled)), plural(int(s.Retries), "retry", "retries")))

	add("Rate", rateWords(opts["rate"], s))
	stale := m.Settings.StaleAfter
	switch st := m.Settings; {
	case st.StaleBefore != nil:
		stale += " (stale: last run before " + cutoffWords(st.StaleBefore) + ", or never)"
	case st.StaleBeforeEarliest != nil:
		// A resumed run, or a merge: each attempt's reads are judged
		// from its start. Dates that read alike are said once.
		first, last := cutoffWords(st.StaleBeforeEarliest), cutoffWords(st.StaleBeforeLatest)
		if first == last {
			stale += " before the attempt that read each instance started (stale: last run before " + first + ", or never)"
		} else {
			stale += " before the attempt that read each instance started (stale: last run before " + first +
				" for the first attempt, " + last + " for the last, or never)"
		}
	case st.StaleAfterSeconds > 0:
		stale += " before the attempt that read each instance started (stale: last run earlier, or never)"
	}
	add("Stale after", stale)
	add("Report", fmt.Sprintf("top %s in each top list; at most %s rows per table in report.html",
		thousands(m.Settings.Top), thousands(m.Settings.HTMLMaxRows)))

	// What this report was compared with, not the run's --baseline: a
	// record rendered again is compared with the baseline of that
	// rendering, or with none.
	asked, _ := opts["baseline"].(string)
	switch c := m.Changes; {
	case c != nil && c.Since != nil:
		add("Baseline", c.Baseline+" (the run of "+DateText(*c.Since)+")")
	case c != nil:
		add("Baseline", c.Baseline)
	case asked != "":
		add("Baseline", "none in this report (the run's --baseline: "+asked+")")
	}

	// The options that have words of their own; the rest follow by key.
	known := map[string]func(v any) (string, bool){
		"baseline":      nil, // said above
		"rate":          nil, // said above
		"stale_after":   nil, // Settings say what the report applied
		"concurrency":   count("instance audited at once", "instances audited at once"),
		"max_results":   count("row asked per page", "rows asked per page"),
		"max_pages":     count("page per instance at most", "pages per instance at most"),
		"max_attempts":  count("attempt per call at most", "attempts per call at most"),
		"html_max_rows": nil, // the Report line says what was applied
		"skip_invalid":  flag("input lines that are not instance IDs were recorded and skipped", ""),
		"resume":        flag("continued an earlier run's record", ""),
		"instances":     listNames,
		"region":        regionWords(m),
		// Each filter holds commas of its own (Key=NAME,Values=V1,V2).
		"filter": func(v any) (string, bool) { return listWords(v, "; ") },
		// The setting beside the endpoint it gave: AWS_ENDPOINT_URL or a
		// profile's endpoint_url is the machine's, and no reader of the
		// report could tell otherwise that it was not AWS that answered.
		"endpoint_url": func(v any) (string, bool) {
			if from, _ := opts["endpoint_from"].(string); from != "" {
				return optionText(v) + " (set by " + from + ")", true
			}
			return optionText(v), true
		},
		"endpoint_from": nil, // said with endpoint_url
	}
	labels := map[string]string{
		"concurrency": "Concurrency", "max_results": "Page size", "max_pages": "Page limit",
		"max_attempts": "Call attempts", "skip_invalid": "Invalid input",
		"resume": "Resume", "endpoint_url": "Endpoint", "fail_on": "Fail on", "format": "Formats",
		"instances": "Instance lists", "instance_id": "Instance IDs", "role_arn": "Role ARN",
	}
	words := func(k string, v any) (label, value string, ok bool) {
		say, isKnown := known[k]
		if isKnown && say == nil {
			return "", "", false
		}
		label = labels[k]
		if label == "" {
			label = strings.ToUpper(k[:min(1, len(k))]) + strings.ReplaceAll(k[min(1, len(k)):], "_", " ")
		}
		ok = true
		if isKnown {
			value, ok = say(v)
		} else {
			value = optionText(v)
		}
		return label, value, ok && value != ""
	}
	for _, k := range slices.Sorted(maps.Keys(opts)) {
		if label, value, ok := words(k, opts[k]); ok {
			add(label, value)
		}
	}
	// The options above are the last attempt's: those the earlier ran
	// with, and it did not, are said apart, each value in words, even
	// those that the lines above leave out (a value said elsewhere, a
	// flag that is off): here, no other line says them.
	earlierWords := map[string]func(v any) (string, bool){
		"rate": func(v any) (string, bool) {
			if rate, ok := number(v); ok && rate > 0 {
				return "fixed at " + decimal(rate) + " calls/s per account and region", true
			} else if ok {
				return "adaptive", true
			}
			return optionText(v), true
		},
		"skip_invalid":  flag("input lines that are not instance IDs were recorded and skipped", "not skipped, a line that is not an instance ID stopped the run"),
		"stale_after":   func(v any) (string, bool) { return optionText(v), true },
		"html_max_rows": count("row per table in report.html at most", "rows per table in report.html at most"),
	}
	earlierLabels := map[string]string{"rate": "Rate", "stale_after": "Stale after", "html_max_rows": "Rows per table"}
	var earlier []string
	for _, k := range slices.Sorted(maps.Keys(r.EarlierOptions)) {
		if k == "endpoint_from" {
			continue // said with endpoint_url
		}
		for i, v := range r.EarlierOptions[k] {
			label, value, _ := words(k, v)
			if say, ok := earlierWords[k]; ok {
				label = earlierLabels[k]
				if label == "" {
					label, _, _ = words(k, true)
				}
				value, _ = say(v)
			}
			if k == "endpoint_url" {
				// Each endpoint with the setting that gave it: the i-th
				// of endpoint_from goes with the i-th of endpoint_url
				// (audit.RunInfo.EarlierOptions).
				value = optionText(v)
				froms := r.EarlierOptions["endpoint_from"]
				if from, _ := at(froms, i).(string); from != "" && len(froms) == len(r.EarlierOptions[k]) && v != nil {
					value += " (set by " + from + ")"
				}
			}
			switch {
			case v == nil && k == "endpoint_url":
				value = "none recorded"
			case v == nil && k == "endpoint_variant":
				// Left out for the plain endpoint, and by a release
				// that did not record it.
				value = "none recorded (the plain endpoint, or a release that did not record it)"
			case v == nil:
				value = "not recorded"
			case value == "":
				value = optionText(v)
			}
			earlier = append(earlier, label+": "+value)
		}
	}
	if len(earlier) > 0 {
		add("Earlier attempts", "ran with "+strings.Join(earlier, "; ")+" (the options above are the last attempt's)")
	}
	ds = append(ds, recordDetails(m)...)
	return ds
}

// at returns vs[i], or nil past its end.
func at(vs []any, i int) any {
	if i < len(vs) {
		return vs[i]
	}
	return nil
}

// callsLabel labels the API calls of r: a resumed run's run.json counts
// those of its last attempt alone (the earlier ones' were never all kept:
// an attempt killed before its run.json kept none), a merge's sums those
// of its runs.
func callsLabel(r Run) string {
	// The attempts a run made, not --resume, which may have found
	// nothing to resume; a merge's attempts are its runs' together, each
	// of one attempt or more.
	resumed := r.Resumed > 0 || len(r.EarlierOptions) > 0 || (r.Merged == 0 && r.attempts > 1)
	switch {
	case resumed && r.Merged > 0:
		return "API calls (the last attempt of each run)"
	case resumed:
		return "API calls (the last attempt)"
	}
	return "API calls"
}

// rateWords says how fast the run called SSM: the rate option (opt, as
// run.json holds it) and the stats. Their figures are not alike: the mean
// (Stats.Rate) is of the whole run, every account-region together, while a
// limit (the fixed rate, LimiterPeak, LimiterCutRate) is one
// account-region's, so a mean beside a limit says so. An adaptive limit
// that throttling never cut is only how far the limiter's start had grown,
// whatever the calls did (a discovery of a few calls, one a region, has a
// mean above it): it is left unsaid, as no rate the run reached, and so is
// LimiterRate, which counts such limits. Once cut, the limit is what SSM
// let through.
func rateWords(opt any, s audit.Stats) string {
	mean := fmt.Sprintf("mean %s calls/s", decimal(s.Rate))
	together := " (" + mean + ", all account-regions together)"
	if rate, ok := number(opt); ok && rate > 0 {
		return "fixed at " + decimal(rate) + " calls/s per account and region" + together
	}
	switch {
	case s.LimiterPeak > 0:
		end := ""
		if s.LimiterCutRate > 0 {
			end = ", " + decimal(s.LimiterCutRate) + " at the end"
		}
		return fmt.Sprintf("adaptive, cut for throttling: its limit was at most %s calls/s per account and region after the first cut%s",
			decimal(s.LimiterPeak), end) + together
	case s.Throttled == 1:
		return "adaptive, throttled once but never cut (" + mean + ")"
	case s.Throttled > 0:
		return "adaptive, throttled " + thousands(int(s.Throttled)) + " times but never cut (" + mean + ")"
	}
	return "adaptive, never throttled (" + mean + ")"
}

func dateWords(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format(dateLayout)
}

// cutoffWords is dateWords for a stale cut-off: exact (see cutoffText).
func cutoffWords(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "unknown"
	}
	return cutoffText(*t)
}

func elapsedWords(start, end *time.Time) string {
	if start == nil || end == nil || end.Before(*start) {
		return ""
	}
	return roundDuration(end.Sub(*start)).String()
}

func stateWords(m *Model) string {
	r := m.Run
	var s string
	switch {
	case r.Interrupted:
		s = "interrupted: the figures cover the instances audited before it stopped"
	case r.Complete:
		s = "complete"
	default:
		s = "incomplete"
		// Counted as the closing lines count them: in error, and left.
		var parts []string
		if n := m.Totals.Outcomes[audit.OutcomeError]; n > 0 {
			parts = append(parts, plural(n, "instance", "instances")+" could not be audited (error)")
		}
		if n := m.Totals.WithoutResult; n > 0 {
			parts = append(parts, plural(n, "target", "targets")+" without a result")
		}
		if len(parts) > 0 {
			s += ": " + strings.Join(parts, ", ")
		}
	}
	if sh := shardWords(r.Shards); sh != "" {
		s += "; " + sh + " of the list only, not the whole list"
	}
	if r.Resumed > 0 {
		s += "; " + plural(r.Resumed, "result", "results") + " resumed from an earlier run"
	}
	return s
}

func instancesWords(m *Model) string {
	r := m.Run
	s := plural(m.Totals.Instances, "instance", "instances") + " in the record"
	if r.Targets > 0 && r.Targets != m.Totals.Instances {
		s += " of " + plural(r.Targets, "target", "targets")
	}
	if r.Duplicates > 0 {
		s += "; " + plural(r.Duplicates, "duplicate input line", "duplicate input lines") + " merged"
	}
	if r.Invalid > 0 {
		s += "; " + plural(r.Invalid, "input line", "input lines") + " not an instance ID"
	}
	return s
}

// regionWords says the run's region option, and where the results are
// when that is not (only) there: the option is the default region, and a
// CSV list, a discovery or a merge of runs can hold others.
func regionWords(m *Model) func(any) (string, bool) {
	return func(v any) (string, bool) {
		opt := optionText(v)
		seen := map[string]bool{}
		for _, l := range m.Locations {
			if l.Region != "" {
				seen[l.Region] = true
			}
		}
		regions := slices.Sorted(maps.Keys(seen))
		switch {
		case len(regions) == 0 || len(regions) == 1 && regions[0] == opt:
			return opt, true
		case len(regions) == 1:
			return opt + " by default; the results are in " + orNone(regions[0]), true
		}
		shown := regions[:min(len(regions), 5)]
		s := opt + " by default; the results are in " + plural(len(regions), "region", "regions") + ": " + strings.Join(shown, ", ")
		if len(regions) > len(shown) {
			s += ", …"
		}
		return s, true
	}
}

// number reads a run option as a number: an int when the run passed it in
// memory, a float64 once run.json was read back.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// decimal writes f with at most one decimal, and none when it is whole.
func decimal(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "0"
	}
	return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64)
}

// count says a whole-number option as the number and the words that go
// with it: one after 1, many after any other number ("1 page per instance
// at most", "1,000 pages per instance at most").
func count(one, many string) func(any) (string, bool) {
	return func(v any) (string, bool) {
		n, ok := number(v)
		if !ok || n != math.Trunc(n) {
			return optionText(v), true
		}
		return plural(int(n), one, many), true
	}
}

// flag says a yes-or-no option; an empty text leaves the line out.
func flag(yes, no string) func(any) (string, bool) {
	return func(v any) (string, bool) {
		b, ok := v.(bool)
		if !ok {
			return optionText(v), true
		}
		if b {
			return yes, yes != ""
		}
		return no, no != ""
	}
}

// listNames says which --instances lists a run read: their file names
// (not where they are on the machine that ran it), standard input for -.
func listNames(v any) (string, bool) {
	names, ok := stringList(v)
	if !ok {
		return "", false
	}
	for i, n := range names {
		if n == "-" {
			names[i] = "standard input"
		} else {
			names[i] = filepath.Base(n)
		}
	}
	return strings.Join(names, ", "), len(names) > 0
}

// stringList reads a list option: a []string when the run passed it in
// memory, a []any of strings once run.json was read back. ok is false when
// v is no such list.
func stringList(v any) (items []string, ok bool) {
	switch l := v.(type) {
	case []string:
		return slices.Clone(l), true
	case []any:
		for _, x := range l {
			s, ok := x.(string)
			if !ok {
				return nil, false
			}
			items = append(items, s)
		}
		return items, true
	}
	return nil, false
}

// listWords says a list option as its items in order, joined by sep; false
// when v is no list of strings, or an empty one.
func listWords(v any, sep string) (string, bool) {
	items, ok := stringList(v)
	return strings.Join(items, sep), ok && len(items) > 0
}

// optionText renders a run option in words: a string as it is, a yes-or-no
// option as yes or no, a list of strings as its items joined by ", ", a
// number as it is; anything else as JSON.
func optionText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		if x {
			return "yes"
		}
		return "no"
	}
	if items, ok := stringList(v); ok {
		return strings.Join(items, ", ")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// sitesWords names account-regions and their codes, the first five of
// them.
func sitesWords(sites []Site) string {
	return sitesSaying(sites, func(s Site) string { return orNone(s.Code) })
}

// listedWords names account-regions listed in part, with how many of their
// nodes were audited and the code that stopped each listing, the first
// five of them.
func listedWords(sites []Site) string {
	return sitesSaying(sites, func(s Site) string {
		return "listed in part: " + plural(s.Audited, "node", "nodes") + " audited before the listing failed, " + orNone(s.Code)
	})
}

// stoppedWords names account-regions stopped part way, with how many of
// their instances were audited and the code that stopped each, the first
// five of them.
func stoppedWords(sites []Site) string {
	return sitesSaying(sites, func(s Site) string {
		return "stopped part way: " + plural(s.Audited, "instance", "instances") + " audited before it failed, nothing known of the rest, " + orNone(s.Code)
	})
}

// sitesSaying names account-regions, each with what why says of it in
// brackets, the first five of them.
func sitesSaying(sites []Site, why func(Site) string) string {
	const shown = 5
	var parts []string
	for _, s := range sites[:min(len(sites), shown)] {
		region := s.Region
		if region == "" {
			region = "every region"
		}
		parts = append(parts, fmt.Sprintf("%s %s (%s)", orNone(s.AccountID), region, why(s)))
	}
	out := plural(len(sites), "account-region", "account-regions") + ": " + strings.Join(parts, ", ")
	if len(sites) > shown {
		out += fmt.Sprintf(", and %s more in run.json", thousands(len(sites)-shown))
	}
	return out
}

// ErrorLabel names Error where the reports show it: "Stopped by" for what
// stopped the run, "Why partial" for what the record works out of itself
// (account-regions that failed, targets without a result, a merge's
// missing shards, records with no run.json beside them), which stopped
// nothing: "Stopped by: no run.json beside ..." read as a stop.
func (r Run) ErrorLabel() string {
	if audit.WorkedOut(r.Error) {
		return "Why partial"
	}
	return "Stopped by"
}
