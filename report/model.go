package report

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/auditor-dev/auditor/audit"
)

// ModelSchema is the version of the Model (the "schema" field of
// summary.json). It changes only when a field changes meaning or is removed;
// new fields do not change it.
//
// Version 2: every count is of the instances with a verdict and their rows
// (rows of instances whose audit stopped partway are left out, counted in
// Totals.PartialAssociations); OutcomeCount.Percent is of Totals.Audited and
// null for outcomes that are not a verdict; ErrorCode.Code is empty for
// failures without an ErrorCode, which ErrorCode.Name names; Group and
// Instance carry audit.Counts (Instance's "associations" is now "total");
// Settings.StaleAfter is in words; the row lists are in order of what needs
// action, not key order.
const ModelSchema = 2

// None is the visible placeholder for an empty grouping value: an empty
// Status, DetailedStatus or document Name, an instance problem with no code,
// an instance without a label key.
const None = "(none)"

// MinListRows is the least number of rows the Model keeps in each of its
// capped row lists (Failures, Stale, NoAssociations, Problems). The cap is
// max(Options.HTMLMaxRows, MinListRows), so that summary.json keeps a
// generous sample even when the HTML shows fewer.
const MinListRows = 1000

// MaxAssociationNames caps ErrorCode.AssociationNames.
const MaxAssociationNames = 100

// MaxLabelValues caps the values of one label key in Model.Labels.
const MaxLabelValues = 1000

// Model is the view model every format renders, and the content of
// summary.json: the contract for dashboards and for --template users. Field
// names in JSON are snake_case; every list has a documented order that does
// not depend on the order the instances were audited in, so that the same
// record always gives the same Model. Percentages are 0-100, rounded to two
// decimals, or to more for a share that is neither none nor all but would
// round to 0 or 100 (0.003 for 1 in 30,001): only none is 0, only all 100. Times are UTC; a time that is unknown is null. Capped lists
// carry the total count beside them.
//
// Counts are of the instances that got a verdict (audit.Outcome.Audited) and
// of their associations: their rows, or for an instance summarised from its
// association overview (--triage), which has no rows, the overview's counts
// by Status (see Totals.Associations). An instance whose audit stopped partway
// (audit.Result.Partial) is counted among the instances, by its outcome, but
// the rows it got before it stopped are left out of every other count and
// list, and counted in Totals.PartialAssociations.
//
// A Model is built by Build and must not be modified by a Writer.
type Model struct {
	// Schema is ModelSchema.
	Schema int `json:"schema"`
	// Headline is one sentence for a title or a chat message, such as
	// "37 of 1,204 audited instances non-compliant (3.07%), 12 not
	// managed".
	Headline string `json:"headline"`
	// Run is the metadata of the run (run.json).
	Run Run `json:"run"`
	// Scope says in words which targets the report covers: the list's
	// (Run.Targets), or a shard's of it (Run.Shards), and how many have a
	// result when not all do ("400 targets in the list, 166 with a
	// result", "49 targets in shard 0/2 of the list"); the results alone
	// when the targets are unknown ("3 instances in the record").
	Scope string `json:"scope"`
	// About is the run and its settings in words, one line each, for a
	// reader ("Rate": "adaptive, reached 41 calls/s").
	About []Detail `json:"about"`
	// Settings are the report options the Model was built with.
	Settings Settings `json:"settings"`
	// Totals are fleet-wide counts.
	Totals Totals `json:"totals"`
	// Outcomes counts instances per outcome, one entry per audit.Outcomes()
	// in that order, zeros included.
	Outcomes []OutcomeCount `json:"outcomes"`
	// Statuses counts associations by Status (Success, Failed, Pending, ...),
	// by count descending then name, the overview's counts included: they
	// sum to Totals.Associations. An empty Status is None.
	Statuses []NameCount `json:"statuses"`
	// DetailedStatuses counts association rows by DetailedStatus, ordered
	// like Statuses. An overview gives no DetailedStatus: they sum to
	// Totals.Associations minus Totals.OverviewAssociations.
	DetailedStatuses []NameCount `json:"detailed_statuses"`
	// ErrorCodes breaks down the Failed associations by failure (ErrorCode,
	// or for those without one their DetailedStatus), by association count
	// descending then name. Only Failed associations count: the table
	// explains failures, and its association counts sum to the number of
	// Failed associations. (An association with an ErrorCode but another
	// Status still shows its code in associations.csv.)
	ErrorCodes []ErrorCode `json:"error_codes"`
	// Associations groups association rows by association
	// (AssociationName, or AssociationId when the name is empty) and
	// document, by failed count descending, then pending and other
	// statuses, then stale rows, then name and document: those that need
	// action first. An overview names no association: the associations
	// counted from overviews (Totals.OverviewAssociations) are in no group.
	Associations []Group `json:"associations"`
	// Documents groups association rows by document Name, ordered like
	// Associations; Association is empty in these groups.
	Documents []Group `json:"documents"`
	// Locations counts instances per outcome for each account and region,
	// sorted by account then region.
	Locations []Location `json:"locations"`
	// WorstInstances are the Settings.Top instances with the most Failed
	// associations (at least one), by failed count descending, then stale
	// count descending, then key.
	WorstInstances []Instance `json:"worst_instances"`
	// Failures are the Failed association rows, those of the instances
	// with the most failures first (by the instance's failed count
	// descending, then key, then AssociationId).
	Failures RowList `json:"failures"`
	// Stale are the stale association rows (see Options.StaleAfter),
	// whatever their Status: those that never ran first, then the oldest
	// execution first, then key and AssociationId.
	Stale RowList `json:"stale"`
	// NoAssociations are the instances with outcome no_associations, in key
	// order.
	NoAssociations InstanceList `json:"no_associations"`
	// Problems are the instances that got no verdict on their associations:
	// outcomes error (first: a later run can retry them), not_managed and
	// invalid, each in key order.
	Problems ProblemList `json:"problems"`
	// LabelKeys is the union of the label keys of every instance, of every
	// change (an instance gone since the baseline has its labels of then),
	// and of Options.LabelKeys, sorted: the label columns of instances.csv,
	// changes.csv and the workbook's lists, so that a row's labels are
	// never lost for want of a column.
	LabelKeys []string `json:"label_keys"`
	// Changes is what changed since the baseline run; null without one.
	Changes *Changes `json:"changes"`
	// Labels breaks the instances down by the values of each label key, in
	// the order of LabelKeys.
	Labels []LabelBreakdown `json:"labels"`
	// Group is Options.Group: the group of a split that the reports are
	// of, nil for a whole run's. Not in summary.json, whose
	// run.options.split_by names the label.
	Group *MailGroup `json:"-"`
}

