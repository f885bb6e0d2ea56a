package awsconn

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
)

// TestCredentialProcessVersion: a credential_process that printed
// "Version": 2 was told "the credential process failed (run it by hand to
// see why)", though run by hand it succeeds. The aws CLI says "Unsupported
// version '2' for credential process provider, supported versions: 1"; so
// does the error, without the version (the SDK does not say it, and the
// output is not shown: it holds the secret key).
func TestCredentialProcessVersion(t *testing.T) {
	script := filepath.Join(t.TempDir(), "creds.sh")
	os.WriteFile(script, []byte(`#!/bin/sh
echo '{"Version": 2, "AccessKeyId": "ASIAHELPERHELPER0001", "SecretAccessKey": "SECRET-KEY-FROM-HELPER", "SessionToken": "t"}'
`), 0o755)
	isolate(t, "[profile helper]\ncredential_process = "+processCommand(script)+"\n")
	err := credentialsError(t, Settings{Profile: "helper", Region: "us-east-1", MaxAttempts: 1})
	saysOnly(t, err.Error(), []string{"credential_process", "profile helper", "unsupported \"Version\"", "supported versions: 1"},
		[]string{"failed", "SECRET-KEY"})
}

// TestCredentialProcessExpired: a credential_process whose credentials had
// already expired (its Expiration past: a cache it reads gone stale) was
// used all the same, and run again before every call, 22 times for 20
// instances, until the service refused them. The aws CLI refuses them:
// "Credentials were refreshed, but the refreshed credentials are still
// expired." The check of the credentials refuses them too, as expired
// credentials (fatal: exit 4), saying when they expired.
func TestCredentialProcessExpired(t *testing.T) {
	calls := processProfile(t, -time.Hour)
	c, err := Load(context.Background(), Settings{Profile: "helper", Region: "us-east-1", MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	err = c.CheckCredentials(context.Background())
	var ce *audit.CredentialsError
	if !errors.As(err, &ce) || !audit.IsFatal(err) {
		t.Fatalf("CheckCredentials = %v, want a fatal *audit.CredentialsError", err)
	}
	saysOnly(t, err.Error(), []string{"credential_process", "profile helper", "already expired (at ", "this machine's clock says", "\"Expiration\""}, nil)
	if n := calls(); n != 1 {
		t.Errorf("the process ran %d times, want once", n)
	}
	// Any later call is refused alike.
	if _, err := c.Config().Credentials.Retrieve(context.Background()); !errors.As(err, &ce) {
		t.Errorf("Retrieve = %v, want a *audit.CredentialsError", err)
	}
}

// processCommand is a credential_process value that runs script, which
// the SDK runs through sh -c: a TMPDIR with a space in it would split the
// path, and a value quoted whole has its quotes taken off by the SDK's
// reading of the file.
func processCommand(script string) string {
	return "exec '" + strings.ReplaceAll(script, "'", `'\''`) + "'"
}
