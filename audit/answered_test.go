package audit_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestServiceErrorsPassTheBucket: a call the service answers with an error
// of its own (InvalidInstanceId for an instance that is gone, or for an
// unmanaged node among a lookup's 50) passed the account-region's rate
// limit as a success did, and the Limiter counts it so. It counted none of
// them: a list of terminated instances, or a --with-instance-info lookup
// (half of whose calls halve a batch with an unmanaged node), gave the
// Limiter a pace that was a part of what went through the bucket, and a
// shard told the others that part (over real HTTP, two shards held each
// other at 30 to 60 calls a second of 200 for most of their lookups).
// Here the Limiter's pace, as it tells the others on its bucket, is that
// of the calls answered, whatever the answer.
func TestServiceErrorsPassTheBucket(t *testing.T) {
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 5, Size: 10})
	var gone []string // instances the service does not know
	for i := range 60 {
		gone = append(gone, fmt.Sprintf("i-0dead%012d", i))
	}
	for _, tc := range []struct {
		name string
		run  func(s *audit.Session) error
	}{
		{"the audit of instances that are gone", func(s *audit.Session) error {
			var ts []audit.Target
			for _, id := range gone {
				ts = append(ts, audit.Target{InstanceID: id})
			}
			return s.Run(context.Background(), []audit.Batch{{Region: "us-east-1", Len: len(ts), Targets: slices.Values(ts)}})
		}},
		{"a lookup that halves its batches", func(s *audit.Session) error {
			ids := append(fleet.IDs(), gone...)
			return s.LookupInfo(context.Background(), "", "us-east-1", ids, func(string, *audit.InstanceInfo) {})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, srv := serveFleet(t, fleet, ssmsim.Options{Faults: ssmsim.Faults{Latency: 20 * time.Millisecond}})
			var mu sync.Mutex
			var said []float64 // the pace the Limiter told, while running
			peers := func(_, _ string) audit.Peers {
				return peersFunc(func(_ time.Time, mine audit.Pace) []audit.Pace {
					mu.Lock()
					defer mu.Unlock()
					if !mine.Done {
						said = append(said, mine.Recent)
					}
					return nil
				})
			}
			s := audit.NewSession(audit.Config{Client: sdkClients(url, 3, 8), Region: "us-east-1", Concurrency: 1, Peers: peers})
			if err := tc.run(s); err != nil {
				t.Fatal(err)
			}
			st := srv.Stats()
			calls := st.Calls[ssmsim.OpDescribeInstanceAssociationsStatus] + st.Calls[ssmsim.OpDescribeInstanceInformation]
			mu.Lock()
			defer mu.Unlock()
			best := 0.0
			for _, p := range said {
				best = max(best, p)
			}
			// About 40 calls a second, one at a time at 20 ms or more
			// each; the pace told is over the last two seconds.
			t.Logf("%d calls in %d exchanges, best pace told %.1f/s", calls, len(said), best)
			if calls < 20 {
				t.Fatalf("%d calls: a test of nothing", calls)
			}
			if len(said) < 2 || best < 5 {
				t.Errorf("%d calls, all answered: the Limiter told its pace %d times, at most %.1f calls a second", calls, len(said), best)
			}
		})
	}
}
