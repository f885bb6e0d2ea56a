package audit

import (
	"iter"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Fleet collects the targets of a run from instance lists (Read) and from the
// command line (AddID), in first-seen order, distinct by Key. The zero Fleet
// is ready to use. A Fleet is not safe for concurrent use and must not be
// copied after first use.
//
// A Fleet holds its valid targets compactly, in under 100 bytes each for a
// plain list (an instance ID is packed into ten bytes; regions, accounts,
// list names and label values are stored once), so that a list of ten
// million IDs fits in about a gigabyte. Targets are made on demand by All,
// Targets and Each; a Target from them is a copy that the caller owns.
//
// See Read for the formats of an instance list.
type Fleet struct {
	// Invalid are the bad lines, in order, with Source ("FILE:LINE"),
	// Problem and InstanceID (the raw value, cut to 256 bytes) set. They
	// are few by nature, and kept whole.
	Invalid []Target
	// Duplicates counts lines collapsed into an earlier target's Key.
	Duplicates int
	// LabelKeys are the label column names of the CSV lists read, in
	// first-seen order.
	LabelKeys []string

	slots []slot
	// seen maps the key of each slot to its index: a duplicate's first,
	// and the target of SetInfo and SetLabels, are found by it.
	seen     map[slotKey]int32
	regions  intern
	accounts intern
	lists    intern
	// layouts[i-1] names the label columns of a slot whose layout is i; its
	// values are labelVals[labels-1:][:len(layouts[layout-1])].
	layouts   [][]string
	labelVals []string
	values    map[string]string // interned label values
	// infos[i-1] is the InstanceInfo of a slot whose info is i.
	infos []*InstanceInfo
	// layoutOf finds a layout by its label names in order, joined by NUL.
	layoutOf map[string]int
	// joins caches joinLayouts.
	joins map[[2]uint16]uint16
	// merges are the labels that the Read under way has met in duplicates
	// of labelled targets and that those lack, for them once it has
	// succeeded (a target without labels takes its duplicate's at once,
	// which rollback undoes).
	merges []labelMerge
}

// labelMerge gives the slot at index slot the labels it lacks of the
// layout and labels (as in a slot) of a duplicate of it.
type labelMerge struct {
	slot   int32
	layout uint16
	labels uint32
}

// slot is one valid target, packed. Index 0 of every intern table is "".
type slot struct {
	id      packedID
	region  uint16
	list    uint16
	layout  uint16 // 1 + index in layouts; 0 when the target has no labels
	account uint32
	line    uint32
	labels  uint32 // 1 + offset in labelVals
	info    uint32 // 1 + index in infos; 0 when none
}

type slotKey struct {
	id      packedID
	region  uint16
	account uint32
}

func (s *slot) key() slotKey { return slotKey{s.id, s.region, s.account} }

// intern numbers distinct strings; number 0 is "".
type intern struct {
	names []string
	index map[string]int
}

func (in *intern) id(s string) int {
	if in.index == nil {
		in.names = []string{""}
		in.index = map[string]int{"": 0}
	}
	if i, ok := in.index[s]; ok {
		return i
	}
	in.names = append(in.names, s)
	in.index[s] = len(in.names) - 1
	return len(in.names) - 1
}

func (in *intern) name(i int) string {
	if i == 0 {
		return ""
	}
	return in.names[i]
}

// Len returns the number of valid targets.
func (f *Fleet) Len() int { return len(f.slots) }

// All yields every valid target in first-seen order.
func (f *Fleet) All() iter.Seq[Target] {
	return func(yield func(Target) bool) {
		for i := range f.slots {
			if !yield(f.target(&f.slots[i])) {
				return
			}
		}
	}
}

// Targets returns every valid target in first-seen order. It makes a Target
// for each: for a large fleet, range over All instead.
func (f *Fleet) Targets() []Target {
	out := make([]Target, 0, len(f.slots))
	for t := range f.All() {
		out = append(out, t)
	}
	return out
}

// Has reports whether the fleet holds a valid target with key k.
func (f *Fleet) Has(k Key) bool {
	sk, ok := f.lookupKey(k)
	if !ok {
		return false
	}
	_, ok = f.seen[sk]
	return ok
}

// lookupKey packs k without adding names to the intern tables.
func (f *Fleet) lookupKey(k Key) (slotKey, bool) {
	if ValidID(k.InstanceID) != "" {
		return slotKey{}, false
	}
	r, okR := f.regions.index[k.Region]
	a, okA := f.accounts.index[k.AccountID]
	if (!okR && k.Region != "") || (!okA && k.AccountID != "") {
		return slotKey{}, false
	}
	return slotKey{packID(k.InstanceID), uint16(r), uint32(a)}, true
}

func (f *Fleet) target(s *slot) Target {
	t := Target{
		InstanceID: s.id.String(),
		Region:     f.regions.name(int(s.region)),
		AccountID:  f.accounts.name(int(s.account)),
		Source:     f.source(s),
	}
	if s.info > 0 {
		t.Info = f.infos[s.info-1]
	}
	t.Labels = f.labelsOf(s)
	return t
}

// labelsOf returns the labels of s, nil when it has none.
func (f *Fleet) labelsOf(s *slot) map[string]string {
	if s.layout == 0 {
		return nil
	}
	cols := f.layouts[s.layout-1]
	vals := f.labelVals[s.labels-1:][:len(cols)]
	labels := make(map[string]string, len(cols))
	for i, c := range cols {
		labels[c] = vals[i]
	}
	return labels
}

func (f *Fleet) source(s *slot) string {
	name := f.lists.name(int(s.list))
	if s.line == 0 {
		return name
	}
	return name + ":" + strconv.FormatUint(uint64(s.line), 10)
}

// add records t: as invalid when it has a Problem, as a duplicate when its
// Key was seen (whose labels the first lacks it gains, see Read), else as a
// new target read from line of list (0 when it has no line). A valid t's
// InstanceID, Region and AccountID must be valid or empty. Its labels are
// vals, named by the columns of layout (see newLayout); t.Labels is
// ignored.
func (f *Fleet) add(t Target, list string, line, layout int, vals []string) {
	if t.Problem != "" {
		f.Invalid = append(f.Invalid, t)
		return
	}
	li, ri := f.lists.id(list), f.regions.id(t.Region)
	if li > 0xffff || ri > 0xffff {
		// More than 65,535 lists or regions is not a fleet but a mistake.
		t.Problem = "too many distinct lists or regions in one run"
		f.Invalid = append(f.Invalid, t)
		return
	}
	s := slot{
		id:      packID(t.InstanceID),
		region:  uint16(ri),
		account: uint32(f.accounts.id(t.AccountID)),
		list:    uint16(li),
		line:    uint32(line),
	}
	i, added := f.insert(s)
	if !added {
		first := &f.slots[i]
		switch {
		case layout == 0:
		case first.layout == 0:
			// As if the first had been read with them: a list that repeats
			// another's IDs with labels costs what it would cost alone.
			first.layout, first.labels = uint16(layout), f.appendLabels(vals)
		default:
			if j := f.joinLayouts(first.layout, uint16(layout)); j != first.layout && j != 0 {
				f.merges = append(f.merges, labelMerge{int32(i), uint16(layout), f.appendLabels(vals)})
			}
		}
		return
	}
	if t.Info != nil {
		f.infos = append(f.infos, t.Info)
		f.slots[i].info = uint32(len(f.infos))
	}
	if layout > 0 {
		f.slots[i].layout, f.slots[i].labels = uint16(layout), f.appendLabels(vals)
	}
}

// appendLabels appends vals to labelVals and returns their offset as a slot
// keeps it.
func (f *Fleet) appendLabels(vals []string) uint32 {
	at := uint32(len(f.labelVals) + 1)
	for _, v := range vals {
		f.labelVals = append(f.labelVals, f.value(v))
	}
	return at
}

// value returns the interned copy of v: owners and environments repeat, so
// each is one string.
func (f *Fleet) value(v string) string {
	if iv, ok := f.values[v]; ok {
		return iv
	}
	if f.values == nil {
		f.values = map[string]string{}
	}
	if len(f.values) < 1<<20 {
		f.values[v] = v
	}
	return v
}

// newLayout registers the label columns of a list and returns the layout
// number for add, or 0 when there are none (or too many layouts).
func (f *Fleet) newLayout(cols []string) int {
	if len(cols) == 0 || len(f.layouts) >= 0xffff {
		return 0
	}
	f.layouts = append(f.layouts, cols)
	return len(f.layouts)
}

// insert appends s unless its key is taken, which counts a duplicate. It
// returns the index of the slot with s's key, and whether it is s.
func (f *Fleet) insert(s slot) (int, bool) {
	if f.seen == nil {
		f.seen = map[slotKey]int32{}
	}
	k := s.key()
	if i, ok := f.seen[k]; ok {
		f.Duplicates++
		return int(i), false
	}
	f.seen[k] = int32(len(f.slots))
	f.slots = append(f.slots, s)
	return len(f.slots) - 1, true
}

// ApplyDefaults gives every target that names no region the region, and
// every target that names no account the account (either may be empty to
// leave that field alone), then collapses targets that the defaults made
// equal: the first keeps its source and labels, and gains the labels it
// lacks from the others (see Read), which count in Duplicates. So the same
// instance bare in a text list and with the default region in a CSV list is
// one target, not two.
func (f *Fleet) ApplyDefaults(region, account string) {
	r, a := uint16(f.regions.id(region)), uint32(f.accounts.id(account))
	clear(f.seen)
	kept := f.slots[:0]
	for _, s := range f.slots {
		if s.region == 0 {
			s.region = r
		}
		if s.account == 0 {
			s.account = a
		}
		k := s.key()
		if i, ok := f.seen[k]; ok {
			f.Duplicates++
			// kept[i] is behind s: merged in place, in order, as Read's
			// duplicates are.
			f.mergeLabels(int(i), s.layout, s.labels)
			continue
		}
		f.seen[k] = int32(len(kept))
		kept = append(kept, s)
	}
	clear(f.slots[len(kept):])
	f.slots = kept
}

// mergeLabels gives the slot at index i the labels it lacks of layout and
// labels (as in a slot; layout 0 for none); a label it has keeps its value,
// even an empty one.
func (f *Fleet) mergeLabels(i int, layout uint16, labels uint32) {
	s := &f.slots[i]
	if layout == 0 {
		return
	}
	if s.layout == 0 {
		s.layout, s.labels = layout, labels
		return
	}
	joined := f.joinLayouts(s.layout, layout)
	if joined == s.layout || joined == 0 {
		return
	}
	// The joined layout is s's columns, then those of layout that s lacks,
	// in their order.
	have, from := f.layouts[s.layout-1], f.layouts[layout-1]
	at := uint32(len(f.labelVals) + 1)
	for j := range have {
		f.labelVals = append(f.labelVals, f.labelVals[int(s.labels)-1+j])
	}
	for j, c := range from {
		if !slices.Contains(have, c) {
			f.labelVals = append(f.labelVals, f.labelVals[int(labels)-1+j])
		}
	}
	s.layout, s.labels = joined, at
}

// joinLayouts returns the layout of the columns of a, then those of b that
// a lacks, in their order: a when it lacks none, and 0 when there is no room
// for another layout.
func (f *Fleet) joinLayouts(a, b uint16) uint16 {
	if j, ok := f.joins[[2]uint16{a, b}]; ok {
		return j
	}
	have := f.layouts[a-1]
	cols := slices.Clip(have) // appending copies: have is not touched
	for _, c := range f.layouts[b-1] {
		if !slices.Contains(have, c) {
			cols = append(cols, c)
		}
	}
	j := a
	if len(cols) > len(have) {
		j = uint16(f.layoutNamed(cols))
	}
	if f.joins == nil {
		f.joins = map[[2]uint16]uint16{}
	}
	f.joins[[2]uint16{a, b}] = j
	return j
}

// layoutNamed returns the layout of the label names cols, in their order,
// made when there is none yet; 0 when there is no room for another.
func (f *Fleet) layoutNamed(cols []string) int {
	sig := strings.Join(cols, "\x00")
	if layout, ok := f.layoutOf[sig]; ok {
		return layout
	}
	layout := f.newLayout(cols)
	if layout == 0 {
		return 0
	}
	if f.layoutOf == nil {
		f.layoutOf = map[string]int{}
	}
	f.layoutOf[sig] = layout
	return layout
}

// applyMerges gives the first targets the labels of the duplicates that
// Read met, in the order it met them.
func (f *Fleet) applyMerges() {
	for _, m := range f.merges {
		f.mergeLabels(int(m.slot), m.layout, m.labels)
	}
	f.merges = nil
}

// Keep keeps the valid and invalid targets for which keep returns true, in
// their order, and drops the others.
func (f *Fleet) Keep(keep func(Target) bool) {
	kept := f.slots[:0]
	for i := range f.slots {
		s := f.slots[i]
		if !keep(f.target(&s)) {
			delete(f.seen, s.key())
			continue
		}
		if len(kept) < i {
			f.seen[s.key()] = int32(len(kept))
		}
		kept = append(kept, s)
	}
	clear(f.slots[len(kept):])
	f.slots = kept
	var inv []Target
	for _, t := range f.Invalid {
		if keep(t) {
			inv = append(inv, t)
		}
	}
	f.Invalid = inv
}

// fleetMark is the size of a Fleet, to roll back to.
type fleetMark struct{ slots, labelVals, invalid, duplicates, labelKeys int }

func (f *Fleet) mark() fleetMark {
	return fleetMark{len(f.slots), len(f.labelVals), len(f.Invalid), f.Duplicates, len(f.LabelKeys)}
}

func (f *Fleet) rollback(m fleetMark) {
	f.merges = nil
	for i := m.slots; i < len(f.slots); i++ {
		delete(f.seen, f.slots[i].key())
	}
	for i := range f.slots[:m.slots] {
		// An earlier target took labels read since the mark only if it
		// had none (see add): it has none again.
		if s := &f.slots[i]; s.labels > uint32(m.labelVals) {
			s.layout, s.labels = 0, 0
		}
	}
	clear(f.slots[m.slots:])
	clear(f.labelVals[m.labelVals:])
	clear(f.Invalid[m.invalid:])
	clear(f.LabelKeys[m.labelKeys:])
	f.slots = f.slots[:m.slots]
	f.labelVals = f.labelVals[:m.labelVals]
	f.Invalid = f.Invalid[:m.invalid]
	f.Duplicates = m.duplicates
	f.LabelKeys = f.LabelKeys[:m.labelKeys]
	if len(f.slots) == 0 && len(f.Invalid) == 0 && f.Duplicates == 0 {
		// Nothing read: the zero Fleet again, so that a failed Read
		// leaves no trace (the intern tables included).
		*f = Fleet{LabelKeys: f.LabelKeys}
	}
}

// Regions returns the distinct regions that the valid targets name, in
// first-seen order ("" when some name none).
func (f *Fleet) Regions() []string {
	seen := map[uint16]bool{}
	var out []string
	for i := range f.slots {
		r := f.slots[i].region
		if !seen[r] {
			seen[r] = true
			out = append(out, f.regions.name(int(r)))
		}
	}
	return out
}

// SetInfo sets the InstanceInfo of the target with key k, if the fleet
// holds it and it has none.
func (f *Fleet) SetInfo(k Key, info *InstanceInfo) {
	i, ok := f.slotOf(k)
	if !ok || f.slots[i].info != 0 {
		return
	}
	f.infos = append(f.infos, info)
	f.slots[i].info = uint32(len(f.infos))
}

// SetLabels adds labels to the target with key k, if the fleet holds it: a
// label it has already keeps its value (a list's column wins over what is
// looked up later).
func (f *Fleet) SetLabels(k Key, labels map[string]string) {
	if i, ok := f.slotOf(k); ok {
		f.setLabelsAt(i, labels)
	}
}

// LabelAccounts adds to every target of each account in labels that
// account's labels, as SetLabels does, in one pass over the targets (no
// index of their keys is built).
func (f *Fleet) LabelAccounts(labels map[string]map[string]string) {
	for i := range f.slots {
		f.setLabelsAt(i, labels[f.accounts.name(int(f.slots[i].account))])
	}
}

func (f *Fleet) setLabelsAt(i int, labels map[string]string) {
	if len(labels) == 0 {
		return
	}
	merged := maps.Clone(labels)
	s := &f.slots[i]
	if s.layout > 0 {
		cols := f.layouts[s.layout-1]
		for j, c := range cols {
			merged[c] = f.labelVals[int(s.labels)-1+j]
		}
		if len(merged) == len(cols) {
			return // nothing it lacks
		}
	}
	names := slices.Sorted(maps.Keys(merged))
	layout := f.layoutNamed(names)
	if layout == 0 {
		return
	}
	s.layout, s.labels = uint16(layout), uint32(len(f.labelVals)+1)
	for _, n := range names {
		f.labelVals = append(f.labelVals, f.value(merged[n]))
	}
	for _, n := range names {
		f.addLabelKey(n)
	}
}

// labelsKept reports whether recorded, the labels a record holds for the
// target with key k, agree with the labels its list gives it now: a value
// the list gives that the record lacks or holds otherwise is a change (an
// empty value and none are the same); a label the list does not name
// (looked up from tags, say) is not.
func (f *Fleet) labelsKept(k Key, recorded map[string]string) bool {
	i, ok := f.slotOf(k)
	if !ok {
		return true
	}
	s := &f.slots[i]
	if s.layout == 0 {
		return true
	}
	cols := f.layouts[s.layout-1]
	vals := f.labelVals[s.labels-1:][:len(cols)]
	for j, c := range cols {
		if recorded[c] != vals[j] {
			return false
		}
	}
	return true
}

// slotOf returns the index of the slot with key k.
func (f *Fleet) slotOf(k Key) (int, bool) {
	sk, ok := f.lookupKey(k)
	if !ok {
		return 0, false
	}
	i, ok := f.seen[sk]
	return int(i), ok
}

// Batch is the valid targets of one account and region, audited with one
// client and one rate limiter.
type Batch struct {
	AccountID, Region string
	// Len is the number of targets (0 when not known beforehand: targets
	// discovered as they are audited).
	Len int
	// Targets yields them in first-seen order.
	Targets iter.Seq[Target]
	// Err, when set, is called once Targets has ended: an error stops the
	// run as a worker's error does (a source of targets that failed in a
	// way no other account-region can go on from). The error of the
	// context Run was given (ctx.Err(), or one wrapping it) says instead
	// that the source was cut short by it, with targets it did not list:
	// the run is interrupted, and calls in flight keep their grace.
	Err func() error
	// Invalid says every target is an invalid line (each has a Problem),
	// recorded as such: the batch calls no account-region, and no
	// account-region's work waits for it to end.
	Invalid bool
}

// Batches groups the valid targets by account and region, in the order the
// account-regions were first seen.
func (f *Fleet) Batches() []Batch { return f.batches(false) }

// Drain is Batches for a run that audits each target once: as each target
// is handed out, the fleet lets go of its instance information (the target
// carries it on into the record), so that the memory that looking up the
// targets' information took is given back as the audit goes rather than
// held through the reports.
// Targets handed out again have no Info.
func (f *Fleet) Drain() []Batch { return f.batches(true) }

func (f *Fleet) batches(release bool) []Batch {
	type site struct {
		account uint32
		region  uint16
	}
	index := map[site]int{}
	var order []site
	var members [][]int32
	for i := range f.slots {
		k := site{f.slots[i].account, f.slots[i].region}
		j, ok := index[k]
		if !ok {
			j = len(order)
			index[k] = j
			order = append(order, k)
			members = append(members, nil)
		}
		members[j] = append(members[j], int32(i))
	}
	out := make([]Batch, len(order))
	for j, k := range order {
		idx := members[j]
		out[j] = Batch{
			AccountID: f.accounts.name(int(k.account)),
			Region:    f.regions.name(int(k.region)),
			Len:       len(idx),
			Targets: func(yield func(Target) bool) {
				for _, i := range idx {
					s := &f.slots[i]
					t := f.target(s)
					if release && s.info > 0 {
						f.infos[s.info-1] = nil
					}
					if !yield(t) {
						return
					}
				}
			},
		}
	}
	return out
}
