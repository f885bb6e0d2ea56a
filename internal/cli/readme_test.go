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

// helpOf returns auditor COMMAND --help as it prints.
func helpOf(t *testing.T, command string) string {
	t.Helper()
	got := runCLI(t, "", command, "--help")
	if got.code != int(exitOK) || got.stderr != "" {
		t.Fatalf("auditor %s --help: exit %d, stderr %q", command, got.code, got.stderr)
	}
	return got.stdout
}

// helpFlag is a flag's line in the help: two blanks and the flag, at the
// start of a line, then its value's name or nothing.
var helpFlag = regexp.MustCompile(`(?m)^  --([a-z0-9-]+)(?: |$)`)

// helpHeading is a group's heading in the help: a line of its own at the
// first column that ends in a colon (Usage: has more after its colon).
var helpHeading = regexp.MustCompile(`(?m)^([A-Za-z][^:\n]*):$`)

// TestHelpFlagsOnce: auditor run --help listed its 58 flags alphabetically,
// so that a new user could not find the few that matter; arranged in
// groups, no flag may be lost or listed twice. Every command's help lists
// each of its flags exactly once, and no other, in lines under 100 columns.
func TestHelpFlagsOnce(t *testing.T) {
	for _, command := range commands {
		t.Run(command, func(t *testing.T) {
			help := helpOf(t, command)
			flags, err := Flags(command)
			if err != nil {
				t.Fatal(err)
			}
			listed := map[string]int{}
			for _, m := range helpFlag.FindAllStringSubmatch(help, -1) {
				listed[m[1]]++
			}
			for name := range flags {
				if listed[name] != 1 {
					t.Errorf("--%s is listed %d times in auditor %s --help, want once", name, listed[name], command)
				}
			}
			for name := range listed {
				if _, ok := flags[name]; !ok {
					t.Errorf("auditor %s --help lists --%s, which it does not take", command, name)
				}
			}
			for i, line := range strings.Split(help, "\n") {
				if n := len([]rune(line)); n >= 100 {
					t.Errorf("auditor %s --help, line %d: %d columns, want fewer than 100: %s", command, i+1, n, line)
				}
			}
		})
	}
}

// readmeHeadings returns the README's section headings, without their
// marks and backquotes (### `auditor demo` is "auditor demo"); a comment
// in a code block is no heading.
func readmeHeadings(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	headings := map[string]bool{}
	fenced := false
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
			continue
		}
		if rest, ok := strings.CutPrefix(line, "#"); ok && !fenced {
			headings[strings.ReplaceAll(strings.TrimSpace(strings.TrimLeft(rest, "#")), "`", "")] = true
		}
	}
	return headings
}

// TestHelpGroupsREADME: the help groups the flags under headings that are
// the README's sections, so that a heading says where to read more and
// the two stay in step; auditor run --help lists the flags of each of the
// README's tables (auditor run's, Delivery's) in the table's order.
func TestHelpGroupsREADME(t *testing.T) {
	headings := readmeHeadings(t)
	for _, command := range commands {
		t.Run(command, func(t *testing.T) {
			help := helpOf(t, command)
			n := 0
			for _, m := range helpHeading.FindAllStringSubmatch(help, -1) {
				if m[1] == "Examples" {
					continue
				}
				n++
				if !headings[m[1]] {
					t.Errorf("auditor %s --help has the heading %q, which is no section of README.md", command, m[1])
				}
			}
			if n == 0 {
				t.Errorf("auditor %s --help has no headings:\n%s", command, help)
			}
			lines := strings.Split(strings.TrimRight(help, "\n"), "\n")
			if last := lines[len(lines)-1]; !strings.Contains(last, "README") {
				t.Errorf("auditor %s --help ends with %q, want the README pointed to", command, last)
			}
		})
	}
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	var order []string
	for _, m := range helpFlag.FindAllStringSubmatch(helpOf(t, "run"), -1) {
		order = append(order, m[1])
	}
	row := regexp.MustCompile("(?m)^\\| `--([a-z-]+)")
	for _, section := range []string{"\n### `auditor run`", "\n## Delivery"} {
		start := strings.Index(text, section)
		if start < 0 {
			t.Fatalf("README.md has no section %s", strings.TrimSpace(section))
		}
		table := text[start+1:]
		table = table[:strings.Index(table+"\n#", "\n#")]
		var want []string
		for _, m := range row.FindAllStringSubmatch(table, -1) {
			want = append(want, m[1])
		}
		got := slices.DeleteFunc(slices.Clone(order), func(name string) bool { return !slices.Contains(want, name) })
		if !slices.Equal(got, want) {
			t.Errorf("auditor run --help lists the flags of README.md's %s table as\n%v\nwant its order\n%v", strings.TrimSpace(section), got, want)
		}
	}
}

// TestHelpExamples: each command's help opens with examples, and each is
// a command line the command takes: its flags exist, their values parse,
// and, for run, demo and report, the options pass their checks (a mail
// example without --mail-from would be refused).
func TestHelpExamples(t *testing.T) {
	for _, command := range commands {
		t.Run(command, func(t *testing.T) {
			help := helpOf(t, command)
			before, examples, ok := strings.Cut(help, "\nExamples:\n")
			if !ok {
				t.Fatalf("auditor %s --help has no Examples:\n%s", command, help)
			}
			if helpFlag.MatchString(before) {
				t.Errorf("auditor %s --help lists flags before its examples", command)
			}
			end := helpHeading.FindStringIndex(examples)
			if end == nil {
				t.Fatalf("auditor %s --help has no flags after its examples", command)
			}
			examples = examples[:end[0]]
			examples = regexp.MustCompile(`\\\n\s*`).ReplaceAllString(examples, "")
			n := 0
			for _, line := range strings.Split(examples, "\n") {
				line = strings.TrimSpace(line)
				if line == "" || strings.HasPrefix(line, "#") {
					continue
				}
				n++
				if strings.ContainsAny(line, `'"$|`) {
					t.Errorf("example %q: quotes, variables and pipes are not checked here; write plain words", line)
					continue
				}
				args, ok := strings.CutPrefix(line, "auditor "+command)
				if !ok {
					t.Errorf("example %q is not of auditor %s", line, command)
					continue
				}
				checkExample(t, command, strings.Fields(args))
			}
			if n < 2 || n > 5 {
				t.Errorf("auditor %s --help has %d examples, want 2 to 5", command, n)
			}
		})
	}
}

// checkExample parses args as command does and checks its options.
func checkExample(t *testing.T, command string, args []string) {
	t.Helper()
	line := "auditor " + command + " " + strings.Join(args, " ")
	if command == "simulate" {
		// Its flags live in simulateCmd: the skeleton parses them and
		// stops there.
		if got := runCLI(t, "", append([]string{command, "--generate-cli-skeleton"}, args...)...); got.code != int(exitOK) {
			t.Errorf("%s: exit %d: %s", line, got.code, got.stderr)
		}
		return
	}
	c := newCommand(command, &bytes.Buffer{}, nil)
	if _, err := c.parse(t.Context(), args, command == "report" || command == "mail", &bytes.Buffer{}); err != nil {
		t.Errorf("%s: %v", line, err)
		return
	}
	var problems []error
	switch command {
	case "mail":
		problems = c.o.delivery.check("to")
	default:
		_, problems = c.o.check()
		if command == "run" {
			_, more := c.o.checkOrg()
			problems = append(problems, more...)
		}
	}
	for _, err := range problems {
		t.Errorf("%s: %v", line, err)
	}
}
