package audit

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"golang.org/x/sync/errgroup"
)

// Filter is one filter of DescribeInstanceInformation (an
// InstanceInformationStringFilter): the nodes whose Key has one of the
// Values. Filters AND together.
type Filter struct {
	Key    string
	Values []string
}

// filterKeys are the keys DescribeInstanceInformation takes in Filters
// besides tags: those its reference documents
// (InstanceInformationStringFilter.Key), and PlatformTypes, the name the
// legacy InstanceInformationFilterList gives PlatformType, which Filters
// takes too.
var filterKeys = []string{"ActivationIds", "AgentVersion", "AssociationStatus", "IamRole", "InstanceIds",
	"PingStatus", "PlatformType", "PlatformTypes", "ResourceType", "SourceIds", "SourceTypes"}

// ParseFilter reads a filter in the AWS CLI's shorthand:
// "Key=tag:Env,Values=prod,staging" or "Key=PingStatus,Values=Online".
func ParseFilter(s string) (Filter, error) {
	var f Filter
	rest := strings.TrimSpace(s)
	k, ok := strings.CutPrefix(rest, "Key=")
	if !ok {
		return f, fmt.Errorf("%q: want Key=NAME,Values=V1,V2 (the AWS CLI's shorthand)", s)
	}
	key, vals, ok := strings.Cut(k, ",Values=")
	if !ok {
		return f, fmt.Errorf("%q: no Values= (want Key=NAME,Values=V1,V2)", s)
	}
	f.Key = key
	for _, v := range strings.Split(vals, ",") {
		if v = strings.TrimSpace(v); v != "" {
			f.Values = append(f.Values, v)
		}
	}
	return f, nil
}

// maxTagValues is how many values DescribeInstanceInformation takes for a
// tag:KEY filter; SSM refuses more ("The number of tag values for tag:Name
// was 35. Max: 5.", a ValidationException), though the model allows 100.
const maxTagValues = 5

// CheckFilters checks filters against DescribeInstanceInformation's own
// rules before any call: known keys (or tag-key, tag:KEY), one to 100
// non-empty values each (at most maxTagValues for a tag:KEY, and one for
// ResourceType), and tag filters never mixed with the other keys.
func CheckFilters(filters []Filter) error {
	tags, others := 0, 0
	for _, f := range filters {
		tag := strings.HasPrefix(f.Key, "tag:") && len(f.Key) > len("tag:")
		switch {
		case f.Key == "tag-key", tag:
			tags++
		case slices.Contains(filterKeys, f.Key):
			others++
		default:
			return fmt.Errorf("filter key %q: want tag:NAME, tag-key or one of %s", f.Key, strings.Join(filterKeys, ", "))
		}
		switch {
		case len(f.Values) == 0:
			return fmt.Errorf("filter %s: no values", f.Key)
		case len(f.Values) > 100:
			return fmt.Errorf("filter %s: %d values, the API takes at most 100", f.Key, len(f.Values))
		case tag && len(f.Values) > maxTagValues:
			return fmt.Errorf("filter %s: %d values, the API takes at most %d for a tag", f.Key, len(f.Values), maxTagValues)
		case f.Key == "ResourceType" && len(f.Values) > 1:
			// SSM: "ResourceType filter may contain only one value."
			// (InvalidInstanceInformationFilterValue), though the model
			// allows 100.
			return fmt.Errorf("filter ResourceType: %d values, the API takes only one (EC2Instance or ManagedInstance)", len(f.Values))
		}
	}
	if tags > 0 && others > 0 {
		return fmt.Errorf("tag filters (tag:NAME, tag-key) cannot be combined with the other keys in one request (the API's rule)")
	}
	return nil
}

