package report

import (
	"bufio"
	"cmp"
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/internal/atomicfile"
)

// SplitIndex is the file that lists the groups of a split, in the split's
// directory.
const SplitIndex = "index.csv"

// splitMarker marks a directory that Split made, and may replace.
const splitMarker = ".auditor-split"

// splitOpen bounds the group files held open at once while the record is
// partitioned: a thousand owners must not need a thousand descriptors.
const splitOpen = 64

// SplitGroup is one value of the label a split is by, and where its reports
// are.
type SplitGroup struct {
	// Value is the label's value ("" for instances without the label).
	Value string
	// Dir is the group's directory; Name its last element.
	Dir, Name string
	// Instances and Noncompliant count its instances.
	Instances, Noncompliant int
	// Paths are the files written there.
	Paths []string
}

// SplitDir returns the directory of a split by label under dir:
// dir/by-LABEL, with the label made file-safe as group names are.
func SplitDir(dir, label string) string { return filepath.Join(dir, "by-"+SafeName(label)) }

var (
	plainName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)
	// hashedName is how every name SafeName hashes ends.
	hashedName = regexp.MustCompile(`-[0-9a-f]{8}$`)
	// deviceName is a name Windows keeps for a device, whatever follows
	// its first dot.
	deviceName = regexp.MustCompile(`^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\.|$)`)
)

// SafeName turns a label value into a directory name that is safe on any
// file system and can never be another value's: a value that is already a
// plain lower-case name (letters, digits, ".", "_", "-") is itself; any other
// (capitals, spaces, slashes, "..", non-ASCII, empty) is its safe characters
// then a hash of the exact value, so that "Alice", "alice " and "alice"
// are three directories even where case is folded. A plain value spelt as a
// hashed name (ending in "-" and eight hex digits), as the split's index,
// or as a Windows device name is hashed too: values are text from outside
// (anyone who may tag an instance), and no value may take another's
// directory or the index's place.
func SafeName(v string) string {
	if plainName.MatchString(v) && v != "." && v != ".." && v != SplitIndex && !hashedName.MatchString(v) && !deviceName.MatchString(v) {
		return v
	}
	var b strings.Builder
	for _, r := range strings.ToLower(v) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		default:
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "-") {
				b.WriteByte('-')
			}
		}
		if b.Len() >= 40 {
			break
		}
	}
	sum := sha256.Sum256([]byte(v))
	base := strings.Trim(b.String(), "-")
	if base == "" {
		base = "none"
	}
	return base + "-" + hex.EncodeToString(sum[:4])
}

