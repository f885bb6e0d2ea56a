package audit_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
)

// TestRunInfoMismatchAttempt: another run's run.json put beside a record
// was taken for its own when it had as many targets and named its
// accounts: the reports said that run's start, while every line said it
// was read by an attempt that run never made. A line's attempt_started_at
// that is not among run.json's attempt starts is told now; lines that say
// none (written before lines kept it), a run.json without attempts (its
// start stands for them), a resume's, a merge's (the union of its
// inputs') and one that cannot know its starts are not.
func TestRunInfoMismatchAttempt(t *testing.T) {
	const acct = "123456789012"
	start := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	other := start.Add(-2 * time.Hour)
	run := func(attempts ...time.Time) audit.RunInfo {
		return audit.RunInfo{Schema: audit.Schema, StartedAt: start, Attempts: attempts, Targets: 4, Caller: acct,
			Parts: []audit.Part{{Fleet: "f", List: "l", Targets: 4}},
			Sites: []audit.SiteStats{{AccountID: acct, Region: "us-east-1"}}}
	}
	rows := func(at ...time.Time) []audit.Result {
		var out []audit.Result
		for i, a := range at {
			r := result(acct, "us-east-1", "i-0123456789abcdef"+string(rune('0'+i)), audit.OutcomeCompliant)
			r.AttemptStartedAt = a
			if !a.IsZero() {
				r.AuditedAt = a.Add(time.Minute)
			}
			out = append(out, r)
		}
		return out
	}
	resumed := run(start, start.Add(time.Hour))
	resumed.Resumed = 2
	merged := run(other, start)
	merged.Parts = append(merged.Parts, audit.Part{Fleet: "g", List: "l2", Targets: 2})
	merged.Rendered = &audit.Rendering{Inputs: 2}
	interrupted, complete := run(start), run(start)
	interrupted.Interrupted = true
	complete.Complete = true
	noAttempts := run()
	// A merge with a record that no run.json describes: its lines' starts
	// are not among the merge's, and its targets are unknown.
	undescribed := run(start)
	undescribed.Targets = 0
	undescribed.Error = "no run.json beside x: completeness unknown"
	startUnknown := run()
	startUnknown.StartedAt = time.Time{}
	for _, tt := range []struct {
		name string
		ri   audit.RunInfo
		rows []audit.Result
		want string // "" when it may be the record's
	}{
		{"its own", run(start), rows(start, start, start, start), ""},
		{"another run's", run(start), rows(other, other, other, other), "2026-11-20T08:00:00Z"},
		{"one line of another run", run(start), rows(start, start, other), "2026-11-20T08:00:00Z"},
		{"lines that say no attempt", run(start), rows(time.Time{}, time.Time{}), ""},
		{"without attempts: its start", noAttempts, rows(start, start), ""},
		{"without attempts, another start", noAttempts, rows(other, other), "2026-11-20T08:00:00Z"},
		{"resumed", resumed, rows(start, start.Add(time.Hour), start), ""},
		// After its attempts: a resume killed before its run.json, whose
		// start a copy of the files, or the previous release's report,
		// left out.
		{"resumed, a later attempt it does not name", resumed, rows(start, start.Add(2*time.Hour)), ""},
		{"resumed, an earlier attempt it does not name", resumed, rows(start, start.Add(-time.Minute)), "2026-11-20T09:59:00Z"},
		{"a later attempt it does not name", interrupted, rows(start, start.Add(time.Hour)), ""},
		// Complete too: an auditor report (the previous release's, or of
		// a copy without the kept starts) of a resume killed after its
		// last result says so without naming it.
		{"a later attempt than a complete run's", complete, rows(start, start.Add(time.Hour)), ""},
		{"a merge: the union of its inputs' attempts", merged, rows(other, start, start), ""},
		{"a merge with a record without run.json", undescribed, rows(other, start), ""},
		{"start unknown", startUnknown, rows(other), ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			checkMismatch(t, tt.ri, tt.want, tt.rows...)
		})
	}
}

