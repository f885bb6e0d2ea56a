package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestEndpointRecordedWhateverSetIt: a run whose SSM endpoint came from
// AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_SSM, or the profile) recorded no
// endpoint at all: its run.json, summary.json and report.html read as an
// audit of AWS itself, though a simulator answered. Only --endpoint-url
// was recorded. Every setting is, with the setting it came from.
func TestEndpointRecordedWhateverSetIt(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 8, Size: 5})
	url, _ := serve(t, f, ssmsim.Options{})
	list := listFleet(t, f)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		from string
	}{
		{"AWS_ENDPOINT_URL", map[string]string{"AWS_ENDPOINT_URL": url}, nil, "AWS_ENDPOINT_URL"},
		{"AWS_ENDPOINT_URL_SSM", map[string]string{"AWS_ENDPOINT_URL_SSM": url}, nil, "AWS_ENDPOINT_URL_SSM"},
		{"the profile's endpoint_url", map[string]string{"AWS_CONFIG_FILE": writeFile(t, "config", "[default]\nendpoint_url = "+url+"\n")},
			nil, "the endpoint_url of profile default"},
		{"the profile's services section", map[string]string{"AWS_CONFIG_FILE": writeFile(t, "config",
			"[default]\nservices = local\n\n[services local]\nssm =\n  endpoint_url = "+url+"\n")},
			nil, "the ssm endpoint_url of [services local] (profile default)"},
		{"--endpoint-url", nil, []string{"--endpoint-url", url}, "--endpoint-url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			out := filepath.Join(t.TempDir(), "out")
			args := append([]string{"run", "--instances", list, "--region", "us-east-1", "--out", out,
				"--format", "html,json", "--fail-on", "none", "--quiet"}, tt.args...)
			if got := runCLI(t, "", args...); got.code != int(exitOK) {
				t.Fatalf("exit %d\n%s", got.code, got.stderr)
			}
			ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
			if err != nil {
				t.Fatal(err)
			}
			if got := ri.Options["endpoint_url"]; got != url {
				t.Errorf("run.json: endpoint_url %v, want %s", got, url)
			}
			if got := ri.Options["endpoint_from"]; got != tt.from {
				t.Errorf("run.json: endpoint_from %v, want %s", got, tt.from)
			}
			summary, err := os.ReadFile(filepath.Join(out, "summary.json"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(summary), url) {
				t.Errorf("summary.json does not name the endpoint %s", url)
			}
			html, err := os.ReadFile(filepath.Join(out, "report.html"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(html), url) || !strings.Contains(string(html), tt.from) {
				t.Errorf("report.html does not name the endpoint %s and %s, which set it", url, tt.from)
			}
		})
	}
}
