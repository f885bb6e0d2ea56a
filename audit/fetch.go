package audit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
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

// throttles are the SDK's own throttle checks: its throttle error codes
// (retry.DefaultThrottleErrorCodes) and an HTTP 429 without a modeled
// error. The standard retryer retries exactly these as throttles, so every
// throttle it retries also reaches the Limiter.
var throttles = retry.IsErrorThrottles(retry.DefaultThrottles)

// IsThrottle reports whether err is a throttle as the SDK's retryer sees
// it.
func IsThrottle(err error) bool {
	return throttles.IsErrorThrottle(err).Bool()
}

// IsFatal reports whether err from an SSM call means that no call can
// succeed with this configuration (see ErrFatal).
func IsFatal(err error) bool {
	var signing *v4.SigningError
	if errors.As(err, &signing) {
		return true
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && fatalCodes[ae.ErrorCode()]
}

// Config says how Run audits a fleet. The zero value of a field means its
// default.
type Config struct {
	// Client returns the SSM client for a region. Run calls it once per
	// region before the first call; an error stops the run.
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
	// OnResult receives each result as its instance completes. It is
	// called from many goroutines at once; an error stops the run.
	OnResult func(Result) error
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Run audits every target, Concurrency at a time, and hands each Result to
// cfg.OnResult as it completes. One instance's failure never stops the
// others: it becomes a Result with OutcomeError. Run returns early with an
// error wrapping ErrFatal when the credentials or permissions cannot work
// for any instance, with OnResult's error, or with ctx.Err() when ctx was
// cancelled; Stats count what was asked either way.
func Run(ctx context.Context, cfg Config, targets []Target) (Stats, error) {
	cfg.defaults()
	r := &runner{cfg: cfg, limiters: map[limiterKey]*Limiter{}, clients: map[string]API{}}
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

type limiterKey struct{ account, region string }

type runner struct {
	cfg                              Config
	clients                          map[string]API
	mu                               sync.Mutex
	limiters                         map[limiterKey]*Limiter
	calls, pages, throttled, retries atomic.Int64
	succeeded                        atomic.Bool
}

func (r *runner) run(ctx context.Context, targets []Target) error {
	for _, t := range targets {
		region := r.region(t)
		if _, ok := r.clients[region]; ok {
			continue
		}
		if region == "" {
			return fmt.Errorf("%w: no region for %s: pass --region, set AWS_REGION, or add a region column", ErrFatal, t.InstanceID)
		}
		c, err := r.cfg.Client(region)
		if err != nil {
			return fmt.Errorf("%w: client for %s: %v", ErrFatal, region, err)
		}
		r.clients[region] = c
	}

	// Calls run on their own context so that a cancelled ctx stops new
	// instances at once but leaves calls in flight their grace period.
	callCtx, cancelCalls := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelCalls()
	stopGrace := context.AfterFunc(ctx, func() {
		time.AfterFunc(r.cfg.Grace, cancelCalls)
	})
	defer stopGrace()

	g, gctx := errgroup.WithContext(callCtx)
	g.SetLimit(r.cfg.Concurrency)
	for _, t := range targets {
		if ctx.Err() != nil || gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			if ctx.Err() != nil {
				return nil
			}
			res, err := r.audit(gctx, t)
			if err != nil {
				return err
			}
			if res == nil {
				return nil // cut short: left for a resumed run
			}
			return r.cfg.OnResult(*res)
		})
	}
	err := g.Wait()
	if err == nil {
		err = ctx.Err()
	}
	return err
}

func (r *runner) region(t Target) string {
	if t.Region != "" {
		return t.Region
	}
	return r.cfg.Region
}

func (r *runner) limiter(account, region string) *Limiter {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := limiterKey{account, region}
	l, ok := r.limiters[k]
	if !ok {
		l = NewLimiter(r.cfg.Rate)
		r.limiters[k] = l
	}
	return l
}

func (r *runner) stats() Stats {
	st := Stats{
		Calls:     r.calls.Load(),
		Pages:     r.pages.Load(),
		Throttled: r.throttled.Load(),
		Retries:   r.retries.Load(),
	}
	r.mu.Lock()
	for _, l := range r.limiters {
		st.LimiterRate = max(st.LimiterRate, l.Rate())
		st.LimiterPeak = max(st.LimiterPeak, l.Peak())
	}
	r.mu.Unlock()
	if r.cfg.Rate > 0 {
		st.LimiterRate = r.cfg.Rate
	}
	return st
}

// audit fetches every page of one instance. It returns a nil Result when the
// call context was cancelled (the instance is left for a resumed run), and
// an error only when the whole run must stop.
func (r *runner) audit(ctx context.Context, t Target) (*Result, error) {
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
	lim := r.limiter(t.AccountID, region)
	p := ssm.NewDescribeInstanceAssociationsStatusPaginator(r.clients[region],
		&ssm.DescribeInstanceAssociationsStatusInput{InstanceId: aws.String(t.InstanceID)},
		func(o *ssm.DescribeInstanceAssociationsStatusPaginatorOptions) {
			o.Limit = r.cfg.MaxResults
			o.StopOnDuplicateToken = true
		})
	seen := map[string]bool{}
	for p.HasMorePages() {
		if res.Pages >= r.cfg.MaxPages {
			res.fail(CodePaginationLoop, fmt.Sprintf("more than %d pages (--max-pages)", r.cfg.MaxPages))
			break
		}
		// One attempts middleware per operation, so that its count tells
		// the first attempt from the retries.
		at := &attempts{limiter: lim, run: r}
		out, err := p.NextPage(ctx, func(o *ssm.Options) {
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
			code, msg := classify(err)
			if code == CodeInvalidInstanceID {
				res.Outcome = OutcomeNotManaged
				res.Error = &Error{Code: code, Message: msg}
			} else {
				res.fail(code, msg)
			}
			break
		}
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
// the account-region's Limiter, tells the Limiter how each one ended, and
// counts attempts and throttles.
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
	sent := time.Now()
	out, md, err := next.HandleFinalize(ctx, in)
	switch {
	case err == nil:
		a.limiter.Success(sent)
	case IsThrottle(err):
		a.run.throttled.Add(1)
		a.limiter.Throttled(sent)
	default:
		a.limiter.Failed()
	}
	return out, md, err
}
