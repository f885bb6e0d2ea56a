package cli

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
)

// TestFatalHintNamesTheAction: a denial was followed by "allow
// ssm:DescribeInstanceAssociationsStatus" whichever call it answered: an
// EC2 tag read denied under --tag-labels got that line after its own
// (grant ec2:DescribeTags), which it contradicted. The line names the
// SSM action that was denied, and only an SSM one.
func TestFatalHintNamesTheAction(t *testing.T) {
	denied := func(service, op, code string) error {
		return &smithy.OperationError{ServiceID: service, OperationName: op, Err: &smithy.GenericAPIError{Code: code, Message: "no"}}
	}
	for _, tt := range []struct {
		name string
		err  error
		want string // "" for no hint
	}{
		{"SSM status", denied("SSM", "DescribeInstanceAssociationsStatus", "AccessDeniedException"), "allow ssm:DescribeInstanceAssociationsStatus"},
		{"SSM discovery", denied("SSM", "DescribeInstanceInformation", "AccessDeniedException"), "allow ssm:DescribeInstanceInformation"},
		{"EC2 tags", denied("EC2", "DescribeTags", "UnauthorizedOperation"), ""},
		{"no operation", &smithy.GenericAPIError{Code: "AccessDenied"}, "allow ssm:DescribeInstanceAssociationsStatus"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := withFatalHint(tt.err, "us-east-1").Error()
			if !errors.Is(withFatalHint(tt.err, "us-east-1"), tt.err) {
				t.Errorf("the hint lost the error")
			}
			switch {
			case tt.want == "" && strings.Contains(got, "allow ssm:"):
				t.Errorf("%q: want no ssm hint", got)
			case tt.want != "" && !strings.Contains(got, tt.want):
				t.Errorf("%q: want %q", got, tt.want)
			}
		})
	}
}