// FiltersExclude reports whether filters, as far as they can be checked
// without a listing, leave out the node of r: InstanceIds that do not name
// it, a ResourceType its ID is not of (EC2Instance an i- ID,
// ManagedInstance an mi- one), a PlatformType (or PlatformTypes) that is
// not its platform as r.Info recorded it. The other keys (tags among
// them), and a platform not recorded, leave it in.
func FiltersExclude(filters []Filter, r Result) bool {
	has := func(vs []string, v string) bool {
		return slices.ContainsFunc(vs, func(w string) bool { return strings.EqualFold(w, v) })
	}
	for _, f := range filters {
		switch f.Key {
		case "InstanceIds":
			if !has(f.Values, r.InstanceID) {
				return true
			}
		case "ResourceType":
			kind := "EC2Instance"
			if strings.HasPrefix(r.InstanceID, "mi-") {
				kind = "ManagedInstance"
			}
			if !has(f.Values, kind) {
				return true
			}
		case "PlatformType", "PlatformTypes":
			if r.Info != nil && r.Info.PlatformType != "" && !has(f.Values, r.Info.PlatformType) {
				return true
			}
		}
	}
	return false
}

// Discover lists the managed nodes of an account-region with
// DescribeInstanceInformation, every page (50 a page), filtered, and calls
// fn with a Target for each: its ID, account, region, Source
// "discovered:ACCOUNT/REGION" and Info. It paces its calls with the
// account-region's limiter, as the audit's. An error that fails the
// account-region (see SiteError) is returned as a *SiteError; fn's error
// stops it.
func (s *Session) Discover(ctx context.Context, account, region string, filters []Filter, fn func(Target) error) error {
	st, err := s.site(ctx, account, region)
	if err != nil {
		return err
	}
	in := &ssm.DescribeInstanceInformationInput{MaxResults: aws.Int32(50)}
	for _, f := range filters {
		in.Filters = append(in.Filters, types.InstanceInformationStringFilter{Key: aws.String(f.Key), Values: f.Values})
	}
	source := "discovered:" + strings.TrimPrefix(account+"/"+region, "/")
	err = s.information(ctx, st, in, func(info types.InstanceInformation) error {
		id := aws.ToString(info.InstanceId)
		if !apiIDShape(id) {
			// Not SSM's answer: no record line may hold what its reader
			// refuses.
			return &callError{CodeBadResponse, fmt.Sprintf("DescribeInstanceInformation listed a node ID %s that is not of SSM's shape (i- and 8 or 17 letters or digits, mi- and 17): not SSM's answer", quoteValue(id))}
		}
		st.found.Add(1)
		return fn(Target{
			InstanceID: id,
			AccountID:  account,
			Region:     region,
			Source:     source,
			Info:       s.infos.from(info),
		})
	})
	var ce *callError
	if errors.As(err, &ce) {
		// The nodes not listed cannot be audited: the account-region's
		// failure.
		return NewSiteError(account, region, ce.code, ce.msg)
	}
	if err == nil {
		st.listed.Store(true)
	}
	return err
}

// NewSiteError returns the failure of the account-region of account and
// region, its code and message cut as an answer's fields are (at 4 KiB,
// saying so): either may be a service's words, and goes into run.json and
// onto stderr. A SiteError built otherwise would carry them whole.
func NewSiteError(account, region, code, msg string) *SiteError {
	return &SiteError{AccountID: account, Region: region, Code: cutField(code), Message: cutField(msg)}
}

// newInfoError is NewSiteError's InfoError.
func newInfoError(account, region, code, msg string) *InfoError {
	return &InfoError{AccountID: account, Region: region, Code: cutField(code), Message: cutField(msg)}
}

// InfoError says why LookupInfo could not read the instance information of
// an account-region that can still be audited: the instances it had not
// read are left without Info (Triage fetches them in full), and
// Session.Sites reports it (SiteStats.InfoError).
type InfoError struct {
	AccountID, Region string
	Code, Message     string
}

func (e *InfoError) Error() string {
	where := siteName(e.AccountID, e.Region)
	return fmt.Sprintf("instance information in %s: %s: %s", where, e.Code, e.Message)
}