// Run is the metadata of a run, from run.json.
type Run struct {
	Version string `json:"version"`
	// StartedAt and EndedAt are null when unknown (a synthesized run).
	StartedAt *time.Time `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at"`
	// Complete is true when every target has a result that is not an error
	// and the run was not interrupted.
	Complete    bool `json:"complete"`
	Interrupted bool `json:"interrupted"`
	// Resumed counts results taken from an earlier run's record.
	Resumed int `json:"resumed"`
	// Merged counts the records merged into this one (auditor report with
	// several), 0 for one run's record: StartedAt is then the first run's
	// start and EndedAt the last one's end, not one run's duration.
	Merged int `json:"merged"`
	// Targets counts distinct targets, Duplicates the input lines collapsed
	// into them, Invalid the bad input lines, as the run counted them.
	Targets    int `json:"targets"`
	Duplicates int `json:"duplicates"`
	Invalid    int `json:"invalid"`
	// Shards are the shards ("K/N", see audit.PartialShards) the record
	// covers when it holds part of a list only: a shard's run, or a merge
	// of some of a list's shards. Empty (never null) for a whole list.
	Shards []string `json:"shards"`
	// Options are the settings the run used, without secrets; never null.
	// A resumed run's are its last attempt's.
	Options map[string]any `json:"options"`
	// EarlierOptions are the values of options that a resumed run's
	// earlier attempts ran with and its last did not (see
	// audit.RunInfo.EarlierOptions); omitted when there are none.
	EarlierOptions map[string][]any `json:"earlier_options,omitempty"`
	Stats          audit.Stats      `json:"stats"`
	// Error is why the run stopped early or is incomplete, if it is.
	Error string `json:"error"`
	// Unaudited are the account-regions that could not be audited (a role
	// that could not be assumed, a region not enabled, access denied), by
	// account and region: nothing in them was seen, so no count here covers
	// them. Never null.
	Unaudited []Site `json:"unaudited"`
	// ListedInPart are the account-regions whose listing failed after some
	// of their nodes were listed and audited (audit.SiteStats.ListedInPart),
	// by account and region, with Site.Audited: the counts here cover those
	// nodes, and none of the nodes not listed. Never null.
	ListedInPart []Site `json:"listed_in_part"`
	// StoppedPartWay are the other account-regions that failed after some
	// of their instances were audited (their endpoint given up on part
	// way, once listed or in a run that lists nothing), by account and
	// region, with Site.Audited: the counts here cover those instances,
	// and none of the rest. Never null.
	StoppedPartWay []Site `json:"stopped_part_way"`
	// WithoutInfo are the account-regions whose listed instances were
	// audited without the instance information the run asked for, since it
	// could not be read, and why. Never null.
	WithoutInfo []Site `json:"without_info"`
	// Record names the results.jsonl beside the reports, which they were
	// rendered from, by its SHA-256 and size (see RecordFile); null when
	// their directory holds none (a Model built by Build alone names none).
	Record *RecordFile `json:"record"`
	// RunWithoutResult is, in the reports of a group of a split (Split),
	// the whole run's targets that have no result, any of which may be the
	// group's: a group counts its results as its targets, since which
	// targets without a result are its own is not known. 0 (omitted)
	// elsewhere.
	RunWithoutResult int `json:"run_without_result,omitempty"`
	// targetsFrom is where Targets came from (see targetsFrom).
	targetsFrom string
	// group is set for a group of a split (audit.RunInfo.GroupOf): its
	// Targets are its results, not the list's.
	group bool
	// attempts counts the attempts whose starts run.json names (a
	// merge's: its runs' together); 1 where it names none but its start.
	attempts int
}

// Site is an account-region and what failed there: its audit (Unaudited),
// its listing after some of its nodes were audited (ListedInPart), its
// audit after some of its instances were (StoppedPartWay) or the reading
// of its instance information (WithoutInfo).
type Site struct {
	AccountID string `json:"account_id"`
	// Region is "" when the account's regions could not be listed.
	Region  string `json:"region"`
	Code    string `json:"code"`
	Message string `json:"message"`
	// Audited counts the nodes audited there (audit.Outcome.Audited: a
	// verdict, not an error) as the record holds them, of an
	// account-region listed in part or stopped part way (whichever attempt
	// audited them); 0 (omitted) in the other lists.
	Audited int `json:"audited,omitempty"`
}

// mayBeInPart reports whether s is an account-region listed in part once
// the record holds results of it: one whose listing failed after some
// nodes were listed (audit.SiteStats.ListedInPart), and, in a run that
// discovers, one whose listing failed in this attempt before any, since
// an earlier attempt of a resumed run may have listed and audited some.
func mayBeInPart(s audit.SiteStats, discover bool) bool {
	if s.Error != nil && s.Error.Code == audit.CodeAccountNotActive {
		// Its account left: no listing failed, and what the record holds
		// of it stopped part way.
		return false
	}
	return s.ListedInPart() || discover && s.Error != nil && !s.Listed && s.Region != audit.AllRegions
}

// siteKey is an account-region as a result and audit.SiteStats name it.
type siteKey struct{ account, region string }

// siteVerdicts counts, by account-region, the results with a verdict
// (audit.Outcome.Audited) of the account-regions it holds.
type siteVerdicts map[siteKey]int

// failedSites is a siteVerdicts of the account-regions of sites that
// failed (audit.SiteStats.Error), none counted yet.
func failedSites(sites []audit.SiteStats) siteVerdicts {
	n := siteVerdicts{}
	for _, s := range sites {
		if s.Error != nil {
			n[siteKey{s.AccountID, s.Region}] = 0
		}
	}
	return n
}

// add counts r when it has a verdict and n holds its account-region.
func (n siteVerdicts) add(r audit.Result) {
	k := siteKey{r.AccountID, r.Region}
	if _, ok := n[k]; ok && r.Outcome.Audited() {
		n[k]++
	}
}

// held returns n with, of each site that failed, the count its run.json
// gives when that is more: a group of a split holds its own results
// alone, and its run.json the whole run's (audit.SiteStats.Audited).
func (n siteVerdicts) held(sites []audit.SiteStats) siteVerdicts {
	n = maps.Clone(n)
	for _, s := range sites {
		if k := (siteKey{s.AccountID, s.Region}); s.Error != nil && s.Audited > n[k] {
			n[k] = s.Audited
		}
	}
	return n
}

// InPart returns the account-regions of run that failed after some of
// their nodes were audited, as the reports of rs tell them
// (Run.ListedInPart and Run.StoppedPartWay), for a summary to say in the
// same words. It reads rs once, and not at all when none failed.
func InPart(rs *audit.Records, run audit.RunInfo) (listed, stopped []Site, err error) {
	n := failedSites(run.Sites)
	if len(n) == 0 {
		return nil, nil, nil
	}
	if err := rs.Each(func(r audit.Result) error { n.add(r); return nil }); err != nil {
		return nil, nil, err
	}
	listed, stopped = partWay(run.Sites, n.held(run.Sites), run.Options["discover"] == true)
	return listed, stopped, nil
}

// unaudited returns the account-regions of sites that could not be
// audited, sorted: all but those of which results counts audited results
// (see partWay).
func unaudited(sites []audit.SiteStats, results map[siteKey]int) []Site {
	return sitesWith(sites, func(s audit.SiteStats) *audit.Error {
		if results[siteKey{s.AccountID, s.Region}] > 0 {
			return nil
		}
		return s.Error
	})
}

// partWay returns the account-regions of sites that failed and of which
// results, the audited results the record holds by account-region of
// failed sites, counts some, with that count, sorted: those that may have
// been listed in part (see mayBeInPart; discover: the run discovers)
// listed, the others stopped. One of which the record holds none (its run
// stopped before it audited what it listed), or only results in error, is
// unaudited: nothing in it is known.
func partWay(sites []audit.SiteStats, results map[siteKey]int, discover bool) (listed, stopped []Site) {
	listed, stopped = []Site{}, []Site{}
	for _, s := range sites {
		n := results[siteKey{s.AccountID, s.Region}]
		if s.Error == nil || n == 0 {
			continue
		}
		site := siteOf(s, s.Error)
		site.Audited = n
		if mayBeInPart(s, discover) {
			listed = append(listed, site)
		} else {
			stopped = append(stopped, site)
		}
	}
	sortSites(listed)
	sortSites(stopped)
	return listed, stopped
}

