package cli

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/deliver/smtptest"
	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestSplitGroupOfUnauditedAccount: an account whose role could not be
// assumed has no instance in the record, so --split-by account_name made no
// group for it: its owner got no report at all, and read the silence as
// nothing wrong. Its group is made, with no instance, and its reports say
// which of its account-regions could not be audited and why; so does the
// group of an account audited in one region and not in another. The name
// is the run's (run.json), so that auditor report splits the record again
// alike.
func TestSplitGroupOfUnauditedAccount(t *testing.T) {
	_, _, accounts := serveOrg(t, 10)
	// accounts[2] refuses AuditRole; af-south-1 is enabled in accounts[1]
	// alone, so the management account is audited in us-east-1 only.
	refused, partly := accounts[2], accounts[0]
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", "run", "--accounts", "org", "--role-name", "AuditRole", "--regions", "us-east-1,af-south-1", "--discover",
		"--region", "us-east-1", "--fail-on", "none", "--quiet", "--format", "json", "--out", out, "--split-by", "account_name")
	if got.code != 3 {
		t.Fatalf("exit %d, want 3 (account-regions not audited)\n%s", got.code, got.stderr)
	}
	check := func(t *testing.T, how string) {
		t.Helper()
		split := report.SplitDir(out, "account_name")
		f, err := os.Open(filepath.Join(split, report.SplitIndex))
		if err != nil {
			t.Fatalf("%s: %v", how, err)
		}
		rows, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatalf("%s: index.csv: %v", how, err)
		}
		dirs := map[string]string{}
		for _, r := range rows[1:] {
			dirs[r[0]] = r[1]
		}
		for _, c := range []struct {
			account, name string
			wantNone      bool // of its instances
			want          []string
		}{
			{refused.ID, refused.Name, true, []string{"af-south-1", "us-east-1"}},
			{partly.ID, partly.Name, false, []string{"af-south-1"}},
		} {
			dir, ok := dirs[c.name]
			if !ok {
				t.Errorf("%s: index.csv lists no group for account %s (%s), which could not be audited:\n%q", how, c.account, c.name, rows)
				continue
			}
			b, err := os.ReadFile(filepath.Join(split, dir, report.SummaryFile))
			if err != nil {
				t.Errorf("%s: group %q: %v", how, c.name, err)
				continue
			}
			var m report.Model
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			if (m.Totals.Instances == 0) != c.wantNone {
				t.Errorf("%s: group %q: %d instances", how, c.name, m.Totals.Instances)
			}
			var regions []string
			for _, s := range m.Run.Unaudited {
				if s.AccountID == c.account {
					regions = append(regions, s.Region)
				}
			}
			slices.Sort(regions)
			if !slices.Equal(regions, c.want) {
				t.Errorf("%s: group %q: its reports say account %s could not be audited in %q, want %q (%+v)", how, c.name, c.account, regions, c.want, m.Run.Unaudited)
			}
		}
	}
	check(t, "run")
	if got := runCLI(t, "", "report", filepath.Join(out, audit.ResultsFile), "--out", out, "--fail-on", "none", "--quiet",
		"--format", "json", "--split-by", "account_name"); got.code != 0 && got.code != 3 {
		t.Fatalf("report: exit %d\n%s", got.code, got.stderr)
	}
	check(t, "report")
}

// TestSplitMailOfUnauditedAccount: with --mail-to-label, the owner of an
// account that could not be audited got no mail, not even one that says
// so. Compared with a run that audited it, its group's part of the
// baseline gives the addresses of then, and the mail says which of its
// account-regions could not be audited. Without one there is no address to
// find: the warning says the group could not be audited, instead of
// sending its reader to check a --mail-to-label that is right.
func TestSplitMailOfUnauditedAccount(t *testing.T) {
	accounts := ssmsim.DefaultAccounts(3, 1)
	d := time.Now().UTC().Add(-time.Hour).Truncate(time.Minute)
	for i := range accounts[:3] {
		f := ssmsim.NewFleet(ssmsim.FleetConfig{})
		id := fmt.Sprintf("i-%017x", i+1)
		f.Add(ssmsim.Instance{InstanceID: id, PingStatus: "Online", PlatformType: "Linux", ResourceType: "EC2Instance",
			Tags: map[string]string{"OwnerEmail": fmt.Sprintf("owner%d@example.com", i)},
			Associations: []ssmsim.Association{{AssociationID: fmt.Sprintf("%08d-1111-1111-1111-111111111111", i), Name: "AWS-RunPatchBaseline",
				InstanceID: id, Status: "Success", DetailedStatus: "Success", ExecutionDate: d}}})
		accounts[i].Fleets = map[string]*ssmsim.Fleet{"us-east-1": f}
	}
	serveWith := func(refuse bool) {
		t.Helper()
		accs := slices.Clone(accounts)
		if refuse {
			accs[2].Roles = []ssmsim.Role{{Name: "AuditRole", Refuse: true}}
		}
		serveOrgOf(t, ssmsim.OrgConfig{Seed: 1, Accounts: accs, FleetRegions: []string{"us-east-1"}}, ssmsim.Faults{})
	}
	refused := accounts[2]
	args := []string{"run", "--accounts", "org", "--role-name", "AuditRole", "--regions", "us-east-1", "--discover",
		"--region", "us-east-1", "--fail-on", "none", "--quiet", "--format", "json", "--split-by", "account_name", "--tag-labels", "OwnerEmail"}
	serveWith(false)
	base := filepath.Join(t.TempDir(), "base")
	if got := runCLI(t, "", append(args, "--out", base)...); got.code != 0 {
		t.Fatalf("baseline run: exit %d\n%s", got.code, got.stderr)
	}
	serveWith(true)
	for _, tt := range []struct {
		name     string
		baseline bool
	}{
		{"compared with a run that audited it", true},
		{"without a baseline", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ms := newMailSetup(t, smtptest.Options{})
			a := append(slices.Clone(args), "--out", filepath.Join(t.TempDir(), "out"), "--mail-to-label", "tag:OwnerEmail")
			if tt.baseline {
				a = append(a, "--baseline", base)
			}
			got := runCLI(t, "", append(a, ms.args...)...)
			if got.code != 3 {
				t.Fatalf("exit %d, want 3 (an account not audited)\n%s", got.code, got.stderr)
			}
			var mailed *smtptest.Mail
			for _, m := range ms.srv.Messages() {
				if slices.Contains(m.To, "owner2@example.com") {
					if mailed, _ = smtptest.Parse(m.Data); mailed == nil {
						t.Fatal("the mail does not parse")
					}
				}
			}
			if !tt.baseline {
				if mailed != nil {
					t.Errorf("mailed to owner2@example.com, whose address no instance of this run has")
				}
				for _, w := range []string{report.SafeName(refused.Name), "could not be audited"} {
					if !strings.Contains(got.stderr, w) {
						t.Errorf("stderr does not say %q of the group not mailed:\n%s", w, got.stderr)
					}
				}
				if strings.Contains(got.stderr, "check --mail-to-label") {
					t.Errorf("stderr sends the reader to check --mail-to-label, which is right:\n%s", got.stderr)
				}
				return
			}
			if mailed == nil {
				t.Fatalf("no mail to owner2@example.com, the owner of the account not audited, from the baseline\n%s", got.stderr)
			}
			if text := mailed.Part("text/plain"); text == nil || !strings.Contains(string(text.Body), refused.ID) {
				t.Errorf("the mail to the owner of %s does not name it as not audited:\n%+v", refused.ID, text)
			}
		})
	}
}