// LookupInfo asks DescribeInstanceInformation about the given instances of
// an account-region, 50 a call, up to Config.Concurrency calls at once
// (paced by the account-region's limiter, as the audit's are), and calls
// fn for each it knows, from one goroutine at a time. The service refuses
// a whole call with InvalidInstanceId when one of its IDs is not a managed
// node of the account; LookupInfo then halves the batch until each such ID
// is alone, and leaves those out without information: about two calls for
// each halving, so at most 2·⌈log2 50⌉ more calls for each ID that SSM
// does not manage, paced as the others. An error that fails the
// account-region is returned as for Discover; any other failure is
// returned as an *InfoError, and the account-region can still be audited.
func (s *Session) LookupInfo(ctx context.Context, account, region string, ids []string, fn func(id string, info *InstanceInfo)) error {
	st, err := s.site(ctx, account, region)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	one := func(id string, info *InstanceInfo) {
		mu.Lock()
		defer mu.Unlock()
		fn(id, info)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.cfg.Concurrency)
	for len(ids) > 0 && gctx.Err() == nil {
		batch := ids[:min(50, len(ids))]
		ids = ids[len(batch):]
		g.Go(func() error {
			_, err := s.lookup(gctx, st, batch, false, one)
			return err
		})
	}
	err = g.Wait()
	var ce *callError
	if errors.As(err, &ce) {
		ie := newInfoError(account, region, ce.code, ce.msg)
		st.mu.Lock()
		if st.noInfo == nil {
			st.noInfo = ie
		}
		st.mu.Unlock()
		return ie
	}
	if err == nil {
		err = ctx.Err()
	}
	return err
}

// lookup asks for the information of ids, at most 50, and reports whether
// they are all managed nodes. When the service refuses them with
// InvalidInstanceId (one of them is not), it halves them, and leaves an ID
// that is alone and refused without information. bad says that ids holds
// such an ID (the half before it was clean): then it is halved without a
// call that would be refused.
func (s *Session) lookup(ctx context.Context, st *site, ids []string, bad bool, fn func(id string, info *InstanceInfo)) (clean bool, err error) {
	if !bad {
		in := &ssm.DescribeInstanceInformationInput{
			MaxResults: aws.Int32(50),
			Filters:    []types.InstanceInformationStringFilter{{Key: aws.String("InstanceIds"), Values: ids}},
		}
		err := s.information(ctx, st, in, func(info types.InstanceInformation) error {
			fn(aws.ToString(info.InstanceId), s.infos.from(info))
			return nil
		})
		var ce *callError
		if !errors.As(err, &ce) || ce.code != CodeInvalidInstanceID {
			return err == nil, err
		}
	}
	if len(ids) == 1 {
		return false, nil // not a managed node of the account
	}
	half := len(ids) / 2
	clean, err = s.lookup(ctx, st, ids[:half], false, fn)
	if err != nil {
		return false, err
	}
	_, err = s.lookup(ctx, st, ids[half:], clean, fn)
	return false, err
}

// callError is a failed call of a listing that leaves its account-region
// standing, with the service's code and message: the caller says what it
// failed.
type callError struct{ code, msg string }

func (e *callError) Error() string { return e.code + ": " + e.msg }

