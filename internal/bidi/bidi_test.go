package bidi_test

import (
	"testing"

	"github.com/auditor-dev/auditor/internal/bidi"
)

func TestStrip(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"none", "plain text", "plain text"},
		{"override", "report\u202etxt.exe", "reporttxt.exe"},
		{"every control", "\u202aa\u202bb\u202cc\u202dd\u202ee\u2066f\u2067g\u2068h\u2069", "abcdefgh"},
		{"marks kept", "a\u200eb\u200fc\u061cd", "a\u200eb\u200fc\u061cd"},
		{"right-to-left text kept", "עברית العربية", "עברית العربية"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := bidi.Strip(tt.in); got != tt.want {
				t.Errorf("Strip(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
