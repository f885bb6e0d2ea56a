package cli

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
)

// weekFleet is a fleet of two instances: i-…a0 with one association,
// i-…b0 with two, whose second is in status (with code when Failed).
func weekFleet(status, code string) *ssmsim.Fleet {
	f := ssmsim.NewFleet(ssmsim.FleetConfig{})
	d := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	assoc := func(id, inst, name, status, code string) ssmsim.Association {
		a := ssmsim.Association{AssociationID: id, Name: name, InstanceID: inst, Status: status, DetailedStatus: status, ExecutionDate: d}
		if status == "Failed" {
			a.ErrorCode, a.DetailedStatus = code, "Failed"
		}
		return a
	}
	f.Add(ssmsim.Instance{InstanceID: "i-0123456789abcdea0", Associations: []ssmsim.Association{
		assoc("aaaaaaaa-0000-0000-0000-000000000001", "i-0123456789abcdea0", "AWS-RunPatchBaseline", "Success", ""),
	}})
	f.Add(ssmsim.Instance{InstanceID: "i-0123456789abcdeb0", Associations: []ssmsim.Association{
		assoc("bbbbbbbb-0000-0000-0000-000000000001", "i-0123456789abcdeb0", "AWS-RunPatchBaseline", "Success", ""),
		assoc("bbbbbbbb-0000-0000-0000-000000000002", "i-0123456789abcdeb0", "AWS-UpdateSSMAgent", status, code),
	}})
	return f
}

