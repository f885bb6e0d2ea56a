package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/auditor-dev/auditor/internal/extsort"
	"github.com/auditor-dev/auditor/internal/outdir"
)

// TestInSpillFallsBackToTMPDIR: a .auditor-tmp left by a killed run, that
// this user cannot write (a reader of another's run) or on a full disk,
// was used all the same, and TMPDIR never tried: auditor mail failed,
// exit 4, telling to set a TMPDIR that was set.
func TestInSpillFallsBackToTMPDIR(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, outdir.TmpDir), 0o755); err != nil {
		t.Fatal(err)
	}
	var tried []string
	v, err := inSpill(dir, func(tmp string) (int, error) {
		tried = append(tried, tmp)
		if tmp != "" {
			return 0, fmt.Errorf("sorting: %w: creating one in %s: %w", extsort.ErrScratch, tmp, os.ErrPermission)
		}
		return 1, nil
	})
	if v != 1 || err != nil || len(tried) != 2 || tried[1] != "" {
		t.Errorf("inSpill = %d, %v, tried %q; want 1, nil, the directory's then TMPDIR", v, err, tried)
	}
	// Another error of the record is its own: not tried again.
	tried = nil
	_, err = inSpill(dir, func(tmp string) (int, error) {
		tried = append(tried, tmp)
		return 0, errors.New("line 3: not a result")
	})
	if err == nil || len(tried) != 1 {
		t.Errorf("inSpill of a bad record: %v, tried %q; want its error, once", err, tried)
	}
}

// TestInSpillFollowsNoLink: a .auditor-tmp that is a symbolic link (planted,
// or a directory swapped for one) was followed, and the index's files made
// wherever it led. It is passed over for TMPDIR, and what it leads to is
// left alone.
func TestInSpillFollowsNoLink(t *testing.T) {
	dir, elsewhere := t.TempDir(), t.TempDir()
	if err := os.Symlink(elsewhere, filepath.Join(dir, outdir.TmpDir)); err != nil {
		t.Fatal(err)
	}
	var got string
	if _, err := inSpill(dir, func(tmp string) (int, error) { got = tmp; return 0, nil }); err != nil || got != "" {
		t.Errorf("inSpill gave %q, %v; want TMPDIR (\"\")", got, err)
	}
	if fi, err := os.Lstat(filepath.Join(dir, outdir.TmpDir)); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was taken away or changed: %v", err)
	}
}

// TestScratchOfTooManyFiles: a record's index that could not open its
// temporary files for the limit of open files was told to give the disk
// room and set TMPDIR, where ulimit -n is the cure.
func TestScratchOfTooManyFiles(t *testing.T) {
	var b strings.Builder
	con := newConsole(&b)
	err := fmt.Errorf("--resume: indexing results.jsonl: sorting: %w: creating one in /x: %w", extsort.ErrScratch, syscall.EMFILE)
	if code := exitFor(err, con); code != exitFatal || !strings.Contains(b.String(), "ulimit -n") || strings.Contains(b.String(), "set TMPDIR") {
		t.Errorf("exit %d, %q; want %d and the limit of open files", code, b.String(), exitFatal)
	}
}

// TestScratchWithoutRoom: a record's index with no room for its temporary
// files (a read-only directory, a full disk) ends the run as fatal, not as
// an incomplete run that a --resume would finish (it would fail the same
// way), and tells where the files go and to set TMPDIR.
func TestScratchWithoutRoom(t *testing.T) {
	var b strings.Builder
	err := fmt.Errorf("--resume: indexing results.jsonl: sorting: %w: creating one in /x: %w", extsort.ErrScratch, os.ErrPermission)
	if code := exitFor(err, newConsole(&b)); code != exitFatal || !strings.Contains(b.String(), "set TMPDIR") || !strings.Contains(b.String(), outdir.TmpDir) {
		t.Errorf("exit %d, %q; want %d, the directory the index goes in and TMPDIR", code, b.String(), exitFatal)
	}
}

// TestInSpillNotAgainForTooManyFiles: a lack of open files was tried in
// the directory's .auditor-tmp, then in TMPDIR, reading the whole record
// each time, though no directory cures it.
func TestInSpillNotAgainForTooManyFiles(t *testing.T) {
	tried := 0
	_, err := inSpill(t.TempDir(), func(tmp string) (int, error) {
		tried++
		return 0, fmt.Errorf("sorting: %w: creating one in %s: %w", extsort.ErrScratch, tmp, syscall.EMFILE)
	})
	if !errors.Is(err, syscall.EMFILE) || tried != 1 {
		t.Errorf("inSpill: %v, tried %d times; want the limit of open files, once", err, tried)
	}
}
