package cli

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestResumeOfARecordThatTellsNoAccount: a record written when the
// caller's account could not be learnt, killed before its run.json, whose
// results are all not_managed or error, holds no instance whose account
// SSM can confirm: not_managed is what every account's SSM says of an
// instance it does not manage, so asking again proves nothing. Resumed
// with another account's credentials it went on without any check, and
// recorded that account's results into the same record (exit 0). It is
// now refused (exit 2) before any audit, saying why and to start anew
// with another --out, and the record is left as it was; an instance in
// error that these credentials' SSM manages does tell, and the resume
// goes on.
func TestResumeOfARecordThatTellsNoAccount(t *testing.T) {
	const ownKey = "AKIAPRODUCTIONKEY001"
	accounts := ssmsim.DefaultAccounts(2, 1)
	accounts[1].AccessKeys = []string{ownKey}
	org, srv, _ := serveOrgOf(t, ssmsim.OrgConfig{
		Seed:     3,
		Accounts: accounts,
		Regions:  []ssmsim.Region{{Name: "us-east-1"}, {Name: "af-south-1", OptIn: true}},
		Fleet:    ssmsim.FleetConfig{Size: 12, BaseTime: time.Now().UTC().Truncate(time.Minute)},
	}, ssmsim.Faults{})
	managed := org.Fleet(accounts[1].ID, "us-east-1").ManagedIDs()
	const nobodys = "i-0ffffffffffffffff"
	listed := append([]string{nobodys}, managed[:3]...)
	ids := writeFile(t, "ids.txt", strings.Join(listed, "\n")+"\n")

	// record writes the first attempt's results, killed before its
	// run.json, with STS out of reach: they name no account.
	record := func(results map[string]audit.Outcome) string {
		out := filepath.Join(t.TempDir(), "run")
		if err := os.MkdirAll(out, 0o777); err != nil {
			t.Fatal(err)
		}
		w, err := audit.CreateRecord(filepath.Join(out, audit.ResultsFile))
		if err != nil {
			t.Fatal(err)
		}
		for i, id := range listed {
			o, ok := results[id]
			if !ok {
				continue
			}
			r := audit.Result{Region: "us-east-1", InstanceID: id, Source: ids + ":" + strconv.Itoa(i+1),
				AuditedAt: time.Now().UTC(), Outcome: o}
			if o == audit.OutcomeError {
				r.Error = &audit.Error{Code: "ThrottlingException", Message: "Rate exceeded"}
			}
			if err := w.Write(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	tests := []struct {
		name    string
		key     string // "" for the management account's
		results map[string]audit.Outcome
		code    exitCode
	}{
		{name: "not managed alone, another account's credentials",
			results: map[string]audit.Outcome{nobodys: audit.OutcomeNotManaged}, code: exitUsage},
		{name: "not managed alone, its own account's credentials",
			key: ownKey, results: map[string]audit.Outcome{nobodys: audit.OutcomeNotManaged}, code: exitUsage},
		{name: "in error, unknown to another account",
			results: map[string]audit.Outcome{nobodys: audit.OutcomeNotManaged, managed[0]: audit.OutcomeError}, code: exitUsage},
		{name: "in error, managed by its own account",
			key: ownKey, results: map[string]audit.Outcome{nobodys: audit.OutcomeNotManaged, managed[0]: audit.OutcomeError}, code: exitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.key != "" {
				t.Setenv("AWS_ACCESS_KEY_ID", tt.key)
			}
			out := record(tt.results)
			before := srv.Stats().Calls[ssmsim.OpDescribeInstanceAssociationsStatus]
			got := runCLI(t, "", "run", "--resume", "--instances", ids, "--region", "us-east-1", "--out", out, "--quiet", "--fail-on", "none")
			if got.code != int(tt.code) {
				t.Fatalf("exit %d, want %d\n%s", got.code, tt.code, got.stderr)
			}
			rs, err := audit.OpenRecords(filepath.Join(out, audit.ResultsFile))
			if err != nil {
				t.Fatal(err)
			}
			defer rs.Close()
			if tt.code == exitOK {
				if rs.Len() != len(listed) {
					t.Errorf("the record holds %d results, want %d", rs.Len(), len(listed))
				}
				return
			}
			checkSays(t, got.stderr, []string{"--resume", out, "another --out"}, nil)
			if n := srv.Stats().Calls[ssmsim.OpDescribeInstanceAssociationsStatus] - before; n > 3 {
				t.Errorf("%d SSM calls before the refusal, want the 3 that tell at most", n)
			}
			if rs.Len() != len(tt.results) {
				t.Errorf("the record holds %d results after the refusal, want the %d it had", rs.Len(), len(tt.results))
			}
			if _, err := os.Stat(filepath.Join(out, audit.RunFile)); err == nil {
				t.Errorf("a refused resume wrote %s", audit.RunFile)
			}
		})
	}
}
