package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestResumeKeepsWhatResultsRecord: a resume with options that change what
// a result records (--with-instance-info, --triage, --tag-labels) is
// refused, as one with other targets is: it audited the rest with them, and
// the record mixed results with instance information and without, verdicts
// from the overview and from every page, and called the run complete.
func TestResumeKeepsWhatResultsRecord(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 8, Size: 20})
	url, _, _ := serveLogged(t, f, nil)
	list := listFleet(t, f)
	base := []string{"run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--format", "csv", "--fail-on", "none", "--quiet"}
	for _, tc := range []struct {
		name        string
		first, then []string
		want        string
	}{
		{"instance information added", nil, []string{"--with-instance-info"}, "--with-instance-info"},
		{"instance information dropped", []string{"--with-instance-info"}, nil, "--with-instance-info"},
		{"triage added", []string{"--with-instance-info"}, []string{"--with-instance-info", "--triage"}, "--triage"},
		{"tag labels added", nil, []string{"--tag-labels", "Team"}, "--tag-labels"},
		// --split-by and --mail-to-label tag:KEY read the tag for every
		// result as --tag-labels does: a resume without it left the rest
		// without the label, in the split's group of no value.
		{"a split's tag dropped", []string{"--split-by", "tag:Team"}, nil, "the run was started reading Team, this resume reads none"},
		{"a split's tag added", nil, []string{"--split-by", "tag:Team"}, "the run was started reading none, this resume reads Team"},
		{"a split's tag for another", []string{"--split-by", "tag:Team"}, []string{"--split-by", "tag:Env"}, "reads Env"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			got := runCLI(t, "", append(append(base, "--out", out), tc.first...)...)
			if got.code != int(exitOK) {
				t.Fatalf("first attempt: exit %d\n%s", got.code, got.stderr)
			}
			got = runCLI(t, "", append(append(base, "--out", out, "--resume"), tc.then...)...)
			if got.code != int(exitUsage) || !strings.Contains(got.stderr, tc.want) || !strings.Contains(got.stderr, "resume with the run's own") {
				t.Errorf("resume: exit %d, want %d naming %s and what to do\n%s", got.code, exitUsage, tc.want, got.stderr)
			}
		})
	}
	// The same options resume: the tag labels in another order, or one
	// twice, are the same.
	out := filepath.Join(t.TempDir(), "out")
	with := []string{"--with-instance-info", "--triage", "--tag-labels", "Team,Env"}
	if got := runCLI(t, "", append(append(base, "--out", out), with...)...); got.code != int(exitOK) {
		t.Fatalf("exit %d\n%s", got.code, got.stderr)
	}
	for _, tags := range []string{"Team,Env", "Env,Team", "Env,Team,Env"} {
		if got := runCLI(t, "", append(append(base, "--out", out, "--resume"), "--with-instance-info", "--triage", "--tag-labels", tags)...); got.code != int(exitOK) {
			t.Errorf("a resume with the run's own options (--tag-labels %s): exit %d\n%s", tags, got.code, got.stderr)
		}
	}
	// The tags a split reads are read as labels: a resume that reads the
	// same ones, whichever option names them, records the same.
	out = filepath.Join(t.TempDir(), "out")
	if got := runCLI(t, "", append(base, "--out", out, "--split-by", "tag:Team")...); got.code != int(exitOK) {
		t.Fatalf("exit %d\n%s", got.code, got.stderr)
	}
	for _, same := range [][]string{{"--split-by", "tag:Team"}, {"--tag-labels", "Team"}, {"--tag-labels", "Team", "--split-by", "tag:Team"}} {
		if got := runCLI(t, "", append(append(base, "--out", out, "--resume"), same...)...); got.code != int(exitOK) {
			t.Errorf("a resume that reads the run's tags (%s): exit %d\n%s", strings.Join(same, " "), got.code, got.stderr)
		}
	}
}
