package audit_test

import (
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

func TestSuperseded(t *testing.T) {
	s0 := audit.Part{Fleet: "f0", List: "l", Shard: "0/2"}
	s1 := audit.Part{Fleet: "f1", List: "l", Shard: "1/2"}
	whole := audit.Part{Fleet: "f", List: "l"}
	other := audit.Part{Fleet: "g", List: "m"}
	run := func(parts ...audit.Part) audit.RunInfo { return audit.RunInfo{Parts: parts} }
	for _, tt := range []struct {
		name  string
		infos []audit.RunInfo
		kept  int
		want  bool
	}{
		{"a merge merged again with its shards", []audit.RunInfo{run(s0, s1), run(s0), run(s1)}, 0, true},
		{"a merge that lacked a shard's run.json", []audit.RunInfo{run(s0), run(s0), run(s1)}, 0, true},
		{"shards merged again with the whole list", []audit.RunInfo{run(s0, s1), run(whole)}, 0, true},
		{"some of its results kept", []audit.RunInfo{run(s0, s1), run(s0), run(s1)}, 3, false},
		{"a shard no later record covers", []audit.RunInfo{run(s0, s1), run(s0)}, 0, false},
		{"another list after it", []audit.RunInfo{run(s0), run(other)}, 0, false},
		{"no parts (a run.json from before them)", []audit.RunInfo{run(), run(s0)}, 0, false},
		{"a part of unknown targets", []audit.RunInfo{run(audit.Part{Shard: "0/2"}), run(audit.Part{Shard: "0/2"})}, 0, false},
		{"the whole list, shards after it", []audit.RunInfo{run(whole), run(s0), run(s1)}, 0, false},
		{"the last record", []audit.RunInfo{run(s0)}, 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := audit.Superseded(tt.infos, 0, tt.kept); got != tt.want {
				t.Errorf("Superseded = %v, want %v", got, tt.want)
			}
		})
	}
}
