package audit

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"golang.org/x/sync/errgroup"
)

// API is the part of the SSM client that audit uses. *ssm.Client satisfies
// it; so does a fake in a unit test.
type API interface {
	DescribeInstanceAssociationsStatus(ctx context.Context, params *ssm.DescribeInstanceAssociationsStatusInput, optFns ...func(*ssm.Options)) (*ssm.DescribeInstanceAssociationsStatusOutput, error)
}

var _ API = (*ssm.Client)(nil)

// Error codes that this package puts in Error.Code, beside the API's own.
const (
	// CodePaginationLoop: a NextToken came back twice, or there were more
	// pages than Config.MaxPages.
	CodePaginationLoop = "PaginationLoop"
	// CodeTransport: no answer from the service (connection refused or
	// dropped, timeout) after every retry.
	CodeTransport = "Transport"
	// CodeInvalid: the input was not an instance ID.
	CodeInvalid = "Invalid"
	// EmptyID stands in the record for an input line whose ID was empty.
	EmptyID = "(empty)"
	// CodeInvalidInstanceID is SSM's answer for an ID that is not a managed
	// node in that account and region.
	CodeInvalidInstanceID = "InvalidInstanceId"
)

// ErrFatal is wrapped by the error Run returns when the run cannot go on for
// any instance: credentials missing, invalid or expired, or access to
// DescribeInstanceAssociationsStatus denied. Retrying instance by instance
// would only fail thousands of times; the user must fix the setup.
var ErrFatal = errors.New("cannot call SSM")

// fatalCodes are API error codes that mean no call with these credentials
// can work.
var fatalCodes = map[string]bool{
	"UnrecognizedClientException":         true,
	"InvalidClientTokenId":                true,
	"ExpiredToken":                        true,
	"ExpiredTokenException":               true,
	"InvalidSignatureException":           true,
	"SignatureDoesNotMatch":               true,
	"IncompleteSignature":                 true,
	"IncompleteSignatureException":        true,
	"MissingAuthenticationToken":          true,
	"MissingAuthenticationTokenException": true,
	"AuthFailure":                         true,
	"AccessDenied":                        true,
	"AccessDeniedException":               true,
	"UnauthorizedOperation":               true,
}

// throttleCodes are the codes that mean "slow down".
var throttleCodes = map[string]bool{
	"ThrottlingException":                    true,
	"Throttling":                             true,
	"TooManyRequestsException":               true,
	"RequestLimitExceeded":                   true,
	"ProvisionedThroughputExceededException": true,
	"SlowDown":                               true,
}

