package report

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/internal/atomicfile"
)

// Files FormatCSV writes.
const (
	AssociationsCSV = "associations.csv"
	InstancesCSV    = "instances.csv"
	ErrorCodesCSV   = "error_codes.csv"
)

// The fixed columns of the CSV files, in order.
var (
	associationsHeader = []string{
		"account_id", "region", "instance_id", "association_id", "association_name",
		"association_version", "name", "document_version", "status", "detailed_status",
		"execution_date", "error_code", "execution_summary", "output_url", "stale", "partial",
	}
	instancesHeader = []string{
		"account_id", "region", "instance_id", "outcome", "associations", "success",
		"failed", "pending", "other", "stale", "error_codes", "partial", "error_code", "error_message",
		"detail", "ping_status", "agent_version",
	}
	errorCodesHeader = []string{
		"failure", "error_code", "associations", "instances", "association_names", "example_instance_ids",
	}
)

// csvListSep joins the values of a multi-valued cell in error_codes.csv.
// Association names ([a-zA-Z0-9_.-] in SSM) and instance IDs cannot contain
// it.
const csvListSep = "; "

type csvWriter struct {
	stale staleRule
	opts  Options
}

func newCSV(opts Options) Writer { return csvWriter{stale: newStaleRule(opts), opts: opts} }

// Write writes three files, each via atomicfile, with encoding/csv (RFC 4180
// quoting, "\n" line ends, UTF-8 without a byte order mark):
//
//   - associations.csv: one row per association, streamed from rs, sorted by
//     account, region, instance, then association ID. The API's fields are
//     as SSM served them, the output URL as audit.Association.URL gives it
//     (no presigned URL's credentials); stale is true or false
//     (Options.StaleAfter);
//     partial is true for the rows of an instance whose audit stopped
//     partway (audit.Result.Partial): only part of its list, which no other
//     report counts.
//   - instances.csv: one row per instance, every outcome, streamed from rs in
//     key order: the tally of its associations, the stale ones, error_codes
//     (the distinct failures of its Failed associations, as
//     Model.ErrorCodes names them, joined with "; "), partial (as in
//     associations.csv: the tally is of the rows it got), then error_code
//     and error_message, the instance's own error (not_managed, error,
//     invalid), not its associations'. Then one column per label key
//     (Model.LabelKeys), named by the key, or "label_" + key when the key is
//     one of the fixed column names.
//   - error_codes.csv: Model.ErrorCodes: failure is its name, error_code the
//     code SSM gave (empty for failures without one); association_names and
//     example_instance_ids are joined with "; ", and association_names ends
//     with "; (N more)" when the Model capped it.
//
// Dates are RFC 3339 in UTC with the milliseconds SSM serves
// ("2025-11-21T18:11:19.928Z"), so that a row holds the values that the
// API returned; a missing date is empty. Every text cell goes through
// CSVSafe.
func (w csvWriter) Write(ctx context.Context, m *Model, rs *audit.Records, dir string) ([]string, error) {
	ap, ip, ep := filepath.Join(dir, AssociationsCSV), filepath.Join(dir, InstancesCSV), filepath.Join(dir, ErrorCodesCSV)
	// associations.csv and instances.csv come from one pass over the
	// record: decoding it is most of the cost (BENCHMARKS.md).
	err := atomicfile.Write(ap, func(aout io.Writer) error {
		return atomicfile.Write(ip, func(iout io.Writer) error {
			aw, iw := csv.NewWriter(aout), csv.NewWriter(iout)
			if err := w.writeRecordCSVs(ctx, aw, iw, m, rs); err != nil {
				return err
			}
			aw.Flush()
			iw.Flush()
			return errors.Join(aw.Error(), iw.Error())
		})
	})
	if err != nil {
		return nil, fmt.Errorf("writing %s and %s: %w", ap, ip, err)
	}
	paths := []string{ap, ip}
	if err := ctx.Err(); err != nil {
		return paths, err
	}
	err = atomicfile.Write(ep, func(out io.Writer) error {
		w := csv.NewWriter(out)
		if err := writeErrorCodesCSV(w, m); err != nil {
			return err
		}
		w.Flush()
		return w.Error()
	})
	if err != nil {
		return paths, fmt.Errorf("writing %s: %w", ep, err)
	}
	paths = append(paths, ep)
	if w.opts.Baseline != nil {
		cp, err := writeChangesCSV(ctx, w.opts, m, dir)
		if err != nil {
			return paths, err
		}
		paths = append(paths, cp)
	}
	return paths, nil
}

// writeSafe writes one record with every cell through CSVSafe. Cells that
// hold numbers the writer formatted itself pass unchanged, since CSVSafe
// leaves plain numbers alone.
func writeSafe(w *csv.Writer, rec []string) error {
	for i, s := range rec {
		rec[i] = CSVSafe(s)
	}
	return w.Write(rec)
}

// csvTime writes t in RFC 3339, UTC, to the millisecond, as SSM serves its
// dates ("2025-11-21T18:11:19.928Z", ".000" for a whole second). A finer
// fraction (first_seen_failing is taken from when the auditor read the
// instance, on a clock with nanoseconds) is cut, never rounded up, so that a
// date never moves to a later second: every date of every CSV file has one
// form, and the HTML's datetime attributes, written by it too.
func csvTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z07:00")
}

