package audit

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Part is one target list that a record covers: the whole list of a run, or
// one shard of it. A record merged from shards holds one Part per shard.
type Part struct {
	// Fleet identifies the part's targets (see Fleet.Digest): the whole
	// list's, or the shard's; empty when unknown (a run.json written before
	// parts existed).
	Fleet string `json:"fleet,omitempty"`
	// List identifies the whole list the part was taken from, as the run
	// read it (its digest before any account was filled in and before
	// --shard), so that the shards of one list, and its whole run, know
	// each other in a merge; empty in a run.json written before it was
	// kept.
	List string `json:"list,omitempty"`
	// Shard is "K/N" for a shard, empty for the whole list.
	Shard string `json:"shard,omitempty"`
	// Targets counts the results this part must produce: its distinct
	// valid targets, and its invalid lines when they are recorded.
	Targets int `json:"targets"`
	// Duplicates and Invalid count the input lines collapsed into another
	// target and the bad ones.
	Duplicates int `json:"duplicates"`
	Invalid    int `json:"invalid"`
}

// MaxShards is the most shards a list is split into: the largest N of a
// shard K/N that a run takes. It is far above any real split (AWS Batch's
// largest array job has 10,000 children, and a Kubernetes Job of more
// completions than that is no audit's). A run.json may name any N, as the
// previous release took any: what reads its shards counts those present,
// never N (see missingShards).
const MaxShards = 10000

// negativeCount returns the first whole number below 0 in v, a run.json
// as decoded (RunInfo), and its name there ("parts[1].targets"); "" when
// there is none. Every whole number a run.json holds is a count, which
// no run writes below 0, but the schema, whose own check is decodeRunInfo's:
// walking them all, rather than a list of names, checks a count added
// later too. Values of any type (the options) are no counts: not walked.
func negativeCount(v reflect.Value, name string) (string, int64) {
	child := func(sub string) string {
		if name == "" {
			return sub
		}
		return name + "." + sub
	}
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if v.Int() < 0 {
			return name, v.Int()
		}
	case reflect.Pointer:
		if !v.IsNil() {
			return negativeCount(v.Elem(), name)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if f, n := negativeCount(v.Index(i), fmt.Sprintf("%s[%d]", name, i)); f != "" {
				return f, n
			}
		}
	case reflect.Map:
		// Sorted, so that a file with two gives the same error each time.
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return cmp.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
		for _, k := range keys {
			if f, n := negativeCount(v.MapIndex(k), child(fmt.Sprint(k))); f != "" {
				return f, n
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			tag, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			if !t.Field(i).IsExported() || tag == "" || tag == "-" || tag == "schema" {
				continue
			}
			if f, n := negativeCount(v.Field(i), child(tag)); f != "" {
				return f, n
			}
		}
	}
	return "", 0
}

// DiscoveryPrefix begins the Fleet and List of a part whose targets were
// found by discovery (auditor run --discover), not listed: the scope that
// was asked follows it.
const DiscoveryPrefix = "discovery:"

// Discovered reports whether the part's targets were found by discovery.
func (p Part) Discovered() bool { return strings.HasPrefix(p.Fleet, DiscoveryPrefix) }

// discoveryScoped begins the scope that DiscoveryScope writes.
const discoveryScoped = DiscoveryPrefix + "accounts="

// DiscoveryScope is the Fleet and List of the part of a discovery: the
// accounts it discovers in (their IDs; for an organisation's, "org@" and the
// account that listed them, then "!" and each account left out), its regions
// ("all" for each account's enabled ones) and its filters, each sorted and
// without repeats. Discoveries of one scope, however the options spelt it,
// are one list; of two regions or two accounts, two.
func DiscoveryScope(accounts, regions, filters []string) string {
	norm := func(v []string) []string {
		v = slices.Clone(v)
		slices.Sort(v)
		return slices.Compact(v)
	}
	return discoveryScoped + strings.Join(norm(accounts), ",") + "/regions=" + strings.Join(norm(regions), ",") +
		"/filters=" + strings.Join(norm(filters), ";")
}

// OldDiscovery reports whether the part is a discovery's written before
// DiscoveryScope: its scope is the options' text ("discovery://" for a run
// of any --region, in the caller's account whichever it was), so it is
// never known to be the list of another part, even one that reads the same.
func (p Part) OldDiscovery() bool {
	return p.Discovered() && !strings.HasPrefix(p.Fleet, discoveryScoped)
}

// Rendering says when, and with which options, reports were last rendered
// from a record by a command other than the run that wrote it (auditor
// report). The run's own metadata stays as the run wrote it.
type Rendering struct {
	At      time.Time      `json:"at"`
	Version string         `json:"version"`
	Options map[string]any `json:"options"`
	// Inputs counts the records merged.
	Inputs int `json:"inputs"`
}

// Digest identifies the fleet's valid targets, whatever their order: the
// same targets give the same digest on any machine. Shards of one list, read
// from the same files with the same defaults, share it.
func (f *Fleet) Digest() string {
	var sum, xor uint64
	for i := range f.slots {
		s := &f.slots[i]
		h := uint64(14695981039346656037)
		for _, part := range [...]string{string(s.id[:]), f.regions.name(int(s.region)), f.accounts.name(int(s.account))} {
			for j := 0; j < len(part); j++ {
				h ^= uint64(part[j])
				h *= 1099511628211
			}
			h ^= 0xff
			h *= 1099511628211
		}
		h ^= h >> 33
		h *= 0xff51afd7ed558ccd
		h ^= h >> 33
		sum += h
		xor ^= h * 0x9e3779b97f4a7c15
	}
	return fmt.Sprintf("%016x%016x-%d", sum, xor, len(f.slots))
}

// Finish sets what follows from the record once a run or a merge is over:
// Outcomes, an Error when some targets have no result or some
// account-regions could not be audited (Sites), and Complete. results is
// the number of distinct results in the record.
func (ri *RunInfo) Finish(outcomes map[Outcome]int, results int) {
	ri.Outcomes = outcomes
	failed := 0
	for _, s := range ri.Sites {
		if s.Error != nil {
			failed++
		}
	}
	if failed > 0 && !ri.Interrupted && ri.Error == "" {
		// A role that could not be assumed, a region not enabled, a
		// listing or an endpoint that failed part way: what the record
		// holds of them, if anything, is the reports' to say (not audited,
		// listed in part, stopped part way: see Sites), and these words
		// must not contradict it.
		ri.Error = fmt.Sprintf("%d account-region%s failed", failed, map[bool]string{true: "", false: "s"}[failed == 1])
	}
	if missing := ri.Targets - results; missing > 0 && !ri.Interrupted && ri.Error == "" {
		// A shard that never ran, instances left by an unreachable
		// endpoint, or a record cut short by hand.
		ri.Error = fmt.Sprintf("%d of %d targets have no result in the record", missing, ri.Targets)
	}
	ri.Complete = !ri.Interrupted && ri.Error == "" && outcomes[OutcomeError] == 0
}

// Settle finishes ri (Finish) from rs, the record it describes, and marks
// rs Partial when ri is not Whole: how a record is judged whole, whether it
// is rendered (auditor run, auditor report) or compared with as a baseline,
// so that a record cut short by hand is incomplete for both.
func (ri *RunInfo) Settle(rs *Records) {
	ri.Finish(rs.Outcomes(), rs.Len())
	// A run rendered again keeps the torn lines its resume cut off, which
	// the record no longer has.
	ri.Torn = max(ri.Torn, rs.Torn)
	rs.Partial = !ri.Whole()
	rs.Scope = ri.Parts
}

