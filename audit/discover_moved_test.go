package audit_test

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/auditor-dev/auditor/audit"
)

// TestDiscoverNodeMovedBetweenPages: a node listed on two pages of
// DescribeInstanceInformation (it moved in the listing's order while it
// was read) is one target, listed once.
func TestDiscoverNodeMovedBetweenPages(t *testing.T) {
	const a, b, c = "i-0000000000000000a", "i-0000000000000000b", "mi-0000000000000000c"
	pages := [][]string{{a, b}, {b, c}}
	calls := 0
	fake := &fakeSSM{info: func(ctx context.Context, in *ssm.DescribeInstanceInformationInput) (*ssm.DescribeInstanceInformationOutput, error) {
		if calls >= len(pages) {
			t.Fatalf("call %d past the last page", calls+1)
		}
		out := &ssm.DescribeInstanceInformationOutput{}
		for _, id := range pages[calls] {
			out.InstanceInformationList = append(out.InstanceInformationList, types.InstanceInformation{InstanceId: aws.String(id)})
		}
		calls++
		if calls < len(pages) {
			out.NextToken = aws.String("page2")
		}
		return out, nil
	}}
	s := audit.NewSession(audit.Config{Region: "us-east-1", Client: func(string, string) (audit.API, error) { return fake, nil }})
	var listed []string
	err := s.Discover(context.Background(), "111111111111", "us-east-1", nil, func(tg audit.Target) error {
		listed = append(listed, tg.InstanceID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(listed)
	if want := []string{a, b, c}; !slices.Equal(listed, want) {
		t.Errorf("listed %q, want %q, each once", listed, want)
	}
}
