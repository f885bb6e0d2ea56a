package awsconn

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// isolate points the AWS configuration chain at config alone (an AWS config
// file's text), so that the machine's own AWS setup cannot change a test.
func isolate(t *testing.T, config string) {
	t.Helper()
	dir := t.TempDir()
	cfg, empty := filepath.Join(dir, "config"), filepath.Join(dir, "empty")
	os.WriteFile(cfg, []byte(config), 0o600)
	os.WriteFile(empty, nil, 0o600)
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE":                        cfg,
		"AWS_SHARED_CREDENTIALS_FILE":            empty,
		"AWS_PROFILE":                            "",
		"AWS_DEFAULT_PROFILE":                    "",
		"AWS_ACCESS_KEY_ID":                      "",
		"AWS_SECRET_ACCESS_KEY":                  "",
		"AWS_SESSION_TOKEN":                      "",
		"AWS_REGION":                             "",
		"AWS_DEFAULT_REGION":                     "",
		"AWS_ROLE_ARN":                           "",
		"AWS_WEB_IDENTITY_TOKEN_FILE":            "",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI":     "",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
		"AWS_ENDPOINT_URL":                       "",
		"AWS_ENDPOINT_URL_STS":                   "",
		"AWS_EC2_METADATA_DISABLED":              "true",
	} {
		t.Setenv(k, v)
	}
}

// processProfile makes the profile "helper" a credential_process that
// hands out credentials expiring life after each call; calls says how
// often it ran.
func processProfile(t *testing.T, life time.Duration) (calls func() int) {
	t.Helper()
	dir := t.TempDir()
	counter, script := filepath.Join(dir, "calls"), filepath.Join(dir, "creds.sh")
	body := `#!/bin/sh
echo x >> '` + counter + `'
ns=$(( $(date +%s%N) + ` + strconv.FormatInt(life.Nanoseconds(), 10) + ` ))
exp=$(date -u -d "@$((ns / 1000000000)).$(printf %09d $((ns % 1000000000)))" +%Y-%m-%dT%H:%M:%S.%NZ)
echo '{"Version": 1, "AccessKeyId": "ASIAHELPERHELPER0001", "SecretAccessKey": "s", "SessionToken": "t", "Expiration": "'$exp'"}'
`
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	isolate(t, "[profile helper]\ncredential_process = "+processCommand(script)+"\n")
	return func() int {
		b, _ := os.ReadFile(counter)
		return strings.Count(string(b), "x")
	}
}

// TestOwnCredentialsRenewedAhead: the run's own temporary credentials (a
// credential_process's here; SSO's, a role_arn profile's and a web
// identity's alike) are renewed 2.5 to 5 minutes before they expire, as
// assumed roles' are. They were renewed only once expired, and a call
// signed in their last moments reached the service after it: one
// ExpiredTokenException stopped the run (exit 4). Credentials that live
// less than that are renewed half-way through their life, neither on every
// call nor once expired.
func TestOwnCredentialsRenewedAhead(t *testing.T) {
	for _, tc := range []struct {
		life         time.Duration
		soonest, max time.Duration // when they are renewed, after they were obtained
	}{
		{time.Hour, 55 * time.Minute, 57*time.Minute + 30*time.Second},
		// Half-way; the check below allows a second more, for the time the
		// process (a shell and two date processes) takes to start.
		{6 * time.Second, 0, 3 * time.Second},
	} {
		t.Run(fmt.Sprint(tc.life), func(t *testing.T) {
			calls := processProfile(t, tc.life)
			c, err := Load(context.Background(), Settings{Profile: "helper", Region: "us-east-1"})
			if err != nil {
				t.Fatal(err)
			}
			creds := c.Config().Credentials
			start := time.Now()
			first, err := creds.Retrieve(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if in := first.Expires.Sub(start); in < tc.soonest-time.Second || in > tc.max+time.Second {
				t.Errorf("credentials that live %v are renewed %v after they were obtained, want %v to %v (a second either side for the process's start)", tc.life, in.Round(time.Millisecond), tc.soonest-time.Second, tc.max+time.Second)
			}
			for range 3 {
				if _, err := creds.Retrieve(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			if n := calls(); n != 1 {
				t.Errorf("credentials that live %v: the process ran %d times for four calls at once, want once", tc.life, n)
			}
			if tc.life > 10*time.Second {
				return
			}
			// Once due, before they expire, they are renewed.
			time.Sleep(time.Until(first.Expires) + 10*time.Millisecond)
			if _, err := creds.Retrieve(context.Background()); err != nil {
				t.Fatal(err)
			}
			if n := calls(); n != 2 || !time.Now().Before(start.Add(tc.life)) {
				t.Errorf("the process ran %d times by %v into credentials that live %v, want twice, before they expire", n, time.Since(start).Round(time.Millisecond), tc.life)
			}
		})
	}
}
