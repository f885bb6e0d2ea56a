package awsconn

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestNoCredentialsFound: when no source had credentials, the error once
// named the chain's last resort, "the instance metadata service (IMDS)",
// even with IMDS disabled, added "(profile svc)" and "aws sso login
// --profile svc" for a profile that holds only a region. It says that
// none were found, where it looked (IMDS only when it was asked), and
// suggests aws configure, for the profile that was looked in.
func TestNoCredentialsFound(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	const profiles = "[profile svc]\nregion = eu-west-1\n"
	for _, tc := range []struct {
		name     string
		profile  string // --profile
		env      map[string]string
		want     []string
		dontWant []string
	}{
		{
			name:     "nothing configured",
			want:     []string{"none found", "the environment (AWS_ACCESS_KEY_ID)", "profile default", "aws configure"},
			dontWant: []string{"IMDS", "instance metadata", "sso", "--profile"},
		},
		{
			name:     "a profile named that holds only a region",
			profile:  "svc",
			want:     []string{"none found", "profile svc", "aws configure --profile svc"},
			dontWant: []string{"IMDS", "instance metadata", "sso", "environment"},
		},
		{
			name:     "AWS_PROFILE",
			env:      map[string]string{"AWS_PROFILE": "svc"},
			want:     []string{"none found", "the environment (AWS_ACCESS_KEY_ID)", "profile svc", "aws configure --profile svc"},
			dontWant: []string{"IMDS", "sso"},
		},
		{
			name:     "IMDS asked, and it did not answer",
			env:      map[string]string{"AWS_EC2_METADATA_DISABLED": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://" + closed},
			want:     []string{"none found", "the environment (AWS_ACCESS_KEY_ID)", "profile default", "the instance metadata service (IMDS", "did not answer", "aws configure"},
			dontWant: []string{"sso", "cannot reach"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			isolate(t, profiles)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			err := credentialsError(t, Settings{Region: "eu-west-1", Profile: tc.profile, MaxAttempts: 1})
			if !audit.IsFatal(err) {
				t.Fatalf("CheckCredentials = %v, want a fatal *audit.CredentialsError", err)
			}
			msg := err.Error()
			saysOnly(t, msg, tc.want, tc.dontWant)
			if cfg := os.Getenv("AWS_CONFIG_FILE"); !strings.Contains(msg, cfg) {
				t.Errorf("%q does not name the config file it looked in, %s", msg, cfg)
			}
		})
	}
}

// TestNoCredentialsHintFitsTheSource: a source that was found and had no
// credentials (a role profile whose credential_source, the instance
// metadata service, gave none) was told to "aws sso login --profile
// audit", a profile with no sso_* key in it.
// The login is suggested only to a profile with sso_* keys.
func TestNoCredentialsHintFitsTheSource(t *testing.T) {
	isolate(t, "[profile audit]\nrole_arn = arn:aws:iam::123456789012:role/auditor\ncredential_source = Ec2InstanceMetadata\n")
	msg := credentialsError(t, Settings{Region: "eu-west-1", Profile: "audit", MaxAttempts: 1}).Error()
	for _, w := range []string{"an assumed role", "profile audit", "no credentials found", "aws configure list --profile audit"} {
		if !strings.Contains(msg, w) {
			t.Errorf("%q does not say %q", msg, w)
		}
	}
	if strings.Contains(msg, "sso") {
		t.Errorf("%q suggests an SSO login to a profile without SSO", msg)
	}
}

// credentialsError loads s and checks its credentials, which must fail
// with an *audit.CredentialsError: it returns that error.
func credentialsError(t *testing.T, s Settings) error {
	t.Helper()
	c, err := Load(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	err = c.CheckCredentials(context.Background())
	var ce *audit.CredentialsError
	if !errors.As(err, &ce) {
		t.Fatalf("CheckCredentials = %v, want an *audit.CredentialsError", err)
	}
	return err
}

// saysOnly checks that msg says each of want and none of dontWant.
func saysOnly(t *testing.T, msg string, want, dontWant []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("%q does not say %q", msg, w)
		}
	}
	for _, w := range dontWant {
		if strings.Contains(msg, w) {
			t.Errorf("%q says %q", msg, w)
		}
	}
}
