package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestValueTypoSuggested: a mistyped flag was answered with the closest
// flag, but a mistyped value of a flag of fixed choices (--fail-on faild)
// only with the whole list. Each such flag now names the closest choice.
func TestValueTypoSuggested(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	mail := []string{"--mail-to", "ops@example.com", "--mail-from", "auditor@example.com"}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"fail-on", []string{"--fail-on", "faild"}, "(did you mean failed?)"},
		{"fail-on in a list", []string{"--fail-on", "failed,pendng"}, "(did you mean pending?)"},
		{"format", []string{"--format", "csv,htm"}, "(did you mean html?)"},
		{"mail-when", []string{"--mail-when", "finding"}, "(did you mean findings?)"},
		{"mail-via", append(mail, "--mail-via", "sess"), "(did you mean ses?)"},
		{"upload-sse", []string{"--upload", "s3://bucket/x/", "--upload-sse", "AES265"}, "(did you mean AES256?)"},
		{"log-format", []string{"--log-format", "jsn"}, "(did you mean json?)"},
		{"upload-sse in lower case", []string{"--upload", "s3://bucket/x/", "--upload-sse", "aes256"}, "(did you mean AES256?)"},
		{"upload-sse kms", []string{"--upload", "s3://bucket/x/", "--upload-sse", "kms"}, "(did you mean aws:kms?)"},
		{"format by its first letters", []string{"--format", "js"}, "(did you mean json?)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"run", "--region", "us-east-1", "--instances", ids, "--out", filepath.Join(t.TempDir(), "out")}, tt.args...)
			got := runCLI(t, "", args...)
			if got.code != 2 || !strings.Contains(got.stderr, tt.want) {
				t.Errorf("exit %d, want 2 saying %q\n%s", got.code, tt.want, got.stderr)
			}
		})
	}
}
