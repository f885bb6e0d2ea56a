// Package bidi finds and removes the Unicode bidi controls that reorder the
// text after them, for untrusted text shown to people: a U+202E
// RIGHT-TO-LEFT OVERRIDE at the end of a value reverses everything after it
// to the end of its paragraph or line.
package bidi

import "strings"

// IsControl reports whether r is one of the Unicode bidi controls that act
// on the text after them: the embeddings, overrides and their pop
// (U+202A-U+202E) and the isolates (U+2066-U+2069). The marks U+200E,
// U+200F and U+061C are not: each acts as one letter of its direction, no
// more than any Hebrew or Latin letter could, and right-to-left text needs
// them to place its punctuation.
func IsControl(r rune) bool {
	return (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069')
}

// Strip returns s without its bidi controls (see IsControl).
func Strip(s string) string {
	if !strings.ContainsFunc(s, IsControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if IsControl(r) {
			return -1
		}
		return r
	}, s)
}