// Whole reports whether the run's record holds a result for each of its
// targets (some may be errors): it was neither stopped nor interrupted, and
// every account-region was audited. A run.json that Finish has not settled
// says so only once it has.
func (ri *RunInfo) Whole() bool { return !ri.Interrupted && ri.Error == "" }

// Verdict is what a finished run tells the one who scheduled it.
type Verdict int

const (
	// Clean: every target audited, no findings at the FailOn level.
	Clean Verdict = iota
	// Findings: every target audited, findings at the FailOn level.
	Findings
	// Incomplete: the run could not see everything (interrupted, stopped,
	// instances in error, targets without a result), so it cannot vouch
	// for what it missed, findings or not.
	Incomplete
)

// FailOn says what counts as findings: instances with some outcomes, and
// with New, failures that are new since the baseline run. The zero value
// counts nothing.
type FailOn struct {
	Outcomes map[Outcome]bool
	New      bool
}

// FailOnWords lists the words ParseFailOn takes, in the order help shows.
func FailOnWords() []string {
	return []string{"failed", "pending", "not_managed", "no_associations", "new", "none"}
}

var failOnWords = map[string]Outcome{
	"failed":          OutcomeNoncompliant,
	"noncompliant":    OutcomeNoncompliant,
	"pending":         OutcomePending,
	"not_managed":     OutcomeNotManaged,
	"no_associations": OutcomeNoAssociations,
}

// ParseFailOn reads a list of FailOnWords; none counts nothing, new counts
// the failures that are new since the baseline run, and an empty list
// means failed. An unknown word is an error naming it, and so is none
// with any other word: it would be dropped, and the list mean the others.
func ParseFailOn(words []string) (FailOn, error) {
	if len(words) == 0 {
		words = []string{"failed"}
	}
	if slices.Contains(words, "none") && slices.ContainsFunc(words, func(w string) bool { return w != "none" }) {
		return FailOn{}, fmt.Errorf("%q: none stands alone, as it counts nothing: give none by itself, or leave it out", strings.Join(words, ","))
	}
	f := FailOn{Outcomes: map[Outcome]bool{}}
	for _, w := range words {
		switch w {
		case "none":
			continue
		case "new":
			f.New = true
			continue
		}
		oc, ok := failOnWords[w]
		if !ok {
			return FailOn{}, fmt.Errorf("%q: want %s", w, strings.Join(FailOnWords(), ", "))
		}
		f.Outcomes[oc] = true
	}
	return f, nil
}

// Findings counts the findings of a finished run: the instances whose
// outcome is in the set, and with New the new failures since the baseline.
func (f FailOn) Findings(ri RunInfo) int {
	n := 0
	for oc := range f.Outcomes {
		n += ri.Outcomes[oc]
	}
	if f.New && ri.Changes != nil {
		n += ri.Changes.Counts[NewFailure]
	}
	return n
}

// Verdict says what a finished run (after Finish) tells: Incomplete before
// Findings.
func (ri RunInfo) Verdict(failOn FailOn) Verdict {
	switch {
	case !ri.Complete:
		return Incomplete
	case failOn.Findings(ri) > 0:
		return Findings
	}
	return Clean
}

// ChangeInfo is run.json's summary of the changes since a baseline run.
type ChangeInfo struct {
	// Baseline is the record compared with, as it was named; Since when
	// its run started.
	Baseline string `json:"baseline"`
	// BaselineFromRun is the same record's path relative to the run's own
	// directory (absolute when there is none), so that the run can be
	// mailed again from any working directory.
	BaselineFromRun string       `json:"baseline_from_run,omitempty"`
	Since           *time.Time   `json:"since,omitempty"`
	Counts          ChangeCounts `json:"counts"`
	// NotCompared counts the instances left out of the comparison, by
	// why; zero in a run.json written before it was kept.
	NotCompared NotCompared `json:"not_compared"`
	// ErrorCodeChanged counts the failures still failing with another
	// error code (Comparison.ErrorCodeChanged).
	ErrorCodeChanged int `json:"error_code_changed"`
	// BaselineIncomplete says the baseline's run did not audit all its
	// targets: the instances it lacks were not compared.
	BaselineIncomplete bool `json:"baseline_incomplete,omitempty"`
	// Scope and BaselineScope are the parts the run's record and the
	// baseline's covered when they were compared (Records.Scope: a whole
	// list is one part with no shard), so that they are compared again as they were: a split
	// group's run.json has no parts, nor its part of the baseline a run.json.
	Scope         []Part `json:"scope,omitempty"`
	BaselineScope []Part `json:"baseline_scope,omitempty"`
}

// BaselineIn is the path of the baseline's record for a run whose
// directory is dir: BaselineFromRun taken from dir, or, in a run.json from
// before it was kept, Baseline as it was named.
func (c *ChangeInfo) BaselineIn(dir string) string {
	switch {
	case c.BaselineFromRun == "":
		return c.Baseline
	case filepath.IsAbs(c.BaselineFromRun):
		return c.BaselineFromRun
	}
	return filepath.Join(dir, c.BaselineFromRun)
}

// Comparison is what the comparison found, as run.json keeps it.
func (c *ChangeInfo) Comparison() Comparison {
	return Comparison{Counts: c.Counts, NotCompared: c.NotCompared, ErrorCodeChanged: c.ErrorCodeChanged}
}

// endpointsOf returns the SSM endpoints that the runs' attempts were
// against (run.json's endpoint_url, their earlier attempts' first; a
// merge's, each it names), each once, sorted, whatever the order of the
// runs: "the region's own AWS endpoint" for an attempt that names none.
func endpointsOf(infos []RunInfo) []string {
	var urls []string
	add := func(v any) {
		s, _ := v.(string)
		// A merge's names several, which a merge again keeps apart.
		for url := range strings.SplitSeq(s, "; ") {
			url = cmp.Or(url, "the region's own AWS endpoint")
			if !slices.Contains(urls, url) {
				urls = append(urls, url)
			}
		}
	}
	for _, ri := range infos {
		for _, v := range ri.EarlierOptions["endpoint_url"] {
			add(v)
		}
		add(ri.Options["endpoint_url"])
	}
	slices.Sort(urls)
	return urls
}