// withoutInfo returns the account-regions of sites whose instance
// information could not be read, sorted.
func withoutInfo(sites []audit.SiteStats) []Site {
	return sitesWith(sites, func(s audit.SiteStats) *audit.Error { return s.InfoError })
}

// sitesWith returns the account-regions of sites where failure says
// something failed, with its code and message, sorted.
func sitesWith(sites []audit.SiteStats, failure func(audit.SiteStats) *audit.Error) []Site {
	out := []Site{}
	for _, s := range sites {
		if e := failure(s); e != nil {
			out = append(out, siteOf(s, e))
		}
	}
	sortSites(out)
	return out
}

// siteOf is the Site of s where e failed.
func siteOf(s audit.SiteStats, e *audit.Error) Site {
	region := s.Region
	if region == audit.AllRegions {
		region = ""
	}
	return Site{AccountID: s.AccountID, Region: region, Code: e.Code, Message: e.Message}
}

// sortSites sorts sites by account, then region.
func sortSites(sites []Site) {
	slices.SortFunc(sites, func(a, b Site) int {
		return cmp.Or(cmp.Compare(a.AccountID, b.AccountID), cmp.Compare(a.Region, b.Region))
	})
}

// Detail is one line of a run's description: what it is about and the value
// in words.
type Detail struct {
	Label string `json:"label"`
	Value string `json:"value"`
	// At is the date Value tells, when it tells one, and Rest what Value
	// says after it: the workbook writes At as a date cell (a sheet that
	// sorts or subtracts it meets no text) and Rest beside it.
	At   *time.Time `json:"-"`
	Rest string     `json:"-"`
}

// Settings are the report options the Model was built with.
type Settings struct {
	// StaleAfter is Options.StaleAfter in words ("7 days", "36 hours"), or
	// "off" when the check is off.
	StaleAfter string `json:"stale_after"`
	// StaleAfterSeconds is Options.StaleAfter in seconds; 0 when off.
	StaleAfterSeconds int64 `json:"stale_after_seconds"`
	// StaleBefore is the cut-off: an ExecutionDate before it is stale. Each
	// instance's rows are judged from the start of the attempt that read
	// it (see Options.StaleAfter): StaleBefore is the one cut-off when every
	// instance with rows shares it, as in a run that was not resumed, and
	// null when the check is off, no instance had rows to judge, or
	// attempts that started at different times read them (a resumed run, a
	// merge of runs): see StaleBeforeEarliest and StaleBeforeLatest then.
	StaleBefore *time.Time `json:"stale_before"`
	// StaleBeforeEarliest and StaleBeforeLatest are the earliest and the
	// latest cut-off that the rows were judged by, the first attempt's and
	// the last's that read any (the same when StaleBefore is set); null
	// when the check is off or no instance had rows to judge.
	StaleBeforeEarliest *time.Time `json:"stale_before_earliest"`
	StaleBeforeLatest   *time.Time `json:"stale_before_latest"`
	// Top is the length of the top lists.
	Top int `json:"top"`
	// HTMLMaxRows is the cap on the rows of each table in the HTML report.
	HTMLMaxRows int `json:"html_max_rows"`
	// ListRows is the cap on each row list of the Model.
	ListRows int `json:"list_rows"`
}

// staleOff reports whether the Model was built with the staleness check
// off (StaleAfter "off").
func (s Settings) staleOff() bool { return s.StaleAfter == audit.StaleAfter(0).String() }

// Totals are fleet-wide counts.
type Totals struct {
	// Instances counts every result, whatever its outcome.
	Instances int `json:"instances"`
	// WithoutResult counts the run's targets that have no result in the
	// record (Run.Targets minus Instances, never below 0): a run stopped
	// before them (--timeout, a signal) did not audit them, so nothing of
	// them is known. They could not be audited, like Problems, but are in
	// no list.
	WithoutResult int `json:"without_result"`
	// Audited counts instances whose outcome is a verdict on their
	// associations (audit.Outcome.Audited: all but not_managed, error and
	// invalid): the basis of every percentage of instances.
	Audited int `json:"audited"`
	// Associations counts the associations of the audited instances: their
	// rows, and for the instances summarised from their overview
	// (FromOverview), which have none, the overview's counts
	// (OverviewAssociations). It is the sum of the instances' Total
	// (Instance, instances.csv), of Statuses, and of the values of each
	// label key (LabelValue.Associations). DetailedStatuses, ErrorCodes,
	// Associations, Documents, Failures and Stale are of the rows alone:
	// Associations minus OverviewAssociations.
	Associations int `json:"associations"`
	// PartialAssociations counts the rows of instances whose audit stopped
	// partway (outcome error): only part of those instances' lists, they
	// are left out of every other count and list.
	PartialAssociations int `json:"partial_associations"`
	// Outcomes counts instances per outcome; every outcome is present.
	Outcomes map[audit.Outcome]int `json:"outcomes"`
	// PercentNoncompliant is noncompliant instances as a percentage of
	// Audited: the non-compliant entry's OutcomeCount.Percent, and like it
	// null when nothing was audited, as no percentage can be given (0 would
	// say that none is non-compliant).
	PercentNoncompliant *float64 `json:"percent_noncompliant"`
	// FromOverview counts the instances summarised from their association
	// overview (--triage), with no rows of their own: compliant when every
	// association succeeded, no_associations when SSM shows none.
	// FromOverviewOutcomes counts them per outcome; every outcome is
	// present.
	FromOverview         int                   `json:"from_overview"`
	FromOverviewOutcomes map[audit.Outcome]int `json:"from_overview_outcomes"`
	// OverviewAssociations counts the associations of the FromOverview
	// instances, from their overviews' counts: counted in Associations and
	// Statuses, with no row and no name.
	OverviewAssociations int `json:"overview_associations"`
	// Disconnected and OldAgent count the non-compliant instances whose
	// agent has lost touch with SSM (PingStatus not Online) or is not the
	// latest version, where SSM said so (discovery, --with-instance-info;
	// never of a Windows node, see audit.InstanceInfo.OldAgent): the likely
	// cause of their failures.
	Disconnected int `json:"disconnected"`
	OldAgent     int `json:"old_agent"`
}

// OutcomeCount is the number of instances with one outcome.
type OutcomeCount struct {
	Outcome   audit.Outcome `json:"outcome"`
	Instances int           `json:"instances"`
	// Percent is of Totals.Audited for an outcome that is a verdict, and
	// null for the others (not_managed, error, invalid), which are not
	// part of that basis, and for every outcome when nothing was audited.
	Percent *float64 `json:"percent"`
}

