package awsconn

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestMissingProfileNamesTheFiles: a profile that no file holds was told
// as "not in the AWS config or credentials files", without which files
// were read: with AWS_CONFIG_FILE naming a file that is not there (a
// container's mount missing, a typo), nothing said so. The message names
// each file read, and one that does not exist as such.
func TestMissingProfileNamesTheFiles(t *testing.T) {
	isolate(t, "[profile other]\nregion = us-east-1\n")
	missing := filepath.Join(t.TempDir(), "nope", "config")
	t.Setenv("AWS_CONFIG_FILE", missing)
	_, err := Load(context.Background(), Settings{Profile: "prod", Region: "us-east-1"})
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("Load = %v, want a ConfigError", err)
	}
	for _, want := range []string{`profile "prod"`, missing + " (no such file)", "empty"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not say %q", err, want)
		}
	}
}
