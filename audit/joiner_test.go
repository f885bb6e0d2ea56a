package audit

import "testing"

// TestJoinerOnlyWhereAScriptJoins: a zero-width joiner or non-joiner was
// let in between any two characters past ASCII, so that "Иван" and
// "И\u200cван", or two CJK names, were two owners that read as one. It is
// refused next to a letter of a script that never writes one (Latin,
// Cyrillic, Greek, CJK...), past the letter's marks, and still let in
// where a script writes it (Arabic and Persian with their vowel signs,
// Syriac, the Indic scripts, Khmer, Myanmar) and inside an emoji sequence.
func TestJoinerOnlyWhereAScriptJoins(t *testing.T) {
	for _, tc := range []struct {
		v  string
		ok bool
	}{
		{"تیم\u200cفروش", true},            // Persian, non-joiner inside a word
		{"क्\u200dष", true},                // Devanagari, a half form
		{"👨\u200d💻", true},                 // an emoji sequence
		{"👩🏽\u200d🔬", true},                // with a skin tone
		{"🏳\ufe0f\u200d🌈", true},           // after a variation selector
		{"И\u200cван", false},              // Cyrillic
		{"Müller\u200dMöller", false},      // Latin past ASCII
		{"山田\u200c太郎", false},              // CJK
		{"\u200cتیم", false},               // at an end
		{"تیم\u200c\u200cفروش", false},     // two in a row
		{"al\u200dice", false},             // ASCII
		{"👨\u200dИ", false},                // an emoji joined to a letter
		{"ИванИ\u200d👨", false},            // a letter joined to an emoji
		{"\u0915\u094d\u200c\u0937", true}, // Devanagari, a non-joiner after virama
		{"ܫܠܡ\u200dܐ", true},               // Syriac
		{"بِ\u200cها", true},               // Persian, a vowel sign before
		{"ក្\u200dស", true},                // Khmer
		{"မ\u200cန", true},                 // Myanmar
		{"🙂\u200d↔\ufe0f", true},           // an emoji sequence with a math symbol
		{"И\u0301\u200cван", false},        // Cyrillic, past its accent
		{"é\u200dé", false},                // Latin past ASCII
		{"র\u200d্যাব", true},              // Bengali ya-phala: a virama after
		{"ක\u200d්ව", true},                // Sinhala touching letters
		{"И\u200d\u0301", false},           // Cyrillic, an accent after
		{"ส\u200cมชาย", false},             // Thai
		{"Ꭺ\u200dᏴ", false},                // Cherokee, which reads as Latin
		{"ㄅ\u200cㄆ", false},                // Bopomofo
	} {
		if got := ValidLabel(tc.v) == ""; got != tc.ok {
			t.Errorf("ValidLabel(%+q) accepts: %v, want %v", tc.v, got, tc.ok)
		}
	}
}
