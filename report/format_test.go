package report_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/report"
)

// TestEveryFormat renders every fixture with every format of Formats(), so
// that no format is left untested: each must write at least one non-empty
// file inside the output directory and return the paths sorted.
func TestEveryFormat(t *testing.T) {
	for _, f := range report.Formats() {
		for _, fx := range fixtures(t) {
			t.Run(string(f)+"/"+fx.name, func(t *testing.T) {
				opts := fx.options(t)
				if w, err := report.NewWriter(f, opts); w == nil || err != nil {
					t.Fatalf("format %s has no writer: %v", f, err)
				}
				opts.Formats = []report.Format{f}
				paths, err := report.Render(context.Background(), opts)
				if err != nil {
					t.Fatal(err)
				}
				if len(paths) == 0 {
					t.Fatal("Render returned no paths")
				}
				if !slices.IsSorted(paths) {
					t.Errorf("paths not sorted: %q", paths)
				}
				for _, p := range paths {
					if filepath.Dir(p) != filepath.Clean(opts.Dir) {
						t.Errorf("%s is not in the output directory %s", p, opts.Dir)
					}
					st, err := os.Stat(p)
					if err != nil {
						t.Fatal(err)
					}
					if st.Size() == 0 {
						t.Errorf("%s is empty", p)
					}
				}
				// No temporary files may be left behind.
				entries, err := os.ReadDir(opts.Dir)
				if err != nil {
					t.Fatal(err)
				}
				if len(entries) != len(paths) {
					var names []string
					for _, e := range entries {
						names = append(names, e.Name())
					}
					t.Errorf("directory holds %q, Render returned %q", names, paths)
				}
			})
		}
	}
}

func TestRenderDefaultFormats(t *testing.T) {
	opts := fixtureNamed(t, "mixed").options(t)
	var want []string
	for _, f := range report.Formats() {
		if w, err := report.NewWriter(f, opts); w == nil || err != nil {
			t.Fatalf("format %s has no writer: %v", f, err)
		}
	}
	paths, err := report.Render(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{report.AssociationsCSV, report.InstancesCSV, report.ErrorCodesCSV, report.SummaryFile} {
		want = append(want, filepath.Join(opts.Dir, name))
	}
	for _, p := range want {
		if !slices.Contains(paths, p) {
			t.Errorf("Render with default formats did not write %s (got %q)", p, paths)
		}
	}
}

func TestRenderDuplicateFormatOnce(t *testing.T) {
	opts := fixtureNamed(t, "mixed").options(t)
	opts.Formats = []report.Format{report.FormatJSON, report.FormatJSON}
	got, err := report.Render(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(opts.Dir, report.SummaryFile)}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*report.Options)
		wantIs  error
		wantMsg string
	}{
		{"unknown format", func(o *report.Options) { o.Formats = []report.Format{"pdf"} }, report.ErrUnknownFormat, `"pdf"`},
		{"no directory", func(o *report.Options) { o.Dir = "" }, nil, "no output directory"},
		{"no records", func(o *report.Options) { o.Records = nil; o.Formats = []report.Format{report.FormatJSON} }, nil, "no records"},
		{"missing directory", func(o *report.Options) {
			o.Dir = filepath.Join(o.Dir, "missing")
			o.Formats = []report.Format{report.FormatJSON}
		}, os.ErrNotExist, "summary.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := fixtureNamed(t, "mixed").options(t)
			tt.edit(&opts)
			paths, err := report.Render(context.Background(), opts)
			if err == nil {
				t.Fatalf("Render succeeded with %q, want an error", paths)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v is not %v", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not mention %q", err, tt.wantMsg)
			}
			if len(paths) != 0 {
				t.Errorf("paths %q returned with the error", paths)
			}
		})
	}
}

func TestRenderCanceled(t *testing.T) {
	opts := fixtureNamed(t, "mixed").options(t)
	opts.Formats = []report.Format{report.FormatCSV, report.FormatJSON}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := report.Render(ctx, opts); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
	entries, err := os.ReadDir(opts.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("a canceled Render left %d files", len(entries))
	}
}

func TestParseFormats(t *testing.T) {
	tests := []struct {
		in      string
		want    []report.Format
		wantErr bool
	}{
		{"csv", []report.Format{report.FormatCSV}, false},
		{"csv,xlsx", []report.Format{report.FormatCSV, report.FormatXLSX}, false},
		{"json, HTML ,csv", []report.Format{report.FormatCSV, report.FormatHTML, report.FormatJSON}, false},
		{"csv,csv", []report.Format{report.FormatCSV}, false},
		{"csv,xlsx,html,json", report.Formats(), false},
		{"", nil, true},
		{"csv,", nil, true},
		{"pdf", nil, true},
		{"csv,pdf", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := report.ParseFormats(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("got %q, want an error", got)
				}
				if !errors.Is(err, report.ErrUnknownFormat) {
					t.Errorf("error %v is not ErrUnknownFormat", err)
				}
				// One name: "in \"pdf\"" would only say it again.
				if tt.in == "pdf" && strings.Contains(err.Error(), ` in "pdf"`) {
					t.Errorf("error %q repeats the one name given", err)
				}
				if tt.in == "csv,pdf" && !strings.Contains(err.Error(), `"pdf" in "csv,pdf"`) {
					t.Errorf("error %q does not say where among the names", err)
				}
				for _, f := range report.Formats() {
					if !strings.Contains(err.Error(), string(f)) {
						t.Errorf("error %q does not list the valid format %s", err, f)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNewWriterUnknown(t *testing.T) {
	w, err := report.NewWriter("pdf", report.Options{})
	if !errors.Is(err, report.ErrUnknownFormat) || w != nil {
		t.Errorf("got %v, %v; want nil, ErrUnknownFormat", w, err)
	}
}
