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

// TestResumeKeepsItsEndpoint: a resume against the region's own AWS
// endpoint, where its run's came from AWS_ENDPOINT_URL (a simulator), or
// the reverse, audited the rest of the targets in another fleet, and the
// record mixed both under the last one's name. It is refused, whichever
// setting gives the endpoint; another given endpoint (the same service on
// another port), or one given where the run's run.json names none, is
// told, as --endpoint-url's always resumed; the same endpoint resumes in
// silence, whichever setting gives it.
func TestResumeKeepsItsEndpoint(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 8, Size: 5})
	other, _ := serve(t, f, ssmsim.Options{})
	url, _ := serve(t, f, ssmsim.Options{})
	list := listFleet(t, f)
	base := []string{"run", "--instances", list, "--region", "us-east-1", "--format", "csv", "--fail-on", "none", "--quiet"}
	type setting struct {
		env  map[string]string
		args []string
	}
	env := func(k, v string) setting { return setting{env: map[string]string{k: v}} }
	flag := func(v string) setting { return setting{args: []string{"--endpoint-url", v}} }
	attempt := func(t *testing.T, s setting, args ...string) cliResult {
		t.Helper()
		for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SSM"} {
			t.Setenv(k, s.env[k])
			if _, ok := s.env[k]; !ok {
				os.Unsetenv(k)
			}
		}
		return runCLI(t, "", append(append(append([]string{}, base...), args...), s.args...)...)
	}
	const warned, refused, resumed = 1, 2, 3
	for _, tc := range []struct {
		name        string
		first, then setting
		want        int
		say         string
	}{
		{"the region's own after the environment's", env("AWS_ENDPOINT_URL", url), setting{}, refused,
			"the endpoint: the run was started against " + url + " (set by AWS_ENDPOINT_URL), this resume is against the region's own AWS endpoint"},
		// Told, not refused: a run.json that names no endpoint is also
		// that of a release before endpoints were recorded whatever set
		// them, whose run the environment pointed at its endpoint (a VPC
		// endpoint in a Job's spec, resumed after an upgrade).
		{"the environment's after the region's own, or an earlier release's", setting{}, env("AWS_ENDPOINT_URL_SSM", url), warned,
			"the run's run.json names no endpoint (the region's own AWS endpoint, or one that a release before this one did not record), this resume is against " + url + " (set by AWS_ENDPOINT_URL_SSM)"},
		{"the region's own after the flag's", flag(url), setting{}, refused,
			"the run was started against " + url + " (set by --endpoint-url), this resume is against the region's own AWS endpoint"},
		{"another endpoint in the environment", env("AWS_ENDPOINT_URL", url), env("AWS_ENDPOINT_URL", other), warned,
			"the run was started against " + url + " (set by AWS_ENDPOINT_URL), this resume is against " + other + " (set by AWS_ENDPOINT_URL)"},
		{"the flag's after the environment's", env("AWS_ENDPOINT_URL", url), flag(other), warned, "this resume is against " + other + " (set by --endpoint-url)"},
		{"another flag", flag(url), flag(other), warned, "this resume is against " + other},
		{"the same environment", env("AWS_ENDPOINT_URL", url), env("AWS_ENDPOINT_URL", url), resumed, ""},
		{"the same endpoint by another setting", env("AWS_ENDPOINT_URL", url), flag(url), resumed, ""},
		{"the same flag", flag(url), flag(url), resumed, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			first := tc.first
			if first.env == nil && first.args == nil {
				// The region's own endpoint, which no test can call: the
				// simulator stands for it, and run.json is made to say so.
				first = flag(url)
			}
			if got := attempt(t, first, "--out", out); got.code != int(exitOK) {
				t.Fatalf("first attempt: exit %d\n%s", got.code, got.stderr)
			}
			if tc.first.env == nil && tc.first.args == nil {
				forgetEndpoint(t, out)
			}
			got := attempt(t, tc.then, "--out", out, "--resume")
			switch tc.want {
			case resumed:
				if got.code != int(exitOK) || strings.Contains(got.stderr, "warning") {
					t.Errorf("resume: exit %d, want 0 and no warning\n%s", got.code, got.stderr)
				}
			case warned:
				if got.code != int(exitOK) || !strings.Contains(got.stderr, "warning: --resume: the endpoint: ") || !strings.Contains(got.stderr, tc.say) {
					t.Errorf("resume: exit %d, want 0 saying %q\n%s", got.code, tc.say, got.stderr)
				}
			case refused:
				if got.code != int(exitUsage) || !strings.Contains(got.stderr, tc.say) || !strings.Contains(got.stderr, "resume with the run's own") {
					t.Errorf("resume: exit %d, want %d saying %q and what to do\n%s", got.code, exitUsage, tc.say, got.stderr)
				}
			}
		})
	}
}

// forgetEndpoint rewrites the run.json in out as a run against the
// region's own endpoint writes it: without endpoint_url.
func forgetEndpoint(t *testing.T, out string) {
	t.Helper()
	editRun(t, out, func(m map[string]any) {
		options := m["options"].(map[string]any)
		delete(options, "endpoint_url")
		delete(options, "endpoint_from")
	})
}
