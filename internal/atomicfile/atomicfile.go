// Package atomicfile writes files so that a reader sees either the old file,
// or the whole new one, never a half-written file.
package atomicfile

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Write creates path by calling fn with a buffered writer on a temporary file
// in the same directory, then syncing it and renaming it over path. If fn or
// any step fails, the temporary file is removed and path is untouched. The
// file's permissions are 0666 less the process umask, like os.Create.
func Write(path string, fn func(w io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	var suffix [6]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		return err
	}
	tmp := filepath.Join(dir, "."+base+".tmp-"+hex.EncodeToString(suffix[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		// Named as the caller gave it: the temporary file's is a name
		// the user never gave.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return &fs.PathError{Op: "create", Path: path, Err: pe.Err}
		}
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 256<<10)
	if err := fn(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("renaming into %s: %w", path, err)
	}
	// The rename itself is durable only once the directory is synced.
	if d, err := os.Open(filepath.Clean(dir + ".")); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// WriteFile is Write for bytes already in memory.
func WriteFile(path string, b []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// ErrLink is returned by OpenFile when the file is a symbolic link.
var ErrLink = errors.New("a symbolic link, not a file: the auditor does not write through links in its directory; put the file itself in its place, or remove the link")

// OpenFile is os.OpenFile for a file the auditor appends to or rewrites in
// place (the record, the lock), which refuses a symbolic link in place of
// the file, dangling or not, with an error wrapping ErrLink: a link planted
// in the output directory must not make the auditor empty, cut or write a
// file elsewhere. Files written whole go through Write, whose rename
// replaces a link instead of following it.
func OpenFile(path string, flag int, perm os.FileMode) (*os.File, error) {
	if noFollow == 0 {
		if st, err := os.Lstat(path); err == nil && st.Mode()&os.ModeSymlink != 0 {
			return nil, fmt.Errorf("%s: %w", path, ErrLink)
		}
	}
	f, err := os.OpenFile(path, flag|noFollow, perm)
	if err != nil {
		if st, lerr := os.Lstat(path); lerr == nil && st.Mode()&os.ModeSymlink != 0 {
			return nil, fmt.Errorf("%s: %w", path, ErrLink)
		}
		return nil, err
	}
	return f, nil
}

// ErrNotWritable is returned by CheckDir when the directory cannot take files.
var ErrNotWritable = errors.New("directory not writable")

// CheckDir creates dir if needed and proves that a file can be created in it,
// so that a run finds out before its first API call, not after an hour.
func CheckDir(dir string) error {
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return fmt.Errorf("%w: %w", ErrNotWritable, err)
	}
	// A name of its own, made here (O_EXCL): whatever is already in the
	// directory, a link included, is not touched.
	var suffix [6]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		return err
	}
	probe := filepath.Join(dir, ".auditor-write-check.tmp-"+hex.EncodeToString(suffix[:])) // a temporary name: a killed run's is cleared
	f, err := os.OpenFile(probe, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotWritable, err)
	}
	f.Close()
	return os.Remove(probe)
}
