package cli

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestTagLabels: --split-by tag:Team reads each instance's Team tag (EC2's
// DescribeTags for i-, SSM's ListTagsForResource for mi-) into the label
// tag:Team of the record, and each team gets its own reports, together
// the fleet; DescribeTags is asked about 199 instances a call (and the key).
func TestTagLabels(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 5, Size: shortN(450, 120)})
	url, srv := serve(t, f, ssmsim.Options{})
	t.Setenv("AWS_ENDPOINT_URL_EC2", url)
	var list strings.Builder
	want := map[string]string{}
	ec2IDs, hybrid := 0, 0
	for _, id := range f.IDs() {
		list.WriteString(id + "\n")
		in, _ := f.Instance(id)
		if strings.HasPrefix(id, "mi-") {
			hybrid++ // each asked about, the deregistered too
			if !f.Managed(id) {
				continue // deregistered: SSM no longer knows it, nor its tags
			}
		} else {
			ec2IDs++
		}
		if v, ok := in.Tags["Team"]; ok {
			want[id] = v
		}
	}
	ids := writeFile(t, "ids.txt", list.String())
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out,
		"--split-by", "tag:Team", "--format", "csv", "--fail-on", "none", "--quiet")
	if got.code != 0 {
		t.Fatalf("exit %d\n%s", got.code, got.stderr)
	}
	rec, err := os.Open(filepath.Join(out, audit.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	have := map[string]string{}
	n := 0
	if _, err := audit.ReadRecord(rec, "results.jsonl", func(r audit.Result) error {
		n++
		if v, ok := r.Labels["tag:Team"]; ok {
			have[r.InstanceID] = v
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != f.Len() || len(want) < 10 {
		t.Fatalf("%d results for %d instances (%d with a Team tag)", n, f.Len(), len(want))
	}
	for id, v := range want {
		if have[id] != v {
			t.Errorf("%s: label tag:Team %q, want the tag's %q", id, have[id], v)
		}
	}
	for id, v := range have {
		if _, ok := want[id]; !ok {
			t.Errorf("%s: label tag:Team %q, but the instance has no such tag", id, v)
		}
	}
	calls := srv.Stats().Calls
	// EC2 takes 200 filter values a call: 199 instance IDs and the key.
	if d, l := calls[ssmsim.OpDescribeTags], calls[ssmsim.OpListTagsForResource]; d != int64((ec2IDs+198)/199) || l != int64(hybrid) {
		t.Errorf("DescribeTags %d calls, ListTagsForResource %d; want %d (199 instances a call) and %d (one a hybrid node)", d, l, (ec2IDs+198)/199, hybrid)
	}
	groups := map[string]int{}
	for _, v := range want {
		groups[v]++
	}
	for team, count := range groups {
		csvPath := filepath.Join(report.SplitDir(out, "tag:Team"), report.SafeName(team), "instances.csv")
		b, err := os.ReadFile(csvPath)
		if err != nil {
			t.Errorf("team %s: %v", team, err)
			continue
		}
		if rows := strings.Count(string(b), "\n") - 1; rows != count {
			t.Errorf("team %s: %d rows in its instances.csv, want its %d instances", team, rows, count)
		}
	}
}

// TestTagLabelsDenied: a caller that may not read tags is stopped before
// any association is asked for, with exit 4 and what to grant; in several
// regions too, where a region not enabled fails alone: the permission is
// the run's own credentials', which every region needs.
func TestTagLabelsDenied(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 5, Size: 20})
	url, srv := serve(t, f, ssmsim.Options{DenyAccessKeys: map[string]string{"AKIATESTTESTTESTTEST": "AccessDeniedException"}})
	t.Setenv("AWS_ENDPOINT_URL_EC2", url)
	ids := f.IDs()
	var rows strings.Builder
	rows.WriteString("instance_id,region\n")
	for i, id := range ids {
		fmt.Fprintf(&rows, "%s,%s\n", id, []string{"us-east-1", "eu-west-1"}[i%2])
	}
	for name, list := range map[string]string{
		"one region":  writeFile(t, "ids.txt", strings.Join(ids, "\n")+"\n"),
		"two regions": writeFile(t, "fleet.csv", rows.String()),
	} {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			got := runCLI(t, "", "run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--tag-labels", "Team,Owner", "--quiet")
			if got.code != int(exitFatal) || !strings.Contains(got.stderr, "grant ec2:DescribeTags") || !strings.Contains(got.stderr, "UnauthorizedOperation") {
				t.Fatalf("exit %d, want %d naming ec2:DescribeTags and the service's code\n%s", got.code, exitFatal, got.stderr)
			}
			if !strings.Contains(got.stderr, "cannot call EC2") || strings.Contains(got.stderr, "cannot call SSM") {
				t.Errorf("stderr does not name EC2 as the service that refused:\n%s", got.stderr)
			}
			if c := srv.Stats().Calls[ssmsim.OpDescribeInstanceAssociationsStatus]; c != 0 {
				t.Errorf("%d association calls after tags could not be read; want none", c)
			}
		})
	}
}

