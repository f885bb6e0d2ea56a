package audit_test

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestSignalStopsInstancesNotYetSent: after a signal, the instances whose
// workers waited for the limiter's slot went on to send their first call
// when it came, through the whole --grace: a paced or throttled run sent
// new calls to an endpoint already throttling, and Ctrl-C waited out the
// grace, which is for the calls in flight. An instance that has sent
// nothing stops at the signal, left for a resumed run.
func TestSignalStopsInstancesNotYetSent(t *testing.T) {
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 3, Size: 100})
	url, srv := serveFleet(t, fleet, ssmsim.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var results, errored, atSignal atomic.Int64
	cfg := audit.Config{Client: sdkClients(url, 3, 16), Region: "us-east-1", Concurrency: 16, Rate: 5, Grace: time.Minute,
		OnResult: func(r audit.Result) error {
			if r.Outcome == audit.OutcomeError {
				errored.Add(1)
			}
			if results.Add(1) == 3 {
				atSignal.Store(srv.Stats().Requests)
				cancel()
			}
			return nil
		}}
	st, err := audit.Run(ctx, cfg, slices.Values(fleetTargets(fleet)))
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	// One call may have had its slot and be on its way as the signal
	// came: it is in flight, and keeps its grace.
	if after := srv.Stats().Requests - atSignal.Load(); after > 1 {
		t.Errorf("%d calls sent after the signal (%d results, %d calls in all), want at most the one in flight", after, results.Load(), st.Calls)
	}
	if n := errored.Load(); n > 0 {
		t.Errorf("%d instances cut short by the signal recorded as errors, want them left for a resumed run", n)
	}
	if results.Load() >= 100 {
		t.Errorf("every instance audited: the signal came too late to test anything")
	}
}
