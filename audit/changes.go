package audit

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// ChangeKind says how an instance or an association changed since a
// baseline run.
type ChangeKind string

// The kinds of change, worst first.
const (
	// NewFailure: an association Failed now that did not fail then (it
	// succeeded, was pending, or is new).
	NewFailure ChangeKind = "new_failure"
	// StillFailing: Failed then and now; Change.FirstSeenFailing says since
	// when. Then may be a Pending that followed a failure (carried).
	StillFailing ChangeKind = "still_failing"
	// Resolved: Failed then, Success now. Failed then and Pending now
	// (running again) is no change: nothing is shown fixed yet.
	Resolved ChangeKind = "resolved"
	// NewInstance and VanishedInstance: an instance audited in one run only
	// (not managed, or not a target, in the other).
	NewInstance      ChangeKind = "new_instance"
	VanishedInstance ChangeKind = "vanished_instance"
	// NewAssociation and VanishedAssociation: an association of an instance
	// audited in both runs that only one of them shows.
	NewAssociation      ChangeKind = "new_association"
	VanishedAssociation ChangeKind = "vanished_association"
)

// ChangeKinds lists every ChangeKind in report order.
func ChangeKinds() []ChangeKind {
	return []ChangeKind{NewFailure, StillFailing, Resolved, NewInstance, VanishedInstance, NewAssociation, VanishedAssociation}
}

// Change is one change since the baseline.
type Change struct {
	Kind                          ChangeKind
	AccountID, Region, InstanceID string
	// The association (empty for an instance change), as now or, when it
	// vanished, as then.
	AssociationID, AssociationName, Document string
	// Before and After are the Status then and now ("" where absent).
	Before, After string
	// ErrorCode is the failure's code (now, or then for Resolved).
	// ErrorCodeBefore is, for StillFailing, the code it failed with then
	// (as carried, when it was carried): another code is another failure
	// of the same association, a change, though not a new failure.
	ErrorCode, ErrorCodeBefore string
	// FirstSeenFailing is when a failing association was first seen failing.
	FirstSeenFailing *time.Time
	// Labels are the instance's labels, now or then.
	Labels map[string]string
}

// ChangeCounts counts the changes of each kind.
type ChangeCounts map[ChangeKind]int

// Comparison is what Compare found.
type Comparison struct {
	// Counts counts the changes of each kind; every kind is present.
	Counts ChangeCounts
	// NotCompared counts the instances that were left out, by why.
	NotCompared NotCompared
	// ErrorCodeChanged counts the StillFailing changes whose error code
	// is not the one they failed with then (Change.ErrorCodeBefore).
	ErrorCodeChanged int
}

// NotCompared counts the instances a comparison left out, by why, so that
// "0 new failures" is never said of them. Instances that a partial record
// lacks are not counted: the record's run did not get to them (Records.Partial).
type NotCompared struct {
	// Error counts the instances in error now (whatever the baseline
	// says), or in error in the baseline and not managed now: nothing is
	// known of their associations in one of the runs. One in error in the
	// baseline and not a target now is gone (VanishedInstance), not
	// counted.
	Error int `json:"error"`
	// OtherShard counts the instances one record holds that the other
	// does not cover: it is of another shard (Records.Scope), neither new
	// nor gone.
	OtherShard int `json:"other_shard"`
}

// Total is the number of instances not compared.
func (n NotCompared) Total() int { return n.Error + n.OtherShard }

// Baseline is an earlier run's record, to compare a run with and to carry
// forward when each failure was first seen.
type Baseline struct {
	// Path is the results.jsonl it was read from; At when that run started
	// (zero when its run.json is missing).
	Path string
	At   time.Time
	// Run is the run.json beside the record, settled against it (zero
	// without one): which targets it covers, and how it ran.
	Run RunInfo
	// Incomplete says why the record lacks some of its run's targets ("" when
	// it is whole, or when the caller of OpenBaselineRecord judged it):
	// Compare says nothing of the instances it lacks.
	Incomplete string
	rs         *Records
	// failing maps each instance to its associations Failed in the
	// baseline (or carried through it: Result.CarriedFailing), and each to
	// when it was first seen failing and its error code. Failures are few; memory grows with
	// them only.
	failing map[Key]map[string]CarriedFailure
	// account is the one account the baseline's instances name ("" for
	// a run that could not learn it), when they name one.
	account    string
	oneAccount bool
}

