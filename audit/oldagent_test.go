package audit_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/auditor-dev/auditor/audit"
)

// TestOldAgentNotOnWindows: an agent is old only where SSM's
// IsLatestVersion means it. AWS documents that it "doesn't indicate
// whether or not the latest version is installed on Windows managed
// nodes", yet a Windows node with IsLatestVersion false was counted as
// running an old agent, in the totals, the CSV and the HTML alike.
func TestOldAgentNotOnWindows(t *testing.T) {
	tests := []struct {
		name string
		info *audit.InstanceInfo
		want bool
	}{
		{"no info", nil, false},
		{"Linux, not said", &audit.InstanceInfo{PlatformType: "Linux"}, false},
		{"Linux, latest", &audit.InstanceInfo{PlatformType: "Linux", IsLatestVersion: aws.Bool(true)}, false},
		{"Linux, not latest", &audit.InstanceInfo{PlatformType: "Linux", IsLatestVersion: aws.Bool(false)}, true},
		{"MacOS, not latest", &audit.InstanceInfo{PlatformType: "MacOS", IsLatestVersion: aws.Bool(false)}, true},
		{"no platform, not latest", &audit.InstanceInfo{IsLatestVersion: aws.Bool(false)}, true},
		{"Windows, not latest", &audit.InstanceInfo{PlatformType: "Windows", IsLatestVersion: aws.Bool(false)}, false},
		{"Windows, latest", &audit.InstanceInfo{PlatformType: "Windows", IsLatestVersion: aws.Bool(true)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.info.OldAgent(); got != tt.want {
				t.Errorf("OldAgent() = %v, want %v", got, tt.want)
			}
		})
	}
}
