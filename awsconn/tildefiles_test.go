package awsconn

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTildeInFileVariables: AWS_CONFIG_FILE=~/.aws/audit-config, as a
// systemd unit, a Dockerfile or a pod spec sets it (no shell expands the
// "~"), was read as a file named "~" in the working directory: the profile
// "was not in the AWS config or credentials files", and the credentials
// file was never read (aws-sdk-go-v2 issue 3330). The aws CLI expands a
// leading "~" to the home directory, and so does the auditor, in what it
// reads and in the files its errors name.
func TestTildeInFileVariables(t *testing.T) {
	isolate(t, "")
	home := t.TempDir()
	t.Setenv("HOME", home)
	dir := filepath.Join(home, "aws")
	os.MkdirAll(dir, 0o700)
	os.WriteFile(filepath.Join(dir, "config"), []byte("[profile audit]\nregion = eu-west-2\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "credentials"), []byte("[audit]\naws_access_key_id = AKIATILDETILDETILDE1\naws_secret_access_key = s\n"), 0o600)
	t.Setenv("AWS_CONFIG_FILE", "~/aws/config")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "~/aws/credentials")
	// Not the working directory's "~".
	t.Chdir(t.TempDir())

	c, err := Load(context.Background(), Settings{Profile: "audit"})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got := c.Region(); got != "eu-west-2" {
		t.Errorf("region %q, want the profile's, eu-west-2", got)
	}
	creds, err := c.Config().Credentials.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != "AKIATILDETILDETILDE1" {
		t.Errorf("credentials %q, %v; want the credentials file's", creds.AccessKeyID, err)
	}

	_, err = Load(context.Background(), Settings{Profile: "prod"})
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("Load = %v, want a ConfigError", err)
	}
	for _, want := range []string{filepath.Join(dir, "config"), filepath.Join(dir, "credentials")} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not name %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "no such file") {
		t.Errorf("%q says a file that is there is not", err)
	}

	// The files that the default chain looked in, when it found none.
	os.WriteFile(filepath.Join(dir, "credentials"), nil, 0o600)
	t.Setenv("AWS_CONFIG_FILE", "~/aws/none")
	msg := credentialsError(t, Settings{Region: "us-east-1"}).Error()
	if want := filepath.Join(dir, "none"); !strings.Contains(msg, want) {
		t.Errorf("%q does not name %s", msg, want)
	}
}
