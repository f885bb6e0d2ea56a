package cli

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/auditor-dev/auditor/audit"
)

// discovery feeds the audit with the managed nodes of each account-region as
// DescribeInstanceInformation lists them: one batch an account-region, whose
// targets are listed a page at a time while its workers audit them. A node
// is held from the page that lists it until it is audited, so that the
// audit's memory does not grow with the organisation.
type discovery struct {
	j       *job
	session *audit.Session
	sites   []site
	// ctx stops the listing; set by execute before the audit starts.
	ctx context.Context
	// onFound is told of each node handed to the audit (progress).
	onFound func()

	mu     sync.Mutex
	failed []*audit.SiteError
	// untagged holds the account-regions of failed that were listed and
	// failed at their tags (--tag-labels).
	untagged map[site]bool
	// earlier holds the nodes of its account-regions that a resumed
	// record has a result for, true for those with a verdict, which are
	// not audited again. A node is taken out when it is found: those left
	// were not found this time (their account-region failed sooner, or they
	// are gone), and their results stand in the record all the same.
	earlier map[audit.Key]bool
	// inError holds, by account-region, the nodes of earlier without a
	// verdict (in error), as they are taken out of it: those left once
	// the listing is done are asked about all the same.
	inError map[site]map[string]bool
	// listed holds the listed targets a resumed record has a verdict for,
	// which the list's targets left no longer hold: found, they are found
	// as listed, as the record has them.
	listed map[audit.Key]bool
	// found counts the nodes listed that are targets of this run (listed
	// ones are audited as listed, and count in dups); tagged those with a
	// tag of --tag-labels.
	found, dups, tagged int
	// base holds, by account-region, the nodes that the baseline had
	// failing there and that the listing has not found (yet):
	// DescribeInstanceInformation leaves out a stopped node, which is
	// audited all the same once the listing is done (seedBaseline).
	// unlisted counts the nodes handed to the audit that the listing did
	// not find (these, and the resumed record's in error); of them,
	// baseAudited those answered, unlistedErr those in error.
	base                               map[site]map[string]bool
	unlisted, baseAudited, unlistedErr int
	// goneAt counts, by account-region, the nodes SSM no longer knows
	// that are left out of the record (gone from the comparison);
	// goneKept those the resumed record held (in error), recorded
	// not_managed in their place, which stay targets.
	goneAt   map[site]int
	goneKept int
	// resumed holds the nodes of base that the resumed record has a
	// result for (in error): one SSM no longer knows is recorded
	// not_managed, in its place.
	resumed map[audit.Key]bool
}

// gone counts the nodes left out of the record as SSM no longer knows
// them (goneAt).
func (d *discovery) gone() int {
	n := 0
	for _, c := range d.goneAt {
		n += c
	}
	return n
}

// unlistedSource begins the Source of a node that the listing did not find
// and that is audited all the same: failing in the baseline, or in error
// in the resumed record.
const unlistedSource = "unlisted:"

// failing reports whether r has an association Failed, or a failure
// carried (audit.Result.CarriedFailing).
func failing(r audit.Result) bool {
	return len(r.CarriedFailing) > 0 || slices.ContainsFunc(r.Associations, func(a audit.Association) bool { return a.Status == audit.StatusFailed })
}

// seedBaseline takes from the baseline's record the nodes of the
// discovery's account-regions to audit if the listing does not find them:
// those failing then (an association Failed, or a failure carried).
// DescribeInstanceInformation "does not return information for nodes that
// are either Stopped or Terminated", while DescribeInstanceAssociationsStatus
// answers for a stopped instance: without this, a node stopped over a run
// had its failures gone from the comparison, and new again, dated anew,
// once it was started (--fail-on new, --mail-when changes). A node SSM no
// longer knows is then not_managed, and gone. Each costs a call: one that
// was not failing is left out (stopped, it is gone from the comparison,
// and back as new with no failure to call new), so that a fleet whose
// nodes come and go pays for its failing ones only.
//
// A baseline whose run discovered another scope (other accounts, regions
// or filters: sameLists, the rule that --baseline previous and the
// warning of a baseline of other targets apply), or listed its targets,
// seeds nothing: its nodes were not this run's targets, and those not
// listed are gone from the comparison, as for another list. A shard's,
// or a merge of some shards', is of the same scope: only the nodes of
// this run's account-regions are taken from it. Nor is a node that the
// filters leave out as far as they can be checked without a listing
// (audit.FiltersExclude: a baseline's run may have listed it besides);
// one they may match is left to the lookup that fetch makes.
func (d *discovery) seedBaseline(self audit.RunInfo, b *audit.Baseline) error {
	d.base = map[site]map[string]bool{}
	if !sameLists(self, b.Run) {
		return nil
	}
	ours := make(map[site]bool, len(d.sites))
	accounts := map[string]bool{}
	for _, s := range d.sites {
		ours[s] = true
		accounts[s.account] = true
	}
	// A baseline whose run could not learn its account names none: one
	// account's discovery takes its nodes as its own, as Carry does.
	sole := ""
	if len(accounts) == 1 {
		for a := range accounts {
			sole = a
		}
	}
	return b.Records().Each(func(r audit.Result) error {
		if !r.Outcome.Audited() && r.Outcome != audit.OutcomeError || !failing(r) {
			return nil
		}
		s := site{r.AccountID, r.Region}
		if s.account == "" {
			s.account = sole
		}
		if !ours[s] || audit.FiltersExclude(d.j.org.filters, r) {
			return nil
		}
		if d.base[s] == nil {
			d.base[s] = map[string]bool{}
		}
		d.base[s][r.InstanceID] = true
		return nil
	})
}

