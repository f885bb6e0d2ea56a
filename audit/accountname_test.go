package audit_test

import (
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestValidAccountName: an account's name, the account_name label, is
// refused where it holds what a report or a terminal would not show as it
// is, so that two names that read as one are never two labels.
func TestValidAccountName(t *testing.T) {
	tests := []struct{ name, want string }{
		{"", ""},
		{"Prüfung EU", ""},
		{"Staging\x00", "NUL byte"},
		{"\x1b[31mStaging", "control character (U+001B)"},
		{"Prod\tEU", "control character (U+0009)"},
		{"Prod\u0085EU", "control character (U+0085)"},
		{"Prod\u00a0EU", "Unicode space (U+00A0)"},
		{"Prod\u2028EU", "Unicode space (U+2028)"},
		{"Staging\u202e", "format character (U+202E)"},
		{"Sta\u200bging", "format character (U+200B)"},
		{"\ufeffProd", "format character (U+FEFF)"},
		{"Pr\xfcfung", "not UTF-8"},
		// Joiners that a script or an emoji needs, between two of its
		// characters, are its spelling; between Latin letters, or at an
		// end, they hide a second name.
		{"تیم‌فروش", ""},
		{"Prod 👨‍💻", ""},
		{"Stag‍ing", "format character (U+200D)"},
		{"Staging‌", "format character (U+200C)"},
		{"‍💻", "format character (U+200D)"},
	}
	for _, tt := range tests {
		got := audit.ValidAccountName(tt.name)
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("ValidAccountName(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}
