package ssmsim_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestSDKWindowsIsLatestVersionSaysNothing: AWS documents that
// IsLatestVersion "doesn't indicate whether or not the latest version is
// installed on Windows managed nodes", and sends it for them (the AWS Tools
// for PowerShell reference shows a Windows node with IsLatestVersion
// False). The simulator made it true exactly when a Windows node ran the
// latest agent, as if it meant something there; it now sends false for
// every Windows node, the latest agent's too, so that an auditor that
// reads it there is caught. On Linux it still says whether the agent is
// the latest.
func TestSDKWindowsIsLatestVersionSaysNothing(t *testing.T) {
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 4, Size: 300})
	_, url := start(t, f, ssmsim.Options{})
	c := client(url, testKey)
	var infos []types.InstanceInformation
	p := ssm.NewDescribeInstanceInformationPaginator(c, &ssm.DescribeInstanceInformationInput{MaxResults: aws.Int32(50)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatalf("page: %v", err)
		}
		infos = append(infos, page.InstanceInformationList...)
	}
	latest := map[string]bool{} // agent versions said latest on Linux
	old := map[string]bool{}    // and said not latest there
	for _, in := range infos {
		if in.PlatformType == types.PlatformTypeLinux && in.IsLatestVersion != nil {
			if *in.IsLatestVersion {
				latest[aws.ToString(in.AgentVersion)] = true
			} else {
				old[aws.ToString(in.AgentVersion)] = true
			}
		}
	}
	if len(latest) != 1 || len(old) == 0 {
		t.Fatalf("Linux nodes: agents said latest %v, not latest %v; want one latest version and some older", latest, old)
	}
	windowsLatest := 0
	for _, in := range infos {
		if in.PlatformType != types.PlatformTypeWindows {
			continue
		}
		id, v := aws.ToString(in.InstanceId), aws.ToString(in.AgentVersion)
		if in.IsLatestVersion == nil || *in.IsLatestVersion {
			t.Errorf("%s (Windows, agent %s): IsLatestVersion %v, want false, as for every Windows node", id, v, aws.ToBool(in.IsLatestVersion))
		}
		if latest[v] {
			windowsLatest++
		}
	}
	if windowsLatest == 0 {
		t.Fatal("no Windows node runs the latest agent: a useless case")
	}
}
