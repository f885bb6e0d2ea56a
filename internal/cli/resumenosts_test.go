package cli

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// unreachableSTS is an STS endpoint that refuses every connection.
const unreachableSTS = "http://127.0.0.1:1"

// falseRefusals are the words of the refusals a resume with STS out of
// reach met for a record of its own account: not its cause.
var falseRefusals = []string{"not among the targets", "another audit", "account_id column"}

// checkNamedRecord fails unless every result of the record in out names
// account, it holds want results, and those not_managed are those of
// managed it does not hold.
func checkNamedRecord(t *testing.T, out, account string, want int, managed []string) {
	t.Helper()
	rs, err := audit.OpenRecords(filepath.Join(out, audit.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	byAccount := map[string]int{}
	err = rs.Each(func(r audit.Result) error {
		byAccount[r.AccountID]++
		if r.Outcome == audit.OutcomeNotManaged && slices.Contains(managed, r.InstanceID) {
			t.Errorf("%s is not managed in the resumed record", r.InstanceID)
		}
		return nil
	})
	if err != nil || rs.Len() != want || len(byAccount) != 1 || byAccount[account] != want {
		t.Errorf("the record holds %d results by account %v (%v), want %d, all of account %s", rs.Len(), byAccount, err, want, account)
	}
	ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	if ri.Caller != account {
		t.Errorf("run.json: caller_account %q, want the record's %s", ri.Caller, account)
	}
}

// TestResumeOfAKilledRunWithSTSOutOfReach: a first attempt that learnt
// its account and was killed before its run.json, resumed while STS is
// out of reach, was refused (exit 2) as holding "results for instances
// that are not among the targets ... the record of another audit": the
// resume filled no account into the targets, and the record's rows name
// one. It is the same audit; the resume takes the account the rows name
// once SSM knows an instance the record audited for these credentials,
// and completes the record under it.
func TestResumeOfAKilledRunWithSTSOutOfReach(t *testing.T) {
	args, out, _ := attemptsRun(t, 5, 56)
	killedAttempt(t, args)
	t.Setenv("AWS_ENDPOINT_URL_STS", unreachableSTS)
	got := runCLI(t, "", append(slices.Clone(args), "--resume")...)
	if got.code != int(exitOK) {
		t.Fatalf("exit %d, want 0\n%s", got.code, got.stderr)
	}
	for _, s := range falseRefusals {
		if strings.Contains(got.stderr, s) {
			t.Errorf("stderr says %q\n%s", s, got.stderr)
		}
	}
	// attemptsRun's fleet.
	managed := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 5, Size: 56}).ManagedIDs()
	checkNamedRecord(t, out, ssmsim.DefaultAccountID, 56, managed)
}

