package audit_test

import (
	"context"
	"sync"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestRunMaxPagesBoundary: MaxPages is the most pages an instance is read
// in. One whose associations fill exactly MaxPages pages is judged from
// them; one with a page more ends in PaginationLoop without that page
// being asked for.
func TestRunMaxPagesBoundary(t *testing.T) {
	assocs := map[string]int{"i-00000002": 6, "i-00000003": 7} // 2 and 3 pages of 3
	var mu sync.Mutex
	calls := map[string]int{}
	fake := pagedFake(func(id string) int {
		mu.Lock()
		defer mu.Unlock()
		calls[id]++
		return assocs[id]
	}, func(string, int) string { return audit.StatusSuccess })
	cfg := audit.Config{Client: func(string, string) (audit.API, error) { return fake, nil }, MaxResults: 3, MaxPages: 2}
	got, _, err := collect(t, context.Background(), cfg, targets("i-00000002", "i-00000003"))
	if err != nil {
		t.Fatal(err)
	}
	if r := got["i-00000002"]; r.Outcome != audit.OutcomeCompliant || len(r.Associations) != 6 || r.Pages != 2 || calls["i-00000002"] != 2 {
		t.Errorf("exactly MaxPages pages: outcome %s, %d associations in %d pages after %d calls; want compliant, 6 in 2 after 2",
			r.Outcome, len(r.Associations), r.Pages, calls["i-00000002"])
	}
	r := got["i-00000003"]
	if r.Outcome != audit.OutcomeError || r.Error == nil || r.Error.Code != audit.CodePaginationLoop {
		t.Errorf("a page past MaxPages: outcome %s, error %+v; want error %s", r.Outcome, r.Error, audit.CodePaginationLoop)
	}
	if r.Pages != 2 || calls["i-00000003"] != 2 {
		t.Errorf("a page past MaxPages: %d pages after %d calls, want 2 after 2", r.Pages, calls["i-00000003"])
	}
}
