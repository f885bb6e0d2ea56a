package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRegionsOfTwoPartitions: --regions us-east-1,us-gov-west-1 was taken,
// and the run then failed the GovCloud region with "is us-gov-west-1 not
// enabled ... enable it and continue" (exit 3), which no commercial account
// can do; swapped, it stopped on STS with a hint to check the credentials
// (exit 4). One run's credentials reach one partition: a --regions list,
// or an instance list, whose regions span two is refused before any call
// (exit 2), naming the regions and their partitions.
func TestRegionsOfTwoPartitions(t *testing.T) {
	_, srv, accounts := serveOrg(t, 5)
	list := writeFile(t, "mix.csv", "instance_id,region\ni-0d01e688e93f54df8,cn-north-1\ni-99bb2fcf,us-east-1\ni-0eb76127f28280eda,us-east-1\n")
	plainList := writeFile(t, "ids.txt", "i-99bb2fcf\n")
	tests := []struct {
		name  string
		args  []string
		wants []string
	}{
		{
			name:  "--regions aws then aws-us-gov",
			args:  []string{"--accounts", "org", "--role-name", "AuditRole", "--regions", "us-east-1,us-gov-west-1", "--discover"},
			wants: []string{"--regions: us-east-1 is in partition aws and us-gov-west-1 in aws-us-gov", "audit each partition in its own run"},
		},
		{
			name:  "--regions aws-us-gov then aws",
			args:  []string{"--accounts", "org", "--role-name", "AuditRole", "--regions", "us-gov-west-1,us-east-1", "--discover"},
			wants: []string{"--regions: us-gov-west-1 is in partition aws-us-gov and us-east-1 in aws", "audit each partition in its own run"},
		},
		{
			name:  "a list's region column",
			args:  []string{"--instances", list, "--region", "us-east-1"},
			wants: []string{"cn-north-1 (the first at ", "mix.csv:2) is in partition aws-cn and us-east-1 (the first at ", "mix.csv:3) in aws;", "audit each partition in its own run"},
		},
		{
			name:  "a list's region and --regions to discover in",
			args:  []string{"--accounts", accounts[1].ID, "--role-name", "AuditRole", "--instances", plainList, "--region", "us-east-1", "--regions", "cn-north-1", "--discover"},
			wants: []string{"us-east-1 (the first at ", "ids.txt:1) is in partition aws and cn-north-1 (--regions) in aws-cn;", "audit each partition in its own run"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.ResetStats()
			out := filepath.Join(t.TempDir(), "out")
			got := runCLI(t, "", append([]string{"run", "--fail-on", "none", "--quiet", "--out", out}, tt.args...)...)
			if got.code != int(exitUsage) {
				t.Fatalf("exit %d, want %d\n%.3000s", got.code, exitUsage, got.stderr)
			}
			for _, w := range tt.wants {
				if !strings.Contains(got.stderr, w) {
					t.Errorf("stderr does not say %q:\n%.3000s", w, got.stderr)
				}
			}
			if strings.Contains(got.stderr, "enable it") {
				t.Errorf("stderr says to enable a region:\n%.3000s", got.stderr)
			}
			if n := srv.Stats().Requests; n != 0 {
				t.Errorf("%d requests before the refusal, want none", n)
			}
			if _, err := os.Lstat(out); err == nil {
				t.Errorf("%s was made for a refused command", out)
			}
		})
	}
}