// TestRunInfoResumes: a resume's run.json said the last build's version
// and options alone, though earlier attempts read most of its record. It
// says every version now, and the values earlier attempts ran with that
// the last did not; a merge does not take an option on which a run's own
// attempts disagree.
func TestRunInfoResumes(t *testing.T) {
	first := audit.RunInfo{Version: "dev", Options: map[string]any{"max_attempts": 2.0, "triage": true, "filter": []any{"a"}}}
	second := audit.RunInfo{Version: "v9.9.9", Options: map[string]any{"max_attempts": 8, "triage": true, "filter": []string{"a"}, "resume": true}}
	second.Resumes(first)
	if second.Version != "dev, v9.9.9" {
		t.Errorf("version %q, want dev, v9.9.9", second.Version)
	}
	if got := fmt.Sprint(second.EarlierOptions); got != "map[max_attempts:[2]]" {
		t.Errorf("earlier options %v, want max_attempts 2 alone", got)
	}
	third := audit.RunInfo{Version: "dev", Options: map[string]any{"max_attempts": 2, "triage": true, "filter": []string{"a"}, "resume": true, "rate": 5}}
	third.Resumes(second)
	if third.Version != "dev, v9.9.9" {
		t.Errorf("version %q, want dev, v9.9.9", third.Version)
	}
	if got := fmt.Sprint(third.EarlierOptions); got != "map[max_attempts:[8] rate:[<nil>]]" {
		t.Errorf("earlier options %v, want max_attempts 8 and rate unset", got)
	}
	merged := audit.MergeRunInfo([]audit.RunInfo{third, {Version: "dev", Options: map[string]any{"max_attempts": 2, "triage": true}}})
	if _, ok := merged.Options["max_attempts"]; ok {
		t.Errorf("a merge keeps max_attempts %v, which a run's attempts disagree on", merged.Options["max_attempts"])
	}
	if merged.Options["triage"] != true {
		t.Errorf("a merge drops triage, on which every attempt agrees: %v", merged.Options)
	}
}

// TestRunInfoResumesEndpointPairs: an endpoint and the setting that gave
// it were kept apart, each once, so that an earlier endpoint lost its
// setting, or was dropped where the last attempt reached the same URL
// through another setting. They are kept as pairs: the i-th of each goes
// together.
func TestRunInfoResumesEndpointPairs(t *testing.T) {
	const x, y = "http://127.0.0.1:4566", "http://10.0.0.9:4566"
	ep := func(url, from string) audit.RunInfo {
		return audit.RunInfo{Options: map[string]any{"endpoint_url": url, "endpoint_from": from, "resume": true}}
	}
	second := ep(y, "AWS_ENDPOINT_URL")
	second.Resumes(ep(x, "AWS_ENDPOINT_URL"))
	if got, want := fmt.Sprint(second.EarlierOptions), "map[endpoint_from:[AWS_ENDPOINT_URL] endpoint_url:["+x+"]]"; got != want {
		t.Errorf("second: earlier options %v, want %v", got, want)
	}
	third := ep(x, "--endpoint-url")
	third.Resumes(second)
	if got, want := fmt.Sprint(third.EarlierOptions), "map[endpoint_from:[AWS_ENDPOINT_URL AWS_ENDPOINT_URL] endpoint_url:["+x+" "+y+"]]"; got != want {
		t.Errorf("third: earlier options %v, want %v", got, want)
	}
	// An attempt against AWS's own endpoint records neither.
	fourth := ep(x, "--endpoint-url")
	fourth.Resumes(audit.RunInfo{Options: map[string]any{}})
	if got, want := fmt.Sprint(fourth.EarlierOptions), "map[endpoint_from:[<nil>] endpoint_url:[<nil>]]"; got != want {
		t.Errorf("fourth: earlier options %v, want %v", got, want)
	}
}

// TestJoinVersions: a version that is itself a list (a resumed run's, a
// merge's) was added whole, so that a merge of a "dev" run and a "v9.9.9,
// dev" run said "dev, v9.9.9, dev". Each version is said once, in the
// order first seen.
func TestJoinVersions(t *testing.T) {
	for _, tt := range []struct{ versions, v, want string }{
		{"", "dev", "dev"},
		{"dev", "", "dev"},
		{"dev", "dev", "dev"},
		{"dev", "v9.9.9, dev", "dev, v9.9.9"},
		{"v1.0.0, dev", "dev, v2.0.0", "v1.0.0, dev, v2.0.0"},
	} {
		if got := audit.JoinVersions(tt.versions, tt.v); got != tt.want {
			t.Errorf("JoinVersions(%q, %q) = %q, want %q", tt.versions, tt.v, got, tt.want)
		}
	}
	merged := audit.MergeRunInfo([]audit.RunInfo{{Version: "dev"}, {Version: "v9.9.9, dev"}})
	if merged.Version != "dev, v9.9.9" {
		t.Errorf("merged version %q, want dev, v9.9.9", merged.Version)
	}
}
