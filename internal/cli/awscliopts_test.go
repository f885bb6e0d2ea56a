package cli

import (
	"strings"
	"testing"
)

// TestAWSCLIOptionsSayWhatStandsForThem: the README promises that each of
// the AWS CLI's options a user may carry over says what stands for it
// here; only six did, and --debug, --query or the paging options got a
// bare "unknown flag" or a did-you-mean of something else. Each names a
// flag this command has, or says there is nothing to set.
func TestAWSCLIOptionsSayWhatStandsForThem(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	for _, tt := range []struct {
		flag string
		says []string
	}{
		{"--debug", []string{"--log-format json", "results.jsonl"}},
		{"--query", []string{"instances.csv", "summary.json"}},
		{"--no-paginate", []string{"every page", "--max-pages"}},
		{"--max-items", []string{"every page", "--max-pages"}},
		{"--page-size", []string{"--max-results"}},
		{"--starting-token", []string{"every page", "--resume"}},
		{"--next-token", []string{"every page", "--resume"}},
		{"--no-cli-pager", []string{"never pipes"}},
		{"--cli-read-timeout", []string{"--call-timeout", "--timeout"}},
		{"--cli-connect-timeout", []string{"--call-timeout", "--timeout"}},
	} {
		t.Run(tt.flag, func(t *testing.T) {
			got := runCLI(t, "", "run", "--instances", ids, tt.flag+"=x")
			if got.code != 2 || !strings.Contains(got.stderr, "unknown flag "+tt.flag+": ") || strings.Contains(got.stderr, "did you mean") {
				t.Errorf("exit %d, want 2 and a hint\n%s", got.code, got.stderr)
			}
			for _, s := range tt.says {
				if !strings.Contains(got.stderr, s) {
					t.Errorf("does not say %q\n%s", s, got.stderr)
				}
			}
		})
	}
	// Every hint names only flags that exist: a command without the flag
	// it needs is not told of it.
	for name, h := range awsCLIOptions {
		if h.needs != "" && newCommand("run", &strings.Builder{}, nil).fs.Lookup(h.needs) == nil {
			t.Errorf("--%s needs --%s, which run does not have", name, h.needs)
		}
	}
}
