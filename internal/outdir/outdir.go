// Package outdir manages an output directory: it checks that a path can be
// one before anything is created, creates and locks it, and deletes only
// what the auditor itself left there, and only while holding the lock.
package outdir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"syscall"

	"github.com/auditor-dev/auditor/internal/atomicfile"
	"github.com/auditor-dev/auditor/internal/dirlock"
)

// Names the auditor keeps in a directory beside the reports.
const (
	// TmpDir is the subdirectory for spill files (the workbook's rows past
	// what fits in memory), cleared when the directory is opened.
	TmpDir = ".auditor-tmp"
	// DemoMarker marks a directory that auditor demo created: the only
	// kind whose reports the demo replaces.
	DemoMarker = ".auditor-demo"
	// PaceFile is where a shard tells the shards beside it its pace
	// (package paceboard), while it runs.
	PaceFile = ".auditor-pace"
	// PaceTmp is where the pace is written before it is renamed over
	// PaceFile.
	PaceTmp  = ".auditor-pace.tmp"
	lockName = ".auditor.lock"
)

// ErrNotDir is returned (wrapped) by Check when the path exists and is not a
// directory.
var ErrNotDir = errors.New("not a directory")

// ErrNotDemo is returned by OpenDemo, wrapped in an *Error, for a
// directory that holds files but was not created by the demo.
var ErrNotDemo = errors.New("not a directory of the demo")

// ErrShared is returned (wrapped in an *Error) by Check for the root of the
// file system and for the user's home directory itself, however named: a
// run would put its record, its lock and its reports among files that are
// not its own, where a later run and every cleanup would look too.
var ErrShared = errors.New("not a directory for one run's reports")

// Error is Check's error, and OpenDemo's for ErrNotDemo: Dir, as it was
// named, cannot be an output directory, for Err, which wraps ErrNotDir,
// atomicfile.ErrNotWritable, ErrShared or ErrNotDemo and names the path on the way
// that is the cause, where it is not Dir. A caller that names Dir itself
// (--out DIR) shows Err alone.
type Error struct {
	Dir string
	Err error
}

func (e *Error) Error() string { return e.Dir + ": " + e.Err.Error() }

func (e *Error) Unwrap() error { return e.Err }

// Check reports, without creating anything, whether dir can be an output
// directory: it is neither the root of the file system nor the home
// directory (ErrShared), and it is a writable directory, or it does not
// exist and its nearest existing parent is a writable directory. The error
// is an *Error, and wraps ErrShared, ErrNotDir or atomicfile.ErrNotWritable:
// a symlink to nothing, at dir or on the way, is not writable (MkdirAll
// would find it there and fail with "file exists").
func Check(dir string) error {
	if err := shared(dir); err != nil {
		return &Error{dir, err}
	}
	named := filepath.Clean(dir)
	p := named
	for {
		st, err := os.Stat(p)
		switch {
		case err == nil && !st.IsDir():
			if p == named {
				return &Error{dir, ErrNotDir}
			}
			return &Error{dir, fmt.Errorf("%s is %w", p, ErrNotDir)}
		case err == nil:
			if err := writable(p); err != nil {
				if p == named {
					return &Error{dir, fmt.Errorf("%w: %w", atomicfile.ErrNotWritable, err)}
				}
				return &Error{dir, fmt.Errorf("%w: cannot create it in %s: %w", atomicfile.ErrNotWritable, place(p), err)}
			}
			return nil
		case errors.Is(err, syscall.ENOTDIR):
			// A parent on the way is a file: walk up to find it.
		case errors.Is(err, fs.ErrNotExist):
			if target, err := os.Readlink(p); err == nil {
				what := "it is"
				if p != named {
					what = p + " is"
				}
				return &Error{dir, fmt.Errorf("%w: %s a symlink to %s, which does not exist", atomicfile.ErrNotWritable, what, target)}
			}
		default:
			return &Error{dir, fmt.Errorf("%w: %w", atomicfile.ErrNotWritable, err)}
		}
		parent := filepath.Dir(p)
		if parent == p {
			return &Error{dir, fmt.Errorf("%w: no existing parent", atomicfile.ErrNotWritable)}
		}
		p = parent
	}
}

// shared returns an error wrapping ErrShared when dir is the root of the
// file system (of its volume) or the user's home directory, as the system
// resolves it (a symlink, "." there, a ".." back into it), naming which;
// nil for any other directory, and for one that does not exist.
func shared(dir string) error {
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil
	}
	is := func(p string) bool {
		o, err := os.Stat(p)
		return err == nil && os.SameFile(st, o)
	}
	// What it resolves to, when the user named it otherwise.
	named := func(what, p string) error {
		if filepath.Clean(dir) != filepath.Clean(p) {
			what += " (" + p + ")"
		}
		return fmt.Errorf("%s, %w", what, ErrShared)
	}
	if root := filepath.VolumeName(abs) + string(filepath.Separator); is(root) {
		return named("the root of the file system", root)
	}
	if home, err := os.UserHomeDir(); err == nil && home != "" && is(home) {
		return named("the home directory", home)
	}
	return nil
}

