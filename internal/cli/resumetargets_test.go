package cli

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// stoppedRun runs args (a run of the targets they give) into a new --out
// against an endpoint that stalls from its 41st call for associations, so
// that --timeout stops it with part of its targets recorded, and returns
// that --out and the instances its record holds.
func stoppedRun(t *testing.T, srv *stallable, args ...string) (string, map[string]audit.Outcome) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "run")
	srv.StallFrom(41)
	got := runCLI(t, "", append(args, "--out", out, "--concurrency", "2", "--timeout", stallTimeout.String(), "--grace", "0s", "--fail-on", "none", "--quiet")...)
	srv.StallFrom(0)
	if got.code != int(exitIncomplete) {
		t.Fatalf("the run to resume: exit %d, want %d\n%s", got.code, exitIncomplete, got.stderr)
	}
	done := recordKeys(t, out)
	if len(done) == 0 {
		t.Fatalf("the run to resume recorded nothing\n%s", got.stderr)
	}
	return out, done
}

// otherIDs returns n instance IDs that no simulated fleet holds.
func otherIDs(n int) []string {
	var ids []string
	for k := range n {
		ids = append(ids, fmt.Sprintf("i-%017x", 0xfeed00+k))
	}
	return ids
}

// TestResumeKeepsTheRunsTargets: --resume with a shorter list, made of the
// instances the record holds, once took it for the run's list: the
// instances the run had not audited yet were dropped without a word, and
// run.json and the exit code called the run complete. A longer list,
// another one, or discovery instead of the list were taken as the run's
// too. A resume continues the run in --out: targets that are not its own
// are refused (exit 2), with counts, and nothing in --out changes; the same
// list in another order, with duplicates and comments, is the run's.
func TestResumeKeepsTheRunsTargets(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	const n = 120
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 5, Size: n})
	url, srv := serveStallable(t, fleet, ssmsim.Options{})
	var b bytes.Buffer
	fleet.WriteIDs(&b)
	all := strings.Fields(b.String())
	ids := writeFile(t, "ids.txt", b.String())
	run, done := stoppedRun(t, srv, "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1")
	if len(done) >= n {
		t.Fatalf("the run to resume recorded all %d targets: nothing is left to resume", n)
	}
	var audited []string
	for _, id := range all {
		if _, ok := done[id]; ok {
			audited = append(audited, id)
		}
	}
	left, extra := n-len(audited), otherIDs(10)
	list := func(name string, ids ...[]string) string {
		var all []string
		for _, v := range ids {
			all = append(all, v...)
		}
		return writeFile(t, name, strings.Join(all, "\n")+"\n")
	}
	shuffled := append([]string(nil), all...)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	same := list("same.txt", []string{"# the run's list, shuffled, with duplicates", ""}, shuffled, all[:5], []string{"# end"})

	for _, tt := range []struct {
		name    string
		targets []string
		want    []string // in the refusal; none: resumed
	}{
		{"a shorter list: the instances recorded", []string{"--instances", list("short.txt", audited)},
			[]string{fmt.Sprintf("a list of %d targets, and this resume a list of %d targets: at least %d of the run's are not among them", n, len(audited), left)}},
		{"another list", []string{"--instances", list("other.txt", audited, extra)},
			[]string{fmt.Sprintf("a list of %d targets, and this resume a list of %d targets: at least %d of the run's are not among them", n, len(audited)+10, left-10)}},
		{"a longer list", []string{"--instances", list("long.txt", all, extra)},
			[]string{fmt.Sprintf("a list of %d targets, and this resume a list of %d targets: at least 10 of them are not the run's", n, n+10)}},
		{"another region", []string{"--instances", ids, "--region", "eu-west-1"},
			[]string{fmt.Sprintf("a list of %d targets, and this resume a list of %d targets: at least %d of the run's are not among them, and at least %[3]d of them are not the run's", n, n, len(audited))}},
		{"discovery instead of the list", []string{"--discover"},
			[]string{fmt.Sprintf("a list of %d targets, and this resume the nodes discovered in accounts=", n)}},
		{"the same list, shuffled, with duplicates and comments", []string{"--instances", same}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			copyRegularFiles(t, run, out)
			before := snapshot(t, out)
			args := append([]string{"run", "--resume", "--out", out, "--endpoint-url", url, "--fail-on", "none", "--quiet"}, tt.targets...)
			if !contains(tt.targets, "--region") {
				args = append(args, "--region", "us-east-1")
			}
			got := runCLI(t, "", args...)
			if tt.want == nil {
				ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
				if got.code != int(exitOK) || err != nil || !ri.Complete || ri.Targets != n || len(recordKeys(t, out)) != n {
					t.Fatalf("exit %d, run.json complete %v, targets %d (%v), %d results; want %d, true, %d, %[7]d\n%s",
						got.code, ri.Complete, ri.Targets, err, len(recordKeys(t, out)), exitOK, n, got.stderr)
				}
				return
			}
			if got.code != int(exitUsage) {
				t.Errorf("exit %d, want %d\n%s", got.code, exitUsage, got.stderr)
			}
			for _, w := range append(tt.want, "resume with the run's own targets", "the options in its "+audit.RunFile, "another --out") {
				if !strings.Contains(got.stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, got.stderr)
				}
			}
			if !sameSnapshot(before, snapshot(t, out)) {
				t.Error("the refused resume changed files in --out")
			}
		})
	}
}

