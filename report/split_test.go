package report_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
)

func TestSafeName(t *testing.T) {
	seen := map[string]string{}
	for _, v := range []string{"alice", "Alice", "alice ", "", "..", ".", "../etc/passwd", "a/b", "Smith, Erin", "team-b.eu", strings.Repeat("x", 200), "ünï"} {
		n := report.SafeName(v)
		if n == "" || n == "." || n == ".." || strings.ContainsAny(n, "/\\\x00 ") || len(n) > 64 || strings.ToLower(n) != n {
			t.Errorf("SafeName(%q) = %q: not a safe, lower-case directory name", v, n)
		}
		if other, ok := seen[n]; ok {
			t.Errorf("SafeName(%q) = SafeName(%q) = %q", v, other, n)
		}
		seen[n] = v
	}
	if report.SafeName("alice") != "alice" {
		t.Error("a plain name is not itself")
	}
	// A value may be any text (a tag anyone who may tag an instance sets):
	// one that is spelt as another value's hashed name, or as a file of the
	// split's own, or as a device name on Windows, is not itself either.
	for _, v := range []string{"../x", "Alice"} {
		h := report.SafeName(v)
		if n := report.SafeName(h); n == h {
			t.Errorf("the value %q is named %q, as %q is", h, n, v)
		}
	}
	for _, v := range []string{report.SplitIndex, "con", "nul", "aux", "prn", "com1", "lpt9", "nul.txt"} {
		if n := report.SafeName(v); n == v {
			t.Errorf("SafeName(%q) = %q: a name the split or a file system keeps for itself", v, n)
		}
	}
}

// TestSafeNameNoneIsNoValue: "none-" and a hash names the group of no
// value alone. A value with no safe character (".", "..", "日本") was named
// so too, and a line such as "none-cdb4ee2a: not mailed" read as the
// group of instances without the label.
func TestSafeNameNoneIsNoValue(t *testing.T) {
	if n := report.SafeName(""); !strings.HasPrefix(n, "none-") {
		t.Errorf("SafeName(\"\") = %q, want none- and a hash", n)
	}
	for _, v := range []string{".", "..", "日本", "/", "?!"} {
		if n := report.SafeName(v); strings.HasPrefix(n, "none") {
			t.Errorf("SafeName(%q) = %q, named as the group of no value", v, n)
		}
	}
}

// TestSafeNameTrailingDot: Windows (and SMB, and an S3 download to
// Windows) drops the dots and spaces a name ends in, so that "alice." and
// "alice.." would be alice's directory: a value that ends so is hashed, to
// a name that ends in neither, apart from every other value's.
func TestSafeNameTrailingDot(t *testing.T) {
	seen := map[string]string{"alice": report.SafeName("alice")}
	for _, v := range []string{"alice.", "alice..", "alice. ", "alice .", "team-b.eu.", "a."} {
		n := report.SafeName(v)
		if n == v || strings.TrimRight(n, ". ") != n {
			t.Errorf("SafeName(%q) = %q: a name Windows would cut short", v, n)
		}
		if other, ok := seen[strings.TrimRight(n, ". ")]; ok {
			t.Errorf("SafeName(%q) = %q, on Windows the directory of %q", v, n, other)
		}
		seen[n] = v
	}
}

// TestSplitValuesSpeltAsItsNames: values spelt as the split's index or as
// another value's directory split like any others, instead of failing the
// whole split (and with it every group's mail).
func TestSplitValuesSpeltAsItsNames(t *testing.T) {
	at := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	values := []string{report.SplitIndex, "alice", "../x", report.SafeName("../x")}
	var results []audit.Result
	for i, v := range values {
		st := audit.StatusSuccess
		results = append(results, audit.Result{
			Region: "us-east-1", InstanceID: fmt.Sprintf("i-%017x", i+1), Labels: map[string]string{"owner": v},
			Outcome: audit.Judge([]audit.Association{{Status: st}}), AuditedAt: at,
			Associations: []audit.Association{{AssociationID: fmt.Sprintf("a-%d", i), Name: "AWS-RunPatchBaseline", Status: st}},
		})
	}
	rs := openRecord(t, results)
	out := t.TempDir()
	opts := report.Options{Dir: out, Records: rs, Run: audit.RunInfo{StartedAt: at, Complete: true}, Formats: []report.Format{report.FormatCSV}}
	groups, err := report.Split(context.Background(), opts, "owner")
	if err != nil {
		t.Fatalf("Split: %v", err)
	}
	if len(groups) != len(values) {
		t.Fatalf("%d groups, want %d", len(groups), len(values))
	}
	names := map[string]bool{}
	for _, g := range groups {
		if names[g.Name] {
			t.Errorf("two groups in %q", g.Name)
		}
		names[g.Name] = true
		if g.Instances != 1 {
			t.Errorf("group %q (%s): %d instances, want 1", g.Value, g.Name, g.Instances)
		}
	}
	index, err := os.ReadFile(filepath.Join(report.SplitDir(out, "owner"), report.SplitIndex))
	if err != nil {
		t.Fatalf("the index: %v", err)
	}
	if rows := strings.Count(string(index), "\n"); rows != len(values)+1 {
		t.Errorf("the index has %d lines, want %d:\n%s", rows, len(values)+1, index)
	}
}

