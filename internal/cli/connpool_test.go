package cli

import (
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestConnsCoverEveryAccountRegion: the pool of idle connections is sized
// by awsconn.Settings.Conns, the calls that may be in flight at once
// (awsconn's TestIdlePoolHoldsConns shows a pool of that size keeping
// them). An organisation's account-regions are audited at once, each with
// --concurrency workers, and on AWS those of one region share its host:
// Conns was --concurrency alone, so a run of 64 account-regions closed
// most connections after each call and dialled about one call in two
// anew (43,584 connections for 79,509 calls, measured against the
// simulator's organisation of 32 accounts in 2 regions).
func TestConnsCoverEveryAccountRegion(t *testing.T) {
	for _, c := range []int{1, 16, 64} {
		o := defaultRunOptions()
		o.concurrency = c
		if got, want := o.awsSettings().Conns, c*audit.DefaultSites; got < want {
			t.Errorf("--concurrency %d: Conns %d, want at least %d (%d account-regions at once)", c, got, want, audit.DefaultSites)
		}
	}
}
