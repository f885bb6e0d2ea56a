package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// errKilled is what killedMerge panics with to stop a merge where a kill
// would.
var errKilled = fmt.Errorf("killed")

// mergeShards audits a small fleet in two shards and returns their
// records.
func mergeShards(t *testing.T) []string {
	t.Helper()
	records, _ := mergeShardsRun(t)
	return records
}

// mergeShardsRun is mergeShards, with the arguments of a run of the same
// list (no --out).
func mergeShardsRun(t *testing.T) (records, run []string) {
	t.Helper()
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 4, Size: 40})
	url, _ := serve(t, fleet, ssmsim.Options{})
	ids := filepath.Join(t.TempDir(), "ids.txt")
	if err := writeIDs(ids, fleet); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	for k := range 2 {
		dir := filepath.Join(root, fmt.Sprintf("shard-%d", k))
		got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--quiet",
			"--out", dir, "--shard", fmt.Sprintf("%d/2", k), "--fail-on", "none")
		if got.code != 0 {
			t.Fatalf("shard %d: exit %d\n%s", k, got.code, got.stderr)
		}
		records = append(records, filepath.Join(dir, audit.ResultsFile))
	}
	return records, []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--quiet", "--fail-on", "none"}
}

// killedMerge runs the merge and stops it once the merged record is in
// place and before run.json is written, as kill -9 would.
func killedMerge(t *testing.T, args ...string) {
	t.Helper()
	mergeWritten = func() { panic(errKilled) }
	defer func() {
		mergeWritten = nil
		if r := recover(); r != errKilled {
			t.Fatalf("the merge was not stopped before run.json (recovered %v)", r)
		}
	}()
	runCLI(t, "", args...)
}

func mergeArgs(out string, records ...string) []string {
	return append(append([]string{"report"}, records...), "--out", out, "--quiet")
}

// TestMergeKilledBeforeRunJSONRerun: the same merge run again after a kill
// that left the merged record without its run.json finishes as an
// uninterrupted merge does.
func TestMergeKilledBeforeRunJSONRerun(t *testing.T) {
	records := mergeShards(t)
	root := t.TempDir()
	ref := filepath.Join(root, "ref")
	want := runCLI(t, "", mergeArgs(ref, records...)...)
	wantInfo, err := audit.ReadRunInfo(filepath.Join(ref, audit.RunFile))
	if err != nil {
		t.Fatalf("uninterrupted merge: exit %d, %v\n%s", want.code, err, want.stderr)
	}

	km := filepath.Join(root, "km")
	killedMerge(t, mergeArgs(km, records...)...)
	if st, err := os.Stat(filepath.Join(km, audit.ResultsFile)); err != nil || st.Size() == 0 {
		t.Fatalf("the killed merge left no record: %v", err)
	}
	if _, err := os.Stat(filepath.Join(km, audit.RunFile)); err == nil {
		t.Fatal("the killed merge left a run.json: not the state a kill leaves")
	}
	got := runCLI(t, "", mergeArgs(km, records...)...)
	if got.code != want.code {
		t.Fatalf("the rerun: exit %d, want %d as uninterrupted\n%s", got.code, want.code, got.stderr)
	}
	info, err := audit.ReadRunInfo(filepath.Join(km, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	if !info.Complete || info.Targets != wantInfo.Targets || info.Targets == 0 {
		t.Errorf("rerun's run.json: complete %v, targets %d; want complete, %d targets", info.Complete, info.Targets, wantInfo.Targets)
	}
	if d := diffLines(normalized(t, filepath.Join(ref, audit.ResultsFile)), normalized(t, filepath.Join(km, audit.ResultsFile))); d != "" {
		t.Errorf("the rerun's record differs from an uninterrupted merge's:\n%s", d)
	}
	entries, _ := os.ReadDir(km)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".auditor-merg") {
			t.Errorf("%s left in %s after the merge finished", e.Name(), km)
		}
	}
	// Finished, it is a merge like any other: the same command is refused.
	if got := runCLI(t, "", mergeArgs(km, records...)...); got.code != 2 {
		t.Errorf("a finished merge merged into again: exit %d, want 2\n%s", got.code, got.stderr)
	}
}

