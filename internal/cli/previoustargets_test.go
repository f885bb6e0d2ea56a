package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestPreviousOfTheSameFileElsewhere: a weekly run took an ad-hoc run of
// its --instances file in another region (or with an --instance-id added)
// for the run before it: every instance was gone and new, every failure
// new. The same file is the same list only for the same regions,
// accounts and instance IDs; a --baseline named of such a run is compared,
// with a warning that it covers other targets.
func TestPreviousOfTheSameFileElsewhere(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids, url, _ := scheduledFleet(t, 20)
	root := t.TempDir()
	args := []string{"run", "--instances", ids, "--endpoint-url", url, "--fail-on", "none", "--quiet"}
	run := func(out string, extra ...string) cliResult {
		t.Helper()
		got := runCLI(t, "", append(append(args, "--out", filepath.Join(root, out)), extra...)...)
		if got.code != 0 {
			t.Fatalf("%s: exit %d\n%s", out, got.code, got.stderr)
		}
		time.Sleep(10 * time.Millisecond)
		return got
	}
	run("week1", "--region", "us-east-1")
	run("adhoc-eu", "--region", "eu-west-1")
	run("adhoc-id", "--region", "us-east-1", "--instance-id", "i-0fffffffffffffff0")
	run("week2", "--region", "us-east-1", "--baseline", "previous")
	if got, want := baselineIn(t, filepath.Join(root, "week2")), filepath.Join(root, "week1", audit.ResultsFile); got != want {
		t.Errorf("week2 compared with %q, want %q (the runs of the same file elsewhere skipped)", got, want)
	}
	for _, other := range []string{"adhoc-eu", "adhoc-id"} {
		got := run("named-"+other, "--region", "us-east-1", "--baseline", filepath.Join(root, other))
		if !strings.Contains(got.stderr, "covers other targets") {
			t.Errorf("--baseline %s: no warning that it covers other targets:\n%s", other, got.stderr)
		}
	}
}

// TestPreviousOfAnOldRunOfAnotherList: on the day of an upgrade, the runs
// beside --out have a run.json from before runs recorded their files;
// --baseline previous took the latest of them, a run of another list.
// Their list's digest is all there is to know them by.
func TestPreviousOfAnOldRunOfAnotherList(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids, url, _ := scheduledFleet(t, 20)
	other := writeFile(t, "other.txt", "i-0123456789abcdef0\n")
	root := t.TempDir()
	args := []string{"run", "--endpoint-url", url, "--region", "us-east-1", "--fail-on", "none", "--quiet"}
	run := func(out, list string, extra ...string) {
		t.Helper()
		got := runCLI(t, "", append(append(args, "--instances", list, "--out", filepath.Join(root, out)), extra...)...)
		if got.code != 0 {
			t.Fatalf("%s: exit %d\n%s", out, got.code, got.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// forget makes run.json one of the release before: no files named.
	forget := func(out string) {
		t.Helper()
		p := filepath.Join(root, out, audit.RunFile)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		delete(m["options"].(map[string]any), "instances")
		if b, err = json.Marshal(m); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run("week1", ids)
	forget("week1")
	run("other-team", other)
	forget("other-team")
	run("week2", ids, "--baseline", "previous")
	if got, want := baselineIn(t, filepath.Join(root, "week2")), filepath.Join(root, "week1", audit.ResultsFile); got != want {
		t.Errorf("week2 compared with %q, want %q (the other list's run skipped)", got, want)
	}
}

// TestBaselineOfAMergeOfTwoAccounts: a --baseline named of a merge of two
// accounts' runs of the same list file holds the other account's
// instances too, all of them gone; its parts are of the same list, and no
// warning said it covers other targets.
func TestBaselineOfAMergeOfTwoAccounts(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids, _, _ := scheduledFleet(t, 20)
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 21, Size: 20})
	root := t.TempDir()
	run := func(account, out string, extra ...string) cliResult {
		t.Helper()
		url, _ := serve(t, fleet, ssmsim.Options{AccountID: account})
		got := runCLI(t, "", append([]string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1",
			"--fail-on", "none", "--quiet", "--out", filepath.Join(root, out)}, extra...)...)
		if got.code != 0 {
			t.Fatalf("%s: exit %d\n%s", out, got.code, got.stderr)
		}
		return got
	}
	run("111111111111", "a")
	run("222222222222", "b")
	if got := runCLI(t, "", "report", filepath.Join(root, "a", audit.ResultsFile), filepath.Join(root, "b", audit.ResultsFile),
		"--out", filepath.Join(root, "both"), "--fail-on", "none", "--quiet"); got.code != 0 {
		t.Fatalf("merge: exit %d\n%s", got.code, got.stderr)
	}
	got := run("111111111111", "next", "--baseline", filepath.Join(root, "both"))
	if !strings.Contains(got.stderr, "covers other targets") {
		t.Errorf("--baseline of a merge of two accounts' runs: no warning that it covers other targets:\n%s", got.stderr)
	}
}
