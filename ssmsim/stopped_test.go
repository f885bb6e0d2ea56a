package ssmsim_test

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestStoppedInstance: a stopped instance is left out of
// DescribeInstanceInformation, as AWS documents, and answered by
// DescribeInstanceAssociationsStatus, which takes a stopped instance as in
// a valid state.
func TestStoppedInstance(t *testing.T) {
	var f ssmsim.Fleet
	assoc := []ssmsim.Association{{AssociationID: "11111111-2222-3333-4444-555555555555", Name: "AWS-RunPatchBaseline", Status: "Failed"}}
	f.Add(ssmsim.Instance{InstanceID: "i-0123456789abcdef0", PingStatus: "Online", ResourceType: "EC2Instance", Associations: assoc})
	f.Add(ssmsim.Instance{InstanceID: "i-0123456789abcdef1", Stopped: true, PingStatus: "ConnectionLost", ResourceType: "EC2Instance", Associations: assoc})
	_, url := start(t, &f, ssmsim.Options{})
	c := ssm.NewFromConfig(sdkConfig(url, "us-east-1", static("AKIDSTOPPED")))
	var listed []string
	p := ssm.NewDescribeInstanceInformationPaginator(c, &ssm.DescribeInstanceInformationInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range out.InstanceInformationList {
			listed = append(listed, aws.ToString(in.InstanceId))
		}
	}
	if !slices.Equal(listed, []string{"i-0123456789abcdef0"}) {
		t.Errorf("DescribeInstanceInformation listed %q, want the running instance alone", listed)
	}
	out, err := c.DescribeInstanceAssociationsStatus(ctx(t), &ssm.DescribeInstanceAssociationsStatusInput{InstanceId: aws.String("i-0123456789abcdef1")})
	if err != nil || len(out.InstanceAssociationStatusInfos) != 1 || aws.ToString(out.InstanceAssociationStatusInfos[0].Status) != "Failed" {
		t.Errorf("DescribeInstanceAssociationsStatus of the stopped instance: %v, %+v; want its one Failed association", err, out)
	}
}
