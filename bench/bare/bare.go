// Package bare writes the cells that auditor's CSV and XLSX reports list,
// with nothing but the bare libraries (encoding/csv, excelize's
// StreamWriter): the baselines that the rendering benchmarks compare the
// product with.
//
// A baseline writes the same rows and cells as the product, read from the
// same audit.Records, in one pass, and nothing else: no formula-injection
// guard (CSVSafe), no header or fill styles, column widths, frozen panes,
// autofilters, hyperlinks, summary sheet, charts or model-derived lists.
// report/bench_test.go checks that the cells stay the same as the
// product's.
package bare

import (
	"encoding/csv"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/internal/atomicfile"
	"github.com/auditor-dev/auditor/report"
)

// The files and sheets the baselines write, named as the product's.
const (
	AssociationsCSV = report.AssociationsCSV
	InstancesCSV    = report.InstancesCSV

	SheetAssociations = "Associations"
	SheetFailures     = "Failures"
	SheetInstances    = "Instances"
	SheetProblems     = "Problems"
)

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
	// The workbook's list headers; the label columns go after Instance.
	xlsxAssociationHeader = []string{
		"Account", "Region", "Instance", "Association", "Association ID", "Association name",
		"Association version", "Document", "Document version", "Status", "Detailed status",
		"Execution date (UTC)", "Stale", "Error code", "Failure", "Execution summary", "Output URL", "Partial",
	}
	xlsxInstanceHeader = []string{
		"Account", "Region", "Instance", "Outcome", "Associations", "Success", "Failed",
		"Pending", "Other", "Stale", "Failures", "Partial", "Error code", "Error message",
		"Source", "Audited at (UTC)", "Detail", "Ping status", "Agent version",
	}
	xlsxProblemHeader = []string{"Account", "Region", "Instance", "Outcome", "Code", "Message", "Source"}

	outcomeLabels = map[audit.Outcome]string{
		audit.OutcomeCompliant: "Compliant", audit.OutcomeNoncompliant: "Non-compliant", audit.OutcomePending: "Pending",
		audit.OutcomeNoAssociations: "No associations", audit.OutcomeNotManaged: "Not managed", audit.OutcomeError: "Error",
		audit.OutcomeInvalid: "Invalid input",
	}
)

// failure names a Failed association's failure as the product does.
func failure(a audit.Association) string {
	switch {
	case a.ErrorCode != "":
		return a.ErrorCode
	case a.DetailedStatus != "":
		return a.DetailedStatus + " (no error code)"
	}
	return "No error code"
}

// name names an association as the product does.
func name(a audit.Association) string {
	switch {
	case a.AssociationName != "":
		return a.AssociationName
	case a.Name == "":
		return a.AssociationID
	}
	return a.Name + " (" + a.AssociationID[:min(8, len(a.AssociationID))] + ")"
}

