// Package audit reads a fleet of instance IDs, asks SSM for every page of
// every instance's association status, and records one result per instance.
//
// It owns the domain: the Target to audit, the Association status row as the
// API returns it, the per-instance Result and its Outcome, and the record
// (results.jsonl and run.json) that every report is rendered from.
package audit

import (
	"strconv"
	"time"
)

// Schema is the version of the record format written by this package, in the
// "schema" field of every results.jsonl line and of run.json. It changes only
// when a field changes meaning or is removed; new fields do not change it.
const Schema = 1

// Outcome is the verdict on one instance.
type Outcome string

// The outcomes, from best to worst for a compliance owner.
const (
	// OutcomeCompliant: every association's latest execution succeeded.
	OutcomeCompliant Outcome = "compliant"
	// OutcomePending: none failed, and at least one is Pending.
	OutcomePending Outcome = "pending"
	// OutcomeNoncompliant: at least one association's status is Failed.
	OutcomeNoncompliant Outcome = "noncompliant"
	// OutcomeNoAssociations: the instance is managed but has no associations.
	OutcomeNoAssociations Outcome = "no_associations"
	// OutcomeNotManaged: SSM answered InvalidInstanceId (not a managed node
	// in that account and region, or terminated).
	OutcomeNotManaged Outcome = "not_managed"
	// OutcomeError: the instance could not be audited; Result.Error says why.
	OutcomeError Outcome = "error"
	// OutcomeInvalid: the input line was not an instance ID; no call was made.
	OutcomeInvalid Outcome = "invalid"
)

// Outcomes lists every Outcome in a stable order, the order reports use.
func Outcomes() []Outcome {
	return []Outcome{
		OutcomeCompliant, OutcomeNoncompliant, OutcomePending, OutcomeNoAssociations,
		OutcomeNotManaged, OutcomeError, OutcomeInvalid,
	}
}

// Audited reports whether the outcome is a verdict on the instance's
// associations, as opposed to an instance SSM does not manage (not_managed),
// one that could not be audited (error), or a line never sent (invalid).
func (o Outcome) Audited() bool {
	switch o {
	case OutcomeCompliant, OutcomeNoncompliant, OutcomePending, OutcomeNoAssociations:
		return true
	}
	return false
}

// Status values of an association as SSM reports them (AssociationStatusName).
const (
	StatusSuccess = "Success"
	StatusFailed  = "Failed"
	StatusPending = "Pending"
)

// Target is one instance to audit.
type Target struct {
	// InstanceID is the managed node's ID (i-... or mi-...). For an invalid
	// target it holds the raw value that was read.
	InstanceID string
	// Region is the AWS Region to ask; empty means the run's default region.
	Region string
	// AccountID is the account the instance belongs to, as the input said;
	// empty when unknown.
	AccountID string
	// Labels are the extra columns of a CSV instance list (owner, env, ...),
	// carried unchanged into the record and the reports.
	Labels map[string]string
	// Source is where the target was read, as FILE:LINE ("stdin:LINE" for
	// standard input), or the name of another source (Fleet.AddID).
	Source string
	// Problem is set when the target is invalid: why the value is not an
	// instance ID. An invalid target is recorded, never sent to SSM.
	Problem string
	// Info is what DescribeInstanceInformation said about the instance,
	// when it was asked (discovery, or a lookup of listed instances); nil
	// otherwise.
	Info *InstanceInfo
}

// InstanceInfo is what DescribeInstanceInformation says about a managed
// node that explains its associations: its platform, its agent, whether it
// is connected, and the overview of its associations. Field names are the
// API's; absent fields are empty.
type InstanceInfo struct {
	ComputerName                           string     `json:"ComputerName,omitempty"`
	PlatformType                           string     `json:"PlatformType,omitempty"`
	PlatformName                           string     `json:"PlatformName,omitempty"`
	PlatformVersion                        string     `json:"PlatformVersion,omitempty"`
	AgentVersion                           string     `json:"AgentVersion,omitempty"`
	IsLatestVersion                        *bool      `json:"IsLatestVersion,omitempty"`
	PingStatus                             string     `json:"PingStatus,omitempty"`
	LastPingDateTime                       *time.Time `json:"LastPingDateTime,omitempty"`
	ResourceType                           string     `json:"ResourceType,omitempty"`
	IPAddress                              string     `json:"IPAddress,omitempty"`
	AssociationStatus                      string     `json:"AssociationStatus,omitempty"`
	LastAssociationExecutionDate           *time.Time `json:"LastAssociationExecutionDate,omitempty"`
	LastSuccessfulAssociationExecutionDate *time.Time `json:"LastSuccessfulAssociationExecutionDate,omitempty"`
	// AssociationOverview is the API's InstanceAggregatedAssociationOverview.
	AssociationOverview *AssociationOverview `json:"AssociationOverview,omitempty"`
}

