package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestReportRefusesForeignInstanceIDs: a record line whose instance_id is
// no instance ID (a control character, a zero-width space, a right-to-left
// override, a terminal escape) is not a line auditor writes: `auditor
// report` once took each as an instance of its own, a look-alike of a real
// one in every count and list, and wrote the escapes into instances.csv.
// It is refused as a bad record line is, naming the file, the line and the
// value escaped, before anything is written.
func TestReportRefusesForeignInstanceIDs(t *testing.T) {
	const good = "i-0123456789abcdef0"
	line := func(id string) string {
		quoted, err := json.Marshal(id)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf(`{"schema":%d,"region":"us-east-1","instance_id":%s,"outcome":"compliant","pages":1,"audited_at":"2026-11-24T08:00:00Z",`+
			`"associations":[{"AssociationId":"a-1","Name":"AWS-RunPatchBaseline","Status":"Success","ExecutionDate":"2026-11-24T07:00:00Z"}]}`+"\n",
			audit.Schema, quoted)
	}
	for _, tt := range []struct{ name, id, shown string }{
		{"zero-width space", good + "\u200b", `"i-0123456789abcdef0\u200b"`},
		{"right-to-left override", "\u202e" + good, `"\u202ei-0123456789abcdef0"`},
		{"terminal escape", "\x1b[31m" + good + "\x1b[0m", `"\x1b[31mi-0123456789abcdef0\x1b[0m"`},
		{"control character", good + "\a", `"i-0123456789abcdef0\a"`},
		{"not an ID at all", "root", `"root"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := filepath.Join(t.TempDir(), audit.ResultsFile)
			if err := os.WriteFile(rec, []byte(line(good)+line(tt.id)), 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "out")
			got := runCLI(t, "", "report", rec, "--out", out, "--fail-on", "none", "--quiet")
			if want := rec + ":2: instance_id " + tt.shown; got.code != 2 || !strings.Contains(got.stderr, want) {
				t.Errorf("exit %d, want 2 and an error containing %q\n%s", got.code, want, got.stderr)
			}
			if strings.ContainsAny(got.stderr, "\u200b\u202e\x1b\a") {
				t.Errorf("the error repeats the value unescaped: %q", got.stderr)
			}
			if entries, err := os.ReadDir(out); err == nil && len(entries) > 0 {
				t.Errorf("a refused record was rendered: %s holds %d entries", out, len(entries))
			}
		})
	}
}
