package audit_test

import (
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestFailOnWords: each outcome word of ParseFailOn makes a complete run
// with instances of that outcome a Findings run, and a complete run whose
// instances all have other outcomes a Clean one.
func TestFailOnWords(t *testing.T) {
	words := map[string]audit.Outcome{
		"failed":          audit.OutcomeNoncompliant,
		"noncompliant":    audit.OutcomeNoncompliant,
		"pending":         audit.OutcomePending,
		"not_managed":     audit.OutcomeNotManaged,
		"no_associations": audit.OutcomeNoAssociations,
	}
	others := []audit.Outcome{audit.OutcomeCompliant, audit.OutcomeNoncompliant, audit.OutcomePending,
		audit.OutcomeNotManaged, audit.OutcomeNoAssociations, audit.OutcomeInvalid}
	for w, oc := range words {
		t.Run(w, func(t *testing.T) {
			f, err := audit.ParseFailOn([]string{w})
			if err != nil {
				t.Fatal(err)
			}
			with := audit.RunInfo{Targets: 3}
			with.Finish(map[audit.Outcome]int{oc: 2, audit.OutcomeCompliant: 1}, 3)
			if got := with.Verdict(f); got != audit.Findings {
				t.Errorf("2 %s instances of 3, --fail-on %s: verdict %v, want Findings", oc, w, got)
			}
			rest := map[audit.Outcome]int{}
			n := 0
			for _, o := range others {
				if o != oc {
					rest[o] = 1
					n++
				}
			}
			without := audit.RunInfo{Targets: n}
			without.Finish(rest, n)
			if got := without.Verdict(f); got != audit.Clean {
				t.Errorf("no %s instance (%v), --fail-on %s: verdict %v, want Clean", oc, rest, w, got)
			}
		})
	}
}
