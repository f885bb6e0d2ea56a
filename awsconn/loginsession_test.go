package awsconn

import (
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestLoginSessionMissing: a profile of the AWS CLI's aws login
// (login_session) whose session is not in the cache, as on a machine
// that has not logged in, or once it was logged out, was told "none
// found ... aws configure list", as if nothing were set up; it names the
// login and the command that renews it.
func TestLoginSessionMissing(t *testing.T) {
	isolate(t, "[profile console]\nregion = eu-west-1\nlogin_session = arn:aws:iam::111122223333:user/alice\n")
	err := credentialsError(t, Settings{Region: "eu-west-1", Profile: "console", MaxAttempts: 1})
	if !audit.IsFatal(err) {
		t.Fatalf("CheckCredentials = %v, want a fatal *audit.CredentialsError", err)
	}
	saysOnly(t, err.Error(), []string{"aws login session", "profile console", "run aws login --profile console"}, []string{"aws configure", "sso"})
}
