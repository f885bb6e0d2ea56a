package awsconn

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"

	"github.com/auditor-dev/auditor/audit"
)

type failingProvider struct{ err error }

func (p failingProvider) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{}, p.err
}

// TestAssumeRefusedAsExpiredIsTheRunsOwn: STS refuses an AssumeRole as
// expired when the credentials that sign it, the run's own, have expired
// (a role's session is renewed before it ends). That failure was the
// member account's: the run went through every account-region, each
// failing in turn, and ended incomplete instead of stopping (exit 4).
// A role refused otherwise is its account's.
func TestAssumeRefusedAsExpiredIsTheRunsOwn(t *testing.T) {
	for _, tc := range []struct {
		code        string
		wantAccount string
	}{
		{"ExpiredToken", ""},
		{"ExpiredTokenException", ""},
		{"AccessDenied", "111122223333"},
	} {
		a := &assumed{inner: failingProvider{&smithy.GenericAPIError{Code: tc.code, Message: "refused"}},
			account: "111122223333", arn: "arn:aws:iam::111122223333:role/AuditRole"}
		_, err := a.Retrieve(context.Background())
		var ce *audit.CredentialsError
		if !errors.As(err, &ce) {
			t.Fatalf("%s: %v, want a CredentialsError", tc.code, err)
		}
		if ce.AccountID != tc.wantAccount || ce.Code != tc.code {
			t.Errorf("%s: account %q, code %q; want account %q (\"\": the run's own credentials)", tc.code, ce.AccountID, ce.Code, tc.wantAccount)
		}
	}
}
