package ssmsim

import (
	"maps"
	"math"
	"math/bits"
	"slices"
	"time"
)

// DriftConfig says how Drift changes a fleet. Fractions are in [0, 1]; zero
// means the default given, negative means none. The zero value drifts a
// fleet the way a week of operations might.
type DriftConfig struct {
	// Seed selects the changes: the same fleet and config drift the same
	// way, byte for byte.
	Seed int64
	// Resolved is the share of failed associations that succeed now, with
	// a later execution date. Zero means 0.3.
	Resolved float64
	// NewFailures is the share of succeeding associations that fail now,
	// with an error code and a later execution date. Zero means 0.03.
	NewFailures float64
	// Added is the number of new managed instances, as a share of the
	// managed ones (rounded). Zero means 0.02.
	Added float64
	// Removed is the share of managed instances that SSM no longer knows:
	// their IDs stay in the fleet, unmanaged, and answer InvalidInstanceId.
	// Zero means 0.02.
	Removed float64
	// AssociationsAdded is the share of generated instances (other than
	// those with more than 100 associations) that gain an association;
	// AssociationsRemoved the share of instances that lose one. Zero means
	// 0.01 each.
	AssociationsAdded, AssociationsRemoved float64
	// Elapsed is how much later the drifted fleet is seen: its BaseTime is
	// its parent's plus Elapsed, and a changed execution is dated after the
	// old one and no later than that. Zero means the same base time.
	Elapsed time.Duration
}

func fraction(v, def float64) float64 {
	switch {
	case v == 0:
		return def
	case v < 0 || math.IsNaN(v):
		return 0
	}
	return min(v, 1)
}

// ChangeKind is what changed for an instance or one of its associations.
type ChangeKind string

// The kinds of change that Drift makes.
const (
	// ChangeResolved: an association that had failed succeeded since.
	ChangeResolved ChangeKind = "resolved"
	// ChangeNewFailure: an association that had succeeded failed since.
	ChangeNewFailure ChangeKind = "new_failure"
	// ChangeAssociationAdded and ChangeAssociationRemoved: an association
	// that the instance did not have, or no longer has.
	ChangeAssociationAdded   ChangeKind = "association_added"
	ChangeAssociationRemoved ChangeKind = "association_removed"
	// ChangeInstanceAdded: a managed instance that was not in the fleet.
	// ChangeInstanceRemoved: a managed instance that SSM no longer knows
	// (its associations went with it; they have no changes of their own).
	ChangeInstanceAdded   ChangeKind = "instance_added"
	ChangeInstanceRemoved ChangeKind = "instance_removed"
)

// ChangeKinds lists every ChangeKind.
func ChangeKinds() []ChangeKind {
	return []ChangeKind{ChangeResolved, ChangeNewFailure, ChangeAssociationAdded, ChangeAssociationRemoved,
		ChangeInstanceAdded, ChangeInstanceRemoved}
}

// Change is one difference between a fleet and its drifted copy.
type Change struct {
	// Account and Region are the account-region of the fleet; Org.Drift
	// sets them, Fleet.Drift leaves them empty.
	Account, Region string
	InstanceID      string
	// AssociationID is empty for the changes of an instance.
	AssociationID string
	Kind          ChangeKind
	// Before and After are the association as the parent and the drifted
	// fleet serve it; zero where it does not exist, and for the changes of
	// an instance.
	Before, After Association
}

// Changes are the differences Drift made, in the fleet's order (of an
// organisation: account by account, region by region), the changes of one
// instance in the order of its associations.
type Changes []Change

// Count returns the number of changes of kind k.
func (cs Changes) Count(k ChangeKind) int {
	n := 0
	for k2 := range cs {
		if cs[k2].Kind == k {
			n++
		}
	}
	return n
}

// driftLayer is one Drift of a fleet. It is applied to a generated entry
// when its profile or an execution is derived, so that a drifted fleet of
// 100,000 instances is as lazy as its parent.
type driftLayer struct {
	seed                                            uint64
	resolved, newFailures, assocAdded, assocRemoved float64
	// before is the number of entries before the drift; the drift applies
	// to them. Entries [before, after) are the instances it added.
	before, after int
	// now is the fleet's base time after the drift.
	now time.Time
}

// Salts of a drift's streams; saltDriftExec is added to a pool index, or
// to the position of a hand-made instance's association.
const (
	saltDriftRemove  uint64 = 1 << 32
	saltDriftProfile uint64 = 1<<32 + 1
	saltDriftExec    uint64 = 1 << 33
)

