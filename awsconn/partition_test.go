package awsconn

import (
	"slices"
	"testing"
)

// TestRegionPartition: a region's partition, by the prefixes of the SDK's
// partitions.json (its regionRegex), so that a run can refuse regions that
// no one set of credentials reaches together.
func TestRegionPartition(t *testing.T) {
	for _, tc := range []struct{ region, want string }{
		{"us-east-1", "aws"},
		{"eu-west-1", "aws"},
		{"ap-southeast-5", "aws"},
		{"cn-north-1", "aws-cn"},
		{"cn-northwest-1", "aws-cn"},
		{"us-gov-west-1", "aws-us-gov"},
		{"us-gov-east-1", "aws-us-gov"},
		{"us-iso-east-1", "aws-iso"},
		{"us-isob-east-1", "aws-iso-b"},
		{"eu-isoe-west-1", "aws-iso-e"},
		{"us-isof-south-1", "aws-iso-f"},
		{"eusc-de-east-1", "aws-eusc"},
	} {
		if got := RegionPartition(tc.region); got != tc.want {
			t.Errorf("RegionPartition(%q) = %q, want %q", tc.region, got, tc.want)
		}
	}
}

// TestPartitionRegion: each partition's region for its global services,
// as the SDK's endpoints for Organizations name them, and in that partition.
func TestPartitionRegion(t *testing.T) {
	want := map[string]string{
		"aws": "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1",
		"aws-eusc": "eusc-de-east-1", "aws-iso": "us-iso-east-1", "aws-iso-b": "us-isob-east-1",
		"aws-iso-e": "eu-isoe-west-1", "aws-iso-f": "us-isof-south-1",
	}
	for p, region := range want {
		if got := PartitionRegion(p); got != region {
			t.Errorf("PartitionRegion(%q) = %q, want %q", p, got, region)
		}
		if got := RegionPartition(region); got != p {
			t.Errorf("RegionPartition(PartitionRegion(%q)) = %q, want %q", p, got, p)
		}
	}
	if got := PartitionRegion("aws-moon"); got != "" {
		t.Errorf("PartitionRegion(\"aws-moon\") = %q, want \"\"", got)
	}
	got := Partitions()
	if len(got) != len(want) || !slices.IsSorted(got) {
		t.Errorf("Partitions() = %q, want the %d partitions above, sorted", got, len(want))
	}
	for _, p := range got {
		if want[p] == "" {
			t.Errorf("Partitions() holds %q, which has no region", p)
		}
	}
}
