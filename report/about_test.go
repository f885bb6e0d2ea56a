package report_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
)

// TestAboutRate: the Rate line says what each figure of run.json's stats
// is. limiter_rate is the limit an account-region was paced by at the end
// and limiter_peak the highest after a cut for throttling, each for one
// account-region; rate is the mean of the whole run, every account-region
// together. An adaptive limit that was never cut is no rate the run
// reached: a discovery that found no node made 3 calls, one per region, at
// 53.5 calls/s together, while each region's limit had grown to 20.5.
func TestAboutRate(t *testing.T) {
	for _, tt := range []struct {
		name  string
		rate  any // the rate option, as run.json holds it
		stats audit.Stats
		want  string
	}{
		{"fixed", 20.0, audit.Stats{Calls: 14, Rate: 7.5, LimiterRate: 20},
			"fixed at 20 calls/s per account and region (mean 7.5 calls/s, all account-regions together)"},
		{"adaptive, never throttled", 0.0, audit.Stats{Calls: 3, Rate: 53.5, LimiterRate: 20.5},
			"adaptive, never throttled (mean 53.5 calls/s)"},
		{"adaptive, cut for throttling", 0.0, audit.Stats{Calls: 900, Throttled: 12, Rate: 36.2, LimiterRate: 41, LimiterPeak: 45.25, LimiterCutRate: 41},
			"adaptive, cut for throttling: its limit was at most 45.3 calls/s per account and region after the first cut, 41 at the end (mean 36.2 calls/s, all account-regions together)"},
		// Another account-region, never cut, grew to 57 and ended there:
		// the cut ones ended at 12 at most.
		{"adaptive, cut, an uncut account-region ended higher", 0.0, audit.Stats{Calls: 2000, Throttled: 40, Rate: 70.1, LimiterRate: 57, LimiterPeak: 14.6, LimiterCutRate: 12},
			"adaptive, cut for throttling: its limit was at most 14.6 calls/s per account and region after the first cut, 12 at the end (mean 70.1 calls/s, all account-regions together)"},
		// A record that predates limiter_cut_rate, or a merge of one, does
		// not say where the limiters that were cut ended.
		{"adaptive, cut, no end of the cut ones known", 0.0, audit.Stats{Calls: 2000, Throttled: 40, Rate: 70.1, LimiterRate: 57, LimiterPeak: 14.6},
			"adaptive, cut for throttling: its limit was at most 14.6 calls/s per account and region after the first cut (mean 70.1 calls/s, all account-regions together)"},
		{"adaptive, throttled, never cut", 0.0, audit.Stats{Calls: 900, Throttled: 9, Rate: 36.2, LimiterRate: 417.2},
			"adaptive, throttled 9 times but never cut (mean 36.2 calls/s)"},
		{"adaptive, throttled once, never cut", 0.0, audit.Stats{Calls: 900, Throttled: 1, Rate: 36.2, LimiterRate: 417.2},
			"adaptive, throttled once but never cut (mean 36.2 calls/s)"},
		{"adaptive, throttled, no limit known", 0.0, audit.Stats{Calls: 900, Throttled: 12, Rate: 36.2},
			"adaptive, throttled 12 times but never cut (mean 36.2 calls/s)"},
		// A merge keeps the highest of each figure (audit.MergeRunInfo):
		// one run cut, another throttled but never cut, whose end is more.
		{"adaptive, merged", 0.0, audit.MergeRunInfo([]audit.RunInfo{
			{Stats: audit.Stats{Calls: 900, Throttled: 12, Seconds: 30, LimiterRate: 41, LimiterPeak: 45.25, LimiterCutRate: 41}},
			{Stats: audit.Stats{Calls: 900, Throttled: 3, Seconds: 30, LimiterRate: 417.2}},
		}).Stats,
			"adaptive, cut for throttling: its limit was at most 45.3 calls/s per account and region after the first cut, 41 at the end (mean 60 calls/s, all account-regions together)"},
		{"adaptive, no stats", nil, audit.Stats{},
			"adaptive, never throttled (mean 0 calls/s)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			run := fixtureRun()
			run.Options = map[string]any{}
			if tt.rate != nil {
				run.Options["rate"] = tt.rate
			}
			run.Stats = tt.stats
			m := build(t, nil, run, nil)
			got := ""
			for _, d := range m.About {
				if d.Label == "Rate" {
					got = d.Value
				}
			}
			if got != tt.want {
				t.Errorf("Rate: %q, want %q", got, tt.want)
			}
		})
	}
}

