package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestMergedShardsJudgeStaleFromTheirOwnStart: shards of one list that
// run side by side start at different moments, and each judges what it
// read from its own start. A merge of them must judge each row as its
// shard did: a row that shard 0 read after shard 1 started, whose last
// execution falls between the two shards' cut-offs, is not stale in shard
// 0's reports and must not turn stale in the merge.
func TestMergedShardsJudgeStaleFromTheirOwnStart(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 11, Size: 40, BaseTime: time.Now()})
	var b bytes.Buffer
	fleet.WriteIDs(&b)
	ids := writeFile(t, "ids.txt", b.String())
	url, _ := serve(t, fleet, ssmsim.Options{})
	root := t.TempDir()
	skew := skewClock(t)
	shard := func(k int) (string, time.Time) {
		t.Helper()
		out := filepath.Join(root, "shard-"+strconv.Itoa(k))
		// A slow pace spreads shard 0's reads over seconds, so that
		// shard 1's start falls among them.
		if got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out,
			"--quiet", "--fail-on", "none", "--shard", strconv.Itoa(k)+"/2", "--rate", "10"); got.code != 0 {
			t.Fatalf("shard %d: exit %d\n%s", k, got.code, got.stderr)
		}
		ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
		if err != nil {
			t.Fatal(err)
		}
		return out, ri.StartedAt
	}
	s0, a0 := shard(0)
	// Shard 1 starts, by its clock, just after shard 0 did: the two ran
	// side by side.
	*skew = a0.Add(time.Millisecond).Sub(time.Now())
	s1, a1 := shard(1)
	if !a1.After(a0) {
		t.Fatalf("shard 1 started at %s, not after shard 0's %s", a1, a0)
	}

	// An association of shard 0 read after shard 1 started: the age that
	// puts its last execution between the two cut-offs.
	var pick *audit.Association
	var readAt time.Time
	f, err := os.Open(filepath.Join(s0, audit.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := audit.ReadRecord(f, "shard 0", func(r audit.Result) error {
		for _, a := range r.Associations {
			if pick == nil && r.AuditedAt.After(a1) && a.ExecutionDate != nil {
				pick, readAt = &a, r.AuditedAt
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if pick == nil {
		t.Fatalf("no association of shard 0 read after shard 1 started (%s)", a1)
	}
	mid := a0.Add(a1.Sub(a0) / 2)
	age := (mid.Sub(*pick.ExecutionDate)).String()
	t.Logf("shard 0 started %s, shard 1 %s; %s read at %s, last run %s; --stale-after %s",
		a0, a1, pick.AssociationID, readAt, pick.ExecutionDate, age)

	render := func(name string, records ...string) int {
		t.Helper()
		out := filepath.Join(root, name)
		args := []string{"report"}
		for _, r := range records {
			args = append(args, filepath.Join(r, audit.ResultsFile))
		}
		if got := runCLI(t, "", append(args, "--out", out, "--fail-on", "none", "--stale-after", age)...); got.code != 0 {
			t.Fatalf("report %s: exit %d\n%s", name, got.code, got.stderr)
		}
		return staleCount(t, out)
	}
	own0, own1 := render("own-0", s0), render("own-1", s1)
	if merged := render("merged", s0, s1); merged != own0+own1 {
		t.Errorf("merged shards: %d stale associations, want %d (shard 0's %d and shard 1's %d, each judged from its own start)",
			merged, own0+own1, own0, own1)
	}

	// Shard 0 written by a release that kept no attempt_started_at, as
	// in a rolling upgrade: its rows are judged from its own run.json's
	// attempts, not from every input's, and the merged record keeps
	// the start that judged them.
	old := filepath.Join(root, "shard-0-old")
	if err := os.CopyFS(old, os.DirFS(s0)); err != nil {
		t.Fatal(err)
	}
	stripAttemptStarts(t, filepath.Join(old, audit.ResultsFile))
	if merged := render("merged-old", old, s1); merged != own0+own1 {
		t.Errorf("merged with a shard of an older release: %d stale associations, want %d (shard 0's %d and shard 1's %d)",
			merged, own0+own1, own0, own1)
	}
	// Merged again, the merge is one record: its rows still say which
	// attempt read them.
	if merged := render("merged-again", filepath.Join(root, "merged-old")); merged != own0+own1 {
		t.Errorf("a merge with a shard of an older release, rendered again: %d stale associations, want %d", merged, own0+own1)
	}
}

// stripAttemptStarts rewrites the record at path as a release that kept no
// attempt_started_at wrote it.
func stripAttemptStarts(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for line := range bytes.Lines(b) {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatal(err)
		}
		if _, ok := m["attempt_started_at"]; !ok {
			t.Fatalf("%s: a line without attempt_started_at: %s", path, line)
		}
		delete(m, "attempt_started_at")
		l, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		out.Write(append(l, '\n'))
	}
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