// OpenBaseline opens a baseline: an output directory or its results.jsonl,
// dated and judged complete or not by the run.json beside it, settled
// against the record (RunInfo.Settle: a record cut short is incomplete,
// as auditor report judges it); undated without one, and complete unless
// its last line is torn or its run kept its attempts (AttemptsFile): a run
// stopped before it wrote run.json. The caller must Close it. An index
// too large for memory goes to the system's temporary directory.
func OpenBaseline(path string) (*Baseline, error) { return OpenBaselineIn("", path) }

// OpenBaselineIn is OpenBaseline with the temporary files of its records'
// indexes in tmpDir ("" for the system's), as OpenRecordsIn.
func OpenBaselineIn(tmpDir, path string) (*Baseline, error) { return openBaseline(tmpDir, path, 0) }

// maxInherit bounds how many partial baselines back OpenBaseline follows
// for the instances each lacks (Baseline.inherit): a chain of interrupted
// runs is short.
const maxInherit = 8

func openBaseline(tmpDir, path string, depth int) (*Baseline, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, ResultsFile)
	}
	ri, err := ReadRunInfo(filepath.Join(filepath.Dir(path), RunFile))
	found := err == nil
	switch {
	case errors.Is(err, ErrNotRegular):
		return nil, err // names the run.json, and what it is
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	b, err := OpenBaselineRecordIn(tmpDir, path, ri.StartedAt, false)
	if err != nil {
		return nil, err
	}
	switch {
	case found:
		ri.Settle(b.rs)
		b.Run = ri
		if b.rs.Partial {
			b.Incomplete = cmp.Or(ri.Error, "its run was interrupted")
			if ri.Changes != nil && ri.Changes.Since != nil && depth < maxInherit {
				b.inherit(tmpDir, ri.Changes.BaselineIn(filepath.Dir(path)), *ri.Changes.Since, depth+1)
			}
		}
	case b.rs.Torn > 0:
		b.Incomplete = "its last line is torn: its run was cut short"
	case killedBefore(filepath.Dir(path)):
		// Its last line may be whole: a run killed between two lines.
		b.rs.Partial = true
		b.Incomplete = "its record has no run.json, and its attempts were kept: its run was stopped before it finished"
	}
	return b, nil
}

// inherit gives the instances that b, a partial record, lacks the failures
// that the baseline its run was compared with (at path; its index in
// tmpDir) knew of them, with their dates: its run did not get to them, and
// without these a run compared with it would date their failures from its
// own start, and every run after it too. A baseline that is gone, or cannot be read, gives
// nothing: those dates start again, as they would have. So does a record
// there that is not of the run that started at since, the run b was
// compared with: its path is relative to b's directory, and a directory
// renamed since (last week's moved to "previous") makes it another run's,
// or b's own. Each run in a chain started before the one after it, so
// the chain cannot loop.
func (b *Baseline) inherit(tmpDir, path string, since time.Time, depth int) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, ResultsFile)
	}
	if ri, err := ReadRunInfo(filepath.Join(filepath.Dir(path), RunFile)); err != nil || !ri.StartedAt.Equal(since) {
		return
	}
	older, err := openBaseline(tmpDir, path, depth)
	if err != nil {
		return
	}
	defer older.Close()
	if len(older.failing) == 0 {
		return
	}
	have := map[Key]bool{}
	if err := b.rs.Each(func(r Result) error { have[r.Key()] = true; return nil }); err != nil {
		return
	}
	for k, m := range older.failing {
		if !have[k] && b.failing[k] == nil {
			b.failing[k] = m
		}
	}
}

// killedBefore reports whether the run whose output directory is dir, which
// holds no run.json, was stopped before it wrote one: every run keeps its
// attempts (AttemptsFile) from its start and writes run.json last.
func killedBefore(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, AttemptsFile))
	return err == nil
}

// OpenBaselineRecord opens the results.jsonl at path as a baseline whose
// run started at at and, when partial, did not audit all its targets: what
// OpenBaseline reads from the run.json beside a record, for a record whose
// run is described elsewhere (a split group's part of a baseline lies
// beside the current run's run.json, not the baseline's). The caller must
// Close it.
func OpenBaselineRecord(path string, at time.Time, partial bool) (*Baseline, error) {
	return OpenBaselineRecordIn("", path, at, partial)
}

