package report

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/internal/atomicfile"
)

// ChangesCSV is the file FormatCSV writes when there is a baseline.
const ChangesCSV = "changes.csv"

// Changes is what changed since a baseline run (Options.Baseline).
type Changes struct {
	// Since is when the baseline run started; null when unknown.
	Since *time.Time `json:"since"`
	// Baseline is the record compared with.
	Baseline string `json:"baseline"`
	// Summary says it in a few words: "3 new failures, 12 resolved,
	// compared with the run of 2026-11-23 06:00:00 UTC".
	Summary string `json:"summary"`
	// Brief says it in fewer words, for a mail's subject: "3 new
	// failures, 12 resolved", with the instances not compared (see
	// ChangeBrief). It is not written to summary.json.
	Brief string `json:"-"`
	// In says where the reports written with it hold every change, for
	// report.html: "changes.csv and the Changes sheet of report.xlsx",
	// either alone, or "" when its formats write neither (see changesIn).
	// It is not written to summary.json.
	In string `json:"-"`
	// Counts counts the changes of each kind; every kind is present.
	Counts map[audit.ChangeKind]int `json:"counts"`
	// NotCompared counts the instances left out of the comparison, by
	// why (see audit.NotCompared).
	NotCompared audit.NotCompared `json:"not_compared"`
	// ErrorCodeChanged counts the still_failing changes whose error code
	// is not the one they failed with then.
	ErrorCodeChanged int `json:"error_code_changed"`
	// Count is the number of changes; Rows the first Settings.ListRows of
	// them, in the order of audit.ChangeKinds (new failures first), then in
	// key order.
	Count int         `json:"count"`
	Rows  []ChangeRow `json:"rows"`
}

// ChangeRow is one change (see audit.Change).
type ChangeRow struct {
	Kind       audit.ChangeKind  `json:"kind"`
	AccountID  string            `json:"account_id"`
	Region     string            `json:"region"`
	InstanceID string            `json:"instance_id"`
	Labels     map[string]string `json:"labels"`
	// Association names the association as the reports do; empty for an
	// instance change. AssociationID and Document are the API's.
	Association      string     `json:"association"`
	AssociationID    string     `json:"association_id"`
	Document         string     `json:"document"`
	Before           string     `json:"before"`
	After            string     `json:"after"`
	ErrorCode        string     `json:"error_code"`
	FirstSeenFailing *time.Time `json:"first_seen_failing"`
	// ErrorCodeBefore is, for still_failing, the code it failed with then.
	ErrorCodeBefore string `json:"error_code_before"`
}

func changeRow(c audit.Change) ChangeRow {
	r := ChangeRow{
		Kind: c.Kind, AccountID: c.AccountID, Region: c.Region, InstanceID: c.InstanceID, Labels: cloneLabels(c.Labels),
		AssociationID: c.AssociationID, Document: c.Document, Before: c.Before, After: c.After, ErrorCode: c.ErrorCode,
		FirstSeenFailing: c.FirstSeenFailing, ErrorCodeBefore: c.ErrorCodeBefore,
	}
	if c.AssociationID != "" {
		r.Association = associationName(audit.Association{AssociationID: c.AssociationID, AssociationName: c.AssociationName, Name: c.Document})
	}
	return r
}

