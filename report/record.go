package report

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"path/filepath"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/internal/nowait"
)

// RecordFile names the record a set of reports was rendered from: the
// results.jsonl in their directory, by its digest and size as it stood
// when the reports were written, so that a report left beside another
// record, or beside its own edited since, can be told from one of it.
type RecordFile struct {
	// File is its name in the reports' directory (audit.ResultsFile).
	File string `json:"file"`
	// SHA256 is the SHA-256 of its bytes, in lower-case hex.
	SHA256 string `json:"sha256"`
	// Bytes is its size.
	Bytes int64 `json:"bytes"`
}

// recordIn digests the record in dir, streaming it: a record can be
// hundreds of megabytes. It is nil, with no error, when dir holds none (a
// program that renders records kept elsewhere): the reports then name no
// record rather than one they do not sit beside.
func recordIn(ctx context.Context, dir string) (*RecordFile, error) {
	path := filepath.Join(dir, audit.ResultsFile)
	f, err := nowait.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("digesting the record: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return nil, fmt.Errorf("digesting the record: %w", err)
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("digesting the record: %s is %s, not a regular file", path, audit.FileKind(st.Mode()))
	}
	h := sha256.New()
	// The size is of the bytes digested, not of a Stat that a writer could
	// have made stale in between.
	n, err := io.Copy(h, ctxReader{ctx, f})
	if err != nil {
		return nil, fmt.Errorf("digesting the record: %w", err)
	}
	return &RecordFile{File: audit.ResultsFile, SHA256: hex.EncodeToString(h.Sum(nil)), Bytes: n}, nil
}

// ctxReader reads r until ctx is done: a signal stops a long read.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// recordDetails is the run detail that names the record (Run.Record), its
// digest whole so that a reader can copy it and compare; none without one.
func recordDetails(m *Model) []Detail {
	r := m.Run.Record
	if r == nil {
		return nil
	}
	return []Detail{{Label: "Record", Value: fmt.Sprintf("%s, %s, SHA-256 %s", r.File, sizeWords(r.Bytes), r.SHA256)}}
}

// sizeWords says a size in bytes, in decimal units past a thousand, with
// the exact count beside them: "1.2 MB (1,234,567 bytes)".
func sizeWords(n int64) string {
	exact := plural(int(n), "byte", "bytes")
	units := []string{"kB", "MB", "GB", "TB"}
	f, unit := float64(n), ""
	for _, u := range units {
		// As said, to a tenth: 999.95 would read "1000".
		if math.Round(f*10)/10 < 1000 {
			break
		}
		f, unit = f/1000, u
	}
	if unit == "" {
		return exact
	}
	return decimal(f) + " " + unit + " (" + exact + ")"
}
