package audit_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/internal/extsort"
)

// result is a result of outcome oc as auditor writes it: its one
// association's status is what makes the outcome (an instance in error
// keeps a Success row of its first page), and an outcome that is no
// verdict on associations has none.
func result(account, region, id string, oc audit.Outcome) audit.Result {
	d := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	r := audit.Result{
		AccountID: account, Region: region, InstanceID: id, Outcome: oc, Pages: 1,
		AuditedAt: d,
		Associations: []audit.Association{{
			AssociationID: "a1", Name: "AWS-RunPatchBaseline", Status: "Success", ExecutionDate: &d,
			ExecutionSummary: "=cmd|' /C calc'!A0 \"quoted\"\nnext line ‮ 🙂",
			OutputURL:        &audit.OutputURL{S3OutputURL: &audit.S3OutputURL{OutputURL: "https://b.s3.amazonaws.com/x"}},
		}},
	}
	switch oc {
	case audit.OutcomeNoncompliant:
		r.Associations[0].Status = audit.StatusFailed
	case audit.OutcomePending:
		r.Associations[0].Status = audit.StatusPending
	case audit.OutcomeNoAssociations, audit.OutcomeNotManaged, audit.OutcomeInvalid:
		r.Associations = nil
	}
	return r
}

func writeRecord(t *testing.T, path string, rs ...audit.Result) {
	t.Helper()
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
}

func readAll(t *testing.T, paths ...string) []audit.Result {
	t.Helper()
	rs, err := audit.OpenRecords(paths...)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var got []audit.Result
	if err := rs.Each(func(r audit.Result) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return got
}

// indexBounds are the sizes of the in-memory index the record tests run
// with: the default, and ones that send the index to disk at every size.
var indexBounds = []int{0, 1, 2, 5}

// withIndexBounds runs test once for each of indexBounds.
func withIndexBounds(t *testing.T, test func(t *testing.T)) {
	for _, n := range indexBounds {
		name := "default"
		if n > 0 {
			name = fmt.Sprintf("on disk past %d", n)
		}
		t.Run(name, func(t *testing.T) {
			if n > 0 {
				audit.SetIndexInMemory(t, n)
			}
			test(t)
		})
	}
}

func TestRecordRoundTripSortedAndMerged(t *testing.T) { withIndexBounds(t, testRecordRoundTrip) }

func testRecordRoundTrip(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "b.jsonl")
	writeRecord(t, a,
		result("111111111111", "us-east-1", "i-00000009", audit.OutcomePending),
		result("222222222222", "us-east-1", "i-00000002", audit.OutcomeCompliant),
		result("111111111111", "us-east-1", "i-00000009", audit.OutcomeError),
		result("111111111111", "eu-west-1", "i-00000001", audit.OutcomeCompliant),
		// A resumed run retried i-00000009 and appended the new verdict.
		result("111111111111", "us-east-1", "i-00000009", audit.OutcomeNoncompliant),
	)
	writeRecord(t, b, result("222222222222", "us-east-1", "i-00000002", audit.OutcomePending))
	got := readAll(t, a, b)
	var keys []string
	for _, r := range got {
		keys = append(keys, r.AccountID+"/"+r.Region+"/"+r.InstanceID+"="+string(r.Outcome))
	}
	want := []string{
		"111111111111/eu-west-1/i-00000001=compliant",
		"111111111111/us-east-1/i-00000009=noncompliant",
		"222222222222/us-east-1/i-00000002=pending",
	}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("got %v\nwant %v", keys, want)
	}
	rs, err := audit.OpenRecords(a, b)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	if oc := rs.Outcomes(); rs.Len() != 3 || oc[audit.OutcomeCompliant] != 1 || oc[audit.OutcomeNoncompliant] != 1 || oc[audit.OutcomePending] != 1 || oc[audit.OutcomeError] != 0 {
		t.Errorf("%d instances, outcomes %v: want 3, one each of compliant, noncompliant and pending", rs.Len(), oc)
	}
	in := result("111111111111", "eu-west-1", "i-00000001", audit.OutcomeCompliant)
	in.Schema = audit.Schema
	if !reflect.DeepEqual(got[0], in) {
		t.Errorf("round trip changed the result:\ngot  %+v\nwant %+v", got[0], in)
	}
}

