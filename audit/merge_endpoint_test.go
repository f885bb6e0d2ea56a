package audit_test

import (
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestMergeKeepsEveryEndpoint: a merge of runs against different
// endpoints dropped endpoint_url, as any option its runs disagree on, and
// so read as an audit of AWS alone, a simulator's results in it. It names
// each endpoint, the region's own too.
func TestMergeKeepsEveryEndpoint(t *testing.T) {
	const sim = "http://127.0.0.1:4566"
	given := func(url, from string) audit.RunInfo {
		return audit.RunInfo{Version: "dev", Options: map[string]any{"endpoint_url": url, "endpoint_from": from, "max_attempts": 5}}
	}
	own := audit.RunInfo{Version: "dev", Options: map[string]any{"max_attempts": 5}}
	resumedFromSim := audit.RunInfo{Version: "dev", Options: map[string]any{"max_attempts": 5},
		EarlierOptions: map[string][]any{"endpoint_url": {sim}, "endpoint_from": {"AWS_ENDPOINT_URL"}}}
	tests := []struct {
		name      string
		runs      []audit.RunInfo
		url, from string
	}{
		{"a given endpoint and the region's own", []audit.RunInfo{given(sim, "AWS_ENDPOINT_URL"), own}, sim + "; the region's own AWS endpoint", ""},
		// The same as the other way round: the order of the inputs is
		// not the merge's (TestMergeRunInfoOrderFree).
		{"the region's own and a given endpoint", []audit.RunInfo{own, given(sim, "--endpoint-url")}, sim + "; the region's own AWS endpoint", ""},
		{"two given endpoints", []audit.RunInfo{given(sim, "AWS_ENDPOINT_URL"), given("http://127.0.0.1:4567", "AWS_ENDPOINT_URL")}, sim + "; http://127.0.0.1:4567", "AWS_ENDPOINT_URL"},
		{"the same endpoint by two settings", []audit.RunInfo{given(sim, "AWS_ENDPOINT_URL"), given(sim, "--endpoint-url")}, sim, ""},
		{"the same endpoint", []audit.RunInfo{given(sim, "AWS_ENDPOINT_URL"), given(sim, "AWS_ENDPOINT_URL")}, sim, "AWS_ENDPOINT_URL"},
		{"the region's own twice", []audit.RunInfo{own, own}, "", ""},
		{"a merge merged again", []audit.RunInfo{given(sim+"; the region's own AWS endpoint", ""), own, given(sim, "AWS_ENDPOINT_URL")}, sim + "; the region's own AWS endpoint", ""},
		{"a run resumed from a given endpoint to the region's own", []audit.RunInfo{resumedFromSim, own}, sim + "; the region's own AWS endpoint", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := audit.MergeRunInfo(tt.runs)
			url, _ := m.Options["endpoint_url"].(string)
			from, _ := m.Options["endpoint_from"].(string)
			if url != tt.url || from != tt.from {
				t.Errorf("endpoint_url %q, endpoint_from %q; want %q, %q", url, from, tt.url, tt.from)
			}
			if m.Options["max_attempts"] != 5 {
				t.Errorf("max_attempts %v: the options the runs agree on are kept", m.Options["max_attempts"])
			}
		})
	}
}
