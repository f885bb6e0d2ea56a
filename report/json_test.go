package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/auditor-dev/auditor/report"
)

// renderJSON renders fx as JSON only and returns the bytes of summary.json.
func renderJSON(t *testing.T, fx fixture) []byte {
	t.Helper()
	opts := fx.options(t)
	opts.Formats = []report.Format{report.FormatJSON}
	paths, err := report.Render(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(opts.Dir, report.SummaryFile)}
	if !slices.Equal(paths, want) {
		t.Fatalf("paths %q, want %q", paths, want)
	}
	b, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestJSONGolden compares summary.json of the mixed fixture with
// testdata/summary.golden.json (go test ./report -update rewrites it).
func TestJSONGolden(t *testing.T) {
	checkGolden(t, "summary.golden.json", renderJSON(t, fixtureNamed(t, "mixed")))
}

// TestJSONIsModel checks that summary.json decodes back into the Model that
// Build returns, with "schema" first.
func TestJSONIsModel(t *testing.T) {
	for _, fx := range fixtures(t) {
		t.Run(fx.name, func(t *testing.T) {
			b := renderJSON(t, fx)
			if !bytes.HasPrefix(b, []byte("{\n  \"schema\": 2,")) {
				t.Errorf("summary.json does not start with the schema: %.40q", b)
			}
			m, err := report.Build(context.Background(), fx.options(t))
			if err != nil {
				t.Fatal(err)
			}
			want, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			var compact bytes.Buffer
			if err := json.Compact(&compact, b); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(compact.Bytes(), want) {
				t.Errorf("summary.json is not the Model:\n got %s\nwant %s", compact.Bytes(), want)
			}
		})
	}
}

// TestJSONHostilePreserved checks that every hostile value reaches
// summary.json unchanged (escaping is JSON's own, undone by decoding), in
// fields fed from every part of a result.
func TestJSONHostilePreserved(t *testing.T) {
	b := renderJSON(t, fixtureNamed(t, "hostile"))
	var m report.Model
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.Run.Version != hostileValues()[0] || m.Run.Error != hostileValues()[4] || m.Run.Options["note"] != hostileValues()[1] {
		t.Errorf("run metadata changed: version %q, error %q, options %q", m.Run.Version, m.Run.Error, m.Run.Options)
	}
	// Every set below must hold every hostile value exactly.
	sets := map[string]map[string]bool{}
	add := func(field, v string) {
		if sets[field] == nil {
			sets[field] = map[string]bool{}
		}
		sets[field][v] = true
	}
	for _, r := range m.Failures.Rows {
		add("failure account_id", r.AccountID)
		add("failure region", r.Region)
		add("failure association_id", r.AssociationID)
		add("failure association_name", r.AssociationName)
		add("failure association_version", r.AssociationVersion)
		add("failure document", r.Document)
		add("failure document_version", r.DocumentVersion)
		add("failure detailed_status", r.DetailedStatus)
		add("failure error_code", r.ErrorCode)
		add("failure execution_summary", r.ExecutionSummary)
		add("failure output_url", r.OutputURL)
		add("failure label owner", r.Labels["owner"])
		for k := range r.Labels {
			add("failure label key", k)
		}
	}
	for _, r := range m.Stale.Rows {
		add("stale status", r.Status)
	}
	for _, p := range m.Problems.Items {
		if p.Outcome == "invalid" {
			add("invalid instance_id", p.InstanceID)
			add("invalid message", p.Message)
		} else {
			add("error code", p.Code)
			add("error source", p.Source)
		}
	}
	for _, ec := range m.ErrorCodes {
		add("error_codes code", ec.Code)
	}
	for _, g := range m.Associations {
		add("associations association", g.Association)
	}
	for _, g := range m.Documents {
		add("documents document", g.Document)
	}
	for _, k := range m.LabelKeys {
		add("label_keys", k)
	}
	if len(sets) != 22 {
		t.Errorf("checked %d fields, want 22: a list came out empty", len(sets))
	}
	for field, got := range sets {
		for _, h := range hostileValues() {
			if !got[h] {
				t.Errorf("%s: %q missing or altered", field, h)
			}
		}
	}
}
