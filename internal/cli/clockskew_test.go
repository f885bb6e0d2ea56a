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

// TestClockSkewRoleSessions: a role's sessions expire by AWS's clock,
// and a machine whose clock is off judged them by its own. Behind AWS's
// by 20 minutes, it used each session for 20 minutes past its end
// (3 s sessions here; an hour in the field, whose last 20 minutes failed
// with ExpiredTokenException); ahead by 2 hours, every session arrived
// expired, and the role was assumed again before every call. The
// expiry is now moved by the skew the answers' Date shows.
func TestClockSkewRoleSessions(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for seconds, through several sessions; skipped under -short")
	}
	for _, tc := range []struct {
		skew time.Duration
		life time.Duration
	}{
		{20 * time.Minute, 3 * time.Second},
		{-2 * time.Hour, time.Hour},
	} {
		t.Run(fmt.Sprint(tc.skew), func(t *testing.T) {
			org, srv, member := roleProfileWith(t, tc.life, ssmsim.Options{ClockSkew: tc.skew, Faults: ssmsim.Faults{Latency: 100 * time.Millisecond}})
			ids := org.Fleet(member, "us-east-1").ManagedIDs()
			list := writeFile(t, "ids.txt", strings.Join(ids, "\n")+"\n")
			got := runCLI(t, "", "run", "--profile", "audit", "--instances", list, "--region", "us-east-1",
				"--concurrency", "4", "--rate", "20", "--fail-on", "none", "--quiet", "--out", filepath.Join(t.TempDir(), "out"))
			st := srv.Stats()
			assumed, calls := st.Calls[ssmsim.OpAssumeRole], st.Calls[ssmsim.OpDescribeInstanceAssociationsStatus]
			t.Logf("exit %d; the role was assumed %d times for %d SSM calls", got.code, assumed, calls)
			if got.code != 0 {
				t.Errorf("exit %d, want 0\n%s", got.code, got.stderr)
			}
			if max := calls/4 + 2; assumed > max {
				t.Errorf("the role was assumed %d times for %d SSM calls: want it renewed as its sessions end (at most %d)", assumed, calls, max)
			}
		})
	}
}

// TestClockSkewOwnRoleSaysClock: credentials of a role_arn profile whose
// AssumeRole STS refused for the clock (no retry left to correct it) say
// that the clock is off. The credentials' error kept STS's code and words
// alone, "Signature expired", and no hint.
func TestClockSkewOwnRoleSaysClock(t *testing.T) {
	org, _, member := roleProfileWith(t, time.Hour, ssmsim.Options{ClockSkew: 20 * time.Minute})
	ids := org.Fleet(member, "us-east-1").ManagedIDs()
	list := writeFile(t, "ids.txt", strings.Join(ids, "\n")+"\n")
	got := runCLI(t, "", "run", "--profile", "audit", "--instances", list, "--region", "us-east-1",
		"--max-attempts", "1", "--quiet", "--out", filepath.Join(t.TempDir(), "out"))
	if got.code != 4 || !strings.Contains(got.stderr, "this machine's clock is 20 minutes behind AWS's") {
		t.Errorf("exit %d, want 4 and the clock named:\n%s", got.code, got.stderr)
	}
}
