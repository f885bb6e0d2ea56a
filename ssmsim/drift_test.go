package ssmsim_test

import (
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/auditor-dev/auditor/ssmsim"
)

// changeKey identifies a change without its associations.
func changeKey(c ssmsim.Change) string {
	return fmt.Sprintf("%s/%s %s %s %s", c.Account, c.Region, c.InstanceID, c.AssociationID, c.Kind)
}

// observeDrift lists the changes between two fleets through their public
// API only, as a client comparing two runs would see them.
func observeDrift(t *testing.T, before, after *ssmsim.Fleet) []ssmsim.Change {
	t.Helper()
	var out []ssmsim.Change
	inBefore := map[string]bool{}
	for _, id := range before.IDs() {
		inBefore[id] = true
	}
	for _, id := range after.IDs() {
		if !inBefore[id] && after.Managed(id) {
			out = append(out, ssmsim.Change{InstanceID: id, Kind: ssmsim.ChangeInstanceAdded})
		}
	}
	for _, id := range before.ManagedIDs() {
		if !after.Managed(id) {
			out = append(out, ssmsim.Change{InstanceID: id, Kind: ssmsim.ChangeInstanceRemoved})
			continue
		}
		was, is := map[string]ssmsim.Association{}, map[string]ssmsim.Association{}
		for _, a := range before.Associations(id) {
			was[a.AssociationID] = a
		}
		for _, a := range after.Associations(id) {
			is[a.AssociationID] = a
		}
		for aid, b := range was {
			a, ok := is[aid]
			switch {
			case !ok:
				out = append(out, ssmsim.Change{InstanceID: id, AssociationID: aid, Kind: ssmsim.ChangeAssociationRemoved, Before: b})
			case b.Status == "Failed" && a.Status == "Success":
				out = append(out, ssmsim.Change{InstanceID: id, AssociationID: aid, Kind: ssmsim.ChangeResolved, Before: b, After: a})
			case b.Status == "Success" && a.Status == "Failed":
				out = append(out, ssmsim.Change{InstanceID: id, AssociationID: aid, Kind: ssmsim.ChangeNewFailure, Before: b, After: a})
			case !sameAssociation(a, b):
				t.Errorf("%s %s changed without a change of status:\n%+v\n%+v", id, aid, b, a)
			}
		}
		for aid, a := range is {
			if _, ok := was[aid]; !ok {
				out = append(out, ssmsim.Change{InstanceID: id, AssociationID: aid, Kind: ssmsim.ChangeAssociationAdded, After: a})
			}
		}
	}
	return out
}

func sameAssociation(a, b ssmsim.Association) bool {
	if !a.ExecutionDate.Equal(b.ExecutionDate) {
		return false
	}
	a.ExecutionDate, b.ExecutionDate = time.Time{}, time.Time{}
	return a == b
}

// checkChanges compares the changes Drift reported with those observed:
// the same set, the same associations before and after, and changed
// executions dated after the old ones and no later than the new base time.
func checkChanges(t *testing.T, got ssmsim.Changes, observed []ssmsim.Change, newBase time.Time) {
	t.Helper()
	want := map[string]ssmsim.Change{}
	for _, c := range observed {
		want[changeKey(c)] = c
	}
	seen := map[string]bool{}
	for _, c := range got {
		k := changeKey(c)
		if seen[k] {
			t.Errorf("change listed twice: %s", k)
		}
		seen[k] = true
		w, ok := want[k]
		if !ok {
			t.Errorf("reported but not observed: %s", k)
			continue
		}
		if !sameAssociation(c.Before, w.Before) || !sameAssociation(c.After, w.After) {
			t.Errorf("%s:\n reported %+v -> %+v\n observed %+v -> %+v", k, c.Before, c.After, w.Before, w.After)
		}
		switch c.Kind {
		case ssmsim.ChangeResolved, ssmsim.ChangeNewFailure:
			if !c.After.ExecutionDate.After(c.Before.ExecutionDate) || c.After.ExecutionDate.After(newBase) {
				t.Errorf("%s: executed %v, then %v; want later, and not after %v", k, c.Before.ExecutionDate, c.After.ExecutionDate, newBase)
			}
		}
		if c.Kind == ssmsim.ChangeNewFailure && c.After.ErrorCode == "" {
			t.Errorf("%s: a new failure without an ErrorCode", k)
		}
		if c.Kind == ssmsim.ChangeResolved && (c.After.ErrorCode != "" || c.After.DetailedStatus != "Success") {
			t.Errorf("%s: resolved, but %+v", k, c.After)
		}
	}
	for k := range want {
		if !seen[k] {
			t.Errorf("observed but not reported: %s", k)
		}
	}
}

