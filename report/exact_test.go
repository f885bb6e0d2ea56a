package report_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestCSVEqualsWhatWasServed audits a generated fleet (execution dates with
// milliseconds, as SSM serves them) through the real pipeline and compares
// every field of every row of associations.csv and instances.csv with what
// the simulator holds for it (ssmsim.Fleet.Associations is the truth), the
// dates to the millisecond: a row must read as `aws ssm
// describe-instance-associations-status` prints it.
func TestCSVEqualsWhatWasServed(t *testing.T) {
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 10, Size: 120, Heavy: 1})
	opts := runPipeline(t, fleet, audit.Config{})
	cutoff := opts.Run.StartedAt.Add(-7 * 24 * time.Hour)

	rows := readCSV(t, filepath.Join(opts.Dir, report.AssociationsCSV))
	header := rows[0]
	field := func(row []string, name string) string {
		i := slices.Index(header, name)
		if i < 0 {
			t.Fatalf("associations.csv has no column %q", name)
		}
		return row[i]
	}
	type key struct{ instance, association string }
	got := map[key][]string{}
	for _, row := range rows[1:] {
		k := key{field(row, "instance_id"), field(row, "association_id")}
		if _, dup := got[k]; dup {
			t.Errorf("associations.csv: %v twice", k)
		}
		got[k] = row
	}

	served, fractional := 0, 0
	for _, id := range fleet.IDs() {
		for _, a := range fleet.Associations(id) {
			served++
			row, ok := got[key{id, a.AssociationID}]
			if !ok {
				t.Errorf("%s %s: served, not in associations.csv", id, a.AssociationID)
				continue
			}
			date := ""
			if !a.ExecutionDate.IsZero() {
				date = a.ExecutionDate.UTC().Format("2006-01-02T15:04:05.000Z")
				if a.ExecutionDate.Nanosecond()%int(time.Second) != 0 {
					fractional++
				}
				// The text parses back to the very instant served.
				back, err := time.Parse(time.RFC3339Nano, field(row, "execution_date"))
				if err != nil || !back.Equal(a.ExecutionDate) {
					t.Errorf("%s %s: execution_date %q reads as %v, served %v", id, a.AssociationID, field(row, "execution_date"), back, a.ExecutionDate)
				}
			}
			stale := a.ExecutionDate.IsZero() || a.ExecutionDate.Before(cutoff)
			for name, want := range map[string]string{
				"account_id":          "",
				"region":              pipelineRegion,
				"instance_id":         id,
				"association_id":      a.AssociationID,
				"association_name":    a.AssociationName,
				"association_version": a.AssociationVersion,
				"name":                a.Name,
				"document_version":    a.DocumentVersion,
				"status":              a.Status,
				"detailed_status":     a.DetailedStatus,
				"execution_date":      date,
				"error_code":          a.ErrorCode,
				"execution_summary":   neutralised(a.ExecutionSummary),
				"output_url":          a.OutputURL,
				"stale":               strconv.FormatBool(stale),
				"partial":             "false",
			} {
				if g := field(row, name); g != want {
					t.Errorf("%s %s: %s = %q, served %q", id, a.AssociationID, name, g, want)
				}
			}
		}
	}
	if len(rows)-1 != served {
		t.Errorf("associations.csv has %d rows, %d were served", len(rows)-1, served)
	}
	if served < 500 || fractional < served/2 {
		t.Fatalf("the fleet exercises too little: %d rows, %d with a fraction of a second", served, fractional)
	}

	// instances.csv: the tally of each instance's served rows.
	insts := readCSV(t, filepath.Join(opts.Dir, report.InstancesCSV))
	ih := insts[0]
	col := func(row []string, name string) string { return row[slices.Index(ih, name)] }
	seen := 0
	for _, row := range insts[1:] {
		id := col(row, "instance_id")
		if !fleet.Managed(id) {
			if col(row, "outcome") != string(audit.OutcomeNotManaged) {
				t.Errorf("%s: unmanaged, outcome %q", id, col(row, "outcome"))
			}
			continue
		}
		seen++
		var total, success, failed, pending, stale int
		var codes []string
		for _, a := range fleet.Associations(id) {
			total++
			switch a.Status {
			case audit.StatusSuccess:
				success++
			case audit.StatusFailed:
				failed++
				code := a.ErrorCode
				if code == "" {
					code = a.DetailedStatus + " (no error code)"
				}
				if !slices.Contains(codes, code) {
					codes = append(codes, code)
				}
			case audit.StatusPending:
				pending++
			}
			if a.ExecutionDate.IsZero() || a.ExecutionDate.Before(cutoff) {
				stale++
			}
		}
		slices.Sort(codes)
		for name, want := range map[string]string{
			"associations": fmt.Sprint(total),
			"success":      fmt.Sprint(success),
			"failed":       fmt.Sprint(failed),
			"pending":      fmt.Sprint(pending),
			"other":        fmt.Sprint(total - success - failed - pending),
			"stale":        fmt.Sprint(stale),
			"error_codes":  strings.Join(codes, "; "),
			"partial":      "false",
		} {
			if g := col(row, name); g != want {
				t.Errorf("instances.csv %s: %s = %q, served %q", id, name, g, want)
			}
		}
	}
	if seen != len(fleet.ManagedIDs()) {
		t.Errorf("instances.csv has %d managed instances, the fleet %d", seen, len(fleet.ManagedIDs()))
	}
}
