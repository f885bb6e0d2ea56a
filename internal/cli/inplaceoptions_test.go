package cli

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// staleCount sums instances.csv's stale column in dir.
func staleCount(t *testing.T, dir string) int {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "instances.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := -1
	for i, h := range rows[0] {
		if h == "stale" {
			col = i
		}
	}
	if col < 0 {
		t.Fatalf("instances.csv has no stale column: %v", rows[0])
	}
	n := 0
	for _, r := range rows[1:] {
		v, err := strconv.Atoi(r[col])
		if err != nil {
			t.Fatalf("instances.csv: stale %q", r[col])
		}
		n += v
	}
	return n
}

// TestReportInPlaceKeepsRunsStaleAfter: a run's reports rendered again in
// place (the command the tool gives to split a run) judged its
// associations stale after the default 7 days, not the run's
// --stale-after 30d: 80 stale became 106, with nothing said. Rendered in
// place, a run keeps the options it judged by unless they are given again.
func TestReportInPlaceKeepsRunsStaleAfter(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 5, Size: 120, BaseTime: time.Now()})
	var b bytes.Buffer
	fleet.WriteIDs(&b)
	ids := writeFile(t, "ids.txt", b.String())
	url, _ := serve(t, fleet, ssmsim.Options{})
	out := filepath.Join(t.TempDir(), "run")
	if got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out,
		"--quiet", "--fail-on", "none", "--stale-after", "30d", "--html-max-rows", "7"); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	want := staleCount(t, out)
	record := filepath.Join(out, audit.ResultsFile)

	got := runCLI(t, "", "report", record, "--out", out, "--fail-on", "none")
	if got.code != 0 {
		t.Fatalf("report in place: exit %d\n%s", got.code, got.stderr)
	}
	if n := staleCount(t, out); n != want {
		t.Errorf("rendered again in place: %d stale associations, want the run's %d (--stale-after 30d)", n, want)
	}
	ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	if ri.Rendered == nil || ri.Rendered.Options["stale_after"] != "30d" || ri.Rendered.Options["html_max_rows"] != 7.0 {
		t.Errorf("run.json's rendering options: %v, want the run's stale_after 30d and html_max_rows 7", ri.Rendered)
	}
	if !strings.Contains(got.stderr, "--stale-after 30d") {
		t.Errorf("stderr does not say the run's --stale-after is kept:\n%s", got.stderr)
	}

	// Given again, an option is the user's.
	if got := runCLI(t, "", "report", record, "--out", out, "--fail-on", "none", "--stale-after", "7d"); got.code != 0 {
		t.Fatalf("report in place with --stale-after 7d: exit %d\n%s", got.code, got.stderr)
	}
	if n := staleCount(t, out); n <= want {
		t.Errorf("--stale-after 7d given: %d stale associations, want more than at 30d (%d)", n, want)
	}
	// And the rendering's own options are the ones kept next time.
	if got := runCLI(t, "", "report", record, "--out", out, "--fail-on", "none"); got.code != 0 {
		t.Fatalf("report in place again: exit %d\n%s", got.code, got.stderr)
	}
	if ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile)); err != nil || ri.Rendered.Options["stale_after"] != "7d" {
		t.Errorf("rendered again after a rendering at 7d: %v (%v), want stale_after 7d", ri.Rendered, err)
	}
}

// TestJudgementOf: the options a rendering again in place and a mail judge
// a run's reports by are read from its run.json in one place: its latest
// rendering's over the run's, and a value the flag would refuse is no
// value.
func TestJudgementOf(t *testing.T) {
	day := 24 * time.Hour
	for _, tt := range []struct {
		name      string
		ri        audit.RunInfo
		wantStale time.Duration // 0: none
		wantRows  int           // -1: none
	}{
		{"none recorded", audit.RunInfo{}, 0, -1},
		{"the run's", audit.RunInfo{Options: map[string]any{"stale_after": "30d", "html_max_rows": 50.0}}, 30 * day, 50},
		{"the rendering's over the run's", audit.RunInfo{
			Options:  map[string]any{"stale_after": "30d", "html_max_rows": 50.0},
			Rendered: &audit.Rendering{Options: map[string]any{"stale_after": "14d"}},
		}, 14 * day, -1},
		{"refused values", audit.RunInfo{Options: map[string]any{"stale_after": "soon", "html_max_rows": 2.5}}, 0, -1},
		{"a negative row count", audit.RunInfo{Options: map[string]any{"html_max_rows": -1.0}}, 0, -1},
		{"no rows", audit.RunInfo{Options: map[string]any{"html_max_rows": 0.0}}, 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			j := judgementOf(tt.ri)
			var gotStale time.Duration
			if j.staleAfter != nil {
				gotStale = time.Duration(*j.staleAfter)
			}
			gotRows := -1
			if j.htmlMaxRows != nil {
				gotRows = *j.htmlMaxRows
			}
			if gotStale != tt.wantStale || gotRows != tt.wantRows {
				t.Errorf("stale after %v, %d rows; want %v, %d", gotStale, gotRows, tt.wantStale, tt.wantRows)
			}
		})
	}
}

