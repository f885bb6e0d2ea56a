package report_test

import "testing"

// TestMailHeadingsWholeWords: on a phone, the mail's column headings break
// between words, never inside one ("Faile|d").
func TestMailHeadingsWholeWords(t *testing.T) {
	if testing.Short() {
		t.Skip("starts headless Chromium (seconds); runs without -short, as in CI")
	}
	browser := startBrowser(t, t)
	fx := fixtureNamed(t, "mixed")
	_, mailPath := a11yPages(t, fx.results, fx.run)
	tab := showAt(t, browser, mailPath, 390, 844)
	const broken = `() => [...document.querySelectorAll("table.data th")].filter(th => {
		const s = getComputedStyle(th);
		return s.overflowWrap !== "normal" || s.wordBreak !== "normal";
	}).map(th => th.innerText)`
	if probs := evalProblems(t, tab, broken); len(probs) > 0 {
		t.Errorf("headings that may break inside a word: %q", probs)
	}
}
