package cli

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// roleProfile serves an organisation whose member account has a role
// ShortRole whose sessions last life, and writes an AWS config whose
// profile "audit" assumes it with the management account's keys (a
// role_arn profile), as the run's own credentials. It returns the
// organisation, the server and the member account.
func roleProfile(t *testing.T, life time.Duration, faults ssmsim.Faults) (*ssmsim.Org, *ssmsim.Server, string) {
	t.Helper()
	return roleProfileWith(t, life, ssmsim.Options{Faults: faults})
}

// roleProfileWith is roleProfile with the server's other options.
func roleProfileWith(t *testing.T, life time.Duration, opts ssmsim.Options) (*ssmsim.Org, *ssmsim.Server, string) {
	t.Helper()
	accounts := ssmsim.DefaultAccounts(2, 1)
	member := accounts[1].ID
	accounts[1].Roles = []ssmsim.Role{{Name: "ShortRole", SessionLifetime: life}}
	org, srv, url := serveOrgWith(t, ssmsim.OrgConfig{
		Seed:     1,
		Accounts: accounts,
		Regions:  []ssmsim.Region{{Name: "us-east-1"}, {Name: "af-south-1", OptIn: true}},
		Fleet:    ssmsim.FleetConfig{Size: 60, BaseTime: time.Now().UTC().Truncate(time.Minute)},
	}, opts)
	// The credentials come from the profile below, not the environment.
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_ENDPOINT_URL_STS", url)
	cfg := writeFile(t, "config", fmt.Sprintf(`[profile base]
aws_access_key_id = AKIAORGMANAGEMENT001
aws_secret_access_key = management-secret

[profile audit]
role_arn = arn:aws:iam::%s:role/ShortRole
source_profile = base
`, member))
	t.Setenv("AWS_CONFIG_FILE", cfg)
	return org, srv, member
}

// TestOwnCredentialsRenewedBeforeTheyExpire: a run whose own credentials
// are a role's session that expires while it runs renews them before
// they expire, not at their expiry: with 300 ms between a call's signing
// and its arrival, the calls signed in a session's last 300 ms arrived
// after it, ExpiredTokenException stopped the run, exit 4. Sessions
// shorter than the 5 minutes it renews ahead (3 s here) are renewed
// half-way through, not before every call.
func TestOwnCredentialsRenewedBeforeTheyExpire(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for seconds, through several sessions; skipped under -short")
	}
	org, srv, member := roleProfile(t, 3*time.Second, ssmsim.Faults{Latency: 300 * time.Millisecond})
	ids := org.Fleet(member, "us-east-1").ManagedIDs()
	list := writeFile(t, "ids.txt", strings.Join(ids, "\n")+"\n")
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", "run", "--profile", "audit", "--instances", list, "--region", "us-east-1",
		"--concurrency", "4", "--fail-on", "none", "--quiet", "--out", out)
	if got.code != 0 {
		t.Fatalf("exit %d, want 0\n%s", got.code, got.stderr)
	}
	rs, err := audit.OpenRecords(filepath.Join(out, audit.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	if n := rs.Outcomes()[audit.OutcomeError]; n != 0 || rs.Len() != len(ids) {
		t.Errorf("record: %d results, %d in error; want %d, none in error", rs.Len(), n, len(ids))
	}
	st := srv.Stats()
	assumed, calls := st.Calls[ssmsim.OpAssumeRole], st.Calls[ssmsim.OpDescribeInstanceAssociationsStatus]
	t.Logf("the role was assumed %d times for %d SSM calls", assumed, calls)
	if assumed < 2 || assumed > calls/4 {
		t.Errorf("the role was assumed %d times for %d SSM calls: want it renewed as its sessions end, not before every few calls", assumed, calls)
	}
}
