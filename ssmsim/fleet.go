package ssmsim

import (
	"bufio"
	"io"
	"maps"
	"slices"
	"time"
)

// DefaultBaseTime is the base time of a fleet whose FleetConfig.BaseTime is
// zero: execution and ping dates are drawn backwards from it, never from the
// clock, so that a fleet is the same on every run.
var DefaultBaseTime = time.Date(2025, time.June, 2, 12, 0, 0, 0, time.UTC)

// FleetConfig says which fleet NewFleet generates. The zero value is an empty
// fleet, to be filled by hand with Add.
type FleetConfig struct {
	// Seed selects the fleet: the same Seed and Size give the same IDs,
	// instances and associations, byte for byte.
	Seed int64
	// Size is the number of instance IDs, unmanaged ones included.
	Size int
	// BaseTime is "now" for the fleet; zero means DefaultBaseTime.
	BaseTime time.Time
	// UnmanagedFraction is the share of IDs that SSM does not know (they
	// answer InvalidInstanceId). Zero means 0.03; negative means none.
	UnmanagedFraction float64
	// Heavy is the number of managed instances with more than 100
	// associations (101 to 160). Zero means max(2, Size/1000) when Size is
	// at least 10, else none; negative means none.
	Heavy int
	// Failing, when positive, replaces the realistic mix of statuses with a
	// plain one for load tests: each managed instance fails (every one of
	// its associations Failed) with this probability, and every
	// association of the others succeeded in the last day. Zero keeps the
	// mix.
	Failing float64
}

// Instance is one instance of a fleet: what DescribeInstanceInformation says
// about it (the API's InstanceInformation, field for field), its tags, and
// its associations. Empty strings and zero times are absent on the wire.
//
// AssociationStatus, LastAssociationExecutionDate,
// LastSuccessfulAssociationExecutionDate and AssociationOverview are not
// fields: the server derives them from Associations.
type Instance struct {
	InstanceID string
	// Unmanaged marks an ID that SSM does not know: it is in the fleet's ID
	// list, but every operation answers InvalidInstanceId for it and
	// DescribeInstanceInformation leaves it out.
	Unmanaged bool
	// Stopped marks an EC2 instance that is stopped: SSM still knows it,
	// and DescribeInstanceAssociationsStatus answers for it, but
	// DescribeInstanceInformation, which "does not return information for
	// nodes that are either Stopped or Terminated", leaves it out.
	Stopped          bool
	PingStatus       string // Online, ConnectionLost or Inactive
	LastPingDateTime time.Time
	AgentVersion     string
	IsLatestVersion  bool   // sent only when AgentVersion is set; a generated Windows node's is false
	PlatformType     string // Linux, Windows or MacOS
	PlatformName     string
	PlatformVersion  string
	ActivationID     string
	IAMRole          string
	RegistrationDate time.Time
	ResourceType     string // EC2Instance or ManagedInstance
	Name             string
	IPAddress        string
	ComputerName     string
	SourceID         string
	SourceType       string
	// Tags are the instance's tags, for the tag:KEY and tag-key filters of
	// DescribeInstanceInformation. SSM does not return them.
	Tags map[string]string
	// Associations are returned by DescribeInstanceAssociationsStatus in this
	// order.
	Associations []Association
}

// Entry flags.
const (
	flagUnmanaged uint8 = 1 << iota
	flagHeavy
	flagStopped // Instance.Stopped
	flagHand    // the entry was added by hand: its data is in Fleet.hand
)

// Fleet is a set of instances with their associations: the truth that a
// Server serves. A generated fleet stores only its IDs and derives each
// instance from (seed, index) when asked, so that 100,000 instances cost a
// few megabytes.
//
// The zero Fleet is empty and ready for Add. A Fleet is safe for concurrent
// use by any number of goroutines, except Add, which must not run at the same
// time as any other method: build the fleet, then serve it.
type Fleet struct {
	seed  uint64
	base  time.Time
	pool  []poolEntry
	ids   []string
	flags []uint8
	byID  map[string]int32
	hand  map[int32]*Instance
	// layers are the drifts that made this fleet from a generated one, in
	// order; see Drift.
	layers []*driftLayer
	// failing is FleetConfig.Failing.
	failing float64
}