// TestMergeKilledLeftoverAsInput: the leftover of a killed merge named as
// an input of a report into its own directory is refused (exit 2) with the
// merge to run again, not run --resume: rendered, it was marked partial for
// good, and the advised merge then refused the directory. That merge
// finishes it, its inputs named through a link too.
func TestMergeKilledLeftoverAsInput(t *testing.T) {
	records := mergeShards(t)
	km := filepath.Join(t.TempDir(), "km")
	killedMerge(t, mergeArgs(km, records...)...)
	// Rendered in place, the leftover would be marked partial for good,
	// and its run.json would make the merge that finishes it refuse km:
	// both are refused before anything is written, with that merge.
	for _, args := range [][]string{
		mergeArgs(km, append([]string{filepath.Join(km, audit.ResultsFile)}, records...)...),
		mergeArgs(km, filepath.Join(km, audit.ResultsFile)),
	} {
		got := runCLI(t, "", args...)
		if got.code != 2 || strings.Contains(got.stderr, "--resume") {
			t.Errorf("%q: exit %d, want 2 and no run --resume, which does not finish a merge:\n%s", args, got.code, got.stderr)
		}
		if !strings.Contains(got.stderr, "auditor report "+strings.Join(records, " ")+" --out "+km) {
			t.Errorf("%q does not give the merge to run again:\n%s", args, got.stderr)
		}
		if statOK(filepath.Join(km, audit.RunFile)) {
			t.Fatalf("%q wrote %s", args, audit.RunFile)
		}
	}
	// The merge advised, its inputs named through a link, finishes it.
	link := filepath.Join(t.TempDir(), "shards")
	if err := os.Symlink(filepath.Dir(filepath.Dir(records[0])), link); err != nil {
		t.Fatal(err)
	}
	var linked []string
	for _, r := range records {
		linked = append(linked, filepath.Join(link, filepath.Base(filepath.Dir(r)), filepath.Base(r)))
	}
	if got := runCLI(t, "", mergeArgs(km, linked...)...); got.code == 2 || !statOK(filepath.Join(km, audit.RunFile)) {
		t.Errorf("the advised merge, through a link: exit %d, want it finished\n%s", got.code, got.stderr)
	}
	entries, _ := os.ReadDir(km)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".auditor-merg") {
			t.Errorf("%s left in %s once run.json is written", e.Name(), km)
		}
	}
}

// TestMergeKilledRefusesOthersRecord: a record in --out that this merge did
// not leave is refused as before, and left as it was.
func TestMergeKilledRefusesOthersRecord(t *testing.T) {
	records := mergeShards(t)
	shardRecord, err := os.ReadFile(records[0])
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, km string)
	}{
		{"a run's record without run.json", func(t *testing.T, km string) {
			if err := os.MkdirAll(km, 0o777); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(km, audit.ResultsFile), shardRecord, 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"a killed merge of other inputs", func(t *testing.T, km string) {
			killedMerge(t, mergeArgs(km, records[0])...)
		}},
		{"a killed merge's record replaced by a run's", func(t *testing.T, km string) {
			killedMerge(t, mergeArgs(km, records...)...)
			if err := os.WriteFile(filepath.Join(km, audit.ResultsFile), shardRecord, 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"a finished merge", func(t *testing.T, km string) {
			if got := runCLI(t, "", mergeArgs(km, records...)...); got.code == 2 {
				t.Fatalf("merge: exit %d\n%s", got.code, got.stderr)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			km := filepath.Join(t.TempDir(), "km")
			tt.setup(t, km)
			before, err := os.ReadFile(filepath.Join(km, audit.ResultsFile))
			if err != nil {
				t.Fatal(err)
			}
			got := runCLI(t, "", mergeArgs(km, records...)...)
			if got.code != 2 || !strings.Contains(got.stderr, "already holds a record that is not among the inputs") {
				t.Errorf("exit %d, want 2 and the refusal\n%s", got.code, got.stderr)
			}
			after, _ := os.ReadFile(filepath.Join(km, audit.ResultsFile))
			if !bytes.Equal(before, after) {
				t.Errorf("the record in %s was changed by a refused merge", km)
			}
		})
	}
}

// TestMergeKilledBesideNextRun: a killed merge's directory beside the next
// run's, skipped by --baseline previous for its missing run.json, is said
// to be a merge's, with the merge to run again, not run --resume.
func TestMergeKilledBesideNextRun(t *testing.T) {
	records, run := mergeShardsRun(t)
	root := filepath.Dir(filepath.Dir(records[0]))
	km := filepath.Join(root, "merged")
	killedMerge(t, mergeArgs(km, records...)...)
	got := runCLI(t, "", append(run, "--out", filepath.Join(root, "next"), "--baseline", "previous")...)
	if strings.Contains(got.stderr, "--resume --out "+km) || !strings.Contains(got.stderr, "auditor report "+strings.Join(records, " ")+" --out "+km) {
		t.Errorf("--baseline previous beside a killed merge: want the merge to run again, not run --resume\n%s", got.stderr)
	}
}

// TestMergeKilledInputsGone: a killed merge's leftover whose inputs are
// gone cannot be finished by running the merge again: rendered in its own
// directory it is not refused with that impossible command, but taken as
// it is, marked partial, and said to be so.
func TestMergeKilledInputsGone(t *testing.T) {
	records := mergeShards(t)
	km := filepath.Join(t.TempDir(), "km")
	killedMerge(t, mergeArgs(km, records...)...)
	for _, r := range records {
		if err := os.RemoveAll(filepath.Dir(r)); err != nil {
			t.Fatal(err)
		}
	}
	got := runCLI(t, "", mergeArgs(km, filepath.Join(km, audit.ResultsFile))...)
	if got.code == 2 || strings.Contains(got.stderr, "run that merge again") || !strings.Contains(got.stderr, "whose inputs are gone") {
		t.Errorf("the leftover of a merge whose inputs are gone, rendered in place: exit %d, want it rendered and said to be taken as it is\n%s", got.code, got.stderr)
	}
}