// OpenBaselineRecordIn is OpenBaselineRecord with the temporary files of
// the record's index in tmpDir ("" for the system's), as OpenRecordsIn.
func OpenBaselineRecordIn(tmpDir, path string, at time.Time, partial bool) (*Baseline, error) {
	rs, err := OpenRecordsIn(tmpDir, path)
	if err != nil {
		return nil, err
	}
	// A torn last line shows a run cut short, whatever the caller knows.
	rs.Partial = partial || rs.Torn > 0
	b := &Baseline{Path: path, At: at, rs: rs, failing: map[Key]map[string]CarriedFailure{}}
	set := func(k Key, f CarriedFailure) {
		if b.failing[k] == nil {
			b.failing[k] = map[string]CarriedFailure{}
		}
		b.failing[k][f.AssociationID] = f
	}
	err = rs.Each(func(r Result) error {
		for _, c := range r.CarriedFailing {
			set(r.Key(), c)
		}
		for _, a := range r.Associations {
			if a.Status == StatusFailed {
				set(r.Key(), failedRow(&r, a))
			}
		}
		return nil
	})
	if err != nil {
		rs.Close()
		return nil, err
	}
	b.account, b.oneAccount = rs.SoleAccount()
	return b, nil
}

// Close closes the baseline's record.
func (b *Baseline) Close() error { return b.rs.Close() }

// Records returns the baseline's record.
func (b *Baseline) Records() *Records { return b.rs }

// failedRow is the failure that r's Failed row a shows, with its date; it
// is unreported when r is in error (not compared) and first saw it, or
// carried it unreported.
func failedRow(r *Result, a Association) CarriedFailure {
	since := r.AuditedAt
	if a.FirstSeenFailing != nil {
		since = *a.FirstSeenFailing
	}
	f := CarriedFailure{AssociationID: a.AssociationID, FirstSeenFailing: since, ErrorCode: a.ErrorCode}
	if inError(r) {
		f.Unreported = !since.Before(r.AuditedAt) || slices.ContainsFunc(r.CarriedFailing, func(c CarriedFailure) bool {
			return c.AssociationID == a.AssociationID && c.Unreported
		})
	}
	return f
}

// Carry sets FirstSeenFailing on r's Failed associations: the baseline's
// date when it failed there too, else when r was audited. The baseline's
// failures that r gives no verdict on keep their dates in CarriedFailing,
// so that the run after it still knows them: every one of an instance in
// error that r does not show Failed (an error run is not compared, so
// what its partial rows show is reported to no one: the run after it
// says what changed since the failures the last compared run knew), every
// one of an instance not managed (no verdict was possible), those now
// Pending (running again, not shown fixed), and for one run those whose
// association is missing from an instance audited (CarriedFailure.Absent).
// A failure no comparison has reported yet (first seen in a run in error)
// is carried marked CarriedFailure.Unreported through runs in error, not
// managed or Pending, so that it is new when a compared run sees it
// Failed. It is safe for concurrent use (it only reads the baseline).
func (b *Baseline) Carry(r *Result) {
	k := r.Key()
	if b.oneAccount && k.AccountID != b.account && (k.AccountID == "" || b.account == "") {
		// One of the two runs could not learn its account: as Align pairs
		// them.
		k.AccountID = b.account
	}
	failing := b.failing[k]
	for i := range r.Associations {
		a := &r.Associations[i]
		if a.Status != StatusFailed {
			continue
		}
		since := r.AuditedAt
		if f, ok := failing[a.AssociationID]; ok {
			since = f.FirstSeenFailing
		}
		since = since.UTC()
		a.FirstSeenFailing = &since
	}
	r.CarriedFailing = nil
	for id, f := range failing {
		i := slices.IndexFunc(r.Associations, func(a Association) bool { return a.AssociationID == id })
		switch {
		case r.Outcome == OutcomeError || r.Outcome == OutcomeNotManaged:
			// No verdict on the instance.
			if i >= 0 && r.Associations[i].Status == StatusFailed && !f.Unreported {
				continue // failing with its date above
			}
		case i >= 0 && verdict(r.Associations[i].Status):
			continue // failing with its date above, or fixed
		case i >= 0:
			f.Absent = false // Pending
		case r.Detail == DetailOverview && r.Outcome != OutcomeNoAssociations:
			continue // every association succeeded: fixed
		case f.Absent:
			continue // missing a second run: deleted
		default:
			// Missing from an instance audited: kept for this one run, in
			// case it is put back with its ID; a deleted association's
			// failure is not kept for ever.
			f.Absent = true
		}
		f.FirstSeenFailing = f.FirstSeenFailing.UTC()
		r.CarriedFailing = append(r.CarriedFailing, f)
	}
	slices.SortFunc(r.CarriedFailing, func(x, y CarriedFailure) int { return strings.Compare(x.AssociationID, y.AssociationID) })
}

