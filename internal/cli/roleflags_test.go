package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestRoleFlagsChecked: role flags that STS would refuse are refused
// before any call (exit 2), naming the flag and the rule: every member
// account failed with STS's ValidationError and the run ended in exit 3
// with partial reports. The external ID is not repeated.
func TestRoleFlagsChecked(t *testing.T) {
	_, srv, _ := serveOrg(t, 5)
	tests := []struct {
		name      string
		args      []string
		wantInErr []string
		notInErr  string
	}{
		{"a session name with spaces", []string{"--role-session-name", "audit run by jane@example.com"}, []string{"--role-session-name", "audit run by jane@example.com", "2 to 64"}, ""},
		{"a session name of 70 characters", []string{"--role-session-name", strings.Repeat("a", 70)}, []string{"--role-session-name", "70 characters", "2 to 64"}, ""},
		{"a session name of 1 character", []string{"--role-session-name", "a"}, []string{"--role-session-name", "2 to 64"}, ""},
		{"an external ID of 1 character", []string{"--external-id", "x"}, []string{"--external-id", "1 character", "2 to 1224"}, ""},
		{"an external ID with a space", []string{"--external-id", "team secret-42"}, []string{"--external-id", `" "`}, "secret-42"},
		{"10 minutes", []string{"--role-duration", "10m"}, []string{"--role-duration 10m: want 15m to 12h"}, ""},
		{"13 hours", []string{"--role-duration", "13h"}, []string{"--role-duration 13h: want 15m to 12h"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.ResetStats()
			got := runCLI(t, "", append([]string{"run", "--accounts", "org", "--role-name", "AuditRole", "--discover", "--region", "us-east-1",
				"--quiet", "--out", filepath.Join(t.TempDir(), "out")}, tt.args...)...)
			if got.code != int(exitUsage) {
				t.Fatalf("exit %d, want 2\n%s", got.code, got.stderr)
			}
			for _, w := range tt.wantInErr {
				if !strings.Contains(got.stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, got.stderr)
				}
			}
			if tt.notInErr != "" && strings.Contains(got.stderr, tt.notInErr) {
				t.Errorf("stderr repeats the external ID:\n%s", got.stderr)
			}
			if n := srv.Stats().Requests; n != 0 {
				t.Errorf("%d requests before the refusal, want none", n)
			}
		})
	}
}

// TestRoleDurationChained: --role-duration over an hour, when the run's
// own credentials are a role's session (IRSA, a Batch job role, SSO), is
// capped at the hour STS allows a role assumed with them (role chaining),
// with a warning: every member account failed with "exceeds the 1 hour
// session limit for roles assumed by role chaining" (exit 3). With a
// user's keys, the sessions last as long as asked.
func TestRoleDurationChained(t *testing.T) {
	accounts := ssmsim.DefaultAccounts(2, 1)
	org, _, url := serveOrgOf(t, ssmsim.OrgConfig{
		Seed:     1,
		Accounts: accounts,
		Regions:  []ssmsim.Region{{Name: "us-east-1"}, {Name: "af-south-1", OptIn: true}},
		Roles:    []ssmsim.Role{{Name: "AuditRole", MaxSessionDuration: 12 * time.Hour}, {Name: "Auditor", MaxSessionDuration: 12 * time.Hour}},
		Fleet:    ssmsim.FleetConfig{Size: 5},
	}, ssmsim.Faults{})
	// The auditor's own role in the management account, as under IRSA.
	client := sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("AKIAORGMANAGEMENT001", "secret", "")})
	out, err := client.AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + org.Management() + ":role/Auditor"), RoleSessionName: aws.String("pod")})
	if err != nil {
		t.Fatal(err)
	}
	session := map[string]string{
		"AWS_ACCESS_KEY_ID":     aws.ToString(out.Credentials.AccessKeyId),
		"AWS_SECRET_ACCESS_KEY": aws.ToString(out.Credentials.SecretAccessKey),
		"AWS_SESSION_TOKEN":     aws.ToString(out.Credentials.SessionToken),
	}
	for _, tc := range []struct {
		name    string
		session bool
		warned  bool
	}{
		{"a role's session", true, true},
		{"a user's keys", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.session {
				for k, v := range session {
					t.Setenv(k, v)
				}
			}
			got := runCLI(t, "", "run", "--accounts", "org", "--role-name", "AuditRole", "--role-duration", "2h", "--discover",
				"--region", "us-east-1", "--fail-on", "none", "--out", filepath.Join(t.TempDir(), "out"))
			if got.code != int(exitOK) {
				t.Fatalf("exit %d, want 0\n%s", got.code, got.stderr)
			}
			warned := strings.Contains(got.stderr, "--role-duration 2h:") && strings.Contains(got.stderr, "role chaining")
			if warned != tc.warned {
				t.Errorf("warned about role chaining: %v, want %v\n%s", warned, tc.warned, got.stderr)
			}
		})
	}
}
