// Package outdir manages an output directory: it checks that a path can be
// one before anything is created, creates and locks it, and deletes only
// what the auditor itself left there, and only while holding the lock.
package outdir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"unicode/utf8"

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
// directory (ErrShared), as named or once what is missing of it is made
// (~/new/..), and it is a writable directory, or it does not
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
// file system (of its volume) or the user's home directory (see homeDir),
// naming which; nil for any other directory. It asks both of dir as it is
// written, made absolute with its ".." taken lexically, and of dir as the
// system will resolve it once what is missing of it is made (see
// resolved): ~/new/.. and /{date}/.. lead back into them.
func shared(dir string) error {
	var ps []string
	if abs, err := filepath.Abs(dir); err == nil {
		ps = append(ps, abs)
	}
	if r, ok := resolved(dir); ok {
		ps = append(ps, r)
	}
	// What it resolves to, when the user named it otherwise.
	named := func(what, p string) error {
		if trimSeparators(dir) != p {
			what += " (" + p + ")"
		}
		return fmt.Errorf("%s, %w", what, ErrShared)
	}
	home := homeDir()
	for _, p := range ps {
		if root := filepath.VolumeName(p) + string(filepath.Separator); same(p, root) {
			return named("the root of the file system", root)
		}
	}
	for _, p := range ps {
		if home != "" && same(p, home) {
			return named("the home directory", home)
		}
	}
	return nil
}

// same reports whether the paths p and q name one directory: the same
// path, or the same file where both exist (a symlink, a bind mount, a
// case-insensitive volume).
func same(p, q string) bool {
	if filepath.Clean(p) == filepath.Clean(q) {
		return true
	}
	ps, err := os.Stat(p)
	if err != nil {
		return false
	}
	qs, err := os.Stat(q)
	return err == nil && os.SameFile(ps, qs)
}

// trimSeparators returns p without its trailing separators, but for the
// one of a root.
func trimSeparators(p string) string {
	for len(p) > len(filepath.VolumeName(p))+1 && os.IsPathSeparator(p[len(p)-1]) {
		p = p[:len(p)-1]
	}
	return p
}

// homeDir returns the user's home directory: $HOME (os.UserHomeDir), or,
// where that is unset, the one the system's account database names; ""
// when neither says.
func homeDir() string {
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		return home
	}
	if u, err := user.Current(); err == nil {
		return u.HomeDir
	}
	return ""
}

// resolved returns the absolute path that dir leads to once MkdirAll has
// made what is missing of it, without making anything: component by
// component, as the system walks it, each that exists through its
// symlinks, each that does not as the plain directory MkdirAll will make,
// so that a ".." after it goes back up to where it was made (DIR/y/.. is
// DIR). ok is false when the walk meets what MkdirAll could not pass (a
// file, a symlink to nothing, a directory that cannot be searched) or the
// working directory is unknown.
func resolved(dir string) (_ string, ok bool) {
	p := dir
	if !filepath.IsAbs(p) {
		wd, err := os.Getwd()
		if err != nil {
			return "", false
		}
		// Not joined: filepath.Join would take the ".." lexically.
		p = wd + string(filepath.Separator) + p
	}
	vol := filepath.VolumeName(p)
	cur := vol + string(filepath.Separator)
	for _, c := range strings.FieldsFunc(p[len(vol):], func(r rune) bool { return r < utf8.RuneSelf && os.IsPathSeparator(uint8(r)) }) {
		switch c {
		case ".":
		case "..":
			// cur holds no symlink: its parent is the system's "..".
			cur = filepath.Dir(cur)
		default:
			next := filepath.Join(cur, c)
			st, err := os.Lstat(next)
			switch {
			case errors.Is(err, fs.ErrNotExist):
			case err != nil:
				return "", false
			case st.Mode()&fs.ModeSymlink != 0:
				if next, err = filepath.EvalSymlinks(next); err != nil {
					return "", false
				}
			}
			cur = next
		}
	}
	return cur, true
}

// Clean returns dir without its steps into a directory that does not
// exist yet and back out of it: DIR/e/y/.., where e/y does not exist, is
// DIR/e. Made as written (MkdirAll, as mkdir -p), it would make e/y too,
// a directory nobody named as the output, and name DIR/e only once e/y
// was made; as Clean returns it, it names DIR/e before and after, and only
// DIR/e is made. A ".." after a name that exists stays, for the system to
// resolve (after a symlink it leads to the parent of the link's target,
// as resolved walks it, not to the link's own directory), and so does the
// rest as written: Clean returns dir itself when it has no such step. It
// makes nothing.
func Clean(dir string) string {
	vol := filepath.VolumeName(dir)
	rest := dir[len(vol):]
	var root string
	if len(rest) > 0 && os.IsPathSeparator(rest[0]) {
		root = string(filepath.Separator)
	}
	type step struct {
		name    string
		missing bool
	}
	var kept []step
	join := func() string {
		p := vol + root
		for i, s := range kept {
			if i > 0 {
				p += string(filepath.Separator)
			}
			p += s.name
		}
		return p
	}
	dropped := false
	for _, c := range strings.FieldsFunc(rest, func(r rune) bool { return r < utf8.RuneSelf && os.IsPathSeparator(uint8(r)) }) {
		if c == "." && len(kept) > 0 {
			continue // so that e/./.. goes as e/.. does
		}
		if c == ".." && len(kept) > 0 && kept[len(kept)-1].missing {
			kept, dropped = kept[:len(kept)-1], true
			continue
		}
		missing := false
		if c != "." && c != ".." {
			// What kept names is where the system finds it: only steps
			// into what does not exist, and back, are gone from it.
			prefix := join()
			if prefix != vol+root {
				prefix += string(filepath.Separator)
			}
			_, err := os.Lstat(prefix + c)
			missing = errors.Is(err, fs.ErrNotExist)
		}
		kept = append(kept, step{c, missing})
	}
	if !dropped {
		return dir
	}
	if p := join(); p != "" {
		return p
	}
	return "."
}

// place names the directory p for a message: "." is the working
// directory.
func place(p string) string {
	if p == "." {
		if wd, err := os.Getwd(); err == nil {
			return "the working directory (" + wd + ")"
		}
		return "the working directory"
	}
	return p
}

// Dir is an output directory held under its lock.
type Dir struct {
	Path   string
	unlock func()
}

// Open creates dir if needed (as Clean names it: DIR/e/y/.. makes e alone,
// and is the Dir's Path), takes its lock (an error wrapping
// dirlock.ErrBusy when another auditor holds it, dirlock.ErrNoLocks when
// its filesystem takes no locks), proves that files can be
// written in it, and clears what a killed run of the auditor left behind:
// its spill files and the temporary files of half-written reports.
func Open(dir string) (*Dir, error) {
	dir = Clean(dir)
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
	named := dir
	dir = Clean(dir)
	// Named through a directory not made yet and back (DIR/y/..), it is
	// the one Clean names, read now, before Open makes anything there.
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
		return nil, &Error{named, fmt.Errorf("%w (it holds files the demo did not write)", ErrNotDemo)}
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
				return nil, &Error{named, fmt.Errorf("%w (it holds files the demo did not write)", ErrNotDemo)}
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
