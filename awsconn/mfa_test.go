package awsconn

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
)

// TestRoleWithMFA: a role_arn profile with mfa_serial could not be used at
// all: Load failed with the SDK's "assume role with MFA enabled, but
// AssumeRoleTokenProvider session option not set.", where the aws CLI
// asks for the code. With Settings.MFACode the code is asked for the
// profile's device and sent with the AssumeRole; without it, Load says
// what to do instead. A code that could not be read says so.
func TestRoleWithMFA(t *testing.T) {
	const (
		serial = "arn:aws:iam::123456789012:mfa/alice"
		role   = "arn:aws:iam::123456789012:role/Auditor"
	)
	var mu sync.Mutex
	var got url.Values
	sts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		mu.Lock()
		got = r.PostForm
		mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>`+
			`<AssumedRoleUser><AssumedRoleId>AROAEXAMPLE:s</AssumedRoleId><Arn>arn:aws:sts::123456789012:assumed-role/Auditor/s</Arn></AssumedRoleUser>`+
			`<Credentials><AccessKeyId>ASIAROLEROLEROLE0001</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken>`+
			`<Expiration>%s</Expiration></Credentials></AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>`,
			time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	}))
	t.Cleanup(sts.Close)
	config := "[profile keys]\naws_access_key_id = AKIAKEYSKEYSKEYS0001\naws_secret_access_key = s\n\n" +
		"[profile mfa]\nrole_arn = " + role + "\nsource_profile = keys\nmfa_serial = " + serial + "\n"

	t.Run("asked", func(t *testing.T) {
		isolate(t, config)
		t.Setenv("AWS_ENDPOINT_URL_STS", sts.URL)
		var asked []string
		c, err := Load(context.Background(), Settings{Profile: "mfa", Region: "us-east-1", MaxAttempts: 1,
			MFACode: func(s string) (string, error) { asked = append(asked, s); return "123456", nil }})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.CheckCredentials(context.Background()); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(asked) != 1 || asked[0] != serial {
			t.Errorf("asked for the codes of %q, want once for %s", asked, serial)
		}
		if got.Get("SerialNumber") != serial || got.Get("TokenCode") != "123456" || got.Get("RoleArn") != role {
			t.Errorf("AssumeRole sent %v, want the role, the serial and the code", got)
		}
	})
	t.Run("no one to ask", func(t *testing.T) {
		isolate(t, config)
		t.Setenv("AWS_ENDPOINT_URL_STS", sts.URL)
		_, err := Load(context.Background(), Settings{Profile: "mfa", Region: "us-east-1", MaxAttempts: 1, MFAAsked: true})
		var ce *ConfigError
		if !errors.As(err, &ce) {
			t.Fatalf("Load = %v, want a *ConfigError", err)
		}
		saysOnly(t, err.Error(), []string{`profile "mfa"`, "mfa_serial " + serial, "terminal", "credential_process"}, []string{"AssumeRoleTokenProvider"})
	})
	// A command that never asks (auditor report, auditor mail) was told
	// to run at a terminal, where it would not ask either.
	t.Run("a command that never asks", func(t *testing.T) {
		isolate(t, config)
		t.Setenv("AWS_ENDPOINT_URL_STS", sts.URL)
		_, err := Load(context.Background(), Settings{Profile: "mfa", Region: "us-east-1", MaxAttempts: 1})
		var ce *ConfigError
		if !errors.As(err, &ce) {
			t.Fatalf("Load = %v, want a *ConfigError", err)
		}
		saysOnly(t, err.Error(), []string{`profile "mfa"`, "mfa_serial " + serial, "does not ask", "credential_process"}, []string{"terminal", "AssumeRoleTokenProvider"})
	})
	t.Run("no code entered", func(t *testing.T) {
		isolate(t, config)
		t.Setenv("AWS_ENDPOINT_URL_STS", sts.URL)
		c, err := Load(context.Background(), Settings{Profile: "mfa", Region: "us-east-1", MaxAttempts: 1,
			MFACode: func(string) (string, error) { return "", errors.New("none entered") }})
		if err != nil {
			t.Fatal(err)
		}
		err = c.CheckCredentials(context.Background())
		var ce *audit.CredentialsError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "the MFA code for "+serial+" could not be read: none entered") {
			t.Errorf("CheckCredentials = %v, want a *audit.CredentialsError saying that the MFA code could not be read", err)
		}
	})
	t.Run("no answer in time", func(t *testing.T) {
		isolate(t, config)
		t.Setenv("AWS_ENDPOINT_URL_STS", sts.URL)
		c, err := Load(context.Background(), Settings{Profile: "mfa", Region: "us-east-1", MaxAttempts: 1,
			MFACode: func(string) (string, error) { return "", fmt.Errorf("%w within 2m0s", ErrMFANoAnswer) }})
		if err != nil {
			t.Fatal(err)
		}
		err = c.CheckCredentials(context.Background())
		var ce *audit.CredentialsError
		if !errors.As(err, &ce) {
			t.Fatalf("CheckCredentials = %v, want a *audit.CredentialsError", err)
		}
		saysOnly(t, err.Error(), []string{"no code was entered within 2m0s", "unattended", "credential_process", "aws sts get-session-token"}, nil)
	})
}

// TestMFARefusalNamesTheProfile: AWS_DEFAULT_PROFILE=mfa, refused for its
// MFA device, was said to be profile "default": the SDK takes the profile
// from AWS_PROFILE, else AWS_DEFAULT_PROFILE, and so does the refusal.
func TestMFARefusalNamesTheProfile(t *testing.T) {
	const config = "[profile keys]\naws_access_key_id = AKIAKEYSKEYSKEYS0001\naws_secret_access_key = s\n\n" +
		"[profile mfa]\nrole_arn = arn:aws:iam::123456789012:role/Auditor\nsource_profile = keys\nmfa_serial = arn:aws:iam::123456789012:mfa/alice\n\n" +
		"[profile other]\nrole_arn = arn:aws:iam::123456789012:role/Other\nsource_profile = keys\nmfa_serial = arn:aws:iam::123456789012:mfa/bob\n\n" +
		"[default]\nrole_arn = arn:aws:iam::123456789012:role/Default\nsource_profile = keys\nmfa_serial = arn:aws:iam::123456789012:mfa/carol\n"
	for _, tc := range []struct {
		name    string
		profile string // Settings.Profile
		env     map[string]string
		want    string
	}{
		{name: "AWS_DEFAULT_PROFILE", env: map[string]string{"AWS_DEFAULT_PROFILE": "mfa"}, want: "mfa"},
		{name: "AWS_PROFILE before AWS_DEFAULT_PROFILE", env: map[string]string{"AWS_PROFILE": "mfa", "AWS_DEFAULT_PROFILE": "other"}, want: "mfa"},
		{name: "the setting before both", profile: "mfa", env: map[string]string{"AWS_PROFILE": "other", "AWS_DEFAULT_PROFILE": "other"}, want: "mfa"},
		{name: "none", want: "default"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			isolate(t, config)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			_, err := Load(context.Background(), Settings{Profile: tc.profile, Region: "us-east-1", MaxAttempts: 1})
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("Load = %v, want a *ConfigError", err)
			}
			if want := fmt.Sprintf("profile %q:", tc.want); !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Load = %q, want it to start %q", err, want)
			}
		})
	}
}