// NameCount is a value and how many associations have it.
type NameCount struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// ErrorCode is one kind of failure of Failed associations.
type ErrorCode struct {
	// Name is how the reports name the failure: the ErrorCode, or for a
	// failure without one its DetailedStatus and "(no error code)"
	// ("TimedOut (no error code)"), or "No error code".
	Name string `json:"name"`
	// Code is the ErrorCode as SSM gave it; empty for failures without one.
	Code string `json:"code"`
	// Associations counts Failed association rows with this failure.
	Associations int `json:"associations"`
	// Instances counts the instances that have at least one of them.
	Instances int `json:"instances"`
	// AssociationNames are the distinct names of the associations involved
	// (see Group.Name), sorted, at most MaxAssociationNames;
	// AssociationNamesTotal is how many there are.
	AssociationNames      []string `json:"association_names"`
	AssociationNamesTotal int      `json:"association_names_total"`
	// ExampleInstanceIDs are the IDs of the first Settings.Top instances
	// with this failure, in key order.
	ExampleInstanceIDs []string `json:"example_instance_ids"`
}

// Group tallies the associations of one association or document.
type Group struct {
	// Association is what the group is keyed by: the AssociationName, or
	// the AssociationId when the name is empty; empty in Model.Documents.
	Association string `json:"association"`
	// Name is how the reports name it: the AssociationName, or the document
	// name with the start of the AssociationId ("AWS-RunPatchBaseline
	// (4e3e196d)"); in Model.Documents, the document name.
	Name string `json:"name"`
	// Document is the document Name, or None.
	Document string `json:"document"`
	// Instances counts the instances that have this association or document.
	Instances int `json:"instances"`
	// Counts tallies its association rows by Status, and the stale ones.
	audit.Counts
	// SuccessRate is Success as a percentage of Total.
	SuccessRate float64 `json:"success_rate"`
}

// Location counts instances per outcome in one account and region.
type Location struct {
	AccountID string `json:"account_id"`
	Region    string `json:"region"`
	Instances int    `json:"instances"`
	// Outcomes has every outcome, zeros included.
	Outcomes map[audit.Outcome]int `json:"outcomes"`
}

// Instance is one instance and the tally of its associations.
type Instance struct {
	AccountID  string            `json:"account_id"`
	Region     string            `json:"region"`
	InstanceID string            `json:"instance_id"`
	Labels     map[string]string `json:"labels"`
	Outcome    audit.Outcome     `json:"outcome"`
	// Counts tallies its associations by Status, and the stale ones: its
	// rows, or its overview's counts (see Totals.Associations).
	audit.Counts
	// ErrorCodes names the distinct failures of its Failed associations
	// (see ErrorCode.Name), sorted.
	ErrorCodes []string `json:"error_codes"`
	// PingStatus and AgentVersion are what SSM says of the instance, when it
	// was asked; OldAgent is set when its agent is not the latest (see
	// audit.InstanceInfo.OldAgent).
	PingStatus   string `json:"ping_status,omitempty"`
	AgentVersion string `json:"agent_version,omitempty"`
	OldAgent     bool   `json:"old_agent,omitempty"`
}

// Row is one association of one instance.
type Row struct {
	AccountID  string            `json:"account_id"`
	Region     string            `json:"region"`
	InstanceID string            `json:"instance_id"`
	Labels     map[string]string `json:"labels"`
	// AssociationID, AssociationName, AssociationVersion, Document (the
	// document Name), DocumentVersion, Status, DetailedStatus, ErrorCode and
	// ExecutionSummary are the API's values, unchanged (not placeholders).
	AssociationID      string `json:"association_id"`
	AssociationName    string `json:"association_name"`
	AssociationVersion string `json:"association_version"`
	// Name is how the reports name the association (see Group.Name).
	Name            string `json:"name"`
	Document        string `json:"document"`
	DocumentVersion string `json:"document_version"`
	Status          string `json:"status"`
	DetailedStatus  string `json:"detailed_status"`
	ErrorCode       string `json:"error_code"`
	// Failure names the failure of a Failed row (see ErrorCode.Name); empty
	// for other statuses.
	Failure          string     `json:"failure"`
	ExecutionDate    *time.Time `json:"execution_date"`
	ExecutionSummary string     `json:"execution_summary"`
	// OutputURL is the S3 output URL as the API gave it, but for a login
	// and the signing parameters of a presigned URL, which carry
	// credentials (see audit.Association.URL). It is untrusted text: a renderer must not
	// make it a link unless it is http(s).
	OutputURL string `json:"output_url"`
	// Stale reports whether the row is stale (see Options.StaleAfter).
	Stale bool `json:"stale"`
	// InstanceFailed is how many Failed rows its instance has: the first
	// key of the Failures order.
	InstanceFailed int `json:"instance_failed"`
}

// RowList is a capped list of association rows.
type RowList struct {
	// Count is the number of rows in the whole record.
	Count int `json:"count"`
	// Rows are the first Settings.ListRows of them.
	Rows []Row `json:"rows"`
}

// InstanceRef names one instance.
type InstanceRef struct {
	AccountID  string            `json:"account_id"`
	Region     string            `json:"region"`
	InstanceID string            `json:"instance_id"`
	Labels     map[string]string `json:"labels"`
}

// InstanceList is a capped list of instances, in key order.
type InstanceList struct {
	Count     int           `json:"count"`
	Instances []InstanceRef `json:"instances"`
}

// Problem is an instance that got no verdict on its associations.
type Problem struct {
	AccountID  string            `json:"account_id"`
	Region     string            `json:"region"`
	InstanceID string            `json:"instance_id"`
	Labels     map[string]string `json:"labels"`
	Outcome    audit.Outcome     `json:"outcome"`
	// Code and Message are the result's Error (Code is None when absent).
	Code    string `json:"code"`
	Message string `json:"message"`
	// Source is where the target was read (FILE:LINE).
	Source string `json:"source"`
	// PartialAssociations counts the rows it got before its audit stopped,
	// left out of every count (see Totals.PartialAssociations).
	PartialAssociations int `json:"partial_associations"`
}

// ProblemList is a capped list of problems, in the order of Model.Problems.
type ProblemList struct {
	// Count counts the instances with a result and no verdict, Items'
	// length before the cap.
	Count int `json:"count"`
	// WithoutResult is Totals.WithoutResult: the targets that could not
	// be audited as the run stopped before them, in no list as they have
	// no result. Count plus WithoutResult is every target that could not
	// be audited.
	WithoutResult int `json:"without_result"`
	// Codes counts problems by Code, by count descending then code.
	Codes []NameCount `json:"codes"`
	Items []Problem   `json:"items"`
}

// LabelBreakdown is one label key and the instances per value of it.
type LabelBreakdown struct {
	Key string `json:"key"`
	// ValuesTotal counts the distinct values (None included); Values holds
	// at most MaxLabelValues of them, by non-compliant instances
	// descending, then failed associations descending, then value.
	ValuesTotal int          `json:"values_total"`
	Values      []LabelValue `json:"values"`
}

// LabelValue tallies the instances that carry one value of a label key.
type LabelValue struct {
	// Value is the label's value; None for instances without the key (or
	// with an empty value), which NoValue tells apart from a value that is
	// literally None.
	Value string `json:"value"`
	// NoValue is set on the one LabelValue of the instances without the
	// key or with an empty value.
	NoValue   bool `json:"no_value"`
	Instances int  `json:"instances"`
	// Audited counts those with a verdict, the basis of
	// PercentNoncompliant.
	Audited int `json:"audited"`
	// Outcomes counts its instances per outcome; every outcome is present.
	Outcomes map[audit.Outcome]int `json:"outcomes"`
	// Associations tallies the associations of its audited instances, as
	// Totals.Associations counts them.
	Associations audit.Counts `json:"associations"`
	// PercentNoncompliant is its noncompliant instances as a percentage of
	// Audited; null when none of them was audited, as
	// Totals.PercentNoncompliant.
	PercentNoncompliant *float64 `json:"percent_noncompliant"`
}

