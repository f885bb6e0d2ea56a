package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/deliver/smtptest"
	"github.com/auditor-dev/auditor/report"
)

// TestMailOneGroupByLabel: `auditor mail GROUPDIR --mail-to-label L`, one
// group's directory of a split, said the run was not split and told to
// split the group again. It is refused before anything is sent, saying
// how to mail this group (--to) and how to mail every group by the label
// (the run's directory).
func TestMailOneGroupByLabel(t *testing.T) {
	out := ownersRun(t)
	group := filepath.Join(report.SplitDir(out, "owner"), "alice")
	if _, err := os.Stat(group); err != nil {
		t.Fatal(err)
	}
	ms := newMailSetup(t, smtptest.Options{})
	got := runCLI(t, "", append([]string{"mail", group, "--mail-to-label", "owner_email"}, ms.args...)...)
	if got.code != 2 || len(ms.srv.Messages()) != 0 {
		t.Errorf("mail of one group by label: exit %d, %d messages, want 2 and none\n%s", got.code, len(ms.srv.Messages()), got.stderr)
	}
	for _, want := range []string{"one group", "--to", "auditor mail " + out + " --mail-to-label owner_email"} {
		if !strings.Contains(got.stderr, want) {
			t.Errorf("stderr does not say %q\n%s", want, got.stderr)
		}
	}
	if strings.Contains(got.stderr, "split it") {
		t.Errorf("stderr tells to split a group's directory again\n%s", got.stderr)
	}
}