// TestRecordIndexNeedsTMPDIR: a record too large for memory whose index
// cannot go to disk is an error that names the temporary directory, and
// leaves nothing open.
func TestRecordIndexNeedsTMPDIR(t *testing.T) {
	path := filepath.Join(t.TempDir(), audit.ResultsFile)
	writeRecord(t, path,
		result("", "us-east-1", "i-00000003", audit.OutcomeCompliant),
		result("", "us-east-1", "i-00000001", audit.OutcomeCompliant),
		result("", "us-east-1", "i-00000002", audit.OutcomeCompliant))
	audit.SetIndexInMemory(t, 1)
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "missing"))
	rs, err := audit.OpenRecords(path)
	if err == nil {
		rs.Close()
		t.Fatal("OpenRecords indexed on disk in a missing TMPDIR without an error")
	}
	if !strings.Contains(err.Error(), "TMPDIR") || !errors.Is(err, os.ErrNotExist) || !errors.Is(err, extsort.ErrScratch) {
		t.Errorf("error %q: want it to name TMPDIR and wrap ErrNotExist and extsort.ErrScratch", err)
	}
}

func TestRecordTornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.jsonl")
	writeRecord(t, path, result("", "us-east-1", "i-00000001", audit.OutcomeCompliant))
	// A crash in the middle of the second line.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"schema":1,"region":"us-east-1","instance_id":"i-000`)
	f.Close()

	rs, err := audit.OpenRecords(path)
	if err != nil {
		t.Fatal(err)
	}
	if rs.Len() != 1 || rs.Torn != 1 {
		t.Errorf("Len %d Torn %d, want 1 and 1", rs.Len(), rs.Torn)
	}
	rs.Close()

	// Appending again cuts the torn part off first.
	writeRecord(t, path, result("", "us-east-1", "i-00000002", audit.OutcomeCompliant))
	if got := readAll(t, path); len(got) != 2 {
		t.Errorf("%d results after appending to a torn record, want 2", len(got))
	}
	b, _ := os.ReadFile(path)
	if bytes.Contains(b, []byte(`"i-000"`)) || bytes.Count(b, []byte("\n")) != 2 {
		t.Errorf("torn line left in the file:\n%s", b)
	}
}

