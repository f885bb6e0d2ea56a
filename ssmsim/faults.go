package ssmsim

import (
	"context"
	"fmt"
	"hash/maphash"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type atomicInt64 = atomic.Int64

// Faults are the fault and load knobs of a Server. The zero value injects
// nothing and does not limit the rate. Probabilities are per request, in
// [0, 1] (values outside are clamped), and independent; they apply in this
// order: throttling (from the rate limit, not a probability), dropped
// connection, InternalServerError, then, on an answer that would have been
// a success, malformed body or wrong types. Latency delays every request;
// the rest apply only to requests that pass the protocol and signature
// checks and name a supported operation.
type Faults struct {
	// Rate is the number of requests per second the server accepts, as a
	// token bucket shared by all clients; requests beyond it are answered
	// with ThrottlingException "Rate exceeded" (HTTP 400) at once. Zero or
	// negative means no limit.
	Rate float64
	// Burst is the bucket's size: how many requests may arrive at once
	// after a quiet spell. Zero means one second of refill, max(1,
	// ceil(Rate)), as AWS buckets hold at least that.
	Burst int
	// ThrottleRate is the probability of answering ThrottlingException
	// whatever the rate, as a service under load from other clients does.
	ThrottleRate float64
	// DropRate is the probability of dropping the connection: half the
	// drops close it without answering, half after the status line, the
	// headers and half the body.
	DropRate float64
	// ErrorRate is the probability of answering HTTP 500 InternalServerError.
	ErrorRate float64
	// MalformedRate is the probability of answering HTTP 200 with a body
	// that is not valid JSON (the real body cut short, or an HTML error
	// page from a proxy).
	MalformedRate float64
	// WrongTypeRate is the probability of answering HTTP 200 with valid JSON
	// whose members have the wrong types (a number for a string, a string
	// for a timestamp, an object for a list).
	WrongTypeRate float64
	// Latency delays every answer; Jitter spreads it uniformly over
	// [Latency-Jitter, Latency+Jitter] (never below zero). A client that
	// gives up during the delay gets nothing.
	Latency, Jitter time.Duration
}

const saltFault = 1 << 40

func clamp01(p float64) float64 {
	if math.IsNaN(p) || p < 0 {
		return 0
	}
	return min(p, 1)
}

func (f *Faults) normalize() {
	f.DropRate = clamp01(f.DropRate)
	f.ErrorRate = clamp01(f.ErrorRate)
	f.ThrottleRate = clamp01(f.ThrottleRate)
	f.MalformedRate = clamp01(f.MalformedRate)
	f.WrongTypeRate = clamp01(f.WrongTypeRate)
	f.Latency = max(f.Latency, 0)
	f.Jitter = max(f.Jitter, 0)
	if f.Rate <= 0 || math.IsNaN(f.Rate) {
		f.Rate = 0
	}
	if f.Burst <= 0 {
		f.Burst = max(1, int(math.Ceil(f.Rate)))
	}
}

// delay draws one request's latency.
func (f *Faults) delay(r *rng) time.Duration {
	x := r.float() // drawn always, to keep the stream aligned
	if f.Latency == 0 && f.Jitter == 0 {
		return 0
	}
	d := f.Latency + time.Duration((2*x-1)*float64(f.Jitter))
	return max(d, 0)
}

// SetFaults replaces the server's faults and rate limit; requests that
// arrive afterwards see the new values. It is safe to call while serving.
// A new rate keeps the tokens the bucket holds, up to the new burst.
func (s *Server) SetFaults(f Faults) {
	f.normalize()
	s.faultsMu.Lock()
	defer s.faultsMu.Unlock()
	s.bucket.set(f.Rate, f.Burst)
	s.faults.Store(&f)
}

// Faults returns the faults in force, with defaults filled in.
func (s *Server) Faults() Faults { return *s.faults.Load() }

// RateStep is one step of a rate schedule: from At after the schedule
// starts, the server accepts Rate requests per second (0: no limit).
type RateStep struct {
	At   time.Duration
	Rate float64
}

// ParseRateSchedule parses a rate schedule written as comma-separated
// OFFSET:RATE steps, offsets in Go duration syntax and in increasing order,
// such as "0s:200,20s:100,50s:200".
func ParseRateSchedule(text string) ([]RateStep, error) {
	var steps []RateStep
	for i, part := range strings.Split(text, ",") {
		at, rate, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok {
			return nil, fmt.Errorf("step %d %q: want OFFSET:RATE, such as 20s:100", i+1, part)
		}
		d, err := time.ParseDuration(at)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("step %d %q: offset %q is not a duration of 0 or more (such as 0s, 20s, 1m30s)", i+1, part, at)
		}
		r, err := strconv.ParseFloat(rate, 64)
		if err != nil || r < 0 || math.IsNaN(r) || math.IsInf(r, 0) {
			return nil, fmt.Errorf("step %d %q: rate %q is not a number of requests per second, 0 or more", i+1, part, rate)
		}
		if len(steps) > 0 && d <= steps[len(steps)-1].At {
			return nil, fmt.Errorf("step %d %q: offsets must increase", i+1, part)
		}
		steps = append(steps, RateStep{At: d, Rate: r})
	}
	return steps, nil
}

