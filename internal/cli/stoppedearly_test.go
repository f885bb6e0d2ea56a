package cli

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestStoppedEarlyNamesStep: a signal or --timeout during
// --with-instance-info's lookup said "before the first call" of a run that
// had called STS and DescribeInstanceInformation, and the timeout named the
// accounts' listing. It names the lookup, and says that no instance was
// audited; so does a run stopped while STS is asked for the caller's
// account, naming that step: it was told as "finding the accounts and
// regions to audit", even for a plain --instances list.
func TestStoppedEarlyNamesStep(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 9, Size: 5})
	ids := filepath.Join(t.TempDir(), "ids.txt")
	if err := writeIDs(ids, fleet); err != nil {
		t.Fatal(err)
	}
	const (
		lookup = "looking up the instances' information (--with-instance-info): "
		caller = "learning the credentials' account (sts:GetCallerIdentity): "
	)
	tests := []struct {
		name    string
		sts     bool // the call held is STS's, not the lookup's
		timeout bool
		plain   bool // without --with-instance-info
		want    string
	}{
		{name: "lookup interrupted", want: lookup + "interrupted before any instance was audited"},
		{name: "lookup timed out", timeout: true, want: lookup + "--timeout 2s ran out: stopped before any instance was audited"},
		{name: "STS interrupted", sts: true, want: caller + "interrupted before any instance was audited"},
		{name: "STS timed out", sts: true, timeout: true, want: caller + "--timeout 2s ran out: stopped before any instance was audited"},
		{name: "STS timed out, a plain list", sts: true, timeout: true, plain: true, want: caller + "--timeout 2s ran out: stopped before any instance was audited"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			hold := func(w http.ResponseWriter, r *http.Request) {
				if !tt.timeout {
					cancel() // the signal, as the call is under way
				}
				select {
				case <-r.Context().Done():
				case <-t.Context().Done():
				}
			}
			sim := ssmsim.NewServer(fleet, ssmsim.Options{})
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !tt.sts && r.Header.Get("X-Amz-Target") == "AmazonSSM."+ssmsim.OpDescribeInstanceInformation {
					hold(w, r)
					return
				}
				sim.ServeHTTP(w, r)
			}))
			t.Cleanup(ts.Close)
			sts := ts
			if tt.sts {
				sts = httptest.NewServer(http.HandlerFunc(hold))
				t.Cleanup(sts.Close)
			}
			t.Setenv("AWS_ENDPOINT_URL_STS", sts.URL)
			args := []string{"run", "--instances", ids, "--endpoint-url", ts.URL, "--region", "us-east-1",
				"--quiet", "--out", filepath.Join(t.TempDir(), "out")}
			if !tt.plain {
				args = append(args, "--with-instance-info")
			}
			if tt.timeout {
				args = append(args, "--timeout", "2s")
			}
			got := runCtx(ctx, nil, args...)
			if got.code != int(exitIncomplete) {
				t.Fatalf("exit %d, want %d\n%s", got.code, exitIncomplete, got.stderr)
			}
			checkSays(t, got.stderr, []string{tt.want, "this attempt wrote no record or report"}, []string{"before the first call"})
		})
	}
}
