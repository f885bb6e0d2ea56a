package cli

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestHomeRegion: with no region configured (no --region, AWS_REGION or
// profile region), the calls that belong to no one region (STS,
// Organizations, AssumeRole, EC2's DescribeRegions) go to a region the run
// names anyway: the first of --regions, the list's first, the partition's
// of --role-arn. They were sent with none: the README's organisation run
// stopped with exit 4 (the caller's account unknown), and a list's
// results named no account. Where nothing names a region (--regions all
// alone), the run is refused before any call (exit 2), as a run without
// a region for its targets is.
func TestHomeRegion(t *testing.T) {
	org, srv, accounts := serveOrg(t, 10)
	mgmt, refusing := accounts[0].ID, accounts[2].ID
	var rows strings.Builder
	rows.WriteString("instance_id,region\n")
	for _, id := range org.Fleet(mgmt, "eu-west-1").ManagedIDs() {
		fmt.Fprintf(&rows, "%s,eu-west-1\n", id)
	}
	list := writeFile(t, "fleet.csv", rows.String())
	tests := []struct {
		name      string
		args      []string
		want      exitCode
		wantSites int      // account-regions in run.json
		wantInErr []string // for a refusal
	}{
		{name: "--regions LIST", args: []string{"--accounts", "org", "--role-name", "AuditRole", "--regions", "eu-west-1,us-east-1", "--discover", "--exclude-accounts", refusing},
			want: exitOK, wantSites: 4},
		{name: "--regions all, --role-arn of the aws partition", args: []string{"--accounts", "org", "--role-arn", "arn:aws:iam::{account}:role/AuditRole", "--regions", "all", "--discover", "--exclude-accounts", refusing},
			want: exitOK, wantSites: 5}, // the first member opted in to af-south-1
		{name: "a list with a region column", args: []string{"--instances", list}, want: exitOK, wantSites: 1},
		{name: "--regions all alone, in an organisation", args: []string{"--accounts", "org", "--role-name", "AuditRole", "--regions", "all", "--discover"},
			want: exitUsage, wantInErr: []string{"--regions all", "--region", "AWS_REGION"}},
		{name: "--regions all alone", args: []string{"--discover", "--regions", "all"},
			want: exitUsage, wantInErr: []string{"--regions all", "--region", "AWS_REGION"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.ResetStats()
			out := filepath.Join(t.TempDir(), "out")
			got := runCLI(t, "", append([]string{"run", "--fail-on", "none", "--quiet", "--out", out}, tt.args...)...)
			if got.code != int(tt.want) {
				t.Fatalf("exit %d, want %d\n%s", got.code, tt.want, got.stderr)
			}
			for _, w := range tt.wantInErr {
				if !strings.Contains(got.stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, got.stderr)
				}
			}
			if tt.want != exitOK {
				if n := srv.Stats().Requests; n != 0 {
					t.Errorf("%d requests before the refusal, want none", n)
				}
				return
			}
			ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
			if err != nil {
				t.Fatal(err)
			}
			if ri.Caller != mgmt || len(ri.Sites) != tt.wantSites {
				t.Errorf("run.json: caller %q, %d sites %+v; want %s, %d sites", ri.Caller, len(ri.Sites), ri.Sites, mgmt, tt.wantSites)
			}
			rs, err := audit.OpenRecords(filepath.Join(out, audit.ResultsFile))
			if err != nil {
				t.Fatal(err)
			}
			defer rs.Close()
			var accountless []string
			rs.Each(func(r audit.Result) error {
				if r.AccountID == "" {
					accountless = append(accountless, r.InstanceID)
				}
				return nil
			})
			if rs.Len() == 0 || len(accountless) > 0 {
				t.Errorf("%d results, %d of them without an account: %v", rs.Len(), len(accountless), accountless)
			}
		})
	}
}

// TestListOfAnotherAccountWhenSTSFails: a list that names another account,
// with no role, when STS cannot say whose the credentials are, is refused
// saying so: the refusal read "these credentials are account 's" and
// "a role that account  may assume".
func TestListOfAnotherAccountWhenSTSFails(t *testing.T) {
	_, srv, accounts := serveOrg(t, 10)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	t.Setenv("AWS_ENDPOINT_URL_STS", closed)
	list := writeFile(t, "fleet.csv", fmt.Sprintf("instance_id,account_id,region\ni-0123456789abcdef0,%s,us-east-1\n", accounts[1].ID))
	got := runCLI(t, "", "run", "--instances", list, "--max-attempts", "1", "--quiet", "--out", filepath.Join(t.TempDir(), "o"))
	if got.code != int(exitUsage) || !strings.Contains(got.stderr, accounts[1].ID) || !strings.Contains(got.stderr, "sts:GetCallerIdentity") ||
		strings.Contains(got.stderr, "account 's") || strings.Contains(got.stderr, "account  ") {
		t.Errorf("exit %d, want 2 naming %s and why the caller's account is unknown\n%s", got.code, accounts[1].ID, got.stderr)
	}
	if n := srv.Stats().Calls[ssmsim.OpDescribeInstanceAssociationsStatus]; n != 0 {
		t.Errorf("%d SSM calls before the refusal, want none", n)
	}
}

// TestCallerRefusedBySTS: STS that answers, and refuses the credentials,
// was reported as STS unreachable ("let the run reach STS (a VPC
// endpoint for it, ...)", exit 2) for a list naming another account, and
// its message reached the terminal as it came, bidi controls and all. The
// credentials are said to be refused (exit 4, as the run's own refused
// credentials are), in the service's words made plain; a run that needs
// no account warns in those words, made plain.
func TestCallerRefusedBySTS(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, srv := serve(t, handFleet(false), ssmsim.Options{})
	sts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>`+
			"<Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.\u202eevil</Message>"+
			`</Error><RequestId>8a0b2f4e-0000-4000-8000-000000000000</RequestId></ErrorResponse>`)
	}))
	t.Cleanup(sts.Close)
	t.Setenv("AWS_ENDPOINT_URL_STS", sts.URL)
	tests := []struct {
		name      string
		list      string
		args      []string
		want      exitCode
		says, not string
	}{
		{"list of another account", "instance_id,account_id,region\ni-0123456789abcdef0,111122223333,us-east-1\n", nil, exitFatal,
			"the credentials were refused", "let the run reach STS"},
		{"with a role", "instance_id,account_id,region\ni-0123456789abcdef0,111122223333,us-east-1\n", []string{"--role-name", "AuditRole"}, exitFatal,
			"the credentials were refused", "let the run reach STS"},
		{"list of the caller's account", "i-0123456789abcdef0\n", nil, exitOK,
			"cannot tell which account these credentials belong to", "let the run reach STS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := srv.Stats().Calls[ssmsim.OpDescribeInstanceAssociationsStatus]
			list := writeFile(t, "fleet.csv", tt.list)
			got := runCLI(t, "", append([]string{"run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--max-attempts", "1",
				"--out", filepath.Join(t.TempDir(), "o")}, tt.args...)...)
			if got.code != int(tt.want) || !strings.Contains(got.stderr, tt.says) || !strings.Contains(got.stderr, "InvalidClientTokenId") ||
				strings.Contains(got.stderr, tt.not) {
				t.Errorf("exit %d, want %d saying %q in STS's words, not %q\n%s", got.code, tt.want, tt.says, tt.not, got.stderr)
			}
			assertPlain(t, got.stderr)
			if n := srv.Stats().Calls[ssmsim.OpDescribeInstanceAssociationsStatus] - before; tt.want == exitFatal && n != 0 {
				t.Errorf("%d SSM calls before the refusal, want none", n)
			}
		})
	}
}