// TestRecordWriterTorn: CreateRecord counts the torn line it cuts off as
// OpenRecords would have: a reader after it finds none.
func TestRecordWriterTorn(t *testing.T) {
	for _, tc := range []struct {
		name, tail string
		want       int
	}{
		{"whole", "", 0},
		{"torn", `{"schema":1,"region":"us-east-1","instance_id":"i-000`, 1},
		{"white space", "  \t", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "results.jsonl")
			writeRecord(t, path, result("", "us-east-1", "i-00000001", audit.OutcomeCompliant))
			f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			f.WriteString(tc.tail)
			f.Close()
			w, err := audit.CreateRecord(path)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			if got := w.Torn(); got != tc.want {
				t.Errorf("Torn() = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestRecordWriterDiscard: Discard takes back this writer's lines and no
// others: a record it created is gone, one it continued is as it was
// (its torn tail cut, as CreateRecord cut it), and one it wrote nothing
// to is left as it is.
func TestRecordWriterDiscard(t *testing.T) {
	earlier := result("", "us-east-1", "i-00000001", audit.OutcomeError)
	for _, tc := range []struct {
		name   string
		before []audit.Result // nil: no file
		tail   string
		writes int
	}{
		{"created", nil, "", 2},
		{"continued", []audit.Result{earlier}, "", 2},
		{"continued past a torn line", []audit.Result{earlier}, `{"schema":1,"reg`, 1},
		{"nothing written", []audit.Result{earlier}, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "results.jsonl")
			var want []byte
			if tc.before != nil {
				writeRecord(t, path, tc.before...)
				want, _ = os.ReadFile(path)
				f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
				f.WriteString(tc.tail)
				f.Close()
			}
			w, err := audit.CreateRecord(path)
			if err != nil {
				t.Fatal(err)
			}
			for i := range tc.writes {
				if err := w.Write(result("", "us-east-1", fmt.Sprintf("i-%08x", i+2), audit.OutcomeInvalid)); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Discard(); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			switch {
			case tc.before == nil && !errors.Is(err, os.ErrNotExist):
				t.Errorf("the record it created: %v (%d bytes), want it removed", err, len(got))
			case tc.before != nil && (err != nil || !bytes.Equal(got, want)):
				t.Errorf("the record it continued: %v, %q; want it as it was, %q", err, got, want)
			}
			if err := w.Write(earlier); err == nil {
				t.Error("Write after Discard: no error")
			}
		})
	}
}

func TestRecordBadLineNamesIt(t *testing.T) {
	tests := []struct {
		name, content, want string
		notResult           bool // wraps audit.ErrNotResult: no auditor's line at all
	}{
		{"junk", "{\"schema\":1,\"region\":\"r\",\"instance_id\":\"i-00000001\",\"outcome\":\"no_associations\",\"associations\":[]}\nnot json\n", "r.jsonl:2: not a result", true},
		{"other schema", "{\"schema\":9,\"instance_id\":\"i-1\",\"outcome\":\"compliant\"}\n", "r.jsonl:1: schema 9", false},
		{"no id", "{\"schema\":1,\"outcome\":\"compliant\"}\n", "r.jsonl:1: not a result: no instance_id", true},
		{"wrong type", "{\"schema\":1,\"instance_id\":7,\"outcome\":\"compliant\"}\n", "r.jsonl:1: damaged", false},
		{"another tool's, wrong type", "{\"instance_id\":7,\"outcome\":\"compliant\"}\n", "r.jsonl:1: not a result", true},
		// Another tool's JSON lines (a log) have no schema either: they
		// are not an older auditor's.
		{"another tool's", "{\"level\":\"info\",\"msg\":\"started\"}\n", "r.jsonl:1: not a result: no instance_id", true},
		// A line of the auditor's own, cut short (by a disk, an editor):
		// a damaged record, not another tool's file.
		{"an auditor's line cut short", "{\"schema\":1,\"region\":\"r\",\"instance_id\":\"i-000\n" +
			"{\"schema\":1,\"region\":\"r\",\"instance_id\":\"i-00000001\",\"outcome\":\"compliant\",\"associations\":[]}\n", "r.jsonl:1: damaged", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "r.jsonl")
			os.WriteFile(path, []byte(tt.content), 0o644)
			_, err := audit.OpenRecords(path)
			var re *audit.ReadError
			if !errors.As(err, &re) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want a ReadError containing %q", err, tt.want)
			}
			if got := errors.Is(err, audit.ErrNotResult); got != tt.notResult {
				t.Errorf("errors.Is(%v, ErrNotResult) = %v, want %v", err, got, tt.notResult)
			}
			_, err = audit.ReadRecord(strings.NewReader(tt.content), path, func(audit.Result) error { return nil })
			if !errors.As(err, &re) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ReadRecord err = %v, want a ReadError containing %q", err, tt.want)
			}
			if got := errors.Is(err, audit.ErrNotResult); got != tt.notResult {
				t.Errorf("ReadRecord: errors.Is(%v, ErrNotResult) = %v, want %v", err, got, tt.notResult)
			}
		})
	}
}

