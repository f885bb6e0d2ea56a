package audit

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"iter"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"
	smithyendpoints "github.com/aws/smithy-go/endpoints"
	"github.com/aws/smithy-go/middleware"
	"golang.org/x/sync/errgroup"
)

// Config says how a Session audits a fleet. The zero value of a field means
// its default.
type Config struct {
	// Client returns the SSM client for an account and region. A Session
	// calls it once per account-region, before its first call; an error
	// fails that account-region (see SiteError), or the run when it wraps
	// ErrFatal.
	Client func(account, region string) (API, error)
	// Region is the region of targets that name none.
	Region string
	// Allowed, when set, reports whether SSM answered calls at an
	// account-region in an earlier attempt of the run (one resumed): a
	// refusal there is that instance's, as after a call of this attempt
	// succeeded there (see refusedLimit).
	Allowed func(account, region string) bool
	// Concurrency bounds the instances audited at once in one
	// account-region (default 16).
	Concurrency int
	// Sites bounds the account-regions audited at once (default 64): each
	// has its own client, limiter and Concurrency workers, so that an
	// organisation takes about as long as its largest account-region.
	Sites int
	// MaxResults is the page size asked for, 1 to 50 (default 50).
	MaxResults int32
	// MaxPages ends an instance as PaginationLoop past this many pages
	// (default 1000), and a listing of DescribeInstanceInformation past 100
	// times as many.
	MaxPages int
	// Rate fixes the calls per second per account and region; 0 adapts.
	Rate float64
	// Grace is how long calls in flight may go on after ctx is cancelled
	// before they are cut short (default 0: cut at once). Instances cut
	// short are not reported, so that a resumed run fetches them again.
	Grace time.Duration
	// Deadline, when set, cuts calls short at that time whatever Grace
	// says (a timeout leaves no grace).
	Deadline time.Time
	// Triage records a target whose Info has an association overview in
	// which every association succeeded as compliant, and one whose Info
	// shows no association at all as no_associations, from the overview,
	// without asking for its associations (Result.Detail DetailOverview).
	// Others are fetched in full.
	Triage bool
	// TriageSince, when set, triages only targets whose last successful
	// association execution is at or after it: an older one may be stale,
	// which only the detail shows.
	TriageSince time.Time
	// Started is when this attempt of the run started; each result
	// carries it (Result.AttemptStartedAt). Zero leaves it unset.
	Started time.Time
	// OnResult receives each result as its instance completes. It is
	// called from many goroutines at once; an error stops the run.
	OnResult func(Result) error
	// Role, when set, returns the ARN of the role whose sessions sign the
	// calls in account, or "" when the run's own credentials do; nil means
	// the run's own everywhere. An expired token fails the account-region
	// when a role's session was refused, and stops the run when the run's
	// own credentials were.
	Role func(account string) string
	// Peers, when set, returns how the adaptive limiter of an
	// account-region hears from the other processes that share its limit
	// (the other shards of one list); nil for none.
	Peers func(account, region string) Peers
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// DefaultSites is Config.Sites when none is given: the account-regions
// audited at once.
const DefaultSites = 64

func (c *Config) defaults() {
	if c.Concurrency <= 0 {
		c.Concurrency = 16
	}
	if c.Sites <= 0 {
		c.Sites = DefaultSites
	}
	if c.MaxResults <= 0 {
		c.MaxResults = 50
	}
	if c.MaxPages <= 0 {
		c.MaxPages = 1000
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.OnResult == nil {
		c.OnResult = func(Result) error { return nil }
	}
}

// SiteError says why an account-region could not be audited, in the
// service's words: a role that could not be assumed (AccessDenied), a region
// that is not enabled, access denied to SSM there. The other
// account-regions are audited; the targets of this one end in
// OutcomeError with its Code and Message.
type SiteError struct {
	AccountID, Region string
	Code, Message     string
}

func (e *SiteError) Error() string {
	where := siteName(e.AccountID, e.Region)
	return fmt.Sprintf("%s: %s: %s", where, e.Code, e.Message)
}

// siteName names an account-region in a message: "ACCOUNT REGION", or the
// region alone when the account is not known.
func siteName(account, region string) string {
	if account == "" {
		return region
	}
	return account + " " + region
}

// AccountNameLabel is the label that carries the name of a target's
// account, as the organisation's listing or a file of accounts gives it.
const AccountNameLabel = "account_name"

// SiteStats are what a Session asked of one account-region.
type SiteStats struct {
	AccountID string `json:"account_id,omitempty"`
	// AccountName is the account's name, when it has one (the value of
	// AccountNameLabel of its targets): a Session leaves it empty, for its
	// caller to fill. It names an account that could not be audited, of
	// which no target has a result to say it.
	AccountName string `json:"account_name,omitempty"`
	// Region is AllRegions for an account whose regions could not be
	// listed.
	Region string `json:"region"`
	// Targets counts the targets of the account-region; Results those that
	// got a result.
	Targets int `json:"targets"`
	Results int `json:"results"`
	// Discovered counts the nodes that discovery found there; Listed is
	// true once it had listed them all (an attempt stopped while it
	// listed leaves it false: the nodes not listed are no targets).
	Discovered int   `json:"discovered,omitempty"`
	Listed     bool  `json:"listed,omitempty"`
	Calls      int64 `json:"calls"`
	Throttled  int64 `json:"throttled"`
	// LimiterRate is the client-side limit at the end (calls per second).
	LimiterRate float64 `json:"limiter_rate,omitempty"`
	// SharedWith is the most other processes (shards of the same list)
	// whose pace its adaptive limiter heard at once: they shared its limit.
	SharedWith int `json:"shared_with,omitempty"`
	// Error is why the account-region could not be audited, if it could
	// not; Unreachable when the Session gave up on its endpoint (no answer,
	// or nothing but server errors: see UnreachableError).
	Error       *Error `json:"error,omitempty"`
	Unreachable bool   `json:"unreachable,omitempty"`
	// InfoError is why the instance information of its listed instances
	// could not be read (see InfoError), when it could not: they were
	// audited without it.
	InfoError *Error `json:"info_error,omitempty"`
	// Audited is set, of an account-region that failed, in the run.json of
	// a group of a split (see RunInfo.GroupOf): the whole run's results
	// with a verdict there, of which the group's record holds its own
	// alone. 0 elsewhere.
	Audited int `json:"audited,omitempty"`
}

// ListedInPart reports whether s is an account-region whose listing failed
// (Error) after discovery had listed some of its nodes (Discovered): those
// were handed to the audit, or taken from the resumed record, so it was
// audited in part, unlike an account-region of which nothing is known.
// Results does not tell it: after --resume it counts this attempt's alone.
func (s SiteStats) ListedInPart() bool {
	return s.Error != nil && !s.Listed && s.Discovered > 0
}

// AllRegions stands for the region of an account whose regions could not
// be listed (a role that could not be assumed, with --regions all).
const AllRegions = "(all)"

type siteKey struct{ account, region string }

// site is what one account-region shares: its client, its limiter, its
// breaker and its counters.
type site struct {
	key     siteKey
	client  API
	limiter *Limiter
	ctx     context.Context
	cancel  context.CancelFunc

	calls, throttled        atomic.Int64
	targets, results, found atomic.Int64
	// audited counts the results not in error: an account-region that
	// failed ends its other instances in error.
	audited   atomic.Int64
	succeeded atomic.Bool
	// refused counts the instances SSM refused (isAccessDenied) there
	// before any call succeeded (see refusedOne).
	refused atomic.Int64
	// listed is set once Discover has listed every node there.
	listed atomic.Bool

	mu       sync.Mutex
	answered bool
	// answerless counts the instances that ended with no answer, failing
	// those that ended in a server error (HTTP 5xx) or an answer not in
	// SSM's protocol (a proxy's page) after every retry, since the last
	// that ended otherwise: neither clears the other, so that an outage
	// that mixes the two still opens the circuit.
	answerless, failing int
	down                *UnreachableError
	failed              *SiteError
	noInfo              *InfoError // the first failure of LookupInfo

	// over is set once its work is said to be over (see Session.ended);
	// guarded by the Session's mu.
	over bool
}

// Session audits the targets of a run, account-region by account-region.
// It is safe for concurrent use; its methods may run at once.
type Session struct {
	cfg                              Config
	mu                               sync.Mutex
	sites                            map[siteKey]*site
	calls, pages, throttled, retries atomic.Int64
	// answers counts the calls answered (Stats.Answers).
	answers atomic.Int64
	// multi is set when the run spans more than one account-region: then an
	// error that stops all calls with some credentials stops only its
	// account-region.
	multi atomic.Bool
	// infos makes the instance information of the nodes it discovers.
	infos infoMaker
	// cut is set when the cancellation of Run's context left a target
	// unaudited: one not started, one whose calls were cut short, a batch
	// not started or a source of targets that stopped listing. A
	// cancellation that left nothing undone interrupted nothing.
	cut atomic.Bool
	// pending counts the batches of each account-region (Batch.AccountID
	// and Region) that have not ended whole: its work is over at none.
	pending map[siteKey]int
	// unnamed counts the batches that name no account-region (targets of
	// any) and have not ended whole: while one runs, no work is over.
	unnamed int
	// swept is set once ended looked at every account-region: after, a
	// batch that ends looks at its own.
	swept bool
}

// runner is the Session as the attempts middleware knows it.
type runner = Session

// NewSession returns a Session with cfg's defaults applied.
func NewSession(cfg Config) *Session {
	cfg.defaults()
	return &Session{cfg: cfg, sites: map[siteKey]*site{}, pending: map[siteKey]int{}}
}

// Run audits every target, Concurrency at a time, and hands each Result to
// cfg.OnResult as it completes. One instance's failure never stops the
// others: it becomes a Result with OutcomeError. Run returns early with an
// error wrapping ErrFatal when the credentials or permissions cannot work
// for any instance, with OnResult's error, or with ctx.Err() when ctx's
// cancellation left a target unaudited (one not started or cut short, or a
// batch's source cut short: see Batch.Err); a cancellation after every
// target was audited is no error. When an account-region's endpoint gives
// no answer at all, Run stops auditing there and, once the rest is done,
// returns an error that wraps ErrUnreachable and one *UnreachableError per
// account-region. Stats count what was asked either way.
func Run(ctx context.Context, cfg Config, targets iter.Seq[Target]) (Stats, error) {
	s := NewSession(cfg)
	start := s.cfg.Now()
	err := s.Run(ctx, []Batch{{Targets: targets}})
	return s.statsSince(start), err
}

// Run audits the batches, Sites at a time, each with its own Concurrency
// workers (see the package function Run for the rest of the contract).
// When there is more than one account-region, an error that would stop
// every call with some credentials (a role that cannot be assumed, a region
// that is not enabled, access denied at the first call) fails only its
// account-region (see SiteError, Sites), as a role's does in any run; when
// every account-region failed before any of its instances was audited, Run
// returns an error wrapping ErrFatal.
func (s *Session) Run(ctx context.Context, batches []Batch) error {
	if len(batches) > 1 {
		s.multi.Store(true)
	}
	s.mu.Lock()
	for _, b := range batches {
		if k, ok := s.batchKey(b); ok {
			s.pending[k]++
		} else if !b.Invalid {
			s.unnamed++
		}
	}
	s.mu.Unlock()
	// Calls run on their own context so that a cancelled ctx stops new
	// instances at once but leaves calls in flight their grace period.
	callCtx, cancelCalls := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelCalls()
	stopGrace := context.AfterFunc(ctx, func() {
		if !s.cfg.Deadline.IsZero() && !s.cfg.Now().Before(s.cfg.Deadline) {
			cancelCalls()
			return
		}
		time.AfterFunc(s.cfg.Grace, cancelCalls)
	})
	defer stopGrace()

	g, gctx := errgroup.WithContext(callCtx)
	g.SetLimit(s.cfg.Sites)
	for _, b := range batches {
		if ctx.Err() != nil {
			s.cut.Store(true) // the batches left were not started
			break
		}
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error { return s.batch(ctx, gctx, b) })
	}
	err := g.Wait()
	if err == nil && s.cut.Load() {
		err = ctx.Err()
	}
	if err == nil {
		err = s.unreachable()
	}
	if err == nil {
		err = s.allFailed()
	}
	return err
}

// batch audits one batch with its own worker pool.
func (s *Session) batch(ctx, gctx context.Context, b Batch) error {
	g, bctx := errgroup.WithContext(gctx)
	g.SetLimit(s.cfg.Concurrency)
	for t := range b.Targets {
		if ctx.Err() != nil {
			s.cut.Store(true)
			break
		}
		if bctx.Err() != nil {
			break
		}
		var st *site
		if t.Problem == "" {
			var err error
			if st, err = s.site(gctx, t.AccountID, s.region(t)); err != nil {
				g.Go(func() error { return err })
				break
			}
			st.targets.Add(1)
			if st.isDown() {
				st.leave()
				continue
			}
		}
		g.Go(func() error {
			if ctx.Err() != nil {
				s.cut.Store(true)
				return nil
			}
			res, err := s.audit(bctx, ctx, st, t)
			if err != nil || res == nil {
				return err // nil: cut short, left for a resumed run
			}
			if st != nil {
				st.results.Add(1)
				if res.Outcome != OutcomeError {
					st.audited.Add(1)
				}
			}
			res.AttemptStartedAt = s.cfg.Started
			return s.cfg.OnResult(*res)
		})
	}
	if b.Err != nil {
		err := b.Err()
		switch {
		case err == nil:
		case ctx.Err() != nil && errors.Is(err, ctx.Err()):
			// The source was cut short by ctx: the targets it did not
			// list are left for a resumed run, and the calls in flight
			// keep their grace (a worker's error would cut them).
			s.cut.Store(true)
		default:
			g.Go(func() error { return err })
		}
	}
	err := g.Wait()
	// Whole: every target listed and audited. A signal, or another
	// batch's error, may have cut it short without an error of its own.
	s.ended(b, err == nil && ctx.Err() == nil && gctx.Err() == nil)
	return err
}

// batchKey is the account-region a batch names, if it names one.
func (s *Session) batchKey(b Batch) (siteKey, bool) {
	if b.AccountID == "" && b.Region == "" {
		return siteKey{}, false // targets of any account-region, or none
	}
	return siteKey{b.AccountID, s.region(Target{Region: b.Region})}, true
}

// ended counts a batch that ended whole (every target audited; one that
// did not leaves its account-region pending for good, or, naming none,
// every account-region), and tells the limiter of each account-region
// whose work is over that it is (see Limiter.finish), while the run goes
// on elsewhere: one whose batches all ended whole, while no batch of any
// account-region runs, and whose circuit did not open. One with targets
// left for a resumed run (cut short, its endpoint down) is not over; one
// that failed (SiteError) recorded every target, and is; so is one that
// no batch names (an instance-information lookup's, for a resumed run
// with nothing left there). An account-region said to be over is over for
// the Session: a later Run there paces alone. A batch of invalid lines
// (Batch.Invalid) calls none, and holds none back.
func (s *Session) ended(b Batch, whole bool) {
	if !whole || s.cfg.Peers == nil {
		return // nothing to tell, or nobody to tell it
	}
	var over []*site
	s.mu.Lock()
	k, named := s.batchKey(b)
	switch {
	case named:
		s.pending[k]--
	case !b.Invalid:
		s.unnamed--
	}
	if s.unnamed == 0 {
		ended := func(k siteKey, st *site) {
			if s.pending[k] == 0 && !st.over && !st.isDown() {
				st.over = true
				over = append(over, st)
			}
		}
		if named && s.swept {
			if st, ok := s.sites[k]; ok {
				ended(k, st)
			}
		} else {
			// The first time, and when the last batch of any ended:
			// every account-region, those no batch names too.
			for k, st := range s.sites {
				ended(k, st)
			}
			s.swept = true
		}
	}
	s.mu.Unlock()
	for _, st := range over {
		st.limiter.finish()
	}
}

func (s *Session) region(t Target) string {
	if t.Region != "" {
		return t.Region
	}
	return s.cfg.Region
}

// ErrNoRegion is wrapped by Run's error when a target names no region and
// Config.Region is empty.
var ErrNoRegion = errors.New("no region")

// site returns the account-region, making its client and limiter the first
// time. A client that cannot be made fails the account-region, or the run
// when the error wraps ErrFatal.
func (s *Session) site(ctx context.Context, account, region string) (*site, error) {
	k := siteKey{account, region}
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.sites[k]; ok {
		return st, nil
	}
	if region == "" {
		return nil, fmt.Errorf("%w: %w for account %q", ErrFatal, ErrNoRegion, account)
	}
	st := &site{key: k, limiter: NewLimiter(s.cfg.Rate)}
	if s.cfg.Peers != nil {
		if p := s.cfg.Peers(account, region); p != nil {
			st.limiter.SetPeers(p)
		}
	}
	// Not the caller's context: a site outlives the discovery or run that
	// made it, and ends its calls only when it fails or goes down.
	st.ctx, st.cancel = context.WithCancel(context.WithoutCancel(ctx))
	if s.cfg.Allowed != nil && s.cfg.Allowed(account, region) {
		st.succeeded.Store(true)
	}
	s.sites[k] = st
	c, err := s.cfg.Client(account, region)
	if err != nil {
		if errors.Is(err, ErrFatal) {
			return nil, err
		}
		code, msg := classify(err)
		st.fail(code, msg)
	}
	st.client = c
	return st, nil
}

// fail fails the account-region: calls in flight there are cut short, and
// its remaining targets end in error with code and message.
func (st *site) fail(code, msg string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.failed == nil {
		st.failed = NewSiteError(st.key.account, st.key.region, code, msg)
		st.cancel()
	}
}

func (st *site) failure() *SiteError {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.failed
}

// Stats returns what the Session asked of SSM so far, with LimiterRate the
// highest of its account-regions (or the fixed Rate), and LimiterCutRate
// the highest of those whose limiter was cut for throttling.
func (s *Session) Stats() Stats {
	st := Stats{
		Calls:     s.calls.Load(),
		Pages:     s.pages.Load(),
		Throttled: s.throttled.Load(),
		Retries:   s.retries.Load(),
		Answers:   s.answers.Load(),
	}
	s.mu.Lock()
	for _, x := range s.sites {
		rate, peak := x.limiter.ends()
		st.LimiterRate = max(st.LimiterRate, rate)
		if peak > 0 {
			st.LimiterPeak = max(st.LimiterPeak, peak)
			st.LimiterCutRate = max(st.LimiterCutRate, rate)
		}
	}
	s.mu.Unlock()
	if s.cfg.Rate > 0 {
		st.LimiterRate = s.cfg.Rate
	}
	return st
}

// statsSince is Stats with the time since start and the mean rate.
func (s *Session) statsSince(start time.Time) Stats {
	st := s.Stats()
	st.Seconds = s.cfg.Now().Sub(start).Seconds()
	if st.Seconds > 0 {
		st.Rate = float64(st.Calls) / st.Seconds
	}
	return st
}

// Sites returns the stats of every account-region the Session touched,
// sorted by account then region.
func (s *Session) Sites() []SiteStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SiteStats, 0, len(s.sites))
	for k, x := range s.sites {
		ss := SiteStats{
			AccountID: k.account, Region: k.region,
			Targets: int(x.targets.Load()), Results: int(x.results.Load()), Discovered: int(x.found.Load()), Listed: x.listed.Load(),
			Calls: x.calls.Load(), Throttled: x.throttled.Load(), LimiterRate: x.limiter.Rate(),
			SharedWith: x.limiter.SharedWith(),
		}
		if s.cfg.Rate > 0 {
			ss.LimiterRate = s.cfg.Rate
		}
		x.mu.Lock()
		if x.failed != nil {
			ss.Error = &Error{Code: x.failed.Code, Message: x.failed.Message}
		} else if x.down != nil {
			code := CodeTransport
			if x.down.Status != 0 {
				code = x.down.Cause // the service's own code
			}
			ss.Error = &Error{Code: code, Message: x.down.Error()}
			ss.Unreachable = true
		}
		if x.noInfo != nil {
			ss.InfoError = &Error{Code: x.noInfo.Code, Message: x.noInfo.Message}
		}
		x.mu.Unlock()
		out = append(out, ss)
	}
	slices.SortFunc(out, func(a, b SiteStats) int {
		return cmp.Or(cmp.Compare(a.AccountID, b.AccountID), cmp.Compare(a.Region, b.Region))
	})
	return out
}

