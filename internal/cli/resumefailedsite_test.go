package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestResumeOfAFailedSite: a --discover run whose account-regions failed
// (a role refused, a listing broken part way) is resumed while they still
// fail, sooner than before or as before, and then once they work. Every
// time, run.json and the closing lines count each instance of the record
// once: the targets are the record's instances and those found now, the
// resumed ones are the record's verdicts taken as they are, the audited
// ones those this attempt asked SSM about, and a site that failed again is
// reported as failed again.
func TestResumeOfAFailedSite(t *testing.T) {
	accounts := ssmsim.DefaultAccounts(3, 1)
	cfg := func(refuse bool) ssmsim.OrgConfig {
		accounts := append([]ssmsim.Account(nil), accounts...)
		if refuse {
			accounts[2].Roles = []ssmsim.Role{{Name: "AuditRole", Refuse: true}}
		}
		return ssmsim.OrgConfig{
			Seed:     1,
			Accounts: accounts,
			Regions:  []ssmsim.Region{{Name: "us-east-1"}, {Name: "eu-west-1"}, {Name: "af-south-1", OptIn: true}},
			Fleet:    ssmsim.FleetConfig{Size: 70, BaseTime: time.Now().UTC().Truncate(time.Minute)},
		}
	}
	org, refusing, _ := serveOrgOf(t, cfg(true), ssmsim.Faults{})
	_, willing, _ := serveOrgOf(t, cfg(false), ssmsim.Faults{})

	// In front of the simulator: eu-west-1's listing breaks after its
	// first page (partWay) or at once (atOnce), and, while failAudits is
	// set, the first two nodes audited there end in error.
	const (
		works = iota
		partWay
		atOnce
	)
	var (
		mu         sync.Mutex
		listing    = partWay
		srv        = refusing
		failAudits = true
		failing    = map[string]bool{}
	)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		var in struct{ InstanceId, NextToken string }
		json.Unmarshal(body, &in)
		op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonSSM.")
		mu.Lock()
		fail := false
		if strings.Contains(r.Header.Get("Authorization"), "/eu-west-1/") {
			switch op {
			case ssmsim.OpDescribeInstanceInformation:
				fail = listing == atOnce || listing == partWay && in.NextToken != ""
			case ssmsim.OpDescribeInstanceAssociationsStatus:
				if failAudits && (failing[in.InstanceId] || len(failing) < 2) {
					failing[in.InstanceId], fail = true, true
				}
			}
		}
		s := srv
		mu.Unlock()
		if fail {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"__type":"InternalServerError","message":"eu-west-1 is broken"}`)
			return
		}
		s.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	t.Setenv("AWS_ENDPOINT_URL", hs.URL)

	fleet := 0 // the managed nodes of the account-regions the run covers
	for _, a := range []ssmsim.Account{accounts[0], accounts[2]} {
		for _, region := range []string{"us-east-1", "eu-west-1"} {
			fleet += len(org.Fleet(a.ID, region).ManagedIDs())
		}
	}
	out := filepath.Join(t.TempDir(), "out")
	args := []string{"run", "--accounts", accounts[0].ID + "," + accounts[2].ID, "--role-name", "AuditRole",
		"--regions", "us-east-1,eu-west-1", "--discover", "--region", "us-east-1", "--max-attempts", "1",
		"--format", "csv", "--fail-on", "none", "--out", out}
	// check runs an attempt and compares what run.json and the closing
	// lines say with the record it leaves and with what is known of it:
	// how many instances the record should hold, how many of them this
	// attempt audited and took from earlier ones, how many are in error,
	// and how many account-regions failed this time.
	check := func(name string, a []string, wantRows, audited, resumed, errors, failedSites int) {
		t.Helper()
		got := runCLI(t, "", a...)
		want := int(exitIncomplete)
		if failedSites+errors == 0 {
			want = 0
		}
		if got.code != want {
			t.Fatalf("%s: exit %d, want %d\n%s", name, got.code, want, got.stderr)
		}
		rec := recordKeys(t, out)
		ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
		if err != nil {
			t.Fatal(err)
		}
		inError, total, failed := 0, 0, 0
		for _, oc := range rec {
			if oc == audit.OutcomeError {
				inError++
			}
		}
		for _, n := range ri.Outcomes {
			total += n
		}
		for _, s := range ri.Sites {
			if s.Error != nil {
				failed++
			}
		}
		if len(rec) != wantRows || inError != errors {
			t.Fatalf("%s: the record holds %d instances, %d in error; want %d, %d", name, len(rec), inError, wantRows, errors)
		}
		if ri.Targets != wantRows || ri.Parts[0].Targets != wantRows || total != wantRows || ri.Outcomes[audit.OutcomeError] != errors {
			t.Errorf("%s: run.json counts %d targets (its part %d), %d outcomes, %d in error; want the record's %d instances, %d in error (the fleet: %d)",
				name, ri.Targets, ri.Parts[0].Targets, total, ri.Outcomes[audit.OutcomeError], wantRows, errors, fleet)
		}
		if ri.Resumed != resumed {
			t.Errorf("%s: run.json resumed %d, want %d", name, ri.Resumed, resumed)
		}
		if failed != failedSites {
			t.Errorf("%s: run.json has %d account-regions failed, want %d", name, failed, failedSites)
		}
		// "audited 116 of 118 instances" when some got no verdict.
		head := fmt.Sprintf("audited (\\d+ of )?%s in ", plural(audited, "instance"))
		if !regexp.MustCompile(head).MatchString(got.stderr) {
			t.Errorf("%s: the closing lines do not say %q:\n%s", name, head, got.stderr)
		}
		from := fmt.Sprintf(", %d from earlier runs:", resumed)
		if says := strings.Contains(got.stderr, from); says != (resumed > 0) {
			t.Errorf("%s: the closing lines say %q: %v, want %v:\n%s", name, from, says, resumed > 0, got.stderr)
		}
		// eu-west-1 failing part way is listed in part.
		if n := strings.Count(got.stderr, " could not be audited: ") + strings.Count(got.stderr, " listed in part: ") + strings.Count(got.stderr, " stopped part way: "); n != failedSites {
			t.Errorf("%s: the closing lines name %d account-regions not audited, listed in part or stopped part way, want %d:\n%s", name, n, failedSites, got.stderr)
		}
	}
	set := func(l int, fa bool, s *ssmsim.Server) {
		mu.Lock()
		listing, failAudits, srv = l, fa, s
		mu.Unlock()
	}
	us := len(org.Fleet(accounts[0].ID, "us-east-1").ManagedIDs())
	eu := len(org.Fleet(accounts[0].ID, "eu-west-1").ManagedIDs())
	const page = 50 // the nodes of a listing's first page
	if eu <= page {
		t.Fatalf("eu-west-1 has %d managed nodes, want more than a page of %d", eu, page)
	}
	resume := slices.Concat(args, []string{"--resume"})

	// The refused account's two regions and eu-west-1 fail; eu-west-1's
	// first page is audited, two of its nodes in error.
	check("first run", args, us+page, us+page, 0, 2, 3)
	// eu-west-1 now fails before it lists a node: its results stand, the
	// two in error among them, and nothing is audited.
	set(atOnce, false, refusing)
	check("resumed, failing sooner", resume, us+page, 0, us+page-2, 2, 3)
	// eu-west-1 fails as before: the two in error are audited again.
	set(partWay, false, refusing)
	check("resumed, failing as before", resume, us+page, 2, us+page-2, 0, 3)
	// Everything works: the rest of the fleet is audited.
	set(works, false, willing)
	check("resumed, working", resume, fleet, fleet-us-page, us+page, 0, 0)
}

// TestResumeOfAnAccountNowRefused: with --regions all, an account whose
// role is refused by the time the run is resumed cannot have its regions
// listed. Its results in the record are the run's all the same, not
// another audit's: the resume reports the account as not audited (exit 3)
// and takes its results as they are.
func TestResumeOfAnAccountNowRefused(t *testing.T) {
	accounts := ssmsim.DefaultAccounts(3, 1)
	cfg := func(refuse bool) ssmsim.OrgConfig {
		accounts := slices.Clone(accounts)
		if refuse {
			accounts[2].Roles = []ssmsim.Role{{Name: "AuditRole", Refuse: true}}
		}
		return ssmsim.OrgConfig{
			Seed:     1,
			Accounts: accounts,
			Regions:  []ssmsim.Region{{Name: "us-east-1"}, {Name: "eu-west-1"}, {Name: "af-south-1", OptIn: true}},
			Fleet:    ssmsim.FleetConfig{Size: 20, BaseTime: time.Now().UTC().Truncate(time.Minute)},
		}
	}
	serveOrgOf(t, cfg(false), ssmsim.Faults{})
	out := filepath.Join(t.TempDir(), "out")
	args := []string{"run", "--accounts", accounts[0].ID + "," + accounts[2].ID, "--role-name", "AuditRole", "--regions", "all", "--discover",
		"--region", "us-east-1", "--format", "csv", "--fail-on", "none", "--out", out}
	if got := runCLI(t, "", args...); got.code != 0 {
		t.Fatalf("exit %d, want 0\n%s", got.code, got.stderr)
	}
	rows := len(recordKeys(t, out))

	serveOrgOf(t, cfg(true), ssmsim.Faults{})
	got := runCLI(t, "", append(args, "--resume")...)
	if got.code != int(exitIncomplete) {
		t.Fatalf("--resume: exit %d, want %d (the account not audited)\n%s", got.code, exitIncomplete, got.stderr)
	}
	ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(recordKeys(t, out)); n != rows || ri.Targets != rows || ri.Resumed != rows {
		t.Errorf("--resume: %d results, run.json: targets %d, resumed %d; want the first run's %d each", n, ri.Targets, ri.Resumed, rows)
	}
	refused := slices.ContainsFunc(ri.Sites, func(s audit.SiteStats) bool {
		return s.AccountID == accounts[2].ID && s.Region == audit.AllRegions && s.Error != nil && s.Error.Code == "AccessDenied"
	})
	if !refused {
		t.Errorf("--resume: run.json sites %+v; want %s refused with AccessDenied in every region", ri.Sites, accounts[2].ID)
	}
	checkSays(t, got.stderr, []string{"audited 0 instances in ", fmt.Sprintf(", %d from earlier runs:", rows), accounts[2].ID + " " + audit.AllRegions + " could not be audited: AccessDenied"}, nil)
}