func TestFleetDrift(t *testing.T) {
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 5, Size: 2000})
	ids := f.IDs()
	sample := f.ManagedIDs()[:50]
	var sampleBefore [][]ssmsim.Association
	for _, id := range sample {
		sampleBefore = append(sampleBefore, f.Associations(id))
	}

	const week = 7 * 24 * time.Hour
	g, changes := f.Drift(ssmsim.DriftConfig{Seed: 7, Elapsed: week})

	if !slices.Equal(f.IDs(), ids) {
		t.Fatal("Drift changed the parent's IDs")
	}
	for k, id := range sample {
		sameAssociations(t, f.Associations(id), sampleBefore[k])
	}
	if want := f.BaseTime().Add(week); !g.BaseTime().Equal(want) {
		t.Errorf("BaseTime %v, want %v", g.BaseTime(), want)
	}
	checkChanges(t, changes, observeDrift(t, f, g), g.BaseTime())
	for _, kind := range ssmsim.ChangeKinds() {
		if changes.Count(kind) == 0 {
			t.Errorf("no %s among %d changes", kind, len(changes))
		}
	}
	// Added and removed: about 2% of the managed instances each.
	managed := len(f.ManagedIDs())
	if n := changes.Count(ssmsim.ChangeInstanceAdded); n != int(float64(managed)*0.02+0.5) {
		t.Errorf("%d instances added, want 2%% of %d", n, managed)
	}
	if n := len(g.ManagedIDs()); n != managed+changes.Count(ssmsim.ChangeInstanceAdded)-changes.Count(ssmsim.ChangeInstanceRemoved) {
		t.Errorf("%d managed after the drift", n)
	}
	// Removed IDs stay in the fleet, unmanaged; added ones are new.
	seen := map[string]bool{}
	for _, id := range g.IDs() {
		if seen[id] {
			t.Errorf("%s twice in the drifted fleet", id)
		}
		seen[id] = true
	}
	for _, c := range changes {
		if c.Kind == ssmsim.ChangeInstanceRemoved && (!seen[c.InstanceID] || g.Managed(c.InstanceID)) {
			t.Errorf("removed %s: in the fleet %v, managed %v", c.InstanceID, seen[c.InstanceID], g.Managed(c.InstanceID))
		}
	}
	// An online agent has pinged lately whenever the fleet is looked at.
	for _, id := range g.ManagedIDs() {
		in, _ := g.Instance(id)
		if in.PingStatus == "Online" && g.BaseTime().Sub(in.LastPingDateTime) > 5*time.Minute {
			t.Errorf("%s: online, last ping %v before the base time", id, g.BaseTime().Sub(in.LastPingDateTime))
			break
		}
	}

	t.Run("deterministic", func(t *testing.T) {
		_, again := f.Drift(ssmsim.DriftConfig{Seed: 7, Elapsed: week})
		if fmt.Sprint(again) != fmt.Sprint(changes) {
			t.Error("the same seed drifted another way")
		}
		_, other := f.Drift(ssmsim.DriftConfig{Seed: 8, Elapsed: week})
		if fmt.Sprint(other) == fmt.Sprint(changes) {
			t.Error("another seed drifted the same way")
		}
	})

	t.Run("drifted again", func(t *testing.T) {
		h, more := g.Drift(ssmsim.DriftConfig{Seed: 9, Elapsed: week})
		checkChanges(t, more, observeDrift(t, g, h), h.BaseTime())
		if len(more) == 0 || !h.BaseTime().Equal(f.BaseTime().Add(2*week)) {
			t.Errorf("%d changes, BaseTime %v", len(more), h.BaseTime())
		}
		// The first drift's fleet is untouched by the second.
		checkChanges(t, changes, observeDrift(t, f, g), g.BaseTime())
	})

	t.Run("no elapsed time", func(t *testing.T) {
		h, cs := f.Drift(ssmsim.DriftConfig{Seed: 3})
		if !h.BaseTime().Equal(f.BaseTime()) {
			t.Errorf("BaseTime moved to %v", h.BaseTime())
		}
		checkChanges(t, cs, observeDrift(t, f, h), f.BaseTime())
	})

	t.Run("none of anything", func(t *testing.T) {
		h, cs := f.Drift(ssmsim.DriftConfig{Seed: 3, Resolved: -1, NewFailures: -1, Added: -1, Removed: -1,
			AssociationsAdded: -1, AssociationsRemoved: -1})
		if len(cs) != 0 || len(observeDrift(t, f, h)) != 0 {
			t.Errorf("%d changes reported, %d observed; want none", len(cs), len(observeDrift(t, f, h)))
		}
	})

	t.Run("every failure resolved", func(t *testing.T) {
		h, cs := f.Drift(ssmsim.DriftConfig{Seed: 3, Resolved: 1, NewFailures: -1, Added: -1, Removed: -1,
			AssociationsAdded: -1, AssociationsRemoved: -1, Elapsed: time.Hour})
		checkChanges(t, cs, observeDrift(t, f, h), h.BaseTime())
		for _, id := range h.ManagedIDs() {
			for _, a := range h.Associations(id) {
				if a.Status == "Failed" {
					t.Fatalf("%s %s still failed", id, a.AssociationID)
				}
			}
		}
	})
}