// unreachable returns the error for the account-regions given up on, or nil.
func (s *Session) unreachable() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, x := range s.sites {
		x.mu.Lock()
		if x.down != nil {
			d := *x.down
			errs = append(errs, &d)
		}
		x.mu.Unlock()
	}
	if len(errs) == 0 {
		return nil
	}
	slices.SortFunc(errs, func(a, b error) int {
		x, y := a.(*UnreachableError), b.(*UnreachableError)
		return cmp.Or(cmp.Compare(x.AccountID, y.AccountID), cmp.Compare(x.Region, y.Region))
	})
	return fmt.Errorf("%w: %w", ErrUnreachable, errors.Join(errs...))
}

// allFailed returns an error wrapping ErrFatal when every account-region
// failed (see SiteError) before any of its instances was audited: then
// nothing could be audited anywhere, a setup to fix, whether the run has
// one account-region or many. Account-regions that all failed after some
// instances were audited leave an incomplete run, each failed.
func (s *Session) allFailed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var failed []*SiteError
	for _, x := range s.sites {
		f := x.failure()
		if f == nil || x.audited.Load() > 0 {
			return nil
		}
		failed = append(failed, f)
	}
	if len(failed) == 0 {
		return nil
	}
	return NoSiteAudited(failed)
}

func (st *site) isDown() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.down != nil
}

