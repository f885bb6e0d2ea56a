package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestOldRecordLabelsEscaped: a record written before tag values and the
// organisation's account names were escaped holds them as they were
// served, and auditor report rendered them so: a terminal escape into
// instances.csv, index.csv and the HTML, a zero-width space that makes
// "ops" two groups that read as one. Read back, such a value is written as
// a run now writes it (audit.EscapeLabel); one that a run now writes, an
// escape already, is left as it is.
func TestOldRecordLabelsEscaped(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	f := ssmsim.NewFleet(ssmsim.FleetConfig{})
	d := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	// The tag each instance's record says, as an older run wrote it, and
	// how it reads back. Each instance is non-compliant, so that the HTML
	// lists it with its labels.
	teams := []struct{ id, old, want string }{
		{"i-00000000000000001", "ops", "ops"},
		{"i-00000000000000002", "ops\u200b", `ops\u200b`},
		{"i-00000000000000003", "\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		// As a run now writes a tag spelt ops\u200b: read as it is.
		{"i-00000000000000004", `ops\\u200b`, `ops\\u200b`},
	}
	var ids strings.Builder
	for i, tm := range teams {
		ids.WriteString(tm.id + "\n")
		f.Add(ssmsim.Instance{InstanceID: tm.id, PingStatus: "Online", PlatformType: "Linux", ResourceType: "EC2Instance",
			Tags: map[string]string{"Team": "team"},
			Associations: []ssmsim.Association{{AssociationID: fmt.Sprintf("%08d-1111-1111-1111-111111111111", i), Name: "AWS-RunPatchBaseline",
				InstanceID: tm.id, Status: "Failed", DetailedStatus: "Failed", ExecutionDate: d}}})
	}
	url, _ := serve(t, f, ssmsim.Options{})
	t.Setenv("AWS_ENDPOINT_URL_EC2", url)
	list := writeFile(t, "ids.txt", ids.String())
	old := filepath.Join(t.TempDir(), "old")
	got := runCLI(t, "", "run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", old,
		"--tag-labels", "Team", "--fail-on", "none", "--quiet")
	if got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	const oldName, wantName = "Prod\u202e", `Prod\u202e`
	// The record as an older run wrote it: the values raw.
	p := filepath.Join(old, audit.ResultsFile)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var lines [][]byte
	for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatal(err)
		}
		for _, tm := range teams {
			if m["instance_id"] == tm.id {
				m["labels"] = map[string]any{"tag:Team": tm.old, audit.AccountNameLabel: oldName}
			}
		}
		if l, err = json.Marshal(m); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	if err := os.WriteFile(p, append(bytes.Join(lines, []byte("\n")), '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	editRun(t, old, func(m map[string]any) {
		sites, _ := m["sites"].([]any)
		if len(sites) == 0 {
			t.Fatal("run.json names no site: no account name to forge")
		}
		for _, s := range sites {
			s.(map[string]any)["account_name"] = oldName
		}
	})

	out := filepath.Join(t.TempDir(), "out")
	got = runCLI(t, "", "report", p, "--out", out, "--format", "csv,html", "--split-by", "tag:Team", "--fail-on", "none")
	if got.code != 0 {
		t.Fatalf("report: exit %d\n%s", got.code, got.stderr)
	}
	const raw = "\x1b\u200b\u202e"
	if strings.ContainsAny(got.stderr, raw) {
		t.Errorf("stderr holds a record's escape as it is:\n%q", got.stderr)
	}
	checkNoRawText(t, out, raw)
	csv, err := os.ReadFile(filepath.Join(out, "instances.csv"))
	if err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(out, report.HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	index, err := os.ReadFile(filepath.Join(report.SplitDir(out, "tag:Team"), "index.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tm := range teams {
		if !bytes.Contains(csv, []byte(tm.id+",")) {
			t.Errorf("instances.csv does not name %s:\n%s", tm.id, csv)
		}
		for name, b := range map[string][]byte{"instances.csv": csv, "index.csv": index} {
			if !bytes.Contains(b, []byte(tm.want)) {
				t.Errorf("%s does not hold %s's tag:Team as %q:\n%s", name, tm.id, tm.want, b)
			}
		}
		if w := htmlLabel("tag:Team", tm.want); !bytes.Contains(page, []byte(w)) {
			t.Errorf("report.html does not hold %s's tag:Team as %s:\n%s", tm.id, w, page)
		}
		if _, err := os.Stat(filepath.Join(report.SplitDir(out, "tag:Team"), report.SafeName(tm.want), "instances.csv")); err != nil {
			t.Errorf("%s: no group of its own: %v", tm.id, err)
		}
	}
	if !bytes.Contains(csv, []byte(wantName)) {
		t.Errorf("instances.csv does not hold the account name as %q:\n%s", wantName, csv)
	}
	if w := htmlLabel(audit.AccountNameLabel, wantName); !bytes.Contains(page, []byte(w)) {
		t.Errorf("report.html does not hold the account name as %s:\n%s", w, page)
	}
	ri, err := audit.ReadRunInfo(filepath.Join(old, audit.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range ri.Sites {
		if s.AccountName != wantName {
			t.Errorf("run.json read back: site %s %s: account_name %q, want %q", s.AccountID, s.Region, s.AccountName, wantName)
		}
	}
}

// htmlLabel is a label as report.html shows it: key=value, the value in
// quotes with its backslashes doubled where it holds one, escaped for HTML.
func htmlLabel(key, value string) string {
	if strings.Contains(value, `\`) {
		value = `"` + strings.ReplaceAll(value, `\`, `\\`) + `"`
	}
	return "<bdi class=l>" + html.EscapeString(key+"="+value) + "</bdi>"
}
