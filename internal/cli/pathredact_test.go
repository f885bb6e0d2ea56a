package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestMissingPathShownWithoutPassword: a URL given where a file is wanted
// (auditor report https://u:pass@host, --instances, --baseline, ...) was
// repeated whole in the error that it is not there ("stat
// https://u:pxpass@host: no such file or directory"), password and all,
// on stderr, which cron mails on. The path is shown as a refused argument
// is (shownArg): without its login, and still named.
func TestMissingPathShownWithoutPassword(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	t.Setenv("AWS_REGION", "us-east-1")
	const url = "https://u:pxpass@host/x?token=qsecret"
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	record := writeFile(t, "results.jsonl", "")
	for _, tt := range []struct {
		name string
		args []string
		env  string // set to the URL
	}{
		{"report RECORD", []string{"report", url}, ""},
		{"run --instances", []string{"run", "--instances", url}, ""},
		{"run --instances=", []string{"run", "--instances=" + url}, ""},
		{"run --baseline", []string{"run", "--instances", ids, "--baseline", url}, ""},
		{"run --template", []string{"run", "--instances", ids, "--template", url}, ""},
		{"run --accounts", []string{"run", "--instances", ids, "--accounts", url}, ""},
		{"run --cli-input-json", []string{"run", "--instances", ids, "--cli-input-json", url}, ""},
		{"report --baseline", []string{"report", record, "--baseline", url}, ""},
		{"report --template", []string{"report", record, "--template", url}, ""},
		{"report --cli-input-json", []string{"report", record, "--cli-input-json", url}, ""},
		{"run --smtp-ca-bundle", []string{"run", "--instances", ids, "--mail-to", "ops@example.com", "--mail-from", "auditor@example.com",
			"--smtp", "smtp://127.0.0.1:1", "--smtp-ca-bundle", url}, ""},
		{"AUDITOR_CLI_INPUT_JSON", []string{"run", "--instances", ids}, "AUDITOR_CLI_INPUT_JSON"},
		{"AWS_CA_BUNDLE", []string{"run", "--instances", ids}, "AWS_CA_BUNDLE"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env != "" {
				t.Setenv(tt.env, url)
			}
			args := append(tt.args, "--out", filepath.Join(t.TempDir(), "out"))
			got := runCLI(t, "", args...)
			if got.code != int(exitUsage) {
				t.Errorf("exit %d, want 2\n%s", got.code, got.stderr)
			}
			for _, secret := range []string{"pxpass", "qsecret"} {
				if strings.Contains(got.stderr+got.stdout, secret) {
					t.Errorf("the output repeats %q:\n%s", secret, got.stderr)
				}
			}
			if !strings.Contains(got.stderr, "https://***@host/x") {
				t.Errorf("stderr does not name the path without its login (https://***@host/x):\n%s", got.stderr)
			}
		})
	}
}

// TestMissingPathShownAsGiven: a path that is not there, whose name holds
// a ':' before an '@' (a directory named by its time, a Windows path), was
// shown from its '@' on ("open ***@prod/results.jsonl"), as if it were a
// URL's login: the user could not tell which path was missing. A path is
// shown as it is; only what may be a URL loses its login.
func TestMissingPathShownAsGiven(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	t.Setenv("AWS_REGION", "us-east-1")
	dir := t.TempDir()
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	for _, path := range []string{
		filepath.Join(dir, "a:b@c", "ids.txt"),
		filepath.Join(dir, "2026-12-03T10:00@prod", "results.jsonl"),
		`C:\Users\bob@corp\ids.txt`,
		"./x:y@z/ids.txt",
	} {
		for _, args := range [][]string{
			{"run", "--instances", path},
			{"run", "--instances", ids, "--baseline", path},
			{"report", path},
		} {
			got := runCLI(t, "", append(args, "--out", filepath.Join(t.TempDir(), "out"))...)
			if got.code != int(exitUsage) || !strings.Contains(got.stderr, path) {
				t.Errorf("auditor %s: exit %d, want 2 naming %s as it is\n%s", strings.Join(args, " "), got.code, path, got.stderr)
			}
		}
	}
}

// TestCommaPathsShownWithoutPassword: --instances naming two files with a
// comma is answered with the flag repeated, each part shown as a refused
// argument is.
func TestCommaPathsShownWithoutPassword(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	got := runCLI(t, "", "run", "--region", "us-east-1", "--instances", "https://u:pxpass@host/a,b.txt", "--out", filepath.Join(t.TempDir(), "out"))
	if got.code != int(exitUsage) || strings.Contains(got.stderr, "pxpass") || !strings.Contains(got.stderr, "--instances 'https://***@host/a' --instances b.txt") {
		t.Errorf("exit %d, want 2 naming each file without the password\n%s", got.code, got.stderr)
	}
}
