package ssmsim_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/ssmsim"
)

func TestNewFleetIsDeterministic(t *testing.T) {
	a := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 7, Size: 400})
	b := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 7, Size: 400})
	if !slices.Equal(a.IDs(), b.IDs()) {
		t.Fatal("same seed, different IDs")
	}
	for _, id := range a.IDs() {
		ia, _ := a.Instance(id)
		ib, _ := b.Instance(id)
		if !reflect.DeepEqual(ia, ib) {
			t.Fatalf("same seed, instance %s differs:\n%+v\n%+v", id, ia, ib)
		}
	}
	c := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 8, Size: 400})
	if slices.Equal(a.IDs(), c.IDs()) {
		t.Error("seeds 7 and 8 gave the same IDs")
	}
	// Asking in another order, or twice, gives the same answer: nothing
	// depends on the order instances are derived in.
	ids := a.IDs()
	slices.Reverse(ids)
	for _, id := range ids[:50] {
		if got, want := a.Associations(id), b.Associations(id); !reflect.DeepEqual(got, want) {
			t.Fatalf("associations of %s depend on the order of requests", id)
		}
	}
}

func TestNewFleetHasThePromisedMix(t *testing.T) {
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 1, Size: 3000})
	base := f.BaseTime()
	if !base.Equal(ssmsim.DefaultBaseTime) {
		t.Errorf("BaseTime = %v, want DefaultBaseTime %v", base, ssmsim.DefaultBaseTime)
	}
	idShape := map[string]*regexp.Regexp{
		"i-17":  regexp.MustCompile(`^i-[0-9a-f]{17}$`),
		"i-8":   regexp.MustCompile(`^i-[0-9a-f]{8}$`),
		"mi-17": regexp.MustCompile(`^mi-[0-9a-f]{17}$`),
	}
	uuidRE := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	summaryRE := regexp.MustCompile(`^\d out of \d plugins? processed, \d success, \d failed, \d timedout, \d skipped\. $`)
	// detailed statuses each status may carry
	consistent := map[string][]string{
		"Success": {"Success", "Skipped", ""},
		"Failed":  {"Failed", "TimedOut"},
		"Pending": {"Pending", "InProgress", "Associated"},
	}

	seen := map[string]int{}
	count := func(k string) { seen[k]++ }
	ids := f.IDs()
	if len(ids) != 3000 {
		t.Fatalf("%d IDs, want 3000", len(ids))
	}
	unique := map[string]bool{}
	for _, id := range ids {
		if unique[id] {
			t.Fatalf("ID %s twice", id)
		}
		unique[id] = true
		shape := ""
		for name, re := range idShape {
			if re.MatchString(id) {
				shape = name
			}
		}
		if shape == "" {
			t.Fatalf("ID %q has no valid shape", id)
		}
		count("id " + shape)
		if !f.Managed(id) {
			count("unmanaged")
			if f.Associations(id) != nil {
				t.Errorf("unmanaged %s has associations", id)
			}
			continue
		}
		as := f.Associations(id)
		switch n := len(as); {
		case n == 0:
			count("no associations")
		case n > 100:
			count("over 100")
		}
		docs := map[string]bool{}
		for _, a := range as {
			if a.InstanceID != id {
				t.Errorf("%s: association names instance %s", id, a.InstanceID)
			}
			if docs[a.AssociationID] {
				t.Errorf("%s: association %s twice", id, a.AssociationID)
			}
			docs[a.AssociationID] = true
			if !uuidRE.MatchString(a.AssociationID) {
				t.Errorf("AssociationId %q is not a UUID", a.AssociationID)
			}
			if !slices.Contains(consistent[a.Status], a.DetailedStatus) {
				t.Errorf("%s: Status %q with DetailedStatus %q", id, a.Status, a.DetailedStatus)
			}
			if a.ErrorCode != "" && a.Status != "Failed" {
				t.Errorf("%s: ErrorCode %q on a %s association", id, a.ErrorCode, a.Status)
			}
			if a.ExecutionSummary != "" && !summaryRE.MatchString(a.ExecutionSummary) {
				t.Errorf("ExecutionSummary %q", a.ExecutionSummary)
			}
			if !a.ExecutionDate.Before(base) && !a.ExecutionDate.IsZero() {
				t.Errorf("%s: ExecutionDate %v not before the base time", id, a.ExecutionDate)
			}
			count("status " + a.Status)
			count("detailed " + a.DetailedStatus)
			count("error " + a.ErrorCode)
			count("doc " + a.Name)
			if strings.HasPrefix(a.Name, "Custom-") || strings.HasPrefix(a.Name, "Acme-") || strings.HasPrefix(a.Name, "arn:") {
				count("custom document")
			}
			if a.AssociationName == "" {
				count("no association name")
			}
			if a.OutputURL != "" {
				count("s3 url")
				if !strings.HasPrefix(a.OutputURL, "https://s3.amazonaws.com/") {
					t.Errorf("OutputUrl %q", a.OutputURL)
				}
			}
			switch age := base.Sub(a.ExecutionDate); {
			case a.ExecutionDate.IsZero():
				count("never ran")
			case age > 14*24*time.Hour:
				count("weeks old")
			case age < 48*time.Hour:
				count("recent")
			}
		}
	}
	for _, want := range []string{
		"id i-17", "id i-8", "id mi-17", "unmanaged", "no associations", "over 100",
		"status Success", "status Failed", "status Pending",
		"detailed Success", "detailed Associated", "detailed Failed", "detailed TimedOut",
		"detailed InProgress", "detailed Pending", "detailed Skipped",
		"error InvalidAssoc", "error ExecutionError", "error ListAssocError", "error SubmitAssocError",
		"error StuckAtInProgress", "error InvalidExpression",
		"doc AWS-RunPatchBaseline", "doc AWS-UpdateSSMAgent", "doc AWS-GatherSoftwareInventory",
		"doc AWS-ConfigureAWSPackage", "custom document", "no association name", "s3 url",
		"never ran", "weeks old", "recent",
	} {
		if seen[want] == 0 {
			t.Errorf("fleet has no %q", want)
		}
	}
	if seen["over 100"] < 2 {
		t.Errorf("%d instances with over 100 associations, want at least 2", seen["over 100"])
	}
	// Mostly healthy: a fleet where most associations fail is not realistic.
	if seen["status Success"] < 2*seen["status Failed"] {
		t.Errorf("Success %d, Failed %d: want Success to dominate", seen["status Success"], seen["status Failed"])
	}
	t.Logf("mix: %v", seen)
}

