package report

import (
	"slices"
	"strings"
	"time"

	"github.com/auditor-dev/auditor/audit"
)

// The rules that every format applies the same way, each written once: which
// association is stale, how an association and a failure are named for a
// reader, and the order of what needs action.

// staleRule is Options.StaleAfter applied to one record: an association is
// stale as seen from the start of the attempt that read its instance, so
// that a run resumed days after it started judges what it read then by
// then, and what it read before by that time, while the instances one
// attempt's workers read moments apart share its one cut-off; and a merge
// of shards that started apart judges each row as its shard did. That
// start is the result's AttemptStartedAt (see attemptOf); in a record
// written before it was kept, the latest of the run's attempt starts not
// after its AuditedAt. A run.json without attempts is one attempt, at
// Run.StartedAt; that start stands in for a result without an AuditedAt,
// and a result read before every attempt started (clocks apart) is judged
// from the first. Without any start (a record without run.json) each
// result is judged from its AuditedAt.
type staleRule struct {
	after audit.StaleAfter
	start time.Time
	// attempts are the run's attempt starts, sorted.
	attempts []time.Time
}

func newStaleRule(opts Options) staleRule {
	return staleRule{after: opts.StaleAfter, start: opts.Run.StartedAt, attempts: opts.Run.AttemptStarts()}
}

// ref is the time r's associations are judged from.
func (s staleRule) ref(r audit.Result) time.Time {
	switch {
	case s.attemptOf(r):
		return r.AttemptStartedAt
	case r.AuditedAt.IsZero():
		return s.start
	case len(s.attempts) == 0:
		return r.AuditedAt
	}
	return audit.AttemptAt(s.attempts, r.AuditedAt)
}

// maxAttempt is the longest an attempt is taken to have read for: a
// line's AttemptStartedAt further back than that from its read is none.
const maxAttempt = 366 * 24 * time.Hour

// attemptOf reports whether r's AttemptStartedAt is the start of the
// attempt that read it: one of the run's attempts (a clock stepped back
// during the attempt may have dated the read before it), or else a time
// that can be one, not after the read nor more than maxAttempt before it.
// It need not be among run.json's attempts: an attempt killed before its
// run.json keeps its start in the directory alone, and a shard merged
// without its run.json gives none. Any other (a record edited by hand, or
// another's: year 9999, year 0) judges nothing.
func (s staleRule) attemptOf(r audit.Result) bool {
	at := r.AttemptStartedAt
	if at.IsZero() {
		return false
	}
	if _, found := slices.BinarySearchFunc(s.attempts, at, time.Time.Compare); found {
		return true
	}
	return !r.AuditedAt.IsZero() && !at.After(r.AuditedAt) && r.AuditedAt.Sub(at) <= maxAttempt
}

// cutoff is the time before which an execution of r's is stale; zero when
// the check is off or r has no reference (see audit.StaleAfter.Cutoff).
func (s staleRule) cutoff(r audit.Result) time.Time { return s.after.Cutoff(s.ref(r)) }

func (s staleRule) stale(r audit.Result, a audit.Association) bool {
	return s.after.Stale(a, s.ref(r))
}

// count tallies r's associations, stale ones included.
func (s staleRule) count(r audit.Result) audit.Counts {
	return r.CountStale(s.after, s.ref(r))
}

// cutoffs gathers the cut-offs that a staleRule judged rows by, for the
// reports to say which: one date when every instance shares it, else their
// range.
type cutoffs struct {
	earliest, latest time.Time
	// unknown is set when some rows were judged with no cut-off (no
	// reference time): only their missing dates made them stale.
	unknown bool
}

// add notes the cut-off of one result whose rows were judged.
func (c *cutoffs) add(t time.Time) {
	switch {
	case t.IsZero():
		c.unknown = true
	case c.earliest.IsZero():
		c.earliest, c.latest = t, t
	case t.Before(c.earliest):
		c.earliest = t
	case t.After(c.latest):
		c.latest = t
	}
}

