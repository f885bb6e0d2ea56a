package cli

import (
	"regexp"
	"strings"
	"testing"
)

// TestHelpNamesOwnFlags: mail's help said --mail-to-label mails "each
// group of --split-by", a flag mail does not have. Every flag a command's
// help names is one of its own, or is said to be the run's ("the run's
// --split-by"): the flag of the run that wrote what the command reads.
func TestHelpNamesOwnFlags(t *testing.T) {
	flagRE := regexp.MustCompile(`(the run's )?--([a-z][a-z0-9-]*)`)
	for _, name := range []string{"run", "report", "mail", "demo"} {
		t.Run(name, func(t *testing.T) {
			got := runCLI(t, "", name, "--help")
			help := got.stdout + got.stderr
			if !strings.Contains(help, "--") {
				t.Fatalf("exit %d, no help:\n%s", got.code, help)
			}
			fs := newCommand(name, &strings.Builder{}, nil).fs
			for _, m := range flagRE.FindAllStringSubmatch(help, -1) {
				if m[1] == "" && fs.Lookup(m[2]) == nil {
					t.Errorf("auditor %s --help names --%s, which %s does not have", name, m[2], name)
				}
			}
		})
	}
}