// IsFatal reports whether err from an SSM call means that no call can
// succeed with this configuration (see ErrFatal): credentials that could not
// be obtained (a *CredentialsError) or that the service refused, or an
// error that says so itself with a method Fatal() bool (a request the HTTP
// client refused to send, say).
func IsFatal(err error) bool {
	var signing *v4.SigningError
	var creds *CredentialsError
	var fatal interface{ Fatal() bool }
	if errors.As(err, &signing) || errors.As(err, &creds) || errors.As(err, &fatal) && fatal.Fatal() {
		return true
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && fatalCodes[ae.ErrorCode()]
}

// CredentialsError is a failure to obtain credentials: a credential_process
// that failed or printed something unreadable, an SSO session that expired,
// a role that could not be assumed. Its text names the kind of source and
// the profile, never what the source printed, which may hold a secret. Run
// treats it as fatal (see ErrFatal) at its first sign, at the start or in
// the middle of a run; the instances not yet audited stay unrecorded, so
// that a resumed run continues with them. It is never retried.
type CredentialsError struct {
	// Source says where the credentials come from, in words:
	// "credential_process", "SSO", "assumed role", "environment", ...
	Source string
	// Profile is the shared-config profile involved, or "".
	Profile string
	// Kind says what went wrong without quoting the source: "the process
	// failed", "the session has expired", ...
	Kind string
}

func (e *CredentialsError) Error() string {
	s := "could not obtain AWS credentials"
	if e.Source != "" {
		s += " from " + e.Source
	}
	if e.Profile != "" {
		s += " (profile " + e.Profile + ")"
	}
	if e.Kind != "" {
		s += ": " + e.Kind
	}
	return s
}

// RetryableError tells the SDK's retryer not to retry: asking a failed
// credential source again in a tight loop helps nobody.
func (e *CredentialsError) RetryableError() bool { return false }

// Config says how Run audits a fleet. The zero value of a field means its
// default.
type Config struct {
	// Client returns the SSM client for a region. Run calls it once per
	// region, before the region's first call; an error stops the run.
	Client func(region string) (API, error)
	// Region is the region of targets that name none.
	Region string
	// Concurrency bounds the instances audited at once (default 16).
	Concurrency int
	// MaxResults is the page size asked for, 1 to 50 (default 50).
	MaxResults int32
	// MaxPages ends an instance as PaginationLoop past this many pages
	// (default 1000).
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
	// OnResult receives each result as its instance completes. It is
	// called from many goroutines at once; an error stops the run.
	OnResult func(Result) error
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Breaker settings: how many instances in a row may end with no answer from
// the service (after every retry) before an account-region that answered
// before is taken for gone.
const answerlessLimit = 5

// UnreachableError says that the SSM endpoint of an account and region gave
// no answer at all (connection refused, no such host, TLS failure, time
// out), after every retry: Run stopped auditing there and left its
// instances unrecorded, for a resumed run. Answered tells whether the
// endpoint had answered earlier in the run (then it went away mid-run).
type UnreachableError struct {
	AccountID, Region string
	// Endpoint is the URL the calls went to, without path or user info;
	// empty when unknown.
	Endpoint string
	// Cause is the last failure, in a few words ("no such host",
	// "connection refused", "timed out").
	Cause    string
	Answered bool
	// Left counts the instances left unrecorded there.
	Left int
}

func (e *UnreachableError) Error() string {
	where := e.Endpoint
	if where == "" {
		where = "the SSM endpoint of " + e.Region
	}
	if e.Answered {
		return fmt.Sprintf("%s stopped answering (%s) after %d instances in a row got no answer; %d instances left for a resumed run",
			where, e.Cause, answerlessLimit, e.Left)
	}
	return fmt.Sprintf("cannot reach %s: %s", where, e.Cause)
}

// ErrUnreachable is wrapped by the error Run returns when it gave up on an
// account-region whose endpoint did not answer (see UnreachableError).
var ErrUnreachable = errors.New("SSM endpoint unreachable")

// Run audits every target, Concurrency at a time, and hands each Result to
// cfg.OnResult as it completes. One instance's failure never stops the
// others: it becomes a Result with OutcomeError. Run returns early with an
// error wrapping ErrFatal when the credentials or permissions cannot work
// for any instance, with OnResult's error, or with ctx.Err() when ctx was
// cancelled. When an account-region's endpoint gives no answer at all, Run
// stops auditing there and, once the rest is done, returns an error that
// wraps ErrUnreachable and one *UnreachableError per account-region. Stats
// count what was asked either way.
func Run(ctx context.Context, cfg Config, targets iter.Seq[Target]) (Stats, error) {
	cfg.defaults()
	r := &runner{cfg: cfg, sites: map[siteKey]*site{}}
	start := cfg.Now()
	err := r.run(ctx, targets)
	st := r.stats()
	st.Seconds = cfg.Now().Sub(start).Seconds()
	if st.Seconds > 0 {
		st.Rate = float64(st.Calls) / st.Seconds
	}
	return st, err
}

func (c *Config) defaults() {
	if c.Concurrency <= 0 {
		c.Concurrency = 16
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

type siteKey struct{ account, region string }

// site is what one account-region shares: its client, its limiter and its
// breaker.
type site struct {
	client  API
	limiter *Limiter
	ctx     context.Context
	cancel  context.CancelFunc

	mu         sync.Mutex
	answered   bool
	answerless int // instances in a row that ended with no answer
	down       *UnreachableError
}

type runner struct {
	cfg                              Config
	mu                               sync.Mutex
	sites                            map[siteKey]*site
	calls, pages, throttled, retries atomic.Int64
	succeeded                        atomic.Bool
}

func (r *runner) run(ctx context.Context, targets iter.Seq[Target]) error {
	// Calls run on their own context so that a cancelled ctx stops new
	// instances at once but leaves calls in flight their grace period.
	callCtx, cancelCalls := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelCalls()
	stopGrace := context.AfterFunc(ctx, func() {
		if !r.cfg.Deadline.IsZero() && !r.cfg.Now().Before(r.cfg.Deadline) {
			cancelCalls()
			return
		}
		time.AfterFunc(r.cfg.Grace, cancelCalls)
	})
	defer stopGrace()

	g, gctx := errgroup.WithContext(callCtx)
	g.SetLimit(r.cfg.Concurrency)
	for t := range targets {
		if ctx.Err() != nil || gctx.Err() != nil {
			break
		}
		var st *site
		if t.Problem == "" {
			var err error
			if st, err = r.site(gctx, t); err != nil {
				g.Go(func() error { return err })
				break
			}
			if st.isDown() {
				st.leave()
				continue
			}
		}
		g.Go(func() error {
			if ctx.Err() != nil {
				return nil
			}
			res, err := r.audit(gctx, st, t)
			if err != nil || res == nil {
				return err // nil: cut short, left for a resumed run
			}
			return r.cfg.OnResult(*res)
		})
	}
	err := g.Wait()
	if err == nil {
		err = ctx.Err()
	}
	if err == nil {
		err = r.unreachable()
	}
	return err
}

func (r *runner) region(t Target) string {
	if t.Region != "" {
		return t.Region
	}
	return r.cfg.Region
}

// site returns the account-region of t, making its client and limiter the
// first time.
func (r *runner) site(ctx context.Context, t Target) (*site, error) {
	k := siteKey{t.AccountID, r.region(t)}
	r.mu.Lock()
	defer r.mu.Unlock()
	if st, ok := r.sites[k]; ok {
		return st, nil
	}
	if k.region == "" {
		return nil, fmt.Errorf("%w: %w for %s", ErrFatal, ErrNoRegion, t.InstanceID)
	}
	c, err := r.cfg.Client(k.region)
	if err != nil {
		return nil, fmt.Errorf("%w: client for %s: %w", ErrFatal, k.region, err)
	}
	st := &site{client: c, limiter: NewLimiter(r.cfg.Rate)}
	st.ctx, st.cancel = context.WithCancel(ctx)
	r.sites[k] = st
	return st, nil
}

// ErrNoRegion is wrapped by Run's error when a target names no region and
// Config.Region is empty.
var ErrNoRegion = errors.New("no region")

func (r *runner) stats() Stats {
	st := Stats{
		Calls:     r.calls.Load(),
		Pages:     r.pages.Load(),
		Throttled: r.throttled.Load(),
		Retries:   r.retries.Load(),
	}
	r.mu.Lock()
	for _, s := range r.sites {
		st.LimiterRate = max(st.LimiterRate, s.limiter.Rate())
	}
	r.mu.Unlock()
	if r.cfg.Rate > 0 {
		st.LimiterRate = r.cfg.Rate
	}
	return st
}

// unreachable returns the error for the account-regions given up on, or nil.
func (r *runner) unreachable() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	for _, s := range r.sites {
		s.mu.Lock()
		if s.down != nil {
			d := *s.down
			errs = append(errs, &d)
		}
		s.mu.Unlock()
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

func (s *site) isDown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.down != nil
}

// leave counts an instance left unaudited because the site is down.
func (s *site) leave() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down.Left++
}

// answer records how an instance's last call ended, and reports whether the
// instance must be left unrecorded because the site is (now) down.
func (s *site) answer(err error, account, region string) (leave bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down != nil {
		s.down.Left++
		return true
	}
	endpoint, cause, none := noAnswer(err)
	if !none {
		s.answered, s.answerless = true, 0
		return false
	}
	s.answerless++
	if s.answered && s.answerless < answerlessLimit {
		return false // one instance's bad luck, or the start of an outage
	}
	s.down = &UnreachableError{AccountID: account, Region: region, Endpoint: endpoint, Cause: cause, Answered: s.answered, Left: 1}
	s.cancel() // calls in flight there cannot succeed either
	return true
}

// audit fetches every page of one instance. It returns a nil Result when the
// call context was cancelled or the account-region is down (the instance is
// left for a resumed run), and an error only when the whole run must stop.
func (r *runner) audit(ctx context.Context, st *site, t Target) (*Result, error) {
	region := r.region(t)
	res := &Result{
		AccountID:  t.AccountID,
		Region:     region,
		InstanceID: t.InstanceID,
		Labels:     t.Labels,
		Source:     t.Source,
	}
	if t.Problem != "" {
		if res.InstanceID == "" {
			// An empty cell: the record needs an ID, and the source says
			// which line it was.
			res.InstanceID = EmptyID
		}
		res.Outcome = OutcomeInvalid
		res.Error = &Error{Code: CodeInvalid, Message: t.Problem}
		res.AuditedAt = r.cfg.Now().UTC()
		return res, nil
	}
	// The site's context ends when the site goes down, the call context
	// when the run is cut short: either ends this instance's calls.
	callCtx, stop := context.WithCancel(ctx)
	defer stop()
	defer context.AfterFunc(st.ctx, stop)()
	p := ssm.NewDescribeInstanceAssociationsStatusPaginator(st.client,
		&ssm.DescribeInstanceAssociationsStatusInput{InstanceId: aws.String(t.InstanceID)},
		func(o *ssm.DescribeInstanceAssociationsStatusPaginatorOptions) {
			o.Limit = r.cfg.MaxResults
			o.StopOnDuplicateToken = true
		})
	seen := map[string]bool{}
	for p.HasMorePages() {
		if res.Pages >= r.cfg.MaxPages {
			res.fail(CodePaginationLoop, fmt.Sprintf("more than %d pages (MaxPages)", r.cfg.MaxPages))
			break
		}
		// One attempts middleware per operation, so that its count tells
		// the first attempt from the retries.
		at := &attempts{limiter: st.limiter, run: r}
		out, err := p.NextPage(callCtx, func(o *ssm.Options) {
			o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
				return s.Finalize.Insert(at, "Retry", middleware.After)
			})
		})
		res.Calls += int(at.n.Load())
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil
			}
			if IsFatal(err) && (!isAccessDenied(err) || !r.succeeded.Load()) {
				return nil, fmt.Errorf("%w: %s: %w", ErrFatal, t.InstanceID, err)
			}
			if st.answer(err, t.AccountID, region) {
				return nil, nil
			}
			code, msg := classify(err)
			if code == CodeInvalidInstanceID {
				res.Outcome = OutcomeNotManaged
				res.Error = &Error{Code: code, Message: msg}
			} else {
				res.fail(code, msg)
			}
			break
		}
		st.answer(nil, t.AccountID, region)
		r.succeeded.Store(true)
		res.Pages++
		r.pages.Add(1)
		for _, s := range out.InstanceAssociationStatusInfos {
			res.Associations = append(res.Associations, association(s))
		}
		if tok := aws.ToString(out.NextToken); tok != "" {
			if seen[tok] {
				res.fail(CodePaginationLoop, fmt.Sprintf("NextToken repeated after %d pages", res.Pages))
				break
			}
			seen[tok] = true
		}
	}
	if res.Outcome == "" {
		res.Outcome = Judge(res.Associations)
	}
	res.AuditedAt = r.cfg.Now().UTC()
	return res, nil
}

