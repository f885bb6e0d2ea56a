package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestSiteHintOfAnotherPartition: a region refused to every credential was
// told as one to enable in the account, or misspelt, also where the run's
// credentials were learnt in another partition (its STS answered in
// --region, or --role-arn names it), which no account can enable. The
// hint says the partitions apart, and to audit the region in its own run.
func TestSiteHintOfAnotherPartition(t *testing.T) {
	s := audit.SiteStats{AccountID: "222222222222", Region: "us-gov-west-1",
		Error: &audit.Error{Code: "UnrecognizedClientException", Message: "The security token included in the request is invalid."}}
	for _, tt := range []struct {
		name    string
		options map[string]any
	}{
		{"--region", map[string]any{"accounts": "org", "role_name": "AuditRole", "region": "us-east-1", "regions": "us-gov-west-1"}},
		{"--role-arn", map[string]any{"accounts": "org", "role_arn": "arn:aws:iam::{account}:role/AuditRole", "regions": "us-gov-west-1"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := siteHint(s, "111111111111", tt.options)
			checkSays(t, got, []string{"us-gov-west-1 is in partition aws-us-gov", "the run's credentials are of partition aws,", "its own run"}, []string{"enable it", "misspelt"})
			// Whose credentials signed is not known: nor their partition.
			got = siteHint(s, "", tt.options)
			checkSays(t, got, []string{"enable it"}, []string{"partition"})
		})
	}
	// A region of the credentials' own partition may be one to enable.
	got := siteHint(audit.SiteStats{AccountID: "222222222222", Region: "af-south-1", Error: s.Error}, "111111111111",
		map[string]any{"accounts": "org", "role_name": "AuditRole", "region": "us-east-1", "regions": "af-south-1"})
	checkSays(t, got, []string{"enable it"}, []string{"partition"})
	// A run of one account may presume its caller from its record,
	// without STS's word on the credentials.
	got = siteHint(s, "111111111111", map[string]any{"region": "us-east-1"})
	checkSays(t, got, []string{"enable it"}, []string{"partition"})
}

// TestRegionOfAnotherPartitionThanRegion: --region us-east-1 (where STS
// learns the caller) with --regions us-gov-west-1 failed each account's
// GovCloud region with advice to enable it there; then it said the
// partitions apart, once every region had failed (exit 4). It is refused
// before any call now (TestConfiguredRegionOfAnotherPartition), with the
// partitions apart.
func TestRegionOfAnotherPartitionThanRegion(t *testing.T) {
	_, srv, _ := serveOrg(t, 5)
	got := runCLI(t, "", "run", "--accounts", "org", "--role-name", "AuditRole", "--region", "us-east-1", "--regions", "us-gov-west-1",
		"--discover", "--fail-on", "none", "--quiet", "--out", filepath.Join(t.TempDir(), "out"))
	if got.code != int(exitUsage) {
		t.Fatalf("exit %d, want %d\n%.3000s", got.code, exitUsage, got.stderr)
	}
	if !strings.Contains(got.stderr, "us-gov-west-1 (--regions) is in partition aws-us-gov") || strings.Contains(got.stderr, "enable it") {
		t.Errorf("stderr does not tell the partitions apart:\n%.3000s", got.stderr)
	}
	if n := srv.Stats().Requests; n != 0 {
		t.Errorf("%d requests before the refusal, want none", n)
	}
}