// all yields the results of rs in key order, and an error last if reading
// failed.
func (rs *Records) all() iter.Seq2[Result, error] {
	return func(yield func(Result, error) bool) {
		stop := errors.New("stop")
		err := rs.Each(func(r Result) error {
			if !yield(r, nil) {
				return stop
			}
			return nil
		})
		if err != nil && err != stop {
			yield(Result{}, err)
		}
	}
}

// Compare walks the baseline's record and the current one together, in key
// order (Align), and calls fn for every change, in key order. An instance
// in error in the baseline and audited now is compared with what was last
// known of it: the baseline's Failed rows and the failures it carried
// (Result.CarriedFailing), with their dates; a failure first seen in that
// error run, which was compared with nothing, is new, as is one carried
// unreported (CarriedFailure.Unreported) wherever it fails again. An instance in error
// now, or in the baseline and not audited now, is not compared, and is
// counted in NotCompared; invalid lines are not compared; nor are
// instances a Partial record lacks (not gone, not new: its run did not get
// to them); nor, counted, are the instances outside the shards either
// record covers (Records.Scope: a shard compared with a whole run of its
// list, or the reverse). It holds one instance of each record at a time.
func Compare(base, cur *Records, fn func(Change) error) (Comparison, error) {
	res := Comparison{Counts: ChangeCounts{}}
	for _, k := range ChangeKinds() {
		res.Counts[k] = 0
	}
	emit := func(c Change) error {
		res.Counts[c.Kind]++
		if c.Kind == StillFailing && c.ErrorCode != c.ErrorCodeBefore {
			res.ErrorCodeChanged++
		}
		return fn(c)
	}
	inBase, inCur := covers(base.Scope), covers(cur.Scope)
	var pending []Change
	err := Align(base, cur, func(b, c *Result) error {
		r := cmp.Or(c, b)
		if inBase != nil && !inBase(r) || inCur != nil && !inCur(r) {
			res.NotCompared.OtherShard++
			return nil
		}
		if b == nil && base.Partial || c == nil && cur.Partial {
			return nil
		}
		if inError(c) || inError(b) && c != nil && !live(c) {
			res.NotCompared.Error++
			return nil
		}
		// An instance's changes come in the order of its associations
		// in each record; they go out by association ID (its own change
		// first, with none), as every report's rows do.
		pending = pending[:0]
		if err := compareInstance(b, c, func(ch Change) error { pending = append(pending, ch); return nil }); err != nil {
			return err
		}
		slices.SortStableFunc(pending, func(x, y Change) int { return cmp.Compare(x.AssociationID, y.AssociationID) })
		for _, ch := range pending {
			if err := emit(ch); err != nil {
				return err
			}
		}
		return nil
	})
	return res, err
}

// covers returns whether an instance falls in the shards that parts are
// of, by the pure function of the instance that put it there (PartOf of
// its ID, or SiteIn of its account-region for discovery); nil when parts
// cover whole lists (a merge of every shard of one included), or say
// nothing of shards: every instance. The list a shard was taken from does
// not matter: an instance outside the shard was in no run of it.
func covers(parts []Part) func(*Result) bool {
	if len(parts) == 0 || len(PartialShards(parts)) == 0 {
		return nil
	}
	// The shards held, by how each was split (N, and by site or not):
	// an instance falls in one part of each split, so its part is
	// worked out once per split, not once per shard; a merge lacking one
	// shard of 10,000 holds 9,999.
	type split struct {
		n     int
		sites bool
	}
	held := map[split]map[int]bool{}
	for _, p := range parts {
		var k, n int
		if p.Shard == "" {
			return nil // a whole list among them: any instance may be of it
		}
		if _, err := fmt.Sscanf(p.Shard, "%d/%d", &k, &n); err != nil || n < 1 || k < 0 || k >= n {
			return nil
		}
		s := split{n, p.Discovered()}
		if held[s] == nil {
			held[s] = map[int]bool{}
		}
		held[s][k] = true
	}
	return func(r *Result) bool {
		for s, ks := range held {
			k := PartOf(r.InstanceID, s.n)
			if s.sites {
				// A discovery's shards are split by account-region.
				k = SitePart(r.AccountID, r.Region, s.n)
			}
			if ks[k] {
				return true
			}
		}
		return false
	}
}

