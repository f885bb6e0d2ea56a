package awsconn

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"
)

// TestEveryAccountHas: the regions every account of a partition has, where
// a member's calls need not go elsewhere, and the opt-in regions AWS has
// opened since March 2019, which an account may not have enabled.
func TestEveryAccountHas(t *testing.T) {
	for region, want := range map[string]bool{
		"us-east-1": true, "eu-west-1": true, "ap-northeast-3": true, "sa-east-1": true,
		"af-south-1": false, "me-south-1": false, "ap-southeast-5": false, "mx-central-1": false, "ca-west-1": false, "il-central-1": false,
		"cn-north-1": true, "cn-northwest-1": true, "us-gov-west-1": true, "us-gov-east-1": true,
		"eusc-de-east-1": true, "us-iso-east-1": true, "us-isob-east-1": true,
	} {
		if got := EveryAccountHas(region); got != want {
			t.Errorf("EveryAccountHas(%q) = %v, want %v", region, got, want)
		}
	}
}

type providerFunc func(context.Context) (aws.Credentials, error)

func (f providerFunc) Retrieve(ctx context.Context) (aws.Credentials, error) { return f(ctx) }

// TestElsewhereKeepsTheCause: a role refused in the home region as a region
// its account has not enabled is assumed in a region every account has; when
// that refuses it too (a policy that denies the region), the home region's
// refusal is the error, which says more of the cause, and the next attempt
// tries the home region again.
func TestElsewhereKeepsTheCause(t *testing.T) {
	disabled := &smithy.GenericAPIError{Code: "RegionDisabledException", Message: "STS is not activated in this region"}
	denied := &smithy.GenericAPIError{Code: "AccessDenied", Message: "explicit deny in a service control policy"}
	homeCalls, otherCalls := 0, 0
	otherErr := error(denied)
	e := &elsewhere{
		home: providerFunc(func(context.Context) (aws.Credentials, error) { homeCalls++; return aws.Credentials{}, disabled }),
		other: providerFunc(func(context.Context) (aws.Credentials, error) {
			otherCalls++
			return aws.Credentials{AccessKeyID: "ASIAOTHER"}, otherErr
		}),
	}
	if _, err := e.Retrieve(context.Background()); !errors.Is(err, disabled) {
		t.Errorf("refused in both regions: error %v, want the home region's %v", err, disabled)
	}
	otherErr = nil
	if c, err := e.Retrieve(context.Background()); err != nil || c.AccessKeyID != "ASIAOTHER" {
		t.Errorf("refused at home, assumed elsewhere: %v, %v", c, err)
	}
	if _, err := e.Retrieve(context.Background()); err != nil || homeCalls != 2 || otherCalls != 3 {
		t.Errorf("once moved: error %v, home tried %d times, elsewhere %d; want 2 and 3", err, homeCalls, otherCalls)
	}
}