// MergeRunInfo joins the metadata of several runs whose records are merged:
// the earliest start, the latest end, every attempt's start (sorted, each
// once; a run.json without attempts gives its start), parts counted once each (a shard given
// twice, or merged into a record that is merged again, counts once), the
// runs any of them came after (RanAfter, each once), stats
// summed, the options on which all runs agree, complete only if every run
// was. Finish must still be called on the result.
func MergeRunInfo(infos []RunInfo) RunInfo {
	out := RunInfo{Schema: Schema}
	if len(infos) == 1 {
		out = infos[0]
		out.Parts = slices.Clone(out.Parts)
		out.WholeParts = slices.Clone(out.WholeParts)
		out.Attempts = slices.Clone(out.Attempts)
		out.RanAfter = slices.Clone(out.RanAfter)
		return out
	}
	complete, unknown, cutEndUnknown := true, false, false
	var parts []Part
	var attempts, ranAfter []time.Time
	for i, ri := range infos {
		if out.StartedAt.IsZero() || (!ri.StartedAt.IsZero() && ri.StartedAt.Before(out.StartedAt)) {
			out.StartedAt = ri.StartedAt
		}
		if ri.EndedAt.After(out.EndedAt) {
			out.EndedAt = ri.EndedAt
		}
		attempts = append(attempts, ri.AttemptStarts()...)
		ranAfter = append(ranAfter, ri.RanAfter...)
		if i == 0 {
			out.Version = ri.Version
			out.Options = maps.Clone(ri.Options)
		} else {
			out.Version = JoinVersions(out.Version, ri.Version)
			for k, v := range out.Options {
				if w, ok := ri.Options[k]; !ok || !reflect.DeepEqual(v, w) {
					delete(out.Options, k)
				}
			}
		}
		for k := range ri.EarlierOptions {
			// Its attempts did not agree on it either.
			delete(out.Options, k)
		}
		complete = complete && ri.Complete
		// Incomplete for no reason it states: not interrupted, no error,
		// no instance in error (which the merged record keeps, and Finish
		// counts again).
		unknown = unknown || !ri.Complete && !ri.Interrupted && ri.Error == "" && ri.Outcomes[OutcomeError] == 0
		out.Interrupted = out.Interrupted || ri.Interrupted
		out.Resumed += ri.Resumed
		out.Stats.Calls += ri.Stats.Calls
		out.Stats.Pages += ri.Stats.Pages
		out.Stats.Throttled += ri.Stats.Throttled
		out.Stats.Retries += ri.Stats.Retries
		out.Stats.Seconds = max(out.Stats.Seconds, ri.Stats.Seconds)
		out.Stats.LimiterRate = max(out.Stats.LimiterRate, ri.Stats.LimiterRate)
		out.Stats.LimiterPeak = max(out.Stats.LimiterPeak, ri.Stats.LimiterPeak)
		out.Stats.LimiterCutRate = max(out.Stats.LimiterCutRate, ri.Stats.LimiterCutRate)
		// Cut, but where its cut limiters ended is not said: the highest
		// end of the others' could be below theirs.
		cutEndUnknown = cutEndUnknown || ri.Stats.LimiterPeak > 0 && ri.Stats.LimiterCutRate == 0
		if ri.Error != "" && out.Error == "" && !derivedError(ri.Error) && !sitesSay(ri) {
			out.Error = ri.Error
		}
		for _, s := range ri.Sites {
			// A failure several inputs saw (each shard of a discovery
			// the account it could not assume) is one.
			if s.Error == nil || !slices.ContainsFunc(out.Sites, func(o SiteStats) bool {
				return o.Error != nil && o.AccountID == s.AccountID && o.Region == s.Region && *o.Error == *s.Error
			}) {
				out.Sites = append(out.Sites, s)
			}
		}
		if i == 0 {
			out.Caller = ri.Caller
		} else if ri.Caller != out.Caller {
			out.Caller = ""
		}
		ps := ri.Parts
		if len(ps) == 0 {
			// A run.json from before parts: its own part, never merged
			// with another.
			ps = []Part{{Fleet: unnamedPart + strconv.Itoa(i), Targets: ri.Targets, Duplicates: ri.Duplicates, Invalid: ri.Invalid}}
		}
		parts = append(parts, ps...)
	}
	// Runs against different endpoints: each is named, the region's own
	// too. Dropped as another option that differs, the merge would read
	// as an audit of AWS alone, with another fleet's results in it.
	if urls := endpointsOf(infos); len(urls) > 1 {
		if out.Options == nil {
			out.Options = map[string]any{}
		}
		out.Options["endpoint_url"] = strings.Join(urls, "; ")
	}
	out.Parts = mergeParts(parts)
	out.WholeParts = wholeParts(infos, out.Parts)
	// What the merge names comes in an order of its own, not the
	// arguments': a shell's glob puts shard-10 before shard-2, and the
	// summary and the HTML of one merge must not differ from another's of
	// the same records. The order of the inputs keeps its meaning where it
	// has one: a later input's results and parts replace an earlier's.
	versions := strings.Split(out.Version, ", ")
	slices.Sort(versions)
	out.Version = strings.Join(versions, ", ")
	slices.SortStableFunc(out.Sites, func(a, b SiteStats) int {
		return cmp.Or(cmp.Compare(a.AccountID, b.AccountID), cmp.Compare(a.Region, b.Region))
	})
	if len(attempts) > 0 {
		// Each result of the merged record is judged from the start of
		// the attempt that read it, whichever input's it was.
		slices.SortFunc(attempts, time.Time.Compare)
		out.Attempts = slices.CompactFunc(attempts, time.Time.Equal)
	}
	if len(ranAfter) > 0 {
		// The merge came after every run one of its inputs came after.
		slices.SortFunc(ranAfter, time.Time.Compare)
		out.RanAfter = slices.CompactFunc(ranAfter, time.Time.Equal)
	}
	for _, p := range out.Parts {
		out.Targets += p.Targets
		out.Duplicates += p.Duplicates
		out.Invalid += p.Invalid
	}
	if ways, _ := shardGap(out.Parts); ways > 1 {
		// Shards of one list split two ways, neither whole, share some
		// instances, how many is not known: their sum would count
		// those twice, and Finish take the excess for targets without
		// a result. Unknown, as for a record no run.json describes.
		out.Targets = 0
	}
	if gap := ShardGap(out.Parts); gap != "" && out.Error == "" {
		out.Error = gap
	}
	if out.Stats.Seconds > 0 {
		out.Stats.Rate = float64(out.Stats.Calls) / out.Stats.Seconds
	}
	if cutEndUnknown {
		out.Stats.LimiterCutRate = 0
	}
	if unknown && !out.Interrupted && out.Error == "" {
		out.Error = mergedIncomplete
	}
	if e := listOfAccounts(infos); e != "" && out.Error == "" {
		out.Error = e
	}
	out.Complete = complete && !out.Interrupted && out.Error == ""
	return out
}

// listOfAccounts says, when runs of one list (Part.List) among infos were
// made with the credentials of several accounts and some of them are of a
// shard of it, that their merge cannot vouch for it; "" otherwise. A
// list's rows without an account are the account of the credentials that
// audit them, and Part.List is the list's digest before that account fills
// them in: a shard audited in one account, and the other shard (or the
// whole list) in another, would make a whole list between them, each half
// of it never audited in the other account. Whole runs of the list in
// several accounts are of as many fleets (Part.Fleet), each complete.
func listOfAccounts(infos []RunInfo) string {
	callers := map[string][]string{}
	sharded := map[string]bool{}
	for _, ri := range infos {
		if ri.Caller == "" {
			continue
		}
		for _, p := range ri.Parts {
			if p.List == "" || p.Discovered() {
				continue
			}
			sharded[p.List] = sharded[p.List] || p.Shard != ""
			if !slices.Contains(callers[p.List], ri.Caller) {
				callers[p.List] = append(callers[p.List], ri.Caller)
			}
		}
	}
	for _, list := range slices.Sorted(maps.Keys(callers)) {
		if c := callers[list]; len(c) > 1 && sharded[list] {
			slices.Sort(c)
			return fmt.Sprintf("one list was audited with the credentials of %d accounts (%s), each taking its rows without an account for its own: the shards and whole runs of one do not stand for the other's; merge the runs of each account apart",
				len(c), strings.Join(c, ", "))
		}
	}
	return ""
}

