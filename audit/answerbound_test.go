package audit_test

import (
	"context"
	"encoding/json"
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
	// Three bytes a character: the bound (4,096 bytes) falls inside one.
	big := strings.Repeat("€", 33_334) // 100,002 bytes
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

// TestInstanceAnswersBoundedEncoded: the bound of an instance's
// associations counted their bytes as read, but the record writes a
// control character as \u0001, six bytes: 40 pages of 45 associations
// with fields of 4,096 such characters came to 354 MB on one record line,
// which neither "auditor report" nor --resume could read again. The bound
// counts the text as the record's line holds it.
func TestInstanceAnswersBoundedEncoded(t *testing.T) {
	ctl := strings.Repeat("\x01", 4096) // at maxField: not cut
	pages := 0
	fake := &fakeSSM{describe: func(ctx context.Context, in *ssm.DescribeInstanceAssociationsStatusInput) (*ssm.DescribeInstanceAssociationsStatusOutput, error) {
		pages++
		out := &ssm.DescribeInstanceAssociationsStatusOutput{}
		if pages < 40 {
			out.NextToken = aws.String(fmt.Sprintf("page-%d", pages))
		}
		for i := range 45 {
			out.InstanceAssociationStatusInfos = append(out.InstanceAssociationStatusInfos, types.InstanceAssociationStatusInfo{
				AssociationId: aws.String(fmt.Sprintf("a-%d-%d", pages, i)), Name: aws.String(ctl), AssociationName: aws.String(ctl),
				AssociationVersion: aws.String(ctl), DocumentVersion: aws.String(ctl), Status: aws.String(ctl),
				DetailedStatus: aws.String(ctl), ExecutionSummary: aws.String(ctl), ErrorCode: aws.String(ctl),
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
		t.Errorf("outcome %s, error %+v, %d associations kept over %d pages; want BadResponse and none", r.Outcome, r.Error, len(r.Associations), pages)
	}
}

// TestEncodedLenBoundsTheRecordLine: the length the bound counts is never
// less than what the record's encoder writes, and is that length for text
// without \b or \f.
func TestEncodedLenBoundsTheRecordLine(t *testing.T) {
	for _, tt := range []struct{ name, s string }{
		{"plain", "AWS-RunPatchBaseline"},
		{"control", "\x01\x00\x1f"},
		{"short escapes", "\"\\\n\r\t"},
		{"html", "<a href=\"x\">&</a>"},
		{"separators", "a\u2028b\u2029c"},
		{"not UTF-8", "\xff\xfe ok \xc3"},
		{"multibyte", "é€😀"},
		{"del", "\x7f"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf strings.Builder
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(tt.s); err != nil {
				t.Fatal(err)
			}
			want := buf.Len() - len("\"\"\n")
			if got := audit.EncodedLen(tt.s); got != want {
				t.Errorf("EncodedLen(%q) = %d, want %d (%s)", tt.s, got, want, buf.String())
			}
		})
	}
}