func TestNewFleetOptions(t *testing.T) {
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 3, Size: 200, BaseTime: base, UnmanagedFraction: -1, Heavy: -1})
	if got := len(f.ManagedIDs()); got != 200 {
		t.Errorf("UnmanagedFraction -1: %d managed, want 200", got)
	}
	for _, id := range f.IDs() {
		for _, a := range f.Associations(id) {
			if !a.ExecutionDate.IsZero() && (!a.ExecutionDate.Before(base) || a.ExecutionDate.Before(base.AddDate(0, 0, -71))) {
				t.Fatalf("ExecutionDate %v not in the ten weeks before %v", a.ExecutionDate, base)
			}
		}
		if n := len(f.Associations(id)); n > 100 {
			t.Errorf("Heavy -1: %s has %d associations", id, n)
		}
	}
	g := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 3, Size: 200, Heavy: 5, UnmanagedFraction: 0.5})
	heavy, unmanaged := 0, 0
	for _, id := range g.IDs() {
		if len(g.Associations(id)) > 100 {
			heavy++
		}
		if !g.Managed(id) {
			unmanaged++
		}
	}
	if heavy != 5 {
		t.Errorf("Heavy 5: %d heavy instances", heavy)
	}
	if unmanaged < 60 || unmanaged > 140 {
		t.Errorf("UnmanagedFraction 0.5: %d of 200 unmanaged", unmanaged)
	}
	if empty := ssmsim.NewFleet(ssmsim.FleetConfig{}); empty.Len() != 0 {
		t.Errorf("zero config: %d IDs, want 0", empty.Len())
	}
}

func TestFleetAdd(t *testing.T) {
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 1, Size: 5})
	before := f.IDs()
	f.Add(ssmsim.Instance{InstanceID: "i-0000000000000000a", Associations: []ssmsim.Association{
		{AssociationID: "11111111-1111-4111-8111-111111111111", Status: "Success"},
		{AssociationID: "22222222-2222-4222-8222-222222222222", Status: "Failed", InstanceID: "i-somewhere-else"},
	}})
	f.Add(ssmsim.Instance{InstanceID: "i-0000000b", Unmanaged: true})

	if got, want := f.IDs(), append(before, "i-0000000000000000a", "i-0000000b"); !slices.Equal(got, want) {
		t.Errorf("IDs = %v, want %v", got, want)
	}
	if !f.Managed("i-0000000000000000a") || f.Managed("i-0000000b") || f.Managed("i-0000000c") {
		t.Error("Managed is wrong for the added instances")
	}
	got := f.Associations("i-0000000000000000a")
	if len(got) != 2 || got[0].InstanceID != "i-0000000000000000a" || got[1].InstanceID != "i-somewhere-else" {
		t.Errorf("Associations = %+v; want the empty InstanceId filled in and the other kept", got)
	}
	got[0].Status = "changed"
	if f.Associations("i-0000000000000000a")[0].Status != "Success" {
		t.Error("changing the returned slice changed the fleet")
	}

	// Replacing keeps the position.
	victim := before[2]
	f.Add(ssmsim.Instance{InstanceID: victim})
	if ids := f.IDs(); ids[2] != victim || len(ids) != 7 {
		t.Errorf("replacing %s: IDs = %v", victim, ids)
	}
	if n := len(f.Associations(victim)); n != 0 {
		t.Errorf("replaced %s still has %d associations", victim, n)
	}
}

