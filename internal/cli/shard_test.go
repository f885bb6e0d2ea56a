package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestShardsMergedEqualOneRun: N shards audited apart and merged with
// "auditor report" give the same record, CSVs and figures as one run.
func TestShardsMergedEqualOneRun(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 9, Size: shortN(150, 60)})
	url, _ := serve(t, fleet, ssmsim.Options{})
	ids := filepath.Join(t.TempDir(), "ids.txt")
	if err := writeIDs(ids, fleet); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	base := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--quiet"}
	single := filepath.Join(root, "single")
	if got := runCLI(t, "", append(base, "--out", single)...); got.code != 1 {
		t.Fatalf("single run: exit %d\n%s", got.code, got.stderr)
	}
	const n = 3
	var records []string
	total := 0
	for k := range n {
		dir := filepath.Join(root, fmt.Sprintf("shard-%d", k))
		got := runCLI(t, "", append(base, "--out", dir, "--shard", fmt.Sprintf("%d/%d", k, n), "--fail-on", "none")...)
		if got.code != 0 {
			t.Fatalf("shard %d: exit %d\n%s", k, got.code, got.stderr)
		}
		rec := filepath.Join(dir, "results.jsonl")
		records = append(records, rec)
		c := countLines(rec)
		if c == 0 || c == fleet.Len() {
			t.Errorf("shard %d holds %d of %d instances: not a part", k, c, fleet.Len())
		}
		total += c
	}
	if total != fleet.Len() {
		t.Errorf("shards hold %d instances together, want %d", total, fleet.Len())
	}
	all := filepath.Join(root, "all")
	got := runCLI(t, "", append(append([]string{"report"}, records...), "--out", all, "--quiet")...)
	if got.code != 1 {
		t.Fatalf("merge: exit %d, want 1 (findings)\n%s", got.code, got.stderr)
	}
	if d := diffLines(normalized(t, filepath.Join(single, "results.jsonl")), normalized(t, filepath.Join(all, "results.jsonl"))); d != "" {
		t.Errorf("merged record differs from one run's:\n%s", d)
	}
	for _, name := range []string{"associations.csv", "instances.csv", "error_codes.csv"} {
		a, _ := os.ReadFile(filepath.Join(single, name))
		b, err := os.ReadFile(filepath.Join(all, name))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs between one run and the merged shards (%v)", name, err)
		}
	}
	if a, b := figures(t, single), figures(t, all); !reflect.DeepEqual(a, b) {
		t.Errorf("summary.json figures differ:\none run %v\nmerged  %v", a, b)
	}
}

// figures returns summary.json without what describes the run rather than
// the fleet (times, options, call counts).
func figures(t *testing.T, dir string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "run")
	delete(m, "about") // the run in words: its times and rates
	delete(m, "settings")
	if len(m) < 5 {
		t.Fatalf("summary.json has only %v", m)
	}
	return m
}