// Split writes a whole set of reports for each value of label under
// SplitDir(opts.Dir, label): each group's instances, as a record of their
// own, with run.json and every format of opts.Formats (every group is
// rendered with opts, its Records and Dir replaced). The record is read once
// and partitioned, holding at most 64 group files open; each group is then
// rendered on its own, so memory is a group's, not the fleet's. The split's
// directory is replaced when Split made it before (and refused if something
// else is there); index.csv lists the groups. Instances without the label
// form the group of the empty value.
func Split(ctx context.Context, opts Options, label string) ([]SplitGroup, error) {
	opts = opts.withDefaults()
	root := SplitDir(opts.Dir, label)
	if err := claimSplitDir(root); err != nil {
		return nil, err
	}
	groups, err := partition(ctx, opts.Records, label, root, audit.ResultsFile, nil)
	if err != nil {
		return nil, err
	}
	if opts.Baseline != nil {
		// Each owner's own changes: the baseline is split the same way,
		// into the groups that exist now.
		known := map[string]bool{}
		for _, g := range groups {
			known[g.Value] = true
		}
		if _, err := partition(ctx, opts.Baseline.Records(), label, root, splitBaseline, known); err != nil {
			return nil, err
		}
	}
	for i := range groups {
		g := &groups[i]
		if err := ctx.Err(); err != nil {
			return groups, err
		}
		rs, err := audit.OpenRecordsIn(opts.TmpDir, filepath.Join(g.Dir, audit.ResultsFile))
		if err != nil {
			return groups, err
		}
		rs.Partial = opts.Records.Partial
		run := opts.Run
		outcomes := rs.Outcomes()
		g.Instances, g.Noncompliant = rs.Len(), outcomes[audit.OutcomeNoncompliant]
		// The group's share of the run: its targets are its results, and
		// it is as complete as the run. The account-regions that could not
		// be audited, or whose instance information could not be read,
		// stay: any group may have had instances there.
		run.Targets, run.Parts = rs.Len(), nil
		run.Sites = slices.DeleteFunc(slices.Clone(run.Sites), func(s audit.SiteStats) bool { return s.Error == nil && s.InfoError == nil })
		run.Outcomes = outcomes
		gopts := opts
		gopts.Dir, gopts.Records, gopts.Baseline = g.Dir, rs, nil
		if opts.Baseline != nil {
			gb, err := newGroupBaseline(g.Dir, opts.Baseline)
			if err != nil {
				rs.Close()
				return groups, fmt.Errorf("group %q: %w", g.Value, err)
			}
			gb.Records().Partial = opts.Baseline.Records().Partial
			gopts.Baseline = gb
			// The group's own changes, not the run's.
			counts, err := audit.Compare(gb.Records(), rs, func(audit.Change) error { return nil })
			if err != nil {
				rs.Close()
				gb.Close()
				return groups, fmt.Errorf("group %q: %w", g.Value, err)
			}
			ci := *run.Changes
			ci.Counts = counts
			run.Changes = &ci
		}
		gopts.Run = run
		if err := writeRunJSON(filepath.Join(g.Dir, audit.RunFile), run); err != nil {
			rs.Close()
			if gopts.Baseline != nil {
				gopts.Baseline.Close()
			}
			return groups, err
		}
		paths, err := Render(ctx, gopts)
		rs.Close()
		if gopts.Baseline != nil {
			// Kept beside the group's record (a hidden file): the group's
			// mail, now or from "auditor mail" later, shows its changes.
			gopts.Baseline.Close()
		}
		g.Paths = append([]string{filepath.Join(g.Dir, audit.ResultsFile), filepath.Join(g.Dir, audit.RunFile)}, paths...)
		if err != nil {
			return groups, fmt.Errorf("group %q: %w", g.Value, err)
		}
	}
	if err := writeSplitIndex(root, label, groups); err != nil {
		return groups, err
	}
	return groups, nil
}

