package awsconn

import (
	"context"
	"errors"
	"os"
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

// TestMissingProfileSaysWhereItsNameCameFrom: AWS_PROFILE=prod with no
// such profile was told as if the name had been given, with no word of
// the variable nor of the profiles that do exist, so that whoever set it
// long ago did not know what to change. The message names the variable,
// the profiles of both files, or that there are none and how to make one.
// AWS_DEFAULT_PROFILE, which the SDK reads when AWS_PROFILE is unset, is
// refused so too: a missing one was passed over in silence, and the run
// went on with the environment's keys, or said no credentials were found
// (exit 4) where the AWS CLI says the profile could not be found.
func TestMissingProfileSaysWhereItsNameCameFrom(t *testing.T) {
	tests := []struct {
		name     string
		config   string
		creds    string
		env      map[string]string
		profile  string
		want     []string
		wantNone []string
	}{
		{
			name:     "from AWS_PROFILE, others exist",
			config:   "[default]\nregion = us-east-1\n[profile prod-admin]\nregion = us-east-1\n[sso-session corp]\nsso_region = us-east-1\n[services local]\n",
			creds:    "[staging]\naws_access_key_id = x\n",
			env:      map[string]string{"AWS_PROFILE": "prod"},
			want:     []string{`profile "prod" (from AWS_PROFILE)`, "default, prod-admin, staging", "set AWS_PROFILE to one of them"},
			wantNone: []string{"corp", "local"},
		},
		{
			name:     "from AWS_DEFAULT_PROFILE, others exist",
			config:   "[default]\nregion = us-east-1\n[profile prod-admin]\nregion = us-east-1\n",
			env:      map[string]string{"AWS_DEFAULT_PROFILE": "prod"},
			want:     []string{`profile "prod" (from AWS_DEFAULT_PROFILE)`, "default, prod-admin", "set AWS_DEFAULT_PROFILE to one of them"},
			wantNone: []string{"AWS_PROFILE "},
		},
		{
			// As AWS_PROFILE's is: the AWS CLI refuses it, and the
			// run is not to go on with the environment's keys.
			name:   "from AWS_DEFAULT_PROFILE, keys in the environment",
			config: "[profile prod-admin]\nregion = us-east-1\n",
			env:    map[string]string{"AWS_DEFAULT_PROFILE": "prod", "AWS_ACCESS_KEY_ID": "AKIAENVENVENVENVENV1", "AWS_SECRET_ACCESS_KEY": "s"},
			want:   []string{`profile "prod" (from AWS_DEFAULT_PROFILE)`, "prod-admin"},
		},
		{
			name:     "from AWS_DEFAULT_PROFILE, none exist",
			config:   "# nothing yet\n",
			env:      map[string]string{"AWS_DEFAULT_PROFILE": "prod"},
			want:     []string{`profile "prod" (from AWS_DEFAULT_PROFILE)`, "they hold no profile", "aws configure --profile prod"},
			wantNone: []string{"AWS_PROFILE "},
		},
		{
			name:     "given, none exist",
			config:   "# nothing yet\n",
			profile:  "prod",
			want:     []string{`profile "prod" is not`, "they hold no profile", "aws configure --profile prod"},
			wantNone: []string{"AWS_PROFILE"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t, tt.config)
			creds := filepath.Join(t.TempDir(), "credentials")
			os.WriteFile(creds, []byte(tt.creds), 0o600)
			t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			_, err := Load(context.Background(), Settings{Profile: tt.profile, Region: "us-east-1"})
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("Load = %v, want a ConfigError", err)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%q does not say %q", err, want)
				}
			}
			for _, not := range tt.wantNone {
				if strings.Contains(err.Error(), not) {
					t.Errorf("%q says %q", err, not)
				}
			}
		})
	}
}

// TestMissingDefaultProfilePassedOver: AWS_DEFAULT_PROFILE is read only
// when neither the settings nor AWS_PROFILE name a profile, so that a
// missing one is not refused then.
func TestMissingDefaultProfilePassedOver(t *testing.T) {
	for _, tc := range []struct {
		name    string
		profile string // Settings.Profile
		env     map[string]string
	}{
		{name: "the setting", profile: "prod", env: map[string]string{"AWS_DEFAULT_PROFILE": "nope"}},
		{name: "AWS_PROFILE", env: map[string]string{"AWS_PROFILE": "prod", "AWS_DEFAULT_PROFILE": "nope"}},
		// A container image that sets it, with keys in the environment
		// (or IRSA, ECS, IMDS): without it the SDK takes the same
		// credentials, so refusing it protects nothing.
		{name: "default, no such section", env: map[string]string{"AWS_DEFAULT_PROFILE": "default", "AWS_ACCESS_KEY_ID": "AKIAEXAMPLEEXAMPLE00", "AWS_SECRET_ACCESS_KEY": "x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			isolate(t, "[profile prod]\nregion = us-east-1\n")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			if _, err := Load(context.Background(), Settings{Profile: tc.profile, Region: "us-east-1"}); err != nil {
				t.Errorf("Load = %v, want it loaded", err)
			}
		})
	}
}