// TestSplit: the reports of each owner hold exactly that owner's instances,
// and together the fleet's; more groups than files held open at once work.
func TestSplit(t *testing.T) {
	at := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	var results []audit.Result
	// More owners than files Split holds open at once (64).
	n, owners := 300, 150
	if testing.Short() {
		n, owners = 120, 90
	}
	for i := range n {
		owner := fmt.Sprintf("owner-%03d", i%owners)
		switch i % 7 {
		case 0:
			owner = "" // no owner
		case 1:
			owner = "../escape"
		}
		labels := map[string]string{"env": "prod"}
		if owner != "" {
			labels["owner"] = owner
		}
		status := audit.StatusSuccess
		if i%5 == 0 {
			status = audit.StatusFailed
		}
		d := at.Add(-time.Hour)
		results = append(results, audit.Result{
			Region: "us-east-1", InstanceID: fmt.Sprintf("i-%017x", i), Labels: labels, Outcome: audit.Judge([]audit.Association{{Status: status}}),
			AuditedAt: at, Associations: []audit.Association{{AssociationID: fmt.Sprintf("a-%d", i), Name: "AWS-RunPatchBaseline", Status: status, ExecutionDate: &d}},
		})
	}
	dir := t.TempDir()
	path := filepath.Join(dir, audit.ResultsFile)
	w, _ := audit.CreateRecord(path)
	for _, r := range results {
		w.Write(r)
	}
	w.Close()
	rs, err := audit.OpenRecords(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	out := t.TempDir()
	// The run's targets are the whole fleet's; a group's are its own.
	opts := report.Options{Dir: out, Records: rs, Run: audit.RunInfo{StartedAt: at, Complete: true, Targets: n}, Formats: []report.Format{report.FormatCSV, report.FormatJSON}}
	groups, err := report.Split(context.Background(), opts, "owner")
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]bool{}
	for _, r := range results {
		values[r.Labels["owner"]] = true
	}
	if len(groups) != len(values) || len(values) <= 64 {
		t.Errorf("%d groups, want one for each of the %d values (the empty one included), more than 64", len(groups), len(values))
	}
	root := report.SplitDir(out, "owner")
	union := map[string]string{}
	for _, g := range groups {
		if filepath.Dir(g.Dir) != root {
			t.Fatalf("group %q is in %s, outside %s", g.Value, g.Dir, root)
		}
		f, err := os.Open(filepath.Join(g.Dir, report.InstancesCSV))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		// A group's run.json and summary count its own targets: the
		// fleet's would leave most of them "without a result".
		var run audit.RunInfo
		if b, err := os.ReadFile(filepath.Join(g.Dir, audit.RunFile)); err != nil {
			t.Fatal(err)
		} else if err := json.Unmarshal(b, &run); err != nil {
			t.Fatal(err)
		}
		if run.Targets != g.Instances || g.Instances != len(rows)-1 {
			t.Errorf("group %q: run.json says %d targets, the group has %d instances (%d rows)", g.Value, run.Targets, g.Instances, len(rows)-1)
		}
		var summary struct{ Headline string }
		if b, err := os.ReadFile(filepath.Join(g.Dir, report.SummaryFile)); err != nil {
			t.Fatal(err)
		} else if err := json.Unmarshal(b, &summary); err != nil {
			t.Fatal(err)
		}
		if summary.Headline == "" || strings.Contains(summary.Headline, "without a result") {
			t.Errorf("group %q: headline %q", g.Value, summary.Headline)
		}
		col := slices.Index(rows[0], "owner")
		for _, r := range rows[1:] {
			if o := ""; col >= 0 {
				o = r[col]
				if strings.TrimPrefix(o, "'") != g.Value && !(g.Value == "" && o == "") {
					t.Errorf("group %q holds %s of owner %q", g.Value, r[2], o)
				}
			}
			if prev, dup := union[r[2]]; dup {
				t.Errorf("%s in groups %q and %q", r[2], prev, g.Value)
			}
			union[r[2]] = g.Value
		}
	}
	if len(union) != len(results) {
		t.Errorf("the groups hold %d instances, the fleet %d", len(union), len(results))
	}
	// index.csv lists the groups by value, as Split returns them: not by
	// directory name ("../escape" is in escape-..., "" in none-...).
	var indexed, returned []string
	for _, r := range readIndex(t, root)[1:] {
		indexed = append(indexed, r[0])
	}
	for _, g := range groups {
		returned = append(returned, g.Value)
	}
	if !slices.IsSorted(indexed) || !slices.Equal(indexed, returned) {
		t.Errorf("index.csv lists %q, Split returned %q: want both in the order of the values", indexed[:min(len(indexed), 5)], returned[:min(len(returned), 5)])
	}
	// Again: the split's own directory is replaced, nothing else is.
	if _, err := report.Split(context.Background(), opts, "owner"); err != nil {
		t.Fatalf("second split: %v", err)
	}
	other := report.SplitDir(out, "env")
	os.MkdirAll(other, 0o777)
	os.WriteFile(filepath.Join(other, "mine.txt"), []byte("x"), 0o644)
	if err := report.CheckSplit(out, "env"); !errors.Is(err, report.ErrNotSplit) {
		t.Errorf("CheckSplit of a directory Split did not make: %v, want ErrNotSplit", err)
	}
	if err := report.CheckSplit(out, "owner"); err != nil {
		t.Errorf("CheckSplit of an earlier split's directory: %v", err)
	}
	if _, err := report.Split(context.Background(), opts, "env"); !errors.Is(err, report.ErrNotSplit) {
		t.Errorf("Split of a directory it did not make: %v, want ErrNotSplit", err)
	}
	if _, err := os.Stat(filepath.Join(other, "mine.txt")); err != nil {
		t.Error("Split deleted a file it did not make")
	}
}