// leave counts an instance left unaudited because the site is down.
func (st *site) leave() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.down.Left++
}

// answer records how an instance's last call ended, and reports whether the
// instance must be left unrecorded because the site is (now) down. A call
// that succeeded is kept, even one that came as the circuit opened.
func (st *site) answer(err error) (leave bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.down != nil {
		if err == nil {
			return false // an answer that came as the circuit opened
		}
		st.down.Left++
		return true
	}
	u, none := noAnswer(err)
	failed, failing := serverFailure(err)
	switch {
	case none:
		st.answerless++
		if st.answered && st.answerless < breakerLimit {
			return false // one instance's bad luck, or the start of an outage
		}
	case failing:
		// The service answered, and will again: one instance's server
		// error among successes is that instance's, as the retries have
		// already had their go; only a run of them is an outage. An
		// answer not in SSM's protocol is no sign that SSM answers.
		st.answered = st.answered || failed.BadAnswer == ""
		st.failing++
		if st.failing < breakerLimit {
			return false
		}
		u = failed
	default:
		st.answered, st.answerless, st.failing = true, 0, 0
		return false
	}
	u.AccountID, u.Region, u.Answered, u.Left = st.key.account, st.key.region, st.answered, 1
	st.down = u
	st.cancel() // calls in flight there cannot succeed either
	return true
}

