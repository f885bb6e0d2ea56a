package cli

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestUnreachableCauseNamed: the line that says why nothing could be
// audited names the real cause and what to check, still with exit 4. https
// to a port that speaks plain HTTP said "no answer"; a proxy that refuses
// was "cannot reach https://ssm...: connection refused ... check --region
// and --endpoint-url", which sent people to the wrong setting.
func TestUnreachableCauseNamed(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")

	t.Run("https to a plain-HTTP port", func(t *testing.T) {
		url, _ := serve(t, handFleet(false), ssmsim.Options{})
		https := strings.Replace(url, "http://", "https://", 1)
		got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", https, "--region", "us-east-1",
			"--out", filepath.Join(t.TempDir(), "out"), "--max-attempts", "2", "--quiet")
		if want := "cannot reach " + https + ": the server answered plain HTTP: use http://"; got.code != int(exitFatal) || !strings.Contains(got.stderr, want) {
			t.Errorf("exit %d, want %d saying %q\n%s", got.code, exitFatal, want, got.stderr)
		}
	})

	t.Run("a proxy that refuses", func(t *testing.T) {
		if testing.Short() {
			t.Skip("runs the binary (net/http reads the proxy from the environment once a process): skipped with -short")
		}
		bin := binary(t)
		// STS is the simulator on this machine, which no proxy serves;
		// SSM is the region's endpoint, reached through the proxy.
		serve(t, handFleet(false), ssmsim.Options{})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		proxy := ln.Addr().String()
		ln.Close()
		for k, v := range map[string]string{"HTTPS_PROXY": "http://user:proxy-secret@" + proxy, "https_proxy": "",
			"HTTP_PROXY": "", "http_proxy": "", "NO_PROXY": "", "no_proxy": ""} {
			t.Setenv(k, v)
		}
		cmd := exec.Command(bin, "run", "--instances", ids, "--region", "us-east-1", "--out", filepath.Join(t.TempDir(), "out"),
			"--max-attempts", "2", "--quiet")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		cmd.Run()
		out := stderr.String()
		if code := cmd.ProcessState.ExitCode(); code != int(exitFatal) {
			t.Errorf("exit %d, want %d\n%s", code, exitFatal, out)
		}
		want := "cannot reach https://ssm.us-east-1.amazonaws.com through the proxy " + proxy + ": connection refused"
		if !strings.Contains(out, want) || !strings.Contains(out, "HTTPS_PROXY") || !strings.Contains(out, "NO_PROXY") {
			t.Errorf("stderr does not say %q and to check HTTPS_PROXY and NO_PROXY:\n%s", want, out)
		}
		if strings.Contains(out, "--endpoint-url") || strings.Contains(out, "proxy-secret") {
			t.Errorf("stderr sends to --endpoint-url, or repeats the proxy's password:\n%s", out)
		}
	})
}

// TestEndpointRulesRefusedBeforeAnyCall: a configuration that the SDK's
// endpoint rules refuse (FIPS or dual-stack with a custom endpoint) is a
// usage error, found with the other settings' problems before any call:
// it was "cannot reach the SSM endpoint of us-east-1: no answer", exit 4,
// with a call counted in run.json though none was sent.
func TestEndpointRulesRefusedBeforeAnyCall(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, srv := serve(t, handFleet(false), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	tests := []struct {
		name   string
		env    map[string]string
		args   []string
		reason string
	}{
		{"FIPS with AWS_ENDPOINT_URL", map[string]string{"AWS_USE_FIPS_ENDPOINT": "true", "AWS_ENDPOINT_URL": url}, nil,
			"FIPS and custom endpoint are not supported"},
		{"dual-stack with --endpoint-url", map[string]string{"AWS_USE_DUALSTACK_ENDPOINT": "true"}, []string{"--endpoint-url", url},
			"Dualstack and custom endpoint are not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			out := filepath.Join(t.TempDir(), "out")
			before := srv.Stats().Requests
			got := runCLI(t, "", append([]string{"run", "--instances", ids, "--region", "us-east-1", "--out", out, "--quiet"}, tt.args...)...)
			if got.code != int(exitUsage) || !strings.Contains(got.stderr, tt.reason) || !strings.Contains(got.stderr, "AWS_USE_FIPS_ENDPOINT") || strings.Contains(got.stderr, "no answer") {
				t.Errorf("exit %d, want %d saying %q and what to check\n%s", got.code, exitUsage, tt.reason, got.stderr)
			}
			if n := srv.Stats().Requests - before; n != 0 {
				t.Errorf("%d requests, want none", n)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("--out %s created by a run that stopped before its first call", out)
			}
		})
	}
}
