package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestEmptyTemplateRefusedBeforeAWS: an empty --template audited the fleet
// and wrote a report.html of 0 bytes, listed among the reports, exiting
// as the fleet did. It is refused before the first call, exit 2, naming
// the file, by run and report alike, and no output directory is made; so
// is a template of white space alone.
func TestEmptyTemplateRefusedBeforeAWS(t *testing.T) {
	url, srv, ids, earlier := earlierRun(t)
	for _, tmpl := range []struct{ name, content, want string }{
		{"empty.tmpl", "", "is empty"},
		{"blank.tmpl", "\n  \n", "only white space"},
	} {
		path := writeFile(t, tmpl.name, tmpl.content)
		for _, tt := range []struct {
			name string
			args []string
		}{
			{"run", []string{"run", "--instances", ids, "--endpoint-url", url}},
			{"report", []string{"report", filepath.Join(earlier, audit.ResultsFile)}},
		} {
			t.Run(tmpl.name+"/"+tt.name, func(t *testing.T) {
				srv.ResetStats()
				out := filepath.Join(t.TempDir(), "out")
				got := runCLI(t, "", append(tt.args, "--out", out, "--quiet", "--template", path)...)
				if got.code != int(exitUsage) {
					t.Fatalf("exit %d, want %d\n%s", got.code, exitUsage, got.stderr)
				}
				for _, w := range []string{"--template", path, tmpl.want} {
					if !strings.Contains(got.stderr, w) {
						t.Errorf("stderr does not say %q:\n%s", w, got.stderr)
					}
				}
				if n := srv.Stats().Requests; n > 0 {
					t.Errorf("%d requests before the refusal", n)
				}
				if _, err := os.Lstat(out); err == nil {
					t.Errorf("%s was made for a refused command", out)
				}
			})
		}
	}
}
