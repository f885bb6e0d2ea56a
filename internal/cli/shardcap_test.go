package cli

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestShardCountCapped: a shard count of billions (--shard, or the count an
// array job or --shard-count gives) audited its few instances and then hung
// before it wrote run.json, counting every shard of the list. A count above
// audit.MaxShards is refused at once (exit 2), naming where it came from
// and the most there may be.
func TestShardCountCapped(t *testing.T) {
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
	most := strconv.Itoa(audit.MaxShards)
	over := strconv.Itoa(audit.MaxShards + 1)
	tests := []struct {
		name    string
		arg     string
		count   int
		env     func(string) string
		wantErr []string // none: taken
	}{
		{"the most", "9999/" + most, 0, env(), nil},
		{"one more", "0/" + over, 0, env(), []string{"--shard 0/" + over + ": N is " + over, "at most " + most}},
		{"huge", "491879161104970/1000000000000000", 0, env(), []string{"N is 1000000000000000,", "at most " + most}},
		{"too large for an int", "0/99999999999999999999", 0, env(), []string{"N is 99999999999999999999,", "at most " + most}},
		{"aws batch", "auto", 0, env("AWS_BATCH_JOB_ARRAY_INDEX", "3", "AWS_BATCH_JOB_ARRAY_SIZE", "9000000000000000000"),
			[]string{"AWS_BATCH_JOB_ARRAY_SIZE is 9000000000000000000,", "at most " + most}},
		{"kubernetes", "auto", audit.MaxShards + 1, env("JOB_COMPLETION_INDEX", "1"),
			[]string{"--shard-count (or AUDITOR_SHARD_COUNT) is " + over + ",", "at most " + most}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, n, err := parseShard(tt.arg, tt.count, tt.env)
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("parseShard(%q) = %v", tt.arg, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("parseShard(%q) = %d/%d, want an error", tt.arg, k, n)
			}
			var ue *usageError
			if !errors.As(err, &ue) {
				t.Errorf("error %v (%T), want a usage error (exit %d)", err, err, exitUsage)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}
