package cli

import (
	"context"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/deliver/smtptest"
	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
)

// ownersInterrupted serves the owners' fleet and runs the owners' list
// into a new --out with args, signalled as the first instance is answered
// (one at a time: the others are left for a resume). It returns --out,
// the list, the endpoint and the run's result.
func ownersInterrupted(t *testing.T, args ...string) (out, list, url string, got cliResult) {
	t.Helper()
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	url, _, _ = serveLogged(t, ownersFleet("alice", "bob"), func(w http.ResponseWriter, r wireReq) bool {
		if r.op == ssmsim.OpDescribeInstanceAssociationsStatus {
			once.Do(cancel) // the signal, as the first call is answered
		}
		return false
	})
	list = writeFile(t, "fleet.csv", ownersList)
	out = filepath.Join(t.TempDir(), "out")
	got = runCtx(ctx, nil, append([]string{"run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out,
		"--concurrency", "1", "--fail-on", "none", "--quiet"}, args...)...)
	if got.code != int(exitIncomplete) {
		t.Fatalf("interrupted run: exit %d, want %d\n%s", got.code, exitIncomplete, got.stderr)
	}
	return out, list, url, got
}

// TestResumeWithoutSplitLeavesNoStaleGroups: an interrupted run split by
// owner_email, resumed without --split-by, left the interrupted attempt's
// by-owner_email beside the whole run's record, and auditor mail
// --mail-to-label then mailed every owner the interrupted figures
// ("PARTIAL: ... (run interrupted)"), exit 0. A rendering leaves no split
// it did not write, and says so.
func TestResumeWithoutSplitLeavesNoStaleGroups(t *testing.T) {
	out, list, url, _ := ownersInterrupted(t, "--split-by", "owner_email")
	split := report.SplitDir(out, "owner_email")
	if _, err := os.Stat(filepath.Join(split, report.SplitIndex)); err != nil {
		t.Fatalf("the interrupted run wrote no split: %v", err)
	}
	got := runCLI(t, "", "run", "--resume", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--fail-on", "none", "--quiet")
	if got.code != 0 {
		t.Fatalf("resume: exit %d\n%s", got.code, got.stderr)
	}
	if ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile)); err != nil || !ri.Complete {
		t.Fatalf("run.json after the resume: complete %v (%v), want a whole run", ri.Complete, err)
	}
	if _, err := os.Stat(split); err == nil {
		t.Errorf("%s, the interrupted attempt's split, is still beside the whole run's record", split)
	}
	if !strings.Contains(got.stderr, split) || !strings.Contains(got.stderr, "--split-by owner_email") {
		t.Errorf("stderr does not say the earlier split was removed, nor how to split again:\n%s", got.stderr)
	}

	ms := newMailSetup(t, smtptest.Options{})
	mail := runCLI(t, "", append([]string{"mail", out, "--mail-to-label", "owner_email"}, ms.args...)...)
	if n := len(ms.srv.Messages()); n != 0 {
		partialMailed(t, ms)
		t.Fatalf("%d messages mailed of a run that is not split\n%s", n, mail.stderr)
	}
	// The command it gives splits the record, and then each owner gets
	// the whole run's figures.
	again := commandsAfter(t, mail.stderr, "split it: ")
	if len(again) != 1 {
		t.Fatalf("mail of a run not split: exit %d, want the command that splits it\n%s", mail.code, mail.stderr)
	}
	if got := runCLI(t, "", append(again[0][1:], "--quiet", "--fail-on", "none")...); got.code != 0 {
		t.Fatalf("%q: exit %d\n%s", again[0], got.code, got.stderr)
	}
	if mail := runCLI(t, "", append([]string{"mail", out, "--mail-to-label", "owner_email"}, ms.args...)...); mail.code != 0 || len(ms.srv.Messages()) != 3 {
		t.Errorf("mail once split: exit %d, %d messages, want 0 and one for each of 3 owners\n%s", mail.code, len(ms.srv.Messages()), mail.stderr)
	}
	partialMailed(t, ms)
}