// earlierResult notes a result of the resumed record in the discovery's
// account-regions (earlier, inError).
func (d *discovery) earlierResult(k audit.Key, verdict bool) {
	d.earlier[k] = verdict
	if verdict {
		return
	}
	s := site{k.AccountID, k.Region}
	if d.inError == nil {
		d.inError = map[site]map[string]bool{}
	}
	if d.inError[s] == nil {
		d.inError[s] = map[string]bool{}
	}
	d.inError[s][k.InstanceID] = true
}

// errStopListing ends a listing whose audit takes no more targets.
var errStopListing = errors.New("the audit stopped")

// batches returns one batch an account-region.
func (d *discovery) batches() []audit.Batch {
	out := make([]audit.Batch, 0, len(d.sites))
	for _, s := range d.sites {
		var fatal error
		out = append(out, audit.Batch{
			AccountID: s.account,
			Region:    s.region,
			Targets:   func(yield func(audit.Target) bool) { fatal = d.list(s, yield) },
			Err:       func() error { return fatal },
		})
	}
	return out
}

// listAhead is how many nodes a listing may find before the audit takes
// them: a few pages, so that the listing's calls go on while every worker
// waits (for the rate limit, or a throttled call's backoff), and the
// workers still have nodes while a page is late.
const listAhead = 250

// list discovers the nodes of s and yields those to audit, the listing
// running ahead of the audit by up to listAhead nodes. An account-region
// that fails is kept in failed and the run goes on; an error wrapping
// audit.ErrFatal (the credentials, or tags that cannot be read) is returned
// and stops the run. A listing that the run's context cut short returns
// that context's error: the run was interrupted, even when every node
// listed so far was audited (audit.Batch.Err).
func (d *discovery) list(s site, yield func(audit.Target) bool) error {
	ctx, cancel := context.WithCancel(d.ctx)
	defer cancel()
	ahead := make(chan audit.Target, listAhead)
	var err error
	go func() {
		defer close(ahead)
		err = d.fetch(ctx, s, func(t audit.Target) bool {
			select {
			case ahead <- t:
				return true
			case <-ctx.Done():
				return false
			}
		})
	}()
	for t := range ahead {
		if !yield(t) {
			cancel()
			for range ahead {
				// until the listing has stopped
			}
			return nil
		}
	}
	return err // set before ahead was closed
}

