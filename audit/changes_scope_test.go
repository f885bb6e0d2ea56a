package audit_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestCompareShardWithWhole: a shard compared with a whole run of its list
// (or the reverse) reported the other shards' instances as gone (or new,
// with their failures new). Only the instances both records cover are
// compared; the others are counted as not compared.
func TestCompareShardWithWhole(t *testing.T) {
	var all []audit.Result
	inShard := 0
	for i := range 8 {
		r := result("111122223333", "us-east-1", fmt.Sprintf("i-%08x", i+1), audit.OutcomeNoncompliant)
		r.Associations[0].Status = audit.StatusFailed
		all = append(all, r)
		if audit.PartOf(r.InstanceID, 2) == 0 {
			inShard++
		}
	}
	var shard []audit.Result
	for _, r := range all {
		if audit.PartOf(r.InstanceID, 2) == 0 {
			shard = append(shard, r)
		}
	}
	if inShard == 0 || inShard == len(all) {
		t.Fatalf("%d of %d in shard 0/2: the test needs both shards", inShard, len(all))
	}
	whole := []audit.Part{{Fleet: "f", List: "l", Targets: len(all)}}
	half := []audit.Part{{Fleet: "f0", List: "l", Shard: "0/2", Targets: inShard}}
	dir := t.TempDir()
	open := func(name string, rs []audit.Result, scope []audit.Part) *audit.Records {
		p := filepath.Join(dir, name)
		writeRecord(t, p, rs...)
		recs, err := audit.OpenRecords(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { recs.Close() })
		recs.Scope = scope
		return recs
	}
	for _, tc := range []struct {
		name      string
		base, cur *audit.Records
	}{
		{"shard with a whole baseline", open("w1.jsonl", all, whole), open("s1.jsonl", shard, half)},
		{"whole with a shard baseline", open("s2.jsonl", shard, half), open("w2.jsonl", all, whole)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := audit.Compare(tc.base, tc.cur, func(audit.Change) error { return nil })
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range []audit.ChangeKind{audit.NewInstance, audit.VanishedInstance, audit.NewFailure} {
				if res.Counts[k] != 0 {
					t.Errorf("%d %s, want none: the other shard's instances were never in one of the runs", res.Counts[k], k)
				}
			}
			if res.Counts[audit.StillFailing] != inShard {
				t.Errorf("%d still failing, want the shard's %d", res.Counts[audit.StillFailing], inShard)
			}
			if got, want := res.NotCompared.OtherShard, len(all)-inShard; got != want {
				t.Errorf("not compared as of another shard: %d, want %d", got, want)
			}
		})
	}
}
