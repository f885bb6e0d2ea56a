package audit_test

import (
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestErrorCodeChangedCount: Comparison.ErrorCodeChanged counts the
// still_failing changes whose error code differs from the baseline's, not
// every still_failing one.
func TestErrorCodeChangedCount(t *testing.T) {
	tests := []struct {
		name       string
		base, code string
		want       int
	}{
		{"same code", "ExecutionError", "ExecutionError", 0},
		{"another code", "ExecutionError", "TimedOut", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, got := compareResults(t, []audit.Result{one(day(1), audit.StatusFailed, tt.base)}, []audit.Result{one(day(8), audit.StatusFailed, tt.code)})
			if len(got) != 1 || got[0].Kind != audit.StillFailing || res.Counts[audit.StillFailing] != 1 {
				t.Fatalf("changes %v, want one still_failing", count(got))
			}
			if res.ErrorCodeChanged != tt.want {
				t.Errorf("%s then %s: error codes changed %d, want %d", tt.base, tt.code, res.ErrorCodeChanged, tt.want)
			}
		})
	}
}