func TestHandMadeFleetDrift(t *testing.T) {
	base := ssmsim.DefaultBaseTime
	f := ssmsim.NewFleet(ssmsim.FleetConfig{})
	for k := range 40 {
		f.Add(ssmsim.Instance{
			InstanceID: fmt.Sprintf("i-%017x", k+1), PingStatus: "Online", LastPingDateTime: base.Add(-time.Minute),
			Associations: []ssmsim.Association{
				{AssociationID: "00000000-0000-4000-8000-000000000001", Status: "Failed", DetailedStatus: "Failed", ErrorCode: "InvalidAssoc", ExecutionDate: base.Add(-time.Hour)},
				{AssociationID: "00000000-0000-4000-8000-000000000002", Status: "Success", DetailedStatus: "Success", ExecutionDate: base.Add(-2 * time.Hour)},
				{AssociationID: "00000000-0000-4000-8000-000000000003", Status: "Pending", DetailedStatus: "Associated"},
			},
		})
	}
	g, cs := f.Drift(ssmsim.DriftConfig{Seed: 1, Resolved: 0.5, NewFailures: 0.5, Removed: 0.1, Added: 0.1, AssociationsRemoved: 0.2, Elapsed: time.Hour})
	checkChanges(t, cs, observeDrift(t, f, g), g.BaseTime())
	for _, kind := range []ssmsim.ChangeKind{ssmsim.ChangeResolved, ssmsim.ChangeNewFailure, ssmsim.ChangeInstanceAdded,
		ssmsim.ChangeInstanceRemoved, ssmsim.ChangeAssociationRemoved} {
		if cs.Count(kind) == 0 {
			t.Errorf("no %s among %v", kind, cs)
		}
	}
	for _, id := range g.ManagedIDs() {
		if in, _ := g.Instance(id); in.PingStatus == "Online" && g.BaseTime().Sub(in.LastPingDateTime) > 5*time.Minute {
			t.Errorf("%s: last ping %v", id, in.LastPingDateTime)
		}
		for _, a := range g.Associations(id) {
			if a.AssociationID == "00000000-0000-4000-8000-000000000003" && a.Status != "Pending" {
				t.Errorf("%s: a pending association changed: %+v", id, a)
			}
		}
	}
}