// TestAboutOptionsInWords: every option of the run reads in plain words, as
// the README promises of "About this run": a yes-or-no option says yes or
// no, never true or false; a list is its items, never JSON; the filters
// are as they were written, one after another.
func TestAboutOptionsInWords(t *testing.T) {
	run := fixtureRun()
	run.Options = map[string]any{
		"discover": true, "triage": true, "with_instance_info": false,
		"filter":      []any{"Key=tag:Env,Values=prod,staging", "Key=tag-key,Values=Owner"},
		"instance_id": []any{"i-00000000000000001", "i-00000000000000002"},
		"regions":     []any{east, west},
		"role_arn":    "arn:aws:iam::{account}:role/Audit",
	}
	m := build(t, nil, run, nil)
	got := map[string]string{}
	for _, d := range m.About {
		got[d.Label] = d.Value
		if strings.ContainsAny(d.Value, `[]"`) || strings.Contains(d.Value, "true") || strings.Contains(d.Value, "false") {
			t.Errorf("%s: %q is not in words", d.Label, d.Value)
		}
	}
	for label, want := range map[string]string{
		"Discover":           "yes",
		"Triage":             "yes",
		"With instance info": "no",
		"Filter":             "Key=tag:Env,Values=prod,staging; Key=tag-key,Values=Owner",
		"Instance IDs":       "i-00000000000000001, i-00000000000000002",
		"Regions":            east + ", " + west,
		"Role ARN":           "arn:aws:iam::{account}:role/Audit",
	} {
		if got[label] != want {
			t.Errorf("%s: %q, want %q", label, got[label], want)
		}
	}
}

