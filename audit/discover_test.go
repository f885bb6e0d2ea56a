package audit

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"
)

// TestFirstSight: a listing skips a node it has listed already (one that
// moved between pages), whatever form its ID takes, and never takes two
// nodes for one.
func TestFirstSight(t *testing.T) {
	seen := map[packedID]struct{}{}
	var other map[string]struct{}
	for _, tc := range []struct {
		id    string
		first bool
	}{
		{"i-0123456789abcdef0", true},
		{"i-01234567", true},
		{"mi-0123456789abcdef0", true},
		{"i-0123456789abcdef1", true},
		{"not-an-id", true},
		{"i-0123456789abcdef0", false},
		{"i-01234567", false},
		{"mi-0123456789abcdef0", false},
		{"not-an-id", false},
		{"i-0123456789abcdef2", true},
	} {
		if got := firstSight(seen, &other, tc.id); got != tc.first {
			t.Errorf("%s: first sight %v, want %v", tc.id, got, tc.first)
		}
	}
	if len(seen) != 5 || len(other) != 1 {
		t.Errorf("%d packed and %d other IDs noted, want 5 and 1", len(seen), len(other))
	}
}

// stubRetryer is a retryer whose every delay is a minute, to tell its delay
// from pageRetryer's.
type stubRetryer struct{ aws.Retryer }

func (stubRetryer) RetryDelay(int, error) (time.Duration, error) { return time.Minute, nil }

// TestPageRetryer: a listing's throttled page is tried again within
// pageThrottleDelay, doubling to 16 times it, while its other errors, and
// the audit's calls, keep the standard backoff.
func TestPageRetryer(t *testing.T) {
	throttled := &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}
	internal := &smithy.GenericAPIError{Code: "InternalServerError", Message: "oops"}
	base := stubRetryer{retry.NewStandard()}
	for _, first := range []bool{true, false} {
		o := ssm.Options{Retryer: base}
		(&attempts{first: first}).option(&o)
		for attempt := 1; attempt <= 8; attempt++ {
			limit := pageThrottleDelay << min(attempt-1, 4)
			for range 200 {
				d, err := o.Retryer.RetryDelay(attempt, throttled)
				if err != nil {
					t.Fatal(err)
				}
				if first && (d <= 0 || d > limit) || !first && d != time.Minute {
					t.Fatalf("first %v, attempt %d, throttled: delay %v", first, attempt, d)
				}
			}
			if d, _ := o.Retryer.RetryDelay(attempt, internal); d != time.Minute {
				t.Errorf("first %v, attempt %d, a 500: delay %v, want the standard retryer's", first, attempt, d)
			}
		}
	}
}