// TestDriftAsServed checks Changes against what two servers answer: one
// serving a fleet, one its drifted copy.
func TestDriftAsServed(t *testing.T) {
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 11, Size: 400})
	g, changes := f.Drift(ssmsim.DriftConfig{Seed: 2, Elapsed: 24 * time.Hour})
	_, beforeURL := start(t, f, ssmsim.Options{})
	_, afterURL := start(t, g, ssmsim.Options{})
	before, after := client(beforeURL, testKey), client(afterURL, testKey)

	listed := func(c *ssm.Client) map[string]overview {
		m := map[string]overview{}
		p := ssm.NewDescribeInstanceInformationPaginator(c, &ssm.DescribeInstanceInformationInput{MaxResults: aws.Int32(50)})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx(t))
			if err != nil {
				t.Fatal(err)
			}
			for _, in := range out.InstanceInformationList {
				ov := overview{status: aws.ToString(in.AssociationStatus)}
				if in.AssociationOverview != nil {
					ov.counts = in.AssociationOverview.InstanceAssociationStatusAggregatedCount
				}
				m[aws.ToString(in.InstanceId)] = ov
			}
		}
		return m
	}
	statuses := func(c *ssm.Client, id string) (map[string]string, error) {
		m := map[string]string{}
		p := ssm.NewDescribeInstanceAssociationsStatusPaginator(c, &ssm.DescribeInstanceAssociationsStatusInput{InstanceId: aws.String(id)})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx(t))
			if err != nil {
				return nil, err
			}
			for _, a := range out.InstanceAssociationStatusInfos {
				m[aws.ToString(a.AssociationId)] = aws.ToString(a.Status)
			}
		}
		return m, nil
	}

	was, is := listed(before), listed(after)
	var added, removed []string
	for id := range is {
		if _, ok := was[id]; !ok {
			added = append(added, id)
		}
	}
	for id := range was {
		if _, ok := is[id]; !ok {
			removed = append(removed, id)
		}
	}
	var wantAdded, wantRemoved []string
	for _, c := range changes {
		switch c.Kind {
		case ssmsim.ChangeInstanceAdded:
			wantAdded = append(wantAdded, c.InstanceID)
		case ssmsim.ChangeInstanceRemoved:
			wantRemoved = append(wantRemoved, c.InstanceID)
		}
	}
	for _, l := range [][]string{added, removed, wantAdded, wantRemoved} {
		sort.Strings(l)
	}
	if !slices.Equal(added, wantAdded) || !slices.Equal(removed, wantRemoved) || len(added) == 0 || len(removed) == 0 {
		t.Errorf("served: added %v, removed %v\nChanges: added %v, removed %v", added, removed, wantAdded, wantRemoved)
	}

	// Every instance served after the drift: its overview agrees with its
	// associations, and each association's status is the one before unless
	// Changes says otherwise.
	changed := map[string]ssmsim.Change{}
	for _, c := range changes {
		changed[c.InstanceID+" "+c.AssociationID] = c
	}
	for id, ov := range is {
		now, err := statuses(after, id)
		if err != nil {
			t.Fatalf("%s after: %v", id, err)
		}
		checkOverview(t, id, ov, g.Associations(id))
		if _, ok := was[id]; !ok {
			continue
		}
		then, err := statuses(before, id)
		if err != nil {
			t.Fatalf("%s before: %v", id, err)
		}
		for aid, st := range now {
			c, ok := changed[id+" "+aid]
			switch {
			case ok && c.Kind == ssmsim.ChangeAssociationAdded:
				if _, had := then[aid]; had || st != c.After.Status {
					t.Errorf("%s %s: added, but served before (%v) or as %s", id, aid, had, st)
				}
			case ok:
				if then[aid] != c.Before.Status || st != c.After.Status {
					t.Errorf("%s %s: %s -> %s served, Changes says %s -> %s", id, aid, then[aid], st, c.Before.Status, c.After.Status)
				}
			case then[aid] != st:
				t.Errorf("%s %s: %s -> %s served, and no change listed", id, aid, then[aid], st)
			}
		}
		for aid := range then {
			if _, ok := now[aid]; !ok && changed[id+" "+aid].Kind != ssmsim.ChangeAssociationRemoved {
				t.Errorf("%s %s: gone, and no removal listed", id, aid)
			}
		}
	}
	// A removed instance is InvalidInstanceId after the drift.
	_, err := statuses(after, wantRemoved[0])
	if code, _, _ := apiCode(t, err); code != "InvalidInstanceId" {
		t.Errorf("removed %s: %v, want InvalidInstanceId", wantRemoved[0], err)
	}
	_, err = statuses(before, wantAdded[0])
	if code, _, _ := apiCode(t, err); code != "InvalidInstanceId" {
		t.Errorf("added %s, before the drift: %v, want InvalidInstanceId", wantAdded[0], err)
	}
}