func TestFleetWriteIDs(t *testing.T) {
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 2, Size: 57})
	var buf bytes.Buffer
	if err := f.WriteIDs(&buf); err != nil {
		t.Fatal(err)
	}
	var got []string
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		got = append(got, sc.Text())
	}
	if want := f.IDs(); !slices.Equal(got, want) {
		t.Errorf("WriteIDs wrote %d lines, want the %d IDs in order", len(got), len(want))
	}
}

func TestAssociationJSON(t *testing.T) {
	a := ssmsim.Association{
		AssociationID:    "8dfe3659-4309-493a-8755-0123456789ab",
		Name:             "AWS-GatherSoftwareInventory",
		InstanceID:       "i-1234567890abcdef0",
		ExecutionDate:    time.UnixMilli(1550505828548).UTC(),
		Status:           "Success",
		ExecutionSummary: "=cmd|' /C calc'!A0 \"quoted\"\n<script>alert(1)</script> \u202eRTL 😀 \u2028",
		OutputURL:        "https://s3.amazonaws.com/b/p",
	}
	// Called directly: json.Marshal would HTML-escape the result.
	b, err := a.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"AssociationId":"8dfe3659-4309-493a-8755-0123456789ab","Name":"AWS-GatherSoftwareInventory",` +
		`"InstanceId":"i-1234567890abcdef0","ExecutionDate":1.550505828548E9,"Status":"Success",` +
		`"ExecutionSummary":"=cmd|' /C calc'!A0 \"quoted\"\n<script>alert(1)</script> ` + "\u202e" + `RTL 😀 \u2028",` +
		`"OutputUrl":{"S3OutputUrl":{"OutputUrl":"https://s3.amazonaws.com/b/p"}}}`
	if string(b) != want {
		t.Errorf("wire form:\n got %s\nwant %s", b, want)
	}
	var back ssmsim.Association
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !back.ExecutionDate.Equal(a.ExecutionDate) {
		t.Errorf("date round trip: %v, want %v", back.ExecutionDate, a.ExecutionDate)
	}
	back.ExecutionDate = a.ExecutionDate
	if back != a {
		t.Errorf("round trip:\n got %+v\nwant %+v", back, a)
	}
	// The AWS CLI v2 prints dates as strings; UnmarshalJSON takes both.
	var cli ssmsim.Association
	if err := json.Unmarshal([]byte(`{"ExecutionDate":"2019-02-18T16:03:48.548000+00:00"}`), &cli); err != nil {
		t.Fatal(err)
	}
	if !cli.ExecutionDate.Equal(a.ExecutionDate) {
		t.Errorf("RFC 3339 date: %v, want %v", cli.ExecutionDate, a.ExecutionDate)
	}
}

func TestNewFleet100k(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the 100,000-instance fleet")
	}
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 42, Size: 100_000})
	if f.Len() != 100_000 {
		t.Fatalf("Len = %d", f.Len())
	}
	heavy := 0
	for _, id := range f.ManagedIDs()[:5000] {
		if len(f.Associations(id)) > 100 {
			heavy++
		}
	}
	if heavy == 0 {
		t.Error("no heavy instance among the first 5000")
	}
}

func BenchmarkNewFleet100k(b *testing.B) {
	for b.Loop() {
		ssmsim.NewFleet(ssmsim.FleetConfig{Seed: int64(b.N), Size: 100_000})
	}
}

// TestFleetFailing: FleetConfig.Failing makes that share of the managed
// instances fail, every association of theirs, and every other succeed
// within a day.
func TestFleetFailing(t *testing.T) {
	base := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 9, Size: 4000, Failing: 0.05, BaseTime: base})
	failing, managed := 0, 0
	for _, id := range f.ManagedIDs() {
		managed++
		as := f.Associations(id)
		failed := 0
		for _, a := range as {
			switch {
			case a.Status == "Failed":
				failed++
			case a.Status != "Success":
				t.Fatalf("%s: status %q in the plain mix", id, a.Status)
			}
			if a.ExecutionDate.Before(base.Add(-24*time.Hour)) || a.ExecutionDate.After(base) {
				t.Fatalf("%s: executed %v, want within the day before %v", id, a.ExecutionDate, base)
			}
		}
		if failed > 0 {
			if failed != len(as) {
				t.Fatalf("%s: %d of %d associations failed, want all or none", id, failed, len(as))
			}
			failing++
		}
	}
	if share := float64(failing) / float64(managed); share < 0.035 || share > 0.065 {
		t.Errorf("%d of %d managed instances fail (%.3f), want about 0.05", failing, managed, share)
	}
}
