package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestUnreachableFIPSEndpoint: with SSM's FIPS endpoint asked for, one
// that does not resolve was told "check AWS_REGION, which set this
// region", of a region whose plain endpoint may answer: SSM has FIPS
// endpoints in some regions only. The hint names the setting that asked
// for it too.
func TestUnreachableFIPSEndpoint(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	serve(t, handFleet(false), ssmsim.Options{}) // STS
	const region = "us-est-1"
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	for _, tt := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"AWS_USE_FIPS_ENDPOINT", map[string]string{"AWS_USE_FIPS_ENDPOINT": "true"},
			"check --region, which set this region, and AWS_USE_FIPS_ENDPOINT, which asked for the FIPS endpoint (not every region has one)"},
		{"the profile", map[string]string{"AWS_PROFILE": "fips", "AWS_CONFIG_FILE": writeFile(t, "config", "[profile fips]\nuse_fips_endpoint = true\naws_access_key_id = AKIATESTTESTTESTTEST\naws_secret_access_key = s\n")},
			"check --region, which set this region, and use_fips_endpoint in the AWS config, which asked for the FIPS endpoint (not every region has one)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			got := runCLI(t, "", "run", "--out", filepath.Join(t.TempDir(), "out"), "--max-attempts", "1", "--quiet", "--instances", ids, "--region", region)
			if want := "cannot reach https://ssm-fips." + region + ".amazonaws.com: "; got.code != int(exitFatal) || !strings.Contains(got.stderr, want) {
				t.Fatalf("exit %d, want %d saying %q\n%s", got.code, exitFatal, want, got.stderr)
			}
			if !strings.Contains(got.stderr, "; "+tt.want+"\n") {
				t.Errorf("stderr does not say %q:\n%s", tt.want, got.stderr)
			}
		})
	}
}