// Superseded reports whether infos[i], of records merged in the order of
// infos (the later record winning), is replaced by those after it: it has
// parts, each of them known (Part.Known) and covered by a part of a later
// run (the same part, or the whole list a shard is of), and kept, the
// number of its record's results that the merged record keeps
// (Input.Kept), is 0. Such a run, most often an earlier merge merged again
// with the shards that completed it, adds nothing to the merge: what it
// says of its own completeness (interrupted, its error) is no longer the
// merge's, and the caller leaves it out of MergeRunInfo.
func Superseded(infos []RunInfo, i, kept int) bool {
	if kept > 0 || len(infos[i].Parts) == 0 {
		return false
	}
	covered := func(p Part) bool {
		for _, later := range infos[i+1:] {
			for _, q := range later.Parts {
				if !q.Known() {
					continue
				}
				same := q.Fleet == p.Fleet && q.List == p.List && q.Shard == p.Shard
				ofWhole := p.Shard != "" && q.Shard == "" && (q.Fleet == p.Fleet || p.List != "" && q.List == p.List)
				if same || ofWhole {
					return true
				}
			}
		}
		return false
	}
	for _, p := range infos[i].Parts {
		if !p.Known() || !covered(p) {
			return false
		}
	}
	return true
}

// SupersedeParts returns infos[i], of records merged in the order of infos
// (the later record winning), as the merge takes it when later runs have
// replaced the parts it did not hold whole, and true; else infos[i] as it
// is, and false. It is Superseded for an input that still brings results
// of its own: most often an earlier merge of shards, one of them
// interrupted, merged again with that shard alone once resumed. Each part
// of it that its run.json does not list whole (WholeParts) must be named
// (Part.Known, and not made up by MergeRunInfo) and carried whole by a
// later run of the same part (carriedWhole), which replaces every result
// the input held of it; its other parts are whole. What it said of its completeness
// (interrupted, its error, the account-regions it could not audit) was
// then said of the parts replaced, and is no longer the merge's: the copy
// returned says none of it. An input whose run.json does not say which of
// its parts were whole (a run's own, whose one part a later run replaces
// whole or not at all; a merge written before WholeParts were kept; one of
// records that no run.json describes, whose results may be of any part) is
// returned as it is, and so is one with a part no later run carries whole:
// its flags stay the merge's. Results it lacks are counted again by
// Finish, from the merged record, and so are its results in error.
//
// kept is how many of the input's results the merge keeps (Input.Kept):
// more than the targets of the parts it held whole, it holds results that
// its run.json does not describe (an in-place merge killed before its
// run.json, which left the earlier one's beside another record), and is
// returned as it is.
func SupersedeParts(infos []RunInfo, i, kept int) (RunInfo, bool) {
	ri := infos[i]
	if ranWhole(ri) || ri.WholeParts == nil || len(ri.Parts) == 0 {
		return ri, false
	}
	whole := 0
	for _, p := range ri.WholeParts {
		whole += p.Targets
	}
	if kept > whole {
		return ri, false
	}
	replaced := 0
	for _, p := range ri.Parts {
		if slices.ContainsFunc(ri.WholeParts, p.sameAs) {
			continue
		}
		if !carriedWhole(infos[i+1:], p) {
			return ri, false
		}
		replaced++
	}
	if replaced == 0 {
		// Incomplete, but not for a part it names.
		return ri, false
	}
	ri.Interrupted, ri.Error, ri.Complete = false, "", true
	ri.Sites = slices.DeleteFunc(slices.Clone(ri.Sites), func(s SiteStats) bool { return s.Error != nil })
	ri.WholeParts = slices.Clone(ri.Parts)
	return ri, true
}

// carriedWhole reports whether one of later carries p whole: the same
// part, of a run that holds it whole. Not the whole list p is a shard of:
// its List is the list's digest before the caller's account fills its
// rows, so a run of it in another account shares it, and is of other
// instances.
func carriedWhole(later []RunInfo, p Part) bool {
	if !p.named() {
		return false
	}
	for _, ri := range later {
		for _, q := range ri.Parts {
			if q.sameAs(p) && partWhole(ri, q) {
				return true
			}
		}
	}
	return false
}

// wholeParts returns those of parts, a merge's (mergeParts of the parts of
// infos), that it holds whole: the last input that brings each holds it
// whole (partWhole), and no input after that one brings a part of its
// list that is not whole, whose results would replace some of its own
// (a part that may share targets with it: see blocks).
//
// It reads each input's parts once, noting the last input that brings
// each part and the last that brings a part not whole of each fleet,
// list, split and shard, so that a merge of thousands of shards is not
// each shard compared with every other.
func wholeParts(infos []RunInfo, parts []Part) []Part {
	type held struct {
		at    int
		whole bool
	}
	last := map[partKey]held{}
	var b blocks
	for i, ri := range infos {
		if len(ri.Parts) == 0 {
			continue
		}
		isWhole := partWholeFunc(ri)
		for _, q := range ri.Parts {
			// Every part of one key is one part (sameAs), held whole or
			// not alike.
			w := isWhole(q)
			last[q.key()] = held{i, w}
			if !w {
				b.add(q, i)
			}
		}
	}
	var out []Part
	for _, p := range parts {
		// An input that brings p itself decides, even one that also
		// brings a part overlapping it: its results of p are p's own.
		if h, ok := last[p.key()]; ok && h.whole && b.after(p) <= h.at {
			out = append(out, p)
		}
	}
	return out
}

// partKey is what tells one part from another (Part.sameAs): parts of one
// key are the same part.
type partKey struct {
	fleet, list, shard string
	// targets tells old discoveries apart (see Part.OldDiscovery); 0 for
	// every other part.
	targets int
}

func (p Part) key() partKey {
	k := partKey{fleet: p.Fleet, list: p.List, shard: p.Shard}
	if p.OldDiscovery() {
		k.targets = p.Targets
	}
	return k
}

// shardNum is a part's Shard "K/N" read as numbers: ok is false when it
// does not read as one (a whole list's "", a damaged run.json's).
type shardNum struct {
	k, n int
	ok   bool
}

func parseShard(s string) shardNum {
	var k, n int
	_, err := fmt.Sscanf(s, "%d/%d", &k, &n)
	return shardNum{k, n, err == nil}
}

// blocks notes, of the parts that inputs of a merge do not hold whole, the
// last input (its index) that brings one that may share targets with a
// given part (after): one of the same fleet, or of the same list other
// than another shard split the same way. The zero value notes none.
type blocks struct {
	fleet map[string]int
	lists map[string]*listBlocks
}

// listBlocks is blocks for the parts of one list.
type listBlocks struct {
	any, unread int            // any part; one whose shard does not read as K/N
	shard       map[[2]int]int // by K and N
	// top and next are the two splits (N) of the latest inputs, so that
	// the latest of another split than a part's is found without
	// walking them all.
	top, next splitAt
}

type splitAt struct{ n, at int }

// add notes q, brought by input at, which does not hold it whole. Inputs
// come in their order: each note is the latest of its kind.
func (b *blocks) add(q Part, at int) {
	if b.fleet == nil {
		b.fleet, b.lists = map[string]int{}, map[string]*listBlocks{}
	}
	b.fleet[q.Fleet] = at
	if q.List == "" {
		return
	}
	l := b.lists[q.List]
	if l == nil {
		l = &listBlocks{unread: -1, shard: map[[2]int]int{}, top: splitAt{at: -1}, next: splitAt{at: -1}}
		b.lists[q.List] = l
	}
	l.any = at
	s := parseShard(q.Shard)
	if !s.ok {
		l.unread = at
		return
	}
	l.shard[[2]int{s.k, s.n}] = at
	switch {
	case l.top.at < 0 || l.top.n == s.n:
		l.top = splitAt{s.n, at}
	default:
		l.top, l.next = splitAt{s.n, at}, l.top
	}
}

