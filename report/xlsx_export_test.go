package report

import (
	"testing"
	"time"
)

// SetXLSXLimits sets, for the rest of the test, how many rows a sheet of
// report.xlsx holds (header included) and how many hyperlinks a sheet gets,
// so that the split into "Name (2)" and the link cap can be tested without a
// million rows. A test that calls it must not run in parallel.
func SetXLSXLimits(t testing.TB, rows, links int) {
	t.Helper()
	oldRows, oldLinks := xlsxMaxRows, xlsxMaxLinks
	xlsxMaxRows, xlsxMaxLinks = rows, links
	t.Cleanup(func() { xlsxMaxRows, xlsxMaxLinks = oldRows, oldLinks })
}

// SetSortInMemory sets, for the rest of the test, how many instances the
// Instances sheet is sorted in memory for, so that a test can make the sort
// go to disk. A test that calls it must not run in parallel.
func SetSortInMemory(t testing.TB, n int) {
	t.Helper()
	old := sortInMemory
	sortInMemory = n
	t.Cleanup(func() { sortInMemory = old })
}

// SetXLSXClock sets, for the rest of the test, the clock report.xlsx reads
// when its record says no time the run ended. A test that calls it must
// not run in parallel.
func SetXLSXClock(t testing.TB, now func() time.Time) {
	t.Helper()
	old := xlsxNow
	xlsxNow = now
	t.Cleanup(func() { xlsxNow = old })
}
