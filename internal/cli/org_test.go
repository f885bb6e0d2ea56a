package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/awsconn"
	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
)

// serveOrg serves an organisation of three active accounts (and a suspended
// one) whose third account's AuditRole refuses, with fleets in us-east-1
// and eu-west-1, and points every AWS service at it.
func serveOrg(t *testing.T, size int) (*ssmsim.Org, *ssmsim.Server, []ssmsim.Account) {
	t.Helper()
	accounts := ssmsim.DefaultAccounts(3, 1)
	accounts[2].Roles = []ssmsim.Role{{Name: "AuditRole", Refuse: true}}
	org, srv, _ := serveOrgOf(t, ssmsim.OrgConfig{
		Seed:     1,
		Accounts: accounts,
		Regions:  []ssmsim.Region{{Name: "us-east-1"}, {Name: "eu-west-1"}, {Name: "af-south-1", OptIn: true}},
		Fleet:    ssmsim.FleetConfig{Size: size, BaseTime: time.Now().UTC().Truncate(time.Minute)},
	}, ssmsim.Faults{})
	return org, srv, accounts
}

// serveOrgOf serves the organisation cfg describes, with faults, as its
// management account's keys, and points every AWS service at it; it
// returns the organisation, its server and its URL.
func serveOrgOf(t *testing.T, cfg ssmsim.OrgConfig, faults ssmsim.Faults) (*ssmsim.Org, *ssmsim.Server, string) {
	t.Helper()
	return serveOrgWith(t, cfg, ssmsim.Options{Faults: faults})
}

// serveOrgWith is serveOrgOf with the server's other options (its Org is
// cfg's).
func serveOrgWith(t *testing.T, cfg ssmsim.OrgConfig, opts ssmsim.Options) (*ssmsim.Org, *ssmsim.Server, string) {
	t.Helper()
	org, err := ssmsim.NewOrg(cfg)
	if err != nil {
		t.Fatal(err)
	}
	opts.Org = org
	srv := ssmsim.NewServer(nil, opts)
	url, stop, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	isolateAWS(t, "AKIAORGMANAGEMENT001")
	t.Setenv("AWS_ENDPOINT_URL", url)
	return org, srv, url
}