// breakerLimit is how many instances may end with no answer from the
// service, or in a server error or an answer not in its protocol, after
// every retry, with no other answer in between, before an account-region
// is taken for down (at once, for no answer where none ever came).
const breakerLimit = 5

// UnreachableError says that the SSM endpoint of an account and region gave
// no answer at all (connection refused, no such host, TLS failure, time
// out, a proxy on the way that could not be reached), after every retry, or
// (Status set) nothing but server errors, or answers not in SSM's protocol
// (a proxy's or a firewall's page), for breakerLimit instances: the
// Session stopped auditing there and left its instances
// unrecorded, for a resumed run. Answered tells whether the endpoint had
// answered earlier in the run (then it went away mid-run).
type UnreachableError struct {
	AccountID, Region string
	// Endpoint is the URL the calls went to, without path or user info;
	// empty when unknown.
	Endpoint string
	// Cause is the last failure, in a few words ("no such host",
	// "connection refused", "timed out").
	Cause string
	// ThroughProxy is set when it was the proxy the calls went through
	// that could not be reached (or spoken to): then Cause is the proxy's,
	// and Proxy its address (host and port, or the host whose name did not
	// resolve; never its user info), or "" when net/http does not say.
	ThroughProxy bool
	Proxy        string
	// Certificate is set when the TLS handshake failed on the server's
	// certificate (the proxy's, when ThroughProxy): what was wrong with
	// it. Cause then says so, with crypto/x509's words.
	Certificate CertificateProblem
	// Status is the HTTP status of the answers that opened the circuit
	// (5xx for server errors, any for answers not in SSM's protocol), when
	// it was they and not a silence: the endpoint answered, but with
	// nothing else. Cause is then the service's error code, or
	// CodeBadResponse for answers not in its protocol.
	Status int
	// BadAnswer says what came, when it was answers not in SSM's protocol
	// ("answered HTTP 403 with text/html, not SSM's protocol"); "" else.
	BadAnswer string
	Answered  bool
	// Left counts the instances left unrecorded there.
	Left int
}