// TestResumeOfARunInErrorWithSTSOutOfReach: a first run that learnt its
// account and ended with instances in error (exit 3, its run.json
// written), resumed while STS is out of reach, was refused (exit 2): "the
// targets name account 123456789012 ... leave out the list's account_id
// column", of a plain list of IDs. The account came from run.json, and
// the run, not knowing whose these credentials are, took it for another
// account's. The resume retries the instances in error under it.
func TestResumeOfARunInErrorWithSTSOutOfReach(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 8, Size: 20})
	var ids bytes.Buffer
	fleet.WriteIDs(&ids)
	list := writeFile(t, "ids.txt", ids.String())
	sim := ssmsim.NewServer(fleet, ssmsim.Options{})
	// The first attempt: SSM fails every call for some instances.
	broken := strings.Fields(ids.String())[:5]
	var failing atomic.Bool
	failing.Store(true)
	url := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if failing.Load() && strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".DescribeInstanceAssociationsStatus") &&
			slices.ContainsFunc(broken, func(id string) bool { return bytes.Contains(body, []byte(`"`+id+`"`)) }) {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"__type":"InternalServerError","message":"broken for this instance"}`)
			return
		}
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(url.Close)
	t.Setenv("AWS_ENDPOINT_URL_STS", url.URL)
	out := filepath.Join(t.TempDir(), "run")
	args := []string{"run", "--instances", list, "--endpoint-url", url.URL, "--region", "us-east-1", "--out", out,
		"--concurrency", "2", "--max-attempts", "1", "--fail-on", "none", "--quiet"}
	if got := runCLI(t, "", args...); got.code != int(exitIncomplete) {
		t.Fatalf("first run: exit %d, want %d\n%s", got.code, exitIncomplete, got.stderr)
	}

	failing.Store(false)
	t.Setenv("AWS_ENDPOINT_URL_STS", unreachableSTS)
	got := runCLI(t, "", append(slices.Clone(args), "--resume")...)
	if got.code != int(exitOK) {
		t.Fatalf("exit %d, want 0\n%s", got.code, got.stderr)
	}
	for _, s := range falseRefusals {
		if strings.Contains(got.stderr, s) {
			t.Errorf("stderr says %q\n%s", s, got.stderr)
		}
	}
	rs, err := audit.OpenRecords(filepath.Join(out, audit.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	latest := map[string]audit.Outcome{}
	rs.Each(func(r audit.Result) error {
		latest[r.InstanceID] = r.Outcome
		return nil
	})
	rs.Close()
	for _, id := range broken {
		if latest[id] == audit.OutcomeError {
			t.Errorf("%s is still in error after the resume", id)
		}
	}
	ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	if ri.Caller != ssmsim.DefaultAccountID {
		t.Errorf("run.json: caller_account %q, want the record's %s", ri.Caller, ssmsim.DefaultAccountID)
	}
}

// TestResumeOfANamedRecordWithSTSOutOfReach: a record whose rows name
// an account, resumed while STS is out of reach, cannot be told this
// account's by STS. SSM tells: with the credentials of the account the
// rows name, the resume completes the record under it; with another
// account's, whose SSM knows none of the instances the record audited, it
// is refused (exit 2) before the audit, saying that STS could not be
// reached, not that the record is of other targets. A record that holds
// no verdict (not_managed alone) shows nothing until STS answers: that
// resume is refused, and says to resume then.
func TestResumeOfANamedRecordWithSTSOutOfReach(t *testing.T) {
	const ownKey = "AKIAPRODUCTIONKEY001"
	accounts := ssmsim.DefaultAccounts(2, 1)
	accounts[1].AccessKeys = []string{ownKey}
	member := accounts[1].ID
	org, srv, _ := serveOrgOf(t, ssmsim.OrgConfig{
		Seed:     4,
		Accounts: accounts,
		Regions:  []ssmsim.Region{{Name: "us-east-1"}, {Name: "af-south-1", OptIn: true}},
		Fleet:    ssmsim.FleetConfig{Size: 12, BaseTime: time.Now().UTC().Truncate(time.Minute)},
	}, ssmsim.Faults{})
	t.Setenv("AWS_ENDPOINT_URL_STS", unreachableSTS)
	managed := org.Fleet(member, "us-east-1").ManagedIDs()
	if len(managed) < 6 {
		t.Fatalf("the member account has %d managed instances, want 6 or more", len(managed))
	}
	ids := writeFile(t, "ids.txt", strings.Join(managed, "\n")+"\n")
	// The first attempt, killed before its run.json: it learnt the
	// member account, and its results name it.
	record := func(outcome audit.Outcome) string { return killedRecord(t, member, ids, managed[:3], outcome) }
	args := func(out string) []string {
		return []string{"run", "--resume", "--instances", ids, "--region", "us-east-1", "--out", out, "--quiet", "--fail-on", "none"}
	}

	t.Run("another account's credentials", func(t *testing.T) {
		out := record(audit.OutcomeNoAssociations)
		before := srv.Stats().Calls[ssmsim.OpDescribeInstanceAssociationsStatus]
		got := runCLI(t, "", args(out)...) // the management account's keys
		if got.code != int(exitUsage) || !strings.Contains(got.stderr, member) || !strings.Contains(got.stderr, managed[0]) ||
			!strings.Contains(got.stderr, "STS") || !strings.Contains(got.stderr, unreachableSTS) {
			t.Errorf("exit %d, want 2 naming account %s, instance %s and STS at %s\n%s", got.code, member, managed[0], unreachableSTS, got.stderr)
		}
		for _, s := range falseRefusals {
			if strings.Contains(got.stderr, s) {
				t.Errorf("stderr says %q\n%s", s, got.stderr)
			}
		}
		refusedAsItWas(t, srv, before, out)
	})
	t.Run("its own account's credentials", func(t *testing.T) {
		t.Setenv("AWS_ACCESS_KEY_ID", ownKey)
		out := record(audit.OutcomeNoAssociations)
		got := runCLI(t, "", args(out)...)
		if got.code != int(exitOK) {
			t.Fatalf("exit %d, want 0\n%s", got.code, got.stderr)
		}
		checkNamedRecord(t, out, member, len(managed), managed)
	})
	t.Run("a record of no verdict", func(t *testing.T) {
		// not_managed is said of an instance in any account that does
		// not manage it: nothing shows these credentials are the
		// record's account's until STS answers.
		t.Setenv("AWS_ACCESS_KEY_ID", ownKey)
		out := record(audit.OutcomeNotManaged)
		got := runCLI(t, "", args(out)...)
		if got.code != int(exitUsage) || !strings.Contains(got.stderr, member) || !strings.Contains(got.stderr, unreachableSTS) ||
			!strings.Contains(got.stderr, "once STS answers") {
			t.Errorf("exit %d, want 2 naming account %s, STS at %s and what to do\n%s", got.code, member, unreachableSTS, got.stderr)
		}
		for _, s := range falseRefusals {
			if strings.Contains(got.stderr, s) {
				t.Errorf("stderr says %q\n%s", s, got.stderr)
			}
		}
	})
}
