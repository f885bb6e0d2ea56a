package report

import (
	"context"
	"encoding/json"
	"io"
	"path/filepath"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/internal/atomicfile"
)

// SummaryFile is the file FormatJSON writes: the Model as indented JSON.
const SummaryFile = "summary.json"

type jsonWriter struct{}

func newJSON(Options) Writer { return jsonWriter{} }

// Write writes summary.json. Keys come in the Model's field order (maps
// sorted by key). <, > and & in strings are escaped as \u003c, \u003e and
// \u0026, which decode to the same text, so that the file is safe to inline
// into a web page.
func (jsonWriter) Write(ctx context.Context, m *Model, _ *audit.Records, dir string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, SummaryFile)
	err := atomicfile.Write(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(m)
	})
	if err != nil {
		return nil, err
	}
	return []string{path}, nil
}

// jsonEncode writes v as indented JSON.
func jsonEncode(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
