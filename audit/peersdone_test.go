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

// TestPeersNotToldDoneWhenAnotherBatchFailed: a batch stopped by another
// batch's fatal error, with targets of its own left and no error of its
// own, is not over: a resumed run calls there again.
func TestPeersNotToldDoneWhenAnotherBatchFailed(t *testing.T) {
	const account = "111111111111"
	peers, saidDone := donePeers()
	started, failed := make(chan struct{}), make(chan struct{})
	fake := &fakeSSM{describe: func(c context.Context, in *ssm.DescribeInstanceAssociationsStatusInput) (*ssm.DescribeInstanceAssociationsStatusOutput, error) {
		if aws.ToString(in.InstanceId) == "i-00000000" {
			// us-east-1's first call is in flight when eu-west-1's
			// source fails the run.
			close(started)
			select {
			case <-failed:
			case <-time.After(5 * time.Second):
				t.Error("eu-west-1's source did not fail")
			}
		}
		return &ssm.DescribeInstanceAssociationsStatusOutput{}, nil
	}}
	cfg := audit.Config{Client: func(string, string) (audit.API, error) { return fake, nil }, Region: "us-east-1",
		Concurrency: 1, Sites: 2, Grace: time.Minute, Peers: peers}
	var a []audit.Target
	for i := range 4 {
		a = append(a, audit.Target{InstanceID: fmt.Sprintf("i-%08d", i), AccountID: account, Region: "us-east-1"})
	}
	// us-east-1's list goes on after eu-west-1 failed, once the failure
	// has stopped the run (a few returns; half a second is ample), so
	// that its other targets are left: audited all, it would be over.
	listA := func(yield func(audit.Target) bool) {
		if !yield(a[0]) {
			return
		}
		select {
		case <-failed:
		case <-time.After(5 * time.Second):
		}
		time.Sleep(500 * time.Millisecond)
		for _, t := range a[1:] {
			if !yield(t) {
				return
			}
		}
	}
	err := audit.NewSession(cfg).Run(context.Background(), []audit.Batch{
		{AccountID: account, Region: "us-east-1", Len: len(a), Targets: listA},
		{AccountID: account, Region: "eu-west-1", Targets: func(func(audit.Target) bool) {}, Err: func() error {
			defer close(failed)
			select {
			case <-started:
			case <-time.After(5 * time.Second):
				t.Error("us-east-1's first call did not start")
			}
			return fmt.Errorf("%w: the list of eu-west-1 could not be read", audit.ErrFatal)
		}},
	})
	if err == nil {
		t.Fatal("the run did not fail")
	}
	if done := saidDone(); len(done) > 0 {
		t.Errorf("said done on %v with targets left", done)
	}
}

// TestPeersToldDoneAfterUnnamedBatch: a batch that names no account-region
// (targets of any, as audit.Run makes) may still call on one whose own
// batch ended: that account-region is over only once it ended too.
func TestPeersToldDoneAfterUnnamedBatch(t *testing.T) {
	const account = "111111111111"
	peers, saidDone := donePeers()
	namedEnded := make(chan struct{})
	early := false
	fake := &fakeSSM{describe: func(_ context.Context, in *ssm.DescribeInstanceAssociationsStatusInput) (*ssm.DescribeInstanceAssociationsStatusOutput, error) {
		if aws.ToString(in.InstanceId) == "i-00000009" {
			// The unnamed batch's second call comes after the named
			// batch ended.
			select {
			case <-namedEnded:
			case <-time.After(5 * time.Second):
				t.Error("the named batch did not end")
			}
			time.Sleep(100 * time.Millisecond)
			early = len(saidDone()) > 0
		}
		return &ssm.DescribeInstanceAssociationsStatusOutput{}, nil
	}}
	cfg := audit.Config{Client: func(string, string) (audit.API, error) { return fake, nil }, Region: "us-east-1",
		Concurrency: 1, Sites: 2, Peers: peers}
	target := func(id string) audit.Target {
		return audit.Target{InstanceID: id, AccountID: account, Region: "us-east-1"}
	}
	named := func(yield func(audit.Target) bool) {
		yield(target("i-00000001"))
	}
	unnamed := func(yield func(audit.Target) bool) {
		if !yield(target("i-00000008")) {
			return
		}
		yield(target("i-00000009"))
	}
	err := audit.NewSession(cfg).Run(context.Background(), []audit.Batch{
		{Targets: unnamed},
		{AccountID: account, Region: "us-east-1", Len: 1, Targets: named, Err: func() error {
			// The batch ends as soon as its one call does: well
			// within 200 ms.
			go func() {
				time.Sleep(200 * time.Millisecond)
				close(namedEnded)
			}()
			return nil
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if early {
		t.Error("said done while the unnamed batch still called there")
	}
	if done := saidDone(); !slices.Equal(done, []string{account + "/us-east-1"}) {
		t.Errorf("said done on %v, want once on us-east-1, at the end", done)
	}
}

// donePeers returns Config.Peers that record the account-regions said
// done ("ACCOUNT/REGION"), and what they recorded so far.
func donePeers() (func(acct, region string) audit.Peers, func() []string) {
	var mu sync.Mutex
	var done []string
	peers := func(acct, region string) audit.Peers {
		return peersFunc(func(_ time.Time, mine audit.Pace) []audit.Pace {
			if mine.Done {
				mu.Lock()
				defer mu.Unlock()
				done = append(done, acct+"/"+region)
			}
			return nil
		})
	}
	return peers, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(done)
	}
}

// TestPeersToldDoneBeforeInvalidLines: the batch of invalid lines a run
// records last (run --skip-invalid) names no account-region, yet calls
// none: while it waits its turn, an account-region whose batch ended is
// over all the same.
func TestPeersToldDoneBeforeInvalidLines(t *testing.T) {
	const account = "111111111111"
	peers, saidDone := donePeers()
	heard := make(chan struct{})
	var heardOnce sync.Once
	fake := &fakeSSM{describe: func(context.Context, *ssm.DescribeInstanceAssociationsStatusInput) (*ssm.DescribeInstanceAssociationsStatusOutput, error) {
		return &ssm.DescribeInstanceAssociationsStatusOutput{}, nil
	}}
	cfg := audit.Config{Client: func(string, string) (audit.API, error) { return fake, nil }, Region: "us-east-1",
		Concurrency: 1, Sites: 1, Peers: peers}
	a := []audit.Target{{InstanceID: "i-00000001", AccountID: account, Region: "us-east-1"}}
	// One account-region at a time: eu-west-1's batch holds its turn
	// until us-east-1 was said done (5 s at most), and the invalid
	// lines' batch, last, has not started then.
	slow := func(yield func(audit.Target) bool) {
		deadline := time.After(5 * time.Second)
		for len(saidDone()) == 0 {
			select {
			case <-deadline:
				yield(audit.Target{InstanceID: "i-00000002", AccountID: account, Region: "eu-west-1"})
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
		heardOnce.Do(func() { close(heard) })
		yield(audit.Target{InstanceID: "i-00000002", AccountID: account, Region: "eu-west-1"})
	}
	invalid := []audit.Target{{InstanceID: "i-bad", Problem: "not an instance ID"}}
	err := audit.NewSession(cfg).Run(context.Background(), []audit.Batch{
		{AccountID: account, Region: "us-east-1", Len: 1, Targets: slices.Values(a)},
		{AccountID: account, Region: "eu-west-1", Len: 1, Targets: slow},
		{Len: 1, Targets: slices.Values(invalid), Invalid: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-heard:
	default:
		t.Errorf("us-east-1 was not said done before the invalid lines' batch started (said: %v)", saidDone())
	}
}
