package audit

import "testing"

// TestFirstSight: a listing skips a node it has listed already (one that
// moved between pages), whatever form its ID takes, and never takes two
// nodes for one.
func TestFirstSight(t *testing.T) {
	seen := map[packedID]struct{}{}
	var other map[string]struct{}
	for _, tc := range []struct {
		id    string
		first bool
	}{
		{"i-0123456789abcdef0", true},
		{"i-01234567", true},
		{"mi-0123456789abcdef0", true},
		{"i-0123456789abcdef1", true},
		{"not-an-id", true},
		{"i-0123456789abcdef0", false},
		{"i-01234567", false},
		{"mi-0123456789abcdef0", false},
		{"not-an-id", false},
		{"i-0123456789abcdef2", true},
	} {
		if got := firstSight(seen, &other, tc.id); got != tc.first {
			t.Errorf("%s: first sight %v, want %v", tc.id, got, tc.first)
		}
	}
	if len(seen) != 5 || len(other) != 1 {
		t.Errorf("%d packed and %d other IDs noted, want 5 and 1", len(seen), len(other))
	}
}
