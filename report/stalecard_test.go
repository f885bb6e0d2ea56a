package report_test

import (
	"regexp"
	"testing"
)

// TestStaleCardApart: the stale card, a count of associations, is told
// from the instance cards: not in the Pending card's colour, and labelled
// as associations.
func TestStaleCardApart(t *testing.T) {
	fx := fixtureNamed(t, "mixed")
	page := string(renderHTML(t, fx.options(t)))
	card := regexp.MustCompile(`(?s)<div class="card" id="card-stale" style="([^"]*)">`).FindStringSubmatch(page)
	pending := regexp.MustCompile(`(?s)<div class="card" id="card-pending" style="([^"]*)">`).FindStringSubmatch(page)
	if card == nil || pending == nil {
		t.Fatal("no stale or pending card")
	}
	top := regexp.MustCompile(`border-top:[^;]*`)
	if top.FindString(card[1]) == top.FindString(pending[1]) {
		t.Errorf("the stale card's top border is the pending card's: %q", top.FindString(card[1]))
	}
	if !regexp.MustCompile(`(?s)id="cards-associations".*id="card-stale"`).MatchString(page) {
		t.Error("the stale card is not set apart under an associations label")
	}
}