// NewFleet generates the fleet that cfg describes: a realistic mix of EC2
// (i- with 17 or 8 hex digits) and on-premises (mi-) instances, some unknown
// to SSM, some without associations and a few with more than 100; statuses
// Success, Failed and Pending with consistent detailed statuses, agent error
// codes and execution summaries; execution dates up to ten weeks before the
// base time; S3 output URLs on some associations; tags Environment, Team,
// Name and PatchGroup. It is deterministic: the same cfg gives the same
// fleet.
func NewFleet(cfg FleetConfig) *Fleet { return newFleet(cfg, nil) }

// newFleet is NewFleet, drawing again any ID that taken reports (IDs of
// other fleets of an organisation); taken may be nil.
func newFleet(cfg FleetConfig, taken func(string) bool) *Fleet {
	f := &Fleet{
		seed:    uint64(cfg.Seed),
		base:    cfg.BaseTime,
		byID:    make(map[string]int32, cfg.Size),
		hand:    map[int32]*Instance{},
		failing: min(max(cfg.Failing, 0), 1),
	}
	if f.base.IsZero() {
		f.base = DefaultBaseTime
	}
	f.base = f.base.UTC()
	f.pool = newPool(f.seed)
	f.generate(cfg, taken)
	return f
}

// BaseTime returns the fleet's "now": every generated date is before it.
// A drifted fleet's is its parent's plus DriftConfig.Elapsed.
func (f *Fleet) BaseTime() time.Time {
	if n := len(f.layers); n > 0 {
		return f.layers[n-1].now
	}
	if f.base.IsZero() {
		return DefaultBaseTime
	}
	return f.base
}

// entryBase returns the base time of entry i's generated dates: the
// fleet's base time, or the time of the drift that added the entry.
func (f *Fleet) entryBase(i int) time.Time {
	for _, l := range f.layers {
		if i >= l.before && i < l.after {
			return l.now
		}
	}
	return f.base
}

// Len returns the number of IDs in the fleet, unmanaged ones included.
func (f *Fleet) Len() int { return len(f.ids) }

// IDs returns every ID in the fleet, unmanaged ones included, in the fleet's
// order (generation order, then the order of Add). The slice is a copy.
func (f *Fleet) IDs() []string { return slices.Clone(f.ids) }

// ManagedIDs returns the IDs that SSM knows, in the fleet's order.
func (f *Fleet) ManagedIDs() []string {
	out := make([]string, 0, len(f.ids))
	for i, id := range f.ids {
		if f.flags[i]&flagUnmanaged == 0 {
			out = append(out, id)
		}
	}
	return out
}

// Managed reports whether id is in the fleet and known to SSM.
func (f *Fleet) Managed(id string) bool {
	i, ok := f.byID[id]
	return ok && f.flags[i]&flagUnmanaged == 0
}

// Associations returns the associations of id as the server returns them, in
// order: the truth to compare a client's result with. It returns nil for an
// ID that is not in the fleet or not managed. The slice is a copy.
func (f *Fleet) Associations(id string) []Association {
	i, ok := f.byID[id]
	if !ok || f.flags[i]&flagUnmanaged != 0 {
		return nil
	}
	n := f.assocCount(int(i))
	return f.assocRange(int(i), 0, n, make([]Association, 0, n))
}

// Instance returns everything the fleet holds about id, associations and
// tags included, and whether id is in the fleet. The result is a copy.
func (f *Fleet) Instance(id string) (Instance, bool) {
	i, ok := f.byID[id]
	if !ok {
		return Instance{}, false
	}
	inst := f.instance(int(i), true)
	inst.Tags = maps.Clone(inst.Tags)
	return inst, true
}

