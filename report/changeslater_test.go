package report_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
)

// TestChangesOfALaterBaseline: a record compared with a run that started
// after it (auditor report OLD --baseline NEWER) reads new and resolved
// backwards; the changes line says the baseline is the later run, unless
// the run came after it by its own word (RanAfter: a baseline dated ahead
// by a clock).
func TestChangesOfALaterBaseline(t *testing.T) {
	at := time.Date(2026, 11, 2, 6, 0, 0, 0, time.UTC)
	result := func(status string, when time.Time) audit.Result {
		return audit.Result{
			Region: east, InstanceID: "i-0000000000000000a", Outcome: audit.Judge([]audit.Association{{Status: status}}),
			AuditedAt: when, Associations: []audit.Association{{AssociationID: "a-1", Name: "AWS-RunPatchBaseline", Status: status}},
		}
	}
	summary := func(baseAt time.Time, ranAfter []time.Time) string {
		t.Helper()
		basePath := filepath.Join(t.TempDir(), audit.ResultsFile)
		w, err := audit.CreateRecord(basePath)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(result(audit.StatusSuccess, baseAt)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		base, err := audit.OpenBaseline(basePath)
		if err != nil {
			t.Fatal(err)
		}
		defer base.Close()
		base.At = baseAt
		m, err := report.Build(context.Background(), report.Options{
			Records: openRecord(t, []audit.Result{result(audit.StatusFailed, at)}), Baseline: base,
			Run:        audit.RunInfo{StartedAt: at, EndedAt: at.Add(time.Minute), Complete: true, RanAfter: ranAfter},
			StaleAfter: audit.DefaultStaleAfter,
		})
		if err != nil {
			t.Fatal(err)
		}
		return m.Changes.Summary
	}
	const later = "started after this run"
	if got := summary(at.Add(24*time.Hour), nil); !strings.Contains(got, later) {
		t.Errorf("a baseline a day later: %q, want %q in it", got, later)
	}
	if got := summary(at.Add(-24*time.Hour), nil); strings.Contains(got, later) {
		t.Errorf("a baseline a day earlier: %q", got)
	}
	ahead := at.Add(24 * time.Hour)
	if got := summary(ahead, []time.Time{ahead}); strings.Contains(got, later) {
		t.Errorf("a baseline dated ahead that the run came after: %q", got)
	}
}
