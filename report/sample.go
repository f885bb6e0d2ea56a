package report

import (
	"time"

	"github.com/auditor-dev/auditor/audit"
)

// sampleModel returns the Model of a small made-up fleet, for CheckTemplate
// to execute a user template over: every list has rows (instances of every
// outcome, failed, pending and stale associations, problems of every kind,
// changes of every kind since a baseline, labels and their values), and
// every pointer is set (dates, percentages, Changes), so that the body of
// every range, with and if over them runs. Run.Options alone is empty: its
// values are numbers of one Go type in a run and of another read back from
// run.json, so a sample of either would refuse a template that handles
// the other.
func sampleModel() *Model {
	started := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	ended := started.Add(95 * time.Second)
	baseline := started.Add(-7 * 24 * time.Hour)
	fresh := started.Add(-2 * time.Hour)
	old := started.Add(-30 * 24 * time.Hour)
	staleBefore := started.Add(-7 * 24 * time.Hour)
	pct := func(f float64) *float64 { return &f }
	every := func(n int) map[audit.Outcome]int {
		m := make(map[audit.Outcome]int, len(audit.Outcomes()))
		for _, o := range audit.Outcomes() {
			m[o] = n
		}
		return m
	}
	labels := map[string]string{"owner": "payments", "env": "prod"}
	const (
		acct   = "123456789012"
		region = "us-east-1"
		failed = "i-0123456789abcdef0"
	)
	failedRow := Row{
		AccountID: acct, Region: region, InstanceID: failed, Labels: labels,
		AssociationID: "4e3e196d-0000-4000-8000-000000000001", AssociationName: "patch-weekly", AssociationVersion: "3",
		Name: "patch-weekly", Document: "AWS-RunPatchBaseline", DocumentVersion: "1",
		Status: audit.StatusFailed, DetailedStatus: audit.StatusFailed, ErrorCode: "1", Failure: "1",
		ExecutionDate: &fresh, ExecutionSummary: "1 out of 1 plugin processed, 0 success, 1 failed",
		OutputURL: "https://s3.amazonaws.com/bucket/output", InstanceFailed: 1,
	}
	staleRow := Row{
		AccountID: acct, Region: region, InstanceID: "i-0123456789abcdef1", Labels: map[string]string{"owner": "", "env": "dev"},
		AssociationID: "4e3e196d-0000-4000-8000-000000000002", Name: "AWS-UpdateSSMAgent (4e3e196d)", Document: "AWS-UpdateSSMAgent",
		DocumentVersion: "$DEFAULT", Status: audit.StatusPending, DetailedStatus: "Pending", ExecutionDate: &old,
		OutputURL: "s3://bucket/output", Stale: true,
	}
	counts := audit.Counts{Total: 4, Success: 1, Failed: 1, Pending: 1, Other: 1, Stale: 1}
	instance := Instance{
		AccountID: acct, Region: region, InstanceID: failed, Labels: labels, Outcome: audit.OutcomeNoncompliant,
		Counts: counts, ErrorCodes: []string{"1"}, PingStatus: "ConnectionLost", AgentVersion: "3.0.0.0", OldAgent: true,
	}
	var problems []Problem
	for _, o := range []audit.Outcome{audit.OutcomeError, audit.OutcomeNotManaged, audit.OutcomeInvalid} {
		problems = append(problems, Problem{
			AccountID: acct, Region: region, InstanceID: "i-0123456789abcdef2", Labels: labels, Outcome: o,
			Code: "ThrottlingException", Message: "Rate exceeded", Source: "fleet.csv:4", PartialAssociations: 1,
		})
	}
	var changes []ChangeRow
	for _, k := range audit.ChangeKinds() {
		changes = append(changes, ChangeRow{
			Kind: k, AccountID: acct, Region: region, InstanceID: failed, Labels: labels,
			Association: "patch-weekly", AssociationID: failedRow.AssociationID, Document: failedRow.Document,
			Before: audit.StatusSuccess, After: audit.StatusFailed, ErrorCode: "1", FirstSeenFailing: &baseline, ErrorCodeBefore: "2",
		})
	}
	changeCounts := map[audit.ChangeKind]int{}
	for _, k := range audit.ChangeKinds() {
		changeCounts[k] = 1
	}
	site := Site{AccountID: "210987654321", Region: "eu-west-1", Code: "AccessDeniedException", Message: "not authorized"}
	return &Model{
		Schema:   ModelSchema,
		Group:    &MailGroup{Label: "owner", Value: "alice"},
		Headline: "1 of 4 audited instances non-compliant (25%), 1 not managed",
		Run: Run{
			Version: "sample", StartedAt: &started, EndedAt: &ended, Complete: false, Interrupted: false, Resumed: 1, Merged: 2,
			Targets: 7, Duplicates: 1, Invalid: 1, Shards: []string{"0/2"}, Options: map[string]any{},
			// As run.json reads them: a number is a float64.
			EarlierOptions: map[string][]any{"max_attempts": {2.0}},
			Stats:          audit.Stats{Calls: 12, Pages: 10, Throttled: 1, Retries: 1, Rate: 8.5, LimiterRate: 40, LimiterPeak: 45, LimiterCutRate: 40, Seconds: 95},
			Error:          "1 instance in error", Unaudited: []Site{site}, WithoutInfo: []Site{site},
			ListedInPart:   []Site{{AccountID: "210987654321", Region: "us-east-1", Code: "ThrottlingException", Message: "Rate exceeded", Audited: 50}},
			StoppedPartWay: []Site{{AccountID: "210987654321", Region: "eu-west-1", Code: "InternalFailure", Message: "5 instances in a row ended in a server error", Audited: 88}},
			Record:         &RecordFile{File: audit.ResultsFile, SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Bytes: 1234},
		},
		Scope: "7 targets in shard 0/2 of the list",
		About: []Detail{
			{Label: "Started", Value: DateText(started), At: &started},
			{Label: "Ended", Value: DateText(ended) + " (1m35s)", At: &ended, Rest: " (1m35s)"},
		},
		Settings: Settings{
			StaleAfter: "7 days", StaleAfterSeconds: 7 * 24 * 3600, StaleBefore: &staleBefore,
			StaleBeforeEarliest: &staleBefore, StaleBeforeLatest: &staleBefore, Top: DefaultTop, HTMLMaxRows: DefaultHTMLMaxRows, ListRows: MinListRows,
		},
		Totals: Totals{
			Instances: 7, WithoutResult: 1, Audited: 4, Associations: 9, PartialAssociations: 1, Outcomes: every(1),
			PercentNoncompliant: pct(25), FromOverview: 1, FromOverviewOutcomes: every(1), OverviewAssociations: 2, Disconnected: 1, OldAgent: 1,
		},
		Outcomes: func() []OutcomeCount {
			var out []OutcomeCount
			for _, o := range audit.Outcomes() {
				out = append(out, OutcomeCount{Outcome: o, Instances: 1, Percent: pct(25)})
			}
			return out
		}(),
		Statuses:         []NameCount{{Name: audit.StatusSuccess, Count: 5}, {Name: audit.StatusFailed, Count: 2}, {Name: None, Count: 1}},
		DetailedStatuses: []NameCount{{Name: "Success", Count: 4}, {Name: "Failed", Count: 2}},
		ErrorCodes: []ErrorCode{{
			Name: "1", Code: "1", Associations: 2, Instances: 1,
			AssociationNames: []string{"patch-weekly"}, AssociationNamesTotal: 1, ExampleInstanceIDs: []string{failed},
		}},
		Associations:   []Group{{Association: "patch-weekly", Name: "patch-weekly", Document: "AWS-RunPatchBaseline", Instances: 2, Counts: counts, SuccessRate: 25}},
		Documents:      []Group{{Name: "AWS-RunPatchBaseline", Document: "AWS-RunPatchBaseline", Instances: 2, Counts: counts, SuccessRate: 25}},
		Locations:      []Location{{AccountID: acct, Region: region, Instances: 7, Outcomes: every(1)}},
		WorstInstances: []Instance{instance},
		Failures:       RowList{Count: 1, Rows: []Row{failedRow}},
		Stale:          RowList{Count: 1, Rows: []Row{staleRow}},
		NoAssociations: InstanceList{Count: 1, Instances: []InstanceRef{{AccountID: acct, Region: region, InstanceID: "i-0123456789abcdef3", Labels: labels}}},
		Problems: ProblemList{
			Count: len(problems), WithoutResult: 1, Items: problems,
			Codes: []NameCount{{Name: "ThrottlingException", Count: 1}, {Name: None, Count: 2}},
		},
		LabelKeys: []string{"env", "owner"},
		Changes: &Changes{
			Since: &baseline, Baseline: "audit-2025-05-25/results.jsonl", Summary: "1 new failure, 1 resolved since " + DateText(baseline),
			Brief:  "1 new failure, 1 resolved, 2 not compared",
			Counts: changeCounts, NotCompared: audit.NotCompared{Error: 1, OtherShard: 1}, ErrorCodeChanged: 1,
			Count: len(changes), Rows: changes,
		},
		Labels: []LabelBreakdown{{
			Key: "owner", ValuesTotal: 2,
			Values: []LabelValue{
				{Value: "payments", Instances: 4, Audited: 3, Outcomes: every(1), Associations: counts, PercentNoncompliant: pct(33.33)},
				{Value: None, NoValue: true, Instances: 3, Audited: 1, Outcomes: every(0), Associations: counts, PercentNoncompliant: pct(0)},
			},
		}},
	}
}
