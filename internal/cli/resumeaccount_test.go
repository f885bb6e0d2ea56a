package cli

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestResumeOfARecordOfNoKnownAccount: a record written when the
// caller's account could not be learnt (STS out of reach) names no
// account, so --resume could not tell it from another account's: resumed
// with another account's credentials, it went on, recorded the instances
// left as not managed (asked of the wrong account) and called the run
// complete, exit 0. The resume now asks SSM about one instance the record
// audited; one these credentials' SSM does not know is another account's
// record, refused (exit 2) before the audit. With the record's own
// account's credentials the resume goes on.
func TestResumeOfARecordOfNoKnownAccount(t *testing.T) {
	const ownKey = "AKIAPRODUCTIONKEY001"
	accounts := ssmsim.DefaultAccounts(2, 1)
	accounts[1].AccessKeys = []string{ownKey}
	org, srv, _ := serveOrgOf(t, ssmsim.OrgConfig{
		Seed:     3,
		Accounts: accounts,
		Regions:  []ssmsim.Region{{Name: "us-east-1"}, {Name: "af-south-1", OptIn: true}},
		Fleet:    ssmsim.FleetConfig{Size: 12, BaseTime: time.Now().UTC().Truncate(time.Minute)},
	}, ssmsim.Faults{})
	fleet := org.Fleet(accounts[1].ID, "us-east-1")
	managed := fleet.ManagedIDs()
	if len(managed) < 6 {
		t.Fatalf("the member account has %d managed instances, want 6 or more", len(managed))
	}
	// An instance the record audited, terminated since: one of the
	// probes that SSM no longer knows does not make the record another
	// account's.
	const gone = "i-0000000000000dead"
	listed := append([]string{gone}, managed...)
	ids := writeFile(t, "ids.txt", strings.Join(listed, "\n")+"\n")

	// The first attempt, killed before its run.json: its first results,
	// audited with the member account's keys and STS out of reach, name
	// no account.
	record := func() string { return killedRecord(t, "", ids, listed[:3], audit.OutcomeNoAssociations) }
	args := func(out string) []string {
		return []string{"run", "--resume", "--instances", ids, "--region", "us-east-1", "--out", out, "--quiet", "--fail-on", "none"}
	}

	t.Run("another account's credentials", func(t *testing.T) {
		out := record()
		before := srv.Stats().Calls[ssmsim.OpDescribeInstanceAssociationsStatus]
		got := runCLI(t, "", args(out)...) // the management account's keys
		if got.code != int(exitUsage) || !strings.Contains(got.stderr, org.Management()) || !strings.Contains(got.stderr, managed[0]) {
			t.Errorf("exit %d, want 2 naming account %s and instance %s\n%s", got.code, org.Management(), managed[0], got.stderr)
		}
		refusedAsItWas(t, srv, before, out)
	})
	t.Run("its own account's credentials", func(t *testing.T) {
		t.Setenv("AWS_ACCESS_KEY_ID", ownKey)
		out := record()
		got := runCLI(t, "", args(out)...)
		if got.code != int(exitOK) {
			t.Fatalf("exit %d, want 0\n%s", got.code, got.stderr)
		}
		rs, err := audit.OpenRecords(filepath.Join(out, audit.ResultsFile))
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		err = rs.Each(func(r audit.Result) error {
			if r.Outcome == audit.OutcomeNotManaged {
				t.Errorf("%s is not managed in the resumed record", r.InstanceID)
			}
			return nil
		})
		if err != nil || rs.Len() != len(listed) {
			t.Errorf("the record holds %d results (%v), want %d", rs.Len(), err, len(listed))
		}
	})
}

