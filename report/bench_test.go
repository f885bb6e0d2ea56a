package report_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/bench/bare"
	"github.com/auditor-dev/auditor/bench/synth"
	"github.com/auditor-dev/auditor/report"
)

// The rendering benchmarks time each format against the bare library
// writing the same cells from the same record (package bench/bare), one of
// each per iteration so that load from other processes falls on both alike,
// and report the product's time as a multiple of the bare one
// (x_bare). The record is synthetic (package bench/synth): instances with
// five associations each. The default size keeps a run short; the issue's
// size is -render-instances 200000 (1,000,000 rows). bench/render.sh times
// the whole "auditor report" process at that size, with its peak memory.
//
//	go test ./report -run '^$' -bench Render -benchtime 3x
//	go test ./report -run '^$' -bench Render -benchtime 1x -render-instances 200000 -timeout 30m
var renderInstances = flag.Int("render-instances", 20_000, "instances (five association rows each) in the rendering benchmarks")

// renderRecord writes the synthetic record cfg describes, with its run.json,
// and returns it open in the Options the CLI would use for it, and its path.
func renderRecord(tb testing.TB, cfg synth.Config) (report.Options, string) {
	tb.Helper()
	dir := tb.TempDir()
	path, _, err := synth.WriteDir(dir, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	info, err := audit.ReadRunInfo(filepath.Join(dir, audit.RunFile))
	if err != nil {
		tb.Fatal(err)
	}
	rs, err := audit.OpenRecords(path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { rs.Close() })
	return report.Options{Dir: tb.TempDir(), Records: rs, Run: info, StaleAfter: audit.DefaultStaleAfter}, path
}

func renderModel(tb testing.TB, opts report.Options) *report.Model {
	tb.Helper()
	m, err := report.Build(context.Background(), opts)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// staleBefore is the cut-off the product applies by default.
func staleBefore(opts report.Options) time.Time {
	return audit.DefaultStaleAfter.Cutoff(opts.Run.StartedAt)
}

// benchPair runs product and baseline alternately, one of each per
// iteration, and reports each one's seconds and their ratio.
func benchPair(b *testing.B, rows int, product, baseline func() error) {
	b.Helper()
	var prod, base time.Duration
	for b.Loop() {
		start := time.Now()
		if err := baseline(); err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		if err := product(); err != nil {
			b.Fatal(err)
		}
		base += mid.Sub(start)
		prod += time.Since(mid)
	}
	n := float64(b.N)
	b.ReportMetric(float64(rows), "rows")
	b.ReportMetric(prod.Seconds()/n, "product_s")
	b.ReportMetric(base.Seconds()/n, "bare_s")
	b.ReportMetric(float64(prod)/float64(base), "x_bare")
}

// BenchmarkRenderCSV: the CSV Writer (associations.csv, instances.csv,
// error_codes.csv, two passes over the record) against bare.CSV
// (associations.csv and instances.csv, byte for byte the same, one pass),
// both given the same open record; the product's Model is built beforehand
// and not timed.
func BenchmarkRenderCSV(b *testing.B) {
	opts, _ := renderRecord(b, synth.Config{Instances: *renderInstances})
	m := renderModel(b, opts)
	w, err := report.NewWriter(report.FormatCSV, opts)
	if err != nil {
		b.Fatal(err)
	}
	bareDir := b.TempDir()
	ctx := context.Background()
	benchPair(b, m.Totals.Associations,
		func() error { _, err := w.Write(ctx, m, opts.Records, opts.Dir); return err },
		func() error { return bare.CSV(opts.Records, bareDir, m.LabelKeys, staleBefore(opts)) })
}

// BenchmarkRenderXLSX: the XLSX Writer (report.xlsx, all seven sheets) against
// bare.XLSX (the cells of its four list sheets, which are all but a few
// hundred of its cells, with one StreamWriter each), both given the same open
// record; the Model is built beforehand and not timed.
func BenchmarkRenderXLSX(b *testing.B) {
	opts, _ := renderRecord(b, synth.Config{Instances: *renderInstances})
	m := renderModel(b, opts)
	w, err := report.NewWriter(report.FormatXLSX, opts)
	if err != nil {
		b.Fatal(err)
	}
	barePath := filepath.Join(b.TempDir(), "bare.xlsx")
	ctx := context.Background()
	benchPair(b, m.Totals.Associations,
		func() error { _, err := w.Write(ctx, m, opts.Records, opts.Dir); return err },
		func() error { return bare.XLSX(opts.Records, barePath, m.LabelKeys, staleBefore(opts)) })
}

// BenchmarkRenderFromRecord times what "auditor report --format F" does
// with the record, from the file on disk: index it, build the Model, write
// the format; against the bare writer indexing the same file and writing the
// same cells. The ratio includes the product's extra passes over the
// record (the Model's, and the CSV's second).
func BenchmarkRenderFromRecord(b *testing.B) {
	opts, path := renderRecord(b, synth.Config{Instances: *renderInstances})
	rows := *renderInstances * 5
	ctx := context.Background()
	for _, tc := range []struct {
		format report.Format
		bare   func(rs *audit.Records, dir string) error
	}{
		{report.FormatCSV, func(rs *audit.Records, dir string) error {
			return bare.CSV(rs, dir, synth.LabelKeys, staleBefore(opts))
		}},
		{report.FormatXLSX, func(rs *audit.Records, dir string) error {
			return bare.XLSX(rs, filepath.Join(dir, "bare.xlsx"), synth.LabelKeys, staleBefore(opts))
		}},
	} {
		b.Run(string(tc.format), func(b *testing.B) {
			bareDir := b.TempDir()
			benchPair(b, rows,
				func() error {
					rs, err := audit.OpenRecords(path)
					if err != nil {
						return err
					}
					defer rs.Close()
					o := opts
					o.Records, o.Formats = rs, []report.Format{tc.format}
					_, err = report.Render(ctx, o)
					return err
				},
				func() error {
					rs, err := audit.OpenRecords(path)
					if err != nil {
						return err
					}
					defer rs.Close()
					return tc.bare(rs, bareDir)
				})
		})
	}
}

// BenchmarkRenderBuild: building the Model against one bare pass over the
// record that decodes every line and does nothing with it: the floor of any
// pass.
func BenchmarkRenderBuild(b *testing.B) {
	opts, _ := renderRecord(b, synth.Config{Instances: *renderInstances})
	ctx := context.Background()
	benchPair(b, *renderInstances*5,
		func() error { _, err := report.Build(ctx, opts); return err },
		func() error { return opts.Records.Each(func(audit.Result) error { return nil }) })
}

// TestBareWritersMatchReport checks that the baselines of the rendering
// benchmarks write what the product writes: the same bytes for
// associations.csv and instances.csv, the same cell values on the four list
// sheets of report.xlsx. Without it a ratio could compare unlike work.
func TestBareWritersMatchReport(t *testing.T) {
	opts, _ := renderRecord(t, synth.Config{Instances: 40, NotManaged: 3, Errors: 2, Seed: 9})
	m := renderModel(t, opts)
	if !slices.Equal(m.LabelKeys, synth.LabelKeys) {
		t.Fatalf("label keys %q, synth.LabelKeys %q", m.LabelKeys, synth.LabelKeys)
	}
	if m.Failures.Count == 0 || m.Problems.Count != 5 || m.Stale.Count == 0 {
		t.Fatalf("record exercises too little: %d failures, %d problems, %d stale", m.Failures.Count, m.Problems.Count, m.Stale.Count)
	}
	ctx := context.Background()
	for _, f := range []report.Format{report.FormatCSV, report.FormatXLSX} {
		w, err := report.NewWriter(f, opts)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(ctx, m, opts.Records, opts.Dir); err != nil {
			t.Fatal(err)
		}
	}
	bareDir := t.TempDir()

	t.Run("csv", func(t *testing.T) {
		if err := bare.CSV(opts.Records, bareDir, m.LabelKeys, staleBefore(opts)); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{report.AssociationsCSV, report.InstancesCSV} {
			got, err := os.ReadFile(filepath.Join(bareDir, name))
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join(opts.Dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: bare writer's %d bytes differ from the product's %d", name, len(got), len(want))
			}
		}
	})

	t.Run("xlsx", func(t *testing.T) {
		path := filepath.Join(bareDir, "bare.xlsx")
		if err := bare.XLSX(opts.Records, path, m.LabelKeys, staleBefore(opts)); err != nil {
			t.Fatal(err)
		}
		got, want := openXLSX(t, path), openXLSX(t, filepath.Join(opts.Dir, report.XLSXFile))
		for _, sheet := range []string{bare.SheetAssociations, bare.SheetFailures, bare.SheetInstances, bare.SheetProblems} {
			g, err := got.GetRows(sheet)
			if err != nil {
				t.Fatal(err)
			}
			w, err := want.GetRows(sheet)
			if err != nil {
				t.Fatal(err)
			}
			if len(g) != len(w) {
				t.Errorf("%s: bare writer has %d rows, the product %d", sheet, len(g), len(w))
				continue
			}
			for i := range w {
				if !slices.Equal(g[i], w[i]) {
					t.Errorf("%s row %d:\nbare    %q\nproduct %q", sheet, i+1, g[i], w[i])
				}
			}
		}
	})
}

func openXLSX(t *testing.T, path string) *excelize.File {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
