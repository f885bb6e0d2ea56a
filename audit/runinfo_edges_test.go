package audit_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
)

// within fails the test when fn has not returned after a while: a loop over
// a shard count read from a file ran for ages (at 100% CPU) rather than
// fail.
func within(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s has not returned after 20s", what)
	}
}

// TestShardsOfAHugeCount: a part of shard "0/9000000000000000000" made
// PartialShards and ShardGap count every one of its N shards, so that
// auditor report, a merge or --baseline previous spun for ever. They now
// count the shards that are there, and name only the first few missing.
func TestShardsOfAHugeCount(t *testing.T) {
	const huge = "9000000000000000000"
	parts := []audit.Part{{Fleet: "f0", List: "L", Shard: "0/" + huge, Targets: 3}}
	var partial []string
	within(t, "PartialShards", func() { partial = audit.PartialShards(parts) })
	if want := []string{"0/" + huge}; !slices.Equal(partial, want) {
		t.Errorf("PartialShards = %q, want %q", partial, want)
	}
	var gap string
	within(t, "ShardGap", func() { gap = audit.ShardGap(parts) })
	want := "lacks shard 1/" + huge + ", 2/" + huge
	if !strings.Contains(gap, want) || !strings.Contains(gap, "and 8999999999999999") || len(gap) > 500 {
		t.Errorf("ShardGap = %q, want one saying %q and how many more, in a few words", gap, want)
	}
	ri := audit.RunInfo{Schema: audit.Schema, Parts: parts}
	within(t, "Undescribed", func() { ri.Undescribed([]string{"a/results.jsonl"}) })
	if !strings.Contains(ri.Error, "1/"+huge) || len(ri.Error) > 500 {
		t.Errorf("Undescribed: error %q, want one naming shard 1/%s in a few words", ri.Error, huge)
	}
}

// TestShardGapNamesAFewMissing: what a merge lacks is named shard by shard
// up to a few, then counted; a list split few ways is named whole as
// before.
func TestShardGapNamesAFewMissing(t *testing.T) {
	for _, tt := range []struct {
		name  string
		parts []audit.Part
		want  string
	}{
		{"one missing", []audit.Part{{List: "L", Shard: "0/3"}, {List: "L", Shard: "1/3"}},
			"the merge lacks shard 2/3 of its list: merge every shard's record"},
		{"two missing", []audit.Part{{List: "L", Shard: "1/3"}},
			"the merge lacks shard 0/3, 2/3 of its list: merge every shard's record"},
		{"many missing", []audit.Part{{List: "L", Shard: "0/100"}, {List: "L", Shard: "2/100"}},
			"the merge lacks shard 1/100, 3/100, 4/100, 5/100, 6/100, 7/100, 8/100, 9/100, 10/100, 11/100 and 88 more of its list"},
		{"none missing", []audit.Part{{List: "L", Shard: "1/2"}, {List: "L", Shard: "0/2"}}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := audit.ShardGap(tt.parts)
			if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
				t.Errorf("ShardGap = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestReadRunInfoTakesAnyShardCount: a run.json of any shard count is
// read, as the previous release wrote one of any count (--shard 5/20000),
// and what reads its shards ends at once (TestShardsOfAHugeCount); only a
// run's --shard is capped (MaxShards). A first fix refused such a file as
// "not a run.json of the auditor", so that a record the previous release
// wrote could be neither reported nor compared with.
func TestReadRunInfoTakesAnyShardCount(t *testing.T) {
	const head = `"schema": 1, "started_at": "2026-11-20T10:00:00Z"`
	testReadRunInfoRefuses(t, []runFileCase{
		{name: "huge shard count", content: `{` + head + `, "targets": 3, "parts": [{"fleet": "f", "list": "L", "shard": "0/9000000000000000000", "targets": 3}]}`},
		{name: "the previous release's 5/20000", content: `{` + head + `, "parts": [{"list": "L", "shard": "5/20000", "targets": 3}]}`},
		{name: "in the changes' scope", content: `{` + head + `, "changes": {"baseline": "b", "counts": {}, "scope": [{"list": "L", "shard": "1/90000000000"}]}}`},
	})
}

// runFileCase is a run.json that ReadRunInfo refuses, or takes when field is
// "": the field it names and what its error says.
type runFileCase struct {
	name, content string
	field, want   string
}

func testReadRunInfoRefuses(t *testing.T, tests []runFileCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), audit.RunFile)
			if err := os.WriteFile(p, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			var err error
			within(t, "ReadRunInfo", func() { _, err = audit.ReadRunInfo(p) })
			if tt.field == "" {
				if err != nil {
					t.Fatalf("ReadRunInfo: %v", err)
				}
				return
			}
			var re *audit.RunInfoError
			if !errors.As(err, &re) {
				t.Fatalf("ReadRunInfo: %v (%T), want a *RunInfoError", err, err)
			}
			if re.Field != tt.field {
				t.Errorf("field %q, want %q (%v)", re.Field, tt.field, err)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), p) {
				t.Errorf("error %q does not name the file and say %q", err, tt.want)
			}
		})
	}
}

