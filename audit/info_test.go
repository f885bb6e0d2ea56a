package audit

import (
	"fmt"
	"reflect"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

func TestInfoMaker(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	ping := time.Date(2026, 11, 30, 10, 0, 0, 123_000_000, paris)
	node := func(name, ip string, counts map[string]int32) types.InstanceInformation {
		latest := true
		return types.InstanceInformation{
			InstanceId:        aws.String("i-0123456789abcdef0"),
			ComputerName:      aws.String(name),
			IPAddress:         aws.String(ip),
			PlatformType:      types.PlatformTypeLinux,
			PlatformName:      aws.String("Amazon Linux"),
			PlatformVersion:   aws.String("2023"),
			AgentVersion:      aws.String("3.3.987.0"),
			IsLatestVersion:   &latest,
			PingStatus:        types.PingStatusConnectionLost,
			LastPingDateTime:  &ping,
			ResourceType:      types.ResourceTypeEc2Instance,
			AssociationStatus: aws.String("Failed"),
			AssociationOverview: &types.InstanceAggregatedAssociationOverview{
				DetailedStatus:                           aws.String("Failed"),
				InstanceAssociationStatusAggregatedCount: counts,
			},
		}
	}
	var m infoMaker
	inA := node("web-1", "10.0.0.1", map[string]int32{"Failed": 1, "Success": 2})
	a := m.from(inA)
	b := m.from(node("web-2", "10.0.0.2", map[string]int32{"Success": 2, "Failed": 1}))
	c := m.from(node("web-3", "10.0.0.3", map[string]int32{"Success": 3}))

	want := InstanceInfo{
		ComputerName: "web-1", PlatformType: "Linux", PlatformName: "Amazon Linux", PlatformVersion: "2023",
		AgentVersion: "3.3.987.0", IsLatestVersion: aws.Bool(true), PingStatus: "ConnectionLost",
		LastPingDateTime: aws.Time(ping.UTC()), ResourceType: "EC2Instance", IPAddress: "10.0.0.1",
		AssociationStatus: "Failed",
		AssociationOverview: &AssociationOverview{DetailedStatus: "Failed",
			InstanceAssociationStatusAggregatedCount: map[string]int{"Failed": 1, "Success": 2}},
	}
	if !reflect.DeepEqual(*a, want) {
		t.Errorf("made\n%+v\nwant\n%+v", *a, want)
	}
	if a.LastPingDateTime.Location() != time.UTC || !a.LastPingDateTime.Equal(ping) {
		t.Errorf("ping time %v, want %v in UTC", a.LastPingDateTime, ping)
	}
	*inA.IsLatestVersion = false // the page's values are not ours
	if !*a.IsLatestVersion {
		t.Error("IsLatestVersion follows the page it was read from")
	}
	if a.AssociationOverview != b.AssociationOverview {
		t.Error("equal overviews (counts in another order) are not shared")
	}
	if a.AssociationOverview == c.AssociationOverview || c.AssociationOverview.AllSucceeded() != true {
		t.Errorf("a different overview is shared or wrong: %+v", c.AssociationOverview)
	}
	if unsafe.StringData(a.PlatformName) != unsafe.StringData(c.PlatformName) ||
		unsafe.StringData(a.AgentVersion) != unsafe.StringData(b.AgentVersion) {
		t.Error("repeated strings are not interned")
	}
	if unsafe.StringData(a.ComputerName) == unsafe.StringData(*inA.ComputerName) {
		t.Error("ComputerName shares the page's memory")
	}
	if a.LastPingDateTime == b.LastPingDateTime {
		t.Error("two nodes share one time")
	}

	none := m.from(types.InstanceInformation{InstanceId: aws.String("mi-0123456789abcdef0")})
	if !reflect.DeepEqual(*none, InstanceInfo{}) {
		t.Errorf("a node with nothing said made %+v", *none)
	}
	empty := m.from(types.InstanceInformation{AssociationOverview: &types.InstanceAggregatedAssociationOverview{DetailedStatus: aws.String("Pending")}})
	if o := empty.AssociationOverview; o == nil || o.DetailedStatus != "Pending" || o.InstanceAssociationStatusAggregatedCount != nil {
		t.Errorf("an overview without counts made %+v", o)
	}
}

// TestInfoMakerBounded: past its bounds the maker copies instead of sharing,
// so a fleet of unique values cannot grow its tables without end.
func TestInfoMakerBounded(t *testing.T) {
	var m infoMaker
	for i := range maxInterned + 10 {
		m.from(types.InstanceInformation{
			AgentVersion: aws.String("3.3." + time.Duration(i).String()),
			AssociationOverview: &types.InstanceAggregatedAssociationOverview{
				InstanceAssociationStatusAggregatedCount: map[string]int32{"Success": int32(i + 1)},
			},
		})
	}
	if len(m.strs.m) > maxInterned || len(m.overviews) > maxSharedOverview {
		t.Errorf("%d strings, %d overviews kept; bounds %d and %d", len(m.strs.m), len(m.overviews), maxInterned, maxSharedOverview)
	}
	if len(m.strs.m) < maxInterned/2 || len(m.overviews) < maxSharedOverview/2 {
		t.Errorf("only %d strings, %d overviews kept: the test did not reach the bounds", len(m.strs.m), len(m.overviews))
	}
}

// BenchmarkInfoMemory: the live heap a discovered node's information takes,
// made by infoMaker against made field by field (as before infoMaker), from
// the same nodes, each with its own copies of its strings as a decoded page
// gives them. Reports bytes a node for both and their ratio.
//
//	go test ./audit -run '^$' -bench InfoMemory -benchtime 1x
func BenchmarkInfoMemory(b *testing.B) {
	const n = 50_000
	pages := make([]types.InstanceInformation, n)
	base := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	for i := range pages {
		fresh := func(s string) *string { return aws.String(string([]byte(s))) }
		ping, last, ok := base.Add(time.Duration(i)*time.Second), base.Add(-time.Hour), base.Add(-2*time.Hour)
		latest := i%7 != 0
		pages[i] = types.InstanceInformation{
			InstanceId: fresh(fmt.Sprintf("i-%017x", i)), ComputerName: fresh(fmt.Sprintf("ip-10-0-%d-%d.ec2.internal", i/256%256, i%256)),
			IPAddress: fresh(fmt.Sprintf("10.0.%d.%d", i/256%256, i%256)), PlatformType: types.PlatformTypeLinux,
			PlatformName: fresh("Amazon Linux"), PlatformVersion: fresh("2023"), AgentVersion: fresh("3.3.987.0"),
			IsLatestVersion: &latest, PingStatus: types.PingStatusOnline, LastPingDateTime: &ping,
			ResourceType: types.ResourceTypeEc2Instance, AssociationStatus: fresh("Success"),
			LastAssociationExecutionDate: &last, LastSuccessfulAssociationExecutionDate: &ok,
			AssociationOverview: &types.InstanceAggregatedAssociationOverview{
				DetailedStatus:                           fresh("Success"),
				InstanceAssociationStatusAggregatedCount: map[string]int32{"Success": int32(1 + i%3)},
			},
		}
	}
	live := func(mk func(types.InstanceInformation) *InstanceInfo) float64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		kept := make([]*InstanceInfo, n)
		for i := range pages {
			kept[i] = mk(pages[i])
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(kept)
		return float64(after.HeapAlloc-before.HeapAlloc) / n
	}
	var plain, compact float64
	for b.Loop() {
		plain = live(plainInfo)
		var m infoMaker
		compact = live(m.from)
	}
	b.ReportMetric(plain, "plain_B/node")
	b.ReportMetric(compact, "compact_B/node")
	b.ReportMetric(compact/plain, "x_plain")
}

// plainInfo makes an InstanceInfo field by field, as discovery did before
// infoMaker: the baseline of BenchmarkInfoMemory.
func plainInfo(in types.InstanceInformation) *InstanceInfo {
	info := &InstanceInfo{
		ComputerName: aws.ToString(in.ComputerName), PlatformType: string(in.PlatformType),
		PlatformName: aws.ToString(in.PlatformName), PlatformVersion: aws.ToString(in.PlatformVersion),
		AgentVersion: aws.ToString(in.AgentVersion), IsLatestVersion: in.IsLatestVersion,
		PingStatus: string(in.PingStatus), LastPingDateTime: utc(in.LastPingDateTime),
		ResourceType: string(in.ResourceType), IPAddress: aws.ToString(in.IPAddress),
		AssociationStatus:                      aws.ToString(in.AssociationStatus),
		LastAssociationExecutionDate:           utc(in.LastAssociationExecutionDate),
		LastSuccessfulAssociationExecutionDate: utc(in.LastSuccessfulAssociationExecutionDate),
	}
	if o := in.AssociationOverview; o != nil {
		info.AssociationOverview = &AssociationOverview{DetailedStatus: aws.ToString(o.DetailedStatus)}
		if len(o.InstanceAssociationStatusAggregatedCount) > 0 {
			info.AssociationOverview.InstanceAssociationStatusAggregatedCount = map[string]int{}
			for k, v := range o.InstanceAssociationStatusAggregatedCount {
				info.AssociationOverview.InstanceAssociationStatusAggregatedCount[k] = int(v)
			}
		}
	}
	return info
}
