package cli

import (
	"bytes"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestClosingLinesCountWhatWasNotAudited: when the circuit opened on a
// failing endpoint, the closing lines once said "4 instances could not be
// audited" of 200 that were not, and told the cause after the "open" line.
// The count is the instances in error and those left for a resumed run,
// and the cause comes before the verdict and the file to open.
func TestClosingLinesCountWhatWasNotAudited(t *testing.T) {
	list, url, _ := failingFleet(t)
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", "run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out,
		"--max-attempts", "2", "--concurrency", "4", "--fail-on", "none", "--quiet")
	if got.code != int(exitIncomplete) {
		t.Fatalf("exit %d, want %d\n%s", got.code, exitIncomplete, got.stderr)
	}
	ri, err := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	errored := ri.Outcomes[audit.OutcomeError]
	if errored == 0 || errored >= 200 {
		t.Fatalf("%d instances in error; the test wants some, not all, recorded so", errored)
	}
	m := regexp.MustCompile(`incomplete: (\d+) instances could not be audited: (\d+) ended in error, (\d+) left for a resumed run`).FindStringSubmatch(got.stderr)
	if m == nil {
		t.Fatalf("no count of what was not audited with its parts\n%s", got.stderr)
	}
	whole, inError, left := atoi(t, m[1]), atoi(t, m[2]), atoi(t, m[3])
	if whole != 200 || inError != errored || left != 200-errored {
		t.Errorf("said %d could not be audited (%d in error, %d left), want 200 (%d in error, %d left)\n%s", whole, inError, left, errored, 200-errored, got.stderr)
	}
	cause := strings.Index(got.stderr, "is failing (InternalServerError, HTTP 500)")
	verdict := strings.Index(got.stderr, "incomplete: ")
	open := strings.Index(got.stderr, "open "+filepath.Join(out, "report.html"))
	if cause < 0 || verdict < 0 || open < 0 || !(cause < verdict && verdict < open) {
		t.Errorf("want the cause, then the verdict, then the file to open; at %d, %d, %d\n%s", cause, verdict, open, got.stderr)
	}
	if n := strings.Count(got.stderr, "is failing (InternalServerError"); n != 1 {
		t.Errorf("the cause told %d times, want once\n%s", n, got.stderr)
	}
}

// TestSummarizeCountsWhatWasNotAudited: the verdict line of the closing
// summary counts, as one, the instances in error and the targets the
// record has no result for, whichever of the two there are.
func TestSummarizeCountsWhatWasNotAudited(t *testing.T) {
	tests := []struct {
		name     string
		targets  int
		outcomes map[audit.Outcome]int
		errMsg   string
		sites    bool // an account-region failed too
		want     string
	}{
		{
			// Instances in error and an account-region refused: the
			// line counted the instances alone, where summary.json said
			// the account-region too.
			name: "errors and account-regions", targets: 0, sites: true,
			outcomes: map[audit.Outcome]int{audit.OutcomeCompliant: 8, audit.OutcomeError: 2},
			errMsg:   "1 account-region could not be audited",
			want:     "incomplete: 2 instances and 1 account-region could not be audited (exit 3); fix the cause above, then retry them with: RESUME\n",
		},
		{
			name: "errors, instances left and account-regions", targets: 300, sites: true,
			outcomes: map[audit.Outcome]int{audit.OutcomeCompliant: 131, audit.OutcomeError: 70},
			errMsg:   "SSM endpoint down: x is failing",
			want:     "incomplete: 169 instances and 1 account-region could not be audited: 70 ended in error, 99 left for a resumed run (exit 3); fix the cause above, then continue with: RESUME\n",
		},
		{
			name: "errors only", targets: 10,
			outcomes: map[audit.Outcome]int{audit.OutcomeCompliant: 8, audit.OutcomeError: 2},
			want:     "incomplete: 2 instances could not be audited (exit 3); retry them with: RESUME\n",
		},
		{
			name: "errors and instances left", targets: 300,
			outcomes: map[audit.Outcome]int{audit.OutcomeCompliant: 131, audit.OutcomeError: 70},
			errMsg:   "SSM endpoint down: x is failing",
			want:     "incomplete: 169 instances could not be audited: 70 ended in error, 99 left for a resumed run (exit 3); continue with: RESUME\n",
		},
		{
			name: "instances left only", targets: 300,
			outcomes: map[audit.Outcome]int{audit.OutcomeCompliant: 200},
			errMsg:   "100 of 300 targets have no result in the record",
			want:     "incomplete: 100 instances could not be audited: left for a resumed run (exit 3); continue with: RESUME\n",
		},
		{
			// Discovery: no targets known beforehand; an account's role
			// refused. --resume audits it (and it alone), once the role
			// is there to assume.
			name: "account-regions not audited", targets: 0,
			outcomes: map[audit.Outcome]int{audit.OutcomeCompliant: 20},
			errMsg:   "1 account-region could not be audited",
			want:     "incomplete: 1 account-region could not be audited (exit 3); fix the cause above, then continue with: RESUME\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := audit.RunInfo{Targets: tt.targets, Outcomes: tt.outcomes, Error: tt.errMsg}
			if tt.targets == 0 || tt.sites {
				info.Sites = []audit.SiteStats{{AccountID: "222222222222", Region: "us-east-1", Error: &audit.Error{Code: "AccessDenied", Message: "not authorized to perform sts:AssumeRole"}}}
			}
			var w bytes.Buffer
			summarize(&w, "HEAD", info, &audit.FailOn{}, nil, nil, "OUT", "RESUME", nil, false, nil)
			if got := w.String(); !strings.Contains(got, tt.want) {
				t.Errorf("got\n%s\nwant a line\n%s", got, tt.want)
			}
		})
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestResumeCommandPastes: the command the closing lines offer to continue
// a run stopped by a failing endpoint once split a directory with a space
// in two, and left out the --cli-input-json file the weekly job's options
// are in: pasted, it exited 2. It quotes the directory and names the file,
// as the run's own command line does.
func TestResumeCommandPastes(t *testing.T) {
	list, url, _ := failingFleet(t)
	out := filepath.Join(t.TempDir(), "weekly runs", "w1")
	opts := writeFile(t, "weekly.json", `{"instances": [`+strconv.Quote(list)+`], "region": "us-east-1", "endpoint-url": `+strconv.Quote(url)+`}`)
	args := []string{"--cli-input-json", opts, "--out", out, "--max-attempts", "2", "--concurrency", "4", "--fail-on", "none", "--quiet"}
	got := runCLI(t, "", append([]string{"run"}, args...)...)
	if got.code != int(exitIncomplete) {
		t.Fatalf("exit %d, want %d\n%s", got.code, exitIncomplete, got.stderr)
	}
	var cmds [][]string
	for _, line := range strings.Split(got.stderr, "\n") {
		if _, h, ok := strings.Cut(line, "continue once it answers again with: "); ok {
			// What follows the command is a note, in parentheses.
			h, _, _ = strings.Cut(h, " (and ")
			words, err := shellWords(h)
			if err != nil {
				t.Fatalf("%s\nis not one plain command to a shell: %v", h, err)
			}
			cmds = append(cmds, words)
		}
	}
	if len(cmds) == 0 {
		t.Fatalf("no command to continue the run\n%s", got.stderr)
	}
	// The run's own flags, and what runCLI added to them, --out last.
	want := append([]string{"auditor", "run", "--resume", "--cli-input-json", opts}, args[4:]...)
	if testing.Short() {
		want = append(want, "--rate", "2000")
	}
	want = append(want, "--out", out)
	for _, words := range cmds {
		if !slices.Equal(words, want) {
			t.Errorf("command %q, want %q", words, want)
		}
	}
}

// TestSummarizeSitesPlain: an account or region of a site is printed on
// the terminal as plain text, even one that came from a service's answer
// with escape sequences in it: the closing lines, and the hint that names
// the account.
func TestSummarizeSitesPlain(t *testing.T) {
	const account, region = "99999999\x1b]0;PWNED\x07\x1b[2K\rFAKE", "us-east-1\u202e\x1b[31m"
	info := audit.RunInfo{Outcomes: map[audit.Outcome]int{}, Caller: "1111\x1b[2J", Sites: []audit.SiteStats{
		{AccountID: account, Region: region, Error: &audit.Error{Code: "AccessDenied", Message: "not authorized"}},
		{AccountID: account, Region: region, Error: &audit.Error{Code: "InvalidClientTokenId", Message: "invalid"}},
		{AccountID: account, Region: region, InfoError: &audit.Error{Code: "AccessDenied", Message: "no"}},
	}}
	var w bytes.Buffer
	summarize(&w, "HEAD", info, &audit.FailOn{}, nil, nil, "OUT", "RESUME", nil, false, nil)
	got := w.String()
	if strings.ContainsAny(got, "\x1b\x07\r\u202e") {
		t.Errorf("control characters reach the terminal:\n%q", got)
	}
	for _, want := range []string{"could not be audited", "the role could not be assumed in account", "is us-east-1", "instance information not read"} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in\n%q", want, got)
		}
	}
}

