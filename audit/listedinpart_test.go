package audit_test

import (
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestSiteStatsListedInPart: an account-region is listed in part when its
// listing failed after it listed some nodes, whichever attempt audited
// them; one that failed before any, or was listed in full, or did not fail,
// is not.
func TestSiteStatsListedInPart(t *testing.T) {
	denied := &audit.Error{Code: "AccessDeniedException", Message: "denied"}
	tests := []struct {
		name string
		s    audit.SiteStats
		want bool
	}{
		{"failed on page 2", audit.SiteStats{Error: denied, Discovered: 50, Results: 50}, true},
		{"failed before any node", audit.SiteStats{Error: denied}, false},
		{"resumed, its nodes audited before", audit.SiteStats{Error: denied, Discovered: 50}, true},
		{"listed in full, then failed", audit.SiteStats{Error: denied, Discovered: 50, Results: 50, Listed: true}, false},
		{"stopped while listing, no failure", audit.SiteStats{Discovered: 50, Results: 50}, false},
		{"listed instances, no discovery", audit.SiteStats{Error: denied, Targets: 10, Results: 10}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.ListedInPart(); got != tt.want {
				t.Errorf("ListedInPart() = %v, want %v", got, tt.want)
			}
		})
	}
}
