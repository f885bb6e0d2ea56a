package awsconn

import (
	"context"
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/config"
)

// TestNoHomeReadsNoWorkingDirectoryFiles: with no home directory (HOME not
// set and no entry for the user in the user database: env -i, a job run
// under a uid of its own), the SDK's default files are .aws/config and
// .aws/credentials of the working directory, so the auditor took the keys
// that anyone who can write there (a shared temporary directory) planted,
// and named those relative files in its errors. It reads no shared file
// then, as the aws CLI does, and says that there is no home directory and
// what to set instead.
func TestNoHomeReadsNoWorkingDirectoryFiles(t *testing.T) {
	isolate(t, "")
	t.Setenv("AWS_CONFIG_FILE", "")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "")
	t.Setenv("HOME", "")
	t.Cleanup(func() { currentUser = user.Current })
	currentUser = func() (*user.User, error) { return nil, user.UnknownUserIdError(os.Getuid()) }
	// What the SDK takes for its defaults when it starts without a home
	// directory; it works them out once, at start.
	cfgFiles, credFiles := config.DefaultSharedConfigFiles, config.DefaultSharedCredentialsFiles
	t.Cleanup(func() { config.DefaultSharedConfigFiles, config.DefaultSharedCredentialsFiles = cfgFiles, credFiles })
	config.DefaultSharedConfigFiles = []string{filepath.Join(".aws", "config")}
	config.DefaultSharedCredentialsFiles = []string{filepath.Join(".aws", "credentials")}

	wd := t.TempDir()
	os.MkdirAll(filepath.Join(wd, ".aws"), 0o700)
	os.WriteFile(filepath.Join(wd, ".aws", "config"), []byte("[profile audit]\nregion = eu-west-3\n"), 0o600)
	os.WriteFile(filepath.Join(wd, ".aws", "credentials"),
		[]byte("[default]\naws_access_key_id = AKIAPLANTEDPLANTED01\naws_secret_access_key = s\n"+
			"[audit]\naws_access_key_id = AKIAPLANTEDPLANTED02\naws_secret_access_key = s\n"), 0o600)
	t.Chdir(wd)

	msg := credentialsError(t, Settings{Region: "us-east-1", MaxAttempts: 1}).Error()
	saysOnly(t, msg, []string{"none found", "no home directory", "set HOME"}, []string{"PLANTED", filepath.Join(".aws", "credentials")})

	// Nor a "~" of AWS_SHARED_CREDENTIALS_FILE, a directory of that name.
	os.MkdirAll(filepath.Join(wd, "~", ".aws"), 0o700)
	os.Rename(filepath.Join(wd, ".aws", "credentials"), filepath.Join(wd, "~", ".aws", "credentials"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")
	msg = credentialsError(t, Settings{Region: "us-east-1", MaxAttempts: 1}).Error()
	saysOnly(t, msg, []string{"none found", "no home directory", "AWS_SHARED_CREDENTIALS_FILE"}, []string{"PLANTED", "~"})
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "")

	// The rest of the chain still works.
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENTENV01")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "s")
	c, err := Load(context.Background(), Settings{Region: "us-east-1"})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if creds, err := c.Config().Credentials.Retrieve(context.Background()); err != nil || creds.AccessKeyID != "AKIAENVIRONMENTENV01" {
		t.Errorf("credentials %q, %v; want the environment's", creds.AccessKeyID, err)
	}

	_, err = Load(context.Background(), Settings{Profile: "audit", Region: "us-east-1"})
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("Load of a profile = %v, want a ConfigError", err)
	}
	saysOnly(t, err.Error(), []string{`profile "audit"`, "no home directory", "set HOME", "AWS_CONFIG_FILE"}, []string{filepath.Join(".aws", "config")})
	if strings.Contains(err.Error(), "PLANTED") {
		t.Errorf("%q took the planted file", err)
	}
}
