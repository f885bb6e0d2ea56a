package audit_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
)

// TestReadRunInfoRefusesOthers: any JSON beside a record was taken for its
// run.json: {} or null made a complete run of 0 targets that started in
// year 1, and a newer auditor's schema 2 was read as schema 1 (and written
// back as 1 by a resume).
func TestReadRunInfoRefusesOthers(t *testing.T) {
	for _, tt := range []struct {
		name, content string
		field, want   string // "" field: accepted
	}{
		{name: "empty object", content: `{}`, field: "schema", want: "missing"},
		{name: "null", content: `null`, want: "not a run.json"},
		{name: "schema null", content: `{"schema": null, "started_at": "2026-11-20T10:00:00Z"}`, field: "schema", want: "missing"},
		{name: "no schema", content: `{"started_at": "2026-11-20T10:00:00Z", "targets": 3}`, field: "schema", want: "missing"},
		{name: "newer schema", content: `{"schema": 2, "started_at": "2026-11-20T10:00:00Z"}`, field: "schema", want: "newer auditor"},
		{name: "schema 0", content: `{"schema": 0, "started_at": "2026-11-20T10:00:00Z"}`, field: "schema", want: "unknown"},
		{name: "no started_at", content: `{"schema": 1, "targets": 3}`, field: "started_at", want: "missing"},
		{name: "started_at null", content: `{"schema": 1, "started_at": null}`, field: "started_at", want: "missing"},
		{name: "a run's", content: `{"schema": 1, "started_at": "2026-11-20T10:00:00Z", "targets": 3}`},
		// What auditor report writes for a record without run.json: its
		// start is unknown, and said so.
		{name: "start unknown", content: `{"schema": 1, "started_at": "0001-01-01T00:00:00Z"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), audit.RunFile)
			if err := os.WriteFile(p, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			ri, err := audit.ReadRunInfo(p)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("ReadRunInfo: %v", err)
				}
				if ri.Schema != audit.Schema {
					t.Errorf("schema %d, want %d", ri.Schema, audit.Schema)
				}
				return
			}
			var re *audit.RunInfoError
			if !errors.As(err, &re) {
				t.Fatalf("ReadRunInfo: %v (%T), want a *RunInfoError", err, err)
			}
			if re.Path != p || re.Field != tt.field {
				t.Errorf("path %q, field %q; want %q, %q", re.Path, re.Field, p, tt.field)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), p) {
				t.Errorf("error %q does not name the file and say %q", err, tt.want)
			}
		})
	}
}

// TestRunInfoMismatch: a run.json beside a record that is certainly not
// its run's (more instances than its targets, an account it does not
// name) is told; a run.json that may be its run's, however incomplete or
// merged, is not.
func TestRunInfoMismatch(t *testing.T) { withIndexBounds(t, testRunInfoMismatch) }

func testRunInfoMismatch(t *testing.T) {
	const acct, other = "123456789012", "210987654321"
	start := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	run := func(targets int, caller string, sites ...string) audit.RunInfo {
		ri := audit.RunInfo{Schema: audit.Schema, StartedAt: start, Attempts: []time.Time{start}, Targets: targets, Caller: caller,
			Parts: []audit.Part{{Fleet: "f", List: "l", Targets: targets}}}
		for _, s := range sites {
			ri.Sites = append(ri.Sites, audit.SiteStats{AccountID: s, Region: "us-east-1"})
		}
		return ri
	}
	resumed := run(5, other, other)
	resumed.Attempts = append(resumed.Attempts, start.Add(time.Hour))
	resumed.Resumed = 2
	group := run(5, other)
	group.Parts, group.Options = nil, map[string]any{"split_by": "owner"}
	unknownTargets := run(0, acct, acct)
	old := run(5, other)
	old.Attempts = nil
	// A merge of two discoveries of one scope keeps one part, and the
	// first run's targets: fewer than the instances of both.
	discoveries := run(2, acct, acct)
	discoveries.Attempts = append(discoveries.Attempts, start.Add(time.Hour))
	discoveries.Rendered = &audit.Rendering{Inputs: 2}
	// Split groups merged, and that merge merged with another group: the
	// groups' stand-in parts collide, and one is dropped with its targets.
	groups := run(2, acct, acct)
	groups.Parts = []audit.Part{{Fleet: "run-0", List: "run-0", Targets: 1}, {Fleet: "run-1", List: "run-1", Targets: 1}}
	groups.Rendered = &audit.Rendering{Inputs: 2}
	// A merge of copies of one run (one part, one attempt) is that run:
	// its targets are exact, however often it was rendered again in
	// place (which counts one input).
	copies := run(3, acct, acct)
	copies.Rendered = &audit.Rendering{Inputs: 2}

	ids := []string{"i-0123456789abcdef0", "i-0123456789abcdef1", "i-0123456789abcdef2", "i-0123456789abcdef3"}
	rows := func(account string, n int) []audit.Result {
		var out []audit.Result
		for _, id := range ids[:n] {
			out = append(out, result(account, "us-east-1", id, audit.OutcomeCompliant))
		}
		return out
	}
	for _, tt := range []struct {
		name string
		ri   audit.RunInfo
		rows []audit.Result
		want string // "" when it may be the record's
	}{
		{"its own", run(4, acct, acct), rows(acct, 4), ""},
		{"cut short", run(4, acct, acct), rows(acct, 2), ""},
		{"retried in the record", run(2, acct, acct), append(rows(acct, 2), rows(acct, 2)...), ""},
		{"more instances than targets", run(3, acct, acct), rows(acct, 4), "holds 4 instances, and its run.json 3 targets"},
		{"targets unknown", unknownTargets, rows(acct, 4), ""},
		{"rows of no account", run(4, acct, acct), rows("", 4), ""},
		{"rows with and without an account", run(3, acct, acct), append(rows("", 2), rows(acct, 2)...), ""},
		{"an account it does not name", run(4, other, other), rows(acct, 2), "account " + acct},
		{"an account among its sites", run(4, other, other, acct), rows(acct, 2), ""},
		{"the caller's account", run(4, acct, other), rows(acct, 2), ""},
		{"resumed: its sites are the last attempt's", resumed, rows(acct, 2), ""},
		{"a split group's: its sites are those that failed", group, rows(acct, 2), ""},
		{"from before attempts were kept", old, rows(acct, 2), ""},
		{"a merge of two discoveries of one scope", discoveries, rows(acct, 4), ""},
		{"a merge of merged split groups", groups, rows(acct, 4), ""},
		{"a merge of copies of one run", copies, rows(acct, 4), "holds 4 instances, and its run.json 3 targets"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			checkMismatch(t, tt.ri, tt.want, tt.rows...)
		})
	}
}

// TestRecordsInputs: a merge keeps what each record holds on its own, so
// that each is checked against its own run.json.
func TestRecordsInputs(t *testing.T) { withIndexBounds(t, testRecordsInputs) }

func testRecordsInputs(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "b.jsonl")
	writeRecord(t, a,
		result("111111111111", "us-east-1", "i-0123456789abcdef0", audit.OutcomeError),
		result("111111111111", "us-east-1", "i-0123456789abcdef1", audit.OutcomeCompliant),
		result("111111111111", "us-east-1", "i-0123456789abcdef0", audit.OutcomeCompliant), // retried
		result("222222222222", "eu-west-1", "i-0123456789abcdef2", audit.OutcomeCompliant),
	)
	writeRecord(t, b,
		result("111111111111", "us-east-1", "i-0123456789abcdef1", audit.OutcomeCompliant), // in a too
		result("", "us-east-1", "i-0123456789abcdef3", audit.OutcomeCompliant),
	)
	rs, err := audit.OpenRecords(a, b)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	if rs.Len() != 4 {
		t.Fatalf("merged: %d instances, want 4", rs.Len())
	}
	for i, want := range []audit.Input{
		// The later record wins the instance both hold: a keeps 2.
		{Instances: 3, Kept: 2, Accounts: []string{"111111111111", "222222222222"}},
		{Instances: 2, Kept: 2, Accounts: []string{"111111111111"}, Accountless: true},
	} {
		got := rs.Input(i)
		if got.Instances != want.Instances || got.Kept != want.Kept || !slices.Equal(got.Accounts, want.Accounts) || got.Accountless != want.Accountless {
			t.Errorf("record %d: %+v, want %+v", i, got, want)
		}
	}
}

// checkMismatch writes rows as a record and checks what ri.Mismatch says
// of it: nothing where want is "", else a reason that says want.
func checkMismatch(t *testing.T, ri audit.RunInfo, want string, rows ...audit.Result) {
	t.Helper()
	p := filepath.Join(t.TempDir(), audit.ResultsFile)
	writeRecord(t, p, rows...)
	rs, err := audit.OpenRecords(p)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	got := ri.Mismatch(rs.Input(0))
	switch {
	case want == "" && got != "":
		t.Errorf("Mismatch: %q, want none", got)
	case want != "" && !strings.Contains(got, want):
		t.Errorf("Mismatch: %q, want it to say %q", got, want)
	}
}
