package cli

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/auditor-dev/auditor/internal/atomicfile"
)

// carriedMarksFile, in a run's (or report's) directory, keeps the marks of
// the mail of its groups (undeliveredFile, unsentFile) while a rendering
// writes its splits anew, which takes every group's directory away first:
// without it, the command a failed mailing printed (auditor mail
// --undelivered) mailed nobody and exited 0, and the run compared with
// this one under --mail-when changes took the groups' mail for delivered.
// A rendering killed midway leaves it, and the next puts its marks back.
// It keeps too the marks of groups a rendering did not write again (split
// by another label, compared with another baseline), said on stderr, until
// one writes them. A hidden file, not uploaded.
const carriedMarksFile = ".auditor-mail-group-marks"

// carriedMarks is the content of carriedMarksFile.
type carriedMarks struct {
	Note string `json:"note"`
	// Marks are each mark's content, by its path from the run's
	// directory, slash-separated: "by-owner/alice/.auditor-mail-undelivered".
	Marks map[string]string `json:"marks"`
}

// groupMarkPath reports whether rel, a path from a run's directory, is
// that of a mark of a group's mail: by-LABEL/GROUP/MARK, nothing else (a
// carriedMarksFile written by someone else names no other file).
func groupMarkPath(rel string) bool {
	parts := strings.Split(rel, "/")
	return len(parts) == 3 && strings.HasPrefix(parts[0], "by-") && parts[0] != "by-" &&
		parts[1] != "" && parts[1] != "." && parts[1] != ".." && !strings.ContainsRune(rel, '\\') &&
		(parts[2] == undeliveredFile || parts[2] == unsentFile)
}

// readCarried returns the marks of dir's carriedMarksFile: none when there
// is none; err when it is there and cannot be read (not a regular file,
// not JSON, more than maxMark bytes), whose marks are not known.
func readCarried(dir string) (map[string]string, error) {
	var c carriedMarks
	p := filepath.Join(dir, carriedMarksFile)
	b, err := readMark(p)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil {
		return map[string]string{}, fmt.Errorf("%s, the marks of what the groups' mail did not deliver kept while the reports were rendered again, cannot be read (%v)", p, err)
	}
	maps.DeleteFunc(c.Marks, func(rel, mark string) bool { return !groupMarkPath(rel) || !isMark(mark) })
	if c.Marks == nil {
		c.Marks = map[string]string{}
	}
	return c.Marks, nil
}

// carriedSeen is the carriedMarksFile readCarriedOnce read last, by its
// path, size and time: the run compared with a baseline asks of it for
// each of thousands of groups (undeliveredBefore).
var carriedSeen struct {
	sync.Mutex
	path  string
	size  int64
	mod   time.Time
	marks map[string]string
	err   error
}

// readCarriedOnce is readCarried of dir, read again only when the file
// changed; its marks are not to be changed.
func readCarriedOnce(dir string) (map[string]string, error) {
	p := filepath.Join(dir, carriedMarksFile)
	st, err := os.Lstat(p)
	if err != nil || !st.Mode().IsRegular() {
		return readCarried(dir)
	}
	c := &carriedSeen
	c.Lock()
	defer c.Unlock()
	if c.path != p || c.size != st.Size() || !c.mod.Equal(st.ModTime()) {
		c.marks, c.err = readCarried(dir)
		c.path, c.size, c.mod = p, st.Size(), st.ModTime()
	}
	return c.marks, c.err
}

// isMark reports whether b reads as a mark of addresses (undelivered).
func isMark(b string) bool {
	var u undelivered
	return json.Unmarshal([]byte(b), &u) == nil && len(u.To) > 0
}