// TestTagLabelsChecked: a tag key that cannot be one is refused before
// anything is read or called, naming the flag it came from.
func TestTagLabelsChecked(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	for _, tc := range []struct {
		args []string
		want string
	}{
		// Not "tag key \"\": want a key without spaces around it".
		{[]string{"--split-by", "tag:"}, `--split-by tag:: the tag key is empty (want tag:KEY)`},
		{[]string{"--mail-to-label", "tag:"}, `--mail-to-label tag:: the tag key is empty (want tag:KEY)`},
		{[]string{"--tag-labels", strings.Repeat("k", 129)}, "at most 128 characters"},
		// The key is the label's name, a column of every report: one
		// that does not read as itself would put an escape in each.
		{[]string{"--tag-labels", "Team\x1b[2J"}, `--tag-labels: tag key "Team\x1b[2J": contains a control character`},
		{[]string{"--split-by", "tag:Team\u200b"}, `--split-by: tag key "Team\u200b": contains a format character`},
	} {
		out := filepath.Join(t.TempDir(), "out")
		got := runCLI(t, "", append([]string{"run", "--instance-id", "i-0123456789abcdef0", "--region", "us-east-1", "--out", out}, tc.args...)...)
		if got.code != 2 || !strings.Contains(got.stderr, tc.want) {
			t.Errorf("%v: exit %d, want 2 and %q\n%s", tc.args, got.code, tc.want, got.stderr)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%v: the output directory was made (%v)", tc.args, err)
		}
	}
}

