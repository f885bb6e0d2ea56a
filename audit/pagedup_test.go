package audit_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/auditor-dev/auditor/audit"
)

// TestAssociationOnTwoPages: an association that comes on two pages of
// one instance's listing (one added between two calls shifts the rows, so
// that the next page starts with the last of the one before) was counted
// twice: two rows in associations.csv, and a tally of more associations
// than the instance has. It is one association, with its status from the
// later page, the fresher.
func TestAssociationOnTwoPages(t *testing.T) {
	row := func(id, status string) types.InstanceAssociationStatusInfo {
		return types.InstanceAssociationStatusInfo{AssociationId: aws.String(id), InstanceId: aws.String("i-0123456789abcdef0"),
			Name: aws.String("AWS-RunPatchBaseline"), Status: aws.String(status)}
	}
	fake := &fakeSSM{describe: func(_ context.Context, in *ssm.DescribeInstanceAssociationsStatusInput) (*ssm.DescribeInstanceAssociationsStatusOutput, error) {
		if aws.ToString(in.NextToken) == "" {
			return &ssm.DescribeInstanceAssociationsStatusOutput{
				InstanceAssociationStatusInfos: []types.InstanceAssociationStatusInfo{row("a-0", "Success"), row("a-1", "Success")},
				NextToken:                      aws.String("t"),
			}, nil
		}
		return &ssm.DescribeInstanceAssociationsStatusOutput{
			InstanceAssociationStatusInfos: []types.InstanceAssociationStatusInfo{row("a-1", "Failed"), row("a-2", "Success")},
		}, nil
	}}
	cfg := audit.Config{Client: func(string, string) (audit.API, error) { return fake, nil }, Concurrency: 1, Rate: 1000}
	got, _, err := collect(t, context.Background(), cfg, targets("i-0123456789abcdef0"))
	if err != nil {
		t.Fatal(err)
	}
	r := got["i-0123456789abcdef0"]
	var ids []string
	status := map[string]string{}
	for _, a := range r.Associations {
		ids = append(ids, a.AssociationID)
		status[a.AssociationID] = a.Status
	}
	if len(ids) != 3 || status["a-1"] != "Failed" || r.Outcome != audit.OutcomeNoncompliant {
		t.Errorf("associations %v (a-1 %q), outcome %s; want a-0, a-1 (Failed, from the later page), a-2, noncompliant", ids, status["a-1"], r.Outcome)
	}
}

// TestAssociationsWithoutIDKept: rows without an AssociationId are not
// one association: each is kept, as SSM served it.
func TestAssociationsWithoutIDKept(t *testing.T) {
	row := func(status string) types.InstanceAssociationStatusInfo {
		return types.InstanceAssociationStatusInfo{InstanceId: aws.String("i-0123456789abcdef0"), Name: aws.String("AWS-RunPatchBaseline"), Status: aws.String(status)}
	}
	fake := &fakeSSM{describe: func(_ context.Context, in *ssm.DescribeInstanceAssociationsStatusInput) (*ssm.DescribeInstanceAssociationsStatusOutput, error) {
		if aws.ToString(in.NextToken) == "" {
			return &ssm.DescribeInstanceAssociationsStatusOutput{
				InstanceAssociationStatusInfos: []types.InstanceAssociationStatusInfo{row("Success"), row("Failed")},
				NextToken:                      aws.String("t"),
			}, nil
		}
		return &ssm.DescribeInstanceAssociationsStatusOutput{InstanceAssociationStatusInfos: []types.InstanceAssociationStatusInfo{row("Success")}}, nil
	}}
	cfg := audit.Config{Client: func(string, string) (audit.API, error) { return fake, nil }, Concurrency: 1, Rate: 1000}
	got, _, err := collect(t, context.Background(), cfg, targets("i-0123456789abcdef0"))
	if err != nil {
		t.Fatal(err)
	}
	if r := got["i-0123456789abcdef0"]; len(r.Associations) != 3 {
		t.Errorf("%d associations, want the 3 rows without an ID kept", len(r.Associations))
	}
}