// TestReadRunInfoRefusesNegativeCounts: a run.json with a negative count
// passed for its record's, and the reports said "-1,000 targets in the
// list". Every count of a run.json is refused below 0, naming the field
// and its value.
func TestReadRunInfoRefusesNegativeCounts(t *testing.T) {
	const head = `"schema": 1, "started_at": "2026-11-20T10:00:00Z"`
	testReadRunInfoRefuses(t, []runFileCase{
		{name: "targets", content: `{` + head + `, "targets": -1000}`, field: "targets", want: "targets -1000: negative"},
		{name: "targets of a part", content: `{` + head + `, "targets": 3, "parts": [{"fleet": "f", "targets": 4}, {"fleet": "g", "targets": -1}]}`,
			field: "parts[1].targets", want: "parts[1].targets -1: negative"},
		{name: "duplicates", content: `{` + head + `, "duplicates": -2}`, field: "duplicates", want: "-2"},
		{name: "invalid", content: `{` + head + `, "invalid": -3}`, field: "invalid", want: "-3"},
		{name: "invalid of a part", content: `{` + head + `, "parts": [{"fleet": "f", "invalid": -3}]}`, field: "parts[0].invalid", want: "-3"},
		{name: "duplicates of a whole part", content: `{` + head + `, "whole_parts": [{"fleet": "f", "duplicates": -3}]}`, field: "whole_parts[0].duplicates", want: "-3"},
		{name: "an outcome", content: `{` + head + `, "outcomes": {"compliant": 4, "non_compliant": -4}}`, field: "outcomes.non_compliant", want: "-4"},
		{name: "calls", content: `{` + head + `, "stats": {"calls": -5}}`, field: "stats.calls", want: "-5"},
		{name: "resumed", content: `{` + head + `, "resumed": -6}`, field: "resumed", want: "-6"},
		{name: "torn", content: `{` + head + `, "torn": -1}`, field: "torn", want: "-1"},
		{name: "targets of a site", content: `{` + head + `, "sites": [{"region": "us-east-1", "targets": -7}]}`, field: "sites[0].targets", want: "-7"},
		{name: "changes", content: `{` + head + `, "changes": {"baseline": "b", "counts": {"new_failure": -8}}}`, field: "changes.counts.new_failure", want: "-8"},
		{name: "zeros", content: `{` + head + `, "targets": 0, "outcomes": {"compliant": 0}, "stats": {"calls": 0}}`},
		// The schema is no count: its own check says what it is.
		{name: "schema is checked apart", content: `{"schema": -1, "started_at": "2026-11-20T10:00:00Z"}`, field: "schema", want: "unknown"},
	})
}
