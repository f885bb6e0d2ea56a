package cli

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestReportUploadInTheRecordsPartition: auditor report --upload of a
// record made in cn-north-1, with no region configured, signed its first
// request for us-east-1, which aws-cn's S3 refuses to every credential of
// its own, and said to upload again with --region us-east-1. The upload
// starts in the record's partition, and the command says its region.
func TestReportUploadInTheRecordsPartition(t *testing.T) {
	accounts, _ := serveChinaOrg(t, 2)
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", "run", "--accounts", accounts[1].ID, "--role-arn", "arn:aws-cn:iam::{account}:role/AuditRole",
		"--region", "cn-north-1", "--discover", "--fail-on", "none", "--quiet", "--out", out)
	if got.code != 0 {
		t.Fatalf("run: exit %d\n%.3000s", got.code, got.stderr)
	}
	s3 := serveRegionalS3(t, &regionalS3{home: "cn-north-1", refuse: "AccessDenied"})
	got = runCLI(t, "", "report", filepath.Join(out, "results.jsonl"), "--out", filepath.Join(t.TempDir(), "report"),
		"--quiet", "--fail-on", "none", "--upload", "s3://reports/merged/")
	if got.code != int(exitDelivery) {
		t.Fatalf("report: exit %d, want %d\n%.3000s", got.code, exitDelivery, got.stderr)
	}
	s3.mu.Lock()
	signed := slices.Clone(s3.signed)
	s3.mu.Unlock()
	if len(signed) == 0 || signed[0] != "cn-north-1" {
		t.Errorf("requests signed for %q, want the first for cn-north-1", signed)
	}
	args := uploadCommand(t, got.stderr)
	if i := slices.Index(args, "--region"); i < 0 || i+1 >= len(args) || args[i+1] != "cn-north-1" {
		t.Errorf("uploads again with %q, want --region cn-north-1", args)
	}
}

// TestRecordRegion: the region an upload of a record starts in when none
// is configured: its partition's (awsconn.PartitionRegion) when its
// regions are of one, else the first it names; "" when it names none,
// which leaves --region out of the command that uploads again.
func TestRecordRegion(t *testing.T) {
	sites := func(regions ...string) audit.RunInfo {
		var ri audit.RunInfo
		for _, r := range regions {
			ri.Sites = append(ri.Sites, audit.SiteStats{AccountID: "111111111111", Region: r})
		}
		return ri
	}
	for _, tt := range []struct {
		name string
		run  audit.RunInfo
		want string
	}{
		{"aws-cn", sites("cn-northwest-1"), "cn-north-1"},
		{"aws-us-gov", sites(audit.AllRegions, "us-gov-east-1"), "us-gov-west-1"},
		{"aws", sites("af-south-1", "eu-west-1"), "us-east-1"},
		{"a merge of two partitions", sites("cn-northwest-1", "eu-west-1"), "cn-northwest-1"},
		{"--region alone", audit.RunInfo{Options: map[string]any{"region": "eusc-de-east-1"}}, "eusc-de-east-1"},
		{"none", sites(audit.AllRegions), ""},
		// AWS_REGION=us-east-1 where the run audited a list of GovCloud
		// rows: the sites say the partition, --region only when none.
		{"--region of another partition than the sites", audit.RunInfo{Options: map[string]any{"region": "us-east-1"}, Sites: sites("us-gov-west-1").Sites}, "us-gov-west-1"},
		{"--region with no site", audit.RunInfo{Options: map[string]any{"region": "cn-northwest-1"}, Sites: sites(audit.AllRegions).Sites}, "cn-north-1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := recordRegion(tt.run); got != tt.want {
				t.Errorf("recordRegion = %q, want %q", got, tt.want)
			}
		})
	}
}
