package outdir_test

import (
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/internal/atomicfile"
	"github.com/auditor-dev/auditor/internal/outdir"
)

func TestCheck(t *testing.T) {
	base := t.TempDir()
	file := filepath.Join(base, "file")
	os.WriteFile(file, nil, 0o644)
	ro := filepath.Join(base, "ro")
	os.Mkdir(ro, 0o555)
	tests := []struct {
		dir  string
		want error
	}{
		{base, nil},
		{filepath.Join(base, "new", "deeper"), nil},
		{file, outdir.ErrNotDir},
		{filepath.Join(file, "sub"), outdir.ErrNotDir},
	}
	if os.Geteuid() != 0 { // root writes anywhere
		tests = append(tests, struct {
			dir  string
			want error
		}{filepath.Join(ro, "sub"), atomicfile.ErrNotWritable})
	}
	for _, tt := range tests {
		err := outdir.Check(tt.dir)
		if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("Check(%s) = %v, want %v", tt.dir, err, tt.want)
		}
	}
	if _, err := os.Stat(filepath.Join(base, "new")); err == nil {
		t.Error("Check created a directory")
	}
}

func TestOpenDemo(t *testing.T) {
	real := t.TempDir()
	os.WriteFile(filepath.Join(real, "results.jsonl"), []byte("{}\n"), 0o644)
	if _, err := outdir.OpenDemo(real, "results.jsonl"); !errors.Is(err, outdir.ErrNotDemo) {
		t.Errorf("OpenDemo of another directory: %v, want ErrNotDemo", err)
	}
	if _, err := os.Stat(filepath.Join(real, "results.jsonl")); err != nil {
		t.Error("OpenDemo removed a file of a directory it refused")
	}

	demo := filepath.Join(t.TempDir(), "demo")
	d, err := outdir.OpenDemo(demo)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(demo, "results.jsonl"), []byte("{}\n"), 0o644)
	d.Close()
	d, err = outdir.OpenDemo(demo, "results.jsonl")
	if err != nil {
		t.Fatalf("OpenDemo of its own directory: %v", err)
	}
	defer d.Close()
	if _, err := os.Stat(filepath.Join(demo, "results.jsonl")); err == nil {
		t.Error("OpenDemo kept its earlier record")
	}
}

// TestOpenClearsStale: a killed run's spill files and half-written reports
// are cleared by the next run that holds the lock; other files are not.
func TestOpenClearsStale(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, outdir.TmpDir), 0o777)
	os.WriteFile(filepath.Join(dir, outdir.TmpDir, "excelize-123"), make([]byte, 1000), 0o644)
	os.WriteFile(filepath.Join(dir, ".report.xlsx.tmp-0123456789ab"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, ".notes.tmp-mine"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "keep.txt"), nil, 0o644)
	d, err := outdir.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for name, want := range map[string]bool{
		filepath.Join(outdir.TmpDir, "excelize-123"): false,
		".report.xlsx.tmp-0123456789ab":              false,
		".notes.tmp-mine":                            true,
		"keep.txt":                                   true,
	} {
		_, err := os.Stat(filepath.Join(dir, name))
		if (err == nil) != want {
			t.Errorf("%s present %v, want %v", name, err == nil, want)
		}
	}
}

// TestCheckNamesWhatTheUserNamed: an error names the path as given, then
// why: a parent that cannot take it, or a symlink to nothing (which
// MkdirAll reports as "file exists"). The symlink's case holds as root.
func TestCheckNamesWhatTheUserNamed(t *testing.T) {
	base := t.TempDir()
	link := filepath.Join(base, "danglink")
	if err := os.Symlink(filepath.Join(base, "missing"), link); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	tests := []struct {
		name string
		dir  string
		want []string
	}{
		{"dangling symlink", link, []string{link + ": ", "symlink", filepath.Join(base, "missing"), "does not exist"}},
		{"under a dangling symlink", filepath.Join(link, "sub"), []string{filepath.Join(link, "sub") + ": ", link + " is a symlink", "does not exist"}},
	}
	if os.Geteuid() != 0 {
		ro := filepath.Join(base, "ro")
		os.Mkdir(ro, 0o555)
		tests = append(tests, struct {
			name string
			dir  string
			want []string
		}{"read-only parent", filepath.Join(ro, "x"), []string{filepath.Join(ro, "x") + ": ", "cannot create it in " + ro}})
	} else {
		t.Log("running as root, which writes in a read-only directory: its case is left out")
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := outdir.Check(tt.dir)
			if !errors.Is(err, atomicfile.ErrNotWritable) {
				t.Fatalf("Check(%s) = %v, want ErrNotWritable", tt.dir, err)
			}
			got := err.Error()
			if !strings.HasPrefix(got, tt.want[0]) {
				t.Errorf("Check(%s) = %q, want it to start with %q", tt.dir, got, tt.want[0])
			}
			for _, w := range tt.want[1:] {
				if !strings.Contains(got, w) {
					t.Errorf("Check(%s) = %q, want %q in it", tt.dir, got, w)
				}
			}
		})
	}
	// Open says the same, not "mkdir: file exists".
	if _, err := outdir.Open(link); err == nil || !strings.Contains(err.Error(), "symlink") || strings.Contains(err.Error(), "file exists") {
		t.Errorf("Open(dangling symlink) = %v, want it to say it is a symlink to nothing", err)
	}
}