// TestTagLabelsThrottled: hybrid nodes' tags are read through SSM, which
// shares the account-region's throttling: with 30% of SSM's answers
// throttled, every node still gets its tag (the SDK retries them).
func TestTagLabelsThrottled(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out the SDK's retry backoff (seconds): skipped with -short")
	}
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 5, Size: 60})
	url, srv := serve(t, f, ssmsim.Options{Faults: ssmsim.Faults{ThrottleRate: 0.3}})
	t.Setenv("AWS_ENDPOINT_URL_EC2", url)
	want := map[string]string{}
	hybrid := 0
	for _, id := range f.IDs() {
		if !strings.HasPrefix(id, "mi-") {
			continue
		}
		hybrid++
		if in, _ := f.Instance(id); f.Managed(id) && in.Tags["Team"] != "" {
			want[id] = in.Tags["Team"]
		}
	}
	if len(want) == 0 {
		t.Fatal("the fleet has no managed hybrid node with a Team tag")
	}
	ids := writeFile(t, "ids.txt", strings.Join(f.IDs(), "\n")+"\n")
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out,
		"--tag-labels", "Team", "--format", "csv", "--fail-on", "none", "--quiet", "--rate", "500")
	if got.code != 0 {
		t.Fatalf("exit %d\n%s", got.code, got.stderr)
	}
	if n := srv.Stats().Calls[ssmsim.OpListTagsForResource]; n <= int64(hybrid) {
		t.Fatalf("%d ListTagsForResource calls for %d hybrid nodes: none was retried, so no throttle reached them and the test tried nothing", n, hybrid)
	}
	rec, err := os.Open(filepath.Join(out, audit.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	if _, err := audit.ReadRecord(rec, "results.jsonl", func(r audit.Result) error {
		if w, ok := want[r.InstanceID]; ok && r.Labels["tag:Team"] != w {
			t.Errorf("%s: label tag:Team %q, want %q", r.InstanceID, r.Labels["tag:Team"], w)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestTagsError: tags that cannot be read stop the run (the error wraps
// audit.ErrFatal), in words that name the service that was called and
// advise a permission only when the service refused one. Every such error
// read "cannot call SSM" for EC2's DescribeTags, and advised granting
// ec2:DescribeTags for any cause: a request EC2 refused as malformed, or a
// network that failed.
func TestTagsError(t *testing.T) {
	callErr := func(service, op, code string) error {
		return &smithy.OperationError{ServiceID: service, OperationName: op,
			Err: &smithy.GenericAPIError{Code: code, Message: "the service's words"}}
	}
	tests := []struct {
		name      string
		err       error
		want      []string
		wantNot   []string
		wantGrant string // the permission advised, or "" for none
	}{
		{"EC2 refuses the permission", fmt.Errorf("ec2:DescribeTags: %w", callErr("EC2", "DescribeTags", "UnauthorizedOperation")),
			[]string{"cannot call EC2", "UnauthorizedOperation"}, []string{"SSM"}, "ec2:DescribeTags"},
		{"SSM denies access", fmt.Errorf("ssm:ListTagsForResource mi-0123456789abcdef0: %w", callErr("SSM", "ListTagsForResource", "AccessDeniedException")),
			[]string{"cannot call SSM", "AccessDeniedException"}, []string{"EC2"}, "ssm:ListTagsForResource"},
		{"EC2 refuses the request", fmt.Errorf("ec2:DescribeTags: %w", callErr("EC2", "DescribeTags", "FilterLimitExceeded")),
			[]string{"cannot call EC2", "FilterLimitExceeded"}, []string{"SSM"}, ""},
		{"no answer", fmt.Errorf("ec2:DescribeTags: %w", &smithy.OperationError{ServiceID: "EC2", OperationName: "DescribeTags",
			Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}),
			[]string{"cannot call EC2", "connection refused"}, []string{"SSM"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tagsError("us-east-1", tt.err)
			got := err.Error()
			if !errors.Is(err, audit.ErrFatal) {
				t.Errorf("%q does not wrap audit.ErrFatal: the run would not stop", got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("%q: want it to say %q", got, w)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(got, w) {
					t.Errorf("%q: names %s, which was not called", got, w)
				}
			}
			switch {
			case tt.wantGrant == "" && strings.Contains(got, "grant"):
				t.Errorf("%q: advises a permission for a cause that is not one", got)
			case tt.wantGrant != "" && !strings.Contains(got, "grant "+tt.wantGrant):
				t.Errorf("%q: want it to advise granting %s", got, tt.wantGrant)
			}
		})
	}
}

// TestTagLabelsUnseen: a tag's value was a label as it came: a Team tag
// "ops" and "ops\u200b" made two --split-by groups that read the same,
// and one with terminal escapes (OSC 8) reached index.csv and
// instances.csv raw. Tags come from anyone who may tag an instance, so the
// run goes on: each character that does not show as itself is written as
// its escape (and a real backslash that would read as one is doubled), so
// that the groups differ where they are read, no control character
// reaches a file, and one warning names an instance, the tag and the
// value as written.
func TestTagLabelsUnseen(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	f := ssmsim.NewFleet(ssmsim.FleetConfig{})
	d := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	teams := []struct{ id, tag, want string }{
		{"i-00000000000000001", "ops", "ops"},
		{"i-00000000000000002", "ops\u200b", `ops\u200b`},
		{"i-00000000000000003", `ops\u200b`, `ops\\u200b`},
		// A hybrid node's tags come through SSM's JSON, which carries an
		// escape (EC2's XML cannot).
		{"mi-00000000000000004", "\x1b]8;;https://evil.example/\x1b\\ops\x1b]8;;\x1b\\\x1b[2J", `\x1b]8;;https://evil.example/\x1b\ops\x1b]8;;\x1b\\\x1b[2J`},
	}
	var ids strings.Builder
	for i, tm := range teams {
		ids.WriteString(tm.id + "\n")
		kind := "EC2Instance"
		if strings.HasPrefix(tm.id, "mi-") {
			kind = "ManagedInstance"
		}
		f.Add(ssmsim.Instance{InstanceID: tm.id, PingStatus: "Online", PlatformType: "Linux", ResourceType: kind,
			Tags: map[string]string{"Team": tm.tag},
			Associations: []ssmsim.Association{{AssociationID: fmt.Sprintf("%08d-1111-1111-1111-111111111111", i), Name: "AWS-RunPatchBaseline",
				InstanceID: tm.id, Status: "Success", DetailedStatus: "Success", ExecutionDate: d}}})
	}
	url, _ := serve(t, f, ssmsim.Options{})
	t.Setenv("AWS_ENDPOINT_URL_EC2", url)
	list := writeFile(t, "ids.txt", ids.String())
	// Listed, and discovered (whose tags are read as its pages come).
	for _, targets := range [][]string{{"--instances", list}, {"--discover"}} {
		t.Run(targets[0], func(t *testing.T) { checkTagsEscaped(t, url, targets, teams) })
	}
}

func checkTagsEscaped(t *testing.T, url string, targets []string, teams []struct{ id, tag, want string }) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", append(append([]string{"run"}, targets...), "--endpoint-url", url, "--region", "us-east-1", "--out", out,
		"--split-by", "tag:Team", "--format", "csv,html", "--fail-on", "none", "--quiet")...)
	if got.code != 0 {
		t.Fatalf("exit %d, want 0: a tag is not refused\n%s", got.code, got.stderr)
	}
	var warnings []string
	for _, l := range strings.Split(got.stderr, "\n") {
		if strings.Contains(l, "warning:") {
			warnings = append(warnings, l)
		}
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], `i-00000000000000002`) || !strings.Contains(warnings[0], `tag Team`) ||
		!strings.Contains(warnings[0], `"ops\u200b"`) || !strings.Contains(warnings[0], "escaped") || !strings.Contains(warnings[0], "2 more") {
		t.Errorf("want one warning naming i-00000000000000002, tag Team, \"ops\\u200b\" as written escaped, and 2 more:\n%s", got.stderr)
	}
	if strings.ContainsAny(got.stderr, "\x1b\u200b") {
		t.Errorf("stderr holds an escape or a zero-width space as it is:\n%q", got.stderr)
	}
	rec, err := os.Open(filepath.Join(out, audit.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	have := map[string]string{}
	if _, err := audit.ReadRecord(rec, "results.jsonl", func(r audit.Result) error {
		have[r.InstanceID] = r.Labels["tag:Team"]
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, tm := range teams {
		if have[tm.id] != tm.want {
			t.Errorf("%s: label tag:Team %q, want %q", tm.id, have[tm.id], tm.want)
		}
		if _, err := os.Stat(filepath.Join(report.SplitDir(out, "tag:Team"), report.SafeName(tm.want), "instances.csv")); err != nil {
			t.Errorf("%s: no group of its own: %v", tm.id, err)
		}
	}
	index, err := os.ReadFile(filepath.Join(report.SplitDir(out, "tag:Team"), "index.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tm := range teams[1:] {
		if !strings.Contains(string(index), tm.want) {
			t.Errorf("index.csv does not show %s", tm.want)
		}
	}
	if err := filepath.WalkDir(out, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.ContainsAny(string(b), "\x1b\u200b") {
			t.Errorf("%s holds an escape or a zero-width space as it is", p)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