func (e *UnreachableError) Error() string {
	where := e.Endpoint
	if where == "" {
		where = "the SSM endpoint of " + e.Region
	}
	if e.ThroughProxy {
		where += " through the proxy"
		if e.Proxy != "" {
			where += " " + e.Proxy
		}
	}
	if e.AccountID != "" && (e.Status != 0 || e.Answered) {
		// Mid-run, several accounts may fail at one regional URL: each
		// line says whose.
		where += " (account " + e.AccountID + ", " + e.Region + ")"
	}
	if e.BadAnswer != "" {
		return fmt.Sprintf("%s %s: a proxy or a firewall on the way? %d instances in a row ended in such an answer or a server error after every retry, with no other answer between them (the last left unrecorded); %d instances left for a resumed run",
			where, e.BadAnswer, breakerLimit, e.Left)
	}
	if e.Status != 0 {
		// The last of the run of failures is left, not recorded, with
		// those not started: the counts add up to the lines above them.
		return fmt.Sprintf("%s is failing (%s, HTTP %d): %d instances in a row ended in a server error after every retry, with no other answer between them (the last left unrecorded); %d instances left for a resumed run",
			where, e.Cause, e.Status, breakerLimit, e.Left)
	}
	if e.Answered {
		return fmt.Sprintf("%s stopped answering (%s) after %d instances in a row got no answer (the last left unrecorded); %d instances left for a resumed run",
			where, e.Cause, breakerLimit, e.Left)
	}
	return fmt.Sprintf("cannot reach %s: %s", where, e.Cause)
}