// place names the directory p for a message: "." is the working
// directory.
func place(p string) string {
	if p == "." {
		return "the working directory"
	}
	return p
}

// Dir is an output directory held under its lock.
type Dir struct {
	Path   string
	unlock func()
}

// Open creates dir if needed, takes its lock (an error wrapping
// dirlock.ErrBusy when another auditor holds it, dirlock.ErrNoLocks when
// its filesystem takes no locks), proves that files can be
// written in it, and clears what a killed run of the auditor left behind:
// its spill files and the temporary files of half-written reports.
func Open(dir string) (*Dir, error) {
	if err := os.MkdirAll(dir, 0o777); err != nil {
		// Check says why in words ("a symlink to nothing", not "file
		// exists"); its caller names dir.
		var ce *Error
		if errors.As(Check(dir), &ce) {
			return nil, ce.Err
		}
		return nil, fmt.Errorf("%w: %w", atomicfile.ErrNotWritable, err)
	}
	unlock, err := dirlock.Lock(dir)
	if err != nil {
		if errors.Is(err, dirlock.ErrBusy) || errors.Is(err, dirlock.ErrNoLocks) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", atomicfile.ErrNotWritable, err)
	}
	d := &Dir{Path: dir, unlock: unlock}
	if err := atomicfile.CheckDir(dir); err != nil {
		d.Close()
		return nil, err
	}
	d.clearStale()
	return d, nil
}

// OpenDemo is Open for the demo: it refuses (with an error wrapping
// ErrNotDemo) a directory that holds anything but was not created by the
// demo, marks a new one as the demo's, and removes the given files of an
// earlier demo run once it holds the lock.
func OpenDemo(dir string, own ...string) (*Dir, error) {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %w", atomicfile.ErrNotWritable, err)
	}
	marked, empty := false, true
	for _, e := range entries {
		switch e.Name() {
		case DemoMarker:
			marked = true
		case lockName, TmpDir, PaceFile, PaceTmp:
		default:
			empty = false
		}
	}
	if !marked && !empty {
		return nil, &Error{dir, fmt.Errorf("%w (it holds files the demo did not write)", ErrNotDemo)}
	}
	d, err := Open(dir)
	if err != nil {
		return nil, err
	}
	// Checked again under the lock: a run may have started in between.
	if _, err := os.Stat(filepath.Join(dir, DemoMarker)); errors.Is(err, fs.ErrNotExist) {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if n := e.Name(); n != lockName && n != TmpDir && n != PaceFile && n != PaceTmp {
				d.Close()
				return nil, &Error{dir, fmt.Errorf("%w (it holds files the demo did not write)", ErrNotDemo)}
			}
		}
		if err := atomicfile.WriteFile(filepath.Join(dir, DemoMarker), []byte("written by auditor demo: its reports are replaced on every demo run\n")); err != nil {
			d.Close()
			return nil, fmt.Errorf("%w: %w", atomicfile.ErrNotWritable, err)
		}
	}
	for _, name := range own {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			d.Close()
			return nil, fmt.Errorf("%w: %w", atomicfile.ErrNotWritable, err)
		}
	}
	return d, nil
}

// Close releases the lock. It is safe to call more than once.
func (d *Dir) Close() {
	if d.unlock != nil {
		d.unlock()
		d.unlock = nil
	}
}

// CloseAndRemoveIfBare closes d and removes its directory when it holds
// nothing but what Open put there (its lock, an empty spill directory): a
// directory made by a run refused before it wrote anything. Anything else
// in it keeps it.
func (d *Dir) CloseAndRemoveIfBare() {
	entries, err := os.ReadDir(d.Path)
	bare := err == nil
	for _, e := range entries {
		switch e.Name() {
		case lockName:
		case TmpDir:
			if sub, err := os.ReadDir(filepath.Join(d.Path, TmpDir)); err != nil || len(sub) > 0 {
				bare = false
			}
		default:
			bare = false
		}
	}
	if bare {
		// Under the lock: no other auditor writes it meanwhile.
		os.Remove(filepath.Join(d.Path, TmpDir))
		os.Remove(filepath.Join(d.Path, lockName))
		os.Remove(d.Path)
	}
	d.Close()
}

// Tmp returns the directory for spill files, creating it.
func (d *Dir) Tmp() (string, error) {
	p := filepath.Join(d.Path, TmpDir)
	return p, os.MkdirAll(p, 0o777)
}

// staleTemp matches atomicfile's temporary names.
var staleTemp = regexp.MustCompile(`^\..+\.tmp-[0-9a-f]{12}$`)

// clearStale removes, under the lock, the spill directory and the temporary
// files that atomicfile makes: a process that held this lock and died left
// them; no live one can be writing them.
func (d *Dir) clearStale() {
	os.RemoveAll(filepath.Join(d.Path, TmpDir))
	entries, _ := os.ReadDir(d.Path)
	for _, e := range entries {
		if e.Type().IsRegular() && staleTemp.MatchString(e.Name()) {
			os.Remove(filepath.Join(d.Path, e.Name()))
		}
	}
}
