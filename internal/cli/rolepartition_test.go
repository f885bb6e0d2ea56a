package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestRoleARNOfAnotherPartition: in an aws-cn organisation, a --role-arn
// of arn:aws: made every member account fail with AccessDenied, and the
// hint said to deploy the role there and offered a --resume with the same
// ARN (exit 3). The caller's ARN names its partition: the run refuses the
// mismatch before any AssumeRole and before --out is made (exit 2), naming
// the flag, its value, the caller's partition and the ARN to pass instead,
// which then reaches the accounts.
func TestRoleARNOfAnotherPartition(t *testing.T) {
	accounts, srv := serveChinaOrg(t, 3)
	ids := accounts[0].ID + "," + accounts[1].ID + "," + accounts[2].ID
	run := func(roleARN string) (cliResult, string) {
		t.Helper()
		out := filepath.Join(t.TempDir(), "out")
		return runCLI(t, "", "run", "--accounts", ids, "--role-arn", roleARN, "--regions", "cn-north-1",
			"--discover", "--fail-on", "none", "--quiet", "--out", out), out
	}

	srv.ResetStats()
	got, out := run("arn:aws:iam::{account}:role/AuditRole")
	if got.code != int(exitUsage) {
		t.Fatalf("exit %d, want %d\n%.3000s", got.code, exitUsage, got.stderr)
	}
	for _, w := range []string{`--role-arn "arn:aws:iam::{account}:role/AuditRole"`, "aws-cn", `--role-arn "arn:aws-cn:iam::{account}:role/AuditRole"`} {
		if !strings.Contains(got.stderr, w) {
			t.Errorf("stderr does not say %s:\n%.3000s", w, got.stderr)
		}
	}
	for _, w := range []string{"--resume", "deploy"} {
		if strings.Contains(got.stderr, w) {
			t.Errorf("stderr says %s:\n%.3000s", w, got.stderr)
		}
	}
	if n := srv.Stats().Calls[ssmsim.OpAssumeRole]; n > 0 {
		t.Errorf("%d AssumeRole calls before the refusal", n)
	}
	if _, err := os.Lstat(out); err == nil {
		t.Errorf("%s was made for a refused command", out)
	}

	srv.ResetStats()
	if got, _ := run("arn:aws-cn:iam::{account}:role/AuditRole"); got.code != 0 {
		t.Errorf("with the ARN of the caller's partition: exit %d, want 0\n%.3000s", got.code, got.stderr)
	}
	if n := srv.Stats().Calls[ssmsim.OpAssumeRole]; n == 0 {
		t.Errorf("with the ARN of the caller's partition: no AssumeRole call")
	}
}

// TestRoleARNPartitionPicksTheHome: with no region configured anywhere, the
// home region comes from --role-arn's partition: an arn:aws: one sends
// aws-cn credentials to us-east-1's STS, which refuses them before the
// partitions can be compared, and the error said only to check the
// credentials. It says where the region came from, and what to pass.
func TestRoleARNPartitionPicksTheHome(t *testing.T) {
	accounts, _ := serveChinaOrg(t, 2)
	got := runCLI(t, "", "run", "--accounts", accounts[0].ID+","+accounts[1].ID, "--role-arn", "arn:aws:iam::{account}:role/AuditRole",
		"--regions", "all", "--discover", "--fail-on", "none", "--quiet", "--out", filepath.Join(t.TempDir(), "out"))
	if got.code != int(exitFatal) {
		t.Fatalf("exit %d, want %d\n%.3000s", got.code, exitFatal, got.stderr)
	}
	for _, w := range []string{"us-east-1 was taken from --role-arn", "--region cn-north-1", "arn:aws-cn:"} {
		if !strings.Contains(got.stderr, w) {
			t.Errorf("stderr does not say %s:\n%.3000s", w, got.stderr)
		}
	}
}

// serveChinaOrg serves an organisation of n active accounts in the aws-cn
// partition, with fleets in its two regions.
func serveChinaOrg(t *testing.T, n int) ([]ssmsim.Account, *ssmsim.Server) {
	t.Helper()
	accounts := ssmsim.DefaultAccounts(n, 1)
	for i := range accounts {
		accounts[i].OptedIn = nil // af-south-1 and the like: not China's
	}
	_, srv, _ := serveOrgOf(t, ssmsim.OrgConfig{
		Seed:      1,
		Partition: "aws-cn",
		Accounts:  accounts,
		Regions:   []ssmsim.Region{{Name: "cn-north-1"}, {Name: "cn-northwest-1"}},
		Fleet:     ssmsim.FleetConfig{Size: 5, BaseTime: time.Now().UTC().Truncate(time.Minute)},
	}, ssmsim.Faults{})
	return accounts, srv
}