// writeRecordCSVs writes associations.csv to aw and instances.csv to iw in
// one pass over rs.
func (w csvWriter) writeRecordCSVs(ctx context.Context, aw, iw *csv.Writer, m *Model, rs *audit.Records) error {
	if err := writeSafe(aw, slices.Clone(associationsHeader)); err != nil {
		return err
	}
	if err := writeSafe(iw, append(slices.Clone(instancesHeader), labelColumns(m.LabelKeys)...)); err != nil {
		return err
	}
	arec := make([]string, len(associationsHeader))
	irec := make([]string, 0, len(instancesHeader)+len(m.LabelKeys))
	return rs.Each(func(r audit.Result) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		partial := strconv.FormatBool(r.Partial())
		for _, a := range sortedAssociations(r) {
			arec = append(arec[:0],
				r.AccountID, r.Region, r.InstanceID, a.AssociationID, a.AssociationName,
				a.AssociationVersion, a.Name, a.DocumentVersion, a.Status, a.DetailedStatus,
				csvTime(a.ExecutionDate), a.ErrorCode, a.ExecutionSummary, a.URL(),
				strconv.FormatBool(w.stale.stale(r, a)), partial,
			)
			if err := writeSafe(aw, arec); err != nil {
				return err
			}
		}
		c := w.stale.count(r)
		var code, msg string
		if r.Error != nil {
			code, msg = r.Error.Code, r.Error.Message
		}
		irec = append(irec[:0],
			r.AccountID, r.Region, r.InstanceID, string(r.Outcome), strconv.Itoa(c.Total),
			strconv.Itoa(c.Success), strconv.Itoa(c.Failed), strconv.Itoa(c.Pending),
			strconv.Itoa(c.Other), strconv.Itoa(c.Stale), strings.Join(failureNames(r), csvListSep),
			partial, code, msg, r.Detail, infoPing(r.Info), infoAgent(r.Info),
		)
		for _, k := range m.LabelKeys {
			irec = append(irec, r.Labels[k])
		}
		return writeSafe(iw, irec)
	})
}

// labelColumns names the label columns of instances.csv and changes.csv,
// alike in both: a label named as a column of either file is "label_"
// and its name (again, while that is taken too).
func labelColumns(keys []string) []string {
	taken := map[string]bool{}
	for _, h := range instancesHeader {
		taken[h] = true
	}
	for _, h := range changeColumns {
		taken[h] = true
	}
	fixed := maps.Clone(taken)
	for _, k := range keys {
		taken[k] = true
	}
	cols := make([]string, len(keys))
	for i, k := range keys {
		name := k
		if fixed[k] {
			name = "label_" + k
			for taken[name] {
				name = "label_" + name
			}
			taken[name] = true
		}
		cols[i] = name
	}
	return cols
}

func writeErrorCodesCSV(w *csv.Writer, m *Model) error {
	if err := writeSafe(w, slices.Clone(errorCodesHeader)); err != nil {
		return err
	}
	for _, ec := range m.ErrorCodes {
		names := strings.Join(ec.AssociationNames, csvListSep)
		if more := ec.AssociationNamesTotal - len(ec.AssociationNames); more > 0 {
			names += fmt.Sprintf("%s(%d more)", csvListSep, more)
		}
		err := writeSafe(w, []string{
			ec.Name, ec.Code, strconv.Itoa(ec.Associations), strconv.Itoa(ec.Instances),
			names, strings.Join(ec.ExampleInstanceIDs, csvListSep),
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// CSVSafe neutralises a cell against formula injection (OWASP "CSV
// Injection"; ASVS 1.2.10): a value that begins with '=', '+', '-', '@' or an
// ASCII control character (U+0000 to U+001F, among them tab and carriage
// return, and U+007F) gets a leading single quote, so that a spreadsheet
// shows it as text instead of evaluating it. Control characters count
// because LibreOffice Calc drops a leading NUL and reads the rest ("\x00=x")
// as a formula; the value is quoted, not stripped or replaced, so that it
// reads back unchanged. A value that is a plain number (optional sign, ASCII
// digits, optional fraction and exponent, such as "-1" or "+3.5") is returned
// unchanged. A value that begins with a single quote gets one more, so that a
// reader gets every value back by taking off one leading quote where there is
// one: "=x" and "'=x" would otherwise read alike. Every other value is
// returned unchanged. Quoting of commas, quotes and newlines is left to
// encoding/csv.
func CSVSafe(s string) string {
	if s == "" {
		return s
	}
	switch c := s[0]; {
	case c == '=' || c == '+' || c == '-' || c == '@':
		if isPlainNumber(s) {
			return s
		}
		return "'" + s
	case c < 0x20 || c == 0x7f || c == '\'':
		return "'" + s
	}
	return s
}

// isPlainNumber reports whether s matches [+-]?(D+(.D*)?|.D+)([eE][+-]?D+)?
// where D is an ASCII digit.
func isPlainNumber(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	digits := func() int {
		n := 0
		for n < len(s) && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		s = s[n:]
		return n
	}
	mant := digits()
	if s != "" && s[0] == '.' {
		s = s[1:]
		mant += digits()
	}
	if mant == 0 {
		return false
	}
	if s != "" && (s[0] == 'e' || s[0] == 'E') {
		s = s[1:]
		if s != "" && (s[0] == '+' || s[0] == '-') {
			s = s[1:]
		}
		if digits() == 0 {
			return false
		}
	}
	return s == ""
}

// infoPing is an instance's ping status, when SSM said it.
func infoPing(i *audit.InstanceInfo) string {
	if i == nil {
		return ""
	}
	return i.PingStatus
}

// infoAgent is an instance's agent version, with " (not latest)" when SSM
// says a newer one exists.
func infoAgent(i *audit.InstanceInfo) string {
	if i == nil || i.AgentVersion == "" {
		return ""
	}
	if i.OldAgent() {
		return i.AgentVersion + " (not latest)"
	}
	return i.AgentVersion
}
