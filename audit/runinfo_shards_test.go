package audit_test

import (
	"slices"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

func TestPartialShards(t *testing.T) {
	for _, tt := range []struct {
		name  string
		parts []audit.Part
		want  []string
	}{
		{"whole list", []audit.Part{{Fleet: "f", List: "l"}}, nil},
		{"one shard", []audit.Part{{Fleet: "f0", List: "l", Shard: "0/2"}}, []string{"0/2"}},
		{"every shard", []audit.Part{{Fleet: "f0", List: "l", Shard: "0/2"}, {Fleet: "f1", List: "l", Shard: "1/2"}}, nil},
		{"split two ways", []audit.Part{{Fleet: "f0", List: "l", Shard: "0/2"}, {Fleet: "f1", List: "l", Shard: "1/3"}}, []string{"0/2", "1/3"}},
		{"shard of a whole list there", []audit.Part{{Fleet: "f", List: "l"}, {Fleet: "f0", List: "l", Shard: "0/2"}}, nil},
		{"shard without its list", []audit.Part{{Fleet: "f0", Shard: "0/2"}}, []string{"0/2"}},
		{"one shard of one", []audit.Part{{Fleet: "f0", List: "l", Shard: "0/1"}}, nil},
		{"two lists, one whole", []audit.Part{{Fleet: "a", List: "m"}, {Fleet: "f1", List: "l", Shard: "1/2"}}, []string{"1/2"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := audit.PartialShards(tt.parts); !slices.Equal(got, tt.want) {
				t.Errorf("PartialShards = %q, want %q", got, tt.want)
			}
		})
	}
}
