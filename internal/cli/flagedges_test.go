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

// TestRetrySettingsNotRead: the SDK's retry settings, which the auditor
// does not use (--max-attempts is its only setting of them), do not stop a
// run when the SDK would refuse their value. AWS_RETRY_MODE=legacy, a mode
// the AWS CLI takes, failed every run with exit 2. A profile's own value
// the SDK refuses is named, with what to do.
func TestRetrySettingsNotRead(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	for _, tt := range []struct {
		name string
		env  map[string]string
	}{
		{"AWS_RETRY_MODE legacy", map[string]string{"AWS_RETRY_MODE": "legacy"}},
		{"AWS_MAX_ATTEMPTS not a number", map[string]string{"AWS_MAX_ATTEMPTS": "abc"}},
		{"AWS_MAX_ATTEMPTS with a space", map[string]string{"AWS_MAX_ATTEMPTS": " 3"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", filepath.Join(t.TempDir(), "out"))
			if got.code != 0 || !strings.Contains(got.stderr, "audited 2 instances") {
				t.Errorf("exit %d, want 0 with both audited\n%s", got.code, got.stderr)
			}
		})
	}
	t.Run("a profile's retry_mode the SDK refuses", func(t *testing.T) {
		t.Setenv("AWS_CONFIG_FILE", writeFile(t, "config", "[default]\nretry_mode = legacy\n"))
		got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", filepath.Join(t.TempDir(), "out"))
		if got.code != int(exitUsage) {
			t.Errorf("exit %d, want %d\n%s", got.code, exitUsage, got.stderr)
		}
		for _, want := range []string{"retry_mode", "--max-attempts"} {
			if !strings.Contains(got.stderr, want) {
				t.Errorf("stderr does not say %q:\n%s", want, got.stderr)
			}
		}
	})
}

// TestCallTimeoutTooShortNamed: calls cut by a --call-timeout shorter than
// any answer take, against an endpoint that is up, name --call-timeout;
// the hint named only --endpoint-url, which was right.
func TestCallTimeoutTooShortNamed(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", filepath.Join(t.TempDir(), "out"), "--call-timeout", "1ns", "--max-attempts", "2")
	if got.code == 0 {
		t.Fatalf("exit 0 with calls cut at 1ns\n%s", got.stderr)
	}
	if !strings.Contains(got.stderr, "--call-timeout 1ns") {
		t.Errorf("stderr does not name --call-timeout 1ns:\n%s", got.stderr)
	}
}
