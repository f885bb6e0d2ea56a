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
const ModelSchema = 1

// None is the visible placeholder for an empty grouping value: a Failed
// association with no ErrorCode, an empty Status, DetailedStatus or document
// Name, an instance problem with no code.
const None = "(none)"

// MinListRows is the least number of rows the Model keeps in each of its
// capped row lists (Failures, Stale, NoAssociations, Problems). The cap is
// max(Options.HTMLMaxRows, MinListRows), so that summary.json keeps a
// generous sample even when the HTML shows fewer.
const MinListRows = 1000

// MaxAssociationNames caps ErrorCode.AssociationNames.
const MaxAssociationNames = 100

// Model is the view model every format renders, and the content of
// summary.json: the contract for dashboards and for --template users. Field
// names in JSON are snake_case; every list is sorted so that the same record
// always gives the same Model, whatever order the instances were audited in.
// Percentages are 0-100, rounded to two decimals. Times are UTC; a time that
// is unknown is null. Capped lists carry the total count beside them.
//
// A Model is built by Build and must not be modified by a Writer.
type Model struct {
	// Schema is ModelSchema.
	Schema int `json:"schema"`
	// Headline is one sentence for a title or a chat message, such as
	// "37 of 1,204 audited instances non-compliant, 12 not managed".
	Headline string `json:"headline"`
	// Run is the metadata of the run (run.json).
	Run Run `json:"run"`
	// Settings are the report options the Model was built with.
	Settings Settings `json:"settings"`
	// Totals are fleet-wide counts.
	Totals Totals `json:"totals"`
	// Outcomes counts instances per outcome, one entry per audit.Outcomes()
	// in that order, zeros included.
	Outcomes []OutcomeCount `json:"outcomes"`
	// Statuses counts associations by Status (Success, Failed, Pending, ...),
	// by count descending then name. An empty Status is None.
	Statuses []NameCount `json:"statuses"`
	// DetailedStatuses counts associations by DetailedStatus, ordered like
	// Statuses.
	DetailedStatuses []NameCount `json:"detailed_statuses"`
	// ErrorCodes breaks down the Failed associations by ErrorCode, by
	// association count descending then code. Only Failed associations
	// count: the table explains failures, and its association counts sum to
	// the number of Failed associations. A Failed association with no
	// ErrorCode is under the code None. (An association with an ErrorCode
	// but another Status still shows its code in associations.csv.)
	ErrorCodes []ErrorCode `json:"error_codes"`
	// Associations groups associations by name (the AssociationName, or the
	// AssociationId when the name is empty) and document, by failed count
	// descending, then association, then document.
	Associations []Group `json:"associations"`
	// Documents groups associations by document Name, ordered like
	// Associations; Association is empty in these groups.
	Documents []Group `json:"documents"`
	// Locations counts instances per outcome for each account and region,
	// sorted by account then region.
	Locations []Location `json:"locations"`
	// WorstInstances are the Settings.Top instances with the most Failed
	// associations (at least one), by failed count descending then key.
	WorstInstances []Instance `json:"worst_instances"`
	// Failures are the Failed association rows in key order, then
	// AssociationId.
	Failures RowList `json:"failures"`
	// Stale are the stale association rows (see Options.StaleAfter), in the
	// same order, whatever their Status.
	Stale RowList `json:"stale"`
	// NoAssociations are the instances with outcome no_associations.
	NoAssociations InstanceList `json:"no_associations"`
	// Problems are the instances that got no verdict on their associations:
	// outcomes not_managed, error and invalid.
	Problems ProblemList `json:"problems"`
	// LabelKeys is the union of the label keys of every instance, sorted:
	// the extra columns of instances.csv.
	LabelKeys []string `json:"label_keys"`
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
	// Targets counts distinct targets, Duplicates the input lines collapsed
	// into them, Invalid the bad input lines, as the run counted them.
	Targets    int `json:"targets"`
	Duplicates int `json:"duplicates"`
	Invalid    int `json:"invalid"`
	// Options are the settings the run used, without secrets; never null.
	Options map[string]any `json:"options"`
	Stats   audit.Stats    `json:"stats"`
	// Error is why the run stopped early, if it did.
	Error string `json:"error"`
}

