package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestFiguresMatchWhatWasServed counts, straight from what the endpoint
// serves (the simulator's fleet, read through its own API, not through the
// auditor), the outcomes, associations and failures, and checks them against
// summary.json, the workbook and the HTML of a run.
func TestFiguresMatchWhatWasServed(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 77, Size: shortN(250, 80), Heavy: 2})
	url, _ := serve(t, fleet, ssmsim.Options{})
	ids := filepath.Join(t.TempDir(), "ids.txt")
	writeIDs(ids, fleet)
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet")
	if got.code != 1 {
		t.Fatalf("exit %d\n%s", got.code, got.stderr)
	}

	// The independent count.
	outcomes := map[string]int{}
	assocs, failed := 0, 0
	failedByCode := map[string]int{}
	for _, id := range fleet.IDs() {
		if !fleet.Managed(id) {
			outcomes["not_managed"]++
			continue
		}
		as := fleet.Associations(id)
		assocs += len(as)
		oc := "compliant"
		if len(as) == 0 {
			oc = "no_associations"
		}
		for _, a := range as {
			switch a.Status {
			case "Failed":
				failed++
				code := a.ErrorCode
				if code == "" {
					// Named for what SSM says of it.
					code = a.DetailedStatus + " (no error code)"
				}
				failedByCode[code]++
				oc = "noncompliant"
			case "Success":
			default:
				if oc != "noncompliant" {
					oc = "pending"
				}
			}
		}
		outcomes[oc]++
	}
	audited := fleet.Len() - outcomes["not_managed"]

	var sum struct {
		Headline string `json:"headline"`
		Totals   struct {
			Instances, Associations int
			Outcomes                map[string]int
		} `json:"totals"`
		ErrorCodes []struct {
			Code         string `json:"name"`
			Associations int    `json:"associations"`
		} `json:"error_codes"`
	}
	b, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Totals.Instances != fleet.Len() || sum.Totals.Associations != assocs {
		t.Errorf("summary.json: %d instances, %d associations; served %d and %d", sum.Totals.Instances, sum.Totals.Associations, fleet.Len(), assocs)
	}
	for oc, n := range outcomes {
		if sum.Totals.Outcomes[oc] != n {
			t.Errorf("summary.json: %d %s, served %d", sum.Totals.Outcomes[oc], oc, n)
		}
	}
	codes := 0
	for _, c := range sum.ErrorCodes {
		if failedByCode[c.Code] != c.Associations {
			t.Errorf("summary.json: %d failed with %s, served %d", c.Associations, c.Code, failedByCode[c.Code])
		}
		codes++
	}
	if codes != len(failedByCode) {
		t.Errorf("summary.json lists %d error codes, served %d", codes, len(failedByCode))
	}

	// The workbook: one row per association, per failure, per instance.
	f, err := excelize.OpenFile(filepath.Join(out, "report.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for sheet, want := range map[string]int{"Associations": assocs, "Failures": failed, "Instances": fleet.Len()} {
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows)-1 != want {
			t.Errorf("workbook sheet %s has %d rows, served %d", sheet, len(rows)-1, want)
		}
	}

	// The HTML: the headline's figures.
	html, _ := os.ReadFile(filepath.Join(out, "report.html"))
	head := fmt.Sprintf("%d of %d audited instances non-compliant", outcomes["noncompliant"], audited)
	if !strings.Contains(string(html), head) || !strings.Contains(sum.Headline, head) {
		t.Errorf("the HTML and summary.json do not say %q (headline %q)", head, sum.Headline)
	}
	if !strings.Contains(string(html), fmt.Sprintf("%d not managed", outcomes["not_managed"])) {
		t.Errorf("the HTML does not say %d not managed", outcomes["not_managed"])
	}
}