// ProxyVar names the variable of the proxy that calls to e's endpoint
// take (HTTP_PROXY for plain http, HTTPS_PROXY otherwise).
func (e *UnreachableError) ProxyVar() string {
	if strings.HasPrefix(e.Endpoint, "http://") {
		return "HTTP_PROXY"
	}
	return "HTTPS_PROXY"
}

// ErrUnreachable is wrapped by the error Run returns when it gave up on an
// account-region whose endpoint did not answer, or answered nothing but
// server errors (see UnreachableError).
var ErrUnreachable = errors.New("SSM endpoint down")

// stops decides what an error that no retry can fix stops: nothing (it is
// this instance's), the account-region, or the run (runFatal). A failure to
// obtain the run's own credentials stops the run; one of an assumed role's,
// its account-region. An error that stops every call with these
// credentials (bad credentials, a region not enabled, access denied before
// any call there succeeded: of an instance's calls, once refusedOne has
// taken the first refusedLimit) stops the run when it has one account-region,
// and only its account-region otherwise; expired credentials stop the run
// when they are its own, and the account-region when they are a role's
// session (Config.Role).
func (s *Session) stops(st *site, err error) (siteFatal, runFatal bool) {
	var ce *CredentialsError
	if errors.As(err, &ce) {
		if ce.AccountID != "" {
			return true, false
		}
		return false, true
	}
	if !IsFatal(err) || isAccessDenied(err) && st.succeeded.Load() {
		return false, false
	}
	if isExpired(err) && s.role(st) != "" {
		// A role's session is renewed before it expires: one refused
		// as expired was cut short (revoked, or a clock far off), and
		// the others' sessions and the run's own credentials may be
		// fine. A resumed run assumes the role afresh.
		return true, false
	}
	if s.multi.Load() && !isExpired(err) {
		return true, false
	}
	// The run's own credentials expired, which every account-region
	// needs.
	return false, true
}

// refusedLimit is how many instances of an account-region SSM may refuse
// (access denied) before any call there succeeded, each as its own error,
// before the account-region fails as refused: a policy that allows the call
// on some instances alone (by tag) refuses the others one by one, and the
// first answers of a run may all be refusals (the list's first instances
// another team's), but this many with none allowed is a policy that allows
// none, and the rest need not be asked. Fewer, all refused, stay each its
// own error: a shard, or a few IDs, may hold only refused instances.
const refusedLimit = 64

// refusedOne reports whether err, the end of one instance's calls at st,
// is SSM's refusal of that instance alone: one of the first refusedLimit
// before any call there succeeded (stops tells those after).
func (st *site) refusedOne(err error) bool {
	return isAccessDenied(err) && !st.succeeded.Load() && st.refused.Add(1) < refusedLimit
}

// role is the ARN of the role whose sessions sign st's calls, or "" for the
// run's own credentials.
func (s *Session) role(st *site) string {
	if s.cfg.Role == nil {
		return ""
	}
	return s.cfg.Role(st.key.account)
}

// siteCause is the code and message that fail st for err: the service's,
// and for a role's session that expired, the role, since the message
// would otherwise read as the run's own credentials'.
func (s *Session) siteCause(st *site, err error) (code, msg string) {
	code, msg = classify(err)
	if arn := s.role(st); arn != "" && isExpired(err) {
		msg += " (a session of role " + arn + ", which is renewed before it expires: revoked early, or this machine's clock is off?)"
	}
	return code, msg
}

// isExpired reports whether the service refused err's call for credentials
// that have expired.
func isExpired(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "ExpiredToken", "ExpiredTokenException":
		return true
	}
	return false
}

