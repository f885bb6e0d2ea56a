package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/deliver/smtptest"
	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestMailAfterRenderingOnAFullDisk: a run whose reports found the disk
// full (exit 4) left some of them unwritten, and auditor mail of its
// directory attached what was there and said "mailed the reports" (exit
// 0). It is refused (exit 2), naming each report not there and the
// auditor report that renders them; once they are rendered again it is
// mailed, with the workbook and the error codes.
func TestMailAfterRenderingOnAFullDisk(t *testing.T) {
	disk := smallDisk(t)
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\ni-0000000000000dead\n")
	ms := newMailSetup(t, smtptest.Options{})
	out := filepath.Join(disk, "r")
	args := []string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--fail-on", "none"}
	if got := runCLI(t, "", args...); got.code == int(exitFatal) {
		t.Fatalf("first attempt: exit %d\n%s", got.code, got.stderr)
	}
	fill(t, disk)
	got := runCLI(t, "", append([]string{"run", "--resume"}, args[1:]...)...)
	if got.code != int(exitFatal) {
		t.Fatalf("resume on a full disk: exit %d, want 4\n%s", got.code, got.stderr)
	}
	if strings.Contains(got.stderr, "\nreports in "+out) {
		t.Errorf("resume: says \"reports in %s\" of reports it could not write:\n%s", out, got.stderr)
	}
	var missing []string
	for _, f := range report.Formats() {
		for _, name := range f.Files() {
			if !statOK(filepath.Join(out, name)) && name != report.ChangesCSV {
				missing = append(missing, name)
			}
		}
	}
	if len(missing) == 0 {
		t.Fatal("every report was written on the full disk: nothing to test")
	}

	mail := append([]string{"mail", out, "--to", "ops@example.com"}, ms.args...)
	got = runCLI(t, "", mail...)
	if got.code != int(exitUsage) {
		t.Fatalf("mail: exit %d, want 2\n%s", got.code, got.stderr)
	}
	again := "auditor report " + shellQuote(filepath.Join(out, audit.ResultsFile)) + " --out " + shellQuote(out)
	for _, w := range append(missing, again) {
		if !strings.Contains(got.stderr, w) {
			t.Errorf("mail: stderr does not say %q:\n%s", w, got.stderr)
		}
	}
	if n := len(ms.srv.Messages()); n != 0 {
		t.Errorf("mail: %d messages, want none\n%s", n, got.stderr)
	}

	// Room again: the command renders them, and the mail goes.
	fills, _ := filepath.Glob(filepath.Join(disk, "fill*"))
	for _, f := range fills {
		os.Remove(f)
	}
	if got := runCLI(t, "", "report", filepath.Join(out, audit.ResultsFile), "--out", out, "--quiet", "--fail-on", "none"); got.code != 0 && got.code != int(exitIncomplete) {
		t.Fatalf("%s: exit %d\n%s", again, got.code, got.stderr)
	}
	got = runCLI(t, "", mail...)
	if got.code != 0 {
		t.Fatalf("mail once rendered again: exit %d, want 0\n%s", got.code, got.stderr)
	}
	if a := attachments(t, ms, 0); len(a) != 1 || !slices.Equal(a[0], []string{report.XLSXFile, report.ErrorCodesCSV}) {
		t.Errorf("attached %q, want one message with the workbook and the error codes", a)
	}
}