// Settings are the report options the Model was built with.
type Settings struct {
	// StaleAfter is Options.StaleAfter as a Go duration ("168h0m0s"), or
	// "off" when the check is off.
	StaleAfter string `json:"stale_after"`
	// StaleBefore is the cut-off: an ExecutionDate before it is stale. It is
	// null when the check is off or Run.StartedAt is unknown (then each
	// instance's AuditedAt is the reference).
	StaleBefore *time.Time `json:"stale_before"`
	// Top is the length of the top lists.
	Top int `json:"top"`
	// HTMLMaxRows is the cap on failure rows in the HTML report.
	HTMLMaxRows int `json:"html_max_rows"`
	// ListRows is the cap on each row list of the Model.
	ListRows int `json:"list_rows"`
}

// Totals are fleet-wide counts.
type Totals struct {
	// Instances counts every result, whatever its outcome.
	Instances int `json:"instances"`
	// Audited counts instances whose outcome is a verdict on their
	// associations (audit.Outcome.Audited: all but not_managed, error and
	// invalid).
	Audited int `json:"audited"`
	// Associations counts association rows.
	Associations int `json:"associations"`
	// Outcomes counts instances per outcome; every outcome is present.
	Outcomes map[audit.Outcome]int `json:"outcomes"`
	// PercentNoncompliant is noncompliant instances as a percentage of
	// Audited (0 when nothing was audited).
	PercentNoncompliant float64 `json:"percent_noncompliant"`
}

// OutcomeCount is the number of instances with one outcome.
type OutcomeCount struct {
	Outcome   audit.Outcome `json:"outcome"`
	Instances int           `json:"instances"`
	// Percent is of Totals.Instances.
	Percent float64 `json:"percent"`
}

// NameCount is a value and how many associations have it.
type NameCount struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// ErrorCode is one ErrorCode of Failed associations.
type ErrorCode struct {
	// Code is the ErrorCode, or None.
	Code string `json:"code"`
	// Associations counts Failed association rows with this code.
	Associations int `json:"associations"`
	// Instances counts the instances that have at least one of them.
	Instances int `json:"instances"`
	// AssociationNames are the distinct association names (AssociationName,
	// or AssociationId when the name is empty) involved, sorted, at most
	// MaxAssociationNames; AssociationNamesTotal is how many there are.
	AssociationNames      []string `json:"association_names"`
	AssociationNamesTotal int      `json:"association_names_total"`
	// ExampleInstanceIDs are the IDs of the first Settings.Top instances
	// with this code, in key order.
	ExampleInstanceIDs []string `json:"example_instance_ids"`
}

// Group tallies the associations of one association or document.
type Group struct {
	// Association is the AssociationName, or the AssociationId when the
	// name is empty; empty in Model.Documents.
	Association string `json:"association"`
	// Document is the document Name, or None.
	Document string `json:"document"`
	// Instances counts the instances that have this association or document.
	Instances int `json:"instances"`
	// Total counts association rows: Success + Failed + Pending + Other.
	Total   int `json:"total"`
	Success int `json:"success"`
	Failed  int `json:"failed"`
	Pending int `json:"pending"`
	// Other counts any other Status (including none).
	Other int `json:"other"`
	// Stale counts the stale rows among Total, whatever their Status.
	Stale int `json:"stale"`
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
	// Associations is the instance's number of association rows.
	Associations int `json:"associations"`
	Success      int `json:"success"`
	Failed       int `json:"failed"`
	Pending      int `json:"pending"`
	Other        int `json:"other"`
	Stale        int `json:"stale"`
	// ErrorCodes are the distinct ErrorCodes of its Failed associations
	// (None for a Failed one without a code), sorted.
	ErrorCodes []string `json:"error_codes"`
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
	AssociationID      string     `json:"association_id"`
	AssociationName    string     `json:"association_name"`
	AssociationVersion string     `json:"association_version"`
	Document           string     `json:"document"`
	DocumentVersion    string     `json:"document_version"`
	Status             string     `json:"status"`
	DetailedStatus     string     `json:"detailed_status"`
	ErrorCode          string     `json:"error_code"`
	ExecutionDate      *time.Time `json:"execution_date"`
	ExecutionSummary   string     `json:"execution_summary"`
	// OutputURL is the S3 output URL as the API gave it. It is untrusted
	// text: a renderer must not make it a link unless it is http(s).
	OutputURL string `json:"output_url"`
	// Stale reports whether the row is stale (see Options.StaleAfter).
	Stale bool `json:"stale"`
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
}