// TestResumeOfADiscoveryKeepsItsTargets: a discovery stopped part way,
// resumed with a list of the nodes it had recorded, once became a run of
// that list, complete, without the nodes it had yet to audit.
func TestResumeOfADiscoveryKeepsItsTargets(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 5, Size: 120})
	url, srv := serveStallable(t, fleet, ssmsim.Options{})
	run, done := stoppedRun(t, srv, "run", "--discover", "--endpoint-url", url, "--region", "us-east-1")
	var audited []string
	for id := range done {
		audited = append(audited, id)
	}
	ids := writeFile(t, "ids.txt", strings.Join(audited, "\n")+"\n")
	before := snapshot(t, run)
	got := runCLI(t, "", "run", "--resume", "--out", run, "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--fail-on", "none", "--quiet")
	want := fmt.Sprintf("the run audits the nodes discovered in accounts=123456789012/regions=us-east-1/filters=, and this resume a list of %d targets", len(audited))
	if got.code != int(exitUsage) || !strings.Contains(got.stderr, want) {
		t.Errorf("exit %d, want %d saying %q\n%s", got.code, exitUsage, want, got.stderr)
	}
	if !sameSnapshot(before, snapshot(t, run)) {
		t.Error("the refused resume changed files in --out")
	}
}

// TestResumeOfARunKilledBeforeItsRunJSONKeepsItsTargets: a run killed
// (kill -9, out of memory) before it wrote run.json, written last, left
// nothing that said which targets it had: a resume with a shorter list was
// taken as the run, and called complete without the instances it had yet
// to audit. The run keeps its targets before its first line; a resume of
// other targets is refused, and one of the same list completes the run.
// The kill is mimicked: a run stopped part way, its run.json removed. The
// refusal names what the run kept its targets in, not the run.json it
// does not have.
func TestResumeOfARunKilledBeforeItsRunJSONKeepsItsTargets(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	const n = 120
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 5, Size: n})
	url, srv := serveStallable(t, fleet, ssmsim.Options{})
	var b bytes.Buffer
	fleet.WriteIDs(&b)
	ids := writeFile(t, "ids.txt", b.String())
	run, done := stoppedRun(t, srv, "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1")
	if err := os.Remove(filepath.Join(run, audit.RunFile)); err != nil {
		t.Fatal(err)
	}
	var audited []string
	for id := range done {
		audited = append(audited, id)
	}
	short := writeFile(t, "short.txt", strings.Join(audited, "\n")+"\n")
	resume := func(out, list string) cliResult {
		return runCLI(t, "", "run", "--resume", "--out", out, "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--fail-on", "none", "--quiet")
	}

	t.Run("a shorter list", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out")
		copyRegularFiles(t, run, out)
		before := snapshot(t, out)
		got := resume(out, short)
		if got.code != int(exitUsage) {
			t.Errorf("exit %d, want %d\n%s", got.code, exitUsage, got.stderr)
		}
		want := fmt.Sprintf("a list of %d targets, and this resume a list of %d targets: at least %d of the run's are not among them", n, len(audited), n-len(audited))
		for _, w := range []string{want, "resume with the run's own targets", "the run kept in " + targetsFile} {
			if !strings.Contains(got.stderr, w) {
				t.Errorf("stderr does not say %q:\n%s", w, got.stderr)
			}
		}
		// The run has no run.json: the refusal once sent the user to it
		// for the options.
		if strings.Contains(got.stderr, audit.RunFile) {
			t.Errorf("stderr names %s, which the run did not write:\n%s", audit.RunFile, got.stderr)
		}
		if !sameSnapshot(before, snapshot(t, out)) {
			t.Error("the refused resume changed files in --out")
		}
	})
	t.Run("the same list", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out")
		copyRegularFiles(t, run, out)
		got := resume(out, ids)
		ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
		if got.code != int(exitOK) || err != nil || !ri.Complete || ri.Targets != n || len(recordKeys(t, out)) != n {
			t.Fatalf("exit %d, run.json complete %v, targets %d (%v), %d results; want %d, true, %d, %[7]d\n%s",
				got.code, ri.Complete, ri.Targets, err, len(recordKeys(t, out)), exitOK, n, got.stderr)
		}
	})
}
