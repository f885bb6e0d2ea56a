package audit_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/auditor-dev/auditor/audit"
)

// TestSiteFailuresCut: a listing or a lookup of instance information
// refused with a message of 100,000 characters failed its account-region
// with the message whole, into run.json and onto stderr. Each is cut as
// an answer's fields are, saying so.
func TestSiteFailuresCut(t *testing.T) {
	long := strings.Repeat("v", 100_004)
	fake := &fakeSSM{info: func(ctx context.Context, in *ssm.DescribeInstanceInformationInput) (*ssm.DescribeInstanceInformationOutput, error) {
		return nil, &smithy.GenericAPIError{Code: "ValidationException", Message: long}
	}}
	cfg := audit.Config{Region: "us-east-1", Client: func(string, string) (audit.API, error) { return fake, nil }}
	check := func(t *testing.T, code, msg string) {
		t.Helper()
		if len(code)+len(msg) > 8<<10 || !strings.Contains(msg, "[cut: ") {
			t.Errorf("code of %d bytes, message of %d, want them cut to 4 KiB, saying so: %.80q", len(code), len(msg), msg)
		}
	}
	t.Run("listing", func(t *testing.T) {
		s := audit.NewSession(cfg)
		err := s.Discover(context.Background(), "111111111111", "us-east-1", nil, func(audit.Target) error { return nil })
		var se *audit.SiteError
		if !errors.As(err, &se) {
			t.Fatalf("Discover: %.200v, want a *SiteError", err)
		}
		check(t, se.Code, se.Message)
	})
	t.Run("instance information", func(t *testing.T) {
		s := audit.NewSession(cfg)
		err := s.LookupInfo(context.Background(), "111111111111", "us-east-1", []string{"i-0123456789abcdef0"}, func(string, *audit.InstanceInfo) {})
		var ie *audit.InfoError
		var se *audit.SiteError
		switch {
		case errors.As(err, &ie):
			check(t, ie.Code, ie.Message)
		case errors.As(err, &se):
			check(t, se.Code, se.Message)
		default:
			t.Fatalf("LookupInfo: %.200v, want an *InfoError or a *SiteError", err)
		}
	})
}