// after returns the last input that brings a part not whole that may
// share targets with p; -1 when none does.
func (b *blocks) after(p Part) int {
	last := -1
	if at, ok := b.fleet[p.Fleet]; ok {
		last = at
	}
	l := b.lists[p.List]
	if p.List == "" || l == nil {
		return last
	}
	s := parseShard(p.Shard)
	if !s.ok {
		return max(last, l.any)
	}
	last = max(last, l.unread)
	if at, ok := l.shard[[2]int{s.k, s.n}]; ok {
		last = max(last, at)
	}
	if l.top.at >= 0 && l.top.n != s.n {
		last = max(last, l.top.at)
	} else if l.next.at >= 0 {
		last = max(last, l.next.at)
	}
	return last
}

// partWhole reports whether ri, one input of a merge, holds its part p
// whole: p is named (Part.named), and ri ran whole, or lists p among its
// WholeParts.
func partWhole(ri RunInfo, p Part) bool { return partWholeFunc(ri)(p) }

// partWholeFunc is partWhole for the parts of one input, each asked in
// time that does not grow with the input's WholeParts: a merge of
// thousands of shards merged again lists thousands.
func partWholeFunc(ri RunInfo) func(Part) bool {
	if ranWhole(ri) {
		return Part.named
	}
	whole := make(map[partKey]bool, len(ri.WholeParts))
	for _, w := range ri.WholeParts {
		whole[w.key()] = true
	}
	return func(p Part) bool { return p.named() && whole[p.key()] }
}

// ranWhole reports whether ri's record holds a result for every target of
// each of its parts: it was neither interrupted nor stopped (Whole), every
// account-region was audited, and it is not incomplete for a reason its
// run.json does not say. Its results in error, which the record keeps,
// do not count.
func ranWhole(ri RunInfo) bool {
	return ri.Whole() && !slices.ContainsFunc(ri.Sites, func(s SiteStats) bool { return s.Error != nil }) &&
		(ri.Complete || ri.Outcomes[OutcomeError] > 0)
}

// sameAs reports whether p and q are one part, as mergeParts keeps each
// once: the same fleet, list and shard, and for an old discovery (see
// Part.OldDiscovery) the same number of targets.
func (p Part) sameAs(q Part) bool {
	return p.Fleet == q.Fleet && p.List == q.List && p.Shard == q.Shard && (!p.OldDiscovery() || p.Targets == q.Targets)
}

// named reports whether the part says which targets it has (Part.Known),
// and is not one that MergeRunInfo made up for a run.json written before
// parts were kept, whose name another such run.json reuses.
func (p Part) named() bool { return p.Known() && !strings.HasPrefix(p.Fleet, unnamedPart) }

// unnamedPart begins the Fleet that MergeRunInfo gives the part of a
// run.json written before parts were kept: "run-" and the input's index.
const unnamedPart = "run-"

// mergedIncomplete is MergeRunInfo's Error for a run that was incomplete
// for a reason its run.json does not say.
const mergedIncomplete = "a merged run was incomplete"

// sitesSay reports whether ri's Error is that none of its account-regions
// could be audited, which its failed Sites say each: a merge of it with
// others that audited works its error out from the sites (Finish), not
// from one input's words.
func sitesSay(ri RunInfo) bool {
	// A run.json before 2026-12-05 says it after ErrFatal's words.
	says := strings.HasPrefix(ri.Error, noSiteAudited) || strings.HasPrefix(ri.Error, ErrFatal.Error()+": "+noSiteAudited)
	return says &&
		slices.ContainsFunc(ri.Sites, func(s SiteStats) bool { return s.Error != nil })
}

// derivedError reports whether a run's Error is one that Finish or
// MergeRunInfo works out from what the run.json holds (its parts, sites
// and targets): a merge works it out again from the merged run.json, and
// must not inherit a gap that another input fills.
func derivedError(e string) bool { return derivedErrors.MatchString(e) }

// WorkedOut reports whether e, a RunInfo's Error, is one worked out from
// the records rather than a run's own stop: what Finish, ShardGap and
// MergeRunInfo write (derivedError), a list audited with the credentials
// of several accounts (listOfAccounts), and records read without their
// run.json (the reports' "no run.json beside ..."). The reports label it
// "Why partial", not "Stopped by".
func WorkedOut(e string) bool {
	return derivedError(e) || workedOutElse.MatchString(e)
}

// workedOutElse matches the Errors WorkedOut adds to derivedErrors.
var workedOutElse = regexp.MustCompile(`^(?:one list was audited with the credentials of \d+ accounts \(` +
	`|no ` + regexp.QuoteMeta(RunFile) + ` beside )`)

// derivedErrors matches, whole, each Error that Finish, ShardGap and
// MergeRunInfo write, and nothing a run writes of its own.
// (A run.json before 2026-12-06 says "N account-regions could not be
// audited".)
var derivedErrors = regexp.MustCompile(`^(?:\d+ account-regions? (?:failed|could not be audited)` +
	`|\d+ of \d+ targets have no result in the record` +
	`|the merge lacks shard .+ of its list: merge every shard's record` +
	`|the merge holds shards of one list split \d+ ways: merge the shards of one split` +
	`|the merge holds shards of \d+ lists, none of them whole \(.+\): merge every shard's record of each; if a list changed .+` +
	`|` + regexp.QuoteMeta(mergedIncomplete) + `)$`)

// JoinVersions returns the versions of the auditor that wrote a record:
// versions, those that wrote it so far ("dev, v1.2.0"), followed by those
// of v (one version, or such a list: a resumed run's, a merge's) that are
// not among them, each once. A merge's and a resumed run's say each.
func JoinVersions(versions, v string) string {
	var s []string
	for _, x := range strings.Split(versions+", "+v, ", ") {
		if x != "" && !slices.Contains(s, x) {
			s = append(s, x)
		}
	}
	return strings.Join(s, ", ")
}

// Resumes makes ri, the run.json of an attempt that resumes the run whose
// run.json is prev, that of the whole run: its Version says every version
// that wrote the record (JoinVersions), and its EarlierOptions the values
// of options that earlier attempts ran with and ri's Options (this
// attempt's, which the next resume compares with) do not. Resume itself,
// which differs by nature, is left out; endpoint_url and endpoint_from are
// kept as pairs (the i-th of each together).
func (ri *RunInfo) Resumes(prev RunInfo) {
	ri.Version = JoinVersions(prev.Version, ri.Version)
	ri.EarlierOptions = nil
	keys := map[string]bool{}
	for k := range prev.Options {
		keys[k] = true
	}
	for k := range prev.EarlierOptions {
		keys[k] = true
	}
	for k := range ri.Options {
		keys[k] = true
	}
	delete(keys, "resume")
	delete(keys, "endpoint_url")
	delete(keys, "endpoint_from")
	ri.resumesEndpoint(prev)
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		now := optionJSON(ri.Options[k])
		var earlier []any
		seen := map[string]bool{now: true}
		was := append(slices.Clone(prev.EarlierOptions[k]), prev.Options[k])
		for _, v := range was {
			if t := optionJSON(v); !seen[t] {
				seen[t] = true
				earlier = append(earlier, optionValue(t))
			}
		}
		if len(earlier) > 0 {
			if ri.EarlierOptions == nil {
				ri.EarlierOptions = map[string][]any{}
			}
			ri.EarlierOptions[k] = earlier
		}
	}
}