// TestCheckNamesTheWorkingDirectory: a relative path that cannot be made
// in the working directory says so, not "." (the default --out is one),
// and which it is: cron's is the home directory or /, which its mail
// does not say.
func TestCheckNamesTheWorkingDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root, which writes in a read-only directory")
	}
	ro := filepath.Join(t.TempDir(), "ro")
	os.Mkdir(ro, 0o555)
	t.Chdir(ro)
	err := outdir.Check("audit-20261203T020125Z")
	if !errors.Is(err, atomicfile.ErrNotWritable) || !strings.HasPrefix(err.Error(), "audit-20261203T020125Z: ") || !strings.Contains(err.Error(), "the working directory ("+ro+")") {
		t.Errorf("Check = %v, want it to name the path and the working directory", err)
	}
}

// TestCheckRefusesRootAndHome: --out / and --out ~ were taken, and a run
// wrote its record, its lock and its reports among the files of the whole
// machine or of the user. Check refuses the root of the file system and
// the home directory itself, however named (through a symlink, as "."
// from there, with a ".."), with ErrShared; what is under them is an
// output directory as any other.
func TestCheckRefusesRootAndHome(t *testing.T) {
	base := t.TempDir()
	home := filepath.Join(base, "home")
	if err := os.MkdirAll(filepath.Join(home, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home) // where os.UserHomeDir looks on Windows
	toHome, toRoot := filepath.Join(base, "tohome"), filepath.Join(base, "toroot")
	if err := os.Symlink(home, toHome); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	if err := os.Symlink(string(filepath.Separator), toRoot); err != nil {
		t.Fatal(err)
	}
	root := string(filepath.Separator)
	t.Chdir(home)
	for _, tt := range []struct {
		name, dir string
		want      string // the whole message; "" for none
	}{
		{"the root", root, root + ": the root of the file system, not a directory for one run's reports"},
		{"the root through a symlink", toRoot, toRoot + ": the root of the file system (" + root + "), not a directory for one run's reports"},
		{"the home directory", home, home + ": the home directory, not a directory for one run's reports"},
		{"the home directory with a slash", home + string(filepath.Separator), home + string(filepath.Separator) + ": the home directory, not a directory for one run's reports"},
		{"the home directory through a symlink", toHome, toHome + ": the home directory (" + home + "), not a directory for one run's reports"},
		{"the working directory, the home directory", ".", ".: the home directory (" + home + "), not a directory for one run's reports"},
		{"back up into the home directory", "sub" + string(filepath.Separator) + "..", "sub" + string(filepath.Separator) + "..: the home directory (" + home + "), not a directory for one run's reports"},
		{"a directory in the home directory", "sub", ""},
		{"a new one in the home directory", filepath.Join(home, "audit-20261203T020125Z"), ""},
		{"through the symlink, under the home directory", filepath.Join(toHome, "sub"), ""},
		{"beside the home directory", base, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := outdir.Check(tt.dir)
			if tt.want == "" {
				if err != nil {
					t.Errorf("Check(%s) = %v, want nil", tt.dir, err)
				}
				return
			}
			if !errors.Is(err, outdir.ErrShared) || err.Error() != tt.want {
				t.Errorf("Check(%s) = %v, want ErrShared saying %q", tt.dir, err, tt.want)
			}
		})
	}
}