func TestParseShard(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	tests := []struct {
		name    string
		arg     string
		count   int
		env     func(string) string
		k, n    int
		wantErr string
	}{
		{"explicit", "2/5", 0, env(), 2, 5, ""},
		{"first", "0/1", 0, env(), 0, 1, ""},
		{"k counts from 0", "5/5", 0, env(), 0, 0, "0 to 4"},
		{"not a fraction", "2", 0, env(), 0, 0, "want K/N"},
		{"zero parts", "0/0", 0, env(), 0, 0, "at least 1"},
		{"aws batch", "auto", 0, env("AWS_BATCH_JOB_ARRAY_INDEX", "3", "AWS_BATCH_JOB_ARRAY_SIZE", "8"), 3, 8, ""},
		{"kubernetes with flag", "auto", 4, env("JOB_COMPLETION_INDEX", "1"), 1, 4, ""},
		// Not "shard count --shard-count (or AUDITOR_SHARD_COUNT) \"\"": a
		// count the user never gave, with no word of where it comes from.
		{"kubernetes without count", "auto", 0, env("JOB_COMPLETION_INDEX", "2"), 0, 0, "JOB_COMPLETION_INDEX is \"2\" but the shard count is not set: pass --shard-count N (or set AUDITOR_SHARD_COUNT), N being the Job's completions"},
		{"auto outside an engine", "auto", 0, env(), 0, 0, "neither"},
		// Not "shard index --shard K \"3\"", nor a count "" of a variable
		// that is not set.
		{"k past n, said plainly", "3/2", 0, env(), 0, 0, "--shard 3/2: K is 3, want 0 to 1 (K counts from 0)"},
		{"n zero, said plainly", "1/0", 0, env(), 0, 0, "--shard 1/0: N is 0, want a whole number of at least 1"},
		{"aws batch without size", "auto", 0, env("AWS_BATCH_JOB_ARRAY_INDEX", "2"), 0, 0, "--shard auto: AWS_BATCH_JOB_ARRAY_INDEX is 2, but AWS_BATCH_JOB_ARRAY_SIZE is not set"},
		{"garbage quoted", "x/2", 0, env(), 0, 0, `--shard "x/2": K is "x", want 0 to 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, n, err := parseShard(tt.arg, tt.count, tt.env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || k != tt.k || n != tt.n {
				t.Fatalf("got %d/%d, %v; want %d/%d", k, n, err, tt.k, tt.n)
			}
		})
	}
}

// TestShardMergesThatAreNotOneRun: a merge that lacks one of the list's
// shards is incomplete (exit 3), not a whole audit of a smaller fleet; and
// a shard merged with the whole run of its list counts the list once.
func TestShardMergesThatAreNotOneRun(t *testing.T) {
	ids, url, fleet := shardFleet(t, ssmsim.Options{})
	root := t.TempDir()
	base := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--quiet", "--fail-on", "none"}
	record := func(name string, extra ...string) string {
		dir := filepath.Join(root, name)
		if got := runCLI(t, "", append(append(base, "--out", dir), extra...)...); got.code != 0 {
			t.Fatalf("%s: exit %d\n%s", name, got.code, got.stderr)
		}
		return filepath.Join(dir, "results.jsonl")
	}
	whole := record("whole")
	var shards []string
	for k := range 3 {
		shards = append(shards, record(fmt.Sprintf("shard-%d", k), "--shard", fmt.Sprintf("%d/3", k)))
	}
	merge := func(name string, want int, records ...string) audit.RunInfo {
		t.Helper()
		dir := filepath.Join(root, name)
		got := runCLI(t, "", append(append([]string{"report"}, records...), "--out", dir, "--quiet", "--fail-on", "none")...)
		if got.code != want {
			t.Errorf("%s: exit %d, want %d\n%s", name, got.code, want, got.stderr)
		}
		ri, err := audit.ReadRunInfo(filepath.Join(dir, "run.json"))
		if err != nil {
			t.Fatal(err)
		}
		return ri
	}
	if ri := merge("two-of-three", 3, shards[0], shards[2]); ri.Complete || !strings.Contains(ri.Error, "1/3") {
		t.Errorf("shards 0 and 2 of 3 merged: complete %v, error %q; want incomplete, naming shard 1/3", ri.Complete, ri.Error)
	}
	if ri := merge("whole-and-a-shard", 0, whole, shards[1]); !ri.Complete || ri.Targets != fleet.Len() {
		t.Errorf("the whole run and one of its shards merged: complete %v, %d targets (%s); want complete, %d", ri.Complete, ri.Targets, ri.Error, fleet.Len())
	}
	if ri := merge("that-and-the-third", 0, filepath.Join(root, "two-of-three", "results.jsonl"), shards[1]); !ri.Complete || ri.Targets != fleet.Len() {
		t.Errorf("the merge of two shards merged with the third: complete %v, %d targets (%s); want complete, %d", ri.Complete, ri.Targets, ri.Error, fleet.Len())
	}
	if ri := merge("all-three", 0, shards...); !ri.Complete || ri.Targets != fleet.Len() {
		t.Errorf("every shard merged: complete %v, %d targets (%s); want complete, %d", ri.Complete, ri.Targets, ri.Error, fleet.Len())
	}
}

// TestMergeOfAShardWithoutRunJSON: a merge of every shard's record where
// one shard was killed before its run.json counted only the other shards'
// targets, fewer than the record holds, and said nothing of which shard
// was missing. Its targets are unknown (0) instead, and the warning and
// the error name the record without run.json and the shard.
func TestMergeOfAShardWithoutRunJSON(t *testing.T) {
	ids, url, _ := shardFleet(t, ssmsim.Options{})
	root := t.TempDir()
	var shards []string
	for k := range 3 {
		dir := filepath.Join(root, fmt.Sprintf("shard-%d", k))
		got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--quiet", "--fail-on", "none",
			"--out", dir, "--shard", fmt.Sprintf("%d/3", k))
		if got.code != 0 {
			t.Fatalf("shard %d: exit %d\n%s", k, got.code, got.stderr)
		}
		shards = append(shards, filepath.Join(dir, audit.ResultsFile))
	}
	// Shard 2/3 killed halfway, before its run.json.
	if err := os.Remove(filepath.Join(root, "shard-2", audit.RunFile)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(shards[2])
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	if err := os.WriteFile(shards[2], []byte(strings.Join(lines[:len(lines)/2], "")), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(root, "all")
	got := runCLI(t, "", append(append([]string{"report"}, shards...), "--out", out, "--quiet", "--fail-on", "none")...)
	if got.code != 3 {
		t.Errorf("exit %d, want 3 (incomplete)\n%s", got.code, got.stderr)
	}
	ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	if held := countLines(filepath.Join(out, audit.ResultsFile)); ri.Targets != 0 && ri.Targets < held {
		t.Errorf("run.json targets %d, fewer than the %d instances the record holds; want them unknown (0)", ri.Targets, held)
	}
	for _, want := range []string{shards[2], "2/3"} {
		if !strings.Contains(got.stderr, want) || !strings.Contains(ri.Error, want) {
			t.Errorf("the warning or run.json's error %q does not name %s:\n%s", ri.Error, want, got.stderr)
		}
	}
	if ri.Complete {
		t.Error("run.json says complete")
	}
}

// TestShardAdviceWhenThrottled: shards of a list share each account-region's
// limit, and adaptive ones split it unevenly (BENCHMARKS.md); a throttled
// shard says so in its closing lines, which --quiet keeps, with the rate
// it got; a shard paced with --rate, or a run that is not a shard, does
// not.
func TestShardAdviceWhenThrottled(t *testing.T) {
	if testing.Short() {
		t.Skip("-short paces every run with --rate; this needs the adaptive limiter")
	}
	ids, url, _ := shardFleet(t, ssmsim.Options{Faults: ssmsim.Faults{ThrottleRate: 0.2}})
	root := t.TempDir()
	base := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--quiet", "--fail-on", "none"}
	for _, c := range []struct {
		name   string
		args   []string
		advice bool
	}{
		{"adaptive shard", []string{"--shard", "0/2"}, true},
		{"paced shard", []string{"--shard", "1/2", "--rate", "500"}, false},
		{"whole run", nil, false},
	} {
		got := runCLI(t, "", append(append(base, "--out", filepath.Join(root, strings.ReplaceAll(c.name, " ", "-"))), c.args...)...)
		if got.code != 0 {
			t.Fatalf("%s: exit %d\n%s", c.name, got.code, got.stderr)
		}
		if advised := strings.Contains(got.stderr, "--rate LIMIT/2"); advised != c.advice {
			t.Errorf("%s: advice to pace the shards %v, want %v:\n%s", c.name, advised, c.advice, got.stderr)
		}
	}
	// A resumed shard runs after the others ended, side by side or not:
	// it heard none, and the advice read as if the directories were
	// apart.
	out := filepath.Join(root, "resumed")
	first := runCLI(t, "", append(base, "--out", out, "--shard", "0/2", "--max-attempts", "1")...)
	if first.code != int(exitIncomplete) {
		t.Fatalf("a shard of one attempt a call: exit %d, want %d (instances throttled to an error)\n%s", first.code, exitIncomplete, first.stderr)
	}
	got := runCLI(t, "", append(base, "--out", out, "--shard", "0/2", "--max-attempts", "1", "--resume")...)
	if !strings.Contains(got.stderr, "throttled") || strings.Contains(got.stderr, "--rate LIMIT/2") {
		t.Errorf("a resumed shard, throttled, advises pacing the shards:\n%s", got.stderr)
	}
}

// TestShardsPaceTogether: two shards of one list, run at once into
// directories side by side (RUN/shard-K), hear each other's pace on the
// account-region they share (run.json's shared_with), and leave no pace
// file behind. With --with-instance-info the account-region's limiter was
// made by the lookup, before the board started: those shards paced alone.
func TestShardsPaceTogether(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 9, Size: 400})
	ids := filepath.Join(t.TempDir(), "ids.txt")
	if err := writeIDs(ids, fleet); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		faults ssmsim.Faults
		extra  []string
	}{
		{ssmsim.Faults{Rate: 100}, nil},
		// Slow enough that both run for seconds, they overlap. That
		// the lookup itself paces on the board:
		// TestShardLookupPacesOnTheBoard.
		{ssmsim.Faults{Latency: 50 * time.Millisecond}, []string{"--with-instance-info", "--concurrency", "2"}},
	} {
		url, _ := serve(t, fleet, ssmsim.Options{Faults: tc.faults})
		extra := tc.extra
		t.Run(strings.Join(append([]string{"run"}, extra...), " "), func(t *testing.T) {
			run := t.TempDir()
			results := make(chan cliResult, 2)
			for k := range 2 {
				go func() {
					args := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1",
						"--quiet", "--fail-on", "none", "--shard", fmt.Sprintf("%d/2", k), "--out", filepath.Join(run, fmt.Sprintf("shard-%d", k))}
					results <- runCtx(context.Background(), nil, append(args, extra...)...)
				}()
			}
			for range 2 {
				got := <-results
				if got.code != 0 {
					t.Fatalf("a shard: exit %d\n%s", got.code, got.stderr)
				}
				if strings.Contains(got.stderr, "heard no other shard") {
					t.Errorf("a shard that heard the other advises --rate:\n%s", got.stderr)
				}
			}
			for k := range 2 {
				dir := filepath.Join(run, fmt.Sprintf("shard-%d", k))
				ri, err := audit.ReadRunInfo(filepath.Join(dir, "run.json"))
				if err != nil {
					t.Fatal(err)
				}
				if len(ri.Sites) != 1 || ri.Sites[0].SharedWith != 1 {
					t.Errorf("shard %d: sites %+v, want one account-region shared with the other shard", k, ri.Sites)
				}
				if _, err := os.Stat(filepath.Join(dir, ".auditor-pace")); !os.IsNotExist(err) {
					t.Errorf("shard %d left its pace file: %v", k, err)
				}
			}
		})
	}
}

// shardFleet serves a fleet of 60 instances with opts and writes its list:
// the list, the URL and the fleet.
func shardFleet(t *testing.T, opts ssmsim.Options) (ids, url string, fleet *ssmsim.Fleet) {
	t.Helper()
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet = ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 9, Size: 60})
	url, _ = serve(t, fleet, opts)
	ids = filepath.Join(t.TempDir(), "ids.txt")
	if err := writeIDs(ids, fleet); err != nil {
		t.Fatal(err)
	}
	return ids, url, fleet
}