// settle sets the Settings' cut-offs (see Settings.StaleBefore).
func (c cutoffs) settle(s *Settings) {
	if c.earliest.IsZero() {
		return
	}
	s.StaleBeforeEarliest, s.StaleBeforeLatest = utcPtr(c.earliest), utcPtr(c.latest)
	if c.earliest.Equal(c.latest) && !c.unknown {
		s.StaleBefore = utcPtr(c.earliest)
	}
}

// shortIDLen is how much of an AssociationId names an unnamed association:
// the first group of a UUID.
const shortIDLen = 8

// associationName is how the reports name an association for a reader: its
// AssociationName, or when it has none its document name with the start of
// its AssociationId ("AWS-RunPatchBaseline (4e3e196d)"), or the bare ID when
// the document name is empty too.
func associationName(a audit.Association) string {
	if a.AssociationName != "" {
		return a.AssociationName
	}
	if a.Name == "" {
		return a.AssociationID
	}
	id := a.AssociationID
	if r := []rune(id); len(r) > shortIDLen {
		id = string(r[:shortIDLen])
	}
	if id == "" {
		return a.Name
	}
	return a.Name + " (" + id + ")"
}

// noErrorCode ends the name of a failure that carries no ErrorCode.
const noErrorCode = "no error code"

// failureName is how the reports name the failure of a Failed association:
// its ErrorCode, or when it has none what SSM says of it, its DetailedStatus
// ("TimedOut (no error code)"), or "No error code" when that is empty too.
func failureName(a audit.Association) string {
	switch {
	case a.ErrorCode != "":
		return a.ErrorCode
	case a.DetailedStatus != "":
		return a.DetailedStatus + " (" + noErrorCode + ")"
	}
	return "No error code"
}

// failureNames returns the distinct failureNames of r's Failed associations,
// sorted; nil when none failed.
func failureNames(r audit.Result) []string {
	var names []string
	for _, a := range r.Associations {
		if a.Status != audit.StatusFailed {
			continue
		}
		if n := failureName(a); !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// sortedAssociations returns r's associations sorted by AssociationId (stable
// for equal IDs), the order of every per-association output.
func sortedAssociations(r audit.Result) []audit.Association {
	as := slices.Clone(r.Associations)
	slices.SortStableFunc(as, func(x, y audit.Association) int {
		return strings.Compare(x.AssociationID, y.AssociationID)
	})
	return as
}

// compareKeys orders by account, region, then instance.
func compareKeys(x, y audit.Key) int {
	switch {
	case x.Less(y):
		return -1
	case y.Less(x):
		return 1
	}
	return 0
}

// problemOrder ranks the outcomes without a verdict by what a reader does
// about them first: errors can be retried, unmanaged instances need the
// agent or the right account, invalid lines need the list fixed.
var problemOrder = map[audit.Outcome]int{
	audit.OutcomeError:      0,
	audit.OutcomeNotManaged: 1,
	audit.OutcomeInvalid:    2,
}

// capped keeps the first limit items of a stream in the order of cmp, in
// memory that grows with limit, not with the stream: it sorts and cuts each
// time it holds twice the limit. cmp must be a total order, so that the same
// items in any order give the same list.
type capped[T any] struct {
	limit int
	cmp   func(x, y T) int
	items []T
}

func (c *capped[T]) add(x T) {
	if c.limit <= 0 {
		return
	}
	c.items = append(c.items, x)
	if len(c.items) >= 2*c.limit {
		c.cut()
	}
}

func (c *capped[T]) cut() {
	slices.SortFunc(c.items, c.cmp)
	c.items = c.items[:min(len(c.items), c.limit)]
}

// list returns the kept items in order, never nil.
func (c *capped[T]) list() []T {
	c.cut()
	return nonNil(slices.Clip(c.items))
}
