package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestBaselineOfNoKnownAccount: a run whose STS was out of reach records
// no account; the next run of the same list with another account's
// credentials took it for --baseline previous, which skips the runs of
// another account, and compared two accounts' fleets. Such a run is not
// known to be of this run's account: previous skips it, and a --baseline
// named of it is compared with a warning.
func TestBaselineOfNoKnownAccount(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 21, Size: 20})
	var b bytes.Buffer
	fleet.WriteIDs(&b)
	ids := writeFile(t, "ids.txt", b.String())
	root := t.TempDir()
	run := func(account, out string, extra ...string) cliResult {
		t.Helper()
		url, _ := serve(t, fleet, ssmsim.Options{AccountID: account})
		if account == "" {
			t.Setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:1") // out of reach
		}
		got := runCLI(t, "", append([]string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1",
			"--fail-on", "none", "--quiet", "--out", filepath.Join(root, out)}, extra...)...)
		if got.code != 0 {
			t.Fatalf("%s: exit %d\n%s", out, got.code, got.stderr)
		}
		time.Sleep(10 * time.Millisecond)
		return got
	}
	run("", "mon")
	if ri, err := audit.ReadRunInfo(filepath.Join(root, "mon", audit.RunFile)); err != nil || ri.Caller != "" {
		t.Fatalf("mon: caller %q, %v; want none: the test checks nothing", ri.Caller, err)
	}
	got := run("222222222222", "tue", "--baseline", "previous")
	if base := baselineIn(t, filepath.Join(root, "tue")); base != "" {
		t.Errorf("account 222222222222 compared with %s, a run of no known account", base)
	}
	if !strings.Contains(got.stderr, "skipped "+filepath.Join(root, "mon")) {
		t.Errorf("no warning says the run of no known account was skipped:\n%s", got.stderr)
	}
	got = run("222222222222", "named", "--baseline", filepath.Join(root, "mon"))
	if base := baselineIn(t, filepath.Join(root, "named")); base == "" {
		t.Errorf("the --baseline named was not compared with")
	}
	if !strings.Contains(got.stderr, "no account") {
		t.Errorf("no warning says the --baseline named records no account:\n%s", got.stderr)
	}
}

// TestMergeOfNoKnownAccount: a merge of a list's record with a record of
// the same instances whose run could not learn its account (STS out of
// reach) counted every instance twice, as two accounts' (40 instances
// of 20), complete, exit 0. It is refused, exit 2, saying which records
// and what to do; records of other instances still merge.
func TestMergeOfNoKnownAccount(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 21, Size: 20})
	var b bytes.Buffer
	fleet.WriteIDs(&b)
	ids := writeFile(t, "ids.txt", b.String())
	other := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 22, Size: 5})
	b.Reset()
	other.WriteIDs(&b)
	otherIDs := writeFile(t, "other.txt", b.String())
	root := t.TempDir()
	run := func(f *ssmsim.Fleet, list, account, out string) string {
		t.Helper()
		url, _ := serve(t, f, ssmsim.Options{AccountID: account})
		if account == "" {
			t.Setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:1") // out of reach
		}
		dir := filepath.Join(root, out)
		if got := runCLI(t, "", "run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1",
			"--fail-on", "none", "--quiet", "--out", dir); got.code != 0 {
			t.Fatalf("%s: exit %d\n%s", out, got.code, got.stderr)
		}
		return filepath.Join(dir, audit.ResultsFile)
	}
	known := run(fleet, ids, "111111111111", "known")
	otherKnown := run(other, otherIDs, "111111111111", "other")
	unknown := run(fleet, ids, "", "unknown")
	got := runCLI(t, "", "report", known, unknown, "--out", filepath.Join(root, "merged"), "--fail-on", "none")
	if got.code != 2 || !strings.Contains(got.stderr, "no account") || !strings.Contains(got.stderr, "20 instances") {
		t.Errorf("merge of one list with and without its account: exit %d, want 2 saying 20 instances name no account\n%s", got.code, got.stderr)
	}
	if _, err := os.Stat(filepath.Join(root, "merged", audit.ResultsFile)); err == nil {
		t.Errorf("the refused merge wrote a record")
	}
	// Instances of no known account that no other record holds merge.
	got = runCLI(t, "", "report", otherKnown, unknown, "--out", filepath.Join(root, "apart"), "--fail-on", "none")
	if got.code != 0 || !strings.Contains(got.stderr, "25 instances") {
		t.Errorf("merge of two lists, one of no known account: exit %d, want 0 with 25 instances\n%s", got.code, got.stderr)
	}
}

// TestQuietSaysAccountUnknown: under --quiet, a run whose STS was out of
// reach said nothing of writing a record that names no account (which a
// merge or --baseline previous then treats apart); --quiet is for progress,
// and the other warnings were said. It is a warning, said under --quiet.
func TestQuietSaysAccountUnknown(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	t.Setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:1") // out of reach
	got := runCLI(t, "", "run", "--instance-id", "i-0123456789abcdef0", "--endpoint-url", url, "--region", "us-east-1",
		"--fail-on", "none", "--quiet", "--out", filepath.Join(t.TempDir(), "out"))
	if got.code != 0 || !strings.Contains(got.stderr, "warning: cannot tell which account") {
		t.Errorf("exit %d, want 0 with a warning that the account is unknown\n%s", got.code, got.stderr)
	}
}

// TestBaselineOfAnotherAccountLeavesNothing: a --baseline of another
// account is refused (exit 2) once STS has said whose the credentials are,
// after the output directory was made: a refused run left a new --out
// holding only its lock. A directory the refused run made is removed; one
// that was there before stays as it was.
func TestBaselineOfAnotherAccountLeavesNothing(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	root := t.TempDir()
	run := func(account, out string, extra ...string) cliResult {
		t.Helper()
		url, _ := serve(t, handFleet(false), ssmsim.Options{AccountID: account})
		return runCLI(t, "", append([]string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1",
			"--fail-on", "none", "--quiet", "--out", filepath.Join(root, out)}, extra...)...)
	}
	if got := run("111111111111", "theirs"); got.code != 0 {
		t.Fatalf("theirs: exit %d\n%s", got.code, got.stderr)
	}
	got := run("222222222222", "mine", "--baseline", filepath.Join(root, "theirs"))
	if got.code != 2 || !strings.Contains(got.stderr, "two accounts") {
		t.Fatalf("a baseline of another account: exit %d, want 2 saying so\n%s", got.code, got.stderr)
	}
	if _, err := os.Lstat(filepath.Join(root, "mine")); !os.IsNotExist(err) {
		entries, _ := os.ReadDir(filepath.Join(root, "mine"))
		t.Errorf("the refused run left its new --out (%v): %v", err, entries)
	}
	// A directory that was there before the refused run stays.
	kept := filepath.Join(root, "kept")
	if err := os.Mkdir(kept, 0o777); err != nil {
		t.Fatal(err)
	}
	if got := run("222222222222", "kept", "--baseline", filepath.Join(root, "theirs")); got.code != 2 {
		t.Fatalf("kept: exit %d, want 2\n%s", got.code, got.stderr)
	}
	if _, err := os.Stat(kept); err != nil {
		t.Errorf("the refused run removed a directory it did not make: %v", err)
	}
}
