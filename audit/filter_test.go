package audit_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestCheckFilters: every key that DescribeInstanceInformation documents for
// its Filters (InstanceInformationStringFilter.Key) is taken, PlatformType
// among them, and PlatformTypes, the legacy list's name that the service
// takes too; other keys, empty or too many values (100 a filter, 5 for a
// tag:KEY, which SSM refuses past 5 with "The number of tag values for
// tag:Name was 35. Max: 5."), more than one value for ResourceType (which
// SSM refuses: "ResourceType filter may contain only one value."), and tag
// filters mixed with the others are refused before any call, naming what
// is wrong.
func TestCheckFilters(t *testing.T) {
	hundredOne := make([]string, 101)
	for i := range hundredOne {
		hundredOne[i] = fmt.Sprintf("i-%017x", i)
	}
	tests := []struct {
		name    string
		filters []audit.Filter
		wantErr string
	}{
		{name: "PlatformType, as documented", filters: []audit.Filter{{Key: "PlatformType", Values: []string{"Linux"}}}},
		{name: "PlatformTypes, the legacy key", filters: []audit.Filter{{Key: "PlatformTypes", Values: []string{"Windows"}}}},
		{name: "every documented key but the tags'", filters: []audit.Filter{
			{Key: "ActivationIds", Values: []string{"a"}}, {Key: "AgentVersion", Values: []string{"3.3.0.0"}},
			{Key: "AssociationStatus", Values: []string{"Failed"}}, {Key: "IamRole", Values: []string{"r"}},
			{Key: "InstanceIds", Values: []string{"i-0123456789abcdef0"}}, {Key: "PingStatus", Values: []string{"Online"}},
			{Key: "PlatformType", Values: []string{"Linux"}}, {Key: "ResourceType", Values: []string{"EC2Instance"}},
			{Key: "SourceIds", Values: []string{"s"}}, {Key: "SourceTypes", Values: []string{"AWS::EC2::Instance"}},
		}},
		{name: "tag-key and tag:KEY", filters: []audit.Filter{{Key: "tag-key", Values: []string{"Team"}}, {Key: "tag:Env", Values: []string{"prod"}}}},
		{name: "an unknown key", filters: []audit.Filter{{Key: "Platform", Values: []string{"Linux"}}}, wantErr: `filter key "Platform"`},
		{name: "tag: without a key", filters: []audit.Filter{{Key: "tag:", Values: []string{"x"}}}, wantErr: `filter key "tag:"`},
		{name: "no values", filters: []audit.Filter{{Key: "PlatformType"}}, wantErr: "no values"},
		{name: "101 values", filters: []audit.Filter{{Key: "InstanceIds", Values: hundredOne}}, wantErr: "at most 100"},
		{name: "five values of a tag", filters: []audit.Filter{{Key: "tag:Name", Values: []string{"a", "b", "c", "d", "e"}}}},
		{name: "six values of a tag", filters: []audit.Filter{{Key: "tag:Name", Values: []string{"a", "b", "c", "d", "e", "f"}}},
			wantErr: "filter tag:Name: 6 values, the API takes at most 5 for a tag"},
		{name: "two values of ResourceType", filters: []audit.Filter{{Key: "ResourceType", Values: []string{"EC2Instance", "ManagedInstance"}}},
			wantErr: "filter ResourceType: 2 values, the API takes only one"},
		{name: "tags with another key", filters: []audit.Filter{{Key: "tag:Env", Values: []string{"prod"}}, {Key: "PlatformType", Values: []string{"Linux"}}},
			wantErr: "cannot be combined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := audit.CheckFilters(tt.filters)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("CheckFilters: %v, want none", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("CheckFilters: %v, want an error saying %q", err, tt.wantErr)
			}
		})
	}
}