// TestResumeKeepsTheRecordsAccountConvention: a first attempt that could
// not learn its account (STS out of reach) writes results that name none;
// a resume that then learnt it wrote the account into run.json, and the
// next resume took run.json's word and filled the account into the rows
// it added, so that one record held the same fleet under two keys and the
// next run's --baseline previous saw failures new, and instances gone and
// new, that were neither. Every attempt keeps the convention of the rows
// the record holds, and run.json says the same.
func TestResumeKeepsTheRecordsAccountConvention(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 6, Size: 30})
	var ids bytes.Buffer
	fleet.WriteIDs(&ids)
	list := writeFile(t, "ids.txt", ids.String())
	sim := ssmsim.NewServer(fleet, ssmsim.Options{})
	// Each attempt but the last stalls at its stallAt-th call for
	// instances, until --timeout ends it: a partial record, the same
	// size however busy the machine is (one worker).
	var calls, stallAt atomic.Int64
	done := make(chan struct{})
	url := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".DescribeInstanceAssociationsStatus") {
			if n := stallAt.Load(); n > 0 && calls.Add(1) >= n {
				select {
				case <-r.Context().Done():
				case <-done:
				}
				return
			}
		}
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(url.Close)
	t.Cleanup(func() { close(done) }) // first: a call left stalled ends
	out := filepath.Join(t.TempDir(), "run")
	args := []string{"run", "--instances", list, "--endpoint-url", url.URL, "--region", "us-east-1", "--out", out,
		"--concurrency", "1", "--fail-on", "none", "--quiet"}
	attempt := func(sts string, stall int64, timeout string, resume bool) {
		t.Helper()
		t.Setenv("AWS_ENDPOINT_URL_STS", sts)
		calls.Store(0)
		stallAt.Store(stall)
		a := slices.Clone(args)
		if resume {
			a = append(a, "--resume")
		}
		if timeout != "" {
			a = append(a, "--timeout", timeout)
		}
		got := runCLI(t, "", a...)
		if want := map[bool]int{true: 3, false: 0}[stall > 0]; got.code != want {
			t.Fatalf("exit %d, want %d\n%s", got.code, want, got.stderr)
		}
	}
	attempt("http://127.0.0.1:1", 6, "5s", false) // STS out of reach
	attempt(url.URL, 6, "5s", true)               // STS answers now
	attempt(url.URL, 0, "", true)

	rs, err := audit.OpenRecords(filepath.Join(out, audit.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	accounts := map[string]int{}
	rs.Each(func(r audit.Result) error {
		accounts[r.AccountID]++
		return nil
	})
	if len(accounts) != 1 || rs.Len() != fleet.Len() {
		t.Fatalf("the record's %d results by account: %v; want the %d instances under one", rs.Len(), accounts, fleet.Len())
	}
	ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := accounts[ri.Caller]; !ok {
		t.Errorf("run.json's caller_account %q, the record's rows name %v", ri.Caller, accounts)
	}
}

// killedRecord returns the --out of a first attempt killed before its
// run.json: a record of the first instances of the list ids, each with
// outcome, in account ("" for a record that names none) and us-east-1.
func killedRecord(t *testing.T, account, ids string, instances []string, outcome audit.Outcome) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "run")
	if err := os.MkdirAll(out, 0o777); err != nil {
		t.Fatal(err)
	}
	w, err := audit.CreateRecord(filepath.Join(out, audit.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range instances {
		r := audit.Result{AccountID: account, Region: "us-east-1", InstanceID: id, Source: ids + ":" + strconv.Itoa(i+1),
			AuditedAt: time.Now().UTC(), Outcome: outcome}
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// refusedAsItWas fails the test unless the resume refused in out asked
// SSM about at most the 3 instances that tell whose the record is (calls
// counted by srv since before) and left the record's 3 results as they
// were.
func refusedAsItWas(t *testing.T, srv *ssmsim.Server, before int64, out string) {
	t.Helper()
	if n := srv.Stats().Calls[ssmsim.OpDescribeInstanceAssociationsStatus] - before; n > 3 {
		t.Errorf("%d SSM calls before the refusal, want the 3 that tell at most", n)
	}
	rs, err := audit.OpenRecords(filepath.Join(out, audit.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	if rs.Len() != 3 {
		t.Errorf("the record holds %d results after the refusal, want the 3 it had", rs.Len())
	}
}