// TestOrganisation: --accounts org --role-name --regions all --discover
// audits every managed node of the accounts whose role can be assumed, with
// every field as served and the account IDs and names filled in; the
// account whose role refuses is reported with STS's code, and the run goes
// on (exit 3). --triage gives the same verdicts with fewer calls, and
// --split-by tag:Team labels each node with its Team tag, read with the
// role of its account.
func TestOrganisation(t *testing.T) {
	org, srv, accounts := serveOrg(t, 30)
	args := []string{"run", "--accounts", "org", "--role-name", "AuditRole", "--regions", "all", "--discover",
		"--region", "us-east-1", "--fail-on", "none", "--quiet"}
	verdicts := map[audit.Key]audit.Outcome{}
	var calls [2]int64
	// What summary.json counts of the associations, without and with
	// --triage: the same fleet, the same counts.
	type assocCounts struct {
		Totals struct {
			Associations int `json:"associations"`
			FromOverview int `json:"from_overview"`
		} `json:"totals"`
		Statuses []report.NameCount `json:"statuses"`
	}
	var counted [2]assocCounts
	for i, extra := range [][]string{nil, {"--triage", "--split-by", "tag:Team"}} {
		srv.ResetStats()
		out := filepath.Join(t.TempDir(), "out")
		got := runCLI(t, "", append(append(args, extra...), "--out", out)...)
		if got.code != 3 {
			t.Fatalf("%v: exit %d, want 3 (one account refused)\n%s", extra, got.code, got.stderr)
		}
		calls[i] = srv.Stats().Calls[ssmsim.OpDescribeInstanceAssociationsStatus]
		pages := srv.Stats().Calls[ssmsim.OpDescribeInstanceInformation]
		ri, err := audit.ReadRunInfo(filepath.Join(out, "run.json"))
		if err != nil {
			t.Fatal(err)
		}
		refused := false
		seenSite := map[[2]string]bool{}
		for _, s := range ri.Sites {
			if k := [2]string{s.AccountID, s.Region}; seenSite[k] {
				t.Errorf("run.json names account-region %v twice in sites", k)
			} else {
				seenSite[k] = true
			}
			if s.AccountID == accounts[2].ID && s.Error != nil && s.Error.Code == "AccessDenied" {
				refused = true
			}
		}
		if !refused || ri.Caller != accounts[0].ID {
			t.Errorf("run.json: caller %q, sites %+v; want the caller %s and %s refused with AccessDenied", ri.Caller, ri.Sites, accounts[0].ID, accounts[2].ID)
		}
		// The reports name the refused account too: no count there covers it.
		var summary struct {
			Run struct{ Unaudited []report.Site } `json:"run"`
		}
		if b, err := os.ReadFile(filepath.Join(out, report.SummaryFile)); err != nil {
			t.Fatal(err)
		} else if err := json.Unmarshal(b, &summary); err != nil {
			t.Fatal(err)
		} else if err := json.Unmarshal(b, &counted[i]); err != nil {
			t.Fatal(err)
		}
		if u := summary.Run.Unaudited; len(u) != 1 || u[0].AccountID != accounts[2].ID || u[0].Region != "" || u[0].Code != "AccessDenied" {
			t.Errorf("summary.json run.unaudited %+v, want %s in every region (\"\") with AccessDenied", u, accounts[2].ID)
		}
		if html, _ := os.ReadFile(filepath.Join(out, report.HTMLFile)); !bytes.Contains(html, []byte("account "+accounts[2].ID)) {
			t.Errorf("report.html does not name the refused account %s", accounts[2].ID)
		}
		rs, err := audit.OpenRecords(filepath.Join(out, "results.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		seen, detailed := 0, 0 // detailed: the pages of detail served
		rs.Each(func(r audit.Result) error {
			seen++
			if r.Detail != audit.DetailOverview {
				detailed += r.Pages
			}
			if i == 0 {
				verdicts[r.Key()] = r.Outcome
			} else if verdicts[r.Key()] != r.Outcome {
				t.Errorf("%v with --triage: %s, %s without", r.Key(), r.Outcome, verdicts[r.Key()])
			}
			truth := org.Fleet(r.AccountID, r.Region)
			if truth == nil || !truth.Managed(r.InstanceID) {
				t.Errorf("%v is not a managed node of the organisation", r.Key())
				return nil
			}
			if r.Info == nil || r.Info.PingStatus == "" {
				t.Errorf("%v: no instance information", r.Key())
			}
			if in, _ := truth.Instance(r.InstanceID); i == 1 && r.Labels["tag:Team"] != in.Tags["Team"] {
				t.Errorf("%v: label tag:Team %q, want its tag's %q", r.Key(), r.Labels["tag:Team"], in.Tags["Team"])
			}
			if name := r.Labels["account_name"]; r.AccountID != accounts[0].ID && name == "" {
				t.Errorf("%v: no account name", r.Key())
			}
			if r.Detail == audit.DetailOverview {
				return nil
			}
			want := truth.Associations(r.InstanceID)
			if len(r.Associations) != len(want) {
				t.Errorf("%v: %d associations, want %d", r.Key(), len(r.Associations), len(want))
				return nil
			}
			for k, a := range r.Associations {
				w := want[k]
				sameDate := a.ExecutionDate == nil && w.ExecutionDate.IsZero() || a.ExecutionDate != nil && a.ExecutionDate.Equal(w.ExecutionDate)
				if a.AssociationID != w.AssociationID || a.Status != w.Status || a.ErrorCode != w.ErrorCode || !sameDate {
					t.Errorf("%v association %d: %+v, want %+v", r.Key(), k, a, w)
				}
			}
			return nil
		})
		rs.Close()
		managed := 0
		for _, ar := range org.FleetRegions() {
			if ar.Account != accounts[2].ID {
				managed += len(org.Fleet(ar.Account, ar.Region).ManagedIDs())
			}
		}
		if seen != managed {
			t.Errorf("%v: %d results, want every managed node of the reachable accounts: %d", extra, seen, managed)
		}
		// The capacity model's count: a page of discovery per 50 nodes of
		// each reachable account-region (one for an empty one), and with
		// --triage only the detail of the nodes whose overview does not
		// show all succeeded.
		wantPages, sites := int64(0), 0
		for _, st := range ri.Sites {
			if st.Error == nil {
				wantPages += int64(max(1, (st.Discovered+49)/50))
				sites++
			}
		}
		if pages != wantPages {
			t.Errorf("%v: %d DescribeInstanceInformation calls, want %d (a page per 50 nodes in %d account-regions)", extra, pages, wantPages, sites)
		}
		if calls[i] != int64(detailed) {
			t.Errorf("%v: %d DescribeInstanceAssociationsStatus calls, want %d, the pages of the nodes not summarised from their overview", extra, calls[i], detailed)
		}
	}
	if calls[1] >= calls[0] {
		t.Errorf("--triage made %d DescribeInstanceAssociationsStatus calls, a full run %d: want fewer", calls[1], calls[0])
	}
	// A node summarised from its overview counts its associations from
	// the overview: the totals and statuses are those of the full run.
	full, triaged := counted[0], counted[1]
	if triaged.Totals.FromOverview == 0 {
		t.Errorf("--triage summarised no node from its overview: nothing compared")
	}
	if triaged.Totals.Associations != full.Totals.Associations || !slices.Equal(triaged.Statuses, full.Statuses) {
		t.Errorf("summary.json with --triage: %d associations, statuses %v; without: %d, %v",
			triaged.Totals.Associations, triaged.Statuses, full.Totals.Associations, full.Statuses)
	}
}

// TestListNamesAnotherAccount: a CSV list whose account_id names an account
// other than the caller's, with no role to reach it, is refused before any
// SSM call (its instances would all come back not managed).
func TestListNamesAnotherAccount(t *testing.T) {
	_, srv, accounts := serveOrg(t, 10)
	list := writeFile(t, "fleet.csv", fmt.Sprintf("instance_id,account_id\ni-0123456789abcdef0,%s\ni-0123456789abcdef1,%s\n", accounts[0].ID, accounts[1].ID))
	got := runCLI(t, "", "run", "--instances", list, "--region", "us-east-1", "--out", filepath.Join(t.TempDir(), "o"))
	if got.code != 2 || !strings.Contains(got.stderr, accounts[1].ID) || !strings.Contains(got.stderr, "--role-name") {
		t.Errorf("exit %d, want 2 naming %s and --role-name\n%s", got.code, accounts[1].ID, got.stderr)
	}
	if n := srv.Stats().Calls[ssmsim.OpDescribeInstanceAssociationsStatus]; n != 0 {
		t.Errorf("%d SSM calls before the refusal, want none", n)
	}
}

// TestListedNodesOfARefusingAccount: listed nodes of an account whose role
// refuses are in the record as error, with STS's code, beside the audited
// nodes of the other account; the run exits 3 and the reports name the
// account.
func TestListedNodesOfARefusingAccount(t *testing.T) {
	org, _, accounts := serveOrg(t, 10)
	var rows strings.Builder
	rows.WriteString("instance_id,account_id,region\n")
	want := map[string]audit.Outcome{}
	for _, a := range []ssmsim.Account{accounts[1], accounts[2]} {
		for _, id := range org.Fleet(a.ID, "us-east-1").ManagedIDs()[:3] {
			fmt.Fprintf(&rows, "%s,%s,us-east-1\n", id, a.ID)
			want[a.ID+"/"+id] = ""
		}
	}
	list := writeFile(t, "fleet.csv", rows.String())
	// With --tag-labels too: the refused role is the account-region's
	// failure, not a permission to read tags that the whole run lacks.
	for _, extra := range [][]string{nil, {"--tag-labels", "Team"}} {
		t.Run(strings.Join(append([]string{"listed"}, extra...), " "), func(t *testing.T) {
			listedOfARefusingAccount(t, org, accounts, list, maps.Clone(want), extra)
		})
	}
}

func listedOfARefusingAccount(t *testing.T, org *ssmsim.Org, accounts []ssmsim.Account, list string, want map[string]audit.Outcome, extra []string) {
	out := filepath.Join(t.TempDir(), "o")
	got := runCLI(t, "", append([]string{"run", "--instances", list, "--role-name", "AuditRole", "--region", "us-east-1", "--fail-on", "none", "--quiet", "--out", out}, extra...)...)
	if got.code != 3 {
		t.Fatalf("exit %d, want 3 (one account refused)\n%s", got.code, got.stderr)
	}
	rs, err := audit.OpenRecords(filepath.Join(out, audit.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	rs.Each(func(r audit.Result) error {
		k := r.AccountID + "/" + r.InstanceID
		if _, ok := want[k]; !ok {
			t.Errorf("%s: not a listed node", k)
			return nil
		}
		delete(want, k)
		refused := r.AccountID == accounts[2].ID
		switch {
		case refused && (r.Outcome != audit.OutcomeError || r.Error == nil || r.Error.Code != "AccessDenied"):
			t.Errorf("%s of the refusing account: %s %+v, want error with AccessDenied", k, r.Outcome, r.Error)
		case !refused && r.Outcome == audit.OutcomeError:
			t.Errorf("%s of a reachable account: error %+v", k, r.Error)
		}
		return nil
	})
	if len(want) > 0 {
		t.Errorf("listed nodes with no result: %v", want)
	}
	if html, _ := os.ReadFile(filepath.Join(out, report.HTMLFile)); !bytes.Contains(html, []byte("account "+accounts[2].ID)) {
		t.Errorf("report.html does not name the refused account %s", accounts[2].ID)
	}
}

// TestReadAccountsFile: a file of accounts as Windows tools save it (a
// byte-order mark, CRLF) is read; one whose names are not UTF-8 is refused
// naming the line and the name, since each name becomes the account_name
// label and two names read with U+FFFD for their Latin-1 bytes would be
// one.
func TestReadAccountsFile(t *testing.T) {
	tests := []struct {
		name, input string
		want        []awsconn.Account
		wantErr     string
	}{
		{
			name:  "byte-order mark, comments and CRLF",
			input: "\ufeff111111111111,Prüfung\r\n# test\r\n\r\n222222222222\r\n",
			want:  []awsconn.Account{{ID: "111111111111", Name: "Prüfung"}, {ID: "222222222222"}},
		},
		{
			name:    "a name that is not UTF-8",
			input:   "111111111111,prod\n222222222222,Pr\xfcfung\n333333333333,Pr\xf6fung\n",
			wantErr: `accounts.txt:2: name "Pr\xfcfung": not UTF-8`,
		},
		{
			// What Windows PowerShell 5's > writes; its bytes were
			// echoed raw, as an ID that is not 12 digits.
			name:    "UTF-16 LE with a byte-order mark",
			input:   utf16Text("\ufeff111111111111,prod\r\n", false),
			wantErr: `accounts.txt:1: UTF-16 text: save the file as UTF-8`,
		},
		{
			name:    "UTF-16 BE with a byte-order mark",
			input:   utf16Text("\ufeff111111111111,prod\r\n", true),
			wantErr: `accounts.txt:1: UTF-16 text: save the file as UTF-8`,
		},
		{
			// Older Excel for Mac's "CSV": all lines were one, told as
			// one of too many fields.
			name:    "old Mac line ends",
			input:   "account_id,name\r111111111111,prod\r222222222222,dev\r",
			wantErr: `accounts.txt:1: "account_id,name\r111111111111,prod\r222222222222,dev": contains a carriage return (\r): lines must end in \n or \r\n`,
		},
		{
			// Two lines, one a name: the second line is in the name.
			name:    "old Mac line ends, one name",
			input:   "111111111111,prod\r222222222222\r",
			wantErr: `accounts.txt:1: "111111111111,prod\r222222222222": contains a carriage return (\r): lines must end in \n or \r\n`,
		},
		{
			// A carriage return in the empty columns after the name,
			// left aside as they are, was read by the previous release:
			// no refusal.
			name:  "a carriage return among the empty columns",
			input: "111111111111,prod,\r,\n",
			want:  []awsconn.Account{{ID: "111111111111", Name: "prod"}},
		},
		{
			name:    "UTF-16 LE without a byte-order mark",
			input:   utf16Text("111111111111,prod\r\n", false),
			wantErr: `accounts.txt:1: UTF-16 text: save the file as UTF-8`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAccounts(writeFile(t, "accounts.txt", tt.input))
			if tt.wantErr != "" {
				var ue *usageError
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("readAccounts: %v, want a usage error (exit 2) saying %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("readAccounts = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// utf16Text returns s encoded as UTF-16, little-endian or big-endian.
func utf16Text(s string, bigEndian bool) string {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		if bigEndian {
			b = append(b, byte(u>>8), byte(u))
		} else {
			b = append(b, byte(u), byte(u>>8))
		}
	}
	return string(b)
}

// TestDiscoveryShardsMerge: discovery split into more shards than there are
// account-regions leaves some shards with nothing to audit; each still
// writes its (empty) record, so that a merge naming every shard's record,
// as deploy/'s merge jobs do, finds them all and is complete.
func TestDiscoveryShardsMerge(t *testing.T) {
	serveOrg(t, 10)
	root := t.TempDir()
	const n = 8
	var records []string
	for k := range n {
		out := filepath.Join(root, fmt.Sprintf("shard-%d", k))
		got := runCLI(t, "", "run", "--accounts", "org", "--role-name", "AuditRole", "--regions", "us-east-1,eu-west-1", "--discover",
			"--region", "us-east-1", "--fail-on", "none", "--quiet", "--shard", fmt.Sprintf("%d/%d", k, n), "--out", out)
		if got.code != 0 && got.code != 3 && got.code != 4 { // 4: its only account refuses the role
			t.Fatalf("shard %d: exit %d\n%s", k, got.code, got.stderr)
		}
		records = append(records, filepath.Join(out, "results.jsonl"))
	}
	empty := 0
	for _, r := range records {
		if st, err := os.Stat(r); err != nil {
			t.Errorf("a shard left no record: %v", err)
		} else if st.Size() == 0 {
			empty++
		}
	}
	if empty == 0 {
		t.Fatalf("every one of %d shards had something to audit: a test of nothing", n)
	}
	out := filepath.Join(root, "all")
	got := runCLI(t, "", append(append([]string{"report"}, records...), "--out", out, "--quiet", "--fail-on", "none")...)
	ri, err := audit.ReadRunInfo(filepath.Join(out, "run.json"))
	if err != nil {
		t.Fatalf("merge: exit %d, %v\n%s", got.code, err, got.stderr)
	}
	if strings.Contains(ri.Error, "lacks shard") {
		t.Errorf("the merge of every shard: %q", ri.Error)
	}
}

// TestListedNodesGetAccountNames: listed instances of an organisation's
// accounts carry the account_name label, as discovered nodes do, so that
// --split-by account_name gives each account its reports.
func TestListedNodesGetAccountNames(t *testing.T) {
	org, _, accounts := serveOrg(t, 10)
	var rows strings.Builder
	rows.WriteString("instance_id,account_id,region\n")
	for _, id := range org.Fleet(accounts[1].ID, "us-east-1").ManagedIDs()[:3] {
		fmt.Fprintf(&rows, "%s,%s,us-east-1\n", id, accounts[1].ID)
	}
	list := writeFile(t, "fleet.csv", rows.String())
	out := filepath.Join(t.TempDir(), "o")
	got := runCLI(t, "", "run", "--instances", list, "--accounts", "org", "--role-name", "AuditRole", "--region", "us-east-1",
		"--fail-on", "none", "--quiet", "--out", out)
	if got.code != 0 {
		t.Fatalf("exit %d\n%s", got.code, got.stderr)
	}
	rs, err := audit.OpenRecords(filepath.Join(out, audit.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	n := 0
	rs.Each(func(r audit.Result) error {
		n++
		if r.Labels["account_name"] != accounts[1].Name || accounts[1].Name == "" {
			t.Errorf("%s: account_name %q, want %q", r.InstanceID, r.Labels["account_name"], accounts[1].Name)
		}
		return nil
	})
	if n != 3 {
		t.Errorf("%d results, want 3", n)
	}
}

// TestOrgWithoutActiveAccount: --accounts org audits the organisation's
// ACTIVE accounts, and only them. An organisation that lists none (an
// answer the auditor does not read right, as when Organizations retired
// Status) stops the run with exit 4 before any SSM call, saying what
// ListAccounts listed, instead of auditing the caller's account alone and
// calling that complete; one whose only ACTIVE account is the caller's is
// that account's audit. A file of accounts that names none is refused
// (exit 2) rather than taken for the caller's account.
func TestOrgWithoutActiveAccount(t *testing.T) {
	tests := []struct {
		name       string
		management string // the caller's account's State
		accounts   string // --accounts
		extra      []string
		wantCode   exitCode
		wantStderr []string
	}{
		{name: "no account ACTIVE", management: ssmsim.AccountPendingClosure, accounts: "org", wantCode: exitFatal,
			wantStderr: []string{"--accounts org", "3 accounts", "none of them ACTIVE", "PENDING_CLOSURE 1", "SUSPENDED 1", "CLOSED 1"}},
		{name: "the caller's account the only ACTIVE one", management: ssmsim.AccountActive, accounts: "org", wantCode: exitOK},
		{name: "a file of no accounts", management: ssmsim.AccountActive, accounts: writeFile(t, "accounts.txt", "# none yet\n"), wantCode: exitUsage,
			wantStderr: []string{"accounts.txt", "no account"}},
		// Comma-separated, as its help says; leaving nothing to audit.
		{name: "every account excluded", management: ssmsim.AccountActive, accounts: "org", extra: []string{"--exclude-accounts", ssmsim.DefaultAccountID + ",222222222222"},
			wantCode: exitFatal, wantStderr: []string{"--exclude-accounts", "every one of the 1 account"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			org, srv, _ := serveOrgOf(t, ssmsim.OrgConfig{
				Seed: 1,
				Accounts: []ssmsim.Account{
					{ID: ssmsim.DefaultAccountID, Name: "Management", State: tt.management},
					{ID: "222222222222", Name: "Gone", State: ssmsim.AccountSuspended},
					{ID: "333333333333", Name: "Closed", State: ssmsim.AccountClosed},
				},
				Regions: []ssmsim.Region{{Name: "us-east-1"}},
				Fleet:   ssmsim.FleetConfig{Size: 10, UnmanagedFraction: -1},
			}, ssmsim.Faults{})
			out := filepath.Join(t.TempDir(), "out")
			got := runCLI(t, "", append([]string{"run", "--accounts", tt.accounts, "--role-name", "AuditRole", "--discover", "--region", "us-east-1",
				"--fail-on", "none", "--quiet", "--out", out}, tt.extra...)...)
			if got.code != int(tt.wantCode) {
				t.Fatalf("exit %d, want %d\n%s", got.code, tt.wantCode, got.stderr)
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(got.stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, got.stderr)
				}
			}
			calls := srv.Stats().Calls
			if tt.wantCode != exitOK {
				if n := calls[ssmsim.OpDescribeInstanceInformation] + calls[ssmsim.OpDescribeInstanceAssociationsStatus]; n != 0 {
					t.Errorf("%d SSM calls, want none", n)
				}
				return
			}
			rec := recordKeys(t, out)
			want := org.Fleet(ssmsim.DefaultAccountID, "us-east-1").ManagedIDs()
			if len(rec) != len(want) || len(want) == 0 {
				t.Errorf("%d results, want one for each of the caller's %d managed nodes", len(rec), len(want))
			}
		})
	}
}
