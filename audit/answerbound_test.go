package audit_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

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

// TestFieldsCut: text of megabytes in an association's fields, or in an
// error's message, went whole into the record and into every report (a
// 5 MB message was 10 MB in results.jsonl, instances.csv and report.html
// each; 100 KB fields over 1,000 instances wrote 1.4 GB and ran out of
// memory). Each field is cut on reading at a bound twice the longest SSM
// documents, saying how much was cut.
func TestFieldsCut(t *testing.T) {
	big := strings.Repeat("é", 50_000) // 100,000 bytes
	for _, tt := range []struct {
		name string
		fake *fakeSSM
		get  func(audit.Result) []string
	}{
		{"association fields", &fakeSSM{describe: func(ctx context.Context, in *ssm.DescribeInstanceAssociationsStatusInput) (*ssm.DescribeInstanceAssociationsStatusOutput, error) {
			return &ssm.DescribeInstanceAssociationsStatusOutput{InstanceAssociationStatusInfos: []types.InstanceAssociationStatusInfo{{
				AssociationId: aws.String("a-1"), Name: aws.String(big), Status: aws.String("Failed"),
				DetailedStatus: aws.String(big), ExecutionSummary: aws.String(big), ErrorCode: aws.String(big),
				OutputUrl: &types.InstanceAssociationOutputUrl{S3OutputUrl: &types.S3OutputUrl{OutputUrl: aws.String(big)}},
			}}}, nil
		}}, func(r audit.Result) []string {
			a := r.Associations[0]
			return []string{a.Name, a.DetailedStatus, a.ExecutionSummary, a.ErrorCode, a.OutputURL.S3OutputURL.OutputURL}
		}},
		{"an error's message", &fakeSSM{describe: func(ctx context.Context, in *ssm.DescribeInstanceAssociationsStatusInput) (*ssm.DescribeInstanceAssociationsStatusOutput, error) {
			return nil, &smithy.GenericAPIError{Code: "ValidationException", Message: big}
		}}, func(r audit.Result) []string { return []string{r.Error.Message} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fake := tt.fake
			cfg := audit.Config{Client: func(string, string) (audit.API, error) { return fake, nil }, Region: "us-east-1"}
			got, _, err := collect(t, context.Background(), cfg, targets("i-00000001"))
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range tt.get(got["i-00000001"]) {
				if len(v) > 8<<10 || !strings.Contains(v, "[cut: ") || !utf8.ValidString(v) {
					t.Errorf("field %d: %d bytes (valid UTF-8: %v), want it cut to at most 8 KiB, saying so: %.80q", i, len(v), utf8.ValidString(v), v)
				}
			}
		})
	}
}