// resumesEndpoint is Resumes of endpoint_url and endpoint_from, which are
// one value: an endpoint and the setting that gave it. They are kept as
// pairs, each pair once, the i-th of each going with the i-th of the
// other. An earlier run.json that kept them apart (their lists of unlike
// lengths) gives its endpoints without their settings.
func (ri *RunInfo) resumesEndpoint(prev RunInfo) {
	const url, from = "endpoint_url", "endpoint_from"
	pair := func(o map[string]any) [2]any { return [2]any{o[url], o[from]} }
	urls, froms := prev.EarlierOptions[url], prev.EarlierOptions[from]
	var was [][2]any
	for i, u := range urls {
		var f any
		if len(froms) == len(urls) {
			f = froms[i]
		}
		was = append(was, [2]any{u, f})
	}
	was = append(was, pair(prev.Options))
	seen := map[string]bool{optionJSON(pair(ri.Options)): true}
	for _, p := range was {
		if t := optionJSON(p); !seen[t] {
			seen[t] = true
			if ri.EarlierOptions == nil {
				ri.EarlierOptions = map[string][]any{}
			}
			ri.EarlierOptions[url] = append(ri.EarlierOptions[url], optionValue(optionJSON(p[0])))
			ri.EarlierOptions[from] = append(ri.EarlierOptions[from], optionValue(optionJSON(p[1])))
		}
	}
}

// optionJSON is v as run.json writes it, so that an option read from one
// (a float64, a []any) equals the same set by this run (an int, a
// []string): "null" when unset.
func optionJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// optionValue is the value of optionJSON t, as run.json reads it.
func optionValue(t string) any {
	var v any
	if json.Unmarshal([]byte(t), &v) != nil {
		return t
	}
	return v
}

// ShardGap says what parts lack of the lists they have shards of (shards
// that name their List; a merge has dropped those whose whole list is
// there): a K of N missing, or shards of one list split two ways. "" when
// every list they have shards of is there whole.
func ShardGap(parts []Part) string {
	ways, gaps := shardGap(parts)
	switch {
	case ways > 1:
		return fmt.Sprintf("the merge holds shards of one list split %d ways: merge the shards of one split", ways)
	case len(gaps) > 1:
		// Most often one list edited between its shards' runs: its
		// versions are lists apart, each with the shards the others have.
		// But they may be lists that have nothing to do with each other,
		// each merged without some of its shards: what each lacks is said.
		var held []string
		for i, g := range gaps {
			which := "another"
			if i == 0 {
				which = "one"
			}
			held = append(held, fmt.Sprintf("shard %s of %s (lacking %s)", strings.Join(g.have, ", "), which, g.lacking()))
		}
		return fmt.Sprintf("the merge holds shards of %d lists, none of them whole (%s): merge every shard's record of each; if a list changed between its shards' runs, each version is another list: run every shard of one version of it, and merge those", len(gaps), strings.Join(held, ", "))
	case len(gaps) == 1:
		return fmt.Sprintf("the merge lacks shard %s of its list: merge every shard's record", gaps[0].lacking())
	}
	return ""
}

// listGap is a list that a merge's parts do not hold whole: the shards
// ("K/N") it has, the first few of those it lacks (see shownMissing), and
// how many more it lacks.
type listGap struct {
	have, missing []string
	more          int
}

// lacking names the shards g lacks, the first few and then how many more.
func (g listGap) lacking() string {
	s := strings.Join(g.missing, ", ")
	if g.more > 0 {
		s += fmt.Sprintf(" and %d more", g.more)
	}
	return s
}

// shownMissing is how many of the shards a list lacks are named in a
// message: a list split in thousands may lack thousands, which would
// bury the message, and one whose count came from a damaged run.json
// lacks more than could be written.
const shownMissing = 10

// missingShards returns the first shards of [0, n) that have lacks, up to
// shownMissing, and how many more it lacks. Its work grows with have and
// shownMissing, never with n: a count read from a file may be huge.
func missingShards(have map[int]bool, n int) (first []int, more int) {
	present := 0
	for k := range have {
		if k >= 0 && k < n {
			present++
		}
	}
	for k := 0; k < n && len(first) < shownMissing; k++ {
		if !have[k] {
			first = append(first, k)
		}
	}
	return first, n - present - len(first)
}

// shardGap returns, when a list's shards are split more than one way, the
// number of ways of the first such list; else the lists that parts do not
// hold whole, in the order they come.
func shardGap(parts []Part) (ways int, gaps []listGap) {
	type split struct {
		ns   map[int]bool
		have map[int]bool
	}
	lists := map[string]*split{}
	var order []string
	for _, p := range parts {
		var k, n int
		if p.List == "" || p.Shard == "" {
			continue // a whole list, or a shard from before parts named their list
		}
		if _, err := fmt.Sscanf(p.Shard, "%d/%d", &k, &n); err != nil || n < 1 {
			continue
		}
		s := lists[p.List]
		if s == nil {
			s = &split{ns: map[int]bool{}, have: map[int]bool{}}
			lists[p.List] = s
			order = append(order, p.List)
		}
		s.ns[n] = true
		s.have[k] = true
	}
	for _, f := range order {
		s := lists[f]
		if len(s.ns) > 1 {
			return len(s.ns), nil
		}
		var n int
		for n = range s.ns {
		}
		missing, more := missingShards(s.have, n)
		if len(missing) == 0 {
			continue
		}
		g := listGap{more: more}
		for _, k := range slices.Sorted(maps.Keys(s.have)) {
			if k >= 0 && k < n {
				g.have = append(g.have, fmt.Sprintf("%d/%d", k, n))
			}
		}
		for _, k := range missing {
			g.missing = append(g.missing, fmt.Sprintf("%d/%d", k, n))
		}
		gaps = append(gaps, g)
	}
	return 1, gaps
}

// Undescribed marks a merge (MergeRunInfo's) that also holds the records
// named, which have no run.json beside them: whether they hold every
// target of their runs cannot be known, nor how many targets those runs
// had, so Targets is unknown (0) rather than the known parts' sum, which
// is less than the record holds, and Error names the records and the
// shards that no run.json describes (likely theirs: a shard killed before
// it finished). Finish must still be called.
func (ri *RunInfo) Undescribed(records []string) {
	if len(records) == 0 {
		return
	}
	ri.Targets = 0
	// The records without run.json may hold results of any part, whole
	// or not: none is known whole.
	ri.WholeParts = nil
	ri.Error = fmt.Sprintf("no %s beside %s: completeness unknown", RunFile, strings.Join(records, ", "))
	if ways, gaps := shardGap(ri.Parts); ways == 1 && len(gaps) > 0 {
		ri.Error += fmt.Sprintf("; no %s describes shard %s of its list", RunFile, gaps[0].lacking())
	}
	ri.Complete = false
}

// PartialShards returns the shards ("K/N") among parts that do not make up
// their whole list: every shard part, unless the parts hold all N shards
// of its list, split one way. A record of one shard gives that shard; a
// merge of every shard of a list, or a whole list, gives none. Sorted;
// nil when there is none.
func PartialShards(parts []Part) []string {
	type split struct {
		ns     map[int]bool
		have   map[int]bool
		named  map[string]bool
		shards []string
	}
	lists := map[string]*split{}
	wholeList := map[string]bool{}
	for _, p := range parts {
		if p.Shard == "" && p.List != "" {
			wholeList[p.List] = true
		}
	}
	for i, p := range parts {
		if p.Shard == "" || p.List != "" && wholeList[p.List] {
			continue
		}
		list := p.List
		if list == "" {
			// A shard that does not name its list cannot be shown whole.
			list = "unnamed-" + strconv.Itoa(i)
		}
		s := lists[list]
		if s == nil {
			s = &split{ns: map[int]bool{}, have: map[int]bool{}, named: map[string]bool{}}
			lists[list] = s
		}
		var k, n int
		if _, err := fmt.Sscanf(p.Shard, "%d/%d", &k, &n); err == nil && n >= 1 {
			s.ns[n] = true
			s.have[k] = true
		} else {
			s.ns[-1-i] = true // unreadable: never whole
		}
		// A set, not a search of the list's shards: a merge of
		// thousands holds thousands.
		if !s.named[p.Shard] {
			s.named[p.Shard] = true
			s.shards = append(s.shards, p.Shard)
		}
	}
	var out []string
	for _, s := range lists {
		whole := len(s.ns) == 1
		for n := range s.ns {
			// The shards there are counted, not the N that should be: N
			// comes from a file, and may be huge.
			missing, _ := missingShards(s.have, n)
			whole = whole && n > 0 && len(missing) == 0
		}
		if !whole {
			out = append(out, s.shards...)
		}
	}
	slices.Sort(out)
	return out
}