// writeCarried writes marks in dir's carriedMarksFile, or takes it away
// when there are none.
func writeCarried(dir string, marks map[string]string) error {
	p := filepath.Join(dir, carriedMarksFile)
	if len(marks) == 0 {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	b, _ := json.MarshalIndent(carriedMarks{
		Note:  "the marks of the mail of this run's groups (what was not delivered), kept while its reports are rendered again, and those of groups of a split not written since: the next rendering of that split puts them back; move this file away to give them up",
		Marks: marks,
	}, "", "  ")
	return atomicfile.WriteFile(p, append(b, '\n'))
}

// groupMarks are the marks carryGroupMarks kept: by path from the run's
// directory; kept says that they are in carriedMarksFile, which is not
// written when the one there cannot be read.
type groupMarks struct {
	marks map[string]string
	kept  bool
}

// carryGroupMarks keeps in out's carriedMarksFile, before a rendering
// writes its splits anew, the marks of every group's mail there, beside
// those an earlier rendering kept, and returns them all. A file there that
// cannot be read is moved aside (unreadCarriedFile), and said.
func carryGroupMarks(out string, stderr io.Writer) groupMarks {
	marks, err := readCarried(out)
	if err != nil {
		// Moved aside, not written over: this rendering's own marks go
		// in a file of their own.
		aside := unreadAside(out)
		if rerr := os.Rename(filepath.Join(out, carriedMarksFile), filepath.Join(out, aside)); rerr == nil {
			fmt.Fprintf(stderr, "auditor: warning: %v: moved to %s; until it is removed, auditor mail --undelivered fails (exit 5) and the run compared with this one mails every group\n", err, aside)
			err = nil
		} else {
			fmt.Fprintf(stderr, "auditor: warning: %v; not moved aside either (%v): the marks of this rendering's groups are not kept while it writes them\n", err, rerr)
		}
	}
	for _, name := range []string{undeliveredFile, unsentFile} {
		for _, p := range groupMarkFiles(out, name) {
			rel, rerr := filepath.Rel(out, p)
			if rerr != nil || !groupMarkPath(filepath.ToSlash(rel)) {
				continue
			}
			if b, rerr := readMark(p); rerr == nil && isMark(string(b)) {
				marks[filepath.ToSlash(rel)] = string(b)
			} else if rerr == nil || !errors.Is(rerr, fs.ErrNotExist) {
				fmt.Fprintf(stderr, "auditor: warning: %s: its mark of what its mail did not deliver cannot be read (%v), and goes with the split written again: mail its owners by hand if theirs was not delivered\n", filepath.Dir(p), cmp.Or(rerr, errors.New("not a mark of addresses")))
			}
		}
	}
	g := groupMarks{marks: marks, kept: err == nil}
	if g.kept && len(marks) > 0 {
		if err := writeCarried(out, marks); err != nil {
			fmt.Fprintf(stderr, "auditor: warning: %s: the marks of what its groups' mail did not deliver could not be kept while the reports are written again, and a kill meanwhile would lose them: %v\n", shownPath(out), err)
		}
	}
	return g
}

// groupMarkFiles returns the paths of the marks name of the groups of
// every split in dir (dir/by-*/GROUP/name), in name order. Read from the
// directories, not matched by filepath.Glob, which takes a '[' or '*' in
// dir (an --out of "audit[1]") for a pattern, and found none.
func groupMarkFiles(dir, name string) []string {
	var found []string
	splits, _ := os.ReadDir(dir)
	for _, sp := range splits {
		if !sp.IsDir() || !strings.HasPrefix(sp.Name(), "by-") {
			continue
		}
		groups, _ := os.ReadDir(filepath.Join(dir, sp.Name()))
		for _, g := range groups {
			if !g.IsDir() {
				continue
			}
			p := filepath.Join(dir, sp.Name(), g.Name(), name)
			if _, err := os.Lstat(p); err == nil {
				found = append(found, p)
			}
		}
	}
	return found
}

// realDir reports whether p is a directory, not a symbolic link to one.
func realDir(p string) bool {
	st, err := os.Lstat(p)
	return err == nil && st.IsDir()
}

// restoreGroupMarks puts back the marks carryGroupMarks kept in the groups
// of split, the split the rendering wrote whole ("" for none): each in its
// group, when the group is there, a directory of the split's own (no link
// on the way: a planted key must write nowhere else). A mark of a group
// the split has not is dropped, and its addresses named: the record (or
// its baseline) has no such group now. Those of other splits stay in
// carriedMarksFile, said, until a rendering writes their split again. The
// mail, next, takes off what it delivers.
func restoreGroupMarks(out, split string, g groupMarks, stderr io.Writer) {
	if len(g.marks) == 0 {
		return
	}
	left, dropped := map[string]string{}, map[string]string{}
	for _, rel := range slices.Sorted(maps.Keys(g.marks)) {
		parts := strings.Split(rel, "/")
		if split == "" || parts[0] != filepath.Base(split) {
			left[rel] = g.marks[rel]
			continue
		}
		dir := filepath.Join(out, parts[0], parts[1])
		if !realDir(filepath.Join(out, parts[0])) || !realDir(dir) {
			dropped[rel] = g.marks[rel]
			continue
		}
		if err := atomicfile.WriteFile(filepath.Join(dir, parts[2]), []byte(g.marks[rel])); err != nil {
			fmt.Fprintf(stderr, "auditor: warning: %s: the mark that its mail was not delivered could not be put back: %v\n", dir, err)
			left[rel] = g.marks[rel]
		}
	}
	if len(dropped) > 0 {
		fmt.Fprintf(stderr, "auditor: warning: %s: the mail of %s was due and not delivered, and %s written now has no such group (its instances are gone, or the baseline is another): the marks are dropped; mail them by hand if they are to hear of it: %s\n",
			out, carriedGroups(dropped), split, markedAddresses(dropped))
	}
	if len(left) > 0 && !g.kept {
		fmt.Fprintf(stderr, "auditor: warning: %s: the mail of %s was due and not delivered, this rendering wrote no split they are of, and their marks could not be kept (above): mail them by hand if they are to hear of it: %s\n",
			out, carriedGroups(left), markedAddresses(left))
	}
	if !g.kept {
		return
	}
	if len(left) > 0 {
		fmt.Fprintf(stderr, "auditor: warning: %s: the mail of %s was due and not delivered, and this rendering wrote no split they are of: kept in %s; render that split again (its --split-by) to mail them with auditor mail --undelivered, or move the file away to give them up\n",
			out, carriedGroups(left), carriedMarksFile)
	}
	if err := writeCarried(out, left); err != nil {
		fmt.Fprintf(stderr, "auditor: warning: %s: %v\n", shownPath(out), err)
	}
}

// markedAddresses are the addresses of marks, joined.
func markedAddresses(marks map[string]string) string {
	var all []string
	for _, rel := range slices.Sorted(maps.Keys(marks)) {
		var u undelivered
		if json.Unmarshal([]byte(marks[rel]), &u) == nil {
			for _, a := range u.To {
				if !slices.Contains(all, a) {
					all = append(all, a)
				}
			}
		}
	}
	return plain(strings.Join(all, ", "), 0)
}

// dropCarried takes the addresses to, which the owners' mail of a split of
// the run in runDir reached (mailGroups: not a mail to others), off the
// marks kept in its carriedMarksFile: an owner mailed by a split of
// another label has this run's reports.
func dropCarried(runDir string, to []string) error {
	if len(to) == 0 {
		return nil
	}
	marks, err := readCarried(runDir)
	if err != nil || len(marks) == 0 {
		return nil
	}
	changed := false
	for rel, mark := range marks {
		var u undelivered
		if json.Unmarshal([]byte(mark), &u) != nil {
			continue
		}
		n := len(u.To)
		u.To = slices.DeleteFunc(u.To, func(a string) bool { return inAddresses(to, a) })
		u.Untried = slices.DeleteFunc(u.Untried, func(a string) bool { return inAddresses(to, a) })
		if len(u.To) == n {
			continue
		}
		changed = true
		if len(u.To) == 0 {
			delete(marks, rel)
			continue
		}
		b, _ := json.MarshalIndent(u, "", "  ")
		marks[rel] = string(append(b, '\n'))
	}
	if !changed {
		return nil
	}
	return writeCarried(runDir, marks)
}

// unreadCarriedFile is where carryGroupMarks moves a carriedMarksFile that
// cannot be read: its marks are not known, and a rendering must keep the
// marks of its own splits all the same. While it is there, auditor mail
// --undelivered fails, and the run compared with this one takes every
// group's mail for undelivered.
const unreadCarriedFile = carriedMarksFile + ".unread"

// unreadAside is the name in dir to move a carriedMarksFile that cannot
// be read to: unreadCarriedFile, or, when one is there already, the first
// of unreadCarriedFile.2, .3, ... that is not (one is not moved over
// another). A name that cannot be looked at (dir not a directory, not
// searchable) is returned as it is: the move fails, and says why.
func unreadAside(dir string) string {
	name := unreadCarriedFile
	for n := 2; ; n++ {
		if _, err := os.Lstat(filepath.Join(dir, name)); err != nil {
			return name
		}
		name = fmt.Sprintf("%s.%d", unreadCarriedFile, n)
	}
}

// unreadFiles returns the paths of dir's unreadCarriedFile and those
// beside it (.2, .3, ...), in name order.
func unreadFiles(dir string) []string {
	var found []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), unreadCarriedFile) && !strings.Contains(e.Name(), ".tmp-") {
			found = append(found, filepath.Join(dir, e.Name()))
		}
	}
	return found
}

// unreadCarried returns an error naming dir's unreadCarriedFile (and the
// others beside it) when there is one.
func unreadCarried(dir string) error {
	found := unreadFiles(dir)
	if len(found) == 0 {
		return nil
	}
	return fmt.Errorf("%s: the marks of what the groups' mail did not deliver, kept while the reports were rendered again, could not be read, and were moved here: which owners were not mailed is not known; see what it holds, mail them, then remove it", strings.Join(found, ", "))
}

// carriedGroups names the groups of marks, carried marks: "3 groups
// (by-owner/alice, ...)".
func carriedGroups(marks map[string]string) string {
	var names []string
	for _, rel := range slices.Sorted(maps.Keys(marks)) {
		if g := path.Dir(rel); !slices.Contains(names, g) {
			names = append(names, g)
		}
	}
	n := len(names)
	if n > 5 {
		names = append(names[:5:5], fmt.Sprintf("and %d more", n-5))
	}
	return fmt.Sprintf("%s (%s)", plural(n, "group"), strings.Join(names, ", "))
}
