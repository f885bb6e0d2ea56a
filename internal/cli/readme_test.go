package cli

import (
	"bytes"
	"flag"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestREADMEFlags: the README's tables of `auditor run` flags (its own, and
// Delivery's) list exactly the flags the command takes, so that the two
// cannot drift apart.
func TestREADMEFlags(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start := strings.Index(text, "### `auditor run`")
	end := strings.Index(text[start+1:], "\n### ")
	if start < 0 || end < 0 {
		t.Fatal("README.md has no section ### `auditor run`")
	}
	// The delivery flags are in the Delivery section's table.
	dstart := strings.Index(text, "\n## Delivery")
	dend := strings.Index(text[dstart+1:], "\n## ")
	if dstart < 0 || dend < 0 {
		t.Fatal("README.md has no section ## Delivery")
	}
	row := regexp.MustCompile("(?m)^\\| `--([a-z-]+)")
	var documented []string
	for _, section := range []string{text[start : start+1+end], text[dstart : dstart+1+dend]} {
		for _, m := range row.FindAllStringSubmatch(section, -1) {
			documented = append(documented, m[1])
		}
	}
	var flags []string
	newCommand("run", &bytes.Buffer{}, nil).fs.VisitAll(func(f *flag.Flag) { flags = append(flags, f.Name) })
	slices.Sort(documented)
	slices.Sort(flags)
	for _, f := range flags {
		if !slices.Contains(documented, f) {
			t.Errorf("--%s is a flag of auditor run, but not in README.md's table", f)
		}
	}
	for _, f := range documented {
		if !slices.Contains(flags, f) {
			t.Errorf("README.md's table names --%s, which auditor run does not take", f)
		}
	}
}

// TestHelpExamplesInREADME: each example of auditor --help is one of the
// README's (a continued line joined): the help's resume lacked the
// --profile its run had, and was refused as another audit's record.
func TestHelpExamplesInREADME(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	join := func(s string) string { return regexp.MustCompile(`\\\n\s*`).ReplaceAllString(s, "") }
	readme := map[string]bool{}
	for _, line := range strings.Split(join(string(b)), "\n") {
		// From source, the README runs auditor as go run ./cmd/auditor.
		readme[strings.Replace(strings.TrimSpace(line), "go run ./cmd/auditor ", "auditor ", 1)] = true
	}
	_, examples, ok := strings.Cut(mainUsage, "Examples:\n")
	if !ok {
		t.Fatal("auditor --help has no Examples")
	}
	examples, _, _ = strings.Cut(examples, "\n\n")
	n := 0
	for _, line := range strings.Split(join(examples), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		n++
		if !readme[line] {
			t.Errorf("auditor --help's example is not the README's: %s", line)
		}
	}
	if n < 3 {
		t.Errorf("found %d examples in auditor --help, want several", n)
	}
}

// TestHelpPlaceholders: auditor run --help named each flag's value as it
// came (--accounts accounts, --smtp string, --mail-when string,
// --call-timeout duration), unlike the README's tables, and did not show
// --out's default. Each flag's value is named in the help as in the
// README's table, and --out's default is the README's.
func TestHelpPlaceholders(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start := strings.Index(text, "### `auditor run`")
	dstart := strings.Index(text, "\n## Delivery")
	if start < 0 || dstart < 0 {
		t.Fatal("README.md has no section ### `auditor run` or ## Delivery")
	}
	end := start + 1 + strings.Index(text[start+1:], "\n### ")
	dend := dstart + 1 + strings.Index(text[dstart+1:], "\n## ")
	row := regexp.MustCompile("(?m)^\\| `--([a-z-]+)( [^`]*)?`")
	want := map[string]string{}
	for _, section := range []string{text[start:end], text[dstart:dend]} {
		for _, m := range row.FindAllStringSubmatch(section, -1) {
			want[m[1]] = strings.ReplaceAll(strings.TrimSpace(m[2]), `\|`, "|")
		}
	}
	var help bytes.Buffer
	c := newCommand("run", &help, nil)
	c.fs.VisitAll(func(f *flag.Flag) {
		if c, ok := f.Value.(*checkedValue); ok {
			g := *f
			g.Value = c.Value
			f = &g
		}
		got, _ := flag.UnquoteUsage(f)
		if w, ok := want[f.Name]; ok && got != w {
			t.Errorf("--%s %s in the help, --%s %s in README.md's table", f.Name, got, f.Name, w)
		}
	})
	c.fs.help()
	if !strings.Contains(help.String(), "(default ./audit-{time})") {
		t.Errorf("the help does not show --out's default, ./audit-{time}:\n%s", help.String())
	}
}