func TestOrgDrift(t *testing.T) {
	o := testOrg(t, nil)
	d, changes := o.Drift(ssmsim.DriftConfig{Seed: 4, Elapsed: 24 * time.Hour, Added: 0.1, Removed: 0.1})
	if len(d.Accounts()) != len(o.Accounts()) || d.ID() != o.ID() {
		t.Fatal("the drifted organisation has other accounts")
	}
	byAR := map[ssmsim.AccountRegion]ssmsim.Changes{}
	for _, c := range changes {
		ar := ssmsim.AccountRegion{Account: c.Account, Region: c.Region}
		byAR[ar] = append(byAR[ar], c)
	}
	seen := map[string]ssmsim.AccountRegion{}
	for _, ar := range o.FleetRegions() {
		before, after := o.Fleet(ar.Account, ar.Region), d.Fleet(ar.Account, ar.Region)
		var observed []ssmsim.Change
		for _, c := range observeDrift(t, before, after) {
			c.Account, c.Region = ar.Account, ar.Region
			observed = append(observed, c)
		}
		checkChanges(t, byAR[ar], observed, after.BaseTime())
		if byAR[ar].Count(ssmsim.ChangeInstanceAdded) == 0 {
			t.Errorf("%v: no instance added", ar)
		}
		delete(byAR, ar)
		for _, id := range after.IDs() {
			if prev, dup := seen[id]; dup {
				t.Errorf("%s in %v and %v", id, prev, ar)
			}
			seen[id] = ar
		}
	}
	if len(byAR) != 0 {
		t.Errorf("changes in account-regions without fleets: %v", byAR)
	}

	// The drifted organisation is served like the first: roles and keys
	// are the same, the fleets are the drifted ones.
	_, url := startOrg(t, d, ssmsim.Options{})
	ar := o.FleetRegions()[1]
	c := ssm.NewFromConfig(sdkConfig(url, ar.Region, assumed(url, d, ar.Account, "AuditRole")))
	out, err := c.DescribeInstanceInformation(ctx(t), &ssm.DescribeInstanceInformationInput{MaxResults: aws.Int32(50)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, in := range out.InstanceInformationList {
		got = append(got, aws.ToString(in.InstanceId))
	}
	if want := d.Fleet(ar.Account, ar.Region).ManagedIDs(); !slices.Equal(got, want) {
		t.Errorf("served %v\nwant %v", got, want)
	}
}

func TestDrift100k(t *testing.T) {
	if testing.Short() {
		t.Skip("drifts 100,000 instances; skipped with -short")
	}
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 1, Size: 100_000})
	g, cs := f.Drift(ssmsim.DriftConfig{Seed: 1})
	if g.Len() <= f.Len() || len(cs) < 1000 {
		t.Errorf("%d IDs after, %d before, %d changes", g.Len(), f.Len(), len(cs))
	}
	// Spot-check the truth on a slice of the fleet.
	for _, c := range cs[:200] {
		switch c.Kind {
		case ssmsim.ChangeResolved, ssmsim.ChangeNewFailure:
			var got ssmsim.Association
			for _, a := range g.Associations(c.InstanceID) {
				if a.AssociationID == c.AssociationID {
					got = a
				}
			}
			if !sameAssociation(got, c.After) {
				t.Errorf("%s %s: served %+v, Changes says %+v", c.InstanceID, c.AssociationID, got, c.After)
			}
		}
	}
}
