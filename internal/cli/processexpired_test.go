package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestCredentialProcessExpiredStopsTheRun: a credential_process that
// printed credentials already expired was used all the same, and run again
// before every call (22 times for 20 instances). The run stops before its
// first call (exit 4), as for any expired credentials, saying so, with the
// process run once and --out not created.
func TestCredentialProcessExpiredStopsTheRun(t *testing.T) {
	isolateAWS(t, "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	url, srv := serve(t, handFleet(false), ssmsim.Options{})
	dir := t.TempDir()
	counter := filepath.Join(dir, "calls")
	script := writeFile(t, "creds.sh", `#!/bin/sh
echo x >> '`+counter+`'
echo '{"Version": 1, "AccessKeyId": "ASIAPROCESSPROCESS01", "SecretAccessKey": "s", "SessionToken": "t", "Expiration": "2020-01-02T03:04:05Z"}'
`)
	if err := os.Chmod(script, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", writeFile(t, "config", "[profile helper]\ncredential_process = "+processCommand(script)+"\n"))
	out := filepath.Join(dir, "out")
	before := srv.Stats().Requests
	got := runCLI(t, "", "run", "--profile", "helper", "--instance-id", "i-0123456789abcdef0", "--instance-id", "i-0123456789abcdef1",
		"--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet")
	if got.code != int(exitFatal) || !strings.Contains(got.stderr, "already expired (at 2020-01-02T03:04:05Z") {
		t.Errorf("exit %d, want %d saying when the credentials expired\n%s", got.code, exitFatal, got.stderr)
	}
	if b, _ := os.ReadFile(counter); strings.Count(string(b), "x") != 1 {
		t.Errorf("the process ran %d times, want once", strings.Count(string(b), "x"))
	}
	if n := srv.Stats().Requests - before; n != 0 {
		t.Errorf("%d requests with expired credentials, want none", n)
	}
	if _, err := os.Lstat(out); !os.IsNotExist(err) {
		t.Errorf("--out %s created (%v), want nothing left behind", out, err)
	}
}

// processCommand is a credential_process value that runs script, which
// the SDK runs through sh -c: a TMPDIR with a space in it would split the
// path, and a value quoted whole has its quotes taken off by the SDK's
// reading of the file.
func processCommand(script string) string {
	return "exec " + shellQuote(script)
}
