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
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/internal/atomicfile"
	"github.com/auditor-dev/auditor/internal/owner"
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
	// Unaudited counts the account-regions that could not be audited
	// whose targets are the group's: those of an account whose name is
	// the value, in a split by audit.AccountNameLabel (see Split).
	Unaudited int
	// Paths are the files written there.
	Paths []string
}

// SplitDir returns the directory of a split by label under dir:
// dir/by-LABEL, with the label made file-safe as group names are.
func SplitDir(dir, label string) string { return filepath.Join(dir, "by-"+SafeName(label)) }

var (
	// plainName ends in no dot: Windows, SMB and an S3 download to
	// Windows drop a name's trailing dots and spaces, so that "alice."
	// would be alice's directory there.
	plainName = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9._-]{0,61}[a-z0-9_-])?$`)
	// hashedName is how every name SafeName hashes ends.
	hashedName = regexp.MustCompile(`-[0-9a-f]{8}$`)
	// deviceName is a name Windows keeps for a device, whatever follows
	// its first dot.
	deviceName = regexp.MustCompile(`^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\.|$)`)
)

// SafeName turns a label value into a directory name that is safe on any
// file system and can never be another value's: a value that is already a
// plain lower-case name (letters, digits, ".", "_", "-", ending in no ".")
// is itself; any other (capitals, spaces, slashes, "..", a trailing dot or
// space, which Windows drops, non-ASCII, empty) is its safe characters
// then a hash of the exact value, so that "Alice", "alice " and "alice"
// are three directories even where case is folded. A plain value spelt as a
// hashed name (ending in "-" and eight hex digits), as the split's index,
// or as a Windows device name is hashed too: values are text from outside
// (anyone who may tag an instance), and no value may take another's
// directory or the index's place.
//
// The hash is 32 bits of SHA-256, short enough to read, and two values can
// be found that have one name: Split names each of those by its whole
// hash instead (see Split).
func SafeName(v string) string {
	if plainName.MatchString(v) && v != "." && v != ".." && v != SplitIndex && !hashedName.MatchString(v) && !deviceName.MatchString(v) {
		return v
	}
	return hashed(v, 4)
}

// clashName is the directory name of a value whose SafeName another value
// of the split has too: its safe characters, then its whole SHA-256 (64 hex
// digits). It is never a SafeName (at most 49 characters, a plain one 63)
// nor, short of a collision of SHA-256, another value's clashName.
func clashName(v string) string { return hashed(v, sha256.Size) }

// hashed is v's safe characters (at most 40; when it has none, "none" for
// the empty value and "value" for another),
// then n bytes of its SHA-256 in hex.
func hashed(v string, n int) string {
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
	switch {
	case base != "":
	case v == "":
		base = "none" // the group of no value
	default:
		// ".", "日本": not "none", which reads as the group of no value.
		base = "value"
	}
	return base + "-" + hex.EncodeToString(sum[:n])
}

// Split writes a whole set of reports for each value of label under
// SplitDir(opts.Dir, label): each group's instances, as a record of their
// own, with run.json and every format of opts.Formats (every group is
// rendered with opts, its Records and Dir replaced, and label added to its
// LabelKeys: every group's reports have its column). The record (and the
// baseline, beside it) is read once and partitioned, holding at most 64
// group files open; each group is then rendered on its own, so memory is a
// group's, not the fleet's. The split's directory is replaced when Split
// made it before (and refused, with an error wrapping ErrNotSplit, if
// something else is there, or ErrOthersSplit, if another user's Split made
// it); index.csv lists
// the groups. Instances without the label form the group of the empty
// value.
//
// A group's directory is SafeName of its value, but when two values (or
// more) of the split have one SafeName each of them is named by its whole
// hash (clashName): which values are there, not the order they come in,
// decides every name, so that a value is in the same directory in every
// run where the same values are, and one that clashes with none keeps its
// SafeName. A group's workbook left out (ErrTooWide) stops nothing: the
// groups are written, and the error says it (OnlyTooWide).
//
// With opts.Baseline, each group keeps its part of the baseline and counts
// its own changes: an instance of the baseline is compared in the group it
// is in now, whatever its label was then, so that the groups' changes add
// up to the run's; one gone now is in the group of its label then. When that
// value has no instance now, its group is made for it (no instances, the
// vanished ones in its changes), so that its old owner learns they are
// gone; such a group is not made when nothing is said of them (a current
// run that did not get to all its targets).
//
// Every group's reports name the account-regions the run could not audit
// (opts.Run.Sites), since any group may have had instances there. A split
// by audit.AccountNameLabel also makes the group of each account named
// there that could not be audited, with or without instances (and with a
// baseline, whatever changed), so that its owner learns it was not audited
// rather than getting nothing; SplitGroup.Unaudited and index.csv count
// such account-regions.
func Split(ctx context.Context, opts Options, label string) ([]SplitGroup, error) {
	opts = opts.withDefaults()
	root := SplitDir(opts.Dir, label)
	if err := claimSplitDir(root); err != nil {
		return nil, err
	}
	inPart, err := countInPart(opts.Records, opts.Run)
	if err != nil {
		return nil, err
	}
	// What each group's reports, and its mail and its reports rendered
	// again from its directory, say of the whole run: each group's results
	// are its targets, and which of the run's targets without a result are
	// its own is not known; an account-region that failed is listed in
	// part or stopped part way as in the run's reports, whichever group
	// holds its nodes.
	groupOf := &audit.GroupOf{TargetsFrom: targetsFrom(opts.Run.Parts)}
	if opts.Run.Targets > 0 && opts.Records != nil {
		groupOf.WithoutResult = max(0, opts.Run.Targets-opts.Records.Len())
	}
	unaudited := unauditedValues(opts.Run.Sites, label, inPart)
	groups, err := partition(ctx, opts.Records, opts.Baseline, label, root, slices.Sorted(maps.Keys(unaudited)))
	if err != nil {
		return nil, err
	}
	// kept are the groups written, and on an error those not reached too:
	// not those of the baseline's only that had nothing to tell.
	kept := make([]SplitGroup, 0, len(groups))
	var tooWide error // a group's workbook left out (OnlyTooWide)
	for i := range groups {
		g := &groups[i]
		if err := ctx.Err(); err != nil {
			return append(kept, groups[i:]...), err
		}
		rp := filepath.Join(g.Dir, audit.ResultsFile)
		if _, err := os.Stat(rp); errors.Is(err, fs.ErrNotExist) {
			// None of its instances now: a group of the baseline's only,
			// or of an account that could not be audited.
			if err := atomicfile.WriteFile(rp, nil); err != nil {
				return append(kept, groups[i:]...), err
			}
		}
		rs, err := audit.OpenRecordsIn(opts.TmpDir, rp)
		if err != nil {
			return append(kept, groups[i:]...), err
		}
		rs.Partial, rs.Scope = opts.Records.Partial, opts.Records.Scope
		run := opts.Run
		outcomes := rs.Outcomes()
		g.Instances, g.Noncompliant = rs.Len(), outcomes[audit.OutcomeNoncompliant]
		g.Unaudited = unaudited[g.Value]
		// The group's share of the run: its targets are its results, and
		// it is as complete as the run. The account-regions that could not
		// be audited, or whose instance information could not be read,
		// stay: any group may have had instances there.
		run.Targets, run.Parts, run.WholeParts = rs.Len(), nil, nil
		run.Sites = slices.DeleteFunc(slices.Clone(run.Sites), func(s audit.SiteStats) bool { return s.Error == nil && s.InfoError == nil })
		for i, s := range run.Sites {
			if s.Error != nil {
				run.Sites[i].Audited = inPart[siteKey{s.AccountID, s.Region}]
			}
		}
		run.GroupOf = groupOf
		run.Outcomes = outcomes
		gopts := opts
		gopts.Dir, gopts.Records, gopts.Baseline = g.Dir, rs, nil
		// Its reports name it: each group's read alike otherwise.
		gopts.Group = &MailGroup{Label: label, Value: g.Value}
		// The label it is split by is a column of every group's reports,
		// of one with no instance that has it too: its rows read as the
		// others' do.
		gopts.LabelKeys = append(slices.Clone(opts.LabelKeys), label)
		if opts.Baseline != nil {
			gb, err := newGroupBaseline(opts.TmpDir, g.Dir, opts.Baseline)
			if err != nil {
				rs.Close()
				return append(kept, groups[i:]...), fmt.Errorf("group %q: %w", g.Value, err)
			}
			gb.Records().Partial = opts.Baseline.Records().Partial
			gb.Records().Scope = opts.Baseline.Records().Scope
			gopts.Baseline = gb
			// The group's own changes, not the run's.
			res, err := audit.Compare(gb.Records(), rs, func(audit.Change) error { return nil })
			if err != nil {
				rs.Close()
				gb.Close()
				return append(kept, groups[i:]...), fmt.Errorf("group %q: %w", g.Value, err)
			}
			if rs.Len() == 0 && !changed(res.Counts) && g.Unaudited == 0 {
				// Nothing to tell the group of the baseline's only.
				rs.Close()
				gb.Close()
				if err := os.RemoveAll(g.Dir); err != nil {
					return append(kept, groups[i:]...), fmt.Errorf("%w: %w", atomicfile.ErrNotWritable, err)
				}
				continue
			}
			ci := *run.Changes
			ci.Counts, ci.NotCompared, ci.ErrorCodeChanged = res.Counts, res.NotCompared, res.ErrorCodeChanged
			run.Changes = &ci
		}
		gopts.Run = run
		if err := writeRunJSON(filepath.Join(g.Dir, audit.RunFile), run); err != nil {
			rs.Close()
			if gopts.Baseline != nil {
				gopts.Baseline.Close()
			}
			return append(kept, groups[i:]...), err
		}
		paths, err := Render(ctx, gopts)
		rs.Close()
		if gopts.Baseline != nil {
			// Kept beside the group's record (a hidden file): the group's
			// mail, now or from "auditor mail" later, shows its changes.
			gopts.Baseline.Close()
		}
		g.Paths = append([]string{filepath.Join(g.Dir, audit.ResultsFile), filepath.Join(g.Dir, audit.RunFile)}, paths...)
		kept = append(kept, *g)
		if err != nil && !OnlyTooWide(err) {
			return append(kept, groups[i+1:]...), fmt.Errorf("group %q: %w", g.Value, err)
		}
		if err != nil {
			tooWide = err // said once, by the caller
		}
	}
	if err := writeSplitIndex(root, label, kept); err != nil {
		return kept, err
	}
	return kept, tooWide
}

// unauditedValues counts, by value of label, the account-regions of sites
// that could not be audited and whose targets have that value: an
// account's, by its name, in a split by audit.AccountNameLabel (a list's
// own column of that name may give some of its instances another, and
// those have results, in error, in their group). An account without a
// name counts for none: its targets are of the group of no value, which
// is nobody's, and whose reports name it with the others. One listed in
// part or stopped part way, of which inPart counts audited results
// (countInPart), was audited in part, and counts for none either.
func unauditedValues(sites []audit.SiteStats, label string, inPart siteVerdicts) map[string]int {
	n := map[string]int{}
	if label != audit.AccountNameLabel {
		return n
	}
	for _, s := range sites {
		if s.Error != nil && s.AccountName != "" && inPart[siteKey{s.AccountID, s.Region}] == 0 {
			n[s.AccountName]++
		}
	}
	return n
}

// countInPart counts the audited results (audit.Outcome.Audited) that rs
// holds of each account-region of run that failed (audit.SiteStats.Error:
// listed in part or stopped part way when it counts some, see partWay),
// reading rs only when there is one; the map holds those account-regions
// alone.
func countInPart(rs *audit.Records, run audit.RunInfo) (siteVerdicts, error) {
	n := failedSites(run.Sites)
	if len(n) == 0 || rs == nil {
		return n, nil
	}
	err := rs.Each(func(r audit.Result) error { n.add(r); return nil })
	return n, err
}

// changed reports whether counts count any change.
func changed(counts audit.ChangeCounts) bool {
	for _, n := range counts {
		if n > 0 {
			return true
		}
	}
	return false
}

// ErrNotSplit is returned by Split and CheckSplit when the split's
// directory (SplitDir) exists and Split did not make it: Split replaces
// only its own, and nothing in it is touched.
var ErrNotSplit = errors.New("exists and was not made by a split")

// ErrOthersSplit is returned by Split and CheckSplit when the split's
// directory is a split's (it holds Split's marker) that another user owns,
// or whose marker another user owns: a split made as another user, which
// this user's Split does not replace or remove. It is not ErrNotSplit:
// the cause is who runs it (a retry under another UID), not the directory.
var ErrOthersSplit = errors.New("belongs to another user")

// CheckSplit returns an error wrapping ErrNotSplit when SplitDir(dir,
// label) exists and Split did not make it, or ErrOthersSplit when another
// user's Split made it, so that a caller can refuse it before doing what
// Split comes after; nil when it is not there, is an earlier split's, or
// is an empty directory (which Split claims).
func CheckSplit(dir, label string) error { return checkSplitDir(SplitDir(dir, label)) }

func checkSplitDir(root string) error {
	if _, err := os.Lstat(root); err != nil {
		return nil // not there; one that cannot be seen fails to be made
	}
	if madeBySplit(root) || (emptyDir(root) && mine(root)) {
		return nil
	}
	// Made by a split, of another user's: not this user's to replace (a
	// link, even to a split of the user's, is no split's directory).
	if st, err := os.Lstat(root); err == nil && st.IsDir() {
		if st, err := os.Lstat(filepath.Join(root, splitMarker)); err == nil && st.Mode().IsRegular() {
			return fmt.Errorf("%s %w: a split made as that user, which this user may not replace; run as that user (or give the directory to this one), move it away, or split by another label", root, ErrOthersSplit)
		}
	}
	return fmt.Errorf("%s %w: move it away, or split by another label", root, ErrNotSplit)
}

// madeBySplit reports whether root is a directory, not a link to one, that
// holds Split's marker, a regular file, both this user's: another user's
// (a run as root, in a directory others may write to) is not this user's
// Split's, to replace or remove, as GroupLabel does not trust it either.
func madeBySplit(root string) bool {
	if !mine(root) {
		return false
	}
	st, err := os.Lstat(filepath.Join(root, splitMarker))
	return err == nil && st.Mode().IsRegular() && owner.Mine(st)
}

// mine reports whether path is a directory, not a link to one, of this
// user's.
func mine(path string) bool {
	st, err := os.Lstat(path)
	return err == nil && st.IsDir() && owner.Mine(st)
}

// emptyDir reports whether path is a directory, not a link to one, that
// holds nothing.
func emptyDir(path string) bool {
	if st, err := os.Lstat(path); err != nil || !st.IsDir() {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	_, err = f.Readdirnames(1)
	return errors.Is(err, io.EOF)
}

// claimSplitDir makes root empty and marks it as the split's: an earlier
// split's directory (marked) is removed first, an empty directory is taken
// as it is, anything else there is refused, so that no file Split did not
// make is ever deleted. An empty one is what a split stopped between
// making root and marking it leaves (a full disk, a kill): it holds
// nothing of anyone's, and refusing it would refuse every later split.
func claimSplitDir(root string) error {
	if err := checkSplitDir(root); err != nil {
		return err
	}
	if !emptyDir(root) {
		if err := os.RemoveAll(root); err != nil {
			return fmt.Errorf("%w: %w", atomicfile.ErrNotWritable, err)
		}
	}
	if err := os.MkdirAll(root, 0o777); err != nil {
		return fmt.Errorf("%w: %w", atomicfile.ErrNotWritable, err)
	}
	return atomicfile.WriteFile(filepath.Join(root, splitMarker), []byte("made by auditor --split-by; replaced by the next split\n"))
}

// MadeSplit is a directory of reports for each value of a label that
// Split made under a report's directory.
type MadeSplit struct {
	// Dir is SplitDir of the report's directory and Label.
	Dir string
	// Label is the label the split is by, as its index names it: "" when
	// it has none (a split stopped before its index, which goes last).
	Label string
}

// RemoveSplits removes every split that Split made under dir (a by-*
// directory, not a link, that holds Split's marker) but keep, a SplitDir
// of dir or "", and returns those it removed, in name order. It is for a
// rendering of dir's reports, under dir's lock: a split it did not write
// is of an earlier attempt or rendering, whose figures need not be the
// record's. Nothing Split did not make is touched, nor a split another
// user owns. An error wraps
// atomicfile.ErrNotWritable.
func RemoveSplits(dir, keep string) ([]MadeSplit, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: %w", atomicfile.ErrNotWritable, err)
	}
	var removed []MadeSplit
	for _, e := range entries {
		root := filepath.Join(dir, e.Name())
		if !strings.HasPrefix(e.Name(), "by-") || !e.IsDir() || (keep != "" && filepath.Clean(keep) == root) {
			continue
		}
		if !madeBySplit(root) {
			continue
		}
		label, _ := readSplitIndex(dir, root)
		made := MadeSplit{Dir: root, Label: label}
		if err := os.RemoveAll(root); err != nil {
			return removed, fmt.Errorf("%w: %w", atomicfile.ErrNotWritable, err)
		}
		removed = append(removed, made)
	}
	return removed, nil
}

// readSplitIndex returns the label of the split in root, a directory
// under dir, as its index's first heading names it (CSV-escaped, as a
// value would be), and the directory name of each group the index lists;
// "" and nil when there is no index, or its label is not root's.
func readSplitIndex(dir, root string) (label string, names []string) {
	f, err := os.Open(filepath.Join(root, SplitIndex))
	if err != nil {
		return "", nil
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil || len(head) == 0 {
		return "", nil
	}
	for _, l := range []string{head[0], strings.TrimPrefix(head[0], "'")} {
		if l != "" && SplitDir(dir, l) == root {
			label = l
			break
		}
	}
	if label == "" {
		return "", nil
	}
	for {
		row, err := r.Read()
		if err != nil {
			return label, names // io.EOF, or the groups listed before a torn line
		}
		if len(row) > 1 {
			// Never CSV-escaped: SafeName and clashName begin with a
			// letter, a digit or "_".
			names = append(names, row[1])
		}
	}
}

// GroupLabel returns the label of the split that dir is a group of: dir
// is DIR/by-LABEL/NAME, whose directory Split made (it holds Split's
// marker) and whose index lists NAME, the directory, marker and index all
// the process's user's (a split another user made where both may write is
// not this user's to trust). It is "" for any other directory, and for a
// group of a split stopped before its index, which goes last. A group
// rendered again in place is given the label in Options.LabelKeys, so that
// its reports keep the label's column as Split wrote them.
func GroupLabel(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	root := filepath.Dir(abs)
	if st, err := os.Lstat(root); err != nil || !st.IsDir() || !owner.Mine(st) {
		return ""
	}
	for _, f := range []string{splitMarker, SplitIndex} {
		if st, err := os.Lstat(filepath.Join(root, f)); err != nil || !st.Mode().IsRegular() || !owner.Mine(st) {
			return ""
		}
	}
	label, names := readSplitIndex(filepath.Dir(root), root)
	if !slices.Contains(names, filepath.Base(abs)) {
		return ""
	}
	return label
}

// SameRendering reports whether group, the run.json of a group of a
// split, is of the rendering that wrote run, the run.json of the directory
// the split is in: a group's run.json is its run's, its targets, outcomes,
// account-regions and changes its own (and its completeness, which a
// group rendered again settles from its own record). A group rendered
// again in place since, from the record the split gave it, still is. A
// split that an earlier attempt or rendering left is not: its run ended
// at another time, or the run was rendered again after it.
func SameRendering(run, group audit.RunInfo) bool {
	if !run.StartedAt.Equal(group.StartedAt) || !run.EndedAt.Equal(group.EndedAt) || run.Interrupted != group.Interrupted {
		return false
	}
	return run.Rendered == nil || group.Rendered != nil && !group.Rendered.At.Before(run.Rendered.At)
}

// splitBaseline is a group's part of the baseline, beside its record.
const splitBaseline = ".baseline.jsonl"

// newGroupBaseline opens a group's part of the baseline that partition
// wrote, first making it empty when the group is new.
func newGroupBaseline(tmpDir, dir string, whole *audit.Baseline) (*audit.Baseline, error) {
	p := filepath.Join(dir, splitBaseline)
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		if err := os.WriteFile(p, nil, 0o666); err != nil {
			return nil, err
		}
	}
	return OpenGroupBaselineIn(tmpDir, dir, whole.Path, whole.At)
}

// OpenGroupBaseline opens the part of the baseline that a split kept in a
// group's directory (empty when the group is new), named and dated as the
// whole baseline (path, at); nil, nil when dir holds none (a directory that
// is not a group, or a split without a baseline). It is as complete as the
// group's run.json says the whole baseline was (changes.baseline_incomplete),
// and complete while the group has no run.json yet: that run.json is the
// current run's, and whether the current run is complete says nothing of
// the baseline's. An index too large for memory goes to the system's
// temporary directory.
func OpenGroupBaseline(dir, path string, at time.Time) (*audit.Baseline, error) {
	return OpenGroupBaselineIn("", dir, path, at)
}

// OpenGroupBaselineIn is OpenGroupBaseline with the temporary files of its
// index in tmpDir ("" for the system's), as audit.OpenRecordsIn.
func OpenGroupBaselineIn(tmpDir, dir, path string, at time.Time) (*audit.Baseline, error) {
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
	b, err := audit.OpenBaselineRecordIn(tmpDir, p, at, partial)
	if err != nil {
		return nil, err
	}
	b.Path = path
	return b, nil
}

// groupFile is one group's record, or part of the baseline, being written.
type groupFile struct {
	f  *os.File
	w  *bufio.Writer
	el *list.Element // in the open list, or nil when closed
}

// groupFileKey names a groupFile: the group's value, and the file's name.
type groupFileKey struct{ value, file string }

// splitter writes results into the files of their groups' directories,
// holding at most splitOpen files open.
type splitter struct {
	root   string
	dirs   map[string]string   // value → its directory
	byName map[string][]string // SafeName → the values of that name
	files  map[groupFileKey]*groupFile
	open   *list.List // least recently used at the front
}

// dir returns the directory of the group of value v, made when v is new.
// A value whose SafeName is another's gets its clashName, and so does the
// other, moved there with what it holds.
func (s *splitter) dir(v string) (string, error) {
	if dir, ok := s.dirs[v]; ok {
		return dir, nil
	}
	name := SafeName(v)
	others := s.byName[name]
	s.byName[name] = append(others, v)
	if len(others) == 1 {
		// The first of that name learns of the clash now.
		if err := s.move(others[0], clashName(others[0])); err != nil {
			return "", err
		}
	}
	if len(others) > 0 {
		name = clashName(v)
	}
	dir := filepath.Join(s.root, name)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return "", fmt.Errorf("%w: %w", atomicfile.ErrNotWritable, err)
	}
	s.dirs[v] = dir
	return dir, nil
}

// move renames the directory of the group of value v to name, its files
// closed first.
func (s *splitter) move(v, name string) error {
	for k, g := range s.files {
		if k.value == v {
			if err := s.closeOne(g); err != nil {
				return err
			}
		}
	}
	dir := filepath.Join(s.root, name)
	if err := os.Rename(s.dirs[v], dir); err != nil {
		return fmt.Errorf("%w: %w", atomicfile.ErrNotWritable, err)
	}
	s.dirs[v] = dir
	return nil
}

// write appends r to the file of the group of value v.
func (s *splitter) write(v, file string, r audit.Result) error {
	dir, err := s.dir(v)
	if err != nil {
		return err
	}
	k := groupFileKey{v, file}
	g := s.files[k]
	if g == nil {
		g = &groupFile{}
		s.files[k] = g
	}
	if g.f == nil {
		if s.open.Len() >= splitOpen {
			if err := s.closeOne(s.open.Front().Value.(*groupFile)); err != nil {
				return err
			}
		}
		f, err := atomicfile.OpenFile(filepath.Join(dir, file), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o666)
		if err != nil {
			return fmt.Errorf("%w: %w", atomicfile.ErrNotWritable, err)
		}
		g.f, g.w = f, bufio.NewWriterSize(f, 16<<10)
		g.el = s.open.PushBack(g)
	} else {
		s.open.MoveToBack(g.el)
	}
	return audit.EncodeResult(g.w, r)
}

func (s *splitter) closeOne(g *groupFile) error {
	if g.f == nil {
		return nil
	}
	err := errors.Join(g.w.Flush(), g.f.Close())
	s.open.Remove(g.el)
	g.f, g.w, g.el = nil, nil, nil
	return err
}

// close closes every file, and returns the first error.
func (s *splitter) close() error {
	var first error
	for _, g := range s.files {
		if err := s.closeOne(g); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// partition writes each result of rs into the record of its group's
// directory, in one pass, and with base each result of the baseline into
// its group's part of the baseline: the group of the same instance in rs,
// or for an instance rs lacks, of the baseline's own value; and it makes
// the group of each value of also, whatever it holds. It returns the
// groups in order of their value, those of the baseline's only too.
func partition(ctx context.Context, rs *audit.Records, base *audit.Baseline, label, root string, also []string) ([]SplitGroup, error) {
	s := &splitter{root: root, dirs: map[string]string{}, byName: map[string][]string{}, files: map[groupFileKey]*groupFile{}, open: list.New()}
	defer s.close()
	var err error
	if base == nil {
		err = rs.Each(func(r audit.Result) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			return s.write(r.Labels[label], audit.ResultsFile, r)
		})
	} else {
		err = audit.Align(base.Records(), rs, func(b, c *audit.Result) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if c == nil {
				return s.write(b.Labels[label], splitBaseline, *b)
			}
			v := c.Labels[label]
			if err := s.write(v, audit.ResultsFile, *c); err != nil {
				return err
			}
			if b != nil {
				return s.write(v, splitBaseline, *b)
			}
			return nil
		})
	}
	if err != nil {
		return nil, err
	}
	if err := s.close(); err != nil {
		return nil, err
	}
	for _, v := range also {
		if _, err := s.dir(v); err != nil {
			return nil, err
		}
	}
	var groups []SplitGroup
	for v, dir := range s.dirs {
		groups = append(groups, SplitGroup{Value: v, Dir: dir, Name: filepath.Base(dir)})
	}
	slices.SortFunc(groups, func(a, b SplitGroup) int { return cmp.Compare(a.Value, b.Value) })
	return groups, nil
}

func writeRunJSON(path string, run audit.RunInfo) error {
	// Written by this version, in its schema, whatever run says: readers
	// refuse a run.json of another (audit.ReadRunInfo).
	run.Schema = audit.Schema
	return atomicfile.Write(path, func(w io.Writer) error {
		return jsonEncode(w, run)
	})
}

// writeSplitIndex lists the groups: value, directory, instances,
// non-compliant, account-regions not audited.
func writeSplitIndex(root, label string, groups []SplitGroup) error {
	return atomicfile.Write(filepath.Join(root, SplitIndex), func(out io.Writer) error {
		w := csv.NewWriter(out)
		if err := writeSafe(w, []string{label, "directory", "instances", "noncompliant", "unaudited"}); err != nil {
			return err
		}
		for _, g := range groups {
			if err := writeSafe(w, []string{g.Value, g.Name, strconv.Itoa(g.Instances), strconv.Itoa(g.Noncompliant), strconv.Itoa(g.Unaudited)}); err != nil {
				return err
			}
		}
		w.Flush()
		return w.Error()
	})
}
