package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestEndpointVariantRecorded: a run whose SSM calls went to the region's
// FIPS (or dual-stack) endpoint said so nowhere: run.json named no
// endpoint, as for the region's plain one, and a FedRAMP or CMMC auditor
// asking whether the evidence came through FIPS 140 endpoints could not
// tell. run.json's options now name the variant the SDK resolved
// (endpoint_variant); an endpoint given leaves the settings aside, and the
// record names that endpoint instead.
func TestEndpointVariantRecorded(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	simURL, _ := serve(t, handFleet(false), ssmsim.Options{}) // STS
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	for _, tt := range []struct {
		name     string
		env      map[string]string
		endpoint bool
		want     any
	}{
		{"FIPS", map[string]string{"AWS_USE_FIPS_ENDPOINT": "true"}, false, "FIPS"},
		{"dual-stack in the profile", map[string]string{"AWS_PROFILE": "ds", "AWS_CONFIG_FILE": writeFile(t, "config", "[profile ds]\nuse_dualstack_endpoint = true\naws_access_key_id = AKIATESTTESTTESTTEST\naws_secret_access_key = s\n")}, false, "dual-stack"},
		{"both", map[string]string{"AWS_USE_FIPS_ENDPOINT": "true", "AWS_USE_DUALSTACK_ENDPOINT": "true"}, false, "FIPS, dual-stack"},
		{"FIPS off", map[string]string{"AWS_USE_FIPS_ENDPOINT": "false"}, false, nil},
		{"neither", nil, false, nil},
		{"FIPS with an endpoint given", map[string]string{"AWS_USE_FIPS_ENDPOINT": "true"}, true, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			out := filepath.Join(t.TempDir(), "out")
			args := []string{"run", "--out", out, "--max-attempts", "1", "--quiet", "--instances", ids, "--region", "us-est-1"}
			if tt.endpoint {
				args = append(args[:len(args):len(args)], "--endpoint-url", simURL)
			}
			got := runCLI(t, "", args...)
			b, err := os.ReadFile(filepath.Join(out, "run.json"))
			if err != nil {
				t.Fatalf("exit %d, no run.json: %v\n%s", got.code, err, got.stderr)
			}
			var ri struct {
				Options map[string]any `json:"options"`
			}
			if err := json.Unmarshal(b, &ri); err != nil {
				t.Fatal(err)
			}
			if v := ri.Options["endpoint_variant"]; v != tt.want {
				t.Errorf("options.endpoint_variant = %#v, want %#v\n%s", v, tt.want, got.stderr)
			}
		})
	}
}
