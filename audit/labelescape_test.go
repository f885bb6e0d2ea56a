package audit_test

import (
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestEscapeLabel: a tag's value comes from anyone who may tag an
// instance, and cannot be refused as a list's label is; EscapeLabel
// writes each character ValidLabel refuses as its Go escape, so that
// "ops" and "ops\u200b" are two groups that read as two and no escape
// reaches a file or a terminal. A real backslash that would read as the
// start of an escape is doubled, so that a tag spelt "ops\u200b" is not
// the zero-width space's. Text as people write it is kept.
func TestEscapeLabel(t *testing.T) {
	tests := []struct {
		name, in, want string
		changed        bool
	}{
		{"plain", "ops", "ops", false},
		{"accents, CJK, emoji", "Équipe 運用 👩‍💻", "Équipe 運用 👩‍💻", false},
		{"Persian with its non-joiner", "می‌خواهم", "می‌خواهم", false},
		{"a backslash before nothing an escape starts with", `CORP\ops`, `CORP\ops`, false},
		{"a zero-width space", "ops\u200b", `ops\u200b`, true},
		{"a word joiner and a BOM", "o\u2060p\ufeffs", `o\u2060p\ufeffs`, true},
		{"a soft hyphen", "op\u00ads", `op\u00ads`, true},
		{"a right-to-left override", "bob\u202e", `bob\u202e`, true},
		{"a no-break space", "a\u00a0b", `a\u00a0b`, true},
		{"a joiner between Latin letters", "o\u200dps", `o\u200dps`, true},
		{"a terminal escape and OSC 8", "\x1b]8;;http://x\x1b\\ops\x1b]8;;\x1b\\", `\x1b]8;;http://x\x1b\ops\x1b]8;;\x1b\`, true},
		{"a tab and a line break", "a\tb\nc", `a\x09b\x0ac`, true},
		{"a real backslash spelling an escape", `ops\u200b`, `ops\\u200b`, true},
		{"a real backslash before a tab", "a\\\tb", `a\\\x09b`, true},
		{"two real backslashes before a zero-width space", "a\\\\\u200b", `a\\\\\u200b`, true},
		{"two real backslashes spelling an escape", `a\\u200b`, `a\\\\u200b`, true},
		{"a real backslash spelling a byte", `C:\x64`, `C:\\x64`, true},
		{"a real backslash spelling a long escape", `\U0001f600`, `\\U0001f600`, true},
		{"a backslash before a letter of Go's short escapes", `CORP\bob`, `CORP\bob`, false},
		{"a Windows account", `DOMAIN\user`, `DOMAIN\user`, false},
		{"a Windows path", `C:\Users\Admin`, `C:\Users\Admin`, false},
		{"a UNC path", `\\server\share`, `\\server\share`, false},
		{"a backslash before too few hex digits", `a\u20`, `a\u20`, false},
		{"a tag character", "a\U000E0041", `a\U000e0041`, true},
		{"a real backslash at the end", `ops\`, `ops\`, false},
		{"a byte that is not UTF-8", "ops\xff", `ops\xff`, true},
		{"a joiner beside a control past ASCII", "\u0080\u200d\u0628", `\u0080\u200d` + "\u0628", true},
		{"a joiner before a control past ASCII", "\u0628\u200d\u009f", "\u0628" + `\u200d\u009f`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed := audit.EscapeLabel(tt.in)
			if got != tt.want || changed != tt.changed {
				t.Errorf("EscapeLabel(%q) = %q, %v; want %q, %v", tt.in, got, changed, tt.want, tt.changed)
			}
			if p := audit.ValidLabel(got); p != "" {
				t.Errorf("EscapeLabel(%q) = %q, which ValidLabel refuses: %s", tt.in, got, p)
			}
		})
	}
	// No two values are written alike.
	seen := map[string]string{}
	for _, tt := range tests {
		got, _ := audit.EscapeLabel(tt.in)
		if other, ok := seen[got]; ok && other != tt.in {
			t.Errorf("%q and %q are both written %q", other, tt.in, got)
		}
		seen[got] = tt.in
	}
}

// TestEscapeLabelOneToOne: no two values are written alike, over every
// value of up to six characters from those an escape is made of.
func TestEscapeLabelOneToOne(t *testing.T) {
	alphabet := []string{`\`, "u", "x", "2", "0", "0", "b", "\u200b", "\t", "\xff"}
	seen := map[string]string{}
	var walk func(prefix string, n int)
	walk = func(prefix string, n int) {
		got, _ := audit.EscapeLabel(prefix)
		if other, ok := seen[got]; ok && other != prefix {
			t.Fatalf("%q and %q are both written %q", other, prefix, got)
		}
		seen[got] = prefix
		if n == 0 {
			return
		}
		for _, c := range alphabet {
			walk(prefix+c, n-1)
		}
	}
	walk("", 6)
	if len(seen) < 100000 {
		t.Fatalf("only %d values tried", len(seen))
	}
}