// fetch lists the nodes of s and sends those to audit, until send returns
// false; errors are as for list.
func (d *discovery) fetch(ctx context.Context, s site, send func(audit.Target) bool) error {
	j := d.j
	// One map for the account-region's nodes: the record copies labels and
	// never changes them.
	var labels map[string]string
	if name := j.accountNames[s.account]; name != "" {
		labels = map[string]string{audit.AccountNameLabel: name}
	}
	chunk := 1
	if len(j.org.tagKeys) > 0 {
		// As many nodes as one DescribeTags call asks about: they wait
		// for it before they are audited.
		chunk = audit.TagIDsPerCall(len(j.org.tagKeys))
	}
	var pending []audit.Target
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		if len(j.org.tagKeys) > 0 {
			if err := d.readTags(ctx, s, pending, labels); err != nil {
				return err
			}
		}
		for _, t := range pending {
			if !send(t) {
				return errStopListing
			}
		}
		clear(pending)
		pending = pending[:0]
		return nil
	}
	take := func(t audit.Target) error {
		t.Labels = labels
		k := t.Key()
		d.mu.Lock()
		delete(d.base[s], t.InstanceID)
		delete(d.inError[s], t.InstanceID)
		unlisted := strings.HasPrefix(t.Source, unlistedSource)
		if j.fleet.Has(k) || d.listed[k] {
			// Listed as well: audited as listed (not found by the
			// listing, when it is the baseline's: no duplicate).
			if !unlisted {
				d.dups++
			}
			d.mu.Unlock()
			return nil
		}
		verdict, before := d.earlier[k]
		if unlisted && before && verdict {
			// A resumed record's verdict stands, and counts with the
			// record's (earlier).
			d.mu.Unlock()
			return nil
		}
		if unlisted {
			d.unlisted++
			if before {
				if d.resumed == nil {
					d.resumed = map[audit.Key]bool{}
				}
				d.resumed[k] = true
			}
		} else {
			d.found++
		}
		delete(d.earlier, k)
		d.mu.Unlock()
		if before && verdict {
			return nil // a resumed record's verdict stands
		}
		if d.onFound != nil {
			d.onFound()
		}
		pending = append(pending, t)
		if len(pending) >= chunk {
			return flush()
		}
		return nil
	}
	err := d.session.Discover(ctx, s.account, s.region, j.org.filters, take)
	if err == nil {
		// The baseline's failing nodes the listing did not find
		// (seedBaseline), and the resumed record's nodes in error it
		// did not find: stopped, or gone. The record's are this run's
		// targets, whatever the filter says now.
		d.mu.Lock()
		left := slices.Sorted(maps.Keys(d.base[s]))
		inRecord := d.inError[s]
		retry := slices.Sorted(maps.Keys(inRecord))
		// A node of both is the record's: asked about whatever the
		// filter says.
		left = slices.DeleteFunc(left, func(id string) bool { return inRecord[id] })
		d.mu.Unlock()
		if len(left) > 0 && len(j.org.filters) > 0 {
			// Not listed may be not matched: a node that SSM describes
			// when asked by its ID runs, and was left out by --filter.
			// Should the lookup fail, none is audited: as before the
			// baseline was looked at, rather than a node the filter
			// leaves out.
			running := map[string]bool{}
			if lerr := d.session.LookupInfo(ctx, s.account, s.region, left, func(id string, _ *audit.InstanceInfo) { running[id] = true }); lerr != nil {
				left = nil
			}
			left = slices.DeleteFunc(left, func(id string) bool { return running[id] })
		}
		source := unlistedSource + strings.TrimPrefix(s.account+"/"+s.region, "/")
		for _, id := range slices.Concat(left, retry) {
			if err = take(audit.Target{InstanceID: id, AccountID: s.account, Region: s.region, Source: source}); err != nil {
				break
			}
		}
	}
	if err == nil {
		err = flush()
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, audit.ErrFatal):
		return err
	case d.ctx.Err() != nil:
		// Interrupted: the nodes not listed are left for --resume, and
		// the run must say it was cut short.
		return d.ctx.Err()
	case errors.Is(err, errStopListing), ctx.Err() != nil:
		return nil // the audit took no more: it says why
	}
	code, msg := siteCause(err)
	d.mu.Lock()
	d.failed = append(d.failed, audit.NewSiteError(s.account, s.region, code, msg))
	d.mu.Unlock()
	return nil
}

// readTags labels the nodes with their tags of --tag-labels. A tag that
// cannot be read stops the run, or fails the account-region alone, as for
// listed instances (see job.readTags): the nodes that wait for it are not
// audited.
func (d *discovery) readTags(ctx context.Context, s site, ts []audit.Target, base map[string]string) error {
	at := make(map[string]int, len(ts))
	ids := make([]string, len(ts))
	for i, t := range ts {
		at[t.InstanceID], ids[i] = i, t.InstanceID
	}
	tagged := 0
	err := d.j.siteTags(ctx, s.account, s.region, ids, func(id string, tags map[string]string) {
		i, ok := at[id]
		if !ok {
			return
		}
		// A label the node has already keeps its value, as for listed
		// instances.
		l := maps.Clone(tags)
		maps.Copy(l, base)
		ts[i].Labels = l
		if !strings.HasPrefix(ts[i].Source, unlistedSource) {
			tagged++ // of the nodes discovered
		}
	})
	if err != nil && ctx.Err() == nil {
		if f := d.session.FailSite(ctx, s.account, s.region, err); f != nil {
			d.mu.Lock()
			if d.untagged == nil {
				d.untagged = map[site]bool{}
			}
			d.untagged[s] = true
			d.mu.Unlock()
			return f
		}
	}
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.tagged += tagged
	d.mu.Unlock()
	return nil
}