// information pages through DescribeInstanceInformation at a site. An
// error that fails the site is its *SiteError; one that leaves it standing
// is a *callError.
func (s *Session) information(ctx context.Context, st *site, in *ssm.DescribeInstanceInformationInput, fn func(types.InstanceInformation) error) error {
	if f := st.failure(); f != nil {
		return f
	}
	callCtx, stop := context.WithCancel(ctx)
	defer stop()
	defer context.AfterFunc(st.ctx, stop)()
	// The nodes listed so far, to skip one that moved between pages: packed,
	// since a discovery's listing lasts as long as its audit.
	seen := map[packedID]struct{}{}
	var seenOther map[string]struct{} // IDs that do not pack (not SSM's)
	// The NextTokens given so far, hashed: one that comes again is a loop,
	// which the paginator (StopOnDuplicateToken) would end without a word
	// when it repeats at once, and never when it cycles.
	tokens := map[uint64]struct{}{}
	seed := maphash.MakeSeed()
	p := ssm.NewDescribeInstanceInformationPaginator(st.client, in, func(o *ssm.DescribeInstanceInformationPaginatorOptions) {
		o.StopOnDuplicateToken = true
	})
	for pages := 0; p.HasMorePages(); pages++ {
		if pages >= s.cfg.MaxPages*100 {
			return &callError{CodePaginationLoop, fmt.Sprintf("more than %d pages (100 × MaxPages) of DescribeInstanceInformation", pages)}
		}
		at := &attempts{limiter: st.limiter, run: s, site: st, first: true}
		out, err := p.NextPage(callCtx, at.option)
		if err == nil {
			err = foreignAnswer("SSM", "DescribeInstanceInformation", out.ResultMetadata, out.InstanceInformationList != nil)
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if f := st.failure(); f != nil {
				return f
			}
			siteFatal, runFatal := s.stops(st, err)
			switch {
			case runFatal:
				return fmt.Errorf("%w: %w", ErrFatal, err)
			case siteFatal || !s.multi.Load() && IsFatal(err):
				code, msg := s.siteCause(st, err)
				st.fail(code, msg)
				return st.failure()
			}
			if st.answer(err) {
				st.mu.Lock()
				d := *st.down
				st.mu.Unlock()
				return fmt.Errorf("%w: %w", ErrUnreachable, &d)
			}
			code, msg := classify(err)
			return &callError{code, msg}
		}
		st.answer(nil)
		st.succeeded.Store(true)
		for _, info := range out.InstanceInformationList {
			if !firstSight(seen, &seenOther, aws.ToString(info.InstanceId)) {
				continue // a node that moved between pages
			}
			if err := fn(info); err != nil {
				return err
			}
		}
		if tok := aws.ToString(out.NextToken); tok != "" {
			h := maphash.String(seed, tok)
			if _, again := tokens[h]; again {
				return &callError{CodePaginationLoop, fmt.Sprintf("NextToken repeated after %d pages of DescribeInstanceInformation", pages+1)}
			}
			tokens[h] = struct{}{}
		}
	}
	return nil
}

// firstSight reports whether id is seen for the first time, and notes it.
func firstSight(seen map[packedID]struct{}, other *map[string]struct{}, id string) bool {
	if ValidID(id) == "" {
		p := packID(id)
		if _, ok := seen[p]; ok {
			return false
		}
		seen[p] = struct{}{}
		return true
	}
	if _, ok := (*other)[id]; ok {
		return false
	}
	if *other == nil {
		*other = map[string]struct{}{}
	}
	(*other)[id] = struct{}{}
	return true
}

// SetMulti tells the Session that the run spans several account-regions
// before it discovers or audits anything, so that an account-region that
// refuses fails alone (see Run).
func (s *Session) SetMulti() { s.multi.Store(true) }

// FailSite fails the account-region of account and region for err, the
// error of a step before the audit that its targets cannot be audited
// without (reading the tags that label them), where err would fail it
// alone had the audit's own calls met it: a role that cannot be assumed,
// or, once the run spans several account-regions (see SetMulti), a region
// that is not enabled (the credentials refused there, or EC2's
// OptInRequired), or access denied or expiry of a role's session. Its
// targets are then recorded in error with err's code and message, without
// a call, and FailSite returns its *SiteError (the first failure, when it
// had one already). Otherwise it returns nil, and err is the whole run's
// to stop: its own credentials or permissions are at fault, or it has
// one account-region, which would fail in any case.
func (s *Session) FailSite(ctx context.Context, account, region string, err error) *SiteError {
	own := s.cfg.Role == nil || s.cfg.Role(account) == ""
	var ce *CredentialsError
	switch {
	case errors.As(err, &ce):
		if ce.AccountID == "" {
			return nil
		}
	case !s.multi.Load():
		return nil
	case isExpired(err), isAccessDenied(err):
		// The run's own credentials sign every other account-region's
		// calls too, or the caller's own account's: theirs to mend.
		if own {
			return nil
		}
	case IsBadCredentials(err), isOptInRequired(err):
		// A region not enabled refuses any credentials, and the
		// others' may be fine.
	default:
		return nil
	}
	st, serr := s.site(ctx, account, region)
	if serr != nil {
		return nil
	}
	code, msg := s.siteCause(st, err)
	st.fail(code, msg)
	return st.failure()
}