// TestCheckRefusesRootAndHomeThroughANewDirectory: a path through a
// directory that does not exist yet and back (~/new/.., /{date}/..) was
// taken, as Check asked only of a path that exists: the run made new/,
// then wrote its record, its lock and its reports into the home directory
// or the root. Check refuses it as it will resolve once made, without
// making anything; a path that goes on past the home directory, or above
// it, is an output directory as any other.
func TestCheckRefusesRootAndHomeThroughANewDirectory(t *testing.T) {
	base := t.TempDir()
	home := filepath.Join(base, "home")
	if err := os.MkdirAll(filepath.Join(home, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	toHome := filepath.Join(base, "tohome")
	if err := os.Symlink(home, toHome); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	sep := string(filepath.Separator)
	root := sep
	t.Chdir(home)
	homeSays := func(dir string) string {
		return dir + ": the home directory (" + home + "), not a directory for one run's reports"
	}
	for _, tt := range []struct {
		name, dir string
		want      string // the whole message; "" for none
	}{
		{"the home directory, through a new one", home + sep + "new" + sep + "..", homeSays(home + sep + "new" + sep + "..")},
		{"the home directory, through a new one, with a slash", home + sep + "new" + sep + ".." + sep, homeSays(home + sep + "new" + sep + ".." + sep)},
		{"the home directory, through two new ones", home + sep + "new" + sep + "deeper" + sep + ".." + sep + "..", homeSays(home + sep + "new" + sep + "deeper" + sep + ".." + sep + "..")},
		{"the home directory, through a new one in another", home + sep + "new" + sep + ".." + sep + "again" + sep + "..", homeSays(home + sep + "new" + sep + ".." + sep + "again" + sep + "..")},
		{"the working directory, the home directory, through a new one", "new" + sep + "..", homeSays("new" + sep + "..")},
		{"the home directory, from a new one under one that exists", "sub" + sep + "new" + sep + ".." + sep + "..", homeSays("sub" + sep + "new" + sep + ".." + sep + "..")},
		{"the home directory through a symlink and a new one", toHome + sep + "new" + sep + "..", homeSays(toHome + sep + "new" + sep + "..")},
		{"the root, through a new one", root + "auditor-not-there" + sep + "..", root + "auditor-not-there" + sep + "..: the root of the file system (" + root + "), not a directory for one run's reports"},
		{"a new one in the home directory, through another", home + sep + "new" + sep + ".." + sep + "audit", ""},
		{"above the home directory, through a new one", home + sep + "new" + sep + ".." + sep + "..", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := names(t, home)
			err := outdir.Check(tt.dir)
			if tt.want == "" {
				if err != nil {
					t.Errorf("Check(%s) = %v, want nil", tt.dir, err)
				}
			} else if !errors.Is(err, outdir.ErrShared) || err.Error() != tt.want {
				t.Errorf("Check(%s) = %v, want ErrShared saying %q", tt.dir, err, tt.want)
			}
			if after := names(t, home); strings.Join(after, "\n") != strings.Join(before, "\n") {
				t.Errorf("Check(%s) left %q in the home directory, which held %q", tt.dir, after, before)
			}
		})
	}
	if _, err := os.Lstat(root + "auditor-not-there"); err == nil {
		t.Errorf("Check made %sauditor-not-there", root)
	}
}

// TestCheckRefusesHomeWithoutHOME: with HOME unset, the home directory
// went unprotected (os.UserHomeDir fails then). It is the user's, as the
// system's account database names it.
func TestCheckRefusesHomeWithoutHOME(t *testing.T) {
	u, err := user.Current()
	if err != nil || u.HomeDir == "" {
		t.Skipf("no home directory in the account database: %v", err)
	}
	if st, err := os.Stat(u.HomeDir); err != nil || !st.IsDir() {
		t.Skipf("the home directory %s is not there: %v", u.HomeDir, err)
	}
	t.Setenv("HOME", "")
	os.Unsetenv("HOME")
	t.Setenv("USERPROFILE", "")
	os.Unsetenv("USERPROFILE")
	t.Setenv("home", "") // plan9
	os.Unsetenv("home")
	for _, dir := range []string{u.HomeDir, u.HomeDir + string(filepath.Separator) + "new" + string(filepath.Separator) + ".."} {
		if err := outdir.Check(dir); !errors.Is(err, outdir.ErrShared) || !strings.Contains(err.Error(), "the home directory") {
			t.Errorf("Check(%s) = %v, want ErrShared for the home directory", dir, err)
		}
	}
}

// names lists dir's entries.
func names(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ns []string
	for _, e := range es {
		ns = append(ns, e.Name())
	}
	return ns
}

// TestOpenDemoThroughANewDirectory: OpenDemo of another directory named
// through one that does not exist yet and back (DIR/y/..) read nothing
// there, made y/, locked DIR, and only then refused it, leaving y/ and its
// lock among files not its own. It refuses before it makes anything.
func TestOpenDemoThroughANewDirectory(t *testing.T) {
	real := t.TempDir()
	if err := os.WriteFile(filepath.Join(real, "notes.txt"), []byte("not the demo's\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sep := string(filepath.Separator)
	dir := real + sep + "y" + sep + ".."
	d, err := outdir.OpenDemo(dir)
	if err == nil {
		d.Close()
	}
	if !errors.Is(err, outdir.ErrNotDemo) {
		t.Errorf("OpenDemo(%s) = %v, want ErrNotDemo", dir, err)
	}
	if got := names(t, real); strings.Join(got, " ") != "notes.txt" {
		t.Errorf("OpenDemo(%s) left %q, want notes.txt alone", dir, got)
	}
}

// TestOpenThroughANewDirectory: Open of DIR/e/y/.., where e does not
// exist, made e/y as MkdirAll does, a directory nobody named as the
// output, and left it there. Only e, the directory the path leads to, is
// made, and it is the Dir's Path.
func TestOpenThroughANewDirectory(t *testing.T) {
	base := t.TempDir()
	sep := string(filepath.Separator)
	d, err := outdir.Open(base + sep + "e" + sep + "y" + sep + "..")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if got, want := d.Path, filepath.Join(base, "e"); got != want {
		t.Errorf("Path = %s, want %s", got, want)
	}
	if got := names(t, base); strings.Join(got, " ") != "e" {
		t.Errorf("%s holds %q, want e alone", base, got)
	}
	if got := names(t, filepath.Join(base, "e")); slices.Contains(got, "y") {
		t.Errorf("e holds %q: y was made", got)
	}
}

// TestClean: a ".." after a name not made yet goes with it, as it will
// once that name is made a plain directory; a ".." after a name that
// exists stays, for the system to resolve (through a symlink, it is not
// where the text says). Nothing is made.
func TestClean(t *testing.T) {
	base := t.TempDir()
	if err := os.MkdirAll(filepath.Join(base, "have", "sub"), 0o777); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink(filepath.Join(base, "have", "sub"), link); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	sep := string(filepath.Separator)
	at := func(parts ...string) string { return base + sep + strings.Join(parts, sep) }
	for _, tt := range []struct{ dir, want string }{
		{at("e", "y", ".."), at("e")},
		{at("e", "y", "..") + sep, at("e")},
		{at("e", "y", "..", "..", "z"), at("z")},
		{at("e", "y", "..", "z", "..", "w"), at("e", "w")},
		{at("have", "y", ".."), at("have")},
		{at("have", ".."), at("have", "..")},
		{at("link", ".."), at("link", "..")},
		{at("link", "new", ".."), at("link")},
		{at("e"), at("e")},
		{at("e") + sep, at("e") + sep},
		{at("have", "sub", "..", "new"), at("have", "sub", "..", "new")},
	} {
		if got := outdir.Clean(tt.dir); got != tt.want {
			t.Errorf("Clean(%s) = %s, want %s", tt.dir, got, tt.want)
		}
	}
	t.Chdir(base)
	for _, tt := range []struct{ dir, want string }{
		{"e" + sep + "y" + sep + "..", "e"},
		{"e" + sep + "..", "."},
		{"." + sep + "e" + sep + "y" + sep + "..", "." + sep + "e"},
		{"link" + sep + "..", "link" + sep + ".."},
		{"..", ".."},
	} {
		if got := outdir.Clean(tt.dir); got != tt.want {
			t.Errorf("Clean(%s) = %s, want %s", tt.dir, got, tt.want)
		}
	}
	if got := names(t, base); strings.Join(got, " ") != "have link" {
		t.Errorf("%s holds %q after Clean, want have and link alone", base, got)
	}
}
