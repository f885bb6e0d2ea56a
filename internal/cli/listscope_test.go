package cli

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestOrgFlagsAgainstTheList: a listed instance is audited in the account
// and region the list gives it, so --accounts, --exclude-accounts and
// --regions that leave out some of the list's rows are refused before any
// SSM call (exit 2), naming the account or region and what to do, instead
// of being ignored while the run says it leaves out nothing. An
// --exclude-accounts of an account the list does not name is warned about
// and the run goes on; --accounts and --regions that take in every row
// change nothing. In a union with --discover, an excluded account that the
// list names is refused too: it would be audited all the same. Each shard
// of the list refuses alike, whichever instances it takes.
func TestOrgFlagsAgainstTheList(t *testing.T) {
	org, srv, accounts := serveOrg(t, 10)
	var rows strings.Builder
	rows.WriteString("instance_id,account_id,region\n")
	for _, a := range accounts[:2] {
		for _, r := range []string{"us-east-1", "eu-west-1"} {
			for _, id := range org.Fleet(a.ID, r).ManagedIDs()[:2] {
				fmt.Fprintf(&rows, "%s,%s,%s\n", id, a.ID, r)
			}
		}
	}
	list := writeFile(t, "fleet.csv", rows.String())
	checkScopeCases(t, srv, list, []scopeCase{
		{name: "excluded account the list names", args: []string{"--exclude-accounts", accounts[1].ID},
			code: 2, want: []string{"--exclude-accounts " + accounts[1].ID, "4 instances", "fleet.csv"}, avoid: []string{"leaves out nothing"}},
		{name: "account the list names outside --accounts", args: []string{"--accounts", accounts[0].ID},
			code: 2, want: []string{"--accounts", accounts[1].ID, "4 instances"}},
		{name: "region the list names outside --regions", args: []string{"--regions", "us-east-1"},
			code: 2, want: []string{"--regions", "eu-west-1", "4 instances"}},
		{name: "excluded account of a union that the list names", args: []string{"--discover", "--accounts", "org", "--regions", "us-east-1", "--exclude-accounts", accounts[1].ID},
			code: 2, want: []string{"--exclude-accounts " + accounts[1].ID, "4 instances"}},
		{name: "excluded account the list names, in a shard", args: []string{"--exclude-accounts", accounts[1].ID, "--shard", "1/2"},
			code: 2, want: []string{"--exclude-accounts " + accounts[1].ID, "4 instances"}},
		{name: "excluded account the list does not name", args: []string{"--exclude-accounts", accounts[2].ID},
			code: 0, want: []string{"--exclude-accounts " + accounts[2].ID, "leaves out nothing"}},
		{name: "--accounts and --regions that take in every row", args: []string{"--accounts", accounts[0].ID + "," + accounts[1].ID, "--regions", "eu-west-1,us-east-1"},
			code: 0, avoid: []string{"warning"}},
	})
}

// TestExcludeCallerFromListOfOthers: --exclude-accounts of the caller's
// account, with a list that names only other accounts, leaves out nothing
// of the list: the run audits it, instead of stopping as if nothing were
// left to audit.
func TestExcludeCallerFromListOfOthers(t *testing.T) {
	org, _, accounts := serveOrg(t, 10)
	var rows strings.Builder
	rows.WriteString("instance_id,account_id,region\n")
	for _, id := range org.Fleet(accounts[1].ID, "us-east-1").ManagedIDs()[:2] {
		fmt.Fprintf(&rows, "%s,%s,us-east-1\n", id, accounts[1].ID)
	}
	list := writeFile(t, "fleet.csv", rows.String())
	got := runCLI(t, "", "run", "--instances", list, "--role-name", "AuditRole", "--region", "us-east-1",
		"--exclude-accounts", accounts[0].ID, "--fail-on", "none", "--quiet", "--out", filepath.Join(t.TempDir(), "o"))
	if got.code != 0 {
		t.Fatalf("exit %d, want 0\n%s", got.code, got.stderr)
	}
}

// TestOrgFlagsAgainstAPlainList: rows that give no account or region are
// audited in the caller's account and in --region; when --accounts,
// --exclude-accounts or --regions leave that out, the refusal says so (the
// rows name no account or region, where they are audited and what to do),
// instead of saying that the list names an account or region it does not.
// The region is refused before any call to AWS.
func TestOrgFlagsAgainstAPlainList(t *testing.T) {
	org, srv, accounts := serveOrg(t, 10)
	caller := accounts[0].ID
	ids := org.Fleet(caller, "us-east-1").ManagedIDs()[:3]
	list := writeFile(t, "ids.txt", strings.Join(ids, "\n")+"\n")
	checkScopeCases(t, srv, list, []scopeCase{
		{name: "--regions without --region's", args: []string{"--regions", "eu-west-1"}, code: 2, noCall: true,
			want:  []string{"--regions eu-west-1", "3 instances", "ids.txt:1", "give no region", "us-east-1", "--region"},
			avoid: []string{"the list names"}},
		{name: "--accounts without the caller's", args: []string{"--accounts", accounts[1].ID}, code: 2,
			want:  []string{"--accounts " + accounts[1].ID, "3 instances", "ids.txt:1", "give no account", "caller's account " + caller, "account_id column"},
			avoid: []string{"the list names"}},
		{name: "--exclude-accounts of the caller's", args: []string{"--exclude-accounts", caller}, code: 2,
			want:  []string{"--exclude-accounts " + caller, "3 instances", "ids.txt:1", "give no account", "account_id column"},
			avoid: []string{"the list names"}},
		{name: "--regions and --accounts that take them in", args: []string{"--regions", "eu-west-1,us-east-1", "--accounts", caller + "," + accounts[1].ID}, code: 0},
	})
}

// scopeCase is a run of a list with org flags, and what it must end with:
// its exit code and what stderr says and does not say; noCall for a
// refusal that needs no call to AWS at all.
type scopeCase struct {
	name        string
	args        []string
	code        int
	want, avoid []string
	noCall      bool
}

// checkScopeCases runs each case against srv with list, and checks that a
// refusal (exit 2) made no SSM call (noCall: no call at all) and left no
// record.
func checkScopeCases(t *testing.T, srv *ssmsim.Server, list string, cases []scopeCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			before := srv.Stats()
			out := filepath.Join(t.TempDir(), "o")
			args := append([]string{"run", "--instances", list, "--role-name", "AuditRole", "--region", "us-east-1",
				"--fail-on", "none", "--quiet", "--out", out}, tt.args...)
			got := runCLI(t, "", args...)
			if got.code != tt.code {
				t.Fatalf("exit %d, want %d\n%s", got.code, tt.code, got.stderr)
			}
			checkSays(t, got.stderr, tt.want, tt.avoid)
			if tt.code != 2 {
				return
			}
			after := srv.Stats()
			if n := after.Calls[ssmsim.OpDescribeInstanceAssociationsStatus] - before.Calls[ssmsim.OpDescribeInstanceAssociationsStatus]; n != 0 {
				t.Errorf("%d SSM calls before the refusal, want none", n)
			}
			if tt.noCall {
				for op, n := range after.Calls {
					if n != before.Calls[op] {
						t.Errorf("%d %s calls before a refusal that needs none", n-before.Calls[op], op)
					}
				}
			}
			if _, err := audit.OpenRecords(filepath.Join(out, audit.ResultsFile)); err == nil {
				t.Errorf("a refused run left a record in %s", out)
			}
		})
	}
}