// mergeParts keeps each (Fleet, Shard) once, and drops the shards of a
// fleet whose whole list is there too, and those of a list of which every
// shard of one split is there (wholeSplits) other than that split's;
// parts of an unknown fleet, and old discoveries' (see Part.OldDiscovery),
// are kept.
func mergeParts(parts []Part) []Part {
	whole := map[string]bool{}
	for _, p := range parts {
		if p.Shard == "" && p.Fleet != "" && !p.OldDiscovery() {
			whole[p.Fleet] = true
			if p.List != "" {
				whole["list:"+p.List] = true
			}
		}
	}
	split := wholeSplits(parts)
	seen := map[[4]string]bool{}
	var out []Part
	for _, p := range parts {
		k := [4]string{p.Fleet, p.List, p.Shard}
		if p.OldDiscovery() {
			// Two old discoveries read alike whatever they covered: only
			// a part that is the same in its targets too (a shard merged
			// again) is the same part.
			k[3] = strconv.Itoa(p.Targets)
		}
		ofWhole := p.Shard != "" && !p.OldDiscovery() && (whole[p.Fleet] || p.List != "" && whole["list:"+p.List])
		// Only shards, and only of a list not there whole: the whole
		// list's part, which has no shard, is kept by the rule above.
		if n, ok := split[p.List]; ok && p.Shard != "" && !whole["list:"+p.List] && p.Fleet != "" && !p.OldDiscovery() && p.List != "" {
			// The shards of another split are of the same instances as
			// the whole split's: counted again, they would be targets
			// twice, and the list taken for one in part.
			if s := parseShard(p.Shard); !s.ok || s.n != n {
				ofWhole = true
			}
		}
		if p.Fleet != "" && (seen[k] || ofWhole) {
			continue
		}
		seen[k] = true
		out = append(out, p)
	}
	slices.SortStableFunc(out, func(a, b Part) int {
		return cmp.Or(cmp.Compare(a.Fleet, b.Fleet), cmp.Compare(a.Shard, b.Shard))
	})
	return out
}

// wholeSplits returns, for each list (Part.List) of which parts hold
// every shard K/N of some N, the smallest such N: that split is the whole
// list. The smallest, so that the merge keeps the same parts whatever the
// order of its inputs.
func wholeSplits(parts []Part) map[string]int {
	have := map[string]map[[2]int]bool{}
	for _, p := range parts {
		s := parseShard(p.Shard)
		if p.List == "" || p.Fleet == "" || p.OldDiscovery() || !s.ok || s.n < 1 || s.k < 0 || s.k >= s.n {
			continue
		}
		if have[p.List] == nil {
			have[p.List] = map[[2]int]bool{}
		}
		have[p.List][[2]int{s.k, s.n}] = true
	}
	out := map[string]int{}
	for list, shards := range have {
		// Counted, not looked for K by K: N comes from a file, and may
		// be huge.
		count := map[int]int{}
		for kn := range shards {
			count[kn[1]]++
		}
		for n, c := range count {
			if c == n && (out[list] == 0 || n < out[list]) {
				out[list] = n
			}
		}
	}
	return out
}

// ForeignError is returned by Resume when the record holds results of
// instances that are not among the targets: another list, another region or
// account, another shard. Resuming would report two audits as one.
type ForeignError struct {
	// Count is the number of such results; Examples are the first few.
	Count    int
	Examples []Key
	// Record is the number of results in the record.
	Record int
}

func (e *ForeignError) Error() string {
	var ex []string
	for _, k := range e.Examples {
		ex = append(ex, strings.Trim(k.AccountID+" "+k.Region+" "+k.InstanceID, " "))
	}
	return fmt.Sprintf("the record holds %d of its %d results for instances that are not among the targets (such as %s): "+
		"it is the record of another audit", e.Count, e.Record, strings.Join(ex, ", "))
}

// TargetsError is returned by Resume when the targets given are not those
// of the run the record is of (Scope.Run): a shorter or a longer list,
// another list, region or shard, discovery instead of a list or in another
// scope. Continuing would drop the targets the run has yet to audit, or
// report others as its own.
type TargetsError struct {
	// Run and Given are the parts of the run and of the targets given.
	Run, Given Part
	// Outside is the number of the record's results for instances that
	// are not among the targets given.
	Outside int
}

func (e *TargetsError) Error() string {
	what := func(p Part) string {
		if p.Discovered() {
			return "the nodes discovered in " + strings.TrimPrefix(p.Fleet, DiscoveryPrefix)
		}
		if p.Shard != "" {
			return fmt.Sprintf("a list of %d targets (shard %s)", p.Targets, p.Shard)
		}
		return fmt.Sprintf("a list of %d targets", p.Targets)
	}
	msg := fmt.Sprintf("the run audits %s, and this resume %s", what(e.Run), what(e.Given))
	if e.Run.Discovered() || e.Given.Discovered() {
		return msg
	}
	// A run keeps the count and the digest of its targets, not the
	// targets: the results outside the list given, and the two counts,
	// say how many at least are in one and not the other.
	runOnly := max(e.Run.Targets-e.Given.Targets, e.Outside)
	givenOnly := e.Given.Targets - e.Run.Targets + runOnly
	var apart []string
	if runOnly > 0 {
		apart = append(apart, fmt.Sprintf("at least %d of the run's are not among them", runOnly))
	}
	if givenOnly > 0 {
		apart = append(apart, fmt.Sprintf("at least %d of them are not the run's", givenOnly))
	}
	if len(apart) == 0 {
		return msg + ": as many, not the same ones"
	}
	return msg + ": " + strings.Join(apart, ", and ")
}

// SameTargets reports whether p and q are parts of the same targets: the
// same valid targets (Fleet: whatever the order, the duplicates and the
// labels of their lists) or the same discovery scope, and the same shard.
// A part that does not know its targets (Known) is the same as none.
func (p Part) SameTargets(q Part) bool {
	return p.Known() && p.Fleet == q.Fleet && p.Shard == q.Shard
}

// Known reports whether the part says which targets it has: not one of a
// run.json written before parts were, nor an old discovery's
// (OldDiscovery).
func (p Part) Known() bool { return p.Fleet != "" && !p.OldDiscovery() }