// TestSplitClaimsAnEmptyDirectory: a split stopped between making its
// directory and marking it as its own (a full disk, a kill) left it empty,
// and every later split refused it as not its own, so that the run that
// checks before the audit exited 2 for good. An empty directory holds
// nothing of anyone's: it is claimed, where it is. What holds a file, or
// is a link (to an empty directory too), is still refused, untouched.
func TestSplitClaimsAnEmptyDirectory(t *testing.T) {
	at := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	st := audit.StatusSuccess
	rs := openRecord(t, []audit.Result{{
		Region: "us-east-1", InstanceID: "i-00000000000000001", Labels: map[string]string{"owner": "alice"},
		Outcome: audit.Judge([]audit.Association{{Status: st}}), AuditedAt: at,
		Associations: []audit.Association{{AssociationID: "a-1", Name: "AWS-RunPatchBaseline", Status: st}},
	}})
	tests := []struct {
		name  string
		make  func(t *testing.T, root string) (elsewhere string)
		claim bool
	}{
		{"empty directory", func(t *testing.T, root string) string {
			if err := os.Mkdir(root, 0o777); err != nil {
				t.Fatal(err)
			}
			return ""
		}, true},
		{"directory with a file", func(t *testing.T, root string) string {
			os.Mkdir(root, 0o777)
			if err := os.WriteFile(filepath.Join(root, "mine.txt"), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
			return ""
		}, false},
		{"link to an empty directory", func(t *testing.T, root string) string {
			elsewhere := t.TempDir()
			if err := os.Symlink(elsewhere, root); err != nil {
				t.Skip("no symbolic links here:", err)
			}
			return elsewhere
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := t.TempDir()
			root := report.SplitDir(out, "owner")
			elsewhere := tt.make(t, root)
			opts := report.Options{Dir: out, Records: rs, Run: audit.RunInfo{StartedAt: at, Complete: true}, Formats: []report.Format{report.FormatCSV}}
			checkErr := report.CheckSplit(out, "owner")
			_, splitErr := report.Split(context.Background(), opts, "owner")
			if !tt.claim {
				if !errors.Is(checkErr, report.ErrNotSplit) || !errors.Is(splitErr, report.ErrNotSplit) {
					t.Errorf("CheckSplit: %v; Split: %v; want both ErrNotSplit", checkErr, splitErr)
				}
				if elsewhere != "" {
					if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
						t.Errorf("Split wrote through the link: %v", entries)
					}
				}
				return
			}
			if checkErr != nil || splitErr != nil {
				t.Fatalf("CheckSplit: %v; Split: %v; want the empty directory claimed", checkErr, splitErr)
			}
			if _, err := os.Stat(filepath.Join(root, report.SplitIndex)); err != nil {
				t.Errorf("no index in the claimed directory: %v", err)
			}
			// Claimed, it is the split's: the next one replaces it.
			if _, err := report.Split(context.Background(), opts, "owner"); err != nil {
				t.Errorf("the next split: %v", err)
			}
		})
	}
}

// TestSplitChanges: each group's run.json counts its own changes since the
// baseline, not the whole run's, and the group keeps its part of the
// baseline so that its mail, later, can show them.
func TestSplitChanges(t *testing.T) {
	at := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	week := at.Add(-7 * 24 * time.Hour)
	// alice: one new failure; bob: one resolved.
	basePath := writeResults(t, t.TempDir(),
		ownedResult("i-0000000000000000a", "alice", audit.StatusSuccess, week),
		ownedResult("i-0000000000000000b", "bob", audit.StatusFailed, week))
	curPath := writeResults(t, t.TempDir(),
		ownedResult("i-0000000000000000a", "alice", audit.StatusFailed, at),
		ownedResult("i-0000000000000000b", "bob", audit.StatusSuccess, at))
	base, rs, counts := openCompared(t, basePath, curPath, false)
	run := audit.RunInfo{StartedAt: at, Complete: true, Changes: &audit.ChangeInfo{Baseline: basePath, Counts: counts}}
	out := t.TempDir()
	groups, err := report.Split(context.Background(), report.Options{Dir: out, Records: rs, Run: run, Baseline: base, Formats: []report.Format{report.FormatCSV}}, "owner")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]int{"alice": {1, 0}, "bob": {0, 1}} // new failures, resolved
	for _, g := range groups {
		ri, err := audit.ReadRunInfo(filepath.Join(g.Dir, audit.RunFile))
		if err != nil {
			t.Fatal(err)
		}
		if ri.Changes == nil {
			t.Fatalf("group %q: no changes in its run.json", g.Value)
		}
		got := [2]int{ri.Changes.Counts[audit.NewFailure], ri.Changes.Counts[audit.Resolved]}
		if got != want[g.Value] {
			t.Errorf("group %q: new failures and resolved %v, want %v (its own, not the run's %v)", g.Value, got, want[g.Value], counts)
		}
		gb, err := report.OpenGroupBaseline(g.Dir, basePath, week)
		if err != nil || gb == nil {
			t.Fatalf("group %q: its part of the baseline: %v, %v", g.Value, gb, err)
		}
		if gb.Records().Len() != 1 {
			t.Errorf("group %q: its part of the baseline holds %d results, want 1", g.Value, gb.Records().Len())
		}
		gb.Close()
	}
}

