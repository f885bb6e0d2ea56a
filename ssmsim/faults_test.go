package ssmsim_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestBucketDefaultsToOneSecond: with no Burst, the bucket holds one second
// of its rate, as AWS buckets do; an explicit Burst is kept.
func TestBucketDefaultsToOneSecond(t *testing.T) {
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 1, Size: 20})
	for _, tc := range []struct {
		faults ssmsim.Faults
		want   int
	}{
		{ssmsim.Faults{Rate: 200}, 200},
		{ssmsim.Faults{Rate: 2.5}, 3},
		{ssmsim.Faults{Rate: 0.1}, 1},
		{ssmsim.Faults{Rate: 200, Burst: 20}, 20},
	} {
		t.Run(fmt.Sprintf("rate %g burst %d", tc.faults.Rate, tc.faults.Burst), func(t *testing.T) {
			s := ssmsim.NewServer(f, ssmsim.Options{Faults: tc.faults})
			if got := s.Faults().Burst; got != tc.want {
				t.Errorf("Burst %d, want %d", got, tc.want)
			}
		})
	}
}

// TestBucketHoldsItsBurst: a quiet bucket answers Burst calls back to back
// and throttles the next (the rate is too low to refill in between).
func TestBucketHoldsItsBurst(t *testing.T) {
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 1, Size: 20})
	in := &ssm.DescribeInstanceAssociationsStatusInput{InstanceId: aws.String(f.ManagedIDs()[0])}
	for _, burst := range []int{1, 5} {
		t.Run(fmt.Sprint("burst ", burst), func(t *testing.T) {
			_, url := start(t, f, ssmsim.Options{Faults: ssmsim.Faults{Rate: 0.001, Burst: burst}})
			c := client(url, testKey)
			for i := range burst {
				if _, err := c.DescribeInstanceAssociationsStatus(ctx(t), in); err != nil {
					t.Fatalf("call %d of a burst of %d: %v", i+1, burst, err)
				}
			}
			_, err := c.DescribeInstanceAssociationsStatus(ctx(t), in)
			if code, _, _ := apiCode(t, err); code != "ThrottlingException" {
				t.Errorf("call %d after a burst of %d: %v, want ThrottlingException", burst+1, burst, err)
			}
		})
	}
}

func TestParseRateSchedule(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    string
		wantErr string
	}{
		{in: "0s:200,20s:100,50s:200", want: "[{0s 200} {20s 100} {50s 200}]"},
		{in: " 0s:10 , 1m30s:0.5", want: "[{0s 10} {1m30s 0.5}]"},
		{in: "5s:0", want: "[{5s 0}]"},
		{in: "20s:100,10s:200", wantErr: `step 2 "10s:200": offsets must increase`},
		{in: "20:100", wantErr: `step 1 "20:100": offset "20" is not a duration of 0 or more (such as 0s, 20s, 1m30s)`},
		{in: "-1s:100", wantErr: `step 1 "-1s:100": offset "-1s" is not a duration of 0 or more (such as 0s, 20s, 1m30s)`},
		{in: "1s:fast", wantErr: `step 1 "1s:fast": rate "fast" is not a number of requests per second, 0 or more`},
		{in: "1s:-5", wantErr: `step 1 "1s:-5": rate "-5" is not a number of requests per second, 0 or more`},
		{in: "1s", wantErr: `step 1 "1s": want OFFSET:RATE, such as 20s:100`},
		{in: "", wantErr: `step 1 "": want OFFSET:RATE, such as 20s:100`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			steps, err := ssmsim.ParseRateSchedule(tc.in)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Errorf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(steps); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

// TestRunRateSchedule: the steps apply in order, keeping the other faults;
// a Burst of zero follows each rate. The schedule starts an hour ago, so
// that every step is due at once: no timing in the test.
func TestRunRateSchedule(t *testing.T) {
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 1, Size: 20})
	base := ssmsim.Faults{Rate: 200, ThrottleRate: 0.05, Latency: time.Millisecond}
	s := ssmsim.NewServer(f, ssmsim.Options{Faults: base})
	steps := []ssmsim.RateStep{{0, 200}, {20 * time.Second, 100}, {50 * time.Second, 300}}
	var applied []string
	s.RunRateSchedule(context.Background(), time.Now().Add(-time.Hour), base, steps, func(st ssmsim.RateStep) {
		applied = append(applied, fmt.Sprintf("%g/%d", st.Rate, s.Faults().Burst))
	})
	if got, want := fmt.Sprint(applied), "[200/200 100/100 300/300]"; got != want {
		t.Errorf("applied %s, want %s", got, want)
	}
	if got := s.Faults(); got.ThrottleRate != 0.05 || got.Latency != time.Millisecond {
		t.Errorf("other faults changed: %+v", got)
	}
	// A cancelled context stops before the first step due.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.RunRateSchedule(ctx, time.Now().Add(time.Hour), base, []ssmsim.RateStep{{0, 7}}, nil)
	if got := s.Faults().Rate; got != 300 {
		t.Errorf("rate %g after a cancelled schedule, want 300 unchanged", got)
	}
}
