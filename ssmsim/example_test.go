package ssmsim_test

import (
	"fmt"
	"time"

	"github.com/auditor-dev/auditor/ssmsim"
)

// An organisation of three active accounts in two regions (and a suspended
// account), whose Staging account's AuditRole refuses every caller, served
// by one endpoint.
func ExampleNewOrg() {
	accounts := ssmsim.DefaultAccounts(3, 1)
	accounts[2].Roles = []ssmsim.Role{{Name: "AuditRole", Refuse: true}}
	org, err := ssmsim.NewOrg(ssmsim.OrgConfig{
		Seed:     1,
		Accounts: accounts,
		Regions:  []ssmsim.Region{{Name: "us-east-1"}, {Name: "eu-west-1"}, {Name: "af-south-1", OptIn: true}},
		Fleet:    ssmsim.FleetConfig{Size: 100},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := ssmsim.NewServer(nil, ssmsim.Options{Org: org})
	_ = srv // srv.Start() returns the endpoint URL for every client
	for _, a := range org.Accounts() {
		fmt.Println(a.ID, a.Status, a.Name, org.EnabledRegions(a.ID))
	}
	for _, ar := range org.FleetRegions() {
		fmt.Println(ar.Account, ar.Region, len(org.Fleet(ar.Account, ar.Region).ManagedIDs()), "managed")
	}
	fmt.Println(org.RoleARN(accounts[1].ID, "AuditRole"))
	// Output:
	// 123456789012 ACTIVE Management [us-east-1 eu-west-1]
	// 942890963516 ACTIVE Production [us-east-1 eu-west-1 af-south-1]
	// 890594667218 ACTIVE Staging [us-east-1 eu-west-1]
	// 310952589010 SUSPENDED Closed Sandbox [us-east-1 eu-west-1]
	// 123456789012 us-east-1 98 managed
	// 123456789012 eu-west-1 97 managed
	// 942890963516 us-east-1 95 managed
	// 942890963516 eu-west-1 99 managed
	// 890594667218 us-east-1 97 managed
	// 890594667218 eu-west-1 96 managed
	// arn:aws:iam::942890963516:role/AuditRole
}

// A week later: some failures resolved, new ones, instances added and
// removed, and the exact list of what changed.
func ExampleFleet_Drift() {
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 1, Size: 1000})
	g, changes := f.Drift(ssmsim.DriftConfig{Seed: 1, Elapsed: 7 * 24 * time.Hour})
	fmt.Println(f.BaseTime().Format(time.DateOnly), "->", g.BaseTime().Format(time.DateOnly))
	for _, kind := range ssmsim.ChangeKinds() {
		fmt.Println(kind, changes.Count(kind))
	}
	// Output:
	// 2025-06-02 -> 2025-06-09
	// resolved 155
	// new_failure 108
	// association_added 10
	// association_removed 10
	// instance_added 20
	// instance_removed 18
}