// audit fetches every page of one instance. It returns a nil Result when the
// call context was cancelled or the account-region is down (the instance is
// left for a resumed run), and an error only when the whole run must stop.
func (s *Session) audit(ctx, runCtx context.Context, st *site, t Target) (*Result, error) {
	region := s.region(t)
	res := &Result{
		AccountID:  t.AccountID,
		Region:     region,
		InstanceID: t.InstanceID,
		Labels:     t.Labels,
		Source:     t.Source,
		Info:       t.Info,
	}
	if t.Problem != "" {
		if res.InstanceID == "" {
			// An empty cell: the record needs an ID, and the source says
			// which line it was.
			res.InstanceID = EmptyID
		}
		res.Outcome = OutcomeInvalid
		res.Error = &Error{Code: CodeInvalid, Message: t.Problem}
		res.AuditedAt = s.cfg.Now().UTC()
		return res, nil
	}
	if f := st.failure(); f != nil {
		res.fail(f.Code, f.Message)
		res.AuditedAt = s.cfg.Now().UTC()
		return res, nil
	}
	if st.isDown() {
		// The circuit opened while the instance waited for a worker.
		st.leave()
		return nil, nil
	}
	if oc := s.triaged(t); oc != "" {
		res.Outcome, res.Detail = oc, DetailOverview
		res.AuditedAt = s.cfg.Now().UTC()
		return res, nil
	}
	// The site's context ends when the site goes down or fails, the call
	// context when the run is cut short: either ends this instance's calls.
	callCtx, stop := context.WithCancel(ctx)
	defer stop()
	defer context.AfterFunc(st.ctx, stop)()
	p := ssm.NewDescribeInstanceAssociationsStatusPaginator(st.client,
		&ssm.DescribeInstanceAssociationsStatusInput{InstanceId: aws.String(t.InstanceID)},
		func(o *ssm.DescribeInstanceAssociationsStatusPaginatorOptions) {
			o.Limit = s.cfg.MaxResults
			o.StopOnDuplicateToken = true
		})
	// The tokens seen, by their hash, as discovery keeps its own: an
	// endpoint that is not SSM's may send tokens of megabytes, a page
	// each, and none of them is kept.
	seed, seen := maphash.MakeSeed(), map[uint64]bool{}
	size := 0                 // the text of the associations read (associationSize)
	taken := map[string]int{} // the associations' indexes, by ID
	for p.HasMorePages() {
		if res.Pages >= s.cfg.MaxPages {
			res.fail(CodePaginationLoop, "more than "+plural(int64(s.cfg.MaxPages), "page")+maxPagesNote)
			break
		}
		// The grace is for the calls in flight: a page not sent yet when
		// the run is cut short (its slot not yet come) is not sent, and
		// the instance is left for a resumed run.
		at := &attempts{limiter: st.limiter, run: s, site: st, unsent: runCtx}
		out, err := p.NextPage(callCtx, at.option)
		res.Calls += int(at.n.Load())
		if err == nil {
			err = foreignAnswer("SSM", "DescribeInstanceAssociationsStatus", out.ResultMetadata, out.InstanceAssociationStatusInfos != nil)
		}
		if err != nil {
			if ctx.Err() != nil || at.n.Load() == 0 && runCtx.Err() != nil {
				s.cut.Store(true)
				return nil, nil
			}
			if f := st.failure(); f != nil {
				// Cut short by its account-region's failure.
				res.fail(f.Code, f.Message)
				break
			}
			var siteFatal, runFatal bool
			if !st.refusedOne(err) {
				siteFatal, runFatal = s.stops(st, err)
			}
			if runFatal {
				return nil, fmt.Errorf("%w: %s: %w", ErrFatal, t.InstanceID, err)
			}
			if siteFatal {
				code, msg := s.siteCause(st, err)
				st.fail(code, msg)
				res.fail(code, msg)
				break
			}
			if st.answer(err) {
				return nil, nil
			}
			code, msg := classify(err)
			if code == CodeInvalidInstanceID {
				// Deregistered between two pages: the rows of the pages
				// before are no verdict, and a not_managed line has none.
				res.Outcome, res.Associations = OutcomeNotManaged, nil
				res.Error = cutError(code, msg)
			} else {
				res.fail(code, msg)
			}
			break
		}
		st.answer(nil)
		st.succeeded.Store(true)
		res.Pages++
		s.pages.Add(1)
		for _, a := range out.InstanceAssociationStatusInfos {
			size += associationSize(a)
		}
		if size > maxInstanceAnswer {
			// Held in memory and written as one record line, which the
			// record's reader would refuse: none is SSM's.
			res.Associations = nil
			res.fail(CodeBadResponse, fmt.Sprintf("associations of more than %d MiB over %d pages, more than any of SSM's: not its protocol", maxInstanceAnswer>>20, res.Pages))
			break
		}
		for _, a := range out.InstanceAssociationStatusInfos {
			// One association on two pages (one added between two
			// calls shifts the rows) is one: its status from the later
			// page, the fresher.
			id := aws.ToString(a.AssociationId)
			if i, again := taken[id]; again && id != "" {
				res.Associations[i] = association(a)
				continue
			}
			taken[id] = len(res.Associations)
			res.Associations = append(res.Associations, association(a))
		}
		if tok := aws.ToString(out.NextToken); tok != "" {
			h := maphash.String(seed, tok)
			if seen[h] {
				res.fail(CodePaginationLoop, fmt.Sprintf("NextToken repeated after %d pages", res.Pages))
				break
			}
			seen[h] = true
		}
	}
	if res.Outcome == "" {
		res.Outcome = Judge(res.Associations)
	}
	res.AuditedAt = s.cfg.Now().UTC()
	return res, nil
}

// triaged returns the outcome t is recorded with from its association
// overview, or "" when it must be fetched: compliant when every association
// succeeded (and, with TriageSince, the newest success is recent: a node
// that ran nothing for long is fetched; one association that did not run
// for long beside one that ran today is not seen), no_associations when SSM
// shows none at all (no
// overview counts and no association status).
func (s *Session) triaged(t Target) Outcome {
	if !s.cfg.Triage || t.Info == nil {
		return ""
	}
	o := t.Info.AssociationOverview
	if t.Info.AssociationStatus == "" && (o == nil || len(o.InstanceAssociationStatusAggregatedCount) == 0) {
		return OutcomeNoAssociations
	}
	// The counts alone are not enough: where the node's status or the
	// overview's own says other than Success, the fields disagree, and the
	// associations' details tell which is right.
	if !o.AllSucceeded() || !succeededOrNone(t.Info.AssociationStatus) || !succeededOrNone(o.DetailedStatus) {
		return ""
	}
	if !s.cfg.TriageSince.IsZero() {
		// The agent dates an execution by the node's clock: one far ahead
		// of this one vouches for nothing recent.
		last := t.Info.LastSuccessfulAssociationExecutionDate
		if last == nil || last.Before(s.cfg.TriageSince) || last.After(s.cfg.Now().Add(triageAhead)) {
			return ""
		}
	}
	return OutcomeCompliant
}