// claimSplitDir makes root empty and marks it as the split's: an earlier
// split's directory (marked) is removed first, anything else there is
// refused, so that no file Split did not make is ever deleted.
func claimSplitDir(root string) error {
	if _, err := os.Stat(root); err == nil {
		if _, err := os.Stat(filepath.Join(root, splitMarker)); err != nil {
			return fmt.Errorf("%s exists and was not made by a split: move it away, or split by another label", root)
		}
		if err := os.RemoveAll(root); err != nil {
			return fmt.Errorf("%w: %w", atomicfile.ErrNotWritable, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(root, 0o777); err != nil {
		return fmt.Errorf("%w: %w", atomicfile.ErrNotWritable, err)
	}
	return atomicfile.WriteFile(filepath.Join(root, splitMarker), []byte("made by auditor --split-by; replaced by the next split\n"))
}

// splitBaseline is a group's part of the baseline, beside its record.
const splitBaseline = ".baseline.jsonl"

// newGroupBaseline opens a group's part of the baseline that partition
// wrote, first making it empty when the group is new.
func newGroupBaseline(dir string, whole *audit.Baseline) (*audit.Baseline, error) {
	p := filepath.Join(dir, splitBaseline)
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		if err := os.WriteFile(p, nil, 0o666); err != nil {
			return nil, err
		}
	}
	return OpenGroupBaseline(dir, whole.Path, whole.At)
}

// OpenGroupBaseline opens the part of the baseline that a split kept in a
// group's directory (empty when the group is new), named and dated as the
// whole baseline (path, at); nil, nil when dir holds none (a directory that
// is not a group, or a split without a baseline). It is as complete as the
// group's run.json says the whole baseline was (changes.baseline_incomplete),
// and complete while the group has no run.json yet: that run.json is the
// current run's, and whether the current run is complete says nothing of
// the baseline's.
func OpenGroupBaseline(dir, path string, at time.Time) (*audit.Baseline, error) {
	p := filepath.Join(dir, splitBaseline)
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	partial := false
	if ri, err := audit.ReadRunInfo(filepath.Join(dir, audit.RunFile)); err == nil {
		partial = ri.Changes != nil && ri.Changes.BaselineIncomplete
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	b, err := audit.OpenBaselineRecord(p, at, partial)
	if err != nil {
		return nil, err
	}
	b.Path = path
	return b, nil
}

// groupFile is one group's record being written.
type groupFile struct {
	path string
	f    *os.File
	w    *bufio.Writer
	el   *list.Element // in the open list, or nil when closed
}

// partition writes each result into the file of its group's directory
// in one pass over rs, and returns the groups in order of their value. With
// only, a value it does not hold is skipped.
func partition(ctx context.Context, rs *audit.Records, label, root, file string, only map[string]bool) ([]SplitGroup, error) {
	files := map[string]*groupFile{}
	byName := map[string]string{}
	open := list.New() // least recently used at the front
	closeOne := func(g *groupFile) error {
		if g.f == nil {
			return nil
		}
		err := errors.Join(g.w.Flush(), g.f.Close())
		open.Remove(g.el)
		g.f, g.w, g.el = nil, nil, nil
		return err
	}
	defer func() {
		for _, g := range files {
			closeOne(g)
		}
	}()
	err := rs.Each(func(r audit.Result) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		v := r.Labels[label]
		if only != nil && !only[v] {
			return nil
		}
		g := files[v]
		if g == nil {
			name := SafeName(v)
			if other, ok := byName[name]; ok {
				return fmt.Errorf("label values %q and %q map to one directory %q", other, v, name)
			}
			byName[name] = v
			dir := filepath.Join(root, name)
			if err := os.MkdirAll(dir, 0o777); err != nil {
				return fmt.Errorf("%w: %w", atomicfile.ErrNotWritable, err)
			}
			g = &groupFile{path: filepath.Join(dir, file)}
			files[v] = g
		}
		if g.f == nil {
			if open.Len() >= splitOpen {
				if err := closeOne(open.Front().Value.(*groupFile)); err != nil {
					return err
				}
			}
			f, err := atomicfile.OpenFile(g.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o666)
			if err != nil {
				return fmt.Errorf("%w: %w", atomicfile.ErrNotWritable, err)
			}
			g.f, g.w = f, bufio.NewWriterSize(f, 16<<10)
			g.el = open.PushBack(g)
		} else {
			open.MoveToBack(g.el)
		}
		return audit.EncodeResult(g.w, r)
	})
	if err != nil {
		return nil, err
	}
	var groups []SplitGroup
	for v, g := range files {
		if err := closeOne(g); err != nil {
			return nil, err
		}
		dir := filepath.Dir(g.path)
		groups = append(groups, SplitGroup{Value: v, Dir: dir, Name: filepath.Base(dir)})
	}
	slices.SortFunc(groups, func(a, b SplitGroup) int { return cmp.Compare(a.Value, b.Value) })
	return groups, nil
}

func writeRunJSON(path string, run audit.RunInfo) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		return jsonEncode(w, run)
	})
}

// writeSplitIndex lists the groups: value, directory, instances,
// non-compliant.
func writeSplitIndex(root, label string, groups []SplitGroup) error {
	return atomicfile.Write(filepath.Join(root, SplitIndex), func(out io.Writer) error {
		w := csv.NewWriter(out)
		if err := writeSafe(w, []string{label, "directory", "instances", "noncompliant"}); err != nil {
			return err
		}
		for _, g := range groups {
			if err := writeSafe(w, []string{g.Value, g.Name, strconv.Itoa(g.Instances), strconv.Itoa(g.Noncompliant)}); err != nil {
				return err
			}
		}
		w.Flush()
		return w.Error()
	})
}
