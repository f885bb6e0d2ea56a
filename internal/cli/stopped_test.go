package cli

import (
	"cmp"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// stoppedFleet is four EC2 instances, the first three failing one
// association since the same date, the fourth compliant: i-...0 runs,
// i-...1 and i-...3 are stopped when stopped is set, and i-...2 is
// terminated (SSM no longer knows it) when gone is set.
func stoppedFleet(stopped, gone bool) *ssmsim.Fleet { return stoppedFleetEnv(stopped, gone, "prod") }

// stoppedFleetEnv is stoppedFleet, every instance tagged Env=prod but
// i-...0, tagged Env=env0.
func stoppedFleetEnv(stopped, gone bool, env0 string) *ssmsim.Fleet {
	return fleetOfFour(func(k int) (bool, bool) { return (k == 1 || k == 3) && stopped, k == 2 && gone }, env0)
}

// fleetOfFour is stoppedFleetEnv's fleet, each instance k stopped or gone
// as state says.
func fleetOfFour(state func(k int) (stopped, gone bool), env0 string) *ssmsim.Fleet {
	var f ssmsim.Fleet
	d := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	for k, id := range []string{"i-0123456789abcdef0", "i-0123456789abcdef1", "i-0123456789abcdef2", "i-0123456789abcdef3"} {
		env := "prod"
		if k == 0 {
			env = env0
		}
		status, code := "Failed", "1"
		if k == 3 {
			// Compliant, and stopped with i-...1: not asked about.
			status, code = "Success", ""
		}
		stopped, gone := state(k)
		f.Add(ssmsim.Instance{InstanceID: id, PingStatus: "Online", ResourceType: "EC2Instance", PlatformType: "Linux",
			Stopped: stopped, Unmanaged: gone, Tags: map[string]string{"Env": env},
			Associations: []ssmsim.Association{{AssociationID: "1111111" + string(rune('0'+k)) + "-1111-1111-1111-111111111111", Name: "AWS-RunPatchBaseline",
				Status: status, DetailedStatus: status, ErrorCode: code, ExecutionDate: d}}})
	}
	return &f
}

// discoveryRunner returns a function that runs a discovery of a fleet
// served for it into root/OUT, with the options common to these tests
// and more.
func discoveryRunner(t *testing.T, root string, common ...string) func(f *ssmsim.Fleet, out string, more ...string) cliResult {
	return func(f *ssmsim.Fleet, out string, more ...string) cliResult {
		t.Helper()
		url, _ := serve(t, f, ssmsim.Options{})
		args := append([]string{"run", "--discover", "--endpoint-url", url, "--region", "us-east-1", "--format", "csv", "--out", filepath.Join(root, out)}, common...)
		return runCLI(t, "", append(args, more...)...)
	}
}

// changesByInstance returns the changes of each instance in dir's changes.csv.
func changesByInstance(t *testing.T, dir string) map[string][]string {
	t.Helper()
	rows, err := readCSV(filepath.Join(dir, "changes.csv"))
	if err != nil {
		t.Fatal(err)
	}
	id, change := slices.Index(rows[0], "instance_id"), slices.Index(rows[0], "change")
	out := map[string][]string{}
	for _, r := range rows[1:] {
		out[r[id]] = append(out[r[id]], r[change])
	}
	return out
}

// markInError rewrites the one line of node in the record at path as in
// error, as a call that failed leaves it.
func markInError(t *testing.T, path, node string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	edited := 0
	for i, l := range lines {
		if strings.Contains(l, `"`+node+`"`) {
			l = strings.Replace(l, `"outcome":"compliant"`, `"outcome":"error"`, 1)
			lines[i] = strings.Replace(l, `"outcome":"noncompliant"`, `"outcome":"error"`, 1)
			edited++
		}
	}
	if edited != 1 {
		t.Fatalf("%s has %d lines of %s, want 1", path, edited, node)
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestStoppedInstanceWithABaseline: DescribeInstanceInformation leaves out
// a stopped instance, so a discovery run did not audit it. Compared with a
// run that had it, it was gone (vanished_instance, its failure dropped),
// and once it was started again it was new, its failure a new_failure
// dated from that run: --fail-on new failed and --mail-when changes mailed
// for an instance stopped and started. A discovery run with a baseline
// audits the baseline's instances of its account-regions that it did not
// list: a stopped one is still failing, one SSM no longer knows is gone.
func TestStoppedInstanceWithABaseline(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	root := t.TempDir()
	run := discoveryRunner(t, root)
	if got := run(stoppedFleet(false, false), "w1", "--fail-on", "none"); got.code != 0 {
		t.Fatalf("week 1: exit %d\n%s", got.code, got.stderr)
	}
	// Week 2: i-...1 stopped, i-...2 terminated.
	got := run(stoppedFleet(true, true), "w2", "--baseline", filepath.Join(root, "w1"), "--fail-on", "new,not_managed")
	if got.code != 0 {
		t.Errorf("week 2, one instance stopped and one terminated, --fail-on new,not_managed: exit %d, want 0: a node gone is no finding\n%s", got.code, got.stderr)
	}
	checkSays(t, got.stderr, []string{"asked about 2 more nodes that discovery did not list (failing in the baseline, or in error in the record): 1 audited (stopped, say), 1 no longer managed (gone)\n",
		"audited 2 instances"}, []string{"not_managed"})
	// An account-region's figures count no node gone.
	ri, err := audit.ReadRunInfo(filepath.Join(root, "w2", audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(ri.Sites) != 1 || ri.Sites[0].Targets != 2 || ri.Sites[0].Results != 2 {
		t.Errorf("run.json's sites: %+v, want one with 2 targets and 2 results (the node gone is none)", ri.Sites)
	}
	// The record holds every target's result: its own rendering is whole.
	if r := runCLI(t, "", "report", filepath.Join(root, "w2", "results.jsonl"), "--out", filepath.Join(root, "w2r"), "--format", "csv", "--fail-on", "none"); r.code != 0 ||
		strings.Contains(r.stderr, "incomplete") || strings.Contains(r.stderr, "cut short") {
		t.Errorf("auditor report of week 2: exit %d\n%s", r.code, r.stderr)
	}
	k := changesByInstance(t, filepath.Join(root, "w2"))
	if want := []string{"still_failing"}; !slices.Equal(k["i-0123456789abcdef1"], want) {
		t.Errorf("week 2: the stopped instance's changes %q, want %q\n%s", k["i-0123456789abcdef1"], want, got.stderr)
	}
	if want := []string{"vanished_instance"}; !slices.Equal(k["i-0123456789abcdef2"], want) {
		t.Errorf("week 2: the terminated instance's changes %q, want %q", k["i-0123456789abcdef2"], want)
	}
	// A node that was not failing costs no call: stopped, it is gone from
	// the comparison, and new once started, with nothing to call new.
	if want := []string{"vanished_instance"}; !slices.Equal(k["i-0123456789abcdef3"], want) {
		t.Errorf("week 2: the stopped compliant instance's changes %q, want %q", k["i-0123456789abcdef3"], want)
	}
	// Week 3: started again.
	got = run(stoppedFleet(false, true), "w3", "--baseline", filepath.Join(root, "w2"), "--fail-on", "new")
	if got.code != 0 {
		t.Errorf("week 3, the stopped instance started again, --fail-on new: exit %d, want 0\n%s", got.code, got.stderr)
	}
	k = changesByInstance(t, filepath.Join(root, "w3"))
	if want := []string{"still_failing"}; !slices.Equal(k["i-0123456789abcdef1"], want) {
		t.Errorf("week 3: the instance started again has changes %q, want %q", k["i-0123456789abcdef1"], want)
	}
	if len(k["i-0123456789abcdef2"]) != 0 {
		t.Errorf("week 3: the instance terminated before week 2 has changes %q, want none", k["i-0123456789abcdef2"])
	}
	if want := []string{"new_instance"}; !slices.Equal(k["i-0123456789abcdef3"], want) {
		t.Errorf("week 3: the compliant instance started again has changes %q, want %q", k["i-0123456789abcdef3"], want)
	}
	// Failing since week 1 (week 2 carried its date), whatever its stop.
	since := func(dir, instance string) string {
		t.Helper()
		rows, err := readCSV(filepath.Join(root, dir, "changes.csv"))
		if err != nil {
			t.Fatal(err)
		}
		id, first := slices.Index(rows[0], "instance_id"), slices.Index(rows[0], "first_seen_failing")
		for _, r := range rows[1:] {
			if r[id] == instance {
				return r[first]
			}
		}
		return ""
	}
	if w1, w3 := since("w2", "i-0123456789abcdef1"), since("w3", "i-0123456789abcdef1"); w1 == "" || w3 != w1 {
		t.Errorf("week 3: the instance started again first seen failing %q, want week 1's %q", w3, w1)
	}
}

// TestFilteredOutIsNotAuditedFromTheBaseline: with --filter, a node of the
// baseline that discovery did not list may run and no longer match the
// filter (its tag changed): it is not audited, and is gone from the
// comparison, as before; a stopped one is audited.
func TestFilteredOutIsNotAuditedFromTheBaseline(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	root := t.TempDir()
	run := discoveryRunner(t, root, "--filter", "Key=tag:Env,Values=prod", "--fail-on", "none")
	if got := run(stoppedFleetEnv(false, false, "prod"), "w1"); got.code != 0 {
		t.Fatalf("week 1: exit %d\n%s", got.code, got.stderr)
	}
	got := run(stoppedFleetEnv(true, false, "dev"), "w2", "--baseline", filepath.Join(root, "w1"))
	if got.code != 0 {
		t.Fatalf("week 2: exit %d\n%s", got.code, got.stderr)
	}
	kinds := changesByInstance(t, filepath.Join(root, "w2"))
	if want := []string{"vanished_instance"}; !slices.Equal(kinds["i-0123456789abcdef0"], want) {
		t.Errorf("the instance now out of the filter: changes %q, want %q\n%s", kinds["i-0123456789abcdef0"], want, got.stderr)
	}
	if want := []string{"still_failing"}; !slices.Equal(kinds["i-0123456789abcdef1"], want) {
		t.Errorf("the stopped instance: changes %q, want %q\n%s", kinds["i-0123456789abcdef1"], want, got.stderr)
	}
	checkSays(t, got.stderr, []string{"audited 2 instances"}, nil)
}

// TestResumedStoppedThenGone: a node of the baseline that discovery did
// not list ended in error; before the resume it was terminated. The
// resume left its error line in the record, took it out of the targets,
// and said to resume again, for ever. Its not_managed answer takes the
// error line's place, and the run is whole.
func TestResumedStoppedThenGone(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	root := t.TempDir()
	run := discoveryRunner(t, root, "--fail-on", "none")
	if got := run(stoppedFleet(false, false), "w1"); got.code != 0 {
		t.Fatalf("week 1: exit %d\n%s", got.code, got.stderr)
	}
	w2 := filepath.Join(root, "w2")
	if got := run(stoppedFleet(true, false), "w2", "--baseline", filepath.Join(root, "w1")); got.code != 0 {
		t.Fatalf("week 2: exit %d\n%s", got.code, got.stderr)
	}
	// The stopped node's answer was lost: in error.
	p := filepath.Join(w2, "results.jsonl")
	markInError(t, p, "i-0123456789abcdef1")
	// i-...1 terminated, i-...3 still stopped.
	gone1 := fleetOfFour(func(k int) (bool, bool) { return k == 3, k == 1 }, "prod")
	got := run(gone1, "w2", "--baseline", filepath.Join(root, "w1"), "--resume")
	if got.code != 0 {
		t.Errorf("the resume, the node in error now gone: exit %d, want 0\n%s", got.code, got.stderr)
	}
	if r := runCLI(t, "", "report", p, "--out", filepath.Join(root, "w2r"), "--format", "csv", "--fail-on", "none"); r.code != 0 {
		t.Errorf("auditor report of the resumed record: exit %d, want 0\n%s", r.code, r.stderr)
	}
	rows, err := readCSV(filepath.Join(w2, "instances.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows[1:] {
		if id, oc := r[slices.Index(rows[0], "instance_id")], r[slices.Index(rows[0], "outcome")]; id == "i-0123456789abcdef1" && oc != "not_managed" {
			t.Errorf("the node in error, gone since: %s, want not_managed", oc)
		}
	}
}

// TestStoppedAndListed: a stopped node that the list names too is audited
// as listed; discovery did not find it, and it is no duplicate of a node
// discovered.
func TestStoppedAndListed(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	root := t.TempDir()
	run := discoveryRunner(t, root, "--fail-on", "none")
	if got := run(stoppedFleet(false, false), "w1"); got.code != 0 {
		t.Fatalf("week 1: exit %d\n%s", got.code, got.stderr)
	}
	list := writeFile(t, "fleet.txt", "i-0123456789abcdef1\n")
	got := run(stoppedFleet(true, false), "w2", "--baseline", filepath.Join(root, "w1"), "--instances", list)
	if got.code != 0 {
		t.Fatalf("week 2: exit %d\n%s", got.code, got.stderr)
	}
	checkSays(t, got.stderr, []string{"discovered 2 managed nodes in 1 account-region"}, []string{"discovered 3"})
	ri, err := audit.ReadRunInfo(filepath.Join(root, "w2", audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	if ri.Duplicates != 0 || ri.Targets != 3 {
		t.Errorf("run.json: %d targets, %d duplicates; want 3 (i-...0 and i-...2 discovered, i-...1 listed) and none", ri.Targets, ri.Duplicates)
	}
}

// TestResumedErrorNotListed: a node in error in a discovery's record (here
// compliant in the baseline, or with no baseline at all) that the listing
// no longer finds (stopped, or terminated, since) was never asked about
// again: every resume ended incomplete (exit 3), for ever. The resume
// asks about it, whatever --filter says now: it is a target of the run.
// And a node of the baseline whose earlier result stands is not said to
// be asked about.
func TestResumedErrorNotListed(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	for _, tc := range []struct {
		name  string
		first []string // the first attempt's options
		again *ssmsim.Fleet
		want  string
		node  string // the node in error; i-...3 unless set
	}{
		{"failing in the baseline, filtered out now", []string{"--baseline", "w1", "--filter", "Key=tag:Env,Values=prod"},
			stoppedFleetEnv(false, false, "dev"), "1 audited (stopped, say), 0 no longer managed (gone)\n", "i-0123456789abcdef0"},
		{"stopped, with a baseline", []string{"--baseline", "w1"}, stoppedFleet(true, false), "1 audited (stopped, say), 0 no longer managed (gone)\n", ""},
		{"terminated, with a baseline", []string{"--baseline", "w1"}, fleetOfFour(func(k int) (bool, bool) { return false, k == 3 }, "prod"), "0 audited (stopped, say), 1 no longer managed (gone)\n", ""},
		{"stopped, without a baseline", nil, stoppedFleet(true, false), "1 audited (stopped, say), 0 no longer managed (gone)\n", ""},
		{"stopped, filtered out now", []string{"--filter", "Key=tag:Env,Values=prod"}, fleetOfFour(func(k int) (bool, bool) { return k == 3, false }, "prod"), "1 audited (stopped, say), 0 no longer managed (gone)\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			run := discoveryRunner(t, root, "--fail-on", "none")
			if got := run(stoppedFleet(false, false), "w1"); got.code != 0 {
				t.Fatalf("week 1: exit %d\n%s", got.code, got.stderr)
			}
			first := slices.Clone(tc.first)
			if i := slices.Index(first, "w1"); i >= 0 {
				first[i] = filepath.Join(root, "w1")
			}
			if got := run(stoppedFleet(false, false), "w2", first...); got.code != 0 {
				t.Fatalf("week 2: exit %d\n%s", got.code, got.stderr)
			}
			// i-...3, compliant, ended in error (or tc.node, failing).
			node := cmp.Or(tc.node, "i-0123456789abcdef3")
			p := filepath.Join(root, "w2", "results.jsonl")
			markInError(t, p, node)
			got := run(tc.again, "w2", append(first, "--resume")...)
			if got.code != 0 {
				t.Errorf("the resume: exit %d, want 0\n%s", got.code, got.stderr)
			}
			checkSays(t, got.stderr, []string{"asked about 1 more node that discovery did not list", tc.want}, []string{"not answered"})
			// Every result of the record is a target's.
			ri, err := audit.ReadRunInfo(filepath.Join(root, "w2", audit.RunFile))
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			ids := map[string]bool{}
			for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				var r struct {
					InstanceID string `json:"instance_id"`
				}
				if err := json.Unmarshal([]byte(l), &r); err != nil {
					t.Fatal(err)
				}
				ids[r.InstanceID] = true // a later line takes an earlier one's place
			}
			if ri.Targets != len(ids) {
				t.Errorf("run.json: %d targets, the record results of %d instances", ri.Targets, len(ids))
			}
		})
	}
}

// TestResumedBaselineNodeStands: a resume of a run that audited a stopped
// node of the baseline (its verdict stands in the record) said it had
// asked about it, and that it was "not asked": it says nothing of it.
func TestResumedBaselineNodeStands(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	root := t.TempDir()
	run := discoveryRunner(t, root, "--fail-on", "none", "--baseline", filepath.Join(root, "w1"))
	if got := discoveryRunner(t, root, "--fail-on", "none")(stoppedFleet(false, false), "w1"); got.code != 0 {
		t.Fatalf("week 1: exit %d\n%s", got.code, got.stderr)
	}
	if got := run(stoppedFleet(true, false), "w2"); got.code != 0 || !strings.Contains(got.stderr, "asked about 1 more node") {
		t.Fatalf("week 2: exit %d, want 0 and the stopped node asked about\n%s", got.code, got.stderr)
	}
	got := run(stoppedFleet(true, false), "w2", "--resume")
	if got.code != 0 {
		t.Fatalf("the resume: exit %d\n%s", got.code, got.stderr)
	}
	checkSays(t, got.stderr, nil, []string{"asked about", "not answered"})
}
