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
