package cli

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestRoleARNOfASovereignPartition: with no region configured, a --role-arn
// of arn:aws-eusc: (the European Sovereign Cloud) with --regions all was
// refused (exit 2, "no region to ask EC2"), as only aws, aws-cn and
// aws-us-gov had a region to ask in. Its partition's region is the home
// region now, and the run audits the organisation.
func TestRoleARNOfASovereignPartition(t *testing.T) {
	accounts := ssmsim.DefaultAccounts(2, 1)
	for i := range accounts {
		accounts[i].OptedIn = nil // the aws partition's opt-in regions
	}
	serveOrgOf(t, ssmsim.OrgConfig{
		Seed:      1,
		Partition: "aws-eusc",
		Accounts:  accounts,
		Regions:   []ssmsim.Region{{Name: "eusc-de-east-1"}},
		Fleet:     ssmsim.FleetConfig{Size: 5, BaseTime: time.Now().UTC().Truncate(time.Minute)},
	}, ssmsim.Faults{})
	got := runCLI(t, "", "run", "--accounts", accounts[0].ID+","+accounts[1].ID, "--role-arn", "arn:aws-eusc:iam::{account}:role/AuditRole",
		"--regions", "all", "--discover", "--fail-on", "none", "--quiet", "--out", filepath.Join(t.TempDir(), "out"))
	if got.code != 0 {
		t.Fatalf("exit %d, want 0\n%.3000s", got.code, got.stderr)
	}
	if strings.Contains(got.stderr, "no region") {
		t.Errorf("stderr says no region:\n%.3000s", got.stderr)
	}
}
