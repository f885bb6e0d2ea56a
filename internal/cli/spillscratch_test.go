package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/bench/synth"
	"github.com/auditor-dev/auditor/deliver/smtptest"
	"github.com/auditor-dev/auditor/internal/outdir"
	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
)

// largeOwnedFleet serves a fleet of 70,000 instances, past what a record's
// index holds in memory (65,536), and returns its endpoint and a list that
// gives every instance the owner alpha, mailed at alpha@example.com.
func largeOwnedFleet(t *testing.T) (url, list string) {
	t.Helper()
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 7, Size: 70_000, Heavy: -1, Failing: 0.01})
	var b bytes.Buffer
	b.WriteString("instance_id,owner,owner_email\n")
	for _, id := range fleet.IDs() {
		b.WriteString(id + ",alpha,alpha@example.com\n")
	}
	list = filepath.Join(t.TempDir(), "owners.csv")
	if err := os.WriteFile(list, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	url, _ = serve(t, fleet, ssmsim.Options{})
	return url, list
}

// runHeavy is runCLI without -short's rate and with 10 minutes, not 2:
// a command over 70,000 instances under -race, on a shared machine, can
// take more than two.
func runHeavy(args ...string) cliResult {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	return runCtx(ctx, nil, args...)
}

// noSpillLeft fails the test when dir still holds its spill directory.
func noSpillLeft(t *testing.T, dir string) {
	t.Helper()
	if _, err := os.Lstat(filepath.Join(dir, outdir.TmpDir)); err == nil {
		t.Errorf("%s left in %s", outdir.TmpDir, dir)
	}
}

// TestResumeAndMailOfALargeRecordWithoutTMPDIR: in a container whose only
// writable directory is --out, a run of 70,000 instances worked, and its
// --resume and auditor mail failed, exit 2 (a usage error, which the
// shipped podFailurePolicy does not retry): they indexed the record in
// TMPDIR. They index it where the run does, in --out's .auditor-tmp.
func TestResumeAndMailOfALargeRecordWithoutTMPDIR(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: audits 70,000 instances")
	}
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, list := largeOwnedFleet(t)
	ms := newMailSetup(t, smtptest.Options{})
	out := filepath.Join(t.TempDir(), "out")
	missing := filepath.Join(t.TempDir(), "missing")
	args := []string{"run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out,
		"--quiet", "--fail-on", "none", "--format", "json", "--rate", "100000"}
	if got := runHeavy(args...); got.code != 0 {
		t.Fatalf("first run: exit %d\n%s", got.code, got.stderr)
	}
	t.Setenv("TMPDIR", missing)
	if got := runHeavy(append(args, "--resume")...); got.code != 0 {
		t.Errorf("--resume with no TMPDIR: exit %d, want 0\n%s", got.code, got.stderr)
	}
	noSpillLeft(t, out)
	got := runHeavy(append([]string{"mail", out, "--to", "ops@example.com"}, ms.args...)...)
	if got.code != 0 || len(ms.srv.Messages()) != 1 {
		t.Errorf("auditor mail with no TMPDIR: exit %d, %d messages, want 0 and 1\n%s", got.code, len(ms.srv.Messages()), got.stderr)
	}
	noSpillLeft(t, out)
}

// TestSplitMailOfALargeGroupWithoutTMPDIR: a split of 70,000 instances of
// one owner, with no TMPDIR, wrote its reports and exit 5 saying that no
// instance had --mail-to-label (false: the group's record could not be
// indexed), and marked nothing undelivered: the owner's mail was lost. The
// group's record is indexed in --out's .auditor-tmp, and mailed. (The
// record is written, not audited: an audit of 70,000 instances under
// -race takes most of a minute; a run's delivery is the same.)
func TestSplitMailOfALargeGroupWithoutTMPDIR(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: writes and splits a record of 70,000 instances")
	}
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	record := largeOwnedRecord(t)
	ms := newMailSetup(t, smtptest.Options{})
	out := filepath.Join(t.TempDir(), "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "missing"))
	got := runHeavy(append([]string{"report", record, "--out", out, "--quiet", "--fail-on", "none", "--format", "json",
		"--split-by", "owner", "--mail-to-label", "owner_email"}, ms.args...)...)
	if got.code != 0 || len(ms.srv.Messages()) != 1 {
		t.Errorf("report: exit %d, %d messages, want 0 and alpha's\n%s", got.code, len(ms.srv.Messages()), got.stderr)
	}
	if strings.Contains(got.stderr, "no instance has the label") {
		t.Errorf("report: says the label is missing:\n%s", got.stderr)
	}
	noSpillLeft(t, out)
	noSpillLeft(t, filepath.Join(report.SplitDir(out, "owner"), "alpha"))
	got = runHeavy(append([]string{"mail", out, "--mail-to-label", "owner_email"}, ms.args...)...)
	if got.code != 0 || len(ms.srv.Messages()) != 2 {
		t.Errorf("auditor mail --mail-to-label: exit %d, %d messages, want 0 and 2\n%s", got.code, len(ms.srv.Messages()), got.stderr)
	}
	noSpillLeft(t, out)
}