// failures returns the distinct failures of r's Failed associations, sorted.
func failures(r audit.Result) []string {
	var out []string
	for _, a := range r.Associations {
		if f := failure(a); a.Status == audit.StatusFailed && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out
}

// sorted returns r's associations in AssociationId order, the order of the
// product's rows.
func sorted(r audit.Result) []audit.Association {
	as := slices.Clone(r.Associations)
	slices.SortStableFunc(as, func(x, y audit.Association) int { return strings.Compare(x.AssociationID, y.AssociationID) })
	return as
}

func csvTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// CSV writes dir/associations.csv (one row per association) and
// dir/instances.csv (one row per instance, then one column per label key)
// in one pass over rs, with one encoding/csv writer each. An association is
// stale as in XLSX.
func CSV(rs *audit.Records, dir string, labelKeys []string, staleBefore time.Time) error {
	return atomicfile.Write(filepath.Join(dir, AssociationsCSV), func(af io.Writer) error {
		return atomicfile.Write(filepath.Join(dir, InstancesCSV), func(inf io.Writer) error {
			aw, iw := csv.NewWriter(af), csv.NewWriter(inf)
			if err := aw.Write(associationsHeader); err != nil {
				return err
			}
			if err := iw.Write(append(slices.Clone(instancesHeader), labelKeys...)); err != nil {
				return err
			}
			rec := make([]string, 0, len(instancesHeader)+len(labelKeys))
			err := rs.Each(func(r audit.Result) error {
				c := r.Count()
				stale := 0
				partial := strconv.FormatBool(r.Outcome == audit.OutcomeError)
				for _, a := range sorted(r) {
					isStale := isStale(a, staleBefore)
					if isStale {
						stale++
					}
					rec = append(rec[:0], r.AccountID, r.Region, r.InstanceID, a.AssociationID,
						a.AssociationName, a.AssociationVersion, a.Name, a.DocumentVersion, a.Status,
						a.DetailedStatus, csvTime(a.ExecutionDate), a.ErrorCode, a.ExecutionSummary, a.URL(),
						strconv.FormatBool(isStale), partial)
					if err := aw.Write(rec); err != nil {
						return err
					}
				}
				var code, msg string
				if r.Error != nil {
					code, msg = r.Error.Code, r.Error.Message
				}
				rec = append(rec[:0], r.AccountID, r.Region, r.InstanceID, string(r.Outcome),
					strconv.Itoa(c.Total), strconv.Itoa(c.Success), strconv.Itoa(c.Failed),
					strconv.Itoa(c.Pending), strconv.Itoa(c.Other), strconv.Itoa(stale),
					strings.Join(failures(r), "; "), partial, code, msg, r.Detail, "", "")
				for _, k := range labelKeys {
					rec = append(rec, r.Labels[k])
				}
				return iw.Write(rec)
			})
			if err != nil {
				return err
			}
			aw.Flush()
			iw.Flush()
			if err := aw.Error(); err != nil {
				return err
			}
			return iw.Error()
		})
	})
}

// isStale is the product's default rule with its cut-off given.
func isStale(a audit.Association, staleBefore time.Time) bool {
	return a.ExecutionDate == nil || a.ExecutionDate.IsZero() || a.ExecutionDate.Before(staleBefore)
}

// XLSX writes path, a workbook with the sheets Associations (every
// association), Failures (the Failed ones of instances with a verdict,
// those of the instances with the most first, then by key), Instances (one
// row per instance, the most failed first, then the most stale, then by
// key) and Problems (errors, then not managed, then invalid, each by key),
// each with its header row and the label columns after the instance ID, in
// one pass over rs with one StreamWriter per sheet; the rows of the sorted
// sheets wait in memory for the end of the pass. An association is stale when its
// execution date is missing or before staleBefore (the product's default is
// the run's start less seven days). The only styles are the number formats
// the values need: dates and versions.
func XLSX(rs *audit.Records, path string, labelKeys []string, staleBefore time.Time) error {
	f := excelize.NewFile()
	defer f.Close()
	dateFmt := "yyyy-mm-dd hh:mm:ss.000"
	dateStyle, err := f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt})
	if err != nil {
		return err
	}
	withLabels := func(fixed []string) []string { return slices.Concat(fixed[:3], labelKeys, fixed[3:]) }
	sheets := []struct {
		name   string
		header []string
	}{
		{SheetFailures, withLabels(xlsxAssociationHeader[:len(xlsxAssociationHeader)-1])},
		{SheetInstances, withLabels(xlsxInstanceHeader)},
		{SheetAssociations, withLabels(xlsxAssociationHeader)},
		{SheetProblems, withLabels(xlsxProblemHeader)},
	}
	for _, s := range sheets {
		if _, err := f.NewSheet(s.name); err != nil {
			return fmt.Errorf("sheet %s: %w", s.name, err)
		}
	}
	if err := f.DeleteSheet("Sheet1"); err != nil {
		return err
	}
	var sws [4]*excelize.StreamWriter
	for i, s := range sheets {
		sw, err := f.NewStreamWriter(s.name)
		if err != nil {
			return fmt.Errorf("sheet %s: %w", s.name, err)
		}
		header := make([]any, 0, len(s.header))
		for _, h := range s.header {
			header = append(header, h)
		}
		if err := sw.SetRow("A1", header); err != nil {
			return fmt.Errorf("sheet %s: %w", s.name, err)
		}
		sws[i] = sw
	}
	failuresSheet, instances, assocs, problems := sws[0], sws[1], sws[2], sws[3]
	nFail, nAssoc, nProb := 1, 1, 1
	str := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	date := func(t *time.Time) any {
		if t == nil || t.IsZero() {
			return nil
		}
		return excelize.Cell{StyleID: dateStyle, Value: t.UTC()}
	}
	version := func(s string) any {
		if s == "" || len(s) > 15 || (s[0] == '0' && s != "0") || strings.Trim(s, "0123456789") != "" {
			return str(s)
		}
		n, _ := strconv.ParseInt(s, 10, 64)
		return n
	}
	yesNo := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	// Instances, Failures and Problems are sorted: their rows wait for the
	// end of the pass, in record (key) order, and are sorted stably.
	type instRow struct {
		key        audit.Key
		failed, st int
		cells      []any
	}
	var instRows []instRow
	type failRows struct {
		failed int
		rows   [][]any
	}
	var failGroups []failRows
	type probRow struct {
		rank  int
		cells []any
	}
	var probRows []probRow
	problemRank := map[audit.Outcome]int{audit.OutcomeError: 0, audit.OutcomeNotManaged: 1, audit.OutcomeInvalid: 2}
	labels := make([]any, len(labelKeys))
	row := make([]any, 0, len(xlsxAssociationHeader)+len(labelKeys))
	err = rs.Each(func(r audit.Result) error {
		for i, k := range labelKeys {
			labels[i] = str(r.Labels[k])
		}
		lead := []any{str(r.AccountID), str(r.Region), str(r.InstanceID)}
		lead = append(lead, labels...)
		c := r.Count()
		stale := 0
		partial := r.Outcome == audit.OutcomeError
		var failed [][]any
		for _, a := range sorted(r) {
			isStale := isStale(a, staleBefore)
			if isStale {
				stale++
			}
			fail := ""
			if a.Status == audit.StatusFailed {
				fail = failure(a)
			}
			row = append(row[:0], lead...)
			row = append(row, str(name(a)), str(a.AssociationID), str(a.AssociationName), version(a.AssociationVersion),
				str(a.Name), version(a.DocumentVersion), str(a.Status), str(a.DetailedStatus), date(a.ExecutionDate),
				yesNo(isStale), str(a.ErrorCode), str(fail), str(a.ExecutionSummary), str(a.URL()), yesNo(partial))
			if a.Status == audit.StatusFailed && !partial {
				failed = append(failed, slices.Clone(row[:len(row)-1]))
			}
			nAssoc++
			if err := assocs.SetRow("A"+strconv.Itoa(nAssoc), row); err != nil {
				return err
			}
		}
		var code, msg any
		if r.Error != nil {
			code, msg = str(r.Error.Code), str(r.Error.Message)
		}
		cells := append(slices.Clone(lead), outcomeLabels[r.Outcome],
			c.Total, c.Success, c.Failed, c.Pending, c.Other, stale, str(strings.Join(failures(r), "; ")),
			yesNo(partial), code, msg, str(r.Source), date(&r.AuditedAt), str(r.Detail), str(""), str(""))
		instRows = append(instRows, instRow{key: r.Key(), failed: c.Failed, st: stale, cells: cells})
		if failed != nil {
			failGroups = append(failGroups, failRows{failed: len(failed), rows: failed})
		}
		switch r.Outcome {
		case audit.OutcomeNotManaged, audit.OutcomeError, audit.OutcomeInvalid:
			code, msg := "(none)", ""
			if r.Error != nil {
				code, msg = r.Error.Code, r.Error.Message
				if code == "" {
					code = "(none)"
				}
			}
			row = append(row[:0], lead...)
			row = append(row, outcomeLabels[r.Outcome], str(code), str(msg), str(r.Source))
			probRows = append(probRows, probRow{rank: problemRank[r.Outcome], cells: slices.Clone(row)})
		}
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortStableFunc(failGroups, func(x, y failRows) int { return y.failed - x.failed })
	for _, g := range failGroups {
		for _, cells := range g.rows {
			nFail++
			if err := failuresSheet.SetRow("A"+strconv.Itoa(nFail), cells); err != nil {
				return err
			}
		}
	}
	slices.SortStableFunc(probRows, func(x, y probRow) int { return x.rank - y.rank })
	for _, p := range probRows {
		nProb++
		if err := problems.SetRow("A"+strconv.Itoa(nProb), p.cells); err != nil {
			return err
		}
	}
	slices.SortStableFunc(instRows, func(x, y instRow) int {
		if x.failed != y.failed {
			return y.failed - x.failed
		}
		if x.st != y.st {
			return y.st - x.st
		}
		switch {
		case x.key.Less(y.key):
			return -1
		case y.key.Less(x.key):
			return 1
		}
		return 0
	})
	for i, r := range instRows {
		if err := instances.SetRow("A"+strconv.Itoa(i+2), r.cells); err != nil {
			return err
		}
	}
	for _, sw := range sws {
		if err := sw.Flush(); err != nil {
			return err
		}
	}
	return atomicfile.Write(path, func(w io.Writer) error { return f.Write(w) })
}
