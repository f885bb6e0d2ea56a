package audit_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
)

// TestMergeRunInfoOrderFree: a merge is the same whatever order its
// inputs come in (a shell's glob puts shard-10 before shard-2). The
// endpoints, versions and account-regions came out in argument order, so
// that one merge's summary and HTML differed from another's of the same
// records.
func TestMergeRunInfoOrderFree(t *testing.T) {
	start := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	shard := func(k int, endpoint, version, account string, at time.Time) audit.RunInfo {
		return audit.RunInfo{
			Schema:    audit.Schema,
			Version:   version,
			StartedAt: at,
			EndedAt:   at.Add(time.Minute),
			Complete:  true,
			Targets:   10,
			Options:   map[string]any{"endpoint_url": endpoint, "concurrency": 16},
			Parts:     []audit.Part{{Fleet: "shard-fleet-" + string(rune('a'+k)), List: "the-list", Shard: string(rune('0'+k)) + "/3", Targets: 10}},
			Sites:     []audit.SiteStats{{AccountID: account, Region: "eu-west-1"}},
		}
	}
	a := shard(0, "http://127.0.0.1:45821", "v1.4.0", "111111111111", start)
	b := shard(1, "http://127.0.0.1:45822", "v1.5.0", "222222222222", start)
	c := shard(2, "http://127.0.0.1:45823", "v1.4.0", "333333333333", start.Add(time.Second))
	want := encoded(t, audit.MergeRunInfo([]audit.RunInfo{a, b, c}))
	for _, order := range [][]audit.RunInfo{{b, a, c}, {c, b, a}, {c, a, b}} {
		if got := encoded(t, audit.MergeRunInfo(order)); got != want {
			t.Errorf("merged in another order:\n%s\nwant\n%s", got, want)
		}
	}
}

func encoded(t *testing.T, ri audit.RunInfo) string {
	t.Helper()
	b, err := json.Marshal(ri)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