// AssociationOverview mirrors the API's InstanceAggregatedAssociationOverview:
// the instance's associations counted by status.
type AssociationOverview struct {
	DetailedStatus                           string         `json:"DetailedStatus,omitempty"`
	InstanceAssociationStatusAggregatedCount map[string]int `json:"InstanceAssociationStatusAggregatedCount,omitempty"`
}

// AllSucceeded reports whether the overview counts at least one association
// and every one of them Success.
func (o *AssociationOverview) AllSucceeded() bool {
	if o == nil || len(o.InstanceAssociationStatusAggregatedCount) == 0 {
		return false
	}
	n := 0
	for status, c := range o.InstanceAssociationStatusAggregatedCount {
		if status != StatusSuccess && c > 0 {
			return false
		}
		n += c
	}
	return n > 0
}

// Connected reports whether the node's agent is in touch with SSM: false
// for ConnectionLost or Inactive, true otherwise (unknown included).
func (i *InstanceInfo) Connected() bool {
	return i == nil || i.PingStatus == "" || i.PingStatus == "Online"
}

// OldAgent reports whether SSM says the node's agent is not the latest:
// IsLatestVersion is false. It is false on a Windows node (PlatformType
// "Windows") whatever IsLatestVersion says, as AWS documents that the field
// "doesn't indicate whether or not the latest version is installed on
// Windows managed nodes".
func (i *InstanceInfo) OldAgent() bool {
	return i != nil && i.PlatformType != "Windows" && i.IsLatestVersion != nil && !*i.IsLatestVersion
}

// Key identifies a target within a fleet: the same instance in two regions or
// accounts is two targets.
type Key struct {
	AccountID  string
	Region     string
	InstanceID string
}

// Key returns the target's identity.
func (t Target) Key() Key { return Key{t.AccountID, t.Region, t.InstanceID} }

// Less orders keys by account, region, then instance: the order of every
// sorted output.
func (k Key) Less(o Key) bool {
	if k.AccountID != o.AccountID {
		return k.AccountID < o.AccountID
	}
	if k.Region != o.Region {
		return k.Region < o.Region
	}
	return k.InstanceID < o.InstanceID
}

// Association is one row of DescribeInstanceAssociationsStatus
// (InstanceAssociationStatusInfo), with the API's own field names so that the
// record reads like the AWS CLI's output. Absent fields are empty.
type Association struct {
	AssociationID      string     `json:"AssociationId"`
	Name               string     `json:"Name,omitempty"`
	AssociationName    string     `json:"AssociationName,omitempty"`
	AssociationVersion string     `json:"AssociationVersion,omitempty"`
	DocumentVersion    string     `json:"DocumentVersion,omitempty"`
	InstanceID         string     `json:"InstanceId,omitempty"`
	ExecutionDate      *time.Time `json:"ExecutionDate,omitempty"`
	Status             string     `json:"Status,omitempty"`
	DetailedStatus     string     `json:"DetailedStatus,omitempty"`
	ExecutionSummary   string     `json:"ExecutionSummary,omitempty"`
	ErrorCode          string     `json:"ErrorCode,omitempty"`
	OutputURL          *OutputURL `json:"OutputUrl,omitempty"`
	// FirstSeenFailing is not the API's: for a Failed association of a run
	// with a baseline, when an audit first saw it failing, carried forward
	// run after run (see Baseline.Carry).
	FirstSeenFailing *time.Time `json:"first_seen_failing,omitempty"`
}

// OutputURL mirrors the API's InstanceAssociationOutputUrl.
type OutputURL struct {
	S3OutputURL *S3OutputURL `json:"S3OutputUrl,omitempty"`
}

// S3OutputURL mirrors the API's S3OutputUrl.
type S3OutputURL struct {
	OutputURL string `json:"OutputUrl,omitempty"`
}

// URL returns the association's S3 output URL as it may be shown and
// shared, or "" when there is none: without a login before its host and
// without the query parameters that sign a presigned URL (SigV4's
// X-Amz-Credential, X-Amz-Security-Token, X-Amz-Signature and the others
// of its signature, SigV2's AWSAccessKeyId, Signature and Expires), the
// rest as the API gave it, a '#' in its key included. Every report shows
// it, and links to it, through this method; EncodeResult records it.
func (a Association) URL() string {
	if a.OutputURL == nil || a.OutputURL.S3OutputURL == nil {
		return ""
	}
	return withoutCredentials(a.OutputURL.S3OutputURL.OutputURL)
}

