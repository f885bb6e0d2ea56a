package awsconn

import (
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// TestClockSkewObserve: the skew is an answer's Date less the time it
// came, kept past 4 minutes either way and 0 within them; an answer from
// a cache (Age) or without a Date leaves the last; credentials' expiry
// moves by it.
func TestClockSkewObserve(t *testing.T) {
	now := time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC)
	dated := func(d time.Time, age string) http.Header {
		h := http.Header{"Date": {d.Format(http.TimeFormat)}}
		if age != "" {
			h.Set("Age", age)
		}
		return h
	}
	var s clockSkew
	for _, step := range []struct {
		name string
		h    http.Header
		want time.Duration
	}{
		{"AWS 20 minutes ahead", dated(now.Add(20*time.Minute), ""), 20 * time.Minute},
		{"from a cache", dated(now.Add(-time.Hour), "12"), 20 * time.Minute},
		{"no Date", http.Header{}, 20 * time.Minute},
		{"3 minutes behind", dated(now.Add(-3*time.Minute), ""), 0},
		{"2 hours behind", dated(now.Add(-2*time.Hour), ""), -2 * time.Hour},
	} {
		s.observe(step.h, now)
		if got := s.get(); got != step.want {
			t.Fatalf("%s: skew %v, want %v", step.name, got, step.want)
		}
	}
	exp := now.Add(time.Hour)
	creds := onAWSClock(aws.Credentials{CanExpire: true, Expires: exp}, &s)
	if want := exp.Add(2 * time.Hour); !creds.Expires.Equal(want) {
		t.Errorf("expiry %v on this clock, want %v", creds.Expires, want)
	}
	if creds := onAWSClock(aws.Credentials{CanExpire: true, Expires: exp}, nil); !creds.Expires.Equal(exp) {
		t.Errorf("with no skew known, the expiry moved to %v", creds.Expires)
	}
}
