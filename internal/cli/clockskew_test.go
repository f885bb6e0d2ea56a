package cli

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestClockSkew: a machine whose clock is off from AWS's by more than
// the services allow (a VM after a suspend, a container host without
// NTP) signs every request at a time the services refuse. The SDK
// corrects its signing clock from the answers' Date header for the
// codes of its Clock Skew Correction (SSM's InvalidSignatureException,
// STS's SignatureDoesNotMatch), but not for EC2's RequestExpired, which
// --tag-labels' DescribeTags meets: the auditor retries that one too,
// so the whole run goes on. With no retry (--max-attempts 1) the run
// stops, and says that the clock is off, not only "Request has
// expired".
func TestClockSkew(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	for _, skew := range []time.Duration{20 * time.Minute, -20 * time.Minute, 3 * time.Hour} {
		t.Run(fmt.Sprint(skew), func(t *testing.T) {
			url, srv := serve(t, handFleet(false), ssmsim.Options{ClockSkew: skew})
			t.Setenv("AWS_ENDPOINT_URL_EC2", url)
			got := runCLI(t, "", "run", "--region", "us-east-1", "--instances", ids, "--endpoint-url", url,
				"--tag-labels", "Owner", "--out", filepath.Join(t.TempDir(), "out"), "--quiet")
			if got.code != 0 || !strings.Contains(got.stderr, "audited 2 instances") {
				t.Fatalf("exit %d, want 0 with both instances audited\nstderr:\n%s", got.code, got.stderr)
			}
			if st := srv.Stats(); st.ClientErrors == 0 {
				t.Errorf("no request was refused: the simulator did not model the skew (%+v)", st)
			}

			got = runCLI(t, "", "run", "--region", "us-east-1", "--instances", ids, "--endpoint-url", url,
				"--tag-labels", "Owner", "--max-attempts", "1", "--out", filepath.Join(t.TempDir(), "out"), "--quiet")
			way := "behind"
			if skew < 0 {
				way = "ahead of"
			}
			if got.code != 4 || !strings.Contains(got.stderr, "clock is "+roughlyText(skew)+" "+way+" AWS's") {
				t.Errorf("exit %d, want 4 and a clock %s %s AWS's:\n%s", got.code, roughlyText(skew), way, got.stderr)
			}
		})
	}
}

func roughlyText(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	if d >= 90*time.Minute {
		return fmt.Sprintf("%d hours", d/time.Hour)
	}
	return fmt.Sprintf("%d minutes", d/time.Minute)
}
