package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestRepeatedAccountsAndRegions: an account or a region named twice, in
// --accounts, an accounts file or --regions, is one account-region: each of
// its managed nodes is audited once and the run is complete (it was listed
// once a repetition, its nodes audited as many times and the run called
// incomplete forever). A file that names one account twice with two names
// is refused naming the line, as its other bad lines are: which name wins
// cannot be told.
func TestRepeatedAccountsAndRegions(t *testing.T) {
	org, _, accounts := serveOrg(t, 10)
	a := accounts[1].ID
	tests := []struct {
		name       string
		args       []string
		wantCode   exitCode
		wantStderr []string
	}{
		{name: "an account and a region twice", args: []string{"--accounts", a + "," + a, "--regions", "us-east-1,us-east-1"}},
		{name: "a region twice", args: []string{"--accounts", a, "--regions", "us-east-1, us-east-1"}},
		{name: "a file naming an account twice with its name", args: []string{
			"--accounts", writeFile(t, "accounts.txt", a+",Production\n"+a+",Production\n"+a+"\n"), "--regions", "us-east-1"}},
		{name: "a file naming an account twice with two names", args: []string{
			"--accounts", writeFile(t, "accounts.txt", a+",Production\n# \n"+a+",Prod\n"), "--regions", "us-east-1"},
			wantCode: exitUsage, wantStderr: []string{"accounts.txt:3:", a, `"Prod"`, `"Production"`, "line 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			got := runCLI(t, "", append([]string{"run", "--role-name", "AuditRole", "--discover", "--region", "us-east-1",
				"--fail-on", "none", "--quiet", "--out", out}, tt.args...)...)
			if got.code != int(tt.wantCode) {
				t.Fatalf("exit %d, want %d\n%s", got.code, tt.wantCode, got.stderr)
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(got.stderr, w) {
					t.Errorf("stderr does not say %s:\n%s", w, got.stderr)
				}
			}
			if tt.wantCode != exitOK {
				return
			}
			ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
			if err != nil {
				t.Fatal(err)
			}
			if len(ri.Sites) != 1 {
				t.Errorf("run.json: %d sites %+v, want the one account-region", len(ri.Sites), ri.Sites)
			}
			rs, err := audit.OpenRecords(filepath.Join(out, audit.ResultsFile))
			if err != nil {
				t.Fatal(err)
			}
			defer rs.Close()
			n := 0
			rs.Each(func(audit.Result) error { n++; return nil })
			want := len(org.Fleet(a, "us-east-1").ManagedIDs())
			if n != want || want == 0 {
				t.Errorf("%d results, want one for each of the %d managed nodes", n, want)
			}
		})
	}
}

// TestEmptyAccountsOrRegions: --accounts or --regions that name nothing, as
// from an empty shell variable (--accounts "$IDS," or ","), are refused
// (exit 2) before any call, as a file of no accounts is, instead of
// auditing the caller's account or --region alone and calling that
// complete.
func TestEmptyAccountsOrRegions(t *testing.T) {
	_, srv, accounts := serveOrg(t, 10)
	tests := []struct {
		name, want string
		args       []string
	}{
		{name: "--accounts ,", want: "--accounts \",\": names no account", args: []string{"--accounts", ",", "--regions", "us-east-1"}},
		{name: "--accounts blank", want: "names no account", args: []string{"--accounts", " , ", "--regions", "us-east-1"}},
		{name: "--regions ,", want: "--regions \",\": names no region", args: []string{"--accounts", accounts[1].ID, "--regions", ","}},
		// "$ACCOUNTS" and "$REGIONS" of empty variables.
		{name: "--accounts empty", want: "--accounts \"\": names no account", args: []string{"--accounts", "", "--regions", "us-east-1"}},
		{name: "--regions empty", want: "--regions \"\": names no region", args: []string{"--accounts", accounts[1].ID, "--regions="}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.ResetStats()
			got := runCLI(t, "", append([]string{"run", "--role-name", "AuditRole", "--discover", "--region", "us-east-1",
				"--fail-on", "none", "--quiet", "--out", filepath.Join(t.TempDir(), "out")}, tt.args...)...)
			if got.code != int(exitUsage) || !strings.Contains(got.stderr, tt.want) {
				t.Errorf("exit %d, want %d saying %s\n%s", got.code, exitUsage, tt.want, got.stderr)
			}
			if n := srv.Stats().Calls[ssmsim.OpDescribeInstanceInformation]; n != 0 {
				t.Errorf("%d DescribeInstanceInformation calls, want none", n)
			}
		})
	}
}

// TestEmptyAccountsInTheInputFile: a --cli-input-json file made from the
// skeleton keeps "accounts": "" for an option left unset, as the AWS CLI's
// do: that is not a list naming no account.
func TestEmptyAccountsInTheInputFile(t *testing.T) {
	serveOrg(t, 10)
	input := writeFile(t, "options.json", `{"accounts": "", "regions": ""}`)
	got := runCLI(t, "", "run", "--cli-input-json", input, "--discover", "--region", "us-east-1",
		"--fail-on", "none", "--quiet", "--out", filepath.Join(t.TempDir(), "out"))
	if got.code != int(exitOK) {
		t.Errorf("exit %d, want 0\n%s", got.code, got.stderr)
	}
}

// TestEmptyAccountsOverTheEnvironment: --accounts= on the command line
// over an AUDITOR_ACCOUNTS says "not these": the option unset, the
// caller's account, as before such an empty value was refused.
func TestEmptyAccountsOverTheEnvironment(t *testing.T) {
	_, _, accounts := serveOrg(t, 10)
	t.Setenv("AUDITOR_ACCOUNTS", accounts[1].ID)
	got := runCLI(t, "", "run", "--accounts=", "--discover", "--region", "us-east-1",
		"--fail-on", "none", "--quiet", "--out", filepath.Join(t.TempDir(), "out"))
	if got.code != int(exitOK) {
		t.Errorf("exit %d, want 0\n%s", got.code, got.stderr)
	}
	// Over the --cli-input-json file's, the same.
	t.Setenv("AUDITOR_ACCOUNTS", "")
	input := writeFile(t, "options.json", `{"accounts": "`+accounts[1].ID+`"}`)
	got = runCLI(t, "", "run", "--cli-input-json", input, "--accounts=", "--discover", "--region", "us-east-1",
		"--fail-on", "none", "--quiet", "--out", filepath.Join(t.TempDir(), "out"))
	if got.code != int(exitOK) {
		t.Errorf("over the file: exit %d, want 0\n%s", got.code, got.stderr)
	}
	// A file's null is no value (the file alone refuses it): an empty
	// --accounts over it names no account, as over nothing.
	input = writeFile(t, "null.json", `{"accounts": null}`)
	got = runCLI(t, "", "run", "--cli-input-json", input, "--accounts=", "--discover", "--region", "us-east-1",
		"--fail-on", "none", "--quiet", "--out", filepath.Join(t.TempDir(), "out"))
	if got.code != int(exitUsage) || !strings.Contains(got.stderr, "names no account") {
		t.Errorf("over a null: exit %d, want 2 naming no account\n%s", got.code, got.stderr)
	}
}
