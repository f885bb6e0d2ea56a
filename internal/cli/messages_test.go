package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/deliver/smtptest"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestMailToLabelNobodyHas: mailed by a label that no instance has,
// auditor mail said to split the run by it; the split it printed then
// failed, since no instance has the label. It says so at once.
func TestMailToLabelNobodyHas(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	out := filepath.Join(t.TempDir(), "out")
	if got := runCLI(t, "", "run", "--instances", ids, "--out", out, "--quiet", "--fail-on", "none", "--endpoint-url", url, "--region", "us-east-1"); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	ms := newMailSetup(t, smtptest.Options{})
	got := runCLI(t, "", append([]string{"mail", out, "--mail-to-label", "owner"}, ms.args...)...)
	if got.code != int(exitDelivery) {
		t.Errorf("exit %d, want %d\n%s", got.code, exitDelivery, got.stderr)
	}
	if !strings.Contains(got.stderr, `no instance has the label "owner" (the instances have no labels`) || strings.Contains(got.stderr, "split it") {
		t.Errorf("want it said that no instance has the label, and no advice to split by it\n%s", got.stderr)
	}
}

// TestTheirLabels: the labels the instances have, named in plain words
// ("theirs: none" read as if a label were named none).
func TestTheirLabels(t *testing.T) {
	for _, tt := range []struct {
		name string
		have map[string]bool
		want string
	}{
		{"none", nil, "the instances have no labels"},
		{"one", map[string]bool{"account_name": true}, "the labels they have: account_name"},
		{"sorted, odd quoted", map[string]bool{"team": true, "a b": true}, `the labels they have: "a b", team`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := theirLabels(tt.have); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestRoleNameWithSTSUnreachable: a run that reaches other accounts, with
// STS not answering, said "cannot call SSM" (no SSM call was made) and
// printed the SDK's whole error chain. It says which flag needs STS, where
// STS did not answer, why, and what to check; still exit 4.
func TestRoleNameWithSTSUnreachable(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	t.Setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:1")
	got := runCLI(t, "", "run", "--role-name", "AuditRole", "--instance-id", "i-0123456789abcdef0", "--endpoint-url", url, "--region", "us-east-1",
		"--fail-on", "none", "--quiet", "--out", filepath.Join(t.TempDir(), "out"))
	if got.code != int(exitFatal) {
		t.Errorf("exit %d, want %d\n%s", got.code, exitFatal, got.stderr)
	}
	if !strings.Contains(got.stderr, "--role-name needs the caller's account, but STS at http://127.0.0.1:1 did not answer (") ||
		!strings.Contains(got.stderr, "check the network or HTTP_PROXY") {
		t.Errorf("want the flag, STS's address, the cause and what to check\n%s", got.stderr)
	}
	for _, bad := range []string{"cannot call SSM", "operation error", "RequestID"} {
		if strings.Contains(got.stderr, bad) {
			t.Errorf("stderr says %q\n%s", bad, got.stderr)
		}
	}
}

// TestSkipInvalidAllInvalid: --skip-invalid with no valid ID said only
// "no valid instance IDs: all 1 were invalid", naming no file, line or
// value. It names the first bad line, its value and why.
func TestSkipInvalidAllInvalid(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "allbad.txt"), []byte("bad\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	got := runCLI(t, "", "run", "--instances", "allbad.txt", "--skip-invalid", "--region", "us-east-1", "--quiet", "--out", filepath.Join(dir, "out"))
	if got.code != int(exitUsage) {
		t.Errorf("exit %d, want %d\n%s", got.code, exitUsage, got.stderr)
	}
	want := `allbad.txt:1: "bad": not an instance ID`
	if !strings.Contains(got.stderr, want) || !strings.Contains(got.stderr, "--skip-invalid needs at least one valid ID (none in 1 line)") {
		t.Errorf("stderr does not say %q and what --skip-invalid needs\n%s", want, got.stderr)
	}
}

// TestHelpPlaceholdersRead: flag.UnquoteUsage leaves a flag's placeholder
// in its text, where it read mid-sentence ("discover in these regions,
// LIST|all: ...", "most BYTES"). Each reads as a sentence.
func TestHelpPlaceholdersRead(t *testing.T) {
	help := strings.Join(strings.Fields(helpOf(t, "run")), " ")
	for _, want := range []string{
		"audit these accounts (LIST|FILE|org): a comma-separated list",
		"discover in these regions (LIST|all): a comma-separated list",
		"call each account and region at most TPS times a second",
		"write stderr as text|json (json: one log/slog JSON record a line)",
		"make the subject from TEMPLATE, a text/template over the view model",
		"when to mail (always|findings|changes): always;",
		"send through ses (Amazon SES v2, with the AWS configuration); smtp, the other value, is the default with --smtp",
		"at most BYTES of the mail's HTML body",
		"at most BYTES of the whole message",
		"encrypt the upload server-side with aws:kms|AES256",
	} {
		if !strings.Contains(help, want) {
			t.Errorf("auditor run --help does not say %q", want)
		}
	}
}

// TestMailWithNoRecipient: auditor mail with no recipient said "mail:
// --to ADDRESSES, or ...", which read as a flag's help, not a refusal.
func TestMailWithNoRecipient(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	got := runCLI(t, "", "mail", t.TempDir())
	if got.code != int(exitUsage) || !strings.Contains(got.stderr, "mail: no recipient: pass --to ADDRESSES, or --mail-to-label LABEL to mail each group its own") {
		t.Errorf("exit %d, want %d saying there is no recipient\n%s", got.code, exitUsage, got.stderr)
	}
}

// TestSplitByALabelNobodyHas: a run split by a label no instance has
// warned "(theirs: none; ...)", which read as if a label were named none;
// it names the labels they have in the words auditor mail uses.
func TestSplitByALabelNobodyHas(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", "run", "--instances", ids, "--out", out, "--fail-on", "none", "--split-by", "owner", "--endpoint-url", url, "--region", "us-east-1")
	if got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	if !strings.Contains(got.stderr, `no instance has the label "owner"`) || !strings.Contains(got.stderr, "the instances have no labels") || strings.Contains(got.stderr, "theirs:") {
		t.Errorf("want the warning to say the instances have no labels, in plain words\n%s", got.stderr)
	}
}