// ProblemList is a capped list of problems, in key order.
type ProblemList struct {
	Count int `json:"count"`
	// Codes counts problems by Code, by count descending then code.
	Codes []NameCount `json:"codes"`
	Items []Problem   `json:"items"`
}

// Build builds the Model by streaming once over opts.Records (in key order),
// applying the defaults of Options. Its memory grows with the number of
// distinct names, locations and label keys and with the capped lists, not
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
	return b.finish(), nil
}

type groupKey struct{ association, document string }

type locKey struct{ account, region string }

type codeAcc struct {
	ec    ErrorCode
	names map[string]bool
}

type builder struct {
	opts     Options
	listRows int
	// cutoff is the fixed stale cut-off; zero when per instance or off.
	cutoff time.Time
	m      *Model

	statuses  map[string]int
	detailed  map[string]int
	codes     map[string]*codeAcc
	groups    map[groupKey]*Group
	docs      map[string]*Group
	locs      map[locKey]*Location
	labelKeys map[string]bool
	probCodes map[string]int
}

func newBuilder(opts Options) *builder {
	b := &builder{
		opts:      opts,
		listRows:  max(opts.HTMLMaxRows, MinListRows),
		statuses:  map[string]int{},
		detailed:  map[string]int{},
		codes:     map[string]*codeAcc{},
		groups:    map[groupKey]*Group{},
		docs:      map[string]*Group{},
		locs:      map[locKey]*Location{},
		labelKeys: map[string]bool{},
		probCodes: map[string]int{},
	}
	ri := opts.Run
	b.m = &Model{
		Schema: ModelSchema,
		Run: Run{
			Version:     ri.Version,
			StartedAt:   utcPtr(ri.StartedAt),
			EndedAt:     utcPtr(ri.EndedAt),
			Complete:    ri.Complete,
			Interrupted: ri.Interrupted,
			Resumed:     ri.Resumed,
			Targets:     ri.Targets,
			Duplicates:  ri.Duplicates,
			Invalid:     ri.Invalid,
			Options:     ri.Options,
			Stats:       ri.Stats,
			Error:       ri.Error,
		},
		Settings: Settings{
			StaleAfter:  opts.StaleAfter.String(),
			Top:         opts.Top,
			HTMLMaxRows: opts.HTMLMaxRows,
			ListRows:    max(opts.HTMLMaxRows, MinListRows),
		},
		Totals: Totals{Outcomes: outcomeMap()},
	}
	if b.m.Run.Options == nil {
		b.m.Run.Options = map[string]any{}
	}
	switch {
	case opts.StaleAfter < 0:
		b.m.Settings.StaleAfter = "off"
	case !ri.StartedAt.IsZero():
		b.cutoff = ri.StartedAt.Add(-opts.StaleAfter).UTC()
		b.m.Settings.StaleBefore = &b.cutoff
	}
	return b
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

// isStale reports whether an association that r reports is stale.
func (b *builder) isStale(r audit.Result, a audit.Association) bool {
	if b.opts.StaleAfter < 0 {
		return false
	}
	if a.ExecutionDate == nil || a.ExecutionDate.IsZero() {
		return true
	}
	cutoff := b.cutoff
	if cutoff.IsZero() {
		if r.AuditedAt.IsZero() {
			// No reference time at all: an execution date proves nothing
			// old, so only a missing date counts.
			return false
		}
		cutoff = r.AuditedAt.Add(-b.opts.StaleAfter)
	}
	return a.ExecutionDate.Before(cutoff)
}

// assocName is the name an association is grouped by.
func assocName(a audit.Association) string {
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

// sortedAssociations returns r's associations sorted by AssociationId (stable
// for equal IDs), the order of every per-association output.
func sortedAssociations(r audit.Result) []audit.Association {
	as := slices.Clone(r.Associations)
	slices.SortStableFunc(as, func(x, y audit.Association) int {
		return strings.Compare(x.AssociationID, y.AssociationID)
	})
	return as
}

func newRow(r audit.Result, a audit.Association, stale bool) Row {
	var when *time.Time
	if a.ExecutionDate != nil && !a.ExecutionDate.IsZero() {
		t := a.ExecutionDate.UTC()
		when = &t
	}
	return Row{
		AccountID:          r.AccountID,
		Region:             r.Region,
		InstanceID:         r.InstanceID,
		Labels:             cloneLabels(r.Labels),
		AssociationID:      a.AssociationID,
		AssociationName:    a.AssociationName,
		AssociationVersion: a.AssociationVersion,
		Document:           a.Name,
		DocumentVersion:    a.DocumentVersion,
		Status:             a.Status,
		DetailedStatus:     a.DetailedStatus,
		ErrorCode:          a.ErrorCode,
		ExecutionDate:      when,
		ExecutionSummary:   a.ExecutionSummary,
		OutputURL:          a.URL(),
		Stale:              stale,
	}
}

func tally(g *Group, a audit.Association, stale bool) {
	g.Total++
	switch a.Status {
	case audit.StatusSuccess:
		g.Success++
	case audit.StatusFailed:
		g.Failed++
	case audit.StatusPending:
		g.Pending++
	default:
		g.Other++
	}
	if stale {
		g.Stale++
	}
}

func (b *builder) add(r audit.Result) {
	m := b.m
	m.Totals.Instances++
	m.Totals.Outcomes[r.Outcome]++
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
		if len(m.NoAssociations.Instances) < b.listRows {
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
		m.Problems.Count++
		b.probCodes[p.Code]++
		if len(m.Problems.Items) < b.listRows {
			m.Problems.Items = append(m.Problems.Items, p)
		}
	}

	inst := Instance{
		AccountID: r.AccountID, Region: r.Region, InstanceID: r.InstanceID,
		Outcome: r.Outcome,
	}
	var codes []string
	seenGroup := map[groupKey]bool{}
	seenDoc := map[string]bool{}
	for _, a := range sortedAssociations(r) {
		stale := b.isStale(r, a)
		m.Totals.Associations++
		b.statuses[orNone(a.Status)]++
		b.detailed[orNone(a.DetailedStatus)]++

		inst.Associations++
		switch a.Status {
		case audit.StatusSuccess:
			inst.Success++
		case audit.StatusFailed:
			inst.Failed++
		case audit.StatusPending:
			inst.Pending++
		default:
			inst.Other++
		}

		gk := groupKey{assocName(a), orNone(a.Name)}
		g := b.groups[gk]
		if g == nil {
			g = &Group{Association: gk.association, Document: gk.document}
			b.groups[gk] = g
		}
		if !seenGroup[gk] {
			seenGroup[gk] = true
			g.Instances++
		}
		tally(g, a, stale)
		d := b.docs[gk.document]
		if d == nil {
			d = &Group{Document: gk.document}
			b.docs[gk.document] = d
		}
		if !seenDoc[gk.document] {
			seenDoc[gk.document] = true
			d.Instances++
		}
		tally(d, a, stale)

		if stale {
			inst.Stale++
			m.Stale.Count++
			if len(m.Stale.Rows) < b.listRows {
				m.Stale.Rows = append(m.Stale.Rows, newRow(r, a, true))
			}
		}
		if a.Status != audit.StatusFailed {
			continue
		}
		m.Failures.Count++
		if len(m.Failures.Rows) < b.listRows {
			m.Failures.Rows = append(m.Failures.Rows, newRow(r, a, stale))
		}
		code := orNone(a.ErrorCode)
		acc := b.codes[code]
		if acc == nil {
			acc = &codeAcc{ec: ErrorCode{Code: code}, names: map[string]bool{}}
			b.codes[code] = acc
		}
		acc.ec.Associations++
		acc.names[assocName(a)] = true
		if !slices.Contains(codes, code) {
			codes = append(codes, code)
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
		b.addWorst(inst)
	}
}

// addWorst keeps WorstInstances as the Top instances with the most failures.
// Results arrive in key order, so an instance goes after those with as many
// failures: ties stay in key order.
func (b *builder) addWorst(inst Instance) {
	w := b.m.WorstInstances
	i, _ := slices.BinarySearchFunc(w, inst.Failed, func(e Instance, failed int) int {
		// Descending by Failed; equal counts sort before the new one.
		if e.Failed >= failed {
			return -1
		}
		return 1
	})
	if i >= b.opts.Top {
		return
	}
	w = slices.Insert(w, i, inst)
	if len(w) > b.opts.Top {
		w = w[:b.opts.Top]
	}
	b.m.WorstInstances = w
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
			strings.Compare(x.Association, y.Association),
			strings.Compare(x.Document, y.Document),
		)
	})
}

