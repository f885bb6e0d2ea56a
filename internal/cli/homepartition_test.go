package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestConfiguredRegionOfAnotherPartition: a configured region (--region,
// AWS_REGION, the profile's) of one partition with --regions, or a list's
// regions, all of another was taken. STS was then asked whose the
// credentials are in the configured region: credentials of the audited
// regions' partition were refused there, and the run stopped telling the
// user to check them (exit 4); those of the configured region's were
// refused in every audited region, told region by region (exit 4). One
// run's credentials reach one partition: the run is refused before any
// call (exit 2), naming both regions, where each came from, their
// partitions, and the --region that makes it work; which it does.
func TestConfiguredRegionOfAnotherPartition(t *testing.T) {
	accounts, srv := serveChinaOrg(t, 2)
	list := writeFile(t, "cn.csv", "instance_id,region\ni-0d01e688e93f54df8,cn-north-1\ni-0eb76127f28280eda,cn-northwest-1\n")
	profile := writeFile(t, "config", "[default]\nregion = us-east-1\n")
	tests := []struct {
		name  string
		env   map[string]string
		args  []string
		wants []string
	}{
		{
			name:  "--region",
			args:  []string{"--region", "us-east-1", "--regions", "cn-north-1", "--discover"},
			wants: []string{"cn-north-1 (--regions) is in partition aws-cn", "us-east-1 (from --region)", "in aws", "pass --region cn-north-1"},
		},
		{
			name:  "AWS_REGION, with accounts",
			env:   map[string]string{"AWS_REGION": "us-east-1"},
			args:  []string{"--accounts", accounts[0].ID + "," + accounts[1].ID, "--role-name", "AuditRole", "--regions", "cn-northwest-1", "--discover"},
			wants: []string{"cn-northwest-1 (--regions) is in partition aws-cn", "us-east-1 (from AWS_REGION)", "pass --region cn-northwest-1"},
		},
		{
			name:  "the profile's region",
			env:   map[string]string{"AWS_CONFIG_FILE": profile},
			args:  []string{"--regions", "cn-north-1", "--discover"},
			wants: []string{"cn-north-1 (--regions) is in partition aws-cn", "us-east-1 (from the region of profile default)", "pass --region cn-north-1"},
		},
		{
			name:  "a list's region column",
			args:  []string{"--instances", list, "--region", "us-gov-west-1"},
			wants: []string{"cn-north-1 (the first at ", "cn.csv:2) is in partition aws-cn", "us-gov-west-1 (from --region)", "in aws-us-gov", "pass --region cn-north-1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			srv.ResetStats()
			out := filepath.Join(t.TempDir(), "out")
			got := runCLI(t, "", append([]string{"run", "--fail-on", "none", "--quiet", "--out", out}, tt.args...)...)
			if got.code != int(exitUsage) {
				t.Fatalf("exit %d, want %d\n%.3000s", got.code, exitUsage, got.stderr)
			}
			for _, w := range append(tt.wants, ", and one run's credentials reach one partition: for aws-cn credentials, pass --region") {
				if !strings.Contains(got.stderr, w) {
					t.Errorf("stderr does not say %q:\n%.3000s", w, got.stderr)
				}
			}
			for _, w := range []string{"enable it", "check them"} {
				if strings.Contains(got.stderr, w) {
					t.Errorf("stderr says %q:\n%.3000s", w, got.stderr)
				}
			}
			if n := srv.Stats().Requests; n != 0 {
				t.Errorf("%d requests before the refusal, want none", n)
			}
			if _, err := os.Lstat(out); err == nil {
				t.Errorf("%s was made for a refused command", out)
			}
		})
	}

	// What the refusal says to do works: the profile's region stays, and
	// --region names one of the audited partition's.
	t.Setenv("AWS_CONFIG_FILE", profile)
	got := runCLI(t, "", "run", "--region", "cn-north-1", "--regions", "cn-north-1", "--discover", "--fail-on", "none", "--quiet", "--out", filepath.Join(t.TempDir(), "out"))
	if got.code != 0 {
		t.Errorf("with --region cn-north-1: exit %d, want 0\n%.3000s", got.code, got.stderr)
	}
}

// TestConfiguredRegionOfAnotherPartitionAtAnEndpoint: SSM at an endpoint
// of its own (--endpoint-url: an emulator, a private endpoint) is no
// AWS partition's, and STS's word on the credentials does not speak for
// it: a list of cn-north-1 rows with --region us-east-1 ran there before
// the partition check, and runs still.
func TestConfiguredRegionOfAnotherPartitionAtAnEndpoint(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	list := writeFile(t, "cn.csv", "instance_id,region\ni-0123456789abcdef0,cn-north-1\n")
	got := runCLI(t, "", "run", "--instances", list, "--region", "us-east-1", "--endpoint-url", url,
		"--fail-on", "none", "--quiet", "--out", filepath.Join(t.TempDir(), "out"))
	if got.code != 0 {
		t.Errorf("exit %d, want 0\n%.3000s", got.code, got.stderr)
	}
}
