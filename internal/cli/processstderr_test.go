package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestCredentialProcessStderrPassesThrough: README said that nothing a
// credential source printed reaches the terminal, and that --log-format
// json writes JSON records only; but the SDK gives a credential_process
// the auditor's own stderr (and stdin), as the AWS CLI does, so that it
// can prompt for an MFA code. The processcreds options offer no other
// stderr, so README says so: the process's stderr lines come through as
// they are, between the records; its stdout (the credentials) never does.
func TestCredentialProcessStderrPassesThrough(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary: skipped with -short")
	}
	bin := binary(t)
	isolateAWS(t, "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	script := writeFile(t, "creds.sh", `#!/bin/sh
echo "MFA code for arn:aws:iam::123456789012:mfa/me:" >&2
echo '{"Version": 1, "AccessKeyId": "AKIAPROCESSPROCESS01", "SecretAccessKey": "process-secret-key"}'
`)
	if err := os.Chmod(script, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", writeFile(t, "config", "[profile helper]\ncredential_process = "+processCommand(script)+"\n"))
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	cmd := exec.Command(bin, "run", "--profile", "helper", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1",
		"--out", filepath.Join(t.TempDir(), "out"), "--log-format", "json")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var raw []string
	for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if !json.Valid([]byte(l)) {
			raw = append(raw, l)
		}
	}
	if len(raw) != 1 || raw[0] != "MFA code for arn:aws:iam::123456789012:mfa/me:" {
		t.Errorf("lines of stderr that are not JSON: %q, want the process's prompt alone, as it wrote it\n%s", raw, stderr.String())
	}
	if strings.Contains(stderr.String(), "process-secret-key") {
		t.Errorf("the process's stdout reached stderr\n%s", stderr.String())
	}
}
