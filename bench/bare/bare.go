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
		"execution_date", "error_code", "execution_summary", "output_url",
	}
	instancesHeader = []string{
		"account_id", "region", "instance_id", "outcome", "associations", "success",
		"failed", "pending", "other", "error_code", "error_message",
	}
	xlsxAssociationHeader = []string{
		"Account", "Region", "Instance", "Association ID", "Association name",
		"Association version", "Document", "Document version", "Status", "Detailed status",
		"Execution date (UTC)", "Stale", "Error code", "Execution summary", "Output URL",
	}
	xlsxInstanceHeader = []string{
		"Account", "Region", "Instance", "Outcome", "Associations", "Success", "Failed",
		"Pending", "Other", "Stale", "Failure error codes", "Error code", "Error message",
		"Source", "Audited at (UTC)",
	}
	xlsxProblemHeader = []string{"Account", "Region", "Instance", "Outcome", "Code", "Message", "Source"}
)

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
	return t.UTC().Format(time.RFC3339)
}

// CSV writes dir/associations.csv (one row per association) and
// dir/instances.csv (one row per instance, then one column per label key)
// in one pass over rs, with one encoding/csv writer each.
func CSV(rs *audit.Records, dir string, labelKeys []string) error {
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
				for _, a := range sorted(r) {
					rec = append(rec[:0], r.AccountID, r.Region, r.InstanceID, a.AssociationID,
						a.AssociationName, a.AssociationVersion, a.Name, a.DocumentVersion, a.Status,
						a.DetailedStatus, csvTime(a.ExecutionDate), a.ErrorCode, a.ExecutionSummary, a.URL())
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
					strconv.Itoa(c.Pending), strconv.Itoa(c.Other), code, msg)
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

// XLSX writes path, a workbook with the sheets Associations (every
// association), Failures (the Failed ones), Instances (one row per
// instance) and Problems (not managed, error, invalid), each with its header
// row and the label columns, in one pass over rs with one StreamWriter per
// sheet. An association is stale when its execution date is missing or
// before staleBefore (the product's default is the run's start less seven
// days). The only style is the date cells' number format, which the values
// need to read as dates.
func XLSX(rs *audit.Records, path string, labelKeys []string, staleBefore time.Time) error {
	f := excelize.NewFile()
	defer f.Close()
	dateFmt := "yyyy-mm-dd hh:mm:ss"
	dateStyle, err := f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt})
	if err != nil {
		return err
	}
	sheets := []struct {
		name   string
		header []string
	}{
		{SheetFailures, xlsxAssociationHeader},
		{SheetInstances, xlsxInstanceHeader},
		{SheetAssociations, xlsxAssociationHeader},
		{SheetProblems, xlsxProblemHeader},
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
		header := make([]any, 0, len(s.header)+len(labelKeys))
		for _, h := range s.header {
			header = append(header, h)
		}
		for _, k := range labelKeys {
			header = append(header, k)
		}
		if err := sw.SetRow("A1", header); err != nil {
			return fmt.Errorf("sheet %s: %w", s.name, err)
		}
		sws[i] = sw
	}
	failures, instances, assocs, problems := sws[0], sws[1], sws[2], sws[3]
	nFail, nInst, nAssoc, nProb := 1, 1, 1, 1
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
	yesNo := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	labels := make([]any, len(labelKeys))
	row := make([]any, 0, len(xlsxInstanceHeader)+len(labelKeys))
	var codes []string
	err = rs.Each(func(r audit.Result) error {
		for i, k := range labelKeys {
			labels[i] = str(r.Labels[k])
		}
		var c audit.Counts
		stale := 0
		codes = codes[:0]
		for _, a := range sorted(r) {
			isStale := a.ExecutionDate == nil || a.ExecutionDate.IsZero() || a.ExecutionDate.Before(staleBefore)
			c.Total++
			switch a.Status {
			case audit.StatusSuccess:
				c.Success++
			case audit.StatusFailed:
				c.Failed++
				code := a.ErrorCode
				if code == "" {
					code = "(none)"
				}
				if !slices.Contains(codes, code) {
					codes = append(codes, code)
				}
			case audit.StatusPending:
				c.Pending++
			default:
				c.Other++
			}
			if isStale {
				stale++
			}
			row = append(row[:0], str(r.AccountID), str(r.Region), str(r.InstanceID),
				str(a.AssociationID), str(a.AssociationName), str(a.AssociationVersion), str(a.Name),
				str(a.DocumentVersion), str(a.Status), str(a.DetailedStatus), date(a.ExecutionDate),
				yesNo(isStale), str(a.ErrorCode), str(a.ExecutionSummary), str(a.URL()))
			row = append(row, labels...)
			if a.Status == audit.StatusFailed {
				nFail++
				if err := failures.SetRow("A"+strconv.Itoa(nFail), row); err != nil {
					return err
				}
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
		slices.Sort(codes)
		row = append(row[:0], str(r.AccountID), str(r.Region), str(r.InstanceID), string(r.Outcome),
			c.Total, c.Success, c.Failed, c.Pending, c.Other, stale, str(strings.Join(codes, "; ")),
			code, msg, str(r.Source), date(&r.AuditedAt))
		row = append(row, labels...)
		nInst++
		if err := instances.SetRow("A"+strconv.Itoa(nInst), row); err != nil {
			return err
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
			row = append(row[:0], str(r.AccountID), str(r.Region), str(r.InstanceID), string(r.Outcome),
				str(code), str(msg), str(r.Source))
			row = append(row, labels...)
			nProb++
			if err := problems.SetRow("A"+strconv.Itoa(nProb), row); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, sw := range sws {
		if err := sw.Flush(); err != nil {
			return err
		}
	}
	return atomicfile.Write(path, func(w io.Writer) error { return f.Write(w) })
}
