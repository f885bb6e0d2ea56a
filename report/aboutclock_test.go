package report_test

import (
	"strings"
	"testing"
	"time"
)

// TestAboutEndBeforeStart: a first attempt ran with the clock an hour
// ahead and a resume once it was put right: run.json's started_at is the
// first attempt's (the run's name for later runs' baselines), and its
// ended_at an hour before it. "About this run" showed an end before the
// start with no word on why; it now says that a clock was moved between
// attempts.
func TestAboutEndBeforeStart(t *testing.T) {
	start := time.Date(2026, 12, 6, 13, 57, 20, 0, time.UTC)
	resumed := start.Add(-time.Hour + time.Second)
	run := fixtureRun()
	run.StartedAt = start
	run.Attempts = []time.Time{resumed, start}
	run.EndedAt = resumed.Add(time.Second)
	m := build(t, nil, run, nil)
	got := ""
	for _, d := range m.About {
		if d.Label == "Ended" {
			got = d.Value
		}
	}
	for _, want := range []string{"before", "clock", "attempts"} {
		if !strings.Contains(got, want) {
			t.Errorf("Ended: %q does not say %q", got, want)
		}
	}
}
