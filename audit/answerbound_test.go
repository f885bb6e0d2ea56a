package audit_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/auditor-dev/auditor/audit"
)

// TestInstanceAnswersBounded: an endpoint that is not SSM's answered page
// after page of associations of megabytes each, each page under the
// bound of one answer: the instance held them all in memory (gigabytes
// over --max-pages) and its record line grew past what the record's own
// reader takes, so that neither "auditor report" nor --resume could read
// the record again. An instance whose associations come to more than any
// of SSM's ends as BadResponse, without them.
func TestInstanceAnswersBounded(t *testing.T) {
	big := strings.Repeat("x", 1<<20)
	pages := 0
	fake := &fakeSSM{describe: func(ctx context.Context, in *ssm.DescribeInstanceAssociationsStatusInput) (*ssm.DescribeInstanceAssociationsStatusOutput, error) {
		pages++
		out := &ssm.DescribeInstanceAssociationsStatusOutput{NextToken: aws.String(fmt.Sprintf("page-%d", pages))}
		for i := range 10 {
			out.InstanceAssociationStatusInfos = append(out.InstanceAssociationStatusInfos, types.InstanceAssociationStatusInfo{
				AssociationId: aws.String(fmt.Sprintf("a-%d-%d", pages, i)), Name: aws.String("AWS-RunPatchBaseline"),
				Status: aws.String("Success"), ExecutionSummary: aws.String(big),
			})
		}
		return out, nil
	}}
	cfg := audit.Config{Client: func(string, string) (audit.API, error) { return fake, nil }, Region: "us-east-1", MaxPages: 1000}
	got, _, err := collect(t, context.Background(), cfg, targets("i-00000001"))
	if err != nil {
		t.Fatal(err)
	}
	r := got["i-00000001"]
	if r.Outcome != audit.OutcomeError || r.Error == nil || r.Error.Code != audit.CodeBadResponse || len(r.Associations) != 0 {
		t.Errorf("outcome %s, error %+v, %d associations kept; want BadResponse and none", r.Outcome, r.Error, len(r.Associations))
	}
	if pages > 10 {
		t.Errorf("%d pages read, want the reading stopped once the bound was passed", pages)
	}
}
