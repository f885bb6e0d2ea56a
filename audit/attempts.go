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
// notAfter; a zero notAfter leaves out no time (KeptAttempts looks for a
// run's start in the whole file, as a clock ahead may have dated it). The
// file is the auditor's own but sits where anyone may write:
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
		if err != nil || (!notAfter.IsZero() && at.After(notAfter)) {
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

// KeptAttempts returns the starts of ri's attempts (AttemptStarts) joined
// with kept, all those that the directory of ri's record keeps
// (ReadAttempts with no bound): an attempt killed before it wrote its
// run.json kept its start there, and its results are in the record. kept
// is of ri's run only when it holds ri's start, as each attempt keeps the
// starts of those before it with its own; otherwise it is another run's
// (ri was put beside that run's record) and adds none, so that no check
// against ri's attempts (Mismatch) takes that run's for ri's. ri's start
// is looked for in the whole file, and a kept start before it is joined:
// a first attempt run with a clock ahead, and a resume once the clock was
// put right, keep a start ahead of now and one before the run's. A kept
// start after now that ri does not name is no attempt that has run: it
// adds none. Sorted, each once; the slice is the caller's.
func (ri RunInfo) KeptAttempts(kept []time.Time, now time.Time) []time.Time {
	out := ri.AttemptStarts()
	if ri.StartedAt.IsZero() || !slices.ContainsFunc(kept, ri.StartedAt.Equal) {
		return out
	}
	for _, at := range kept {
		if !at.After(now) {
			out = append(out, at)
		}
	}
	slices.SortFunc(out, time.Time.Compare)
	return slices.CompactFunc(out, time.Time.Equal)
}

// JoinKept makes ri's Attempts name those that kept adds (KeptAttempts):
// the attempts killed before they wrote ri, whose results are in its
// record. ri is left as it is when kept adds none.
func (ri *RunInfo) JoinKept(kept []time.Time, now time.Time) {
	if attempts := ri.KeptAttempts(kept, now); len(attempts) > len(ri.AttemptStarts()) {
		ri.Attempts = attempts
	}
}