// triageAhead is how far ahead of this machine's clock a node's newest
// success may be dated and still be taken by triage: clocks drift, and
// an hour is more than NTP lets them.
const triageAhead = time.Hour

// succeededOrNone reports whether status, an instance's association status
// as its information gives it, is Success or not given.
func succeededOrNone(status string) bool { return status == "" || status == StatusSuccess }

func (res *Result) fail(code, msg string) {
	res.Outcome = OutcomeError
	res.Error = cutError(code, msg)
}

// cutError is an Error of code and msg, each cut as a field read from an
// answer is (cutField): either may be a service's words.
func cutError(code, msg string) *Error { return &Error{Code: cutField(code), Message: cutField(msg)} }

// option installs the attempts middleware in one operation's stack: one
// per operation, so that its count tells the first attempt from the
// retries.
func (a *attempts) option(o *ssm.Options) {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		return st.Finalize.Insert(a, "Retry", middleware.After)
	})
	if a.first && o.Retryer != nil {
		o.Retryer = pageRetryer{o.Retryer}
	}
	if o.EndpointResolverV2 != nil {
		o.EndpointResolverV2 = endpointRules{o.EndpointResolverV2}
	}
}

// endpointRules is the SDK's endpoint resolver, whose refusals it returns
// as *EndpointRulesError: the SDK gives them no type of their own.
type endpointRules struct{ ssm.EndpointResolverV2 }

func (r endpointRules) ResolveEndpoint(ctx context.Context, p ssm.EndpointParameters) (smithyendpoints.Endpoint, error) {
	e, err := r.EndpointResolverV2.ResolveEndpoint(ctx, p)
	if err != nil {
		return e, &EndpointRulesError{err}
	}
	return e, nil
}

// EndpointRulesError is a call that was never sent: the SDK's endpoint
// rules refuse the configuration (FIPS or dual-stack with a custom
// endpoint, say). Its text is the SDK's reason. No retry mends it, and no
// other call can work while it stands: IsFatal says so (Fatal).
type EndpointRulesError struct{ Err error }

func (e *EndpointRulesError) Error() string { return e.Err.Error() }
func (e *EndpointRulesError) Unwrap() error { return e.Err }

// Fatal tells Run that no call can work while this stands.
func (e *EndpointRulesError) Fatal() bool { return true }

// pageRetryer is the retryer of a listing's pages: a throttled page is
// tried again after a random delay of at most pageThrottleDelay, doubling
// with each attempt to 16 times that, not the standard backoff's up to 1 s
// on the first retry, doubling to 20 s (the SDK's retry behaviour of 2026;
// 2 s before). The Limiter paces the retry as it
// paces every attempt, and each page waits for the one before: a second
// lost on one page is a second lost by the whole account-region. Other
// errors keep the standard backoff.
type pageRetryer struct{ aws.Retryer }

const pageThrottleDelay = 200 * time.Millisecond

func (r pageRetryer) RetryDelay(attempt int, err error) (time.Duration, error) {
	d, rerr := r.Retryer.RetryDelay(attempt, err)
	if rerr != nil || !IsThrottle(err) {
		return d, rerr
	}
	limit := pageThrottleDelay << min(max(attempt-1, 0), 4)
	return time.Duration(rand.Int64N(int64(limit))) + 1, nil
}

// GetAttemptToken keeps the wrapped retryer's, when it has one.
func (r pageRetryer) GetAttemptToken(ctx context.Context) (func(error) error, error) {
	if v2, ok := r.Retryer.(aws.RetryerV2); ok {
		return v2.GetAttemptToken(ctx)
	}
	return r.Retryer.GetInitialToken(), nil
}

// noSiteAudited begins the error of a run none of whose account-regions
// could be audited.
const noSiteAudited = "no account-region could be audited: "

// ErrNoSiteAudited is wrapped, beside ErrFatal, by the error of a run none
// of whose account-regions could be audited (NoSiteAudited).
var ErrNoSiteAudited = errors.New(noSiteAudited[:len(noSiteAudited)-2])

// NoSiteAudited returns the error of a run whose account-regions all
// failed before any of their instances was audited, each with its
// failure, in their order: it wraps ErrFatal and ErrNoSiteAudited.
func NoSiteAudited(failed []*SiteError) error {
	errs := make([]error, len(failed))
	for i, f := range failed {
		errs[i] = f
	}
	return &noSiteAuditedError{fmt.Errorf("%w: %w", ErrNoSiteAudited, errors.Join(errs...))}
}

// noSiteAuditedError is fatal (ErrFatal) in words of its own: ErrFatal's,
// "cannot call SSM", are not true of a role that STS would not let the
// run assume, nor of a region whose listing failed.
type noSiteAuditedError struct{ err error }

func (e *noSiteAuditedError) Error() string   { return e.err.Error() }
func (e *noSiteAuditedError) Unwrap() []error { return []error{ErrFatal, e.err} }
