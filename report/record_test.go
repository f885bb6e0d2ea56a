package report_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
)

// TestRenderNamesTheRecordBesideIt: the reports name the results.jsonl in
// their directory, by its SHA-256 and size, in summary.json and in the run
// details (report.html, the workbook's Summary); reports rendered where
// there is no record name none, not the record read from elsewhere.
func TestRenderNamesTheRecordBesideIt(t *testing.T) {
	fx := fixtureNamed(t, "mixed")
	tests := []struct {
		name   string
		record string // the bytes of the results.jsonl in Dir; none when empty
	}{
		{name: "a record beside the reports", record: "{\"a\":1}\n{\"b\":2}\n"},
		{name: "no record beside the reports"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := fx.options(t)
			opts.Formats = []report.Format{report.FormatJSON}
			var want *report.RecordFile
			if tt.record != "" {
				// Not the record rendered (opts.Records is elsewhere): the
				// one the reports sit beside is what they name.
				if err := os.WriteFile(filepath.Join(opts.Dir, audit.ResultsFile), []byte(tt.record), 0o644); err != nil {
					t.Fatal(err)
				}
				h := sha256.Sum256([]byte(tt.record))
				want = &report.RecordFile{File: audit.ResultsFile, SHA256: hex.EncodeToString(h[:]), Bytes: int64(len(tt.record))}
			}
			if _, err := report.Render(context.Background(), opts); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(opts.Dir, report.SummaryFile))
			if err != nil {
				t.Fatal(err)
			}
			var m report.Model
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			got := m.Run.Record
			if (got == nil) != (want == nil) || got != nil && *got != *want {
				t.Errorf("summary.json names the record %+v, want %+v", got, want)
			}
			var detail string
			for _, d := range m.About {
				if d.Label == "Record" {
					detail = d.Value
				}
			}
			switch {
			case want == nil && detail != "":
				t.Errorf("the run details name a record none is beside: %q", detail)
			case want != nil && !strings.Contains(detail, want.SHA256):
				t.Errorf("the run details say the record is %q, want its digest %s whole", detail, want.SHA256)
			}
		})
	}
}

// TestRecordSize: the run detail says a record's size in words a reader
// takes in, with the exact count a comparison needs.
func TestRecordSize(t *testing.T) {
	tests := []struct {
		bytes int64
		want  string
	}{
		{0, "0 bytes"},
		{1, "1 byte"},
		{999, "999 bytes"},
		{1234567, "1.2 MB (1,234,567 bytes)"},
		{350_000_000_000, "350 GB (350,000,000,000 bytes)"},
		// Rounded to the unit above, not "1000 kB".
		{999_950, "1 MB (999,950 bytes)"},
		{999_949, "999.9 kB (999,949 bytes)"},
		{999_999_999, "1 GB (999,999,999 bytes)"},
	}
	for _, tt := range tests {
		if got := report.SizeWords(tt.bytes); got != tt.want {
			t.Errorf("SizeWords(%d) = %q, want %q", tt.bytes, got, tt.want)
		}
	}
}

// TestRecordDigestStopsWithItsContext: a record of hundreds of megabytes
// is read whole to digest it; a signal stops that read, as it stops the
// reports' own.
func TestRecordDigestStopsWithItsContext(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, audit.ResultsFile), []byte(strings.Repeat("{}\n", 100_000)), 0o644); err != nil {
		t.Fatal(err)
	}
	if rec, err := report.RecordIn(context.Background(), dir); err != nil || rec == nil || rec.Bytes != 300_000 {
		t.Fatalf("RecordIn = %+v, %v; want the record's 300,000 bytes", rec, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if rec, err := report.RecordIn(ctx, dir); !errors.Is(err, context.Canceled) {
		t.Errorf("RecordIn with its context cancelled = %+v, %v; want context.Canceled", rec, err)
	}
}
