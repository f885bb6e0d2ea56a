// Package skipped calls AWS only from what the scan leaves out: a test
// file, the simulated endpoint and test data.
package skipped