// TestAboutEndpoint: the endpoint a run called SSM at is said with the
// setting that gave it, on one line: AWS_ENDPOINT_URL in the environment
// of a run is what tells a simulator's results from an audit of AWS.
func TestAboutEndpoint(t *testing.T) {
	for _, tt := range []struct {
		name    string
		options map[string]any
		want    string
	}{
		{"from the environment", map[string]any{"endpoint_url": "http://127.0.0.1:45866", "endpoint_from": "AWS_ENDPOINT_URL"},
			"http://127.0.0.1:45866 (set by AWS_ENDPOINT_URL)"},
		// A run.json from before the setting was recorded.
		{"no setting recorded", map[string]any{"endpoint_url": "https://vpce.example.com"}, "https://vpce.example.com"},
		{"none", map[string]any{}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			run := fixtureRun()
			run.Options = tt.options
			m := build(t, nil, run, nil)
			got := ""
			for _, d := range m.About {
				if strings.HasPrefix(d.Label, "Endpoint") {
					got += d.Label + ": " + d.Value + "\n"
				}
			}
			want := ""
			if tt.want != "" {
				want = "Endpoint: " + tt.want + "\n"
			}
			if got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

// TestAboutEarlierAttempts: "Earlier attempts" said an earlier endpoint
// with the setting that gave the last attempt's, printed the raw key
// endpoint_from, and left out an earlier rate and an earlier
// skip_invalid false, which have no words of their own in the options
// above. Each endpoint is said with its own setting, every value in words.
func TestAboutEarlierAttempts(t *testing.T) {
	run := fixtureRun()
	run.Resumed = 4
	run.Options = map[string]any{"endpoint_url": "http://10.0.0.9:4566", "endpoint_from": "--endpoint-url",
		"rate": 5.0, "skip_invalid": true, "max_attempts": 8.0, "resume": true}
	run.EarlierOptions = map[string][]any{
		// An attempt against a simulator that the environment named,
		// and one against AWS's own.
		"endpoint_url":  {"http://127.0.0.1:4566", nil},
		"endpoint_from": {"AWS_ENDPOINT_URL", nil},
		"rate":          {nil, 0.0, 2.0},
		"skip_invalid":  {false},
		"max_attempts":  {2.0},
	}
	m := build(t, nil, run, nil)
	got := ""
	for _, d := range m.About {
		if d.Label == "Earlier attempts" {
			got = d.Value
		}
	}
	want := "ran with Endpoint: http://127.0.0.1:4566 (set by AWS_ENDPOINT_URL); Endpoint: none recorded; " +
		"Call attempts: 2 attempts per call at most; " +
		"Rate: not recorded; Rate: adaptive; Rate: fixed at 2 calls/s per account and region; " +
		"Invalid input: not skipped, a line that is not an instance ID stopped the run " +
		"(the options above are the last attempt's)"
	if got != want {
		t.Errorf("Earlier attempts:\n got %q\nwant %q", got, want)
	}
	for _, raw := range []string{"endpoint_from", "skip_invalid", "10.0.0.9", "<nil>"} {
		if strings.Contains(got, raw) {
			t.Errorf("Earlier attempts says %q: %q", raw, got)
		}
	}
}

// TestAboutCallsLabel: a run started with --resume on an empty --out is
// one attempt, whose calls are all the run's, yet its calls were said to
// be "the last attempt's". The label follows the attempts the run made,
// not the flag.
func TestAboutCallsLabel(t *testing.T) {
	start := fixtureRun().StartedAt
	for _, tt := range []struct {
		name     string
		resumed  int
		attempts []time.Time
		want     string
	}{
		{"--resume with nothing to resume", 0, []time.Time{start}, "API calls"},
		{"one attempt, no attempts recorded", 0, nil, "API calls"},
		{"resumed, every earlier result read again", 0, []time.Time{start, start.Add(time.Hour)}, "API calls (the last attempt)"},
		{"resumed", 3, []time.Time{start, start.Add(time.Hour)}, "API calls (the last attempt)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			run := fixtureRun()
			run.Options = map[string]any{"resume": true}
			run.Resumed, run.Attempts = tt.resumed, tt.attempts
			m := build(t, nil, run, nil)
			got := ""
			for _, d := range m.About {
				if strings.HasPrefix(d.Label, "API calls") {
					got = d.Label
				}
			}
			if got != tt.want {
				t.Errorf("label %q, want %q", got, tt.want)
			}
		})
	}
}

// TestAboutEarlierEndpointVariant: an earlier attempt on the region's
// plain endpoint, before a resume on its FIPS endpoint, was said as
// "Endpoint variant: not recorded", as if the record had lost it.
func TestAboutEarlierEndpointVariant(t *testing.T) {
	run := fixtureRun()
	run.Resumed = 4
	run.Options = map[string]any{"endpoint_variant": "FIPS", "resume": true}
	run.EarlierOptions = map[string][]any{"endpoint_variant": {nil}}
	m := build(t, nil, run, nil)
	got := ""
	for _, d := range m.About {
		if d.Label == "Earlier attempts" {
			got = d.Value
		}
	}
	if want := "ran with Endpoint variant: none recorded (the plain endpoint, or a release that did not record it)"; !strings.HasPrefix(got, want) {
		t.Errorf("Earlier attempts %q, want it to start %q", got, want)
	}
}

// TestAboutBaselineIsTheReports: the Baseline line says what this report
// was compared with, not the run's --baseline: a record rendered again with
// another baseline, or with none, was read as compared with the run's.
func TestAboutBaselineIsTheReports(t *testing.T) {
	at := runStart.Add(time.Hour)
	result := func(status string) audit.Result {
		return audit.Result{
			Region: east, InstanceID: "i-0000000000000000a", Outcome: audit.Judge([]audit.Association{{Status: status}}),
			AuditedAt: at, Associations: []audit.Association{{AssociationID: "a-1", Name: "AWS-RunPatchBaseline", Status: status}},
		}
	}
	basePath := filepath.Join(t.TempDir(), "later", audit.ResultsFile)
	if err := os.MkdirAll(filepath.Dir(basePath), 0o777); err != nil {
		t.Fatal(err)
	}
	w, err := audit.CreateRecord(basePath)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(result(audit.StatusSuccess)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	base, err := audit.OpenBaseline(basePath)
	if err != nil {
		t.Fatal(err)
	}
	defer base.Close()
	run := fixtureRun()
	run.Options = map[string]any{"baseline": "runs-of-then/a"}
	line := func(m *report.Model) string {
		for _, d := range m.About {
			if d.Label == "Baseline" {
				return d.Value
			}
		}
		return ""
	}
	if got := line(build(t, []audit.Result{result(audit.StatusFailed)}, run, func(o *report.Options) { o.Baseline = base })); !strings.Contains(got, basePath) || strings.Contains(got, "runs-of-then") {
		t.Errorf("compared with %s: Baseline %q, want that record named, and not the run's", basePath, got)
	}
	if got := line(build(t, []audit.Result{result(audit.StatusFailed)}, run, nil)); !strings.HasPrefix(got, "none") {
		t.Errorf("compared with nothing: Baseline %q, want none first", got)
	}
	run.Options = nil
	if got := line(build(t, []audit.Result{result(audit.StatusFailed)}, run, nil)); got != "" {
		t.Errorf("no baseline asked or used: Baseline %q, want no line", got)
	}
}
