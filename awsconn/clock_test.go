package awsconn

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// TestClockSkewObserve: the skew is an answer's Date less the time it
// came, kept past 30 seconds either way and 0 within them; an answer from
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
		{"20 seconds behind", dated(now.Add(-20*time.Second), ""), 0},
		{"3 minutes behind", dated(now.Add(-3*time.Minute), ""), -3 * time.Minute},
		{"2 hours behind", dated(now.Add(-2*time.Hour), ""), -2 * time.Hour},
	} {
		s.observe(step.h, now)
		if got := s.get(); got != step.want {
			t.Fatalf("%s: skew %v, want %v", step.name, got, step.want)
		}
	}
	exp := now.Add(time.Hour)
	creds := onAWSClock(aws.Credentials{CanExpire: true, Expires: exp}, s.get())
	if want := exp.Add(2 * time.Hour); !creds.Expires.Equal(want) {
		t.Errorf("expiry %v on this clock, want %v", creds.Expires, want)
	}
	if creds := onAWSClock(aws.Credentials{CanExpire: true, Expires: exp}, (*clockSkew)(nil).get()); !creds.Expires.Equal(exp) {
		t.Errorf("with no skew known, the expiry moved to %v", creds.Expires)
	}
}

// TestSkewLearnedLater: credentials cached before the skew was known (a
// credential_process's, given with no call answered yet), or moved by a
// skew since changed (the clock stepped), are renewed once the skew
// known brings their expiry by AWS's clock within the window they are
// renewed ahead of it; a skew that moves it later renews nothing.
func TestSkewLearnedLater(t *testing.T) {
	for _, tc := range []struct {
		name      string
		skew      time.Duration
		wantCalls int
	}{
		{"AWS 8 minutes ahead: due now", 8 * time.Minute, 2},
		{"AWS 8 minutes behind: later", -8 * time.Minute, 1},
		{"10 seconds: within the tolerance", 10 * time.Second, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			skew := new(clockSkew)
			p := &countingProvider{life: 10 * time.Minute}
			c := renewing(p, skew)
			if _, err := c.Retrieve(context.Background()); err != nil {
				t.Fatal(err)
			}
			skew.ns.Store(int64(tc.skew))
			creds, err := c.Retrieve(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if p.n != tc.wantCalls {
				t.Errorf("the provider was asked %d times, want %d", p.n, tc.wantCalls)
			}
			if tc.wantCalls == 2 && !creds.Expires.Before(time.Now().Add(2*time.Minute)) {
				t.Errorf("renewed credentials expire at %v on this clock, want within 2 minutes (10 by AWS's, 8 ahead)", creds.Expires)
			}
		})
	}
}

// stsLike is a provider whose own answer dates it by STS's clock (no
// skew), as an AssumeRole's does, giving credentials of 10 minutes.
type stsLike struct {
	skew *clockSkew
	n    int
}

func (p *stsLike) Retrieve(context.Context) (aws.Credentials, error) {
	p.n++
	p.skew.ns.Store(0)
	return aws.Credentials{AccessKeyID: "AKIA", SecretAccessKey: "s", SessionToken: "t", CanExpire: true, Expires: time.Now().Add(10 * time.Minute)}, nil
}

// TestSkewOfTwoClocksRenewsOnce: answers of an endpoint whose clock is 8
// minutes ahead of STS's, between calls, renew credentials once, not on
// every call (100 AssumeRole calls for 100 before).
func TestSkewOfTwoClocksRenewsOnce(t *testing.T) {
	skew := new(clockSkew)
	p := &stsLike{skew: skew}
	c := renewing(p, skew)
	for range 100 {
		if _, err := c.Retrieve(context.Background()); err != nil {
			t.Fatal(err)
		}
		skew.ns.Store(int64(8 * time.Minute)) // the other endpoint answers
	}
	if p.n > 2 {
		t.Errorf("the credentials were obtained %d times in 100 calls, want at most 2", p.n)
	}
}

// TestExpiredTellsBothClocks: credentials handed out expired by AWS's
// clock, on a machine whose clock is behind it, are told with AWS's time
// and this machine's: "this machine's clock says" AWS's time sent the
// user to a clock that read before the expiry.
func TestExpiredTellsBothClocks(t *testing.T) {
	now := time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC)
	got := expired(now.Add(3*time.Minute), now, 8*time.Minute)
	want := "at 2026-12-05T03:03:00Z; AWS's clock says 2026-12-05T03:08:00Z, 8m0s ahead of this machine's 2026-12-05T03:00:00Z"
	if !strings.Contains(got, want) {
		t.Errorf("expired() = %q, want it to say %q", got, want)
	}
	if got := expired(now.Add(-time.Minute), now, 0); !strings.Contains(got, "this machine's clock says 2026-12-05T03:00:00Z") {
		t.Errorf("with no skew: %q", got)
	}
}
