// Package report renders audit results as CSV, XLSX, HTML and JSON.
//
// Every format renders the same view model: Build streams once over an
// audit.Records and produces a Model (counts, breakdowns, capped lists of the
// rows that need attention), which is also summary.json, the contract for
// dashboards and for users of a custom HTML template. Formats that list every
// association row (CSV, XLSX) stream the record a second time instead of
// holding it, so memory grows with the number of distinct names and the
// capped lists, not with the number of associations.
//
// Render is the entry point: it builds the Model and asks the Writer of each
// requested Format (see NewWriter) to write its files into a directory.
package report

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/auditor-dev/auditor/audit"
)

// Defaults of Options, applied where a field is zero.
const (
	DefaultHTMLMaxRows = 500
	DefaultTop         = 10
)

// Options for Build, NewWriter and Render. The zero value of every field but
// Dir, Records and StaleAfter means its default; a zero StaleAfter is off.
type Options struct {
	// Dir is the output directory. It must exist and be writable (the CLI
	// checks it with atomicfile.CheckDir before a run).
	Dir string
	// Formats to write; nil or empty means Formats().
	Formats []Format
	// Records is the merged, sorted record. It is streamed, never loaded
	// whole, and not closed by this package.
	Records *audit.Records
	// Run is run.json. For `auditor report` over records without a run.json
	// it may be synthesized; a zero StartedAt is allowed (see StaleAfter).
	Run audit.RunInfo
	// StaleAfter makes an association stale when its last execution is
	// older than this age as seen from the start of the attempt that read
	// its instance (the latest of Run.AttemptStarts not after its
	// AuditedAt; Run.StartedAt for a result without one), or when it never
	// ran: see audit.StaleAfter. A resumed run's StartedAt is its first
	// attempt's, days before what a later attempt read; the instances one
	// attempt read share its cut-off. The zero value turns the check off,
	// as everywhere (the CLI's default is audit.DefaultStaleAfter).
	StaleAfter audit.StaleAfter
	// HTMLMaxRows caps the rows of each table in the HTML report; zero or
	// negative means DefaultHTMLMaxRows. The Model's row lists hold at least this many
	// (see MinListRows).
	HTMLMaxRows int
	// Template is the path of a user html/template file that replaces the
	// built-in HTML template; it is executed over the same *Model. Empty
	// means the built-in template.
	Template string
	// Top is the length of the "top" lists (worst instances, example
	// instances per error code); zero or negative means DefaultTop.
	Top int
	// Baseline, when set, is an earlier run's record to compare with: the
	// Model gets Changes, CSV writes changes.csv, XLSX a Changes sheet and
	// the HTML report what changed right under its headline. The caller
	// opens and closes it.
	Baseline *audit.Baseline
	// LabelKeys are label keys that every report has a column for
	// (Model.LabelKeys), whether or not a row has them: Split gives each
	// group the label it is split by, so that a group with no instance
	// that has it (none now, or an account that could not be audited)
	// has its column as every other group has.
	LabelKeys []string
	// Group is the group of a split that the reports are of (Split sets
	// it), which their title, headline and Summary name; nil for a whole
	// run's.
	Group *MailGroup
	// TmpDir is where the workbook spills rows it cannot hold in memory
	// (the output directory's own, so that a killed run leaves nothing in
	// the system's temporary directory); empty means the system's.
	TmpDir string

	// record is the record in Dir, digested by Render (Run.Record).
	record *RecordFile
}

// withDefaults returns o with its zero fields set to their defaults.
func (o Options) withDefaults() Options {
	if len(o.Formats) == 0 {
		o.Formats = Formats()
	}
	if o.HTMLMaxRows <= 0 {
		o.HTMLMaxRows = DefaultHTMLMaxRows
	}
	if o.Top <= 0 {
		o.Top = DefaultTop
	}
	return o
}

// Render builds the Model once by streaming over opts.Records, then asks each
// format's Writer, in the order of opts.Formats (duplicates once), to write
// its files into opts.Dir. It returns the paths written, sorted. A format
// that fails does not stop the others: the error joins one error per failed
// format, naming it, and the paths are those written (every file is written
// atomically, so each of them is complete). An unknown format is reported
// before anything is written. Render does not
// print, and it checks ctx between formats and while streaming.
//
// The reports name the results.jsonl in opts.Dir, if there is one, by its
// digest and size (Run.Record), taken before they are written: the caller
// puts the record there, whole, first, and leaves it as it is.
func Render(ctx context.Context, opts Options) ([]string, error) {
	opts = opts.withDefaults()
	if opts.Dir == "" {
		return nil, errors.New("rendering reports: no output directory")
	}
	var writers []Writer
	var names []Format
	for _, f := range opts.Formats {
		if slices.Contains(names, f) {
			continue
		}
		w, err := NewWriter(f, opts)
		if err != nil {
			return nil, err
		}
		writers = append(writers, w)
		names = append(names, f)
	}
	// Digested once, before any report is written, from the file in Dir:
	// what the reports sit beside, never a record read from elsewhere.
	rec, err := recordIn(ctx, opts.Dir)
	if err != nil {
		return nil, err
	}
	opts.record = rec
	m, err := Build(ctx, opts)
	if err != nil {
		return nil, err
	}
	var paths []string
	var errs []error
	for i, w := range writers {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		// A format that fails (a full disk, say) does not keep the others
		// from being tried: each is written whole or not at all.
		ps, err := w.Write(ctx, m, opts.Records, opts.Dir)
		paths = append(paths, ps...)
		if err != nil {
			errs = append(errs, fmt.Errorf("writing %s report: %w", names[i], err))
		}
	}
	slices.Sort(paths)
	return paths, errors.Join(errs...)
}
