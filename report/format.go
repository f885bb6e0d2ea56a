package report

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/auditor-dev/auditor/audit"
)

// Format is the name of a report format, as given to --format.
type Format string

// The formats. A new format is one file in this package, one constant here,
// one entry in Formats and one case in NewWriter.
const (
	// FormatCSV writes associations.csv, instances.csv and error_codes.csv.
	FormatCSV Format = "csv"
	// FormatXLSX writes report.xlsx.
	FormatXLSX Format = "xlsx"
	// FormatHTML writes report.html.
	FormatHTML Format = "html"
	// FormatJSON writes summary.json: the Model.
	FormatJSON Format = "json"
)

// Formats lists every Format in a stable order: the default of
// Options.Formats.
func Formats() []Format {
	return []Format{FormatCSV, FormatXLSX, FormatHTML, FormatJSON}
}

// Files returns the names of the files f writes at the top of a report's
// directory, changes.csv (with a baseline) included.
func (f Format) Files() []string {
	switch f {
	case FormatCSV:
		return []string{AssociationsCSV, InstancesCSV, ErrorCodesCSV, ChangesCSV}
	case FormatXLSX:
		return []string{XLSXFile}
	case FormatHTML:
		return []string{HTMLFile}
	case FormatJSON:
		return []string{SummaryFile}
	}
	return nil
}

// Missing returns the names of the files that a rendering of formats writes
// at the top of dir (changes.csv only with a baseline) and that dir does not
// hold, in the order of Formats and Files; none when every one is there.
// Where no earlier rendering's files are left (as the auditor's renderings
// leave none), a name returned is one that the rendering of dir did not
// write: it failed, or left the workbook out (TooWide).
func Missing(dir string, formats []Format, baseline bool) []string {
	var out []string
	for _, f := range Formats() {
		if !slices.Contains(formats, f) {
			continue
		}
		for _, name := range f.Files() {
			if name == ChangesCSV && !baseline {
				continue
			}
			if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
				out = append(out, name)
			}
		}
	}
	return out
}

// ErrUnknownFormat is returned (wrapped) by ParseFormats and NewWriter for a
// format name that is not one of Formats.
var ErrUnknownFormat = errors.New("unknown report format")

// ParseFormats parses a comma-separated list of format names such as
// "csv,xlsx". Names are case-insensitive and may be surrounded by spaces;
// duplicates collapse. The result is in the order of Formats. An empty list,
// an empty name or an unknown name is an error wrapping ErrUnknownFormat
// that lists the valid names.
func ParseFormats(s string) ([]Format, error) {
	seen := map[Format]bool{}
	for _, name := range strings.Split(s, ",") {
		f := Format(strings.ToLower(strings.TrimSpace(name)))
		if f == "" {
			return nil, fmt.Errorf("%w: empty name in %q (want a comma-separated list of %s)", ErrUnknownFormat, s, formatNames())
		}
		if !slices.Contains(Formats(), f) {
			if !strings.Contains(s, ",") {
				// One name: "in" it would only repeat it.
				return nil, fmt.Errorf("%w %q (want a comma-separated list of %s)", ErrUnknownFormat, name, formatNames())
			}
			return nil, fmt.Errorf("%w %q in %q (want a comma-separated list of %s)", ErrUnknownFormat, name, s, formatNames())
		}
		seen[f] = true
	}
	var out []Format
	for _, f := range Formats() {
		if seen[f] {
			out = append(out, f)
		}
	}
	return out, nil
}

func formatNames() string {
	var names []string
	for _, f := range Formats() {
		names = append(names, string(f))
	}
	return strings.Join(names, ", ")
}

// Writer writes one format's files.
//
// Write writes the files of its format into dir (which exists) and returns
// their paths. m is the finished Model and must not be modified. Formats that
// list every association (the CSV associations file, the XLSX Associations
// sheet) stream rs.Each again, in key order; the others use m only. Write is
// not called concurrently with anything else that uses rs. Every file is
// written via internal/atomicfile, so a failed Write leaves no half file.
type Writer interface {
	Write(ctx context.Context, m *Model, rs *audit.Records, dir string) ([]string, error)
}

// NewWriter returns the Writer of format f configured by opts (defaults are
// applied as in Render). It is the single place that maps a Format to its
// implementation. An unknown format is an error wrapping ErrUnknownFormat.
func NewWriter(f Format, opts Options) (Writer, error) {
	opts = opts.withDefaults()
	switch f {
	case FormatCSV:
		return newCSV(opts), nil
	case FormatXLSX:
		return newXLSX(opts), nil
	case FormatHTML:
		return newHTML(opts), nil
	case FormatJSON:
		return newJSON(opts), nil
	}
	return nil, fmt.Errorf("%w %q (want one of %s)", ErrUnknownFormat, string(f), formatNames())
}