// Align walks the baseline's record and the current one together, in key
// order, and calls fn with each instance that either holds: b and c are its
// results then and now, nil in the record that lacks it, valid only during
// the call. It is how Compare pairs the instances of two runs, for a caller
// that must place the baseline's instances where the current run's are. It
// holds one instance of each record at a time, and stops at the first error
// fn returns.
func Align(base, cur *Records, fn func(b, c *Result) error) error {
	keyB, keyC := indexKey, indexKey
	if acct, ok := unnamedAccount(base, cur); ok {
		// A run that could not learn its account names none: its
		// instances are paired with those of a record of one account by
		// region and instance (IDs are the service's, unique), rather
		// than all gone and all new.
		named := func(r Result) Key {
			k := indexKey(r)
			k.AccountID = acct
			return k
		}
		if a, _ := base.SoleAccount(); a == "" {
			keyB = named
		} else {
			keyC = named
		}
	}
	nextB, stopB := iter.Pull2(base.all())
	defer stopB()
	nextC, stopC := iter.Pull2(cur.all())
	defer stopC()
	b, errB, okB := nextB()
	c, errC, okC := nextC()
	for okB || okC {
		if errB != nil {
			return errB
		}
		if errC != nil {
			return errC
		}
		var err error
		switch {
		case okB && (!okC || keyB(b).Less(keyC(c))):
			err = fn(&b, nil)
			b, errB, okB = nextB()
		case okC && (!okB || keyC(c).Less(keyB(b))):
			err = fn(nil, &c)
			c, errC, okC = nextC()
		default:
			err = fn(&b, &c)
			b, errB, okB = nextB()
			c, errC, okC = nextC()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// unnamedAccount reports whether one record names no account (a run that
// could not learn it) and the other names one, and returns that one.
func unnamedAccount(base, cur *Records) (string, bool) {
	a, okA := base.SoleAccount()
	c, okC := cur.SoleAccount()
	if !okA || !okC || a == c || a != "" && c != "" {
		return "", false
	}
	return a + c, true
}

// seen reports whether a result says anything of the instance's
// associations: audited, or not managed (gone).
func seen(r *Result) bool { return r != nil && (r.Outcome.Audited() || r.Outcome == OutcomeNotManaged) }

// verdict reports whether an association's status says how its last run
// went: Success or Failed, not Pending (running, or about to).
func verdict(status string) bool { return status == StatusSuccess || status == StatusFailed }

// live reports whether r was audited.
func live(r *Result) bool { return r != nil && r.Outcome.Audited() }

// inError reports whether r is an instance in error.
func inError(r *Result) bool { return r != nil && r.Outcome == OutcomeError }

func compareInstance(b, c *Result, emit func(Change) error) error {
	if inError(b) && live(c) {
		return compareLastKnown(b, c, emit)
	}
	if inError(b) && c == nil {
		// Not a target now: gone, whatever its last run knew of it.
		return emit(instanceChange(VanishedInstance, b))
	}
	if b != nil && !seen(b) || c != nil && !seen(c) {
		return nil // an error or an invalid line: nothing to compare
	}
	switch {
	case !live(b) && !live(c):
		return nil
	case !live(b):
		if err := emit(instanceChange(NewInstance, c)); err != nil {
			return err
		}
		for _, a := range c.Associations {
			if a.Status == StatusFailed {
				// Back after a run that did not manage it (no verdict: the
				// failure was carried), or new.
				ch := assocChange(NewFailure, c, a, "", a.Status)
				if b != nil {
					if i := slices.IndexFunc(b.CarriedFailing, func(f CarriedFailure) bool { return f.AssociationID == a.AssociationID }); i >= 0 && !b.CarriedFailing[i].Unreported {
						ch.Kind, ch.Before, ch.ErrorCodeBefore = StillFailing, StatusFailed, b.CarriedFailing[i].ErrorCode
					}
				}
				if err := emit(ch); err != nil {
					return err
				}
			}
		}
		return nil
	case !live(c):
		return emit(instanceChange(VanishedInstance, b))
	}
	before := map[string]Association{}
	for _, a := range b.Associations {
		before[a.AssociationID] = a
	}
	// Failed then: Failed in the baseline, or failing before it and
	// Pending there, or missing there for a run (carried).
	carried := func(id string) int {
		return slices.IndexFunc(b.CarriedFailing, func(f CarriedFailure) bool { return f.AssociationID == id })
	}
	failedThen := func(p Association) bool { return p.Status == StatusFailed || carried(p.AssociationID) >= 0 }
	// Failing then and reported so: a failure carried unreported (first
	// seen in a run in error, then Pending) is new when it fails now.
	reported := func(id string, p Association) bool {
		i := carried(id)
		return p.Status == StatusFailed || i >= 0 && !b.CarriedFailing[i].Unreported
	}
	// The error of the failure then (fixed, or failing still): the
	// baseline's, or the one carried through it.
	fixedError := func(id string, p Association) string {
		if i := carried(id); p.Status != StatusFailed && i >= 0 {
			return b.CarriedFailing[i].ErrorCode
		}
		return p.ErrorCode
	}
	if c.Detail == DetailOverview && b.Detail != DetailOverview {
		// Now only the overview: every association succeeded (or there is
		// none), so each that failed then is resolved (or each is gone).
		for _, p := range b.Associations {
			switch {
			case c.Outcome == OutcomeNoAssociations:
				if err := emit(assocChange(VanishedAssociation, b, p, p.Status, "")); err != nil {
					return err
				}
			case failedThen(p) && reported(p.AssociationID, p):
				ch := assocChange(Resolved, b, p, StatusFailed, StatusSuccess)
				ch.Labels, ch.FirstSeenFailing, ch.ErrorCode = c.Labels, nil, fixedError(p.AssociationID, p)
				if err := emit(ch); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if b.Detail == DetailOverview || c.Detail == DetailOverview {
		// One side has counts, not associations: only a failure now,
		// which triage always fetches, can be placed.
		if c.Detail != DetailOverview {
			for _, a := range c.Associations {
				if a.Status == StatusFailed {
					p := before[a.AssociationID]
					ch := assocChange(NewFailure, c, a, p.Status, a.Status)
					if reported(a.AssociationID, p) {
						ch.Kind, ch.Before, ch.ErrorCodeBefore = StillFailing, StatusFailed, fixedError(a.AssociationID, p)
					}
					if err := emit(ch); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	for _, a := range c.Associations {
		p, had := before[a.AssociationID]
		delete(before, a.AssociationID)
		// Failing then, in a row or carried: an association missing then
		// keeps its failure for that run (Carry).
		wasFailing := had && p.Status == StatusFailed || carried(a.AssociationID) >= 0
		var kind ChangeKind
		switch {
		case a.Status == StatusFailed && wasFailing && reported(a.AssociationID, p):
			kind = StillFailing
		case a.Status == StatusFailed:
			kind = NewFailure
		case wasFailing && a.Status == StatusSuccess && reported(a.AssociationID, p):
			// Fixed before anyone was told it failed (carried
			// unreported): no change.
			kind = Resolved
		}
		// Pending after a failure is no verdict yet (Carry keeps its date).
		if kind != "" {
			ch := assocChange(kind, c, a, p.Status, a.Status)
			switch kind {
			case Resolved:
				ch.Before, ch.ErrorCode = StatusFailed, fixedError(a.AssociationID, p)
			case StillFailing:
				// Failing then, though carried through a Pending row:
				// as a failure carried through a run in error.
				ch.Before, ch.ErrorCodeBefore = StatusFailed, fixedError(a.AssociationID, p)
			}
			if err := emit(ch); err != nil {
				return err
			}
		}
		if !had {
			// A new association that fails at once is both; one back
			// after a run without it, failing still, too.
			if err := emit(assocChange(NewAssociation, c, a, "", a.Status)); err != nil {
				return err
			}
		}
	}
	for _, p := range b.Associations {
		if _, gone := before[p.AssociationID]; gone {
			if err := emit(assocChange(VanishedAssociation, b, p, p.Status, "")); err != nil {
				return err
			}
		}
	}
	return nil
}

// compareLastKnown compares c, audited, with b, in error: with the
// failures last known of it, b's Failed rows (partial data: each row is
// what SSM said, only the set is incomplete) and those it carried. Which
// associations b had is not known, so no association is new or gone but
// a known failure's; a failure first seen in b (b was not compared, so no
// one was told of it) is new. A failure carried absent (its association
// missing from the last run that audited the instance, and reported gone
// then) is a change only when its association is back: a new association,
// failing still or resolved; never gone twice, nor resolved while missing.
func compareLastKnown(b, c *Result, emit func(Change) error) error {
	type known struct {
		f CarriedFailure
		// before is b's status ("" without a row), the status before of
		// a failure first seen in b; one known before b was Failed when
		// last reported, whatever b's partial row, reported to no one,
		// says.
		before string
		// missing: its association was missing from the last run that
		// audited the instance, and was reported gone then (Absent),
		// and b has no row of it.
		missing bool
	}
	failing := map[string]known{}
	for _, f := range b.CarriedFailing {
		failing[f.AssociationID] = known{f: f, missing: f.Absent}
	}
	rows := map[string]Association{}
	for _, p := range b.Associations {
		rows[p.AssociationID] = p
		k, ok := failing[p.AssociationID]
		k.before, k.missing = p.Status, false
		if p.Status == StatusFailed {
			k.f, ok = failedRow(b, p), true
		}
		if ok {
			failing[p.AssociationID] = k
		}
	}
	resolved := func(k known, a Association) Change {
		ch := assocChange(Resolved, c, a, StatusFailed, StatusSuccess)
		ch.FirstSeenFailing, ch.ErrorCode = nil, k.f.ErrorCode
		return ch
	}
	if c.Detail == DetailOverview {
		// Every association succeeded, or there is none.
		for _, id := range slices.Sorted(maps.Keys(failing)) {
			k := failing[id]
			if k.missing {
				continue // gone already, and not shown back
			}
			a := rows[id]
			a.AssociationID = id
			ch := resolved(k, a)
			if c.Outcome == OutcomeNoAssociations {
				ch = assocChange(VanishedAssociation, b, a, StatusFailed, "")
				ch.ErrorCode = k.f.ErrorCode
			}
			if err := emit(ch); err != nil {
				return err
			}
		}
		return nil
	}
	for _, a := range c.Associations {
		k, was := failing[a.AssociationID]
		delete(failing, a.AssociationID)
		var ch Change
		switch {
		case a.Status == StatusFailed && was && !k.f.Unreported:
			ch = assocChange(StillFailing, c, a, StatusFailed, a.Status)
			ch.ErrorCodeBefore = k.f.ErrorCode
		case a.Status == StatusFailed:
			ch = assocChange(NewFailure, c, a, k.before, a.Status)
		case was && a.Status == StatusSuccess:
			ch = resolved(k, a)
		default:
			ch.Kind = "" // Pending: no verdict yet (Carry keeps its date); or no failure then or now
		}
		if ch.Kind != "" {
			if err := emit(ch); err != nil {
				return err
			}
		}
		if was && k.missing {
			// Back after it was reported gone, as from a baseline
			// without it.
			if err := emit(assocChange(NewAssociation, c, a, "", a.Status)); err != nil {
				return err
			}
		}
	}
	// A failure last known, and its association gone now: gone, as from a
	// baseline not in error.
	for _, id := range slices.Sorted(maps.Keys(failing)) {
		k := failing[id]
		if k.missing {
			continue // reported gone already: never twice
		}
		a := rows[id]
		a.AssociationID = id
		ch := assocChange(VanishedAssociation, b, a, StatusFailed, "")
		ch.ErrorCode = k.f.ErrorCode
		if err := emit(ch); err != nil {
			return err
		}
	}
	return nil
}

func instanceChange(kind ChangeKind, r *Result) Change {
	return Change{Kind: kind, AccountID: r.AccountID, Region: r.Region, InstanceID: r.InstanceID, Labels: r.Labels}
}

func assocChange(kind ChangeKind, r *Result, a Association, before, after string) Change {
	c := instanceChange(kind, r)
	c.AssociationID, c.AssociationName, c.Document = a.AssociationID, a.AssociationName, a.Name
	c.Before, c.After = before, after
	if a.Status == StatusFailed {
		c.ErrorCode = a.ErrorCode
		c.FirstSeenFailing = a.FirstSeenFailing
	}
	return c
}