// percent returns n/of as a percentage rounded to two decimals, 0 if of is 0.
func percent(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return math.Round(float64(n)*10000/float64(of)) / 100
}

func (b *builder) finish() *Model {
	m := b.m
	for _, o := range audit.Outcomes() {
		n := m.Totals.Outcomes[o]
		m.Outcomes = append(m.Outcomes, OutcomeCount{Outcome: o, Instances: n, Percent: percent(n, m.Totals.Instances)})
	}
	m.Totals.PercentNoncompliant = percent(m.Totals.Outcomes[audit.OutcomeNoncompliant], m.Totals.Audited)
	m.Statuses = nameCounts(b.statuses)
	m.DetailedStatuses = nameCounts(b.detailed)
	m.Problems.Codes = nameCounts(b.probCodes)

	m.ErrorCodes = make([]ErrorCode, 0, len(b.codes))
	for _, acc := range b.codes {
		ec := acc.ec
		names := slices.Sorted(maps.Keys(acc.names))
		ec.AssociationNamesTotal = len(names)
		ec.AssociationNames = names[:min(len(names), MaxAssociationNames)]
		m.ErrorCodes = append(m.ErrorCodes, ec)
	}
	slices.SortFunc(m.ErrorCodes, func(x, y ErrorCode) int {
		return cmp.Or(cmp.Compare(y.Associations, x.Associations), strings.Compare(x.Code, y.Code))
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

	// Lists are never null in JSON, so that a dashboard can iterate blindly.
	m.WorstInstances = nonNil(m.WorstInstances)
	m.Failures.Rows = nonNil(m.Failures.Rows)
	m.Stale.Rows = nonNil(m.Stale.Rows)
	m.NoAssociations.Instances = nonNil(m.NoAssociations.Instances)
	m.Problems.Items = nonNil(m.Problems.Items)
	for i := range m.WorstInstances {
		m.WorstInstances[i].ErrorCodes = nonNil(m.WorstInstances[i].ErrorCodes)
	}
	for i := range m.ErrorCodes {
		m.ErrorCodes[i].ExampleInstanceIDs = nonNil(m.ErrorCodes[i].ExampleInstanceIDs)
	}

	m.Headline = headline(m)
	return m
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// headline summarises the Model in one sentence.
func headline(m *Model) string {
	t := m.Totals
	if t.Instances == 0 {
		return "No instances in the record"
	}
	var s string
	if t.Audited == 0 {
		s = fmt.Sprintf("No instance audited of %s", thousands(t.Instances))
	} else {
		s = fmt.Sprintf("%s of %s audited instances non-compliant",
			thousands(t.Outcomes[audit.OutcomeNoncompliant]), thousands(t.Audited))
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
	if m.Run.Interrupted {
		s += " (run interrupted)"
	}
	return s
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
