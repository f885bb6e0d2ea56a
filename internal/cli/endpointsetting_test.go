package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestEndpointRefusedNamesItsSetting: an endpoint with a login in it, set
// in the environment or the profile, was refused (rightly, redacted) as
// `endpoint for us-east-1: "https://***@vpce.example.com" has a user name
// or password...`, which did not say where to look for it, as
// --endpoint-url's refusal does. It names the setting.
func TestEndpointRefusedNamesItsSetting(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	const login = "https://u:pw@vpce.example.com"
	const refused = `"https://***@vpce.example.com" has a user name or password in it`
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"AWS_ENDPOINT_URL", map[string]string{"AWS_ENDPOINT_URL": login},
			[]string{"endpoint for us-east-1: AWS_ENDPOINT_URL: " + refused, "STS's endpoint: AWS_ENDPOINT_URL: " + refused}},
		{"AWS_ENDPOINT_URL_SSM", map[string]string{"AWS_ENDPOINT_URL_SSM": login},
			[]string{"endpoint for us-east-1: AWS_ENDPOINT_URL_SSM: " + refused}},
		{"AWS_ENDPOINT_URL_STS", map[string]string{"AWS_ENDPOINT_URL_STS": login},
			[]string{"STS's endpoint: AWS_ENDPOINT_URL_STS: " + refused}},
		{"the profile's endpoint_url", map[string]string{"AWS_CONFIG_FILE": writeFile(t, "config", "[default]\nendpoint_url = "+login+"\n")},
			[]string{"endpoint for us-east-1: the endpoint_url of profile default: " + refused}},
		{"the profile's services section", map[string]string{"AWS_CONFIG_FILE": writeFile(t, "config",
			"[default]\nservices = vpce\n\n[services vpce]\nssm =\n  endpoint_url = "+login+"\n")},
			[]string{"endpoint for us-east-1: the ssm endpoint_url of [services vpce] (profile default): " + refused}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			got := runCLI(t, "", "run", "--instance-id", "i-0123456789abcdef0", "--region", "us-east-1",
				"--out", filepath.Join(t.TempDir(), "out"), "--quiet")
			if got.code != int(exitUsage) {
				t.Errorf("exit %d, want %d\n%s", got.code, exitUsage, got.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(got.stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, got.stderr)
				}
			}
			if strings.Contains(got.stderr, "pw@") {
				t.Errorf("stderr repeats the password:\n%s", got.stderr)
			}
		})
	}
}
