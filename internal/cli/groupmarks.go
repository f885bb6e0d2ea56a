package cli

import (
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

// readCarried returns the marks of dir's carriedMarksFile; none when there
// is none or it cannot be read.
func readCarried(dir string) map[string]string {
	var c carriedMarks
	b, err := readMark(filepath.Join(dir, carriedMarksFile))
	if err != nil || json.Unmarshal(b, &c) != nil {
		return map[string]string{}
	}
	maps.DeleteFunc(c.Marks, func(rel, _ string) bool { return !groupMarkPath(rel) })
	if c.Marks == nil {
		c.Marks = map[string]string{}
	}
	return c.Marks
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
		Note:  "the marks of the mail of this run's groups (what was not delivered), kept while its reports are rendered again: the next rendering puts them back in the groups it writes",
		Marks: marks,
	}, "", "  ")
	return atomicfile.WriteFile(p, append(b, '\n'))
}

// carryGroupMarks keeps in out's carriedMarksFile, before a rendering
// writes its splits anew, the marks of every group's mail there, beside
// those an earlier rendering kept, and returns them all.
func carryGroupMarks(out string, stderr io.Writer) map[string]string {
	marks := readCarried(out)
	for _, name := range []string{undeliveredFile, unsentFile} {
		paths, _ := filepath.Glob(filepath.Join(out, "by-*", "*", name))
		for _, p := range paths {
			rel, err := filepath.Rel(out, p)
			if err != nil || !groupMarkPath(filepath.ToSlash(rel)) {
				continue
			}
			if b, err := readMark(p); err == nil {
				marks[filepath.ToSlash(rel)] = string(b)
			}
		}
	}
	if len(marks) > 0 {
		if err := writeCarried(out, marks); err != nil {
			fmt.Fprintf(stderr, "auditor: warning: %s: the marks of what its groups' mail did not deliver could not be kept while the reports are written again, and a kill meanwhile would lose them: %v\n", out, err)
		}
	}
	return marks
}

// restoreGroupMarks puts back the marks carryGroupMarks kept in the groups
// the rendering wrote, and keeps in carriedMarksFile, saying so, those of
// groups it did not write: their owners' mail was due and not delivered,
// and a rendering of that split again mails them by auditor mail
// --undelivered. The mail, next, takes off what it delivers.
func restoreGroupMarks(out string, marks map[string]string, stderr io.Writer) {
	if len(marks) == 0 {
		return
	}
	left := map[string]string{}
	for _, rel := range slices.Sorted(maps.Keys(marks)) {
		p := filepath.Join(out, filepath.FromSlash(rel))
		if st, err := os.Lstat(filepath.Dir(p)); err != nil || !st.IsDir() {
			left[rel] = marks[rel]
			continue
		}
		if err := atomicfile.WriteFile(p, []byte(marks[rel])); err != nil {
			fmt.Fprintf(stderr, "auditor: warning: %s: the mark that its mail was not delivered could not be put back: %v\n", filepath.Dir(p), err)
			left[rel] = marks[rel]
		}
	}
	if len(left) > 0 {
		fmt.Fprintf(stderr, "auditor: warning: %s: the mail of %s was due and not delivered, and this rendering wrote no such group (another --split-by, another --baseline): kept in %s; render that split again to mail them with auditor mail --undelivered\n",
			out, carriedGroups(left), carriedMarksFile)
	}
	if err := writeCarried(out, left); err != nil {
		fmt.Fprintf(stderr, "auditor: warning: %s: %v\n", out, err)
	}
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