// TestRecordRefusesForeignInstanceIDs: a line whose instance_id is not an
// instance ID the API could have given (nor an invalid input line's text,
// which the record keeps as the list had it) is not auditor's: it is
// refused naming its line and the value, escaped, so that no look-alike of
// a real instance (a zero-width space, a right-to-left override, a
// terminal escape) is counted, listed or written as one.
func TestRecordRefusesForeignInstanceIDs(t *testing.T) {
	line := func(id string, oc audit.Outcome) string {
		quoted, err := json.Marshal(id)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf(`{"schema":%d,"region":"us-east-1","instance_id":%s,"outcome":%q,"associations":[]}`+"\n", audit.Schema, quoted, oc)
	}
	const good = "i-0123456789abcdef0"
	for _, tt := range []struct{ name, id, want string }{
		{"zero-width space", good + "\u200b", `r.jsonl:1: instance_id "i-0123456789abcdef0\u200b": not an instance ID`},
		{"right-to-left override", "\u202e" + good, `r.jsonl:1: instance_id "\u202ei-0123456789abcdef0": not an instance ID`},
		{"escape sequence", "\x1b[2J" + good, `r.jsonl:1: instance_id "\x1b[2Ji-0123456789abcdef0": not an instance ID`},
		{"control character", "i-01234567\x00", `r.jsonl:1: instance_id "i-01234567\x00": not an instance ID`},
		{"look-alike letter", "i-0123456789abcdef\u0456", `r.jsonl:1: instance_id "i-0123456789abcdef\u0456": not an instance ID`},
		{"16 digits", "i-0123456789abcdef", `r.jsonl:1: instance_id "i-0123456789abcdef": not an instance ID`},
		{"long", strings.Repeat("x", 5000), `r.jsonl:1: instance_id "xxxxxxxxxx`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			content := line(tt.id, audit.OutcomeCompliant)
			path := filepath.Join(t.TempDir(), "r.jsonl")
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := audit.OpenRecords(path)
			var re *audit.ReadError
			if !errors.As(err, &re) || !strings.HasSuffix(re.Path, "r.jsonl") || re.Line != 1 || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("OpenRecords err = %v, want a ReadError of line 1 containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), strings.Repeat("x", 100)) {
				t.Errorf("the error quotes the whole value: %d bytes", len(err.Error()))
			}
			_, err = audit.ReadRecord(strings.NewReader(content), path, func(audit.Result) error { return nil })
			if !errors.As(err, &re) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ReadRecord err = %v, want a ReadError containing %q", err, tt.want)
			}
		})
	}
	// What auditor writes is read: IDs of the API's shape (discovery takes
	// what SSM lists), and an invalid input line's text as the list had it.
	for _, ok := range []string{line(good, audit.OutcomeNoAssociations), line("i-01234567", audit.OutcomeNotManaged),
		line("mi-0123456789abcdef0", audit.OutcomeNoAssociations), line("mi-0123456789ABCDEF0", audit.OutcomeError),
		line("i-12345\u200b", audit.OutcomeInvalid), line(audit.EmptyID, audit.OutcomeInvalid)} {
		if _, err := audit.ReadRecord(strings.NewReader(ok), "r.jsonl", func(audit.Result) error { return nil }); err != nil {
			t.Errorf("%s: %v", strings.TrimSpace(ok), err)
		}
	}
}

// FuzzRecord feeds arbitrary bytes to both readers: they must not panic,
// must agree, and whatever they accept must survive a write and re-read.
func FuzzRecord(f *testing.F) {
	var buf bytes.Buffer
	audit.EncodeResult(&buf, result("111111111111", "us-east-1", "i-00000001", audit.OutcomeCompliant))
	line := buf.String()
	f.Add([]byte(line))
	f.Add([]byte(line + line[:20]))
	f.Add([]byte("\n\n" + line + "\n"))
	f.Add([]byte(`{"schema":1,"instance_id":"i-1","outcome":"x","associations":[{"ExecutionDate":"bad"}]}` + "\n"))
	f.Add([]byte{0, 0xff, '\n', '{'})
	// One file, rewritten by each execution: a temporary directory made and
	// removed for each one costs more than the test itself.
	path := filepath.Join(f.TempDir(), "r.jsonl")
	f.Fuzz(func(t *testing.T, data []byte) {
		var streamed []audit.Result
		torn, err := audit.ReadRecord(bytes.NewReader(data), "fuzz", func(r audit.Result) error {
			streamed = append(streamed, r)
			return nil
		})
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		rs, oerr := audit.OpenRecords(path)
		if (err == nil) != (oerr == nil) {
			t.Fatalf("ReadRecord err %v but OpenRecords err %v", err, oerr)
		}
		if oerr != nil {
			return
		}
		defer rs.Close()
		if rs.Torn != torn {
			t.Errorf("torn %d vs %d", rs.Torn, torn)
		}
		if rs.Len() > len(streamed) {
			t.Errorf("index has %d entries from %d lines", rs.Len(), len(streamed))
		}
		var again bytes.Buffer
		if err := rs.Each(func(r audit.Result) error { return audit.EncodeResult(&again, r) }); err != nil {
			t.Fatalf("Each: %v", err)
		}
		n := 0
		if _, err := audit.ReadRecord(&again, "again", func(audit.Result) error { n++; return nil }); err != nil || n != rs.Len() {
			t.Fatalf("re-read %d of %d results: %v", n, rs.Len(), err)
		}
	})
}

