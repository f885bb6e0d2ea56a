package awsconn

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestWebIdentityTokenFileUnreadable: a web identity token file that
// cannot be read (IRSA's projected volume not mounted, a path mistyped)
// was told as "the credential source failed", hiding the one thing to
// fix. The error names the file, why it cannot be read and what to
// check; a token that was read never appears in it.
func TestWebIdentityTokenFileUnreadable(t *testing.T) {
	const secret = "eyJhbGciOiJSUzI1NiJ9.SECRET-TOKEN-BODY.sig"
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope", "token")
	readable := filepath.Join(dir, "token")
	os.WriteFile(readable, []byte(secret), 0o600)
	locked := filepath.Join(dir, "locked")
	os.WriteFile(locked, []byte(secret), 0o000)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	const role = "arn:aws:iam::123456789012:role/x"
	for _, tc := range []struct {
		name     string
		config   string
		profile  string
		env      map[string]string
		root     bool // whether the case holds when run as root
		want     []string
		dontWant []string
	}{
		{
			name:     "missing, from the environment",
			env:      map[string]string{"AWS_ROLE_ARN": role, "AWS_WEB_IDENTITY_TOKEN_FILE": missing},
			root:     true,
			want:     []string{missing, "no such file", "AWS_WEB_IDENTITY_TOKEN_FILE", "projected token volume"},
			dontWant: []string{"the credential source failed"},
		},
		{
			name:     "a directory",
			env:      map[string]string{"AWS_ROLE_ARN": role, "AWS_WEB_IDENTITY_TOKEN_FILE": dir},
			root:     true,
			want:     []string{dir, "a directory", "AWS_WEB_IDENTITY_TOKEN_FILE"},
			dontWant: []string{"the credential source failed"},
		},
		{
			name:     "under a file",
			env:      map[string]string{"AWS_ROLE_ARN": role, "AWS_WEB_IDENTITY_TOKEN_FILE": filepath.Join(readable, "token")},
			root:     true,
			want:     []string{"not a directory", "AWS_WEB_IDENTITY_TOKEN_FILE"},
			dontWant: []string{secret, "SECRET-TOKEN", "the credential source failed"},
		},
		{
			name:     "missing, from the profile",
			config:   "[profile irsa]\nrole_arn = " + role + "\nweb_identity_token_file = " + missing + "\n",
			profile:  "irsa",
			root:     true,
			want:     []string{missing, "no such file", "web_identity_token_file", "profile irsa"},
			dontWant: []string{"the credential source failed"},
		},
		{
			name:     "not readable",
			env:      map[string]string{"AWS_ROLE_ARN": role, "AWS_WEB_IDENTITY_TOKEN_FILE": locked},
			want:     []string{locked, "permission denied", "AWS_WEB_IDENTITY_TOKEN_FILE"},
			dontWant: []string{secret, "SECRET-TOKEN"},
		},
		{
			name:     "read, and STS not reached",
			env:      map[string]string{"AWS_ROLE_ARN": role, "AWS_WEB_IDENTITY_TOKEN_FILE": readable, "AWS_ENDPOINT_URL_STS": "http://" + closed},
			root:     true,
			dontWant: []string{secret, "SECRET-TOKEN", "cannot be read"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.root && os.Geteuid() == 0 {
				t.Skip("root reads a file of mode 000")
			}
			isolate(t, tc.config)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			err := credentialsError(t, Settings{Region: "eu-west-1", Profile: tc.profile, MaxAttempts: 1})
			if !audit.IsFatal(err) {
				t.Fatalf("CheckCredentials = %v, want a fatal *audit.CredentialsError", err)
			}
			saysOnly(t, err.Error(), tc.want, tc.dontWant)
		})
	}
}