func (res *Result) fail(code, msg string) {
	res.Outcome = OutcomeError
	res.Error = &Error{Code: code, Message: msg}
}

// isAccessDenied tells an authorization refusal apart from bad credentials:
// a policy may deny some instances (by tag, say) and allow others, so once a
// call has succeeded, a denial is that instance's error, not the run's.
func isAccessDenied(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation":
		return true
	}
	return false
}

// noAnswer reports whether err is a call that got no answer at all from the
// service (no HTTP response: the connection was refused or dropped, the name
// did not resolve, TLS failed, the call timed out), with the URL it went to
// (scheme and host only) and the cause in a few words.
func noAnswer(err error) (endpoint, cause string, none bool) {
	if err == nil {
		return "", "", false
	}
	var ae smithy.APIError
	var re *awshttp.ResponseError
	var de *smithy.DeserializationError
	if errors.As(err, &ae) || errors.As(err, &re) && re.HTTPStatusCode() != 0 || errors.As(err, &de) || errors.Is(err, io.ErrUnexpectedEOF) {
		// The service, or something on the way, answered. (The SDK wraps a
		// request that got no response in a ResponseError too, with
		// status 0.)
		return "", "", false
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			endpoint = (&url.URL{Scheme: u.Scheme, Host: u.Host}).String()
		}
	}
	var dns *net.DNSError
	var op *net.OpError
	var ne net.Error
	switch {
	case errors.As(err, &dns):
		cause = "no such host"
		if !dns.IsNotFound {
			cause = "DNS lookup failed"
		}
	case errors.Is(err, syscall.ECONNREFUSED):
		cause = "connection refused"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		cause = "timed out"
	case errors.As(err, &op) && op.Op == "remote error", strings.Contains(err.Error(), "tls:"), strings.Contains(err.Error(), "x509:"):
		cause = "TLS handshake failed"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF):
		cause = "connection closed without an answer"
	case errors.As(err, &op):
		cause = op.Err.Error()
	default:
		cause = "no answer"
	}
	return endpoint, cause, true
}

