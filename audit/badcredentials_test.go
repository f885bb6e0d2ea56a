package audit_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/auditor-dev/auditor/audit"
)

// refusedSending is an error that says itself that no call can work, as
// a request refused before it left does.
type refusedSending struct{}

func (refusedSending) Error() string { return "refused before it left" }
func (refusedSending) Fatal() bool   { return true }

// TestIsBadCredentials: the credentials' own failures are bad credentials
// and fatal; access denied and an endpoint refused before the request left
// are fatal to an audit without being the credentials'; a throttle is
// neither.
func TestIsBadCredentials(t *testing.T) {
	api := func(code string) error {
		return fmt.Errorf("sts:GetCallerIdentity: %w", &smithy.OperationError{ServiceID: "STS", OperationName: "GetCallerIdentity",
			Err: &smithy.GenericAPIError{Code: code, Message: "m"}})
	}
	tests := []struct {
		name             string
		err              error
		wantBad, wantFat bool
	}{
		{"unknown key", api("InvalidClientTokenId"), true, true},
		{"SSM's unknown key", api("UnrecognizedClientException"), true, true},
		{"expired", api("ExpiredToken"), true, true},
		{"bad signature", api("SignatureDoesNotMatch"), true, true},
		{"not obtained", fmt.Errorf("x: %w", &audit.CredentialsError{Source: "SSO", Kind: "the session has expired"}), true, true},
		{"access denied", api("AccessDenied"), false, true},
		{"SSM's access denied", api("AccessDeniedException"), false, true},
		{"refused before it left", fmt.Errorf("x: %w", refusedSending{}), false, true},
		{"throttled", api("Throttling"), false, false},
		{"no answer", errors.New("connection refused"), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := audit.IsBadCredentials(tt.err); got != tt.wantBad {
				t.Errorf("IsBadCredentials = %v, want %v", got, tt.wantBad)
			}
			if got := audit.IsFatal(tt.err); got != tt.wantFat {
				t.Errorf("IsFatal = %v, want %v", got, tt.wantFat)
			}
		})
	}
}