// change returns the execution that replaces e on entry i (key is the pool
// index, or the association's position on a hand-made instance), or e
// itself. Only a failure can be resolved and only a success can fail; the
// new execution is dated after the old one and no later than l.now, and
// there is no change where there is no room for a later date.
func (l *driftLayer) change(i int, key uint64, e execResult) execResult {
	r := newRNG(l.seed, uint64(i), saltDriftExec+key)
	x, y, z := r.float(), r.intn(len(errorCodes)-1), r.next()
	var n execResult
	switch {
	case e.status == stFailed && x < l.resolved:
		n = execResult{status: stSuccess, detail: dtSuccess, summary: sumSuccess}
	case e.status == stSuccess && x < l.newFailures:
		n = execResult{status: stFailed, detail: dtFailed, code: uint8(1 + y)}
		switch n.code {
		case 1: // ExecutionError
			n.summary = sumFailed
		case 2: // StuckAtInProgress
			n.detail, n.summary = dtTimedOut, sumTimedOut
		}
	default:
		return e
	}
	old := e.at
	if old.IsZero() {
		old = l.now.Add(-time.Hour) // never ran (hand-made): a run within the hour
	}
	span := l.now.Sub(old)
	if span < time.Millisecond {
		return e
	}
	n.at = old.Add(time.Duration(z%uint64(span)) + 1).Truncate(time.Millisecond)
	if !n.at.After(old) {
		n.at = old.Add(time.Millisecond)
	}
	return n
}

func (l *driftLayer) exec(i, poolIdx int, e execResult) execResult {
	return l.change(i, uint64(poolIdx), e)
}

// profile removes an association from, and adds one to, an ordinary
// generated instance, as the layer's draws for it say.
func (l *driftLayer) profile(i int, p profile) profile {
	if p.heavy {
		return p
	}
	r := newRNG(l.seed, uint64(i), saltDriftProfile)
	rm, rmK, add, addK := r.float(), r.next(), r.float(), r.next()
	if p.n > 0 && rm < l.assocRemoved {
		p.mask &^= 1 << nthBit(p.mask, int(rmK%uint64(p.n)))
		p.n--
	}
	if add < l.assocAdded && p.n < commonSize {
		free := ^p.mask & (1<<commonSize - 1)
		p.mask |= 1 << nthBit(free, int(addK%uint64(commonSize-p.n)))
		p.n++
	}
	return p
}

// nthBit returns the position of the n-th (from 0) set bit of m.
func nthBit(m uint32, n int) int {
	for ; n > 0; n-- {
		m &= m - 1
	}
	return bits.TrailingZeros32(m)
}

// Drift returns a drifted copy of f, deterministic from cfg, and the exact
// list of what changed: failed associations resolved, succeeding ones
// failed, associations added and removed, instances added (new IDs, managed,
// distinct from every ID of f) and removed (unmanaged now). f does not
// change. A generated fleet stays lazy: its drifted copy stores its IDs and
// the drift's parameters, and derives instances on demand; hand-made
// instances are copied with their changes. Drift may be applied to a
// drifted fleet again, as weeks go by.
//
// Drift reads every instance once to list the changes: well under a second
// for 100,000 instances.
func (f *Fleet) Drift(cfg DriftConfig) (*Fleet, Changes) {
	return f.drift(cfg, nil)
}

