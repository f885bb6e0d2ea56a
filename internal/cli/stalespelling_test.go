package cli

import (
	"testing"
	"time"
)

// TestDaysSpelledAsGiven: --stale-after 1h was repeated in messages (and
// recorded in run.json) as "1h0m0s". An age is spelled as a user writes
// it, and reads back as the same age.
func TestDaysSpelledAsGiven(t *testing.T) {
	for _, tt := range []struct {
		give string
		want string
	}{
		{"7d", "7d"},
		{"168h", "7d"},
		{"1d", "1d"},
		{"1h", "1h"},
		{"36h", "36h"},
		{"90m", "1h30m"},
		{"10m", "10m"},
		{"45s", "45s"},
		{"1h0m30s", "1h0m30s"},
		{"1.5h", "1h30m"},
		{"0", "0s"},
		{"0d", "0s"},
		{"0h", "0s"},
		{"106751d", "106751d"},
	} {
		t.Run(tt.give, func(t *testing.T) {
			var d days
			if err := d.Set(tt.give); err != nil {
				t.Fatal(err)
			}
			if got := d.String(); got != tt.want {
				t.Errorf("--stale-after %s: spelled %q, want %q", tt.give, got, tt.want)
			}
			var back days
			if err := back.Set(d.String()); err != nil || time.Duration(back) != time.Duration(d) {
				t.Errorf("%q reads back as %v (%v), want %v", d.String(), time.Duration(back), err, time.Duration(d))
			}
		})
	}
}
