package audit

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/auditor-dev/auditor/internal/atomicfile"
)

// AttemptsFile is where an output directory keeps when each attempt of its
// run started, one RFC 3339 time a line: written as an attempt begins,
// before its first result, so that an attempt killed before its run.json
// (written last) still leaves its start for the resume that follows.
const AttemptsFile = ".auditor-attempts"

// maxAttemptsFile bounds what ReadAttempts reads: tens of thousands of
// attempts, and a file grown by anything else cannot fill the memory.
const maxAttemptsFile = 1 << 20

// ReadAttempts returns the attempts' starts kept at path (an AttemptsFile),
// sorted, each once, leaving out lines that are not a time and times after
// notAfter. The file is the auditor's own but sits where anyone may write:
// a missing file, one that is not a regular file (a link, a pipe) or one
// that cannot be read gives none, never an error.
func ReadAttempts(path string, notAfter time.Time) []time.Time {
	if st, err := os.Lstat(path); err != nil || !st.Mode().IsRegular() {
		return nil
	}
	f, err := atomicfile.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []time.Time
	sc := bufio.NewScanner(io.LimitReader(f, maxAttemptsFile))
	sc.Buffer(nil, maxAttemptsFile)
	for sc.Scan() {
		at, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(sc.Text()))
		if err != nil || at.After(notAfter) {
			continue
		}
		out = append(out, at.UTC())
	}
	slices.SortFunc(out, time.Time.Compare)
	return slices.CompactFunc(out, time.Time.Equal)
}

// WriteAttempts replaces the file at path with attempts, one a line in
// UTC to the nanosecond (so that a time read back is the one written). The
// caller holds the directory's lock.
func WriteAttempts(path string, attempts []time.Time) error {
	var b bytes.Buffer
	for _, at := range attempts {
		b.WriteString(at.UTC().Format(time.RFC3339Nano))
		b.WriteByte('\n')
	}
	return atomicfile.WriteFile(path, b.Bytes())
}