func (f *Fleet) drift(cfg DriftConfig, taken func(string) bool) (*Fleet, Changes) {
	g := &Fleet{
		seed: f.seed, base: f.base, pool: f.pool, failing: f.failing,
		ids: slices.Clone(f.ids), flags: slices.Clone(f.flags),
		byID: maps.Clone(f.byID), hand: maps.Clone(f.hand),
		layers: slices.Clone(f.layers),
	}
	if g.base.IsZero() {
		g.base = DefaultBaseTime
	}
	if g.pool == nil {
		g.pool = newPool(g.seed)
	}
	if g.byID == nil {
		g.byID = map[string]int32{}
	}
	if g.hand == nil {
		g.hand = map[int32]*Instance{}
	}
	n := len(f.ids)
	l := &driftLayer{
		seed:         mix64(uint64(cfg.Seed) ^ 0x5851f42d4c957f2d),
		resolved:     fraction(cfg.Resolved, 0.3),
		newFailures:  fraction(cfg.NewFailures, 0.03),
		assocAdded:   fraction(cfg.AssociationsAdded, 0.01),
		assocRemoved: fraction(cfg.AssociationsRemoved, 0.01),
		before:       n,
		now:          f.BaseTime().Add(max(cfg.Elapsed, 0)),
	}
	removed := fraction(cfg.Removed, 0.02)
	managed := 0
	for i := range n {
		if g.flags[i]&flagUnmanaged != 0 {
			continue
		}
		managed++
		r := newRNG(l.seed, uint64(i), saltDriftRemove)
		if r.float() < removed {
			g.flags[i] |= flagUnmanaged
		}
	}
	added := int(math.Round(fraction(cfg.Added, 0.02) * float64(managed)))
	for i := n; i < n+added; i++ {
		// The streams a larger generated fleet would have drawn entry i
		// from, so that an added instance looks like any other.
		r := newRNG(g.seed, uint64(i), saltKind)
		r.float()
		kind := r.intn(100)
		for attempt := uint64(0); ; attempt++ {
			idr := newRNG(g.seed, uint64(i), saltID|attempt<<8)
			id := genID(kind, &idr)
			if _, dup := g.byID[id]; !dup && (taken == nil || !taken(id)) {
				g.ids = append(g.ids, id)
				g.flags = append(g.flags, 0)
				g.byID[id] = int32(i)
				break
			}
		}
	}
	l.after = n + added
	g.layers = append(g.layers, l)
	for i, in := range f.hand {
		switch {
		case g.flags[i]&flagUnmanaged == 0:
			g.hand[i] = l.driftHand(int(i), in, max(cfg.Elapsed, 0))
		case f.flags[i]&flagUnmanaged == 0: // removed by this drift
			c := *in
			c.Unmanaged, c.Associations = true, nil
			g.hand[i] = &c
		}
	}
	return g, diff(f, g)
}

// driftHand returns a hand-made instance with the layer's changes: an
// association removed, statuses changed, an online agent's last ping moved
// on by elapsed.
func (l *driftLayer) driftHand(i int, in *Instance, elapsed time.Duration) *Instance {
	c := *in
	if c.PingStatus == "Online" && !c.LastPingDateTime.IsZero() {
		c.LastPingDateTime = c.LastPingDateTime.Add(elapsed)
	}
	c.Associations = slices.Clone(in.Associations)
	for k := range c.Associations {
		a := &c.Associations[k]
		var e execResult
		switch a.Status {
		case "Failed":
			e.status = stFailed
		case "Success":
			e.status = stSuccess
		default:
			continue
		}
		e.at = a.ExecutionDate
		n := l.change(i, uint64(k), e)
		if n.at.Equal(e.at) && n.status == e.status {
			continue
		}
		a.Status = statusNames[n.status]
		a.DetailedStatus = detailNames[n.detail]
		a.ErrorCode = errorCodes[n.code]
		a.ExecutionSummary = summaries[0][n.summary]
		a.ExecutionDate = n.at
	}
	r := newRNG(l.seed, uint64(i), saltDriftProfile)
	if rm, rmK := r.float(), r.next(); len(c.Associations) > 0 && rm < l.assocRemoved {
		k := int(rmK % uint64(len(c.Associations)))
		c.Associations = slices.Delete(c.Associations, k, k+1)
	}
	return &c
}

// diff lists the changes between f and its drifted copy g.
func diff(f, g *Fleet) Changes {
	var cs Changes
	for i := range f.ids {
		if f.flags[i]&flagUnmanaged != 0 {
			continue
		}
		id := f.ids[i]
		if g.flags[i]&flagUnmanaged != 0 {
			cs = append(cs, Change{InstanceID: id, Kind: ChangeInstanceRemoved})
			continue
		}
		if f.flags[i]&flagHand != 0 {
			cs = diffAssociations(cs, id, f.hand[int32(i)].Associations, g.hand[int32(i)].Associations)
			continue
		}
		pf, pg := f.profile(i), g.profile(i)
		was, is := poolSet(pf), poolSet(pg)
		for _, idx := range unionSorted(was, is) {
			inF, inG := slices.Contains(was, idx), slices.Contains(is, idx)
			switch {
			case inF && inG:
				ef, eg := f.genExec(i, pf, idx), g.genExec(i, pg, idx)
				kind := statusChange(ef.status, eg.status)
				if kind != "" {
					cs = append(cs, Change{InstanceID: id, AssociationID: f.pool[idx].id, Kind: kind,
						Before: f.genAssociation(i, id, pf, idx), After: g.genAssociation(i, id, pg, idx)})
				}
			case inF:
				cs = append(cs, Change{InstanceID: id, AssociationID: f.pool[idx].id, Kind: ChangeAssociationRemoved,
					Before: f.genAssociation(i, id, pf, idx)})
			default:
				cs = append(cs, Change{InstanceID: id, AssociationID: g.pool[idx].id, Kind: ChangeAssociationAdded,
					After: g.genAssociation(i, id, pg, idx)})
			}
		}
	}
	for i := len(f.ids); i < len(g.ids); i++ {
		cs = append(cs, Change{InstanceID: g.ids[i], Kind: ChangeInstanceAdded})
	}
	return cs
}

