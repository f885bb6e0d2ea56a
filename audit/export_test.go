package audit

import "testing"

// SetIndexInMemory sets, for the rest of the test, how many instances a
// record's index is held in memory for, so that tests can make any record's
// index go to disk. A test that calls it must not run in parallel.
func SetIndexInMemory(t testing.TB, n int) {
	t.Helper()
	old := indexInMemory
	indexInMemory = n
	t.Cleanup(func() { indexInMemory = old })
}

// PassedLimit is passedLimit, for the tests of package audit_test.
var PassedLimit = passedLimit

// EncodedLen is encodedLen, for the tests of package audit_test.
var EncodedLen = encodedLen