// WriteIDs writes every ID (IDs order) to w, one per line.
func (f *Fleet) WriteIDs(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for _, id := range f.ids {
		bw.WriteString(id)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// Add puts inst in the fleet. An instance whose ID is already in the fleet
// replaces it in place; a new one goes at the end. Associations with an
// empty InstanceID get inst's ID; everything else is served as given, so a
// test can plant any text. Add copies inst's slices and map.
func (f *Fleet) Add(inst Instance) {
	in := inst
	in.Tags = maps.Clone(inst.Tags)
	in.Associations = slices.Clone(inst.Associations)
	for k := range in.Associations {
		if in.Associations[k].InstanceID == "" {
			in.Associations[k].InstanceID = in.InstanceID
		}
	}
	if f.byID == nil {
		f.byID = map[string]int32{}
	}
	if f.hand == nil {
		f.hand = map[int32]*Instance{}
	}
	flags := flagHand
	if in.Unmanaged {
		flags |= flagUnmanaged
	}
	if in.Stopped {
		flags |= flagStopped
	}
	i, ok := f.byID[in.InstanceID]
	if !ok {
		i = int32(len(f.ids))
		f.ids = append(f.ids, in.InstanceID)
		f.flags = append(f.flags, 0)
		f.byID[in.InstanceID] = i
	}
	f.flags[i] = flags
	f.hand[i] = &in
}

// lookup returns the index of a managed id.
func (f *Fleet) lookup(id string) (int, bool) {
	i, ok := f.byID[id]
	if !ok || f.flags[i]&flagUnmanaged != 0 {
		return 0, false
	}
	return int(i), true
}

// assocCount returns the number of associations of entry i.
func (f *Fleet) assocCount(i int) int {
	if f.flags[i]&flagHand != 0 {
		return len(f.hand[int32(i)].Associations)
	}
	return f.profile(i).n
}

// assocRange appends associations [off, off+n) of entry i to dst.
func (f *Fleet) assocRange(i, off, n int, dst []Association) []Association {
	if f.flags[i]&flagHand != 0 {
		return append(dst, f.hand[int32(i)].Associations[off:off+n]...)
	}
	p := f.profile(i)
	id := f.ids[i]
	for k := off; k < off+n; k++ {
		dst = append(dst, f.genAssociation(i, id, p, p.poolIndex(k)))
	}
	return dst
}

// instance returns entry i; withAssoc selects whether Associations is
// filled. Tags of a hand-made instance are shared, not copied.
func (f *Fleet) instance(i int, withAssoc bool) Instance {
	if f.flags[i]&flagHand != 0 {
		in := *f.hand[int32(i)]
		if withAssoc {
			in.Associations = slices.Clone(in.Associations)
		} else {
			in.Associations = nil
		}
		return in
	}
	return f.genInstance(i, withAssoc)
}

// summary aggregates the association statuses of entry i for
// DescribeInstanceInformation.
func (f *Fleet) summary(i int) assocSummary {
	var s assocSummary
	if f.flags[i]&flagHand != 0 {
		for k := range f.hand[int32(i)].Associations {
			a := &f.hand[int32(i)].Associations[k]
			s.add(a.Status, a.ExecutionDate)
		}
		return s
	}
	p := f.profile(i)
	for k := 0; k < p.n; k++ {
		e := f.genExec(i, p, p.poolIndex(k))
		s.add(statusNames[e.status], e.at)
	}
	return s
}

// assocSummary is the aggregate that DescribeInstanceInformation reports
// about an instance's associations.
type assocSummary struct {
	n                    int
	success, failed, pen int
	other                map[string]int // statuses other than the three
	last, lastSuccess    time.Time
}

func (s *assocSummary) add(status string, date time.Time) {
	s.n++
	switch status {
	case "Success":
		s.success++
		if date.After(s.lastSuccess) {
			s.lastSuccess = date
		}
	case "Failed":
		s.failed++
	case "Pending":
		s.pen++
	default:
		if s.other == nil {
			s.other = map[string]int{}
		}
		s.other[status]++
	}
	if date.After(s.last) {
		s.last = date
	}
}

// status is the instance's AssociationStatus: Failed if any failed, else
// Pending if any is pending, else Success; "" without associations.
func (s *assocSummary) status() string {
	switch {
	case s.n == 0:
		return ""
	case s.failed > 0:
		return "Failed"
	case s.pen > 0:
		return "Pending"
	default:
		return "Success"
	}
}