// changeKinds returns the change column of dir's changes.csv, row by row.
func changeKinds(t *testing.T, dir string) []string {
	t.Helper()
	rows, err := readCSV(filepath.Join(dir, "changes.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, r := range rows[1:] {
		kinds = append(kinds, r[0])
	}
	return kinds
}

// TestErrorRunBetweenTwoWeeks: an instance in error one week (here more
// pages than --max-pages) hid its changes the week after: its first
// failure was "0 new failures", --fail-on new exited 0. The week after the
// error run compares it with what was last known of it; the error week
// says the instance was not compared.
func TestErrorRunBetweenTwoWeeks(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids := writeFile(t, "ids.txt", "i-0123456789abcdea0\ni-0123456789abcdeb0\n")
	dir := t.TempDir()
	week1, week2, week3 := filepath.Join(dir, "week1"), filepath.Join(dir, "week2"), filepath.Join(dir, "week3")
	args := func(url, out string, more ...string) []string {
		return append([]string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet"}, more...)
	}
	url, _ := serve(t, weekFleet("Success", ""), ssmsim.Options{})
	if got := runCLI(t, "", args(url, week1)...); got.code != 0 {
		t.Fatalf("week 1: exit %d\n%s", got.code, got.stderr)
	}
	// One association a page, one page an instance: the instance of two
	// ends in error.
	got := runCLI(t, "", args(url, week2, "--baseline", week1, "--max-results", "1", "--max-pages", "1", "--fail-on", "new")...)
	if got.code == 0 || !strings.Contains(got.stderr, "1 not compared (error in one run)") {
		t.Errorf("week 2, one instance in error: exit %d, want not 0 and the summary to say it was not compared\n%s", got.code, got.stderr)
	}
	url, _ = serve(t, weekFleet("Failed", "ExecutionError"), ssmsim.Options{})
	got = runCLI(t, "", args(url, week3, "--baseline", week2, "--fail-on", "new")...)
	if got.code != 1 {
		t.Errorf("week 3, a new failure after the error run: exit %d with --fail-on new, want 1\n%s", got.code, got.stderr)
	}
	if kinds := changeKinds(t, week3); len(kinds) != 1 || kinds[0] != "new_failure" {
		t.Errorf("week 3: changes %v, want one new_failure", kinds)
	}
	if !strings.Contains(got.stderr, "1 new failure,") {
		t.Errorf("week 3's summary does not say the new failure:\n%s", got.stderr)
	}
}

// TestErrorCodeChangeIsAChange: ExecutionError, then TimedOut, on the same
// association read as the same failure: changes.csv had only the code now,
// and --mail-when changes did not mail. The change carries both codes,
// the summary says it, the run is mailed, and --fail-on new is not failed.
func TestErrorCodeChangeIsAChange(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids := writeFile(t, "ids.txt", "i-0123456789abcdea0\ni-0123456789abcdeb0\n")
	dir := t.TempDir()
	week1, week2 := filepath.Join(dir, "week1"), filepath.Join(dir, "week2")
	args := func(url, out string, more ...string) []string {
		return append([]string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet"}, more...)
	}
	url, _ := serve(t, weekFleet("Failed", "ExecutionError"), ssmsim.Options{})
	if got := runCLI(t, "", args(url, week1, "--fail-on", "none")...); got.code != 0 {
		t.Fatalf("week 1: exit %d\n%s", got.code, got.stderr)
	}
	url, _ = serve(t, weekFleet("Failed", "TimedOut"), ssmsim.Options{})
	got := runCLI(t, "", args(url, week2, "--baseline", week1, "--fail-on", "new")...)
	if got.code != 0 {
		t.Errorf("week 2, another error code: exit %d with --fail-on new, want 0 (not a new failure)\n%s", got.code, got.stderr)
	}
	if !strings.Contains(got.stderr, "1 still failing (1 with another error code)") {
		t.Errorf("the summary does not say the error code changed:\n%s", got.stderr)
	}
	rows, err := readCSV(filepath.Join(week2, "changes.csv"))
	if err != nil {
		t.Fatal(err)
	}
	col := slices.Index(rows[0], "error_code_before")
	if col < 0 || len(rows) != 2 || rows[1][0] != "still_failing" || rows[1][col] != "ExecutionError" || rows[1][slices.Index(rows[0], "error_code")] != "TimedOut" {
		t.Errorf("changes.csv %q, want one still_failing, TimedOut, before ExecutionError", rows)
	}
	ri, err := audit.ReadRunInfo(filepath.Join(week2, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	dl := &delivery{d: &deliveryOptions{mailWhen: mailChanges}, logf: func(string, ...any) {}}
	if due, why := dl.mailDue(ri, week2); !due {
		t.Errorf("--mail-when changes: not due (%s), want due for the changed error code", why)
	}
}

// TestShardWithAWholeBaseline: a shard compared with a whole run of its
// list said the other shard's instances were gone, and a whole run compared
// with a shard said the other shard's were new, their failures new, and
// failed --fail-on new. Only the instances both runs cover are compared;
// the rest are said not compared.
func TestShardWithAWholeBaseline(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids, url, _ := scheduledFleet(t, 40)
	dir := t.TempDir()
	args := func(out string, more ...string) []string {
		return append([]string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", filepath.Join(dir, out), "--quiet"}, more...)
	}
	if got := runCLI(t, "", args("whole", "--fail-on", "none")...); got.code != 0 {
		t.Fatalf("whole run: exit %d\n%s", got.code, got.stderr)
	}
	if got := runCLI(t, "", args("shard", "--shard", "0/2", "--fail-on", "none")...); got.code != 0 {
		t.Fatalf("shard run: exit %d\n%s", got.code, got.stderr)
	}
	for _, tc := range []struct {
		name, out string
		more      []string
	}{
		{"a shard with a whole baseline", "shard-vs-whole", []string{"--shard", "0/2", "--baseline", filepath.Join(dir, "whole")}},
		{"a whole run with a shard baseline", "whole-vs-shard", []string{"--baseline", filepath.Join(dir, "shard")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := runCLI(t, "", args(tc.out, append(tc.more, "--fail-on", "new")...)...)
			if got.code != 0 {
				t.Errorf("exit %d with --fail-on new, want 0: nothing is new\n%s", got.code, got.stderr)
			}
			for _, k := range changeKinds(t, filepath.Join(dir, tc.out)) {
				if k != "still_failing" {
					t.Errorf("changes.csv has a %s: the fleet did not change", k)
				}
			}
			if !strings.Contains(got.stderr, "not compared (another shard)") {
				t.Errorf("the summary does not say the other shard's instances were not compared:\n%s", got.stderr)
			}
			// auditor mail compares the run again, as the run did.
			src, err := openMailSource(filepath.Join(dir, tc.out), filepath.Join(dir, tc.out))
			if err != nil {
				t.Fatal(err)
			}
			defer src.close()
			res, err := audit.Compare(src.base.Records(), src.rs, func(audit.Change) error { return nil })
			if err != nil || res.Counts[audit.VanishedInstance]+res.Counts[audit.NewInstance]+res.Counts[audit.NewFailure] != 0 {
				t.Errorf("compared again for the mail: %v, %v; want no instance new or gone, no new failure", res.Counts, err)
			}
		})
	}
}

// TestBaselineOfAnotherList: a --baseline of another list is compared as
// it is (its instances not in this list are gone), with a warning, once,
// that it covers other targets.
func TestBaselineOfAnotherList(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids := writeFile(t, "ids.txt", "i-0123456789abcdea0\ni-0123456789abcdeb0\n")
	other := writeFile(t, "other.txt", "i-0123456789abcdea0\n")
	dir := t.TempDir()
	url, _ := serve(t, weekFleet("Success", ""), ssmsim.Options{})
	run := func(list, out string, more ...string) cliResult {
		return runCLI(t, "", append([]string{"run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", filepath.Join(dir, out), "--quiet"}, more...)...)
	}
	if got := run(ids, "week1"); got.code != 0 {
		t.Fatalf("week 1: exit %d\n%s", got.code, got.stderr)
	}
	got := run(other, "other", "--baseline", filepath.Join(dir, "week1"))
	if n := strings.Count(got.stderr, "covers other targets"); n != 1 {
		t.Errorf("a baseline of another list: warned %d times, want once\n%s", n, got.stderr)
	}
	if kinds := changeKinds(t, filepath.Join(dir, "other")); !slices.Equal(kinds, []string{"vanished_instance"}) {
		t.Errorf("changes %v, want the other list's instance gone, as before", kinds)
	}
	// The same list: no warning.
	if got := run(ids, "week2", "--baseline", filepath.Join(dir, "week1")); strings.Contains(got.stderr, "covers other targets") {
		t.Errorf("a baseline of the same list warned:\n%s", got.stderr)
	}
}

// TestGroupMailOfAShard: a --split-by group's mail compares the group
// again with its part of the baseline; that part was opened without the
// shards the baseline covers (nor the run's), so the mail of a shard
// compared with a whole run listed the other shard's instances of the
// group as gone, and of a whole run compared with a shard as new, though
// the group's reports said "not compared (another shard)".
func TestGroupMailOfAShard(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	// One group, its instances in both shards of two.
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{})
	csvList := "instance_id,owner,owner_email\n"
	shards := map[int]int{}
	d := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	for i := range 8 {
		id := fmt.Sprintf("i-%017x", i+1)
		shards[audit.PartOf(id, 2)]++
		fleet.Add(ssmsim.Instance{InstanceID: id, Associations: []ssmsim.Association{
			{AssociationID: fmt.Sprintf("%08d-1111-1111-1111-111111111111", i), Name: "AWS-RunPatchBaseline", InstanceID: id, Status: "Failed", DetailedStatus: "Failed", ExecutionDate: d},
		}})
		csvList += id + ",alice,alice@example.com\n"
	}
	if shards[0] == 0 || shards[1] == 0 {
		t.Fatalf("the fleet's instances by shard: %v, want some in each", shards)
	}
	shard := 0
	url, _ := serve(t, fleet, ssmsim.Options{})
	list := writeFile(t, "fleet.csv", csvList)
	dir := t.TempDir()
	run := func(out string, more ...string) {
		t.Helper()
		args := append([]string{"run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", filepath.Join(dir, out), "--quiet", "--fail-on", "none", "--split-by", "owner"}, more...)
		if got := runCLI(t, "", args...); got.code != 0 {
			t.Fatalf("%s: exit %d\n%s", out, got.code, got.stderr)
		}
	}
	sh := fmt.Sprintf("%d/2", shard)
	run("whole")
	run("shard", "--shard", sh)
	run("shard-vs-whole", "--shard", sh, "--baseline", filepath.Join(dir, "whole"))
	run("whole-vs-shard", "--baseline", filepath.Join(dir, "shard"))
	for _, out := range []string{"shard-vs-whole", "whole-vs-shard"} {
		t.Run(out, func(t *testing.T) {
			g := filepath.Join(report.SplitDir(filepath.Join(dir, out), "owner"), "alice")
			ri, err := audit.ReadRunInfo(filepath.Join(g, audit.RunFile))
			if err != nil || ri.Changes == nil {
				t.Fatalf("the group's run.json: %v, changes %v", err, ri.Changes)
			}
			if ri.Changes.NotCompared.OtherShard == 0 {
				t.Fatalf("the group's reports say no instance of another shard: %+v", ri.Changes.NotCompared)
			}
			src, err := openMailSource(g, g)
			if err != nil {
				t.Fatal(err)
			}
			defer src.close()
			res, err := audit.Compare(src.base.Records(), src.rs, func(audit.Change) error { return nil })
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(res.Counts, ri.Changes.Counts) || res.NotCompared != ri.Changes.NotCompared {
				t.Errorf("the group's mail: %v, not compared %+v; its reports: %v, not compared %+v", res.Counts, res.NotCompared, ri.Changes.Counts, ri.Changes.NotCompared)
			}
		})
	}
}
