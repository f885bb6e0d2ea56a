package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestUnreachableNamesTheRegionsSource: a region's own endpoint that could
// not be reached said "check --region" of a region that AWS_REGION, or the
// profile, had set, to someone who had passed no --region. The hint names
// the setting the region came from, as it does for an endpoint.
//
// The region is one that does not exist, so that its endpoint does not
// resolve (or, offline, cannot be looked up): either way no answer.
func TestUnreachableNamesTheRegionsSource(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	serve(t, handFleet(false), ssmsim.Options{}) // STS
	const region = "us-est-1"
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	list := writeFile(t, "ids.csv", "instance_id,region\ni-0123456789abcdef0,"+region+"\n")
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"--region", nil, []string{"--instances", ids, "--region", region}, "check --region, which set this region"},
		{"AWS_REGION", map[string]string{"AWS_REGION": region, "AWS_DEFAULT_REGION": "eu-west-1"}, []string{"--instances", ids},
			"check AWS_REGION, which set this region"},
		{"AWS_DEFAULT_REGION", map[string]string{"AWS_DEFAULT_REGION": region}, []string{"--instances", ids},
			"check AWS_DEFAULT_REGION, which set this region"},
		{"the profile", map[string]string{"AWS_CONFIG_FILE": writeFile(t, "config", "[profile audit]\nregion = "+region+"\naws_access_key_id = AKIATESTTESTTESTTEST\naws_secret_access_key = s\n")},
			[]string{"--instances", ids, "--profile", "audit"}, "check the region of profile audit, which set this region"},
		{"the list", map[string]string{"AWS_REGION": "eu-west-1"}, []string{"--instances", list},
			"check the region column of the instance list, which set this region"},
		{"--regions", map[string]string{"AWS_REGION": "eu-west-1"}, []string{"--discover", "--regions", region},
			"check --regions, which set this region"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			args := append([]string{"run", "--out", filepath.Join(t.TempDir(), "out"), "--max-attempts", "1", "--quiet"}, tt.args...)
			got := runCLI(t, "", args...)
			if want := "cannot reach https://ssm." + region + ".amazonaws.com: "; got.code != int(exitFatal) || !strings.Contains(got.stderr, want) {
				t.Fatalf("exit %d, want %d saying %q\n%s", got.code, exitFatal, want, got.stderr)
			}
			if !strings.Contains(got.stderr, "; "+tt.want+"\n") {
				t.Errorf("stderr does not say %q:\n%s", tt.want, got.stderr)
			}
		})
	}
}
