package ssmsim

import (
	"sync"
	"sync/atomic"
)

// acctRegion is the state a Server keeps for one account-region of an
// organisation: its own token bucket, as AWS throttles each account in each
// region apart, and its counters.
type acctRegion struct {
	key    AccountRegion
	from   atomic.Pointer[Faults] // the faults the bucket was last set from
	mu     sync.Mutex             // serializes setting the bucket
	bucket bucket

	requests, okCount, throttledCount atomic.Int64
	calls                             [numOps]atomic.Int64
}

// accountRegions holds a Server's acctRegions, created on first use.
type accountRegions struct {
	m sync.Map // AccountRegion -> *acctRegion
}

// accountRegion returns the state of c's account in region; nil for the
// server of one fleet, which keeps one bucket for every request.
func (s *Server) accountRegion(c *caller, region string) *acctRegion {
	if s.org.single {
		return nil
	}
	k := AccountRegion{c.acct.ID, region}
	if v, ok := s.regions.m.Load(k); ok {
		return v.(*acctRegion)
	}
	v, _ := s.regions.m.LoadOrStore(k, &acctRegion{key: k})
	return v.(*acctRegion)
}

// allow takes a token from ar's bucket (the server's one bucket when ar is
// nil), after giving the bucket the Rate and Burst of fa if they changed
// since it last looked.
func (s *Server) allow(ar *acctRegion, fa *Faults) bool {
	if ar == nil {
		return s.bucket.allow()
	}
	if ar.from.Load() != fa {
		ar.mu.Lock()
		if ar.from.Load() != fa {
			ar.bucket.set(fa.Rate, fa.Burst)
			ar.from.Store(fa)
		}
		ar.mu.Unlock()
	}
	return ar.bucket.allow()
}

func (ar *acctRegion) count(op int) {
	if ar != nil {
		ar.requests.Add(1)
		ar.calls[op].Add(1)
	}
}

func (ar *acctRegion) ok() {
	if ar != nil {
		ar.okCount.Add(1)
	}
}

func (ar *acctRegion) throttled() {
	if ar != nil {
		ar.throttledCount.Add(1)
	}
}

// RegionStats are the counters of one account-region of an organisation.
type RegionStats struct {
	// Requests counts the requests signed by a key of the account and
	// scoped to the region that passed authentication; Calls counts them
	// by operation.
	Requests int64
	Calls    map[string]int64
	// OK counts well-formed successful answers; Throttled counts
	// ThrottlingException answers, from the account-region's own bucket
	// or from Faults.ThrottleRate.
	OK, Throttled int64
}

// RegionStats returns the counters of every account-region that a request
// reached since the server started or since ResetRegionStats; nil for a
// server of one fleet. It is safe to call while serving; the counters are
// read one by one, not as one snapshot.
func (s *Server) RegionStats() map[AccountRegion]RegionStats {
	if s.org.single {
		return nil
	}
	out := map[AccountRegion]RegionStats{}
	s.regions.m.Range(func(k, v any) bool {
		ar := v.(*acctRegion)
		st := RegionStats{
			Requests:  ar.requests.Load(),
			Calls:     map[string]int64{},
			OK:        ar.okCount.Load(),
			Throttled: ar.throttledCount.Load(),
		}
		for op := range ar.calls {
			if n := ar.calls[op].Load(); n > 0 {
				st.Calls[opNames[op]] = n
			}
		}
		out[ar.key] = st
		return true
	})
	return out
}

// ResetRegionStats zeroes the counters of RegionStats; the buckets keep
// their tokens. ResetStats leaves these counters alone.
func (s *Server) ResetRegionStats() {
	s.regions.m.Range(func(k, v any) bool {
		ar := v.(*acctRegion)
		ar.requests.Store(0)
		ar.okCount.Store(0)
		ar.throttledCount.Store(0)
		for op := range ar.calls {
			ar.calls[op].Store(0)
		}
		return true
	})
}