// TestSplitKeepsUnauditedSites: each owner's report names the
// account-regions the run could not audit, and those whose instance
// information could not be read (any owner may have had instances there),
// and none of the sites that were audited whole.
func TestSplitKeepsUnauditedSites(t *testing.T) {
	at := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), audit.ResultsFile)
	w, err := audit.CreateRecord(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, owner := range []string{"alice", "bob", "alice"} {
		d := at.Add(-time.Hour)
		w.Write(audit.Result{AccountID: "111111111111", Region: "us-east-1", InstanceID: fmt.Sprintf("i-%017x", i), Labels: map[string]string{"owner": owner},
			Outcome: audit.OutcomeCompliant, AuditedAt: at, Associations: []audit.Association{{AssociationID: "a", Name: "AWS-RunPatchBaseline", Status: audit.StatusSuccess, ExecutionDate: &d}}})
	}
	w.Close()
	rs, err := audit.OpenRecords(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	run := audit.RunInfo{StartedAt: at, Error: "1 account-region could not be audited", Sites: []audit.SiteStats{
		{AccountID: "111111111111", Region: "us-east-1", Targets: 3, Results: 3},
		{AccountID: "333333333333", Region: "eu-west-1", Error: &audit.Error{Code: "AccessDenied", Message: "no"}},
		{AccountID: "444444444444", Region: "eu-west-1", Targets: 1, Results: 1, InfoError: &audit.Error{Code: "InternalServerError", Message: "later"}},
	}}
	groups, err := report.Split(context.Background(), report.Options{Dir: t.TempDir(), Records: rs, Run: run, Formats: []report.Format{report.FormatJSON}}, "owner")
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 2 {
		t.Fatalf("%d groups, want alice and bob", len(groups))
	}
	for _, g := range groups {
		b, err := os.ReadFile(filepath.Join(g.Dir, report.SummaryFile))
		if err != nil {
			t.Fatal(err)
		}
		var m report.Model
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		want := []report.Site{{AccountID: "333333333333", Region: "eu-west-1", Code: "AccessDenied", Message: "no"}}
		if !slices.Equal(m.Run.Unaudited, want) {
			t.Errorf("group %q: unaudited %+v, want %+v", g.Value, m.Run.Unaudited, want)
		}
		want = []report.Site{{AccountID: "444444444444", Region: "eu-west-1", Code: "InternalServerError", Message: "later"}}
		if !slices.Equal(m.Run.WithoutInfo, want) {
			t.Errorf("group %q: without_info %+v, want %+v", g.Value, m.Run.WithoutInfo, want)
		}
	}
}

// TestSplitGroupBaselineAsCompleteAsTheWholeOne: a group's part of the
// baseline, opened again as its mail opens it, is as complete as the whole
// baseline was, whatever the run.json beside it (the current run's) says.
// A partial current run made it partial: the group's new instances and new
// failures were left out of its mail, though its changes.csv, written by
// the split, had them.
func TestSplitGroupBaselineAsCompleteAsTheWholeOne(t *testing.T) {
	at := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	week := at.Add(-7 * 24 * time.Hour)
	tests := []struct {
		name                        string
		currentWhole, baselineWhole bool
		wantPartial                 bool
		want                        audit.ChangeCounts // alice's, nonzero ones
	}{
		{"current run partial", false, true, false, audit.ChangeCounts{audit.NewInstance: 1, audit.NewFailure: 1}},
		// Neither new nor gone: the baseline's run did not get to i-…c,
		// and the current one did not get to i-…b.
		{"both partial", false, false, true, audit.ChangeCounts{}},
		{"baseline partial", true, false, true, audit.ChangeCounts{audit.VanishedInstance: 1}},
		{"both whole", true, true, false, audit.ChangeCounts{audit.NewInstance: 1, audit.NewFailure: 1, audit.VanishedInstance: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			baseDir := t.TempDir()
			basePath := writeResults(t, baseDir,
				ownedResult("i-0000000000000000a", "alice", audit.StatusSuccess, week),
				ownedResult("i-0000000000000000b", "alice", audit.StatusSuccess, week))
			if err := os.WriteFile(filepath.Join(baseDir, audit.RunFile), runJSON(t, audit.RunInfo{Schema: audit.Schema, StartedAt: week, Complete: tt.baselineWhole, Interrupted: !tt.baselineWhole}), 0o666); err != nil {
				t.Fatal(err)
			}
			curPath := writeResults(t, t.TempDir(),
				ownedResult("i-0000000000000000a", "alice", audit.StatusSuccess, at),
				ownedResult("i-0000000000000000c", "alice", audit.StatusFailed, at))
			run := audit.RunInfo{StartedAt: at, Complete: tt.currentWhole, Interrupted: !tt.currentWhole}
			base, rs, counts := openCompared(t, basePath, curPath, !run.Whole())
			run.Changes = &audit.ChangeInfo{Baseline: basePath, Since: &week, Counts: counts, BaselineIncomplete: base.Records().Partial}
			groups, err := report.Split(context.Background(), report.Options{Dir: t.TempDir(), Records: rs, Run: run, Baseline: base, Formats: []report.Format{report.FormatCSV}}, "owner")
			if err != nil {
				t.Fatal(err)
			}
			if len(groups) != 1 {
				t.Fatalf("%d groups, want alice's", len(groups))
			}
			g := groups[0]
			ri, err := audit.ReadRunInfo(filepath.Join(g.Dir, audit.RunFile))
			if err != nil {
				t.Fatal(err)
			}
			if got := nonzero(ri.Changes.Counts); !maps.Equal(got, tt.want) {
				t.Errorf("the split counts %v, want %v", got, tt.want)
			}
			// As the mail, now or from "auditor mail" later, opens the group.
			gb, err := report.OpenGroupBaseline(g.Dir, basePath, week)
			if err != nil || gb == nil {
				t.Fatalf("the group's part of the baseline: %v, %v", gb, err)
			}
			defer gb.Close()
			if gb.Records().Partial != tt.wantPartial {
				t.Errorf("the group's baseline Partial = %v, want %v", gb.Records().Partial, tt.wantPartial)
			}
			grs, err := audit.OpenRecords(filepath.Join(g.Dir, audit.ResultsFile))
			if err != nil {
				t.Fatal(err)
			}
			defer grs.Close()
			grs.Partial = !ri.Whole()
			again, err := audit.Compare(gb.Records(), grs, func(audit.Change) error { return nil })
			if err != nil {
				t.Fatal(err)
			}
			if got := nonzero(again.Counts); !maps.Equal(got, tt.want) {
				t.Errorf("compared again, as the mail does: %v, want %v", got, tt.want)
			}
		})
	}
}

// ownedResult is an instance of owner with one association in status,
// audited at when.
func ownedResult(id, owner, status string, when time.Time) audit.Result {
	d := when.Add(-time.Hour)
	return audit.Result{
		Region: "us-east-1", InstanceID: id, Labels: map[string]string{"owner": owner}, Outcome: audit.Judge([]audit.Association{{Status: status}}),
		AuditedAt: when, Associations: []audit.Association{{AssociationID: "a-" + id, Name: "AWS-RunPatchBaseline", Status: status, ExecutionDate: &d}},
	}
}

// openCompared opens the baseline at basePath and the record at curPath
// (partial: a run that did not get to all its targets), closed when t ends,
// and compares them.
func openCompared(t *testing.T, basePath, curPath string, partial bool) (*audit.Baseline, *audit.Records, audit.ChangeCounts) {
	t.Helper()
	base, err := audit.OpenBaseline(basePath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { base.Close() })
	rs, err := audit.OpenRecords(curPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rs.Close() })
	rs.Partial = partial
	res, err := audit.Compare(base.Records(), rs, func(audit.Change) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	return base, rs, res.Counts
}

// writeResults writes rs as dir's results.jsonl and returns its path.
func writeResults(t *testing.T, dir string, rs ...audit.Result) string {
	t.Helper()
	path := filepath.Join(dir, audit.ResultsFile)
	w, err := audit.CreateRecord(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func runJSON(t *testing.T, ri audit.RunInfo) []byte {
	t.Helper()
	b, err := json.Marshal(ri)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// nonzero is counts without the kinds that did not happen.
func nonzero(counts audit.ChangeCounts) audit.ChangeCounts {
	out := audit.ChangeCounts{}
	for k, n := range counts {
		if n != 0 {
			out[k] = n
		}
	}
	return out
}

// TestSplitRelabelledAndVanished: each instance of the baseline is compared
// in the group it is in now, whatever its label was then, and an instance
// gone now in the group of its label then, made for it when that value has
// no instance now, so that its old owner learns it is gone. The baseline
// was split by its own labels: an instance moved from carol to bob, failing
// in both runs, was a new instance and a new failure in bob's group (its
// first_seen_failing a week old) and gone from carol's, and dave, whose
// only instance is gone, was in no group; the groups' changes did not add
// up to the run's.
func TestSplitRelabelledAndVanished(t *testing.T) {
	at := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	week := at.Add(-7 * 24 * time.Hour)
	tests := []struct {
		name    string
		partial bool // the current run's
		want    map[string]audit.ChangeCounts
	}{
		{"current run whole", false, map[string]audit.ChangeCounts{
			"alice": {audit.VanishedInstance: 1},
			"bob":   {audit.StillFailing: 1},
			"carol": {},
			"dave":  {audit.VanishedInstance: 1},
		}},
		// Nothing is gone from a run that did not get to everything: no
		// group for dave, who would have nothing to read.
		{"current run partial", true, map[string]audit.ChangeCounts{
			"alice": {},
			"bob":   {audit.StillFailing: 1},
			"carol": {},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			basePath := writeResults(t, t.TempDir(),
				ownedResult("i-0000000000000000a", "alice", audit.StatusSuccess, week),
				ownedResult("i-0000000000000000b", "carol", audit.StatusFailed, week),
				ownedResult("i-0000000000000000c", "carol", audit.StatusSuccess, week),
				ownedResult("i-0000000000000000d", "dave", audit.StatusFailed, week),
				ownedResult("i-0000000000000000e", "alice", audit.StatusSuccess, week))
			curPath := writeResults(t, t.TempDir(),
				ownedResult("i-0000000000000000a", "alice", audit.StatusSuccess, at),
				ownedResult("i-0000000000000000b", "bob", audit.StatusFailed, at),
				ownedResult("i-0000000000000000c", "carol", audit.StatusSuccess, at))
			run := audit.RunInfo{StartedAt: at, Complete: !tt.partial, Interrupted: tt.partial}
			base, rs, counts := openCompared(t, basePath, curPath, !run.Whole())
			run.Changes = &audit.ChangeInfo{Baseline: basePath, Since: &week, Counts: counts}
			out := t.TempDir()
			groups, err := report.Split(context.Background(), report.Options{Dir: out, Records: rs, Run: run, Baseline: base, Formats: []report.Format{report.FormatCSV}}, "owner")
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]audit.ChangeCounts{}
			sum := audit.ChangeCounts{}
			for _, g := range groups {
				ri, err := audit.ReadRunInfo(filepath.Join(g.Dir, audit.RunFile))
				if err != nil {
					t.Fatal(err)
				}
				got[g.Value] = nonzero(ri.Changes.Counts)
				for k, n := range ri.Changes.Counts {
					sum[k] += n
				}
			}
			if !maps.EqualFunc(got, tt.want, maps.Equal) {
				t.Errorf("the groups' changes are %v, want %v", got, tt.want)
			}
			if !maps.Equal(nonzero(sum), nonzero(counts)) {
				t.Errorf("the groups' changes add up to %v, the run's are %v", nonzero(sum), nonzero(counts))
			}
			entries, err := os.ReadDir(report.SplitDir(out, "owner"))
			if err != nil {
				t.Fatal(err)
			}
			var dirs []string
			for _, e := range entries {
				if e.IsDir() {
					dirs = append(dirs, e.Name())
				}
			}
			if want := slices.Sorted(maps.Keys(tt.want)); !slices.Equal(dirs, want) {
				t.Errorf("the split's directories are %v, want %v", dirs, want)
			}
			if tt.partial {
				return
			}
			// dave's reports: none of his instances now, the one gone.
			b, err := os.ReadFile(filepath.Join(report.SplitDir(out, "owner"), "dave", "changes.csv"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), "vanished_instance,,us-east-1,i-0000000000000000d,") {
				t.Errorf("dave's changes.csv does not name his instance as gone:\n%s", b)
			}
			index, err := os.ReadFile(filepath.Join(report.SplitDir(out, "owner"), report.SplitIndex))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(index), "\ndave,dave,0,0,0\n") {
				t.Errorf("index.csv does not list dave's group with no instance:\n%s", index)
			}
		})
	}
}

// TestSplitClashingNames: two values whose hashed names are one (32 bits
// of SHA-256: anyone who may set a tag or a list cell can find such a pair)
// stopped the whole split, and with it every owner's reports and mail. Each
// now has a directory of its own, named the same whichever of them comes
// first, and a value that clashes with none keeps its usual name.
func TestSplitClashingNames(t *testing.T) {
	const a, b = "Team ).#..", "Team #+$!$+"
	if report.SafeName(a) != report.SafeName(b) {
		t.Fatalf("SafeName(%q) = %q, SafeName(%q) = %q: the test wants one name", a, report.SafeName(a), b, report.SafeName(b))
	}
	at := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	split := func(t *testing.T, owners ...string) map[string]string {
		t.Helper()
		var results []audit.Result
		for i, o := range owners {
			results = append(results, ownedResult(fmt.Sprintf("i-%017x", i+1), o, audit.StatusSuccess, at))
		}
		out := t.TempDir()
		opts := report.Options{Dir: out, Records: openRecord(t, results), Run: audit.RunInfo{StartedAt: at, Complete: true}, Formats: []report.Format{report.FormatCSV}}
		groups, err := report.Split(context.Background(), opts, "owner")
		if err != nil {
			t.Fatalf("Split: %v", err)
		}
		dirs := map[string]string{}
		for _, g := range groups {
			if g.Instances != 1 {
				t.Errorf("group %q (%s): %d instances, want 1", g.Value, g.Name, g.Instances)
			}
			if g.Dir != filepath.Join(report.SplitDir(out, "owner"), g.Name) {
				t.Errorf("group %q: directory %s, name %s", g.Value, g.Dir, g.Name)
			}
			rows, err := os.ReadFile(filepath.Join(g.Dir, report.InstancesCSV))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(rows), ","+csvText(g.Value)+",") && !strings.Contains(string(rows), ","+csvText(g.Value)+"\n") {
				t.Errorf("group %q: its instances.csv does not hold its value:\n%s", g.Value, rows)
			}
			dirs[g.Value] = g.Name
		}
		index, err := os.ReadFile(filepath.Join(report.SplitDir(out, "owner"), report.SplitIndex))
		if err != nil {
			t.Fatal(err)
		}
		for v, name := range dirs {
			if !strings.Contains(string(index), csvText(v)+","+name+",1,0,0\n") {
				t.Errorf("index.csv does not map %q to %s:\n%s", v, name, index)
			}
		}
		return dirs
	}
	first := split(t, "payments", a, b)
	if len(first) != 3 || first[a] == first[b] {
		t.Fatalf("groups %v: want three, %q and %q apart", first, a, b)
	}
	if first["payments"] != "payments" {
		t.Errorf("payments is in %q", first["payments"])
	}
	for _, v := range []string{a, b} {
		if first[v] == report.SafeName(a) {
			t.Errorf("%q took the name both values have (%s): which one gets it would depend on which comes first", v, first[v])
		}
	}
	if again := split(t, b, "payments", a); !maps.Equal(again, first) {
		t.Errorf("in another order the directories are %v, want %v", again, first)
	}
	if alone := split(t, a); alone[a] != report.SafeName(a) {
		t.Errorf("%q alone is in %q, want its usual %q", a, alone[a], report.SafeName(a))
	}

	// With a baseline: a's group is made for its instance gone since (its
	// part of the baseline open) before b's comes and moves it.
	week := at.Add(-7 * 24 * time.Hour)
	basePath := writeResults(t, t.TempDir(),
		ownedResult("i-00000000000000001", a, audit.StatusFailed, week),
		ownedResult("i-00000000000000002", b, audit.StatusSuccess, week))
	curPath := writeResults(t, t.TempDir(),
		ownedResult("i-00000000000000002", b, audit.StatusSuccess, at),
		ownedResult("i-00000000000000003", a, audit.StatusSuccess, at))
	base, rs, counts := openCompared(t, basePath, curPath, false)
	run := audit.RunInfo{StartedAt: at, Complete: true, Changes: &audit.ChangeInfo{Baseline: basePath, Since: &week, Counts: counts}}
	groups, err := report.Split(context.Background(), report.Options{Dir: t.TempDir(), Records: rs, Run: run, Baseline: base, Formats: []report.Format{report.FormatCSV}}, "owner")
	if err != nil {
		t.Fatalf("Split with a baseline: %v", err)
	}
	got := map[string]audit.ChangeCounts{}
	for _, g := range groups {
		if g.Name != first[g.Value] {
			t.Errorf("with a baseline, %q is in %q, want %q", g.Value, g.Name, first[g.Value])
		}
		ri, err := audit.ReadRunInfo(filepath.Join(g.Dir, audit.RunFile))
		if err != nil {
			t.Fatal(err)
		}
		got[g.Value] = nonzero(ri.Changes.Counts)
	}
	want := map[string]audit.ChangeCounts{a: {audit.VanishedInstance: 1, audit.NewInstance: 1}, b: {}}
	if !maps.EqualFunc(got, want, maps.Equal) {
		t.Errorf("the groups' changes are %v, want %v", got, want)
	}
}

// csvText is v as the CSV reports write a text cell.
func csvText(v string) string {
	if strings.ContainsAny(v, "\",\n") {
		return `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
	}
	return v
}

// TestRemoveSplits: a rendering removes the splits Split made that it did
// not write (an earlier attempt's), and nothing Split did not make: a by-
// directory without the marker, a link to a split, another directory.
func TestRemoveSplits(t *testing.T) {
	at := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	st := audit.StatusSuccess
	rs := openRecord(t, []audit.Result{{
		Region: "us-east-1", InstanceID: "i-00000000000000001", Labels: map[string]string{"owner": "alice", "tag:Team": "a"},
		Outcome: audit.Judge([]audit.Association{{Status: st}}), AuditedAt: at,
		Associations: []audit.Association{{AssociationID: "a-1", Name: "AWS-RunPatchBaseline", Status: st}},
	}})
	out := t.TempDir()
	opts := report.Options{Dir: out, Records: rs, Run: audit.RunInfo{StartedAt: at, Complete: true}, Formats: []report.Format{report.FormatCSV}}
	for _, label := range []string{"owner", "tag:Team"} {
		if _, err := report.Split(context.Background(), opts, label); err != nil {
			t.Fatal(err)
		}
	}
	theirs := filepath.Join(out, "by-hand")
	os.MkdirAll(theirs, 0o777)
	os.WriteFile(filepath.Join(theirs, "mine.txt"), []byte("x"), 0o644)
	other := filepath.Join(out, "keep-me")
	os.MkdirAll(other, 0o777)
	os.WriteFile(filepath.Join(other, ".auditor-split"), nil, 0o644)
	linked := filepath.Join(out, "by-link")
	if err := os.Symlink(report.SplitDir(out, "owner"), linked); err != nil {
		t.Skip("no symbolic links here:", err)
	}

	// A link to the user's own split is refused as no split's, not as
	// another user's.
	if err := report.CheckSplit(out, "link"); !errors.Is(err, report.ErrNotSplit) || strings.Contains(err.Error(), "another user's") {
		t.Errorf("CheckSplit of a link to the user's split = %v, want ErrNotSplit, not another user's", err)
	}

	removed, err := report.RemoveSplits(out, report.SplitDir(out, "owner"))
	if err != nil {
		t.Fatal(err)
	}
	want := []report.MadeSplit{{Dir: report.SplitDir(out, "tag:Team"), Label: "tag:Team"}}
	if !slices.Equal(removed, want) {
		t.Errorf("removed %v, want %v", removed, want)
	}
	for _, p := range []string{report.SplitDir(out, "owner"), theirs, other, linked} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s: %v; want it kept", p, err)
		}
	}
	if _, err := os.Lstat(report.SplitDir(out, "tag:Team")); err == nil {
		t.Error("the split by tag:Team, not written this time, is still there")
	}
	// A split stopped before its index has no label to name.
	os.Remove(filepath.Join(report.SplitDir(out, "owner"), report.SplitIndex))
	removed, err = report.RemoveSplits(out, "")
	if want := []report.MadeSplit{{Dir: report.SplitDir(out, "owner")}}; err != nil || !slices.Equal(removed, want) {
		t.Errorf("removed %v, %v; want %v", removed, err, want)
	}
}

// TestRemoveSplitsLeavesOtherUsers: a by- directory with Split's marker
// that another user owns, or whose marker another user owns, is not one
// this user's Split made: a rendering (as root, say) must not remove it.
func TestRemoveSplitsLeavesOtherUsers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("giving a file to another user needs root")
	}
	at := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	st := audit.StatusSuccess
	for _, whose := range []string{"directory", "marker"} {
		t.Run("another user's "+whose, func(t *testing.T) {
			rs := openRecord(t, []audit.Result{{
				Region: "us-east-1", InstanceID: "i-00000000000000001", Labels: map[string]string{"owner": "alice"},
				Outcome: audit.Judge([]audit.Association{{Status: st}}), AuditedAt: at,
				Associations: []audit.Association{{AssociationID: "a-1", Name: "AWS-RunPatchBaseline", Status: st}},
			}})
			out := t.TempDir()
			opts := report.Options{Dir: out, Records: rs, Run: audit.RunInfo{StartedAt: at, Complete: true}, Formats: []report.Format{report.FormatCSV}}
			if _, err := report.Split(context.Background(), opts, "owner"); err != nil {
				t.Fatal(err)
			}
			split := report.SplitDir(out, "owner")
			p := split
			if whose == "marker" {
				p = filepath.Join(split, ".auditor-split")
			}
			if err := os.Chown(p, 65534, 65534); err != nil {
				t.Fatal(err)
			}
			removed, err := report.RemoveSplits(out, "")
			if err != nil || len(removed) != 0 {
				t.Errorf("removed %v, %v; want nothing", removed, err)
			}
			if _, err := os.Lstat(filepath.Join(split, report.SplitIndex)); err != nil {
				t.Errorf("the split whose %s is another user's: %v; want it kept", whose, err)
			}
			// Nor may a split by the same label replace it.
			if err := report.CheckSplit(out, "owner"); !errors.Is(err, report.ErrOthersSplit) || !strings.Contains(err.Error(), "belongs to another user") {
				t.Errorf("CheckSplit = %v, want ErrOthersSplit saying it belongs to another user", err)
			}
			if _, err := report.Split(context.Background(), opts, "owner"); !errors.Is(err, report.ErrOthersSplit) {
				t.Errorf("Split = %v, want ErrOthersSplit", err)
			}
			if _, err := os.Lstat(filepath.Join(split, report.SplitIndex)); err != nil {
				t.Errorf("the split whose %s is another user's, split again: %v; want it kept", whose, err)
			}
		})
	}
}

// TestSameRendering: a group's run.json is of its run's rendering when it
// was written with it: not when the run was resumed, or rendered again,
// since.
func TestSameRendering(t *testing.T) {
	at := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	run := audit.RunInfo{StartedAt: at, EndedAt: at.Add(time.Minute), Complete: true, Targets: 10}
	rendered := run
	rendered.Rendered = &audit.Rendering{At: at.Add(time.Hour)}
	later := rendered
	later.Rendered = &audit.Rendering{At: at.Add(2 * time.Hour)}
	interrupted := run
	interrupted.EndedAt, interrupted.Complete, interrupted.Interrupted = at.Add(time.Second), false, true
	group := run
	group.Targets, group.Outcomes = 3, map[audit.Outcome]int{audit.OutcomeCompliant: 3}
	// Not complete for instances in error in another group: the group,
	// rendered again, is complete by its own record.
	incomplete := run
	incomplete.Complete = false
	tests := []struct {
		name       string
		run, group audit.RunInfo
		want       bool
	}{
		{"the same run", run, group, true},
		{"rendered again, the group with it", rendered, rendered, true},
		{"resumed since the attempt split", run, interrupted, false},
		{"rendered again since", rendered, run, false},
		{"rendered again twice", later, rendered, false},
		{"the group rendered again in place since", run, rendered, true},
		{"the group rendered again in place since the run was", rendered, later, true},
		{"the group settled complete from its own record", incomplete, group, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := report.SameRendering(tt.run, tt.group); got != tt.want {
				t.Errorf("SameRendering = %v, want %v", got, tt.want)
			}
		})
	}
}