// TestMergeKeepsShardsStaleAfter: the shards of a list audited with
// --stale-after 30d, merged into a directory of its own (as the Kubernetes
// merge job does), were judged by the default 7 days, with nothing said,
// and the merge's run.json said 30d as the run's and 7d as the
// rendering's. A merge, or a run's reports written elsewhere, judges by
// what its inputs' reports were judged by when they agree, says so, and
// warns when they do not.
func TestMergeKeepsShardsStaleAfter(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 5, Size: 120, BaseTime: time.Now()})
	var b bytes.Buffer
	fleet.WriteIDs(&b)
	ids := writeFile(t, "ids.txt", b.String())
	url, _ := serve(t, fleet, ssmsim.Options{})
	root := t.TempDir()
	shard := func(k int, stale string) string {
		out := filepath.Join(root, stale, "shard-"+strconv.Itoa(k))
		if got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out,
			"--quiet", "--fail-on", "none", "--shard", strconv.Itoa(k)+"/2", "--stale-after", stale); got.code != 0 {
			t.Fatalf("shard %d: exit %d\n%s", k, got.code, got.stderr)
		}
		return out
	}
	s0, s1 := shard(0, "30d"), shard(1, "30d")
	want := staleCount(t, s0) + staleCount(t, s1)

	merged := filepath.Join(root, "merged")
	got := runCLI(t, "", "report", filepath.Join(s0, audit.ResultsFile), filepath.Join(s1, audit.ResultsFile), "--out", merged, "--fail-on", "none")
	if got.code != 0 {
		t.Fatalf("merge: exit %d\n%s", got.code, got.stderr)
	}
	if n := staleCount(t, merged); n != want {
		t.Errorf("merged: %d stale associations, want the shards' %d (--stale-after 30d)", n, want)
	}
	if !strings.Contains(got.stderr, "--stale-after 30d") {
		t.Errorf("stderr does not say the shards' --stale-after is kept:\n%s", got.stderr)
	}
	ri, err := audit.ReadRunInfo(filepath.Join(merged, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	if ri.Rendered != nil && ri.Rendered.Options["stale_after"] != "30d" {
		t.Errorf("run.json's rendering options: %v, want stale_after 30d", ri.Rendered.Options)
	}

	// Given, the option is the user's.
	got = runCLI(t, "", "report", filepath.Join(s0, audit.ResultsFile), filepath.Join(s1, audit.ResultsFile), "--out", filepath.Join(root, "given"), "--fail-on", "none", "--stale-after", "7d")
	if got.code != 0 || strings.Contains(got.stderr, "30d") {
		t.Fatalf("merge with --stale-after 7d: exit %d, want 0 without a word of 30d\n%s", got.code, got.stderr)
	}
	if n := staleCount(t, filepath.Join(root, "given")); n <= want {
		t.Errorf("--stale-after 7d given: %d stale associations, want more than at 30d (%d)", n, want)
	}

	// Another user's run.json beside a record (a directory others may
	// write to) does not choose how this user's reports judge.
	if os.Geteuid() == 0 {
		foreign := filepath.Join(root, "foreign")
		if err := os.CopyFS(foreign, os.DirFS(s0)); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(filepath.Join(foreign, audit.RunFile), 65534, 65534); err != nil {
			t.Fatal(err)
		}
		got = runCLI(t, "", "report", filepath.Join(foreign, audit.ResultsFile), "--out", filepath.Join(root, "notmine"), "--fail-on", "none")
		if got.code != 0 || strings.Contains(got.stderr, "30d") {
			t.Errorf("a record beside another user's run.json: exit %d, want 0 judged by the default, without a word of 30d\n%s", got.code, got.stderr)
		}
	} else {
		t.Log("not run: giving a run.json to another user needs root (CI runs as root)")
	}

	// Shards judged apart: the merge cannot judge as both, and says so.
	o1 := shard(1, "14d")
	got = runCLI(t, "", "report", filepath.Join(s0, audit.ResultsFile), filepath.Join(o1, audit.ResultsFile), "--out", filepath.Join(root, "apart"), "--fail-on", "none")
	if got.code != 0 || !strings.Contains(got.stderr, "warning") || !strings.Contains(got.stderr, "30d") || !strings.Contains(got.stderr, "14d") {
		t.Errorf("merge of shards judged apart: exit %d, want 0 with a warning naming 30d and 14d\n%s", got.code, got.stderr)
	}
}