// buildChanges compares the record with the baseline and keeps the counts
// and the first rows of each kind; it adds the label keys of every change
// to labelKeys, those of an instance gone included, which no instance of
// the record may have.
func buildChanges(ctx context.Context, opts Options, listRows int, labelKeys map[string]bool) (*Changes, error) {
	b := opts.Baseline
	ch := &Changes{Baseline: b.Path, Since: utcPtr(b.At)}
	byKind := map[audit.ChangeKind][]ChangeRow{}
	res, err := audit.Compare(b.Records(), opts.Records, func(c audit.Change) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		for k := range c.Labels {
			labelKeys[k] = true
		}
		if len(byKind[c.Kind]) < listRows {
			byKind[c.Kind] = append(byKind[c.Kind], changeRow(c))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("comparing with the baseline: %w", err)
	}
	ch.Counts, ch.NotCompared, ch.ErrorCodeChanged = res.Counts, res.NotCompared, res.ErrorCodeChanged
	for _, k := range audit.ChangeKinds() {
		ch.Count += res.Counts[k]
		for _, r := range byKind[k] {
			if len(ch.Rows) < listRows {
				ch.Rows = append(ch.Rows, r)
			}
		}
	}
	ch.Rows = nonNil(ch.Rows)
	ch.Summary = ChangeSummary(res, ch.Since, opts.Records.Partial || b.Records().Partial, BaselineLater(ch.Since, opts.Run))
	// The run's own partiality a subject says with "PARTIAL: ".
	ch.Brief = ChangeBrief(res, b.Records().Partial)
	ch.In = changesIn(opts.Formats)
	return ch, nil
}

// changesIn is Changes.In for the reports of formats (all when none).
func changesIn(formats []Format) string {
	if len(formats) == 0 {
		formats = Formats()
	}
	var in []string
	if slices.Contains(formats, FormatCSV) {
		in = append(in, ChangesCSV)
	}
	if slices.Contains(formats, FormatXLSX) {
		in = append(in, "the Changes sheet of "+XLSXFile)
	}
	return strings.Join(in, " and ")
}

// ChangeSummary says what got worse and what got better against the
// baseline run that started at since (nil: unknown), in a few words, every kind of change
// there was named, and the instances that were not compared; partial when
// one of the runs did not audit all its targets, so that only the
// instances both audited were compared; later when the baseline started
// after the run compared with it (BaselineLater), so that what reads as
// new is what the later run no longer had. Every report, the mail and the
// closing summary say it in these words.
func ChangeSummary(res audit.Comparison, since *time.Time, partial, later bool) string {
	c := res.Counts
	parts := changeHead(c)
	if n := c[audit.StillFailing]; n > 0 {
		s := fmt.Sprintf("%s still failing", thousands(n))
		if m := res.ErrorCodeChanged; m > 0 {
			s += fmt.Sprintf(" (%s with another error code)", thousands(m))
		}
		parts = append(parts, s)
	}
	if n := c[audit.NewInstance]; n > 0 {
		parts = append(parts, plural(n, "new instance", "new instances"))
	}
	if n := c[audit.VanishedInstance]; n > 0 {
		parts = append(parts, plural(n, "instance gone", "instances gone"))
	}
	if n := c[audit.NewAssociation]; n > 0 {
		parts = append(parts, plural(n, "new association", "new associations"))
	}
	if n := c[audit.VanishedAssociation]; n > 0 {
		parts = append(parts, plural(n, "association gone", "associations gone"))
	}
	if n := res.NotCompared.Error; n > 0 {
		// Never an unqualified "0 new failures" while some were left out.
		parts = append(parts, fmt.Sprintf("%s not compared (error in one run)", thousands(n)))
	}
	if n := res.NotCompared.OtherShard; n > 0 {
		parts = append(parts, fmt.Sprintf("%s not compared (another shard)", thousands(n)))
	}
	s := strings.Join(parts, ", ")
	// Not "40 still failing since DATE": read so, a failure first seen
	// months ago seemed to fail since the baseline's run.
	if since != nil {
		s += ", compared with the run of " + DateText(*since)
		if later {
			s += ", which started after this run"
		}
	} else {
		s += ", compared with the baseline"
	}
	if partial {
		s += ", among the instances both runs audited"
	}
	return s
}

// BaselineLater reports whether the baseline run that started at since
// started after run (auditor report OLD --baseline NEWER), and is none
// that run came after by its own word (RanAfter: a run dated ahead by a
// clock, which a later run compares with as it would with an earlier).
func BaselineLater(since *time.Time, run audit.RunInfo) bool {
	if since == nil || run.StartedAt.IsZero() || !since.After(run.StartedAt) {
		return false
	}
	return !slices.ContainsFunc(run.RanAfter, since.Equal)
}

// ChangeBrief says what changed against a baseline in fewer words than
// ChangeSummary, for a mail's subject, where the run compared with would
// push the rest out: the new failures first, the resolved, and the
// instances not compared, so that "0 new failures" is not said of them
// unqualified; "(partial baseline)" when the baseline did not audit all
// its targets. The other kinds of change are the Summary's to say.
func ChangeBrief(res audit.Comparison, partialBaseline bool) string {
	parts := changeHead(res.Counts)
	if n := res.NotCompared.Total(); n > 0 {
		parts = append(parts, thousands(n)+" not compared")
	}
	s := strings.Join(parts, ", ")
	if partialBaseline {
		s += " (partial baseline)"
	}
	return s
}

// changeHead are the words that ChangeSummary and ChangeBrief start with:
// the new failures and the resolved.
func changeHead(c audit.ChangeCounts) []string {
	return []string{
		plural(c[audit.NewFailure], "new failure", "new failures"),
		fmt.Sprintf("%s resolved", thousands(c[audit.Resolved])),
	}
}

// changeColumns are the columns of changes.csv and of the Changes sheet,
// before the label columns.
var changeColumns = []string{
	"change", "account_id", "region", "instance_id", "association", "association_id", "document",
	"status_before", "status_after", "error_code", "first_seen_failing", "error_code_before",
}

// changeCells are one change's cells, in changeColumns order, as text.
func changeCells(c audit.Change) []string {
	r := changeRow(c)
	return []string{string(r.Kind), r.AccountID, r.Region, r.InstanceID, r.Association, r.AssociationID, r.Document,
		r.Before, r.After, r.ErrorCode, csvTime(r.FirstSeenFailing), r.ErrorCodeBefore}
}

// writeChangesCSV writes every change, in key order, to changes.csv.
func writeChangesCSV(ctx context.Context, opts Options, m *Model, dir string) (string, error) {
	path := filepath.Join(dir, ChangesCSV)
	err := atomicfile.Write(path, func(out io.Writer) error {
		w := csv.NewWriter(out)
		// The label columns are named by the inventory's keys: outside
		// text, neutralised like every cell.
		if err := writeSafe(w, append(slices.Clone(changeColumns), labelColumns(m.LabelKeys)...)); err != nil {
			return err
		}
		_, err := audit.Compare(opts.Baseline.Records(), opts.Records, func(c audit.Change) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			rec := changeCells(c)
			for _, k := range m.LabelKeys {
				rec = append(rec, c.Labels[k])
			}
			return writeSafe(w, rec)
		})
		if err != nil {
			return err
		}
		w.Flush()
		return w.Error()
	})
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	return path, nil
}

// NewFailures is the number of failures new since the baseline.
func (c *Changes) NewFailures() int { return c.Counts[audit.NewFailure] }
