package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestListValueHints: values that a first run gets wrong in a way the
// message should name. --instance-id i-a,i-b was told as a bad "line" to
// fix, with no word that the flag is repeated; --instances a.txt,b.txt as a
// bare "no such file"; a tab-separated export (Excel's "Text (Tab
// delimited)") as lines that contain a tab, with no remedy.
func TestListValueHints(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	dir := t.TempDir()
	a := writeFile(t, "a.txt", "i-0123456789abcdef0\n")
	b := writeFile(t, "b.txt", "i-0123456789abcdef1\n")
	tsv := writeFile(t, "tab.tsv", "InstanceId\tOwner\ni-0123456789abcdef0\talice\n")
	// An export that opens with a comment, or blank lines, a BOM and
	// CRLF: the hint is on the first line that is neither.
	commented := writeFile(t, "commented.tsv", "# exported from inventory\n\n# 2 rows\nInstanceId\tOwner\ni-0123456789abcdef0\talice\n")
	blank := writeFile(t, "blank.tsv", "\xef\xbb\xbf\r\n  \t\r\nInstanceId\tOwner\r\ni-0123456789abcdef0\talice\r\n")
	// Excel's "CSV" where the region's list separator is ";" (most of
	// Europe): a header, or a first row with no header.
	semi := writeFile(t, "semi.csv", "\xef\xbb\xbfInstanceId;Owner;Region\r\ni-0d01e688e93f54df8;M\u00fcller;us-east-1\r\n")
	semiRow := writeFile(t, "semirow.csv", "i-0d01e688e93f54df8;M\u00fcller;us-east-1\r\n")
	hosts := writeFile(t, "hosts.txt", "web01;web02\n")
	for _, tt := range []struct {
		name     string
		args     []string
		want     []string
		wantNone []string
	}{
		{
			name:     "IDs with a comma",
			args:     []string{"--instance-id", "i-0123456789abcdef0,i-0123456789abcdef1"},
			want:     []string{`--instance-id "i-0123456789abcdef0,i-0123456789abcdef1"`, "--instance-id i-0123456789abcdef0 --instance-id i-0123456789abcdef1"},
			wantNone: []string{"line"},
		},
		{
			// As the README says: --skip-invalid skips a bad ID, not
			// one value that names several.
			name:     "IDs with a comma, with --skip-invalid",
			args:     []string{"--skip-invalid", "--instance-id", "i-0123456789abcdef0,i-0123456789abcdef1"},
			want:     []string{`--instance-id "i-0123456789abcdef0,i-0123456789abcdef1"`, "--instance-id i-0123456789abcdef0 --instance-id i-0123456789abcdef1"},
			wantNone: []string{"line", "invalid"},
		},
		{
			name:     "a bad ID on the command line",
			args:     []string{"--instance-id", "i-xyz"},
			want:     []string{`--instance-id: "i-xyz"`, "fix the value above"},
			wantNone: []string{"line"},
		},
		{
			name: "files with a comma",
			args: []string{"--instances", a + "," + b},
			want: []string{"does not exist", "--instances " + a + " --instances " + b},
		},
		{
			name: "tab-separated",
			args: []string{"--instances", tsv},
			want: []string{`tab.tsv:1: "InstanceId\tOwner": contains a tab`, `save it as CSV (in Excel, "CSV UTF-8")`},
		},
		{
			name: "tab-separated after comment lines",
			args: []string{"--instances", commented},
			want: []string{`commented.tsv:4: "InstanceId\tOwner": contains a tab: a tab-separated list? save it as CSV (in Excel, "CSV UTF-8")`},
		},
		{
			name: "tab-separated after blank lines",
			args: []string{"--instances", blank},
			want: []string{`blank.tsv:3: "InstanceId\tOwner": contains a tab: a tab-separated list? save it as CSV (in Excel, "CSV UTF-8")`},
		},
		{
			name: "semicolon-separated",
			args: []string{"--instances", semi},
			want: []string{`semi.csv:1: "InstanceId;Owner;Region": not an instance ID`, `: a semicolon-separated list? save it as CSV with commas`, "with an instance_id column, or as one ID a line"},
		},
		{
			name: "semicolon-separated without a header",
			args: []string{"--instances", semiRow},
			want: []string{`semirow.csv:1: "i-0d01e688e93f54df8;Müller;us-east-1": `, `: a semicolon-separated list? save it as CSV with commas`},
		},
		{
			// A ";" with no instance ID or instance_id column beside it
			// is not taken for a separator.
			name:     "a semicolon that is not a separator",
			args:     []string{"--instances", hosts},
			want:     []string{`hosts.txt:1: "web01;web02": not an instance ID`},
			wantNone: []string{"semicolon-separated"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := runCLI(t, "", append([]string{"run", "--region", "us-east-1", "--quiet", "--out", filepath.Join(dir, tt.name)}, tt.args...)...)
			if got.code != 2 {
				t.Errorf("exit %d, want 2\n%s", got.code, got.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(got.stderr, w) {
					t.Errorf("stderr does not say %q\n%s", w, got.stderr)
				}
			}
			for _, w := range tt.wantNone {
				if strings.Contains(got.stderr, w) {
					t.Errorf("stderr says %q\n%s", w, got.stderr)
				}
			}
		})
	}
}
