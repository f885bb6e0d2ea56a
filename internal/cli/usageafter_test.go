package cli

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestUsageRefusalsAfterTheCallersAccount: README's exit 2 once said that
// nothing was asked of AWS, but a refusal that needs the caller's account
// comes after STS's GetCallerIdentity, and after the lookups before the
// audit (here --with-instance-info's). What it may ask is what README
// lists; no instance's associations are ever asked for.
func TestUsageRefusalsAfterTheCallersAccount(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, srv := serve(t, handFleet(false), ssmsim.Options{})
	out := filepath.Join(t.TempDir(), "out")
	first := writeFile(t, "a.txt", "i-0123456789abcdef0\n")
	if got := runCLI(t, "", "run", "--instances", first, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet"); got.code != 0 {
		t.Fatalf("first run: exit %d\n%s", got.code, got.stderr)
	}
	for _, tc := range []struct {
		name    string
		args    []string
		allowed []string
	}{
		{
			name:    "a list naming another account",
			args:    []string{"--instances", writeFile(t, "o.csv", "instance_id,account_id\ni-12345678,999999999999\n"), "--out", filepath.Join(t.TempDir(), "o")},
			allowed: []string{ssmsim.OpGetCallerIdentity},
		},
		{
			name:    "--resume of another audit's record",
			args:    []string{"--instances", writeFile(t, "b.txt", "i-0123456789abcdef1\n"), "--out", out, "--resume", "--with-instance-info"},
			allowed: []string{ssmsim.OpGetCallerIdentity, ssmsim.OpDescribeInstanceInformation},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv.ResetStats()
			got := runCLI(t, "", append([]string{"run", "--endpoint-url", url, "--region", "us-east-1", "--quiet"}, tc.args...)...)
			if got.code != int(exitUsage) {
				t.Fatalf("exit %d, want %d\n%s", got.code, exitUsage, got.stderr)
			}
			for op, n := range srv.Stats().Calls {
				if n > 0 && !slices.Contains(tc.allowed, op) {
					t.Errorf("%d %s calls before the refusal; README's exit 2 allows %v", n, op, tc.allowed)
				}
			}
		})
	}
}