// Error says why an instance ended in OutcomeError, OutcomeNotManaged or
// OutcomeInvalid.
type Error struct {
	// Code is the API's error code (smithy.APIError.ErrorCode), or one of
	// this package's codes: PaginationLoop, Timeout, Canceled, Transport,
	// Invalid.
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Result is the audit of one instance: one line of results.jsonl.
type Result struct {
	Schema     int               `json:"schema"`
	AccountID  string            `json:"account_id,omitempty"`
	Region     string            `json:"region"`
	InstanceID string            `json:"instance_id"`
	Labels     map[string]string `json:"labels,omitempty"`
	Outcome    Outcome           `json:"outcome"`
	Error      *Error            `json:"error,omitempty"`
	// Source is where the target was read (FILE:LINE).
	Source string `json:"source,omitempty"`
	// Pages is how many pages the API returned for this instance.
	Pages int `json:"pages"`
	// Calls counts the HTTP attempts made for this instance, retries included.
	Calls int `json:"calls,omitempty"`
	// AuditedAt is when the last page arrived.
	AuditedAt time.Time `json:"audited_at"`
	// AttemptStartedAt is when the attempt of the run that read the
	// instance started (Config.Started), which its associations are
	// judged stale from wherever the result goes: a resume's record, or a
	// merge of shards that started apart. Zero in a record written before
	// it was kept.
	AttemptStartedAt time.Time     `json:"attempt_started_at,omitzero"`
	Associations     []Association `json:"associations"`
	// Info is what DescribeInstanceInformation said about the instance, when
	// it was asked; nil otherwise.
	Info *InstanceInfo `json:"info,omitempty"`
	// Detail says where the verdict comes from: "" for every page of
	// DescribeInstanceAssociationsStatus; DetailOverview for the
	// association overview of DescribeInstanceInformation (triage), with
	// Associations empty and Info.AssociationOverview holding the counts.
	Detail string `json:"detail,omitempty"`
	// CarriedFailing keeps the baseline's failures that this result gives
	// no verdict on, and when each was first seen failing (see
	// Baseline.Carry): those of an instance in error or not managed, which
	// says nothing of its failures, of one now Pending, and for one run of
	// one whose association is missing; the run after this one still knows
	// since when they fail.
	CarriedFailing []CarriedFailure `json:"carried_failing,omitempty"`
}

// CarriedFailure is an association's first_seen_failing, carried through a
// run in which its instance ended in error.
type CarriedFailure struct {
	AssociationID    string    `json:"association_id"`
	FirstSeenFailing time.Time `json:"first_seen_failing"`
	// ErrorCode is the failure's error code when it was last seen Failed,
	// so that its resolution can say what was fixed.
	ErrorCode string `json:"error_code,omitempty"`
	// Absent says it is carried because its association was missing from
	// the instance, audited: it is carried for that one run, in case the
	// association is put back with its ID, and dropped if it is missing
	// again, so that a deleted association's failure is not kept for ever.
	Absent bool `json:"absent,omitempty"`
	// Unreported says no comparison has reported it yet: it was first
	// seen failing in a run in error (not compared), and every run since
	// was in error, did not manage the instance, or found it Pending. Its
	// next Failed in a compared run is a new failure, first seen then. An
	// instance in error keeps it here even while its row shows Failed, so
	// that the mark is not lost.
	Unreported bool `json:"unreported,omitempty"`
}

// DetailOverview is Result.Detail for an instance summarised from its
// association overview instead of its associations' detail.
const DetailOverview = "overview"

// Key returns the result's identity, the same as its Target's.
func (r Result) Key() Key { return Key{r.AccountID, r.Region, r.InstanceID} }

// Counts tallies associations by Status, and the stale ones among them.
type Counts struct {
	// Total counts every association: Success + Failed + Pending + Other.
	Total   int `json:"total"`
	Success int `json:"success"`
	Failed  int `json:"failed"`
	Pending int `json:"pending"`
	// Other counts any other Status, an empty one included.
	Other int `json:"other"`
	// Stale counts the stale associations among Total, whatever their
	// Status (see StaleAfter); 0 when counted without a stale rule.
	Stale int `json:"stale"`
}

// Add counts one association, and counts it stale too when stale is true.
// It is the one place that sorts a Status into the fields of Counts.
func (c *Counts) Add(a Association, stale bool) {
	c.Total++
	switch a.Status {
	case StatusSuccess:
		c.Success++
	case StatusFailed:
		c.Failed++
	case StatusPending:
		c.Pending++
	default:
		c.Other++
	}
	if stale {
		c.Stale++
	}
}

// Merge adds the counts of o to c.
func (c *Counts) Merge(o Counts) {
	c.Total += o.Total
	c.Success += o.Success
	c.Failed += o.Failed
	c.Pending += o.Pending
	c.Other += o.Other
	c.Stale += o.Stale
}

// Count tallies the associations of r by Status; Stale stays 0 (see
// CountStale).
func (r Result) Count() Counts { return r.CountStale(0, time.Time{}) }

// CountStale tallies the associations of r by Status, and counts as Stale
// those that after finds stale as seen from ref (see StaleAfter.Stale).
//
// A result summarised from its association overview (Detail
// DetailOverview) has no associations: its counts are the overview's, and
// none of them is counted stale: triage summarises only nodes whose newest
// success is recent, and the overview says nothing of the others' dates.
func (r Result) CountStale(after StaleAfter, ref time.Time) Counts {
	var c Counts
	if counts, ok := r.OverviewCounts(); ok {
		for status, n := range counts {
			for range n {
				c.Add(Association{Status: status}, false)
			}
		}
		return c
	}
	for _, a := range r.Associations {
		c.Add(a, after.Stale(a, ref))
	}
	return c
}

// OverviewCounts returns the counts by Status that stand for r's
// associations when r is summarised from its association overview (Detail
// DetailOverview, with the overview at hand), and ok true: r then has no
// rows, and every count of its associations is of these counts (as
// CountStale's; a count below 1 counts none). It returns nil and false for
// a result whose associations were fetched, and for one summarised without
// an overview (no_associations: SSM showed none). The map is the record's
// own: not to be modified.
func (r Result) OverviewCounts() (counts map[string]int, ok bool) {
	if r.Detail != DetailOverview || r.Info == nil || r.Info.AssociationOverview == nil {
		return nil, false
	}
	return r.Info.AssociationOverview.InstanceAssociationStatusAggregatedCount, true
}

// Partial reports whether the audit of r's instance stopped partway
// (OutcomeError: PaginationLoop, a timeout, an error on a later page), so
// that r.Associations holds only the rows of the pages that arrived before
// it stopped, possibly none: not the instance's whole list, and no verdict.
// Reports keep such rows out of every count and mark them partial.
func (r Result) Partial() bool { return r.Outcome == OutcomeError }

// StaleAfter is the rule that makes an association stale: its latest
// execution is older than this age, or it never ran. The zero value (as any
// age of zero or less) turns the check off: nothing is stale. It is the one
// meaning of "stale after" in every layer: the CLI's --stale-after 0 is this
// zero value.
type StaleAfter time.Duration

// DefaultStaleAfter is the age the CLI uses when none is given: a week.
const DefaultStaleAfter = StaleAfter(7 * 24 * time.Hour)

// On reports whether the check is on.
func (s StaleAfter) On() bool { return s > 0 }

// Cutoff returns the time before which an execution is stale, as seen from
// ref (the start of the attempt that read the instance, see
// RunInfo.AttemptStarts): ref less the age. It is the zero time when the
// check is off or ref is zero.
func (s StaleAfter) Cutoff(ref time.Time) time.Time {
	if !s.On() || ref.IsZero() {
		return time.Time{}
	}
	return ref.Add(-time.Duration(s)).UTC()
}

// Stale reports whether a is stale as seen from ref. With the check on, an
// association with no ExecutionDate is stale (nothing shows that it ran),
// and one that ran before Cutoff(ref) is stale; with a zero ref no date is
// old, so only a missing one is stale. With the check off nothing is.
func (s StaleAfter) Stale(a Association, ref time.Time) bool {
	if !s.On() {
		return false
	}
	if a.ExecutionDate == nil || a.ExecutionDate.IsZero() {
		return true
	}
	cutoff := s.Cutoff(ref)
	return !cutoff.IsZero() && a.ExecutionDate.Before(cutoff)
}

// String says the age in words: "off", "7 days", "1 day", "36 hours",
// "1 hour", or a Go duration ("90m0s" is "1h30m0s") when it is not a whole
// number of hours.
func (s StaleAfter) String() string {
	d := time.Duration(s)
	switch {
	case !s.On():
		return "off"
	case d%(24*time.Hour) == 0:
		return plural(int64(d/(24*time.Hour)), "day")
	case d%time.Hour == 0:
		return plural(int64(d/time.Hour), "hour")
	}
	return d.String()
}

func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.FormatInt(n, 10) + " " + unit + "s"
}

// Judge returns the outcome that a complete list of associations implies:
// noncompliant if any Failed, pending if any Pending, no_associations if
// none, compliant otherwise. A status other than these three (a value SSM may
// add later) counts as not yet succeeded: pending.
func Judge(assocs []Association) Outcome {
	if len(assocs) == 0 {
		return OutcomeNoAssociations
	}
	out := OutcomeCompliant
	for _, a := range assocs {
		switch a.Status {
		case StatusFailed:
			return OutcomeNoncompliant
		case StatusSuccess:
		default:
			out = OutcomePending
		}
	}
	return out
}
