package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/aws/smithy-go"

	"github.com/auditor-dev/auditor/audit"
)

// readTags labels the targets with the tags --tag-labels (or --split-by
// tag:KEY) names, one account-region at a time. A tag that cannot be read
// stops the run before any audit: reports split by an owner who is missing
// would go to nobody, and the run would look complete. An account-region
// that the audit could not use either is not that: a role that cannot be
// assumed, or, among several, a region not enabled there or a role's
// access denied (see audit.Session.FailSite). It fails alone, none of its
// instances audited, and is returned as the audit reports it. Those in
// failed, which an earlier step failed, are not asked again.
func (j *job) readTags(ctx context.Context, session *audit.Session, failed []*audit.SiteError, stderr io.Writer) ([]*audit.SiteError, error) {
	tagged, total := 0, 0
	var out []*audit.SiteError
	for _, b := range j.fleet.Batches() {
		region := cmp.Or(b.Region, j.o.region)
		if slices.ContainsFunc(failed, func(f *audit.SiteError) bool { return f.AccountID == b.AccountID && f.Region == region }) {
			continue
		}
		var ids []string
		for t := range b.Targets {
			ids = append(ids, t.InstanceID)
		}
		err := j.siteTags(ctx, b.AccountID, b.Region, ids, func(id string, labels map[string]string) {
			tagged++
			j.fleet.SetLabels(audit.Key{AccountID: b.AccountID, Region: b.Region, InstanceID: id}, labels)
		})
		if err != nil && ctx.Err() != nil {
			return nil, errInterrupted
		}
		if err != nil {
			f := session.FailSite(ctx, b.AccountID, region, err)
			if f == nil {
				return nil, err
			}
			out = append(out, f)
			continue
		}
		total += len(ids)
	}
	j.o.logf(stderr, "tags %s read for %s: %d have at least one", strings.Join(j.org.tagKeys, ", "), plural(total, "instance"), tagged)
	return out, nil
}

// siteTags reads the tags of --tag-labels of the instances ids of one
// account-region (the run's region when region is empty) and calls fn with
// the labels of each that has any, values written escaped as
// audit.ReadTags writes them (kept in j.escapedTags for the run's
// warning). Its error wraps audit.ErrFatal (see tagsError). It may be
// called from several goroutines; fn is called from one at a time.
func (j *job) siteTags(ctx context.Context, account, region string, ids []string, fn func(id string, labels map[string]string)) error {
	region = cmp.Or(region, j.conn.Region())
	where := strings.TrimPrefix(account+" ", " ") + region
	ec2c, err := j.conn.EC2In(account, region)
	if err != nil {
		return tagsError(where, err)
	}
	ssmc, err := j.conn.SSMIn(account, region)
	if err != nil {
		return tagsError(where, err)
	}
	if err := audit.ReadTags(ctx, ec2c, ssmc, ids, j.org.tagKeys, func(id string, labels map[string]string, escaped []string) {
		j.escapedTags.add(where, id, labels, escaped)
		fn(id, labels)
	}); err != nil {
		return tagsError(where, err)
	}
	return nil
}

// tagsError is the error of tags that could not be read in where: it
// wraps audit.ErrFatal and err, names the service that was called (EC2's
// DescribeTags, or SSM's ListTagsForResource for a hybrid node), and
// advises the permission only when that service refused one.
func tagsError(where string, err error) error {
	subject := "cannot read the tags"
	var oe *smithy.OperationError
	if errors.As(err, &oe) && oe.Service() != "" {
		subject = "cannot call " + oe.Service()
	}
	msg := fmt.Sprintf("%s: reading the tags of --tag-labels in %s: %v", subject, where, err)
	var ae smithy.APIError
	if errors.As(err, &ae) && oe != nil && (ae.ErrorCode() == "UnauthorizedOperation" || strings.HasPrefix(ae.ErrorCode(), "AccessDenied")) {
		msg += fmt.Sprintf("; grant %s:%s, or run without --tag-labels", strings.ToLower(oe.Service()), oe.Operation())
	} else {
		msg += "; run again once it is fixed, or without --tag-labels"
	}
	return &fatalError{msg: msg, err: err}
}

// fatalError stops the run as audit.ErrFatal does, in words of its own:
// ErrFatal's ("cannot call SSM") are not true of every call that can stop
// it.
type fatalError struct {
	msg string
	err error
}

func (e *fatalError) Error() string   { return e.msg }
func (e *fatalError) Unwrap() []error { return []error{audit.ErrFatal, e.err} }

// escapedTags gathers the tag values of a run that audit.ReadTags wrote
// escaped, for one warning (warn) instead of one for each instance, which
// a fleet tagged by one careless script would bury the run's output in.
// The zero value is empty; it is safe for concurrent use.
type escapedTags struct {
	mu    sync.Mutex
	n     int
	first struct{ where, id, key, value string }
}

// add counts the labels escaped of instance id in where, keeping the least
// by instance and key, so that the warning names the same one whichever
// order the account-regions and workers finish in.
func (e *escapedTags) add(where, id string, labels map[string]string, escaped []string) {
	if len(escaped) == 0 {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, k := range escaped {
		f := &e.first
		if e.n == 0 || id < f.id || id == f.id && (k < f.key || k == f.key && where < f.where) {
			f.where, f.id, f.key, f.value = where, id, k, labels[k]
		}
		e.n++
	}
}

// warn says once that tag values were written escaped, naming the first,
// when any was.
func (e *escapedTags) warn(stderr io.Writer) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.n == 0 {
		return
	}
	f := e.first
	more := ""
	if e.n > 1 {
		more = fmt.Sprintf("; %d more tag values were written so", e.n-1)
	}
	// The value as written reads as itself (audit.ValidLabel): shown as
	// it is, between quotes, not quoted again, which would double its
	// backslashes.
	fmt.Fprintf(stderr, "auditor: warning: tag %s of %s (%s) is written escaped, \"%s\": a character of it that does not show as itself "+
		"(a control, format or look-alike space character) is written as its escape, and a backslash that would read as one is doubled, "+
		"so that the value cannot pass for another in the reports, their groups or the terminal%s\n",
		strings.TrimPrefix(f.key, audit.TagLabelPrefix), f.id, f.where, f.value, more)
}
