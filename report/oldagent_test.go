package report_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/auditor-dev/auditor/audit"
)

// TestModelOldAgentNotWindows: a non-compliant Windows node whose
// IsLatestVersion is false is not counted as running an old agent, as AWS
// documents that the field says nothing of the agent on Windows; a Linux
// node's is. Both were counted in Totals.OldAgent and flagged "(not
// latest)".
func TestModelOldAgentNotWindows(t *testing.T) {
	ran := runStart.Add(-time.Hour)
	failed := func(id, platform string) audit.Result {
		return audit.Result{
			AccountID: "111111111111", Region: "us-east-1", InstanceID: id, Outcome: audit.OutcomeNoncompliant,
			AuditedAt: runStart.Add(time.Minute),
			Associations: []audit.Association{{AssociationID: "4e3e196d-0000-4000-8000-000000000001", Name: "AWS-RunPatchBaseline",
				InstanceID: id, ExecutionDate: &ran, Status: audit.StatusFailed, DetailedStatus: audit.StatusFailed}},
			Info: &audit.InstanceInfo{PlatformType: platform, AgentVersion: "3.2.2303.0", IsLatestVersion: aws.Bool(false), PingStatus: "Online"},
		}
	}
	linux, windows := "i-0123456789abcdef0", "i-0123456789abcdef1"
	m := build(t, []audit.Result{failed(linux, "Linux"), failed(windows, "Windows")}, fixtureRun(), nil)
	if got, want := m.Totals.OldAgent, 1; got != want {
		t.Errorf("Totals.OldAgent = %d, want %d (the Linux node only)", got, want)
	}
	want := map[string]bool{linux: true, windows: false}
	if len(m.WorstInstances) != len(want) {
		t.Fatalf("%d worst instances, want %d", len(m.WorstInstances), len(want))
	}
	for _, inst := range m.WorstInstances {
		if inst.OldAgent != want[inst.InstanceID] {
			t.Errorf("%s: OldAgent %v, want %v", inst.InstanceID, inst.OldAgent, want[inst.InstanceID])
		}
	}
}