// TestRecordWriterConcurrent: writers sharing fsyncs still leave every line
// whole and every result once.
func TestRecordWriterConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.jsonl")
	w, err := audit.CreateRecord(path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 50 {
				if err := w.Write(result("", "us-east-1", fmt.Sprintf("i-%08x", g*1000+i), audit.OutcomeCompliant)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if n := w.Written(); n != 800 {
		t.Errorf("Written() = %d, want 800", n)
	}
	w.Close()
	if got := readAll(t, path); len(got) != 800 {
		t.Errorf("read back %d results, want 800", len(got))
	}
}

// TestRecordEachAt: the results at chosen positions of Each's order, in the
// order asked, across more than one chunk of decoding; a position outside
// the record is an error, not a wrong row.
func TestRecordEachAt(t *testing.T) { withIndexBounds(t, testRecordEachAt) }

func testRecordEachAt(t *testing.T) {
	path := filepath.Join(t.TempDir(), audit.ResultsFile)
	const n = 600 // more than one chunk
	var results []audit.Result
	for i := range n {
		results = append(results, result("111111111111", "us-east-1", fmt.Sprintf("i-%017d", n-1-i), audit.OutcomeCompliant))
	}
	writeRecord(t, path, results...)
	var all []string
	for _, r := range readAll(t, path) {
		all = append(all, r.InstanceID)
	}
	rs, err := audit.OpenRecords(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	positions := []int{599, 0, 300, 300, 257, 1, 598}
	for i := n - 1; i >= 0; i -= 3 {
		positions = append(positions, i)
	}
	var got []string
	if err := rs.EachAt(slices.Values(positions), func(r audit.Result) error { got = append(got, r.InstanceID); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(positions) {
		t.Fatalf("%d results for %d positions", len(got), len(positions))
	}
	for i, p := range positions {
		if got[i] != all[p] {
			t.Fatalf("position %d gave %s, want %s", p, got[i], all[p])
		}
	}
	for _, bad := range [][]int{{n}, {0, -1}} {
		called := 0
		if err := rs.EachAt(slices.Values(bad), func(audit.Result) error { called++; return nil }); err == nil || called != 0 {
			t.Errorf("EachAt(%v): err %v after %d results, want an error before any", bad, err, called)
		}
	}
}

// TestRecordDoesNotFollowLinks: a link planted at results.jsonl, dangling
// (the record would land wherever it points) or to a file (a resume would
// cut and append to it), is refused with an error that names it.
func TestRecordDoesNotFollowLinks(t *testing.T) {
	for _, existing := range []bool{false, true} {
		dir := t.TempDir()
		victim := filepath.Join(t.TempDir(), "victim")
		if existing {
			os.WriteFile(victim, []byte("precious, no newline"), 0o600)
		}
		path := filepath.Join(dir, audit.ResultsFile)
		os.Symlink(victim, path)
		w, err := audit.CreateRecord(path)
		if err == nil {
			err = w.Write(result("", "us-east-1", "i-00000001", audit.OutcomeCompliant))
			w.Close()
		}
		if err == nil || !strings.Contains(err.Error(), audit.ResultsFile) {
			t.Errorf("existing %v: err = %v, want an error naming the record", existing, err)
		}
		b, statErr := os.ReadFile(victim)
		switch {
		case !existing && statErr == nil:
			t.Errorf("the record was written through a dangling link: %q", b)
		case existing && string(b) != "precious, no newline":
			t.Errorf("the file a link names was changed: %q", b)
		}
	}
}

// TestRecordRefusesLyingOutcomes: a line whose outcome is no outcome
// ("Compliant ", "bogus"), or is not what its own associations make it, is
// not a line auditor writes. It was read as it said: an unknown outcome
// fell into no count (0% non-compliant above a list of failures), and a
// compliant line with a Failed association, or a not_managed one with
// rows, was counted one way and listed another. It is refused, naming the
// line and the value, as any other line that is not a result.
func TestRecordRefusesLyingOutcomes(t *testing.T) {
	const (
		success  = `{"AssociationId":"a-1","Name":"AWS-RunPatchBaseline","Status":"Success","ExecutionDate":"2026-11-24T07:00:00Z"}`
		failed   = `{"AssociationId":"a-2","Name":"AWS-RunPatchBaseline","Status":"Failed","ErrorCode":"1","ExecutionDate":"2026-11-24T07:00:00Z"}`
		pending  = `{"AssociationId":"a-3","Name":"AWS-RunPatchBaseline","Status":"Pending"}`
		allGood  = `"info":{"AssociationOverview":{"InstanceAssociationStatusAggregatedCount":{"Success":3}}}`
		someBad  = `"info":{"AssociationOverview":{"InstanceAssociationStatusAggregatedCount":{"Success":2,"Failed":1}}}`
		triaged  = `"detail":"overview",`
		noAssocs = ``
	)
	line := func(oc, extra string, assocs ...string) string {
		quoted, err := json.Marshal(oc)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf(`{"schema":%d,"region":"us-east-1","instance_id":"i-0123456789abcdef0","outcome":%s,%s"pages":1,"audited_at":"2026-11-24T08:00:00Z","associations":[%s]}`+"\n",
			audit.Schema, quoted, extra, strings.Join(assocs, ","))
	}
	for _, tt := range []struct{ name, line, want string }{
		{"trailing space", line("Compliant ", "", success), `r.jsonl:2: outcome "Compliant ": not an outcome`},
		{"unknown", line("bogus", "", failed), `r.jsonl:2: outcome "bogus": not an outcome`},
		{"escaped", line("compliant\x1b[2J", "", success), `r.jsonl:2: outcome "compliant\x1b[2J": not an outcome`},
		{"compliant with a failure", line("compliant", "", success, failed), `r.jsonl:2: outcome "compliant": its associations make it "noncompliant"`},
		{"noncompliant with none failed", line("noncompliant", "", success), `r.jsonl:2: outcome "noncompliant": its associations make it "compliant"`},
		{"pending with none pending", line("pending", "", success), `r.jsonl:2: outcome "pending": its associations make it "compliant"`},
		{"compliant with a pending", line("compliant", "", success, pending), `r.jsonl:2: outcome "compliant": its associations make it "pending"`},
		{"no_associations with some", line("no_associations", "", success), `r.jsonl:2: outcome "no_associations": its associations make it "compliant"`},
		{"compliant with none", line("compliant", "", noAssocs), `r.jsonl:2: outcome "compliant": its associations make it "no_associations"`},
		{"not_managed with rows", line("not_managed", "", failed), `r.jsonl:2: outcome "not_managed" with 1 association`},
		{"invalid with rows", line("invalid", "", success, failed), `r.jsonl:2: outcome "invalid" with 2 associations`},
		{"triaged with a failure", line("compliant", triaged+someBad+",", noAssocs), `r.jsonl:2: outcome "compliant": its association overview does not make it so`},
		{"triaged with no overview", line("compliant", triaged, noAssocs), `r.jsonl:2: outcome "compliant": its association overview does not make it so`},
		{"triaged noncompliant", line("noncompliant", triaged+someBad+",", noAssocs), `r.jsonl:2: outcome "noncompliant": its association overview does not make it so`},
		{"triaged with rows", line("compliant", triaged+allGood+",", success), `r.jsonl:2: outcome "compliant" with 1 association`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			content := line("compliant", "", success) + tt.line
			path := filepath.Join(t.TempDir(), "r.jsonl")
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := audit.OpenRecords(path)
			var re *audit.ReadError
			if !errors.As(err, &re) || re.Line != 2 || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("OpenRecords err = %v, want a ReadError of line 2 containing %q", err, tt.want)
			}
			if strings.ContainsAny(err.Error(), "\x1b") {
				t.Errorf("the error repeats the value unescaped: %q", err)
			}
			_, err = audit.ReadRecord(strings.NewReader(content), path, func(audit.Result) error { return nil })
			if !errors.As(err, &re) || re.Line != 2 || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ReadRecord err = %v, want a ReadError of line 2 containing %q", err, tt.want)
			}
		})
	}
	// What auditor writes is read: every audited outcome its associations
	// make, the rows of an instance whose audit stopped partway (error),
	// a triaged instance's verdict from its overview, and the outcomes
	// that are no verdict, without rows.
	for _, ok := range []string{
		line("compliant", "", success), line("noncompliant", "", success, failed), line("pending", "", success, pending),
		line("pending", "", `{"AssociationId":"a-4","Status":"SomethingNew"}`), line("no_associations", "", noAssocs),
		line("error", `"error":{"code":"PaginationLoop","message":"NextToken repeated"},`, success, failed),
		line("error", `"error":{"code":"Throttling","message":"Rate exceeded"},`, noAssocs),
		line("not_managed", `"error":{"code":"InvalidInstanceId","message":"not managed"},`, noAssocs),
		line("invalid", `"error":{"code":"Invalid","message":"not an instance ID"},`, noAssocs),
		line("compliant", triaged+allGood+",", noAssocs), line("no_associations", triaged, noAssocs),
		line("no_associations", triaged+`"info":{"PingStatus":"Online"},`, noAssocs),
	} {
		if _, err := audit.ReadRecord(strings.NewReader(ok), "r.jsonl", func(audit.Result) error { return nil }); err != nil {
			t.Errorf("%s: %v", strings.TrimSpace(ok), err)
		}
	}
	// An older auditor kept the rows of the pages before an instance
	// stopped being managed (InvalidInstanceId on a later page): its
	// record is read, without those rows, which are no verdict.
	older := line("not_managed", `"error":{"code":"InvalidInstanceId","message":"not managed"},"calls":2,`, failed)
	var rows []int
	if _, err := audit.ReadRecord(strings.NewReader(older), "r.jsonl", func(r audit.Result) error {
		rows = append(rows, len(r.Associations))
		return nil
	}); err != nil || !slices.Equal(rows, []int{0}) {
		t.Errorf("an older not_managed line with rows: err %v, rows %v, want it read with none", err, rows)
	}
}

// TestTornTailNotOurs: an unterminated last line is taken as the
// auditor's write cut short by a crash, skipped by the readers and cut off
// by CreateRecord. A file another program wrote, of one line with no
// newline, was taken so too: --resume cut it to nothing. A tail that does
// not begin as the auditor's lines do is no torn write of its own: the
// readers refuse it as no result, and CreateRecord leaves the file as it is.
func TestTornTailNotOurs(t *testing.T) {
	good := `{"schema":1,"region":"us-east-1","instance_id":"i-00000001","outcome":"no_associations","associations":[]}` + "\n"
	for _, tc := range []struct {
		name, content string
		ours          bool
	}{
		{"the auditor's, cut", good + `{"schema":1,"region":"us-e`, true},
		{"the auditor's, cut early", good + `{"sch`, true},
		{"one foreign line", `{"level":"info","msg":"started"}`, false},
		{"text", "hello, world", false},
		{"after the auditor's lines", good + "hello", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "results.jsonl")
			if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			rs, err := audit.OpenRecords(path)
			if err == nil {
				rs.Close()
			}
			_, rerr := audit.ReadRecord(strings.NewReader(tc.content), path, func(audit.Result) error { return nil })
			w, cerr := audit.CreateRecord(path)
			if cerr == nil {
				w.Close()
			}
			after, _ := os.ReadFile(path)
			if tc.ours {
				if err != nil || rerr != nil || cerr != nil {
					t.Fatalf("a torn write of the auditor's: OpenRecords %v, ReadRecord %v, CreateRecord %v; want it skipped and cut", err, rerr, cerr)
				}
				return
			}
			if !errors.Is(err, audit.ErrNotResult) || !errors.Is(rerr, audit.ErrNotResult) {
				t.Errorf("OpenRecords: %v; ReadRecord: %v; want both to refuse it as no result", err, rerr)
			}
			if cerr == nil || string(after) != tc.content {
				t.Errorf("CreateRecord: %v, the file now %q; want it refused and the file as it was", cerr, after)
			}
		})
	}
}