func statusChange(before, after uint8) ChangeKind {
	switch {
	case before == stFailed && after == stSuccess:
		return ChangeResolved
	case before == stSuccess && after == stFailed:
		return ChangeNewFailure
	}
	return ""
}

// diffAssociations lists the changes between two lists of a hand-made
// instance's associations, matched by AssociationID.
func diffAssociations(cs Changes, id string, before, after []Association) Changes {
	for _, b := range before {
		k := slices.IndexFunc(after, func(a Association) bool { return a.AssociationID == b.AssociationID })
		if k < 0 {
			cs = append(cs, Change{InstanceID: id, AssociationID: b.AssociationID, Kind: ChangeAssociationRemoved, Before: b})
			continue
		}
		a := after[k]
		var kind ChangeKind
		switch {
		case b.Status == "Failed" && a.Status == "Success":
			kind = ChangeResolved
		case b.Status == "Success" && a.Status == "Failed":
			kind = ChangeNewFailure
		}
		if kind != "" {
			cs = append(cs, Change{InstanceID: id, AssociationID: b.AssociationID, Kind: kind, Before: b, After: a})
		}
	}
	for _, a := range after {
		if !slices.ContainsFunc(before, func(b Association) bool { return b.AssociationID == a.AssociationID }) {
			cs = append(cs, Change{InstanceID: id, AssociationID: a.AssociationID, Kind: ChangeAssociationAdded, After: a})
		}
	}
	return cs
}

// poolSet returns the pool indices of a profile's associations, ascending.
func poolSet(p profile) []int {
	out := make([]int, p.n)
	for k := range out {
		out[k] = p.poolIndex(k)
	}
	return out
}

func unionSorted(a, b []int) []int {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

// Drift returns a drifted copy of the organisation and what changed: every
// account-region's fleet drifts as Fleet.Drift does, each from its own seed
// drawn from cfg.Seed, and added instances get IDs distinct across the
// whole organisation. o does not change; accounts, regions, roles and keys
// are the same in the copy.
func (o *Org) Drift(cfg DriftConfig) (*Org, Changes) {
	n := *o
	n.accounts = make([]*orgAccount, len(o.accounts))
	n.byID = make(map[string]*orgAccount, len(o.byID))
	n.keys = make(map[string]*orgAccount, len(o.keys))
	var old, built []*Fleet
	for _, oa := range o.accounts {
		for _, f := range oa.fleets {
			old = append(old, f)
		}
	}
	taken := func(id string) bool {
		for _, fs := range [][]*Fleet{old, built} {
			for _, f := range fs {
				if _, ok := f.byID[id]; ok {
					return true
				}
			}
		}
		return false
	}
	var cs Changes
	for k, oa := range o.accounts {
		na := *oa
		na.fleets = make(map[string]*Fleet, len(oa.fleets))
		for ri, r := range o.regions {
			f := oa.fleets[r.Name]
			if f == nil {
				continue
			}
			c := cfg
			c.Seed = int64(mix64(uint64(cfg.Seed) ^ mix64(uint64(k)<<20|uint64(ri))))
			g, ch := f.drift(c, taken)
			for j := range ch {
				ch[j].Account, ch[j].Region = oa.ID, r.Name
			}
			cs = append(cs, ch...)
			na.fleets[r.Name] = g
			built = append(built, g)
		}
		n.accounts[k] = &na
		n.byID[na.ID] = &na
		for _, key := range na.AccessKeys {
			n.keys[key] = &na
		}
	}
	return &n, cs
}