// Scope says what Resume takes for the same audit. The zero value takes
// exactly the fleet's targets, whichever run the record is of.
type Scope struct {
	// Run, when set, is the part of the run the record is of, as its
	// run.json says, and Given the part of the targets given to continue
	// it: targets that are not the run's (Part.SameTargets) are refused
	// with a *TargetsError, whatever the record holds. A run that does
	// not know its targets (Part.Known) refuses none.
	Run   *Part
	Given Part
	// Account is the account of results that name none: a record written
	// when the caller's account could not be learnt is the same audit as
	// one that knows it, and the other way round.
	Account string
	// InScope, when set, takes a result for an instance that is not among
	// the targets for the same audit all the same (a node that discovery
	// found last time and not this time, in an account-region it covers).
	InScope func(Key) bool
	// Earlier, when set, is called with each result in scope that no
	// target matches, and whether it has a verdict: a node that discovery,
	// finding it again, need not audit again when it has one, and that is
	// in the record all the same when discovery does not find it.
	Earlier func(k Key, verdict bool)
	// Relabelled, when set, is called with each result with a verdict
	// that is audited again because its target's list labels changed.
	Relabelled func(Key)
	// Verdict, when set, is called with the key of each result in scope
	// with a verdict (Outcome.Audited): SSM answered its calls then.
	Verdict func(Key)
	// Dropped, when set, is called with the key of each target dropped
	// for its verdict in the record: still a target, found as listed by a
	// discovery that finds it too.
	Dropped func(Key)
}

// Resume prepares the continuation of an earlier run whose record is rs: it
// drops from f the targets that the record holds with a verdict (results in
// error are audited again, and so are those whose list labels changed
// since: an owner handed over between the run and its resume would
// otherwise be sent the instances it no longer owns) and returns how many it
// dropped. When f's targets are not the run's (Scope.Run), it changes
// nothing and returns a *TargetsError; when the record holds results for
// instances that are not among f's targets (valid, or invalid lines
// recorded by their source) nor in scope, a *ForeignError.
func Resume(rs *Records, f *Fleet, scope Scope) (done int, err error) {
	invalid := map[string]bool{}
	for _, t := range f.Invalid {
		invalid[t.Source] = true
	}
	match := func(k Key) (Key, bool) {
		if f.Has(k) {
			return k, true
		}
		alt := k
		if k.AccountID == "" {
			alt.AccountID = scope.Account
		} else if k.AccountID == scope.Account {
			alt.AccountID = ""
		}
		return alt, alt != k && f.Has(alt)
	}
	finished := map[Key]bool{}
	foreign := &ForeignError{Record: rs.Len()}
	err = rs.Each(func(r Result) error {
		k, ok := match(r.Key())
		verdict := func() {
			if scope.Verdict != nil && r.Outcome.Audited() {
				scope.Verdict(r.Key())
			}
		}
		if ok {
			verdict()
		}
		switch {
		case r.Outcome == OutcomeInvalid:
			if !invalid[r.Source] {
				foreign.add(r.Key())
			}
		case !ok:
			if scope.InScope == nil || !scope.InScope(r.Key()) {
				foreign.add(r.Key())
				break
			}
			verdict()
			if scope.Earlier != nil {
				scope.Earlier(r.Key(), r.Outcome != OutcomeError)
			}
		case r.Outcome == OutcomeError:
		case f.labelsKept(k, r.Labels):
			finished[k] = true
		case scope.Relabelled != nil:
			scope.Relabelled(k)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if scope.Run != nil && scope.Run.Known() && !scope.Run.SameTargets(scope.Given) {
		return 0, &TargetsError{Run: *scope.Run, Given: scope.Given, Outside: foreign.Count}
	}
	if foreign.Count > 0 {
		return 0, foreign
	}
	before := f.Len()
	f.Keep(func(t Target) bool {
		if t.Problem != "" || !finished[t.Key()] {
			return true
		}
		if scope.Dropped != nil {
			scope.Dropped(t.Key())
		}
		return false
	})
	return before - f.Len(), nil
}

func (e *ForeignError) add(k Key) {
	e.Count++
	if len(e.Examples) < 3 {
		e.Examples = append(e.Examples, k)
	}
}

// Mismatch says why ri cannot be the run.json of the record that holds in
// (another audit's, put beside it), or returns "" when it may be. It
// speaks only of what is certain, so that no run.json of a record cut
// short, resumed, merged or split is refused:
//   - the record holds more instances than ri's Targets, when they are
//     known (a merge of a record without run.json does not know them), ri
//     is of one run of one attempt and one part (not a merge of runs,
//     whose parts of one scope are kept once), and unless some of its
//     results name no account and others one (the same instances may be
//     there once each way);
//   - the record names an account that ri names neither as the caller's
//     nor among its Sites, when ri is of a run of one attempt that names
//     its parts and sites: a resume's sites are its last attempt's alone,
//     a split group's those that failed;
//   - a result names the start of the attempt that read it
//     (Result.AttemptStartedAt), before ri's first AttemptStarts (a later
//     one may be a resume killed before its run.json), when ri knows them
//     and its targets (a merge's are the union of its
//     inputs', but not those of a record that no run.json describes, when
//     its Targets are unknown). Lines that name none say nothing.
//
// A record that a later attempt wrote to after ri (one killed before its
// run.json) is the caller's to tell apart.
func (ri RunInfo) Mismatch(in Input) string {
	mixed := in.Accountless && len(in.Accounts) > 0
	// A merge's targets are not its record's to count where it merged
	// runs: parts of one scope (two discoveries of it, at two starts;
	// split groups' stand-ins, one a group) are kept once, with the
	// targets of one of them. One part and one start are one run's, a
	// merge of its copies included: its targets are exact. (A rendering
	// in place counts one input, so Rendered cannot tell a merge.)
	if ri.Targets > 0 && in.Instances > ri.Targets && !mixed &&
		len(ri.Attempts) == 1 && ri.Resumed == 0 && len(ri.Parts) == 1 {
		return fmt.Sprintf("the record holds %d instances, and its %s %d targets", in.Instances, RunFile, ri.Targets)
	}
	if why := ri.otherAttempt(in); why != "" {
		return why
	}
	if len(ri.Attempts) != 1 || ri.Resumed > 0 || len(ri.Parts) == 0 || len(ri.Sites) == 0 {
		return ""
	}
	named := map[string]bool{ri.Caller: true}
	for _, s := range ri.Sites {
		named[s.AccountID] = true
	}
	var others []string
	for _, a := range in.Accounts {
		if !named[a] {
			others = append(others, a)
		}
	}
	if len(others) == 0 {
		return ""
	}
	names := slices.Sorted(maps.Keys(named))
	names = slices.DeleteFunc(names, func(a string) bool { return a == "" })
	return fmt.Sprintf("the record holds instances of account %s, which its %s does not name (it names %s)",
		strings.Join(others, ", "), RunFile, cmp.Or(strings.Join(names, ", "), "no account"))
}

// otherAttempt says which attempt's start, named by the results of in, ri
// does not name among its AttemptStarts (see Mismatch); "" when there is
// none, or ri cannot tell.
func (ri RunInfo) otherAttempt(in Input) string {
	starts := ri.AttemptStarts()
	// Only a start before the run's own is certainly another run's: in's
	// earliest (its Attempts are sorted) tells. One after its last is also
	// a resume killed before its run.json, which a copy of the files
	// without the starts kept beside them, or an auditor report of them
	// (this release's, or the previous one's, which also says complete
	// when that resume had audited the rest), leaves unnamed.
	if len(starts) == 0 || ri.Targets == 0 || len(in.Attempts) == 0 || !in.Attempts[0].Before(starts[0]) {
		return ""
	}
	var names []string
	for _, s := range starts {
		names = append(names, s.UTC().Format(time.RFC3339Nano))
	}
	return fmt.Sprintf("the record holds results read by an attempt started at %s, and its %s names no such attempt (its attempts started at %s)",
		in.Attempts[0].UTC().Format(time.RFC3339Nano), RunFile, strings.Join(names, ", "))
}
