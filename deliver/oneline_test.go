package deliver_test

import (
	"testing"
	"unicode"

	"github.com/auditor-dev/auditor/deliver"
)

// TestOneLine: text from outside printed to a terminal or a log is one
// line that shows all it holds. OneLine dropped the bidi controls but let
// the other invisible characters through: a zero-width space, a word
// joiner, a byte-order mark, a soft hyphen, a Hangul filler, so that
// "ops" and "ops" with one of them printed alike. Every format character
// (Cf) and every other default-ignorable one is dropped as the bidi
// controls are; text as people write it is kept.
func TestOneLine(t *testing.T) {
	tests := []struct {
		name, in, want string
		max            int
	}{
		{"plain", "access denied", "access denied", 0},
		{"lines and tabs", "a\r\nb\tc  d", "a b c d", 0},
		{"an escape", "\x1b[31mred", "[31mred", 0},
		{"bidi controls", "a\u202eb\u2066c\u2069", "abc", 0},
		{"a zero-width space", "ops\u200b", "ops", 0},
		{"a word joiner and a BOM", "\ufeffo\u2060ps", "ops", 0},
		{"a soft hyphen", "op\u00ads", "ops", 0},
		{"joiners and bidi marks", "o\u200cp\u200ds\u200e\u200f\u061c", "ops", 0},
		{"tag characters", "ops\U000e0041\U000e007f", "ops", 0},
		{"a Hangul filler and a variation selector", "\u3164ops\ufe0f\u034f", "ops", 0},
		{"an interlinear annotation", "\ufff9o\ufffap\ufffbs", "ops", 0},
		{"accents, CJK, right-to-left, emoji", "Équipe 運用 עברית 👍", "Équipe 運用 עברית 👍", 0},
		{"cut, not counting what is dropped", "a\u200bb\u200bc\u200bd", "abc…", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := deliver.OneLine(tt.in, tt.max); got != tt.want {
				t.Errorf("OneLine(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
		})
	}
	// Every format character, whatever this test names.
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if unicode.Is(unicode.Cf, r) {
			if got := deliver.OneLine("a"+string(r)+"b", 0); got != "ab" {
				t.Errorf("OneLine keeps %U: %q", r, got)
			}
		}
	}
}