// partialMailed fails the test for each message ms got that says its
// figures are partial.
func partialMailed(t *testing.T, ms mailSetup) {
	t.Helper()
	for _, m := range ms.srv.Messages() {
		pm, err := smtptest.Parse(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(pm.Subject, "PARTIAL") {
			t.Errorf("%q mailed the interrupted attempt's figures: %q", m.To, pm.Subject)
		}
	}
}

// TestMailRefusesAStaleSplit: a split whose groups are not of the run's
// rendering (one an earlier version left, or copied in by hand) is
// refused by auditor mail, exit 2, naming it and how to split again,
// before any mail is sent; so is one group's directory of it.
func TestMailRefusesAStaleSplit(t *testing.T) {
	out, list, url, _ := ownersInterrupted(t, "--split-by", "owner_email")
	split := report.SplitDir(out, "owner_email")
	kept := filepath.Join(t.TempDir(), "kept")
	if err := os.CopyFS(kept, os.DirFS(split)); err != nil {
		t.Fatal(err)
	}
	got := runCLI(t, "", "run", "--resume", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--fail-on", "none", "--quiet")
	if got.code != 0 {
		t.Fatalf("resume: exit %d\n%s", got.code, got.stderr)
	}
	// As a version that did not remove it left it.
	os.RemoveAll(split)
	if err := os.CopyFS(split, os.DirFS(kept)); err != nil {
		t.Fatal(err)
	}
	ms := newMailSetup(t, smtptest.Options{})
	mail := runCLI(t, "", append([]string{"mail", out, "--mail-to-label", "owner_email", "--to", "ops@example.com"}, ms.args...)...)
	if mail.code != int(exitUsage) || !strings.Contains(mail.stderr, split) || !strings.Contains(mail.stderr, "--split-by owner_email") {
		t.Errorf("mail of a stale split: exit %d, want %d naming %s and how to split again\n%s", mail.code, exitUsage, split, mail.stderr)
	}
	groups, err := splitGroupDirs(split)
	if err != nil || len(groups) == 0 {
		t.Fatalf("no group in %s: %v", split, err)
	}
	group := groups[0]
	one := runCLI(t, "", append([]string{"mail", group, "--to", "alice@example.com"}, ms.args...)...)
	if one.code != int(exitUsage) || !strings.Contains(one.stderr, group) {
		t.Errorf("mail of a stale group: exit %d, want %d naming it\n%s", one.code, exitUsage, one.stderr)
	}
	if n := len(ms.srv.Messages()); n != 0 {
		t.Errorf("%d messages sent of a split that is not the run's", n)
	}
}

// reportFiles returns what --out holds of the files a rendering writes
// at its top, by name.
func reportFiles(t *testing.T, out string) map[string]os.FileInfo {
	t.Helper()
	files := map[string]os.FileInfo{}
	for _, f := range report.Formats() {
		for _, name := range f.Files() {
			if st, err := os.Stat(filepath.Join(out, name)); err == nil {
				files[name] = st
			}
		}
	}
	return files
}

// leftOver returns the files of before (reportFiles) that out still holds
// as they were: not written again.
func leftOver(t *testing.T, out string, before map[string]os.FileInfo) []string {
	t.Helper()
	var left []string
	for name, st := range reportFiles(t, out) {
		if old, ok := before[name]; ok && os.SameFile(old, st) {
			left = append(left, name)
		}
	}
	slices.Sort(left)
	return left
}

// attachments returns the names of the files attached to each message of
// ms from the n-th on.
func attachments(t *testing.T, ms mailSetup, n int) [][]string {
	t.Helper()
	var out [][]string
	for _, m := range ms.srv.Messages()[n:] {
		pm, err := smtptest.Parse(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, a := range pm.Attachments() {
			names = append(names, a.Filename)
		}
		out = append(out, names)
	}
	return out
}

// TestResumeInOtherFormatsLeavesNoStaleReports: a resume with --format
// csv of a run interrupted with every format left the interrupted
// attempt's report.html, report.xlsx and summary.json ("... (run
// interrupted)") beside a run.json that says complete, and its mail, and
// auditor mail's, attached the stale workbook. A rendering leaves no
// report it did not write.
func TestResumeInOtherFormatsLeavesNoStaleReports(t *testing.T) {
	out, list, url, _ := ownersInterrupted(t)
	before := reportFiles(t, out)
	if len(before) < 6 {
		t.Fatalf("the interrupted run wrote %d reports, want every format's", len(before))
	}
	ms := newMailSetup(t, smtptest.Options{})
	got := runCLI(t, "", append([]string{"run", "--resume", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out,
		"--fail-on", "none", "--quiet", "--format", "csv", "--mail-to", "ops@example.com"}, ms.args...)...)
	if got.code != 0 {
		t.Fatalf("resume: exit %d\n%s", got.code, got.stderr)
	}
	if left := leftOver(t, out, before); len(left) > 0 {
		t.Errorf("%q of the interrupted attempt left beside the whole run's run.json", left)
	}
	for _, name := range []string{report.HTMLFile, report.XLSXFile, report.SummaryFile} {
		if _, err := os.Stat(filepath.Join(out, name)); err == nil {
			t.Errorf("%s is there, of a format the resume did not write", name)
		}
	}
	mail := runCLI(t, "", append([]string{"mail", out, "--to", "ops@example.com"}, ms.args...)...)
	if mail.code != 0 {
		t.Fatalf("auditor mail: exit %d\n%s", mail.code, mail.stderr)
	}
	for _, names := range attachments(t, ms, 0) {
		if !slices.Equal(names, []string{report.ErrorCodesCSV}) {
			t.Errorf("attached %q, want the error codes alone: the workbook is not of this rendering", names)
		}
	}
	if n := len(ms.srv.Messages()); n != 2 {
		t.Errorf("%d messages, want the resume's and auditor mail's", n)
	}
}

// TestFailedFormatLeavesNoStaleReport: a format that could not be written
// (a template that fails on the data, as a full disk would) left the
// previous attempt's file of that format beside the new run.json; it is
// removed, as is the one of a format auditor report does not render in
// place.
func TestFailedFormatLeavesNoStaleReport(t *testing.T) {
	out, list, url, _ := ownersInterrupted(t)
	before := reportFiles(t, out)
	// A directory where report.html goes is refused before the first
	// call: the earlier attempt's reports stay, with the run.json they
	// are of.
	runBefore, _ := os.Stat(filepath.Join(out, audit.RunFile))
	html := filepath.Join(out, report.HTMLFile)
	os.Rename(html, html+".kept")
	os.Mkdir(html, 0o777)
	taken := runCLI(t, "", "run", "--resume", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--fail-on", "none", "--quiet")
	if runAfter, err := os.Stat(filepath.Join(out, audit.RunFile)); taken.code != int(exitFatal) || err != nil || !os.SameFile(runBefore, runAfter) {
		t.Fatalf("resume beside a report.html directory: exit %d, want %d with run.json untouched (%v)\n%s", taken.code, exitFatal, err, taken.stderr)
	}
	os.Remove(html)
	os.Rename(html+".kept", html)
	if left := leftOver(t, out, before); len(left) != len(before) {
		t.Fatalf("%q of %d reports left as they were by a refused resume", left, len(before))
	}
	// Passes the check, which takes an index past the sample's rows for
	// one a fleet may have; fails with any data (Outcomes has one entry
	// per outcome).
	tmpl := writeFile(t, "fails.html.tmpl", "<p>{{index .Outcomes 100}}</p>\n")
	got := runCLI(t, "", "run", "--resume", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out,
		"--fail-on", "none", "--quiet", "--template", tmpl)
	if got.code != int(exitFatal) {
		t.Fatalf("resume with a failing template: exit %d, want %d\n%s", got.code, exitFatal, got.stderr)
	}
	if ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile)); err != nil || !ri.Complete {
		t.Fatalf("run.json after the resume: complete %v (%v), want a whole run", ri.Complete, err)
	}
	if left := leftOver(t, out, before); len(left) > 0 {
		t.Errorf("%q of the interrupted attempt left beside the whole run's run.json", left)
	}
	if _, err := os.Stat(filepath.Join(out, report.HTMLFile)); err == nil {
		t.Errorf("%s is there, and this rendering could not write it", report.HTMLFile)
	}

	// Rendered again in place in one format: the others' files go.
	before = reportFiles(t, out)
	rep := runCLI(t, "", "report", filepath.Join(out, audit.ResultsFile), "--out", out, "--format", "json", "--fail-on", "none", "--quiet")
	if rep.code != 0 {
		t.Fatalf("auditor report in place: exit %d\n%s", rep.code, rep.stderr)
	}
	if left := leftOver(t, out, before); len(left) > 0 {
		t.Errorf("%q of the run left beside the run.json of auditor report --format json", left)
	}
	if files := slices.Sorted(maps.Keys(reportFiles(t, out))); !slices.Equal(files, []string{report.SummaryFile}) {
		t.Errorf("reports after auditor report --format json: %q, want %s alone", files, report.SummaryFile)
	}
}
