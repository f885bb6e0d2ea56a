package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestFlagEdgesRefused: a value no run can use is refused before any call
// and before the output directory is made, naming the flag and the value.
// A --rate of NaN ran the whole audit unpaced and then failed to write
// run.json (exit 4, "directory not writable"), leaving no run.json; a tiny
// one waited for ever in silence; a huge --fleet-size panicked.
func TestFlagEdgesRefused(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, srv := serve(t, handFleet(false), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	for _, tt := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"rate NaN", []string{"--rate", "NaN"}, nil, "--rate NaN"},
		{"rate Inf", []string{"--rate", "Inf"}, nil, "--rate +Inf"},
		{"rate -Inf", []string{"--rate", "-Inf"}, nil, "--rate -Inf"},
		{"rate from the environment", nil, map[string]string{"AUDITOR_RATE": "NaN"}, "--rate NaN"},
		{"rate too small to end", []string{"--rate", "1e-9"}, nil, "--rate 1e-09"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			out := filepath.Join(t.TempDir(), "out")
			before := srv.Stats().Requests
			got := runCLI(t, "", append([]string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out}, tt.args...)...)
			if got.code != int(exitUsage) {
				t.Errorf("exit %d, want %d\n%s", got.code, exitUsage, got.stderr)
			}
			if !strings.Contains(got.stderr, tt.want) {
				t.Errorf("stderr does not name %q:\n%s", tt.want, got.stderr)
			}
			if after := srv.Stats().Requests; after != before {
				t.Errorf("%d calls made before the refusal", after-before)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("the output directory was made (%v)", err)
			}
		})
	}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"demo fleet too large", []string{"demo", "--fleet-size", "9223372036854775807", "--out", filepath.Join(t.TempDir(), "demo")}, "--fleet-size 9223372036854775807"},
		{"demo organisation too large", []string{"demo", "--accounts", "2", "--fleet-size", "9223372036854775807", "--out", filepath.Join(t.TempDir(), "demo")}, "--fleet-size 9223372036854775807"},
		{"simulate fleet too large", []string{"simulate", "--fleet-size", "9223372036854775807"}, "--fleet-size 9223372036854775807"},
		{"simulate rate-limit NaN", []string{"simulate", "--rate-limit", "NaN"}, "--rate-limit NaN"},
		{"simulate rate-limit Inf", []string{"simulate", "--rate-limit", "Inf"}, "--rate-limit +Inf"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := runCLI(t, "", tt.args...)
			if got.code != int(exitUsage) {
				t.Errorf("exit %d, want %d\n%s", got.code, exitUsage, got.stderr)
			}
			if !strings.Contains(got.stderr, tt.want) {
				t.Errorf("stderr does not name %q:\n%s", tt.want, got.stderr)
			}
		})
	}
}
