// Package drifttest says, for tests, what an audit must find between two
// runs against a fleet and the drifted copy the simulator made of it.
package drifttest

import (
	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// Expected returns the count of each kind of change that audit.Compare must
// find between a fleet and after, its drift by changes: the simulator's
// kinds, with the failures of added instances and of added associations
// counted as new failures too. Failures that persist (StillFailing) are not
// among the simulator's changes and are left out.
func Expected(after *ssmsim.Fleet, changes ssmsim.Changes) audit.ChangeCounts {
	want := audit.ChangeCounts{}
	for _, c := range changes {
		switch c.Kind {
		case ssmsim.ChangeResolved:
			want[audit.Resolved]++
		case ssmsim.ChangeNewFailure:
			want[audit.NewFailure]++
		case ssmsim.ChangeAssociationAdded:
			want[audit.NewAssociation]++
			if c.After.Status == audit.StatusFailed {
				want[audit.NewFailure]++
			}
		case ssmsim.ChangeAssociationRemoved:
			want[audit.VanishedAssociation]++
		case ssmsim.ChangeInstanceRemoved:
			want[audit.VanishedInstance]++
		case ssmsim.ChangeInstanceAdded:
			want[audit.NewInstance]++
			for _, a := range after.Associations(c.InstanceID) {
				if a.Status == audit.StatusFailed {
					want[audit.NewFailure]++
				}
			}
		}
	}
	return want
}
