package audit_test

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/auditor-dev/auditor/audit"
)

// peersFunc is audit.Peers as a function.
type peersFunc func(now time.Time, mine audit.Pace) []audit.Pace

func (f peersFunc) Exchange(now time.Time, mine audit.Pace) []audit.Pace { return f(now, mine) }

// TestPeersToldDoneWhenSiteFinished: an account-region whose every target
// was audited is said to be done to the other processes on its bucket
// (audit.Pace.Done) as soon as it is, while the run goes on elsewhere, so
// that they take its pace at once; one stopped with targets left (its
// circuit open, the run interrupted) is not: a resumed run may call there
// again. One that failed (access denied) recorded every target: its work
// there is over too.
func TestPeersToldDoneWhenSiteFinished(t *testing.T) {
	const account = "111111111111"
	tests := []struct {
		name string
		// a is how each call in us-east-1 ends: nil answers.
		a func(cancel func(), id string) error
		// signal: the run is interrupted (in us-east-1); eu-west-1's one
		// call waits for it, else for us-east-1 to be said done when it
		// should be (5 s at most).
		signal bool
		want   []string // the account-regions said done, sorted
	}{
		{"finished while another runs", func(func(), string) error { return nil }, false,
			[]string{account + "/eu-west-1", account + "/us-east-1"}},
		{"circuit open", func(func(), string) error {
			return &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
		}, false, []string{account + "/eu-west-1"}},
		{"failed", func(func(), string) error {
			return &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "denied"}
		}, false, []string{account + "/eu-west-1", account + "/us-east-1"}},
		{"interrupted with targets left", func(cancel func(), id string) error {
			if id == "i-00000001" {
				cancel()
			}
			return nil
		}, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var mu sync.Mutex
			var done []string
			aDone := make(chan struct{})
			peers := func(acct, region string) audit.Peers {
				key := acct + "/" + region
				return peersFunc(func(_ time.Time, mine audit.Pace) []audit.Pace {
					if mine.Done {
						mu.Lock()
						defer mu.Unlock()
						if slices.Contains(done, key) {
							t.Errorf("%s said done twice", key)
						}
						done = append(done, key)
						if region == "us-east-1" {
							close(aDone)
						}
					}
					return nil
				})
			}
			heardBefore := false
			fake := &fakeSSM{describe: func(c context.Context, in *ssm.DescribeInstanceAssociationsStatusInput) (*ssm.DescribeInstanceAssociationsStatusOutput, error) {
				id := aws.ToString(in.InstanceId)
				if id == "i-00000100" {
					var wait <-chan struct{}
					switch {
					case tt.signal:
						wait = ctx.Done()
					case slices.Contains(tt.want, account+"/us-east-1"):
						wait = aDone
					}
					if wait != nil {
						select {
						case <-wait:
							heardBefore = !tt.signal
						case <-time.After(5 * time.Second):
						}
					}
					return &ssm.DescribeInstanceAssociationsStatusOutput{}, nil
				}
				if err := tt.a(cancel, id); err != nil {
					return nil, err
				}
				return &ssm.DescribeInstanceAssociationsStatusOutput{}, nil
			}}
			cfg := audit.Config{Client: func(string, string) (audit.API, error) { return fake, nil }, Region: "us-east-1",
				Concurrency: 1, Grace: time.Minute, Peers: peers}
			var a []audit.Target
			for i := range 4 {
				a = append(a, audit.Target{InstanceID: fmt.Sprintf("i-%08d", i), AccountID: account, Region: "us-east-1"})
			}
			b := []audit.Target{{InstanceID: "i-00000100", AccountID: account, Region: "eu-west-1"}}
			audit.NewSession(cfg).Run(ctx, []audit.Batch{
				{AccountID: account, Region: "us-east-1", Len: len(a), Targets: slices.Values(a)},
				{AccountID: account, Region: "eu-west-1", Len: len(b), Targets: slices.Values(b)},
			})
			mu.Lock()
			defer mu.Unlock()
			slices.Sort(done)
			if !slices.Equal(done, tt.want) {
				t.Errorf("said done on %v, want %v", done, tt.want)
			}
			if slices.Contains(tt.want, account+"/us-east-1") && !heardBefore {
				t.Errorf("us-east-1 was not said done while eu-west-1 was still being audited")
			}
		})
	}
}

// TestPeersToldDoneOnceEveryBatchEnded: an account-region that two batches
// name (the instances listed, then those discovery finds) is over when
// both ended, not at the first.
func TestPeersToldDoneOnceEveryBatchEnded(t *testing.T) {
	var mu sync.Mutex
	done := 0
	peers := func(string, string) audit.Peers {
		return peersFunc(func(_ time.Time, mine audit.Pace) []audit.Pace {
			if mine.Done {
				mu.Lock()
				defer mu.Unlock()
				done++
			}
			return nil
		})
	}
	early := false
	fake := &fakeSSM{describe: func(_ context.Context, in *ssm.DescribeInstanceAssociationsStatusInput) (*ssm.DescribeInstanceAssociationsStatusOutput, error) {
		if aws.ToString(in.InstanceId) == "i-00000002" {
			mu.Lock()
			early = done > 0
			mu.Unlock()
		}
		return &ssm.DescribeInstanceAssociationsStatusOutput{}, nil
	}}
	// One account-region at a time: the first batch has ended when the
	// second starts.
	cfg := audit.Config{Client: func(string, string) (audit.API, error) { return fake, nil }, Region: "us-east-1",
		Sites: 1, Peers: peers}
	batch := func(id string) audit.Batch {
		ts := []audit.Target{{InstanceID: id, AccountID: "111111111111", Region: "us-east-1"}}
		return audit.Batch{AccountID: "111111111111", Region: "us-east-1", Len: 1, Targets: slices.Values(ts)}
	}
	if err := audit.NewSession(cfg).Run(context.Background(), []audit.Batch{batch("i-00000001"), batch("i-00000002")}); err != nil {
		t.Fatal(err)
	}
	if early {
		t.Error("said done when the first of its two batches ended")
	}
	if done != 1 {
		t.Errorf("said done %d times, want once, when both ended", done)
	}
}
