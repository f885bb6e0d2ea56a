package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestSiteFailureHints: account-regions that fail from a setting fail the
// same way when resumed: the closing lines say what to change, once per
// cause, and to change it before resuming. A --role-duration above the
// role's maximum (STS's ValidationError in every member account), a region
// not enabled in an account (UnrecognizedClientException there), a role
// that cannot be assumed (STS's AccessDenied: not deployed, or a trust
// policy that does not name the caller).
func TestSiteFailureHints(t *testing.T) {
	_, _, accounts := serveOrg(t, 10)
	management, member, refusing := accounts[0].ID, accounts[1].ID, accounts[2].ID
	tests := []struct {
		name  string
		args  []string
		want  []string
		once  string // said once, however many account-regions it failed
		avoid []string
	}{
		{name: "role duration above the role's maximum", args: []string{"--accounts", member + "," + refusing + "," + management, "--regions", "us-east-1,eu-west-1", "--role-duration", "2h"},
			want: []string{"ValidationError", "lower --role-duration", "fix the causes above, then continue with"}, once: "lower --role-duration"},
		{name: "region not enabled", args: []string{"--accounts", management + "," + member, "--regions", "us-east-1,af-south-1"},
			want:  []string{management + " af-south-1 could not be audited", "UnrecognizedClientException", "af-south-1 not enabled in account " + management + "?", "leave it out of --regions"},
			avoid: []string{"lower --role-duration", "trust policy"}},
		{name: "role refused", args: []string{"--accounts", member + "," + refusing, "--regions", "us-east-1,eu-west-1"},
			want: []string{refusing + " us-east-1 could not be audited", "AccessDenied", "arn:aws:iam::" + refusing + ":role/AuditRole", "trust policy", management},
			once: "trust policy", avoid: []string{"lower --role-duration", "leave it out of --regions"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runCLI(t, "", append([]string{"run", "--role-name", "AuditRole", "--discover", "--region", "us-east-1",
				"--fail-on", "none", "--quiet", "--out", filepath.Join(t.TempDir(), "out")}, tt.args...)...)
			if got.code != int(exitIncomplete) {
				t.Fatalf("exit %d, want %d\n%s", got.code, exitIncomplete, got.stderr)
			}
			checkSays(t, got.stderr, tt.want, tt.avoid)
			if n := strings.Count(got.stderr, tt.once); tt.once != "" && n != 1 {
				t.Errorf("stderr says %q %d times, want once:\n%s", tt.once, n, got.stderr)
			}
		})
	}
}
