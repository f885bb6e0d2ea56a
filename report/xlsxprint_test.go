package report_test

import (
	"fmt"
	"testing"

	"github.com/auditor-dev/auditor/report"
)

// TestXLSXListsPrint: every list sheet, split ones included, prints its
// header row on every page (the sheet's own _xlnm.Print_Titles), landscape
// and fitted to the page's width, as many pages long as it takes.
func TestXLSXListsPrint(t *testing.T) {
	fx := fixtureNamed(t, "mixed")
	report.SetXLSXLimits(t, 6, 2000) // a header and 5 rows per sheet: split lists too
	f, _ := renderXLSX(t, fx)
	titles := map[string]string{}
	for _, dn := range f.GetDefinedName() {
		if dn.Name == "_xlnm.Print_Titles" {
			titles[dn.Scope] = dn.RefersTo
		}
	}
	sheets := f.GetSheetList()[1:]
	if len(sheets) < 8 {
		t.Fatalf("sheets %q, want the mixed fixture's lists", sheets)
	}
	for _, sheet := range sheets {
		if want := fmt.Sprintf("'%s'!$1:$1", sheet); titles[sheet] != want {
			t.Errorf("%s: print titles %q, want %q", sheet, titles[sheet], want)
		}
		pl, err := f.GetPageLayout(sheet)
		if err != nil {
			t.Fatal(err)
		}
		if pl.Orientation == nil || *pl.Orientation != "landscape" {
			t.Errorf("%s: orientation %v, want landscape", sheet, deref(pl.Orientation))
		}
		if pl.FitToWidth == nil || *pl.FitToWidth != 1 || pl.FitToHeight == nil || *pl.FitToHeight != 0 {
			t.Errorf("%s: fit to %v wide by %v tall, want 1 by 0 (as many pages as it takes)", sheet, deref(pl.FitToWidth), deref(pl.FitToHeight))
		}
		props, err := f.GetSheetProps(sheet)
		if err != nil {
			t.Fatal(err)
		}
		if props.FitToPage == nil || !*props.FitToPage {
			t.Errorf("%s: fitToPage not set: Excel ignores the fit", sheet)
		}
	}
	checkAutoFilters(t, f)
}

// deref is *p, or "unset" when p is nil.
func deref[T any](p *T) any {
	if p == nil {
		return "unset"
	}
	return *p
}
