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

// TestFiltersExclude: the filters that a node's baseline result can be
// checked against without a listing.
func TestFiltersExclude(t *testing.T) {
	ec2 := Result{InstanceID: "i-0123456789abcdef0"}
	managed := Result{InstanceID: "mi-0123456789abcdef0"}
	linux := Result{InstanceID: "i-0123456789abcdef0", Info: &InstanceInfo{PlatformType: "Linux"}}
	for _, tc := range []struct {
		name    string
		filters []Filter
		r       Result
		want    bool
	}{
		{"no filter", nil, ec2, false},
		{"InstanceIds naming it", []Filter{{"InstanceIds", []string{"i-0fffffffffffffff0", "i-0123456789abcdef0"}}}, ec2, false},
		{"InstanceIds naming another", []Filter{{"InstanceIds", []string{"i-0fffffffffffffff0"}}}, ec2, true},
		{"ResourceType EC2Instance, an i- ID", []Filter{{"ResourceType", []string{"EC2Instance"}}}, ec2, false},
		{"ResourceType ManagedInstance, an i- ID", []Filter{{"ResourceType", []string{"ManagedInstance"}}}, ec2, true},
		{"ResourceType ManagedInstance, an mi- ID", []Filter{{"ResourceType", []string{"ManagedInstance"}}}, managed, false},
		{"ResourceType EC2Instance, an mi- ID", []Filter{{"ResourceType", []string{"EC2Instance"}}}, managed, true},
		{"PlatformType, another recorded", []Filter{{"PlatformType", []string{"Windows"}}}, linux, true},
		{"PlatformTypes, another recorded", []Filter{{"PlatformTypes", []string{"Windows", "MacOS"}}}, linux, true},
		{"PlatformType, its own recorded", []Filter{{"PlatformType", []string{"Windows", "Linux"}}}, linux, false},
		{"PlatformType, none recorded", []Filter{{"PlatformType", []string{"Windows"}}}, ec2, false},
		{"a tag", []Filter{{"tag:Env", []string{"prod"}}}, ec2, false},
		{"a key not known without a listing", []Filter{{"PingStatus", []string{"Online"}}}, ec2, false},
		{"one of two filters", []Filter{{"PingStatus", []string{"Online"}}, {"InstanceIds", []string{"i-0fffffffffffffff0"}}}, ec2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := FiltersExclude(tc.filters, tc.r); got != tc.want {
				t.Errorf("FiltersExclude(%v, %s) = %v, want %v", tc.filters, tc.r.InstanceID, got, tc.want)
			}
		})
	}
}