// Build builds the Model by streaming once over opts.Records (in key order),
// applying the defaults of Options. Its memory grows with the number of
// distinct names, locations and label values and with the capped lists, not
// with the number of associations. It returns ctx's error if ctx is done, and
// the Records' error if a line cannot be read.
func Build(ctx context.Context, opts Options) (*Model, error) {
	opts = opts.withDefaults()
	if opts.Records == nil {
		return nil, errors.New("building report model: no records")
	}
	b := newBuilder(opts)
	err := opts.Records.Each(func(r audit.Result) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		b.add(r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("building report model: %w", err)
	}
	for _, k := range opts.LabelKeys {
		b.labelKeys[k] = true
	}
	var changes *Changes
	if opts.Baseline != nil {
		if changes, err = buildChanges(ctx, opts, b.m.Settings.ListRows, b.labelKeys); err != nil {
			return nil, fmt.Errorf("building report model: %w", err)
		}
	}
	// Before finish: the About says what the report was compared with.
	b.m.Changes = changes
	return b.finish(), nil
}

type groupKey struct{ association, document string }

type locKey struct{ account, region string }

// labelKey is one value of a label key; noValue (with value "") stands for
// the instances without one, apart from any value a label can have.
type labelKey struct {
	key, value string
	noValue    bool
}

// labelTally is what the builder keeps of one label value while it
// streams the record: a LabelValue's counts, its outcomes by their index
// in audit.Outcomes, without the map that each value's LabelValue holds.
// A label whose value is every instance's own (--tag-labels Name) has as
// many values as the fleet has instances, and only MaxLabelValues of them
// become LabelValues (see labelBreakdowns).
type labelTally struct {
	instances, audited int
	outcomes           [numOutcomes]int
	associations       audit.Counts
}

// numOutcomes is len(audit.Outcomes()).
const numOutcomes = 7

// outcomeIndex is each outcome's index in audit.Outcomes.
var outcomeIndex = func() map[audit.Outcome]int {
	m := map[audit.Outcome]int{}
	for i, o := range audit.Outcomes() {
		m[o] = i
	}
	if len(m) != numOutcomes {
		panic("report: numOutcomes is not the number of audit.Outcomes")
	}
	return m
}()

func (t *labelTally) add(r audit.Result, c audit.Counts) {
	t.instances++
	t.outcomes[outcomeIndex[r.Outcome]]++
	if r.Outcome.Audited() {
		t.audited++
	}
	t.associations.Merge(c)
}

// less takes o's counts out of t.
func (t *labelTally) less(o *labelTally) {
	t.instances -= o.instances
	t.audited -= o.audited
	for i, n := range o.outcomes {
		t.outcomes[i] -= n
	}
	t.associations.Merge(negate(o.associations))
}

// more adds o's counts to t.
func (t *labelTally) more(o *labelTally) {
	t.instances += o.instances
	t.audited += o.audited
	for i, n := range o.outcomes {
		t.outcomes[i] += n
	}
	t.associations.Merge(o.associations)
}

// value is the LabelValue of t, under the value of k.
func (t *labelTally) value(k labelKey) LabelValue {
	lv := LabelValue{Value: orNone(k.value), NoValue: k.noValue, Instances: t.instances, Audited: t.audited,
		Outcomes: make(map[audit.Outcome]int, numOutcomes), Associations: t.associations}
	for i, o := range audit.Outcomes() {
		lv.Outcomes[o] = t.outcomes[i]
	}
	if lv.Audited > 0 {
		p := percent(lv.Outcomes[audit.OutcomeNoncompliant], lv.Audited)
		lv.PercentNoncompliant = &p
	}
	return lv
}

type codeAcc struct {
	ec    ErrorCode
	names map[string]bool
}

type builder struct {
	opts    Options
	stale   staleRule
	cutoffs cutoffs
	m       *Model

	statuses  map[string]int
	detailed  map[string]int
	codes     map[string]*codeAcc
	groups    map[groupKey]*Group
	docs      map[string]*Group
	locs      map[locKey]*Location
	labelKeys map[string]bool
	labels    map[labelKey]*labelTally
	fleet     labelTally
	probCodes map[string]int
	// inPart counts the audited results (audit.Outcome.Audited) of each
	// account-region that failed (audit.SiteStats.Error), as the record
	// holds them: one listed in part or stopped part way has some (see
	// partWay).
	inPart siteVerdicts

	worst    capped[Instance]
	failures capped[Row]
	staleRow capped[Row]
	problems capped[Problem]
}

func newBuilder(opts Options) *builder {
	listRows := max(opts.HTMLMaxRows, MinListRows)
	b := &builder{
		opts:      opts,
		stale:     newStaleRule(opts),
		statuses:  map[string]int{},
		detailed:  map[string]int{},
		codes:     map[string]*codeAcc{},
		groups:    map[groupKey]*Group{},
		docs:      map[string]*Group{},
		locs:      map[locKey]*Location{},
		labelKeys: map[string]bool{},
		labels:    map[labelKey]*labelTally{},
		probCodes: map[string]int{},
		worst:     capped[Instance]{limit: opts.Top, cmp: compareWorst},
		failures:  capped[Row]{limit: listRows, cmp: compareFailures},
		staleRow:  capped[Row]{limit: listRows, cmp: compareStale},
		problems:  capped[Problem]{limit: listRows, cmp: compareProblems},
	}
	ri := opts.Run
	b.inPart = failedSites(ri.Sites)
	b.m = &Model{
		Schema: ModelSchema,
		Group:  opts.Group,
		Run: Run{
			Version:        ri.Version,
			StartedAt:      utcPtr(ri.StartedAt),
			EndedAt:        utcPtr(ri.EndedAt),
			Complete:       ri.Complete,
			Interrupted:    ri.Interrupted,
			Resumed:        ri.Resumed,
			Merged:         mergedInputs(ri),
			Targets:        ri.Targets,
			Duplicates:     ri.Duplicates,
			Invalid:        ri.Invalid,
			Shards:         nonNil(partialShards(ri)),
			Options:        ri.Options,
			EarlierOptions: ri.EarlierOptions,
			Stats:          ri.Stats,
			Error:          ri.Error,
			// Unaudited, ListedInPart and StoppedPartWay are set by
			// finish: whether an account-region that failed has
			// anything known of it is the record's to say.
			WithoutInfo: withoutInfo(ri.Sites),
			Record:      opts.record,
			targetsFrom: targetsFrom(ri.Parts),
			attempts:    len(ri.AttemptStarts()),
		},
		Settings: Settings{
			StaleAfter:  opts.StaleAfter.String(),
			Top:         opts.Top,
			HTMLMaxRows: opts.HTMLMaxRows,
			ListRows:    listRows,
		},
		Totals: Totals{Outcomes: outcomeMap(), FromOverviewOutcomes: outcomeMap()},
	}
	if b.m.Run.Options == nil {
		b.m.Run.Options = map[string]any{}
	}
	if g := ri.GroupOf; g != nil {
		// A group of a split: what its reports say of the whole run.
		b.m.Run.RunWithoutResult = g.WithoutResult
		b.m.Run.group = true
		if g.TargetsFrom != "" {
			b.m.Run.targetsFrom = g.TargetsFrom
		}
	}
	if opts.StaleAfter.On() {
		b.m.Settings.StaleAfterSeconds = int64(time.Duration(opts.StaleAfter) / time.Second)
	}
	return b
}

// mergedInputs is Run.Merged.
func mergedInputs(ri audit.RunInfo) int {
	if ri.Rendered == nil || ri.Rendered.Inputs < 2 {
		return 0
	}
	return ri.Rendered.Inputs
}

func compareWorst(x, y Instance) int {
	return cmp.Or(cmp.Compare(y.Failed, x.Failed), cmp.Compare(y.Stale, x.Stale),
		compareKeys(audit.Key{AccountID: x.AccountID, Region: x.Region, InstanceID: x.InstanceID},
			audit.Key{AccountID: y.AccountID, Region: y.Region, InstanceID: y.InstanceID}))
}

func rowKey(r Row) audit.Key {
	return audit.Key{AccountID: r.AccountID, Region: r.Region, InstanceID: r.InstanceID}
}

func compareFailures(x, y Row) int {
	return cmp.Or(cmp.Compare(y.InstanceFailed, x.InstanceFailed), compareKeys(rowKey(x), rowKey(y)),
		strings.Compare(x.AssociationID, y.AssociationID), strings.Compare(x.Name, y.Name))
}

func compareStale(x, y Row) int {
	var xt, yt time.Time
	if x.ExecutionDate != nil {
		xt = *x.ExecutionDate
	}
	if y.ExecutionDate != nil {
		yt = *y.ExecutionDate
	}
	return cmp.Or(xt.Compare(yt), compareKeys(rowKey(x), rowKey(y)),
		strings.Compare(x.AssociationID, y.AssociationID), strings.Compare(x.Name, y.Name))
}

func compareProblems(x, y Problem) int {
	return cmp.Or(cmp.Compare(problemOrder[x.Outcome], problemOrder[y.Outcome]),
		compareKeys(audit.Key{AccountID: x.AccountID, Region: x.Region, InstanceID: x.InstanceID},
			audit.Key{AccountID: y.AccountID, Region: y.Region, InstanceID: y.InstanceID}),
		strings.Compare(x.Source, y.Source))
}

func outcomeMap() map[audit.Outcome]int {
	m := map[audit.Outcome]int{}
	for _, o := range audit.Outcomes() {
		m[o] = 0
	}
	return m
}

func utcPtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// groupName is the key an association is grouped by.
func groupName(a audit.Association) string {
	if a.AssociationName != "" {
		return a.AssociationName
	}
	return a.AssociationID
}

func orNone(s string) string {
	if s == "" {
		return None
	}
	return s
}

func cloneLabels(l map[string]string) map[string]string {
	if l == nil {
		return map[string]string{}
	}
	return maps.Clone(l)
}

func newRow(r audit.Result, a audit.Association, stale bool, instanceFailed int) Row {
	var when *time.Time
	if a.ExecutionDate != nil && !a.ExecutionDate.IsZero() {
		t := a.ExecutionDate.UTC()
		when = &t
	}
	row := Row{
		AccountID:          r.AccountID,
		Region:             r.Region,
		InstanceID:         r.InstanceID,
		Labels:             cloneLabels(r.Labels),
		AssociationID:      a.AssociationID,
		AssociationName:    a.AssociationName,
		AssociationVersion: a.AssociationVersion,
		Name:               associationName(a),
		Document:           a.Name,
		DocumentVersion:    a.DocumentVersion,
		Status:             a.Status,
		DetailedStatus:     a.DetailedStatus,
		ErrorCode:          a.ErrorCode,
		ExecutionDate:      when,
		ExecutionSummary:   a.ExecutionSummary,
		OutputURL:          a.URL(),
		Stale:              stale,
		InstanceFailed:     instanceFailed,
	}
	if a.Status == audit.StatusFailed {
		row.Failure = failureName(a)
	}
	return row
}

func (b *builder) add(r audit.Result) {
	m := b.m
	m.Totals.Instances++
	b.inPart.add(r)
	m.Totals.Outcomes[r.Outcome]++
	if r.Detail == audit.DetailOverview {
		m.Totals.FromOverview++
		m.Totals.FromOverviewOutcomes[r.Outcome]++
	}
	if r.Outcome == audit.OutcomeNoncompliant {
		if !r.Info.Connected() {
			m.Totals.Disconnected++
		}
		if r.Info.OldAgent() {
			m.Totals.OldAgent++
		}
	}
	if r.Outcome.Audited() {
		m.Totals.Audited++
	}
	for k := range r.Labels {
		b.labelKeys[k] = true
	}

	lk := locKey{r.AccountID, r.Region}
	loc := b.locs[lk]
	if loc == nil {
		loc = &Location{AccountID: r.AccountID, Region: r.Region, Outcomes: outcomeMap()}
		b.locs[lk] = loc
	}
	loc.Instances++
	loc.Outcomes[r.Outcome]++

	switch r.Outcome {
	case audit.OutcomeNoAssociations:
		m.NoAssociations.Count++
		if len(m.NoAssociations.Instances) < m.Settings.ListRows {
			m.NoAssociations.Instances = append(m.NoAssociations.Instances, InstanceRef{
				AccountID: r.AccountID, Region: r.Region, InstanceID: r.InstanceID, Labels: cloneLabels(r.Labels),
			})
		}
	case audit.OutcomeNotManaged, audit.OutcomeError, audit.OutcomeInvalid:
		p := Problem{
			AccountID: r.AccountID, Region: r.Region, InstanceID: r.InstanceID, Labels: cloneLabels(r.Labels),
			Outcome: r.Outcome, Code: None, Source: r.Source,
		}
		if r.Error != nil {
			p.Code = orNone(r.Error.Code)
			p.Message = r.Error.Message
		}
		if r.Partial() {
			p.PartialAssociations = len(r.Associations)
		}
		m.Problems.Count++
		b.probCodes[p.Code]++
		b.problems.add(p)
	}

	if r.Partial() {
		// Only part of the instance's list: no count may take it for the
		// whole (see Model).
		m.Totals.PartialAssociations += len(r.Associations)
		b.addLabels(r, audit.Counts{})
		return
	}

	inst := Instance{
		AccountID: r.AccountID, Region: r.Region, InstanceID: r.InstanceID,
		Outcome: r.Outcome, Counts: b.stale.count(r),
	}
	if len(r.Associations) > 0 {
		b.cutoffs.add(b.stale.cutoff(r))
	}
	if r.Info != nil {
		inst.PingStatus, inst.AgentVersion, inst.OldAgent = r.Info.PingStatus, r.Info.AgentVersion, r.Info.OldAgent()
	}
	b.addLabels(r, inst.Counts)
	// Every count of associations is of the instance's tally: its rows, or
	// the overview's counts, which stand for rows it does not have.
	m.Totals.Associations += inst.Total
	overview, fromOverview := r.OverviewCounts()
	if fromOverview {
		m.Totals.OverviewAssociations += inst.Total
		for status, n := range overview {
			if n > 0 {
				b.statuses[orNone(status)] += n
			}
		}
	}
	var codes []string
	seenGroup := map[groupKey]bool{}
	seenDoc := map[string]bool{}
	for _, a := range sortedAssociations(r) {
		stale := b.stale.stale(r, a)
		if !fromOverview {
			b.statuses[orNone(a.Status)]++
		}
		b.detailed[orNone(a.DetailedStatus)]++

		gk := groupKey{groupName(a), orNone(a.Name)}
		g := b.groups[gk]
		if g == nil {
			g = &Group{Association: gk.association, Name: associationName(a), Document: gk.document}
			b.groups[gk] = g
		}
		if !seenGroup[gk] {
			seenGroup[gk] = true
			g.Instances++
		}
		g.Add(a, stale)
		d := b.docs[gk.document]
		if d == nil {
			d = &Group{Name: gk.document, Document: gk.document}
			b.docs[gk.document] = d
		}
		if !seenDoc[gk.document] {
			seenDoc[gk.document] = true
			d.Instances++
		}
		d.Add(a, stale)

		if stale {
			m.Stale.Count++
			b.staleRow.add(newRow(r, a, true, inst.Failed))
		}
		if a.Status != audit.StatusFailed {
			continue
		}
		m.Failures.Count++
		b.failures.add(newRow(r, a, stale, inst.Failed))
		name := failureName(a)
		acc := b.codes[name]
		if acc == nil {
			acc = &codeAcc{ec: ErrorCode{Name: name, Code: a.ErrorCode}, names: map[string]bool{}}
			b.codes[name] = acc
		}
		acc.ec.Associations++
		acc.names[associationName(a)] = true
		if !slices.Contains(codes, name) {
			codes = append(codes, name)
			acc.ec.Instances++
			if len(acc.ec.ExampleInstanceIDs) < b.opts.Top {
				acc.ec.ExampleInstanceIDs = append(acc.ec.ExampleInstanceIDs, r.InstanceID)
			}
		}
	}
	if inst.Failed > 0 {
		slices.Sort(codes)
		inst.ErrorCodes = codes
		inst.Labels = cloneLabels(r.Labels)
		b.worst.add(inst)
	}
}

// addLabels counts r under each of its label values, and in the fleet-wide
// tally that the instances without a key are derived from (see
// labelBreakdowns). c is the tally of its rows (zero for a partial
// instance).
func (b *builder) addLabels(r audit.Result, c audit.Counts) {
	b.fleet.add(r, c)
	for k, v := range r.Labels {
		lk := labelKey{key: k, value: v, noValue: v == ""}
		t := b.labels[lk]
		if t == nil {
			t = &labelTally{}
			b.labels[lk] = t
		}
		t.add(r, c)
	}
}

func nameCounts(c map[string]int) []NameCount {
	out := make([]NameCount, 0, len(c))
	for name, n := range c {
		out = append(out, NameCount{Name: name, Count: n})
	}
	slices.SortFunc(out, func(x, y NameCount) int {
		return cmp.Or(cmp.Compare(y.Count, x.Count), strings.Compare(x.Name, y.Name))
	})
	return out
}

func sortGroups(gs []Group) {
	slices.SortFunc(gs, func(x, y Group) int {
		return cmp.Or(
			cmp.Compare(y.Failed, x.Failed),
			cmp.Compare(y.Pending+y.Other, x.Pending+x.Other),
			cmp.Compare(y.Stale, x.Stale),
			strings.Compare(x.Name, y.Name),
			strings.Compare(x.Association, y.Association),
			strings.Compare(x.Document, y.Document),
		)
	})
}

// percent returns n/of as a percentage rounded to two decimals, 0 if of is
// 0. A share that is neither none nor all is never rounded to 0 or 100: it
// keeps the decimals it takes to be neither (1 of 30,001 is 0.003, not 0;
// 30,000 of 30,001 is 99.997, not 100), so that no failure rounds away.
func percent(n, of int) float64 {
	if of == 0 {
		return 0
	}
	exact := float64(n) * 100 / float64(of)
	for d := 2; ; d++ {
		scale := math.Pow10(d)
		p := math.Round(exact*scale) / scale
		if n <= 0 || n >= of || (p > 0 && p < 100) || d >= 15 {
			return p
		}
	}
}

func (b *builder) finish() *Model {
	m := b.m
	inPart := b.inPart.held(b.opts.Run.Sites)
	m.Run.Unaudited = unaudited(b.opts.Run.Sites, inPart)
	m.Run.ListedInPart, m.Run.StoppedPartWay = partWay(b.opts.Run.Sites, inPart, b.opts.Run.Options["discover"] == true)
	for _, o := range audit.Outcomes() {
		n := m.Totals.Outcomes[o]
		oc := OutcomeCount{Outcome: o, Instances: n}
		if o.Audited() && m.Totals.Audited > 0 {
			p := percent(n, m.Totals.Audited)
			oc.Percent = &p
			if o == audit.OutcomeNoncompliant {
				// One figure, said alike in both places.
				q := p
				m.Totals.PercentNoncompliant = &q
			}
		}
		m.Outcomes = append(m.Outcomes, oc)
	}
	// One rule for the targets a run never got to (see Totals).
	m.Totals.WithoutResult = max(0, m.Run.Targets-m.Totals.Instances)
	m.Problems.WithoutResult = m.Totals.WithoutResult
	m.Statuses = nameCounts(b.statuses)
	m.DetailedStatuses = nameCounts(b.detailed)
	m.Problems.Codes = nameCounts(b.probCodes)

	m.ErrorCodes = make([]ErrorCode, 0, len(b.codes))
	for _, acc := range b.codes {
		ec := acc.ec
		names := slices.Sorted(maps.Keys(acc.names))
		ec.AssociationNamesTotal = len(names)
		ec.AssociationNames = names[:min(len(names), MaxAssociationNames)]
		ec.ExampleInstanceIDs = nonNil(ec.ExampleInstanceIDs)
		m.ErrorCodes = append(m.ErrorCodes, ec)
	}
	slices.SortFunc(m.ErrorCodes, func(x, y ErrorCode) int {
		return cmp.Or(cmp.Compare(y.Associations, x.Associations), strings.Compare(x.Name, y.Name))
	})

	m.Associations = make([]Group, 0, len(b.groups))
	for _, g := range b.groups {
		g.SuccessRate = percent(g.Success, g.Total)
		m.Associations = append(m.Associations, *g)
	}
	sortGroups(m.Associations)
	m.Documents = make([]Group, 0, len(b.docs))
	for _, g := range b.docs {
		g.SuccessRate = percent(g.Success, g.Total)
		m.Documents = append(m.Documents, *g)
	}
	sortGroups(m.Documents)

	m.Locations = make([]Location, 0, len(b.locs))
	for _, l := range b.locs {
		m.Locations = append(m.Locations, *l)
	}
	slices.SortFunc(m.Locations, func(x, y Location) int {
		return cmp.Or(strings.Compare(x.AccountID, y.AccountID), strings.Compare(x.Region, y.Region))
	})

	m.LabelKeys = nonNil(slices.Sorted(maps.Keys(b.labelKeys)))
	m.Labels = b.labelBreakdowns()

	// Lists are never null in JSON, so that a dashboard can iterate blindly.
	m.WorstInstances = b.worst.list()
	m.Failures.Rows = b.failures.list()
	m.Stale.Rows = b.staleRow.list()
	m.Problems.Items = b.problems.list()
	m.NoAssociations.Instances = nonNil(m.NoAssociations.Instances)
	for i := range m.WorstInstances {
		m.WorstInstances[i].ErrorCodes = nonNil(m.WorstInstances[i].ErrorCodes)
	}

	if b.opts.StaleAfter.On() {
		b.cutoffs.settle(&m.Settings)
	}
	m.Headline = headline(m)
	m.Scope = scopeWords(m)
	m.About = about(m)
	return m
}

// labelBreakdowns finishes Model.Labels. An instance without a key counts
// under None for it (NoValue, apart from a value "(none)"), so that the instances of every key's values sum to
// Totals.Instances.
func (b *builder) labelBreakdowns() []LabelBreakdown {
	out := make([]LabelBreakdown, 0, len(b.m.LabelKeys))
	type keyed struct {
		k labelKey
		t *labelTally
	}
	noncompliant := outcomeIndex[audit.OutcomeNoncompliant]
	for _, k := range b.m.LabelKeys {
		var values []keyed
		// rest starts as the fleet and loses each value's instances: what
		// is left lacks the key.
		rest := b.fleet
		none := labelKey{key: k, value: "", noValue: true}
		for lk, t := range b.labels {
			if lk.key != k {
				continue
			}
			values = append(values, keyed{lk, t})
			rest.less(t)
		}
		if rest.instances > 0 {
			if i := slices.IndexFunc(values, func(v keyed) bool { return v.k.noValue }); i >= 0 {
				// Instances with an empty value are already under None.
				sum := *values[i].t
				sum.more(&rest)
				values[i].t = &sum
			} else {
				values = append(values, keyed{none, &rest})
			}
		}
		slices.SortFunc(values, func(x, y keyed) int {
			return cmp.Or(
				cmp.Compare(y.t.outcomes[noncompliant], x.t.outcomes[noncompliant]),
				cmp.Compare(y.t.associations.Failed, x.t.associations.Failed),
				strings.Compare(orNone(x.k.value), orNone(y.k.value)),
				compareBool(x.k.noValue, y.k.noValue),
			)
		})
		shown := make([]LabelValue, 0, min(len(values), MaxLabelValues))
		for _, v := range values[:min(len(values), MaxLabelValues)] {
			shown = append(shown, v.t.value(v.k))
		}
		out = append(out, LabelBreakdown{Key: k, ValuesTotal: len(values), Values: shown})
	}
	return out
}

// compareBool orders false before true.
func compareBool(x, y bool) int {
	switch {
	case x == y:
		return 0
	case y:
		return -1
	}
	return 1
}

func negate(c audit.Counts) audit.Counts {
	return audit.Counts{Total: -c.Total, Success: -c.Success, Failed: -c.Failed, Pending: -c.Pending, Other: -c.Other, Stale: -c.Stale}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// headline summarises the Model in one sentence, on the basis of every
// percentage: the audited instances.
func headline(m *Model) string {
	t := m.Totals
	if t.Instances == 0 && t.WithoutResult == 0 {
		return "No instances in the record"
	}
	var s string
	if t.Audited == 0 {
		// Of the list, where it is known: a stopped run's record holds
		// only what it got to.
		s = fmt.Sprintf("No instance audited of %s", thousands(t.Instances+t.WithoutResult))
	} else {
		s = fmt.Sprintf("%s of %s non-compliant (%s)",
			thousands(t.Outcomes[audit.OutcomeNoncompliant]), plural(t.Audited, "audited instance", "audited instances"),
			formatPercent(*t.PercentNoncompliant))
	}
	for _, p := range []struct {
		o    audit.Outcome
		text string
	}{
		{audit.OutcomePending, "pending"},
		{audit.OutcomeNotManaged, "not managed"},
		{audit.OutcomeError, "not audited (error)"},
		{audit.OutcomeInvalid, "invalid"},
	} {
		if n := t.Outcomes[p.o]; n > 0 {
			s += ", " + thousands(n) + " " + p.text
		}
	}
	if n := t.WithoutResult; n > 0 {
		s += ", " + thousands(n) + " without a result"
	}
	if m.Run.Interrupted {
		s += " (run interrupted)"
	}
	if sh := shardWords(m.Run.Shards); sh != "" {
		s += " (" + sh + " of the list)"
	}
	return s
}

// shardWords names the shards of a report of part of a list ("shard 0/2",
// "shards 0/3, 1/3"); "" for a whole list.
func shardWords(shards []string) string {
	switch len(shards) {
	case 0:
		return ""
	case 1:
		return "shard " + shards[0]
	}
	return "shards " + strings.Join(shards, ", ")
}

// partialShards is audit.PartialShards of the run's parts, none when its
// targets are unknown: a merge with a record that no run.json describes
// holds more than its described parts, and is no one shard's.
func partialShards(ri audit.RunInfo) []string {
	if ri.Targets == 0 {
		return nil
	}
	return audit.PartialShards(ri.Parts)
}

// targetsFrom says where the run's targets came from, for targetsWhere:
// "list", "discovery", or "both".
func targetsFrom(parts []audit.Part) string {
	var listed, found bool
	for _, p := range parts {
		if p.Discovered() {
			found = true
		} else {
			listed = true
		}
	}
	switch {
	case found && listed:
		return "both"
	case found:
		return "discovery"
	}
	return "list"
}

// targetsWhere is where the run's targets are, after their count: "in the
// list", "in shard 0/2 of the list", "discovered", and for a group of a
// split "of the list in this group".
func targetsWhere(r Run) string {
	if r.group {
		// A group's targets are its results: how many of the list's are
		// its own is not known, and "in the list" read as all of them.
		switch r.targetsFrom {
		case "discovery":
			return "discovered in this group"
		case "both":
			return "listed and discovered in this group"
		}
		return "of the list in this group"
	}
	switch r.targetsFrom {
	case "discovery":
		return "discovered"
	case "both":
		return "listed and discovered"
	}
	if sh := shardWords(r.Shards); sh != "" {
		return "in " + sh + " of the list"
	}
	return "in the list"
}

// scopeWords is Model.Scope.
func scopeWords(m *Model) string {
	r, n := m.Run, m.Totals.Instances
	if r.Targets == 0 && (r.targetsFrom != "discovery" || n > 0) {
		// Unknown targets (a merge of a record without run.json); a
		// discovery's 0 with no result is known: it found none.
		return plural(n, "instance", "instances") + " in the record"
	}
	s := plural(r.Targets, "target", "targets") + " " + targetsWhere(r)
	if n != r.Targets {
		s += ", " + thousands(n) + " with a result"
	}
	return s
}

// plural returns n and the singular or plural noun that goes with it.
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return thousands(n) + " " + many
}

// formatPercent writes a 0-100 percentage with up to two decimals: "3.07%".
// A share under 0.01 that is not none is "<0.01%", one over 99.99 that is
// not all ">99.99%": no failure shows as 0%, nor rounds up to 0.01%.
func formatPercent(f float64) string {
	switch {
	case f > 0 && f < 0.01:
		return "<0.01%"
	case f > 99.99 && f < 100:
		return ">99.99%"
	}
	return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64) + "%"
}

// thousands formats n with commas between groups of three digits.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