// RunRateSchedule sets the server's rate limit to each step's rate at
// start plus the step's offset, keeping the other faults of base (a Burst
// of zero follows each rate), and calls applied, if not nil, after each.
// It returns when the last step is applied or ctx is done. Requests in
// flight see the old or the new rate; the bucket keeps its tokens, up to
// the new burst.
func (s *Server) RunRateSchedule(ctx context.Context, start time.Time, base Faults, steps []RateStep, applied func(RateStep)) {
	t := time.NewTimer(0)
	defer t.Stop()
	for _, st := range steps {
		t.Reset(time.Until(start.Add(st.At)))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		f := base
		f.Rate = st.Rate
		s.SetFaults(f)
		if applied != nil {
			applied(st)
		}
	}
}

// bucket is a token bucket. Its lock is taken only when a rate is set.
type bucket struct {
	on     atomic.Bool // a rate is set; read without the lock as a fast path
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func (b *bucket) set(rate float64, burst int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	if !b.on.Load() || b.last.IsZero() {
		b.tokens = float64(burst)
	}
	b.on.Store(rate > 0)
	b.rate, b.burst = rate, float64(burst)
	b.tokens = min(b.tokens, b.burst)
	b.last = now
}

// allow takes a token, and reports whether there was one.
func (b *bucket) allow() bool {
	if !b.on.Load() {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.rate <= 0 {
		return true
	}
	now := time.Now()
	b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// Stats are a server's counters since it started or since ResetStats. Every
// request counts once in Requests and in Calls, and at most once in one of
// OK, ClientErrors, Throttled, Errors500, Dropped, Malformed and WrongTypes
// (a client that hangs up during the latency delay counts in none).
type Stats struct {
	// Requests counts every request the handler saw.
	Requests int64
	// Calls counts requests by the operation their X-Amz-Target names
	// (OpDescribeInstanceAssociationsStatus, OpDescribeInstanceInformation,
	// or OpUnknown for anything else), whatever the answer.
	Calls map[string]int64
	// OK counts well-formed successful answers.
	OK int64
	// ClientErrors counts HTTP 4xx answers other than throttling:
	// validation, unknown instances, bad tokens, refused credentials, ...
	ClientErrors int64
	// Throttled counts ThrottlingException answers.
	Throttled int64
	// Errors500 counts InternalServerError answers.
	Errors500 int64
	// Dropped counts connections dropped on purpose.
	Dropped int64
	// Malformed counts HTTP 200 answers whose body is not JSON.
	Malformed int64
	// WrongTypes counts HTTP 200 answers whose JSON has wrong types.
	WrongTypes int64
	// InFlight is the number of requests being handled now; PeakInFlight
	// the most at once.
	InFlight, PeakInFlight int64
	// PagesServed counts OK answers to the two paginated operations;
	// DuplicatePages counts those that repeated a page (same PageKey)
	// already served OK: a client that never refetches a page it got keeps
	// it at zero. The server cannot tell a refetch from a retry after the
	// client lost a complete answer (its own timeout, or the SDK race that
	// BufferedTransport avoids); both count. Both stay zero with
	// Options.DisablePageTracking.
	PagesServed, DuplicatePages int64
	// Connections counts the connections accepted: a client that keeps
	// its connections alive and pools enough of them opens about as many
	// as it has calls in flight at once, not one a call.
	Connections int64
}

// Stats returns the server's counters. It is safe to call while serving;
// the counters are read one by one, not as one snapshot.
func (s *Server) Stats() Stats {
	st := Stats{
		Requests:       s.requests.Load(),
		Calls:          make(map[string]int64, numOps),
		OK:             s.ok.Load(),
		ClientErrors:   s.clientErrors.Load(),
		Throttled:      s.throttled.Load(),
		Errors500:      s.errors500.Load(),
		Dropped:        s.dropped.Load(),
		Malformed:      s.malformed.Load(),
		WrongTypes:     s.wrongTypes.Load(),
		InFlight:       s.inFlight.Load(),
		PeakInFlight:   s.peak.Load(),
		PagesServed:    s.pagesServed.Load(),
		DuplicatePages: s.duplicatePages.Load(),
		Connections:    s.connections.Load(),
	}
	for k := range s.calls {
		if n := s.calls[k].Load(); n > 0 {
			st.Calls[opNames[k]] = n
		}
	}
	return st
}

// ResetStats zeroes the counters and forgets the pages served; PeakInFlight
// restarts from the requests in flight. Requests in flight while it runs may
// be counted on either side. The fault stream (Options.Seed) goes on where
// it was.
func (s *Server) ResetStats() {
	for _, c := range []*atomicInt64{&s.requests, &s.ok, &s.clientErrors, &s.throttled, &s.errors500,
		&s.dropped, &s.malformed, &s.wrongTypes, &s.pagesServed, &s.duplicatePages, &s.connections} {
		c.Store(0)
	}
	for k := range s.calls {
		s.calls[k].Store(0)
	}
	s.peak.Store(s.inFlight.Load())
	for k := range s.pages {
		sh := &s.pages[k]
		sh.mu.Lock()
		clear(sh.m)
		sh.mu.Unlock()
	}
}

// PageKey identifies a page of a paginated answer: the operation, its
// subject (the instance ID for DescribeInstanceAssociationsStatus; the
// filters, as sent, for DescribeInstanceInformation) and the NextToken it
// was asked with ("" for the first page).
type PageKey struct {
	Operation, Subject, NextToken string
}

const pageShards = 64

type pageShard struct {
	mu sync.Mutex
	m  map[PageKey]int32
}

func (s *Server) recordPage(k PageKey) {
	if !s.track {
		return
	}
	s.pagesServed.Add(1)
	h := maphash.String(s.hashSeed, k.Subject) ^ maphash.String(s.hashSeed, k.NextToken)
	sh := &s.pages[h%pageShards]
	sh.mu.Lock()
	n := sh.m[k] + 1
	sh.m[k] = n
	sh.mu.Unlock()
	if n > 1 {
		s.duplicatePages.Add(1)
	}
}

// PageCounts returns how many times each page was served OK since the
// server started or since ResetStats; nil with Options.DisablePageTracking.
func (s *Server) PageCounts() map[PageKey]int {
	if !s.track {
		return nil
	}
	out := map[PageKey]int{}
	for k := range s.pages {
		sh := &s.pages[k]
		sh.mu.Lock()
		for pk, n := range sh.m {
			out[pk] = int(n)
		}
		sh.mu.Unlock()
	}
	return out
}

// malformedBody returns a body that is not valid JSON: body cut short, or
// the HTML error page of a proxy.
func malformedBody(body []byte, variant int) []byte {
	if variant%2 == 0 && len(body) > 2 {
		return body[:len(body)/2]
	}
	return []byte("<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>\n")
}

// wrongTypeBodies are valid JSON with members of the wrong type, per operation.
var wrongTypeBodies = [numOps][]string{
	opDIAS: {
		`{"InstanceAssociationStatusInfos":{"AssociationId":"8dfe3659-4309-493a-8755-0123456789ab"}}`,
		`{"InstanceAssociationStatusInfos":[{"AssociationId":42,"Name":"AWS-RunPatchBaseline","Status":"Success"}]}`,
		`{"InstanceAssociationStatusInfos":[{"AssociationId":"8dfe3659-4309-493a-8755-0123456789ab","ExecutionDate":"yesterday","Status":"Success"}]}`,
		`{"InstanceAssociationStatusInfos":[],"NextToken":12345}`,
	},
	opDII: {
		`{"InstanceInformationList":{"InstanceId":"i-0123456789abcdef0"}}`,
		`{"InstanceInformationList":[{"InstanceId":["i-0123456789abcdef0"],"PingStatus":"Online"}]}`,
		`{"InstanceInformationList":[{"InstanceId":"i-0123456789abcdef0","LastPingDateTime":"now"}]}`,
		`{"InstanceInformationList":[],"NextToken":true}`,
	},
}

func wrongTypeBody(op, variant int) []byte {
	bodies := wrongTypeBodies[op]
	return []byte(bodies[variant%len(bodies)])
}
