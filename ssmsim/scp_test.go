package ssmsim_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestServiceControlPolicyDeny: an action a member account's service
// control policy denies (Account.Deny) is refused to its keys and to its
// roles' sessions, in the words AWS gives an explicit deny in one; the
// member's other actions, and the management account (to which no service
// control policy applies), are answered.
func TestServiceControlPolicyDeny(t *testing.T) {
	o := testOrg(t, func(c *ssmsim.OrgConfig) {
		c.Accounts[0].Deny = []string{"ec2:DescribeTags"}
		c.Accounts[1].Deny = []string{"ec2:DescribeTags", "ssm:DescribeInstanceInformation"}
	})
	_, url := startOrg(t, o, ssmsim.Options{})
	member := o.Accounts()[1].ID
	refused := func(t *testing.T, what string, err error, status int, code, action string) {
		t.Helper()
		var ae smithy.APIError
		var re *awshttp.ResponseError
		if !errors.As(err, &ae) || !errors.As(err, &re) {
			t.Fatalf("%s: %v, want %s", what, err, code)
		}
		msg := ae.ErrorMessage()
		if ae.ErrorCode() != code || re.HTTPStatusCode() != status ||
			!strings.Contains(msg, "is not authorized to perform: "+action+" with an explicit deny in a service control policy") {
			t.Errorf("%s: %d %s %q, want %d %s naming %s and the service control policy", what, re.HTTPStatusCode(), ae.ErrorCode(), msg, status, code, action)
		}
	}
	for _, who := range []struct {
		name  string
		creds aws.CredentialsProvider
	}{
		{"the member's key", static(memberKey)},
		{"a role's session in the member", assumed(url, o, member, "AuditRole")},
	} {
		t.Run(who.name, func(t *testing.T) {
			cfg := sdkConfig(url, "us-east-1", who.creds)
			_, err := ec2.NewFromConfig(cfg).DescribeTags(ctx(t), &ec2.DescribeTagsInput{})
			refused(t, "DescribeTags", err, http.StatusForbidden, "UnauthorizedOperation", "ec2:DescribeTags")
			c := ssm.NewFromConfig(cfg)
			_, err = c.DescribeInstanceInformation(ctx(t), &ssm.DescribeInstanceInformationInput{})
			refused(t, "DescribeInstanceInformation", err, http.StatusBadRequest, "AccessDeniedException", "ssm:DescribeInstanceInformation")
			id := o.Fleet(member, "us-east-1").ManagedIDs()[0]
			if _, err := c.DescribeInstanceAssociationsStatus(ctx(t), &ssm.DescribeInstanceAssociationsStatusInput{InstanceId: aws.String(id)}); err != nil {
				t.Errorf("DescribeInstanceAssociationsStatus, which no policy denies: %v", err)
			}
		})
	}
	if _, err := ec2.NewFromConfig(sdkConfig(url, "us-east-1", static(mgmtKey))).DescribeTags(ctx(t), &ec2.DescribeTagsInput{}); err != nil {
		t.Errorf("DescribeTags in the management account, to which no service control policy applies: %v", err)
	}
}
