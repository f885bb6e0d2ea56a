package audit_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/auditor-dev/auditor/audit"
)

// TestFailSite: an error of a step before the audit (the tags that label
// the targets) fails its account-region alone where the audit's own calls
// would have, and stops the run where the run's own credentials or
// permissions are at fault, or the run has one account-region.
func TestFailSite(t *testing.T) {
	const caller, member = "111111111111", "222222222222"
	code := func(c string) error {
		return fmt.Errorf("reading the tags: %w", &smithy.GenericAPIError{Code: c, Message: "refused"})
	}
	tests := []struct {
		name    string
		multi   bool
		account string
		err     error
		want    string // the account-region's code; "" for the run stopped
	}{
		{"region not enabled, one account-region", false, caller, code("AuthFailure"), ""},
		{"region not enabled, the caller's", true, caller, code("AuthFailure"), "AuthFailure"},
		{"region not enabled, a role's", true, member, code("UnrecognizedClientException"), "UnrecognizedClientException"},
		{"opt-in region", true, member, code("OptInRequired"), "OptInRequired"},
		{"access denied, the caller's", true, caller, code("UnauthorizedOperation"), ""},
		{"access denied, a role's", true, member, code("UnauthorizedOperation"), "UnauthorizedOperation"},
		{"access denied, a role's, one account-region", false, member, code("UnauthorizedOperation"), ""},
		{"expired, the caller's", true, caller, code("ExpiredToken"), ""},
		{"expired, a role's", true, member, code("ExpiredToken"), "ExpiredToken"},
		{"role refused", false, member, &audit.CredentialsError{Source: "assumed role", AccountID: member, Code: "AccessDenied", Message: "refused"}, "AccessDenied"},
		{"the run's own credentials", true, caller, &audit.CredentialsError{Source: "environment", Code: "InvalidClientTokenId", Message: "refused"}, ""},
		{"throttled", true, member, code("ThrottlingException"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := audit.NewSession(audit.Config{
				Region: "us-east-1",
				Client: func(account, region string) (audit.API, error) { return nil, nil },
				Role: func(account string) string {
					if account == caller {
						return ""
					}
					return "arn:aws:iam::" + account + ":role/AuditRole"
				},
			})
			if tt.multi {
				s.SetMulti()
			}
			got := s.FailSite(context.Background(), tt.account, "af-south-1", tt.err)
			switch {
			case tt.want == "" && got != nil:
				t.Errorf("failed the account-region (%s), want the run stopped", got.Code)
			case tt.want != "" && got == nil:
				t.Errorf("stopped the run, want the account-region failed with %s", tt.want)
			case got != nil && (got.Code != tt.want || got.AccountID != tt.account || got.Region != "af-south-1"):
				t.Errorf("failed %s %s with %s, want %s %s with %s", got.AccountID, got.Region, got.Code, tt.account, "af-south-1", tt.want)
			}
			if sites := s.Sites(); tt.want != "" && (len(sites) != 1 || sites[0].Error == nil) {
				t.Errorf("Sites() = %+v, want the account-region with its failure", sites)
			}
		})
	}
}
