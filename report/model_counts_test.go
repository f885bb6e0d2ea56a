package report_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/auditor-dev/auditor/audit"
)

// instanceWith is an audited instance of account 111111111111 in us-east-1
// with one association row per status, each of document
// AWS-RunPatchBaseline, named name (the AssociationName) and failing, when
// Failed, with ExecutionError; its outcome is what audit.Judge makes of
// them.
func instanceWith(id, name string, statuses ...string) audit.Result {
	ran := runStart.Add(-time.Hour)
	r := audit.Result{AccountID: "111111111111", Region: "us-east-1", InstanceID: id, AuditedAt: runStart.Add(time.Minute)}
	for i, s := range statuses {
		a := audit.Association{AssociationID: "4e3e196d-0000-4000-8000-00000000000" + string(rune('1'+i)), AssociationName: name,
			Name: "AWS-RunPatchBaseline", InstanceID: id, ExecutionDate: &ran, Status: s, DetailedStatus: s}
		if s == audit.StatusFailed {
			a.ErrorCode = "ExecutionError"
		}
		r.Associations = append(r.Associations, a)
	}
	r.Outcome = audit.Judge(r.Associations)
	return r
}

// TestModelAgentTotalsOfNoncompliantOnly: Totals.Disconnected and
// Totals.OldAgent count the non-compliant instances whose agent lost touch
// or is not the latest (the likely cause of their failures), not a
// compliant or pending instance with the same agent.
func TestModelAgentTotalsOfNoncompliantOnly(t *testing.T) {
	lost := func(r audit.Result) audit.Result {
		r.Info = &audit.InstanceInfo{PlatformType: "Linux", AgentVersion: "3.2.2303.0", IsLatestVersion: aws.Bool(false), PingStatus: "ConnectionLost"}
		return r
	}
	m := build(t, []audit.Result{
		lost(instanceWith("i-0123456789abcdef0", "patch", audit.StatusSuccess)),
		lost(instanceWith("i-0123456789abcdef1", "patch", audit.StatusPending)),
		lost(instanceWith("i-0123456789abcdef2", "patch", audit.StatusFailed)),
	}, fixtureRun(), nil)
	if o := m.Totals.Outcomes; o[audit.OutcomeCompliant] != 1 || o[audit.OutcomePending] != 1 || o[audit.OutcomeNoncompliant] != 1 {
		t.Fatalf("outcomes %v, want one compliant, one pending, one noncompliant", m.Totals.Outcomes)
	}
	if m.Totals.Disconnected != 1 || m.Totals.OldAgent != 1 {
		t.Errorf("disconnected %d, old agent %d; want 1, 1 (the non-compliant instance only)", m.Totals.Disconnected, m.Totals.OldAgent)
	}
}

// TestModelErrorCodeInstances: an error code's Associations counts its
// Failed rows and its Instances the instances with at least one of them,
// each once.
func TestModelErrorCodeInstances(t *testing.T) {
	m := build(t, []audit.Result{
		instanceWith("i-0123456789abcdef0", "", audit.StatusFailed, audit.StatusFailed),
		instanceWith("i-0123456789abcdef1", "", audit.StatusFailed),
	}, fixtureRun(), nil)
	if len(m.ErrorCodes) != 1 {
		t.Fatalf("error codes %+v, want ExecutionError alone", m.ErrorCodes)
	}
	if ec := m.ErrorCodes[0]; ec.Code != "ExecutionError" || ec.Associations != 3 || ec.Instances != 2 {
		t.Errorf("%s: %d associations on %d instances, want ExecutionError: 3 on 2", ec.Code, ec.Associations, ec.Instances)
	}
}

// TestModelGroupInstances: an association group (AssociationName and
// document) and a document count an instance once however many of its
// associations they hold.
func TestModelGroupInstances(t *testing.T) {
	m := build(t, []audit.Result{
		instanceWith("i-0123456789abcdef0", "patch", audit.StatusSuccess, audit.StatusFailed),
		instanceWith("i-0123456789abcdef1", "patch", audit.StatusSuccess),
	}, fixtureRun(), nil)
	if len(m.Associations) != 1 || len(m.Documents) != 1 {
		t.Fatalf("%d association groups, %d documents; want 1, 1", len(m.Associations), len(m.Documents))
	}
	if g := m.Associations[0]; g.Association != "patch" || g.Total != 3 || g.Instances != 2 {
		t.Errorf("group %q: %d associations on %d instances, want patch: 3 on 2", g.Association, g.Total, g.Instances)
	}
	if d := m.Documents[0]; d.Document != "AWS-RunPatchBaseline" || d.Total != 3 || d.Instances != 2 {
		t.Errorf("document %q: %d associations on %d instances, want AWS-RunPatchBaseline: 3 on 2", d.Document, d.Total, d.Instances)
	}
}