// largeOwnedRecord writes a record of 70,000 instances (bench/synth's), each
// of the owner alpha, mailed at alpha@example.com, and returns its path.
func largeOwnedRecord(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	path, _, err := synth.WriteDir(dir, synth.Config{Instances: 70_000, PerInstance: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	owner := regexp.MustCompile(`"owner":"[a-z]+"`)
	n := len(owner.FindAllIndex(b, -1))
	b = owner.ReplaceAll(b, []byte(`"owner":"alpha","owner_email":"alpha@example.com"`))
	if n != 70_000 {
		t.Fatalf("%d owners in the synthetic record, want one on each of its 70,000 lines", n)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestGroupMailOfAnUnreadableGroup: a group whose record could not be read
// (its index found no room) was taken for a group without the label: the
// delivery said "no instance has the label", false, marked nothing, and
// auditor mail --undelivered then said "nothing sent": the owner's mail
// was lost. The group is named with the cause, and the run's mailing of
// its groups stays pending (groupsPendingFile), as for a run killed while
// it mailed: the next run compared with it mails every group, and
// --undelivered says which command mails what was not.
func TestGroupMailOfAnUnreadableGroup(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, ownersFleet(), ssmsim.Options{})
	ms := newMailSetup(t, smtptest.Options{})
	list := writeFile(t, "owners.csv", "instance_id,owner,owner_email\ni-00000000000000a01,alice,alice@example.com\n")
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", "run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet",
		"--split-by", "owner")
	if got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	alice := filepath.Join(report.SplitDir(out, "owner"), "alice")
	record := filepath.Join(alice, "results.jsonl")
	good, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(record, []byte("not a result\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	// As the run mails its groups.
	o := defaultRunOptions()
	o.out, o.splitBy, o.delivery.mailToLabel = out, "owner", "owner_email"
	var stderr bytes.Buffer
	dl := o.marker(&stderr)
	dl.splitBy = "owner"
	r := dl.mailGroups(context.Background(), report.Options{}, []string{alice}, out)
	var said []string
	for _, err := range r.errs {
		said = append(said, err.Error())
	}
	if s := strings.Join(said, "\n"); !strings.Contains(s, alice) || strings.Contains(s, "no instance has the label") {
		t.Errorf("the run's delivery says:\n%s\nwant alice's directory named, and no word of a missing label", s)
	}
	if !statOK(filepath.Join(out, groupsPendingFile)) {
		t.Errorf("the run's mailing of its groups is not left pending: alice's mail is marked nowhere")
	}
	// Readable again (room was made): what says alice's mail is due?
	if err := os.WriteFile(record, good, 0o644); err != nil {
		t.Fatal(err)
	}
	got = runCLI(t, "", append([]string{"mail", out, "--mail-to-label", "owner_email", "--undelivered"}, ms.args...)...)
	if got.code == 0 || strings.Contains(got.stderr, "nothing sent") || !strings.Contains(got.stderr, "could not be read when its mail was due") {
		t.Errorf("mail --undelivered: exit %d, want a refusal naming what mails alice\n%s", got.code, got.stderr)
	}
	os.Remove(filepath.Join(out, groupsPendingFile))
	if err := os.WriteFile(record, []byte("not a result\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	got = runCLI(t, "", append([]string{"mail", out, "--mail-to-label", "owner_email"}, ms.args...)...)
	if got.code != 5 || !strings.Contains(got.stderr, alice) || strings.Contains(got.stderr, "no instance has the label") {
		t.Errorf("auditor mail: exit %d, want 5 naming alice's directory, and no word of a missing label\n%s", got.code, got.stderr)
	}
}
