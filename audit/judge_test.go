package audit_test

import (
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestJudge: an instance's outcome is noncompliant when any association
// failed, whatever comes before the failure; pending when none failed and
// some did not succeed, a status SSM may add later or none at all
// included; compliant only when every one succeeded.
func TestJudge(t *testing.T) {
	tests := []struct {
		statuses []string
		want     audit.Outcome
	}{
		{nil, audit.OutcomeNoAssociations},
		{[]string{"Success", "Success"}, audit.OutcomeCompliant},
		{[]string{"Pending", "Failed"}, audit.OutcomeNoncompliant},
		{[]string{"Failed", "Pending"}, audit.OutcomeNoncompliant},
		{[]string{"Success", "Pending", "Success", "Failed"}, audit.OutcomeNoncompliant},
		{[]string{"Success", "Pending"}, audit.OutcomePending},
		{[]string{"Success", "Future"}, audit.OutcomePending},
		{[]string{"Success", "Other"}, audit.OutcomePending},
		{[]string{"Success", ""}, audit.OutcomePending},
		{[]string{"", "Success"}, audit.OutcomePending},
		{[]string{"Other", "Failed"}, audit.OutcomeNoncompliant},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.statuses, ","), func(t *testing.T) {
			var assocs []audit.Association
			for i, s := range tt.statuses {
				assocs = append(assocs, audit.Association{AssociationID: "a-" + string(rune('0'+i)), Status: s})
			}
			if got := audit.Judge(assocs); got != tt.want {
				t.Errorf("Judge(%q) = %s, want %s", tt.statuses, got, tt.want)
			}
		})
	}
}