// TestSummarizeErrorsShowTheirCause: the closing line of the instances in
// error cut each message after 120 characters, and the SDK's own words
// (operation, attempts, status, request ID) fill those before the cause:
// "socket: too many open files", "no such host" never showed, though the
// line is there so that no one need open a CSV to learn why.
func TestSummarizeErrorsShowTheirCause(t *testing.T) {
	msg := `operation error SSM: DescribeInstanceAssociationsStatus, exceeded maximum number of attempts, 8, https response error StatusCode: 0, RequestID: , request send failed, Post "https://ssm.eu-west-1.amazonaws.com/": dial tcp 52.95.120.1:443: socket: too many open files`
	var errs errorTally
	for range 3 {
		errs.add(audit.Result{AccountID: "111111111111", Region: "eu-west-1", Outcome: audit.OutcomeError, Error: &audit.Error{Code: "Transport", Message: msg}})
	}
	info := audit.RunInfo{Outcomes: map[audit.Outcome]int{audit.OutcomeError: 3}, Targets: 3}
	var w bytes.Buffer
	summarize(&w, "HEAD", info, &audit.FailOn{}, &errs, nil, "OUT", "RESUME", nil, false, nil)
	for _, want := range []string{"3 instances ended in error: 3 Transport (operation error SSM", "socket: too many open files)"} {
		if !strings.Contains(w.String(), want) {
			t.Errorf("no %q in\n%s", want, w.String())
		}
	}
}

// TestErrorTallyTop: the closing summary names the most frequent error
// codes, most first, and as many as it was asked for: an operator reads
// the first as the cause of most failures.
func TestErrorTallyTop(t *testing.T) {
	var errs errorTally
	for i, code := range []string{"F", "E", "D", "C", "B", "A"} {
		for range i + 1 {
			errs.add(audit.Result{AccountID: "111111111111", Region: "eu-west-1", Outcome: audit.OutcomeError, Error: &audit.Error{Code: code, Message: "m"}})
		}
	}
	var got []string
	for _, c := range errs.top(5) {
		got = append(got, c.code+"="+strconv.Itoa(c.n))
	}
	if want := []string{"A=6", "B=5", "C=4", "D=3", "E=2"}; !slices.Equal(got, want) {
		t.Errorf("top(5) = %v, want %v", got, want)
	}
}