// classify turns an error from the SDK into an Error code and message.
func classify(err error) (code, msg string) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode(), ae.ErrorMessage()
	}
	var ne net.Error
	var oe *smithy.OperationError
	switch {
	case errors.As(err, &ne), errors.Is(err, context.DeadlineExceeded):
		return CodeTransport, err.Error()
	case errors.As(err, &oe):
		return CodeTransport, oe.Err.Error()
	}
	return CodeTransport, err.Error()
}

func association(s types.InstanceAssociationStatusInfo) Association {
	a := Association{
		AssociationID:      aws.ToString(s.AssociationId),
		Name:               aws.ToString(s.Name),
		AssociationName:    aws.ToString(s.AssociationName),
		AssociationVersion: aws.ToString(s.AssociationVersion),
		DocumentVersion:    aws.ToString(s.DocumentVersion),
		InstanceID:         aws.ToString(s.InstanceId),
		Status:             aws.ToString(s.Status),
		DetailedStatus:     aws.ToString(s.DetailedStatus),
		ExecutionSummary:   aws.ToString(s.ExecutionSummary),
		ErrorCode:          aws.ToString(s.ErrorCode),
	}
	if s.ExecutionDate != nil {
		d := s.ExecutionDate.UTC()
		a.ExecutionDate = &d
	}
	if s.OutputUrl != nil && s.OutputUrl.S3OutputUrl != nil {
		a.OutputURL = &OutputURL{S3OutputURL: &S3OutputURL{OutputURL: aws.ToString(s.OutputUrl.S3OutputUrl.OutputUrl)}}
	}
	return a
}

// attempts is a finalize middleware that runs once per HTTP attempt, inside
// the SDK's retry loop: it paces every attempt (retries included) through
// the account-region's Limiter, and counts attempts and throttles.
type attempts struct {
	limiter *Limiter
	run     *runner
	n       atomic.Int64
}

func (a *attempts) ID() string { return "AuditorAttempts" }

func (a *attempts) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	if err := a.limiter.Wait(ctx); err != nil {
		return middleware.FinalizeOutput{}, middleware.Metadata{}, err
	}
	if a.n.Add(1) > 1 {
		a.run.retries.Add(1)
	}
	a.run.calls.Add(1)
	out, md, err := next.HandleFinalize(ctx, in)
	var ae smithy.APIError
	switch {
	case err == nil:
		a.limiter.Success()
	case errors.As(err, &ae) && throttleCodes[ae.ErrorCode()]:
		a.run.throttled.Add(1)
		a.limiter.Throttled()
	}
	return out, md, err
}
