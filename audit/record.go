package audit

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/auditor-dev/auditor/internal/atomicfile"
	"github.com/auditor-dev/auditor/internal/extsort"
	"github.com/auditor-dev/auditor/internal/nowait"
)

// File names inside an output directory.
const (
	ResultsFile = "results.jsonl"
	RunFile     = "run.json"
)

// maxLine bounds one results.jsonl line: an instance with thousands of
// associations of long summaries still fits, and a corrupt file cannot make
// the reader allocate without limit.
const maxLine = 256 << 20

// RecordWriter appends Results to a results.jsonl file, one complete line per
// Write, so that a reader (or a resumed run after kill -9) never sees half a
// line except at the very end. It is safe for concurrent use.
//
// Write returns once its line is written, not once it is on disk: a
// goroutine of the writer syncs the file at most once every syncInterval,
// every line written until then at once (group commit), so that the
// workers neither wait for fsync nor pay one each. A crash of the machine
// (not of the process: the kernel keeps what was written) loses at most the
// lines of the last interval, which a resumed run audits again. A sync that
// fails is returned by the next Write, by Sync and by Close. Sync and Close
// return once every line written before them is on disk.
type RecordWriter struct {
	mu     sync.Mutex // guards f, its offset, n, err and closed
	path   string
	f      *os.File // nil until the first Write when the file did not exist
	n      int
	synced int   // lines known to be on disk; written holding syncMu and mu
	err    error // the first sync that failed; every later call returns it
	closed bool
	// torn counts the torn last lines CreateRecord cut off.
	torn int
	// start is where the file ended once opened; created, whether it did
	// not exist then (Discard).
	start   int64
	created bool

	syncMu   sync.Mutex // one sync at a time
	dirty    chan struct{}
	stop     chan struct{}
	stopped  chan struct{}
	syncFile func(f *os.File, written int) error // f.Sync, or a test's
}

// syncInterval is the least time between two syncs of the record.
const syncInterval = 100 * time.Millisecond

func newRecordWriter(path string, f *os.File) *RecordWriter {
	w := &RecordWriter{path: path, f: f, dirty: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{}),
		syncFile: func(f *os.File, _ int) error { return f.Sync() }}
	go w.syncLoop()
	return w
}

// CreateRecord opens path for appending. When the file ends in a torn line
// (a crash mid-write), the torn part is cut off first so that the next line
// starts cleanly, and Torn counts it. A file that does not exist is created by the first Write,
// so that a run that records nothing (stopped by a fatal error at its first
// call, say) leaves no empty record behind.
func CreateRecord(path string) (*RecordWriter, error) {
	f, err := atomicfile.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		w := newRecordWriter(path, nil)
		w.created = true
		return w, nil
	}
	if err != nil {
		return nil, err
	}
	end, err := cleanEnd(f)
	torn := false
	if err == nil {
		// As OpenRecords counts it: a tail of spaces is no line.
		torn, err = printable(f, end)
	}
	if err == nil && torn {
		// Cut only a write of the auditor's own: another program's
		// text is not the auditor's to cut.
		head := make([]byte, len(recordLinePrefix))
		n, rerr := f.ReadAt(head, end)
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			err = rerr
		} else if !tornOurs(head[:n]) {
			err = fmt.Errorf("%w: its unterminated last line is no line of the auditor's, and is not cut: move the file away, or choose another --out", ErrNotResult)
		}
	}
	if err == nil {
		err = f.Truncate(end)
	}
	if err == nil {
		_, err = f.Seek(end, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("opening record %s: %w", path, err)
	}
	w := newRecordWriter(path, f)
	w.start = end
	if torn {
		w.torn = 1
	}
	return w, nil
}

// printable reports whether f holds anything but white space from off to
// its end.
func printable(f *os.File, off int64) (bool, error) {
	buf := make([]byte, 64<<10)
	for {
		n, err := f.ReadAt(buf, off)
		if len(bytes.TrimSpace(buf[:n])) > 0 {
			return true, nil
		}
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		off += int64(n)
	}
}

// Torn returns how many torn last lines CreateRecord cut off the record (0
// or 1): a reader of the record afterwards finds none, and must be told.
func (w *RecordWriter) Torn() int { return w.torn }

// cleanEnd returns the offset just past the last newline of f (0 if none).
func cleanEnd(f *os.File) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := st.Size()
	buf := make([]byte, 64<<10)
	for end := size; end > 0; {
		start := max(0, end-int64(len(buf)))
		n, err := f.ReadAt(buf[:end-start], start)
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return start + int64(i) + 1, nil
		}
		end = start
	}
	return 0, nil
}

// EncodeResult writes r to w as one results.jsonl line, newline included,
// with the current Schema, and each output URL as Association.URL gives
// it: a credential in a presigned URL reaches no record, which is
// uploaded with the reports (r itself is not changed).
func EncodeResult(w io.Writer, r Result) error {
	r.Schema = Schema
	if r.Associations == nil {
		r.Associations = []Association{}
	}
	r.Associations = withoutCredentialURLs(r.Associations)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("encoding result of %s: %w", r.InstanceID, err)
	}
	return nil
}

// Write appends r as one line; the line is on disk within syncInterval
// (see RecordWriter).
func (w *RecordWriter) Write(r Result) error {
	var buf bytes.Buffer
	if err := EncodeResult(&buf, r); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.err != nil:
		return w.err
	case w.closed:
		return fmt.Errorf("writing %s: %w", w.path, os.ErrClosed)
	}
	var err error
	if w.f == nil {
		w.f, err = atomicfile.OpenFile(w.path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o666)
	}
	if err == nil {
		_, err = w.f.Write(buf.Bytes())
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", w.path, err)
	}
	w.n++
	select {
	case w.dirty <- struct{}{}:
	default: // a sync is due already
	}
	return nil
}

// syncLoop syncs the file when lines wait, at most once every syncInterval,
// until Close.
func (w *RecordWriter) syncLoop() {
	defer close(w.stopped)
	pause := time.NewTimer(0)
	defer pause.Stop()
	for {
		select {
		case <-w.dirty:
		case <-w.stop:
			return
		}
		w.syncNow()
		pause.Reset(syncInterval)
		select {
		case <-pause.C:
		case <-w.stop:
			return
		}
	}
}

// syncNow syncs every line written so far, unless a sync already covered
// them, and returns the first sync error.
func (w *RecordWriter) syncNow() error {
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	w.mu.Lock()
	upto, f, err := w.n, w.f, w.err
	w.mu.Unlock()
	if err != nil || f == nil || w.synced >= upto {
		return err
	}
	if err := w.syncFile(f, upto); err != nil {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.err == nil {
			w.err = fmt.Errorf("syncing %s: %w", w.path, err)
		}
		return w.err
	}
	w.mu.Lock()
	w.synced = upto
	w.mu.Unlock()
	return nil
}

// Sync returns once every line written before it is on disk, or the first
// sync that failed.
func (w *RecordWriter) Sync() error { return w.syncNow() }

// Written returns how many results this writer has appended.
func (w *RecordWriter) Written() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

// Close syncs what is left and closes the file, if one was opened; it
// returns the first write or sync that failed. A second Close returns nil.
func (w *RecordWriter) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	w.mu.Unlock()
	close(w.stop)
	<-w.stopped
	err := w.syncNow()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return err
	}
	return errors.Join(err, w.f.Close())
}

// Discard closes the record and takes back every line this writer
// appended: the file is cut back to where it ended once opened, or removed
// when this writer created it. It is for a run that audited nothing (its
// lines are invalid lines and errors, which a run again writes anew), so
// that the run again is not refused as the continuation of a record.
func (w *RecordWriter) Discard() error {
	err := w.Close()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.n == 0 {
		return err
	}
	var undo error
	if w.created {
		undo = os.Remove(w.path)
	} else if f, err := atomicfile.OpenFile(w.path, os.O_RDWR, 0); err != nil {
		undo = err
	} else {
		undo = errors.Join(f.Truncate(w.start), f.Sync(), f.Close())
	}
	if undo != nil {
		return errors.Join(err, fmt.Errorf("taking back the lines of %s: %w", w.path, undo))
	}
	w.n = 0
	return nil
}

// ReadError is a line of a record that could not be read.
type ReadError struct {
	Path string
	Line int
	Err  error
}

func (e *ReadError) Error() string {
	return fmt.Sprintf("%s:%d: %v", e.Path, e.Line, e.Err)
}

func (e *ReadError) Unwrap() error { return e.Err }

// ErrNotResult is wrapped by the *ReadError of a line that is no result of
// any version of the auditor: not JSON, or JSON without a result's head
// (instance_id and outcome), as another program's JSON-lines log is. A
// result of another schema is not one: another version of the auditor
// wrote it.
var ErrNotResult = errors.New("not a result")

// recordLinePrefix begins every line EncodeResult writes, and has in every
// version: Schema is Result's first field.
const recordLinePrefix = `{"schema":`

// tornOurs reports whether b, the start of an unterminated last line, may
// be a line of the auditor's cut short by a crash: it begins as each does,
// or is the start of that beginning.
func tornOurs(b []byte) bool {
	return bytes.HasPrefix(b, []byte(recordLinePrefix)) || bytes.HasPrefix([]byte(recordLinePrefix), b)
}

// errTornNotOurs is the error of an unterminated last line that is no
// torn write of the auditor's (tornOurs).
var errTornNotOurs = fmt.Errorf("%w: an unterminated last line that is no line of the auditor's", ErrNotResult)

// ReadRecord calls fn for every result of a results.jsonl stream, in file
// order. A last line with no newline that begins as the auditor's lines do
// is a write torn by a crash: it is skipped and counted in torn; any other
// is no result. Any other line that is not a result of a known schema
// is a *ReadError naming the line. name is used in errors only.
func ReadRecord(r io.Reader, name string, fn func(Result) error) (torn int, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	for line := 1; ; line++ {
		b, err := readLine(br)
		if errors.Is(err, io.EOF) {
			if len(bytes.TrimSpace(b)) > 0 {
				if !tornOurs(b) {
					return 0, &ReadError{name, line, errTornNotOurs}
				}
				return 1, nil
			}
			return 0, nil
		}
		if err != nil {
			return 0, &ReadError{name, line, err}
		}
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		res, err := decodeResult(b)
		if err != nil {
			return 0, &ReadError{name, line, err}
		}
		if err := fn(res); err != nil {
			return 0, err
		}
	}
}

// readLine returns one line without its newline; io.EOF with the bytes of an
// unterminated last line.
func readLine(br *bufio.Reader) ([]byte, error) {
	var long []byte
	for {
		b, err := br.ReadSlice('\n')
		switch {
		case err == nil:
			if long != nil {
				return append(long, b[:len(b)-1]...), nil
			}
			return b[:len(b)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			long = append(long, b...)
			if len(long) > maxLine {
				return nil, fmt.Errorf("line longer than %d bytes", maxLine)
			}
		default:
			return append(long, b...), err
		}
	}
}

// decodeResult reads one line of a record. A tag's value (a label
// TagLabelPrefix names) or an account's name (AccountNameLabel) that
// ValidLabel refuses is read as EscapeLabel writes it (see EscapeRefused):
// an older auditor wrote them as they were served, and a report rendered
// from its record would carry their terminal escapes and unseen
// characters. A list's label is read as it is: the list is the user's own,
// and its text is what the CSV and JSON reports keep exactly.
func decodeResult(b []byte) (Result, error) {
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		if bytes.HasPrefix(b, []byte(`{"schema":`)) {
			// A line of the auditor's, as EncodeResult begins each,
			// cut short or altered (a value of another type): a
			// damaged record, not another program's file.
			return r, fmt.Errorf("damaged: %w", err)
		}
		return r, fmt.Errorf("%w: %w", ErrNotResult, err)
	}
	for k, v := range r.Labels {
		if k == AccountNameLabel || strings.HasPrefix(k, TagLabelPrefix) {
			r.Labels[k] = EscapeRefused(v)
		}
	}
	if err := checkHead(r.Schema, r.InstanceID, r.Outcome); err != nil {
		return r, err
	}
	return r, checkOutcome(&r)
}

func checkHead(schema int, id string, oc Outcome) error {
	// A line with no schema and no result's head is no auditor's at all
	// (another tool's JSON lines, a log): not "another version".
	if schema == 0 && (id == "" || oc == "") {
		return fmt.Errorf("%w: no instance_id or outcome", ErrNotResult)
	}
	if schema != Schema {
		return fmt.Errorf("schema %d, want %d (written by another version of auditor)", schema, Schema)
	}
	if id == "" || oc == "" {
		return fmt.Errorf("%w: no instance_id or outcome", ErrNotResult)
	}
	// An invalid input line keeps the list's text, whatever it is; every
	// other result is of an instance SSM was asked about, or listed. A
	// look-alike (a zero-width space, a right-to-left override, a terminal
	// escape) would count as an instance of its own beside the real one.
	if oc != OutcomeInvalid && !apiIDShape(id) {
		return fmt.Errorf("instance_id %s: not an instance ID (want i- followed by 8 or 17 letters or digits, or mi- followed by 17), so not a line auditor writes: remove it, or name the run's own record", quoteValue(id))
	}
	return nil
}

// checkOutcome refuses a result whose outcome is none of Outcomes(), or is
// not the one the line itself gives the grounds for: reports count an
// instance by its outcome and list its rows, and a line that says one thing
// and shows another would be counted one way and listed another. An
// audited outcome is what Judge makes of the associations, or for a
// triaged instance (DetailOverview, no rows) what Session.triaged makes of
// its overview; an instance in error keeps the rows of the pages that came
// before it stopped; not_managed and invalid are no verdict, and have none.
// An older auditor kept the rows of the pages before an InvalidInstanceId
// (an instance deregistered between two pages): such a line is read as
// the auditor now writes it, without them. It costs one pass over rows
// already decoded.
func checkOutcome(r *Result) error {
	const notOurs = "so not a line auditor writes: remove it, or name the run's own record"
	oc := r.Outcome
	if oc == OutcomeNotManaged && r.Pages > 0 && r.Error != nil && r.Error.Code == CodeInvalidInstanceID {
		r.Associations = nil
	}
	switch {
	case !slices.Contains(Outcomes(), oc):
		return fmt.Errorf("outcome %s: not an outcome (want one of %s), %s", quoteValue(string(oc)), outcomeNames, notOurs)
	case oc == OutcomeError:
		return nil
	case len(r.Associations) > 0 && (!oc.Audited() || r.Detail == DetailOverview):
		return fmt.Errorf("outcome %s with %s: %s, %s", quoteValue(string(oc)), plural(int64(len(r.Associations)), "association"),
			rowlessWhy(r), notOurs)
	case !oc.Audited():
		return nil
	case r.Detail == DetailOverview:
		if oc != overviewOutcome(r.Info) {
			return fmt.Errorf("outcome %s: its association overview does not make it so (detail %q: compliant when every association it counts succeeded, no_associations when it counts none), %s",
				quoteValue(string(oc)), DetailOverview, notOurs)
		}
	case oc != Judge(r.Associations):
		return fmt.Errorf("outcome %s: its associations make it %s, %s", quoteValue(string(oc)), quoteValue(string(Judge(r.Associations))), notOurs)
	}
	return nil
}

// outcomeNames lists Outcomes() for messages.
var outcomeNames = func() string {
	names := make([]string, 0, len(Outcomes()))
	for _, oc := range Outcomes() {
		names = append(names, string(oc))
	}
	return strings.Join(names, ", ")
}()

// rowlessWhy says why a result of r's kind has no associations.
func rowlessWhy(r *Result) string {
	switch {
	case r.Detail == DetailOverview:
		return "an instance triaged from its association overview has none"
	case r.Outcome == OutcomeInvalid:
		return "a line of the list that is not an instance ID was never sent, and has none"
	}
	return "an instance SSM does not manage has none"
}

// overviewOutcome is the outcome a triaged instance is recorded with from
// its overview (see Session.triaged): compliant when every association it
// counts succeeded, no_associations when it counts none, and "" (the
// instance is fetched, not triaged) otherwise.
func overviewOutcome(info *InstanceInfo) Outcome {
	var o *AssociationOverview
	if info != nil {
		o = info.AssociationOverview
	}
	if o.AllSucceeded() {
		return OutcomeCompliant
	}
	if o != nil {
		for _, n := range o.InstanceAssociationStatusAggregatedCount {
			if n > 0 {
				return ""
			}
		}
	}
	return OutcomeNoAssociations
}

// Records is a read-only view of one or more results.jsonl files, merged by
// instance and sorted by Key. Where a key appears more than once (a resumed
// run that retried an error, or shards that overlap), the later line wins,
// and among files the later file wins. It never holds the associations, and
// its index of where each instance's line is stays in memory only up to
// 65,536 instances: past that, the index is sorted and kept in temporary
// files, so that memory stays the same whatever the fleet's size.
// Records is not safe for concurrent use.
type Records struct {
	files []*os.File
	n     int
	// locs is the index in key order when it fits in memory; index holds
	// it otherwise, locSize bytes an instance.
	locs     []loc
	index    *os.File
	tmpDir   string
	outcomes map[Outcome]int
	// Torn counts unterminated last lines that were skipped.
	Torn int
	// Partial says the record may lack some of its run's targets (the run
	// was stopped, interrupted, or could not audit an account-region):
	// Compare then says nothing of an instance it lacks.
	Partial bool
	// Scope is what the record covers: its run's parts (RunInfo.Parts, set
	// by RunInfo.Settle; nil when unknown). Compare leaves out, and counts,
	// an instance outside the shards that either record covers.
	Scope []Part
	// accounts are the accounts its instances name, invalid lines aside:
	// the first two found.
	accounts []string
	// accountless and named say whether some instance names no account,
	// and some names one.
	accountless, named bool
	// Overlap counts, for OpenMerged, the instances found in the records
	// of more than one group, once for each group past the first.
	Overlap int
	groups  []string
	// inputs are what each file holds on its own (Input).
	inputs []Input
	// attempts are, for each file, the attempts' starts of the run that
	// wrote it (SetAttempts); nil when not known.
	attempts [][]time.Time
}

// Input is what one of the files of a Records holds on its own, torn last
// line aside: what its run.json must describe (RunInfo.Mismatch).
type Input struct {
	// Instances counts its distinct results, as Len does: an instance it
	// holds twice (a resumed run that retried it) counts once.
	Instances int
	// Kept counts those of its results that the merged record keeps: the
	// instances no later file holds (the later file wins). It is 0 for a
	// file whose every result a later one replaces.
	Kept int
	// Accounts are the accounts its results name, sorted, each once,
	// invalid lines aside; Accountless says some result names none.
	Accounts    []string
	Accountless bool
	// Attempts are the attempts' starts its results name
	// (Result.AttemptStartedAt), sorted, each once: up to maxInputAttempts
	// of them, which is more than a run makes; lines that name none add
	// none.
	Attempts []time.Time
}

// maxInputAttempts bounds Input.Attempts: a record edited by hand may name
// a start a line, and the first few of them are enough to tell another
// run's.
const maxInputAttempts = 64

// Input returns what the i-th file given to OpenMerged (or OpenRecords)
// holds on its own. The slice is the caller's.
func (rs *Records) Input(i int) Input {
	in := rs.inputs[i]
	in.Accounts = slices.Clone(in.Accounts)
	in.Attempts = slices.Clone(in.Attempts)
	return in
}

// SoleAccount returns the account that every instance of the record names
// ("" for a run that could not learn its account), invalid lines aside;
// false when they name several, or there is none.
func (rs *Records) SoleAccount() (string, bool) {
	if len(rs.accounts) != 1 {
		return "", false
	}
	return rs.accounts[0], true
}

// NamesNoAccount reports whether a result of the record, other than an
// invalid row, names no account: one written when the caller's account
// could not be learnt. Known from the index, without reading the record.
func (rs *Records) NamesNoAccount() bool { return rs.accountless }

// Unattributed counts the instances that the record (a merge) holds twice:
// once without an account, from a run that could not learn its account,
// and once with one, from a run that could. Instance IDs are unique, so
// that they are the same instances, and each would count as two. It reads
// the record only when it holds both kinds.
func (rs *Records) Unattributed() (int, error) {
	if !rs.accountless || !rs.named {
		return 0, nil
	}
	type site struct{ region, id string }
	without := map[site]bool{}
	var named []site
	err := rs.Each(func(r Result) error {
		switch {
		case r.Outcome == OutcomeInvalid:
		case r.AccountID == "":
			without[site{r.Region, r.InstanceID}] = true
		default:
			named = append(named, site{r.Region, r.InstanceID})
		}
		return nil
	})
	n := 0
	for _, s := range named {
		if without[s] {
			n++
			delete(without, s) // once however many accounts name it
		}
	}
	return n, err
}

// indexInMemory is how many instances a record holds its index for in
// memory: about 7 MB while sorting, 1 MB once sorted. A variable so that
// tests can make every record spill.
var indexInMemory = 1 << 16

// entry is a line of the record while the index is sorted.
type entry struct {
	key Key
	// when is the line's position in read order, for "later wins".
	when    int
	outcome Outcome
	loc
}

// loc is where a line is: file, offset and length (no newline).
type loc struct {
	off       int64
	file, len int32
}

const locSize = 16

func compareEntries(a, b entry) int {
	switch {
	case a.key.Less(b.key):
		return -1
	case b.key.Less(a.key):
		return 1
	}
	return cmp.Compare(a.when, b.when)
}

var entryCodec = extsort.Codec[entry]{
	Append: func(b []byte, e entry) []byte {
		for _, s := range []string{e.key.AccountID, e.key.Region, e.key.InstanceID, string(e.outcome)} {
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		}
		b = binary.AppendUvarint(b, uint64(e.when))
		b = binary.AppendUvarint(b, uint64(e.off))
		b = binary.AppendUvarint(b, uint64(e.file))
		return binary.AppendUvarint(b, uint64(e.len))
	},
	Read: func(r *bufio.Reader) (entry, error) {
		var strs [4]string
		var nums [4]uint64
		for i := range strs {
			n, err := binary.ReadUvarint(r)
			if err != nil {
				if i == 0 && err == io.EOF {
					return entry{}, io.EOF
				}
				return entry{}, noEOF(err)
			}
			if n > maxLine {
				return entry{}, fmt.Errorf("index entry of %d bytes", n)
			}
			b := make([]byte, n)
			if _, err := io.ReadFull(r, b); err != nil {
				return entry{}, noEOF(err)
			}
			strs[i] = string(b)
		}
		for i := range nums {
			n, err := binary.ReadUvarint(r)
			if err != nil {
				return entry{}, noEOF(err)
			}
			nums[i] = n
		}
		return entry{
			key:     Key{AccountID: strs[0], Region: strs[1], InstanceID: strs[2]},
			outcome: Outcome(strs[3]),
			when:    int(nums[0]),
			loc:     loc{off: int64(nums[1]), file: int32(nums[2]), len: int32(nums[3])},
		}, nil
	},
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// OpenRecords indexes the given results.jsonl files. The error names the file
// and line of the first line that is not a result. An index too large for
// memory goes to the system's temporary directory.
func OpenRecords(paths ...string) (*Records, error) { return OpenRecordsIn("", paths...) }

// OpenRecordsIn is OpenRecords with the index's temporary files in tmpDir
// ("" for the system's). Its files are removed as soon as they are opened
// where the system allows it, and by Close otherwise.
func OpenRecordsIn(tmpDir string, paths ...string) (*Records, error) {
	return OpenMerged(tmpDir, nil, paths...)
}

// OpenMerged is OpenRecordsIn for records that come in groups, groups[i]
// that of paths[i] (nil: one group): the records of one target list (its
// runs, its shards). An instance in the records of several groups was a
// target of each list; Records.Overlap counts them, so that a merge of
// lists that share instances counts each once.
func OpenMerged(tmpDir string, groups []string, paths ...string) (*Records, error) {
	if groups != nil && len(groups) != len(paths) {
		return nil, fmt.Errorf("indexing: %d groups for %d records", len(groups), len(paths))
	}
	rs := &Records{outcomes: map[Outcome]int{}, tmpDir: tmpDir, groups: groups, inputs: make([]Input, len(paths))}
	// The index holds an entry an instance and nothing else: its account,
	// region and outcome are the few strings of the record, held once;
	// duplicates are found by sorting, not in a map beside the entries.
	var names stringPool
	sorter := extsort.New(indexInMemory, tmpDir, compareEntries, entryCodec)
	defer sorter.Close()
	when := 0
	for fi, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			rs.Close()
			return nil, err
		}
		rs.files = append(rs.files, f)
		in := &rs.inputs[fi]
		br := bufio.NewReaderSize(f, 256<<10)
		var off int64
		for line := 1; ; line++ {
			b, err := readLine(br)
			n := int64(len(b))
			if errors.Is(err, io.EOF) {
				if len(bytes.TrimSpace(b)) > 0 {
					if !tornOurs(b) {
						rs.Close()
						return nil, &ReadError{p, line, errTornNotOurs}
					}
					rs.Torn++
				}
				break
			}
			if err != nil {
				rs.Close()
				return nil, &ReadError{p, line, err}
			}
			if len(bytes.TrimSpace(b)) > 0 {
				// The whole line is decoded, so that a bad one is named
				// here, with its line, rather than later by offset.
				res, err := decodeResult(b)
				if err != nil {
					rs.Close()
					return nil, &ReadError{p, line, err}
				}
				k := indexKey(res)
				k.AccountID, k.Region = names.of(k.AccountID), names.of(k.Region)
				switch {
				case res.Outcome == OutcomeInvalid:
				case k.AccountID == "":
					in.Accountless = true
				case !slices.Contains(in.Accounts, k.AccountID):
					in.Accounts = append(in.Accounts, k.AccountID)
				}
				if at := res.AttemptStartedAt; !at.IsZero() && len(in.Attempts) < maxInputAttempts &&
					!slices.ContainsFunc(in.Attempts, at.Equal) {
					in.Attempts = append(in.Attempts, at)
				}
				e := entry{key: k, when: when, outcome: Outcome(names.of(string(res.Outcome))), loc: loc{file: int32(fi), off: off, len: int32(n)}}
				if err := sorter.Add(e); err != nil {
					rs.Close()
					return nil, fmt.Errorf("indexing %s: %w", p, err)
				}
				when++
			}
			off += n + 1
		}
		slices.Sort(in.Accounts)
		slices.SortFunc(in.Attempts, time.Time.Compare)
	}
	if err := rs.keepLast(sorter); err != nil {
		rs.Close()
		return nil, err
	}
	return rs, nil
}

// keepLast builds the index from the sorted entries: the last of each run
// of entries with one key, as they come.
func (rs *Records) keepLast(sorter *extsort.Sorter[entry]) error {
	var w *bufio.Writer
	var buf [locSize]byte
	add := func(e entry) error {
		rs.n++
		rs.inputs[e.file].Kept++
		rs.outcomes[e.outcome]++
		if e.outcome != OutcomeInvalid {
			if e.key.AccountID == "" {
				rs.accountless = true
			} else {
				rs.named = true
			}
		}
		if e.outcome != OutcomeInvalid && len(rs.accounts) < 2 && !slices.Contains(rs.accounts, e.key.AccountID) {
			rs.accounts = append(rs.accounts, e.key.AccountID)
		}
		if rs.index == nil && len(rs.locs) < indexInMemory {
			rs.locs = append(rs.locs, e.loc)
			return nil
		}
		if rs.index == nil {
			f, err := extsort.TempFile(rs.tmpDir, "auditor-index-")
			if err != nil {
				return fmt.Errorf("indexing: %w", err)
			}
			rs.index, w = f, bufio.NewWriterSize(f, 64<<10)
			for _, l := range rs.locs {
				w.Write(appendLoc(buf[:0], l)) // an error stays in w for the next Write
			}
			rs.locs = nil
		}
		if _, err := w.Write(appendLoc(buf[:0], e.loc)); err != nil {
			return fmt.Errorf("indexing: %w: writing %s: %w", extsort.ErrScratch, rs.index.Name(), err)
		}
		return nil
	}
	var prev entry
	have := false
	var in []string // the groups of the key's entries so far
	for e, err := range sorter.Sorted() {
		if err != nil {
			return fmt.Errorf("indexing: %w", err)
		}
		if have && prev.key != e.key {
			if err := add(prev); err != nil {
				return err
			}
			rs.Overlap += max(len(in)-1, 0)
			in = in[:0]
		}
		if rs.groups != nil && !slices.Contains(in, rs.groups[e.file]) {
			in = append(in, rs.groups[e.file])
		}
		// A key's entries come in read order, so each file's together:
		// the file's first entry of the key counts it once.
		if !have || prev.key != e.key || prev.file != e.file {
			rs.inputs[e.file].Instances++
		}
		prev, have = e, true
	}
	rs.Overlap += max(len(in)-1, 0)
	if have {
		if err := add(prev); err != nil {
			return err
		}
	}
	if w != nil {
		if err := w.Flush(); err != nil {
			return fmt.Errorf("indexing: %w: writing %s: %w", extsort.ErrScratch, rs.index.Name(), err)
		}
	}
	rs.locs = slices.Clip(rs.locs)
	return nil
}

func appendLoc(b []byte, l loc) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(l.off))
	b = binary.LittleEndian.AppendUint32(b, uint32(l.file))
	return binary.LittleEndian.AppendUint32(b, uint32(l.len))
}

func readLoc(b []byte) loc {
	return loc{
		off:  int64(binary.LittleEndian.Uint64(b)),
		file: int32(binary.LittleEndian.Uint32(b[8:])),
		len:  int32(binary.LittleEndian.Uint32(b[12:])),
	}
}

// indexKey is the identity of a result in the index: its Key, except that
// invalid input lines are told apart by where they were read, since two bad
// lines with the same text are two problems, not one instance seen twice.
func indexKey(r Result) Key {
	k := r.Key()
	if r.Outcome == OutcomeInvalid {
		k.InstanceID += "\x00" + r.Source
	}
	return k
}

// Len returns the number of distinct instances.
func (rs *Records) Len() int { return rs.n }

// Outcomes counts the instances per outcome, every audit.Outcomes() entry
// present, without reading the results again.
func (rs *Records) Outcomes() map[Outcome]int {
	m := make(map[Outcome]int, len(Outcomes()))
	for _, oc := range Outcomes() {
		m[oc] = 0
	}
	for oc, n := range rs.outcomes {
		m[oc] += n
	}
	return m
}

// SetAttempts gives the attempts' starts of the run that wrote the i-th
// record (RunInfo.AttemptStarts), so that each result of it that does not
// say which attempt read it (Result.AttemptStartedAt: a line written by a
// release that did not keep it) is given the one that did (AttemptAt):
// read beside the records of other runs, as in a merge of shards, it is
// judged from its own run's starts, not theirs. Call it before reading.
func (rs *Records) SetAttempts(i int, starts []time.Time) {
	if rs.attempts == nil {
		rs.attempts = make([][]time.Time, len(rs.files))
	}
	rs.attempts[i] = starts
}

// AttemptAt returns the start of the attempt, among starts (sorted), that
// read a result at t: the latest not after it, or the first when t is
// before them all (clocks apart); zero when there are none or t is zero.
func AttemptAt(starts []time.Time, t time.Time) time.Time {
	if len(starts) == 0 || t.IsZero() {
		return time.Time{}
	}
	i, found := slices.BinarySearchFunc(starts, t, time.Time.Compare)
	if found {
		return starts[i]
	}
	return starts[max(i-1, 0)]
}

// Each calls fn for every result, sorted by Key, reading one line at a time.
// It stops at the first error fn returns.
func (rs *Records) Each(fn func(Result) error) error {
	var br *bufio.Reader
	if rs.index != nil {
		br = bufio.NewReaderSize(io.NewSectionReader(rs.index, 0, int64(rs.n)*locSize), 64<<10)
	}
	var b [locSize]byte
	i := 0
	return rs.each(func() (loc, bool, error) {
		if i >= rs.n {
			return loc{}, false, nil
		}
		i++
		if br == nil {
			return rs.locs[i-1], true, nil
		}
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return loc{}, false, fmt.Errorf("records: reading the index: %w", err)
		}
		return readLoc(b[:]), true, nil
	}, fn)
}

// EachAt calls fn with the results at the given positions, in that order:
// a position is the result's place in Each's order, 0 to Len()-1. It lets
// a caller that must sort the instances keep only their positions. A
// position outside the record is an error, returned before fn sees any
// result of the chunk of lines that holds it.
func (rs *Records) EachAt(positions iter.Seq[int], fn func(Result) error) error {
	next, stop := iter.Pull(positions)
	defer stop()
	var b [locSize]byte
	return rs.each(func() (loc, bool, error) {
		p, ok := next()
		if !ok {
			return loc{}, false, nil
		}
		if p < 0 || p >= rs.n {
			return loc{}, false, fmt.Errorf("records: position %d out of 0..%d", p, rs.n-1)
		}
		if rs.index == nil {
			return rs.locs[p], true, nil
		}
		if _, err := rs.index.ReadAt(b[:], int64(p)*locSize); err != nil {
			return loc{}, false, fmt.Errorf("records: reading the index: %w", err)
		}
		return readLoc(b[:]), true, nil
	}, fn)
}

// each calls fn with the results at the lines next gives, in that order.
func (rs *Records) each(next func() (loc, bool, error), fn func(Result) error) error {
	// Decoding JSON is most of the cost of every pass over a record, so
	// lines are read a chunk at a time and the chunk is decoded on every
	// core before fn sees its results, in order.
	workers := min(runtime.GOMAXPROCS(0), 8)
	results := make([]Result, eachChunk)
	errs := make([]error, eachChunk)
	chunk := make([]loc, 0, eachChunk)
	var raw [][]byte
	for done := false; !done; {
		chunk = chunk[:0]
		// A chunk of large lines (instances of thousands of
		// associations) is cut by its bytes too, so that memory stays
		// flat whatever a line holds.
		for size := 0; len(chunk) < eachChunk && size < eachChunkBytes; {
			l, ok, err := next()
			if err != nil {
				return err
			}
			if !ok {
				done = true
				break
			}
			chunk = append(chunk, l)
			size += int(l.len)
		}
		raw = raw[:0]
		for _, e := range chunk {
			b := make([]byte, e.len)
			f := rs.files[e.file]
			if _, err := f.ReadAt(b, e.off); err != nil {
				return fmt.Errorf("reading %s at %d: %w", f.Name(), e.off, err)
			}
			raw = append(raw, b)
		}
		var wg sync.WaitGroup
		for w := range min(workers, len(chunk)) {
			wg.Go(func() {
				for k := w; k < len(chunk); k += workers {
					results[k], errs[k] = decodeResult(raw[k])
				}
			})
		}
		wg.Wait()
		for k, e := range chunk {
			if errs[k] != nil {
				return fmt.Errorf("reading %s at %d: %w", rs.files[e.file].Name(), e.off, errs[k])
			}
			if r := &results[k]; r.AttemptStartedAt.IsZero() && int(e.file) < len(rs.attempts) {
				r.AttemptStartedAt = AttemptAt(rs.attempts[e.file], r.AuditedAt)
			}
			if err := fn(results[k]); err != nil {
				return err
			}
			results[k] = Result{}
		}
	}
	return nil
}

// eachChunk is how many lines Each decodes at once, at most, and
// eachChunkBytes how many of their bytes, after the line that passes it.
const (
	eachChunk      = 256
	eachChunkBytes = 8 << 20
)

// Close closes the files and removes the index's.
func (rs *Records) Close() error {
	var errs []error
	for _, f := range rs.files {
		errs = append(errs, f.Close())
	}
	if rs.index != nil {
		errs = append(errs, rs.index.Close())
		if err := os.Remove(rs.index.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	rs.files, rs.index, rs.locs = nil, nil, nil
	return errors.Join(errs...)
}

// RunInfo is run.json: the metadata of one run.
type RunInfo struct {
	Schema    int       `json:"schema"`
	Version   string    `json:"version"`
	StartedAt time.Time `json:"started_at"`
	EndedAt   time.Time `json:"ended_at"`
	// Attempts are the starts of the run's attempts, sorted, the first
	// (StartedAt) included: one for a run that was not resumed, one more
	// for each --resume, and the union of its inputs' for a merge. Nil in
	// a run.json written before they were kept, which stands for one
	// attempt started at StartedAt (see AttemptStarts). Each result is
	// judged stale from the start of the attempt that read it.
	Attempts []time.Time `json:"attempts,omitempty"`
	// Complete is true when every target has a result that is not an error
	// and the run was not interrupted.
	Complete    bool `json:"complete"`
	Interrupted bool `json:"interrupted"`
	// Resumed counts the results that were taken from an earlier run's record.
	Resumed int `json:"resumed,omitempty"`
	// Options are the settings the run used, without secrets: a resumed
	// run's last attempt's, which the next --resume compares with.
	Options map[string]any `json:"options"`
	// EarlierOptions are, for a resumed run, the values of options that
	// its earlier attempts ran with and its last did not (Options), each
	// once, in the order they were first run with; null for an attempt
	// without the option. Resume is not among them, which differs by
	// nature, nor are the options of an attempt killed before its
	// run.json, which none kept. endpoint_url and endpoint_from are kept
	// as pairs: the i-th of each goes with the i-th of the other, null
	// where an attempt named no endpoint. Nil when every attempt known ran
	// with the last's options. See RunInfo.Resumes, which keeps them.
	EarlierOptions map[string][]any `json:"earlier_options,omitempty"`
	// Targets counts distinct targets; Duplicates the input lines collapsed
	// into them; Invalid the bad input lines.
	Targets    int             `json:"targets"`
	Duplicates int             `json:"duplicates"`
	Invalid    int             `json:"invalid"`
	Outcomes   map[Outcome]int `json:"outcomes"`
	Stats      Stats           `json:"stats"`
	// Error is the reason a run stopped early (fatal errors), if any.
	Error string `json:"error,omitempty"`
	// Parts are the target lists the record covers (see Part); Targets,
	// Duplicates and Invalid are their sums.
	Parts []Part `json:"parts,omitempty"`
	// WholeParts, in a merge's run.json, are those of Parts whose results
	// it holds whole: the last input that brought each was neither
	// interrupted nor stopped, and had every account-region audited (its
	// error results aside, which the record keeps). A merge merged again
	// with a later run of one of its other parts, complete, is complete
	// when every part it keeps is here (see SupersedeParts). Nil when
	// none is, or when it is not known: a run's own run.json (its one
	// part is as whole as the run), a merge written before they were
	// kept, or one of records that no run.json describes; then no part is
	// taken for whole unless the run is.
	WholeParts []Part `json:"whole_parts,omitempty"`
	// Torn counts the torn last lines (writes cut by a crash) that were
	// dropped when the record was read.
	Torn int `json:"torn,omitempty"`
	// Changes counts the changes since the baseline run, when there was one.
	Changes *ChangeInfo `json:"changes,omitempty"`
	// RanAfter are the starts of the runs of the same targets that this
	// run found already recorded though dated later than its own start (a
	// clock ahead where they ran, or behind here), and so did not compare
	// with: it came after them all the same, which their dates alone no
	// longer tell once the present has passed them. Nil when there were
	// none, or in a run.json written before they were kept.
	RanAfter []time.Time `json:"ran_after,omitempty"`
	// Caller is the account the run's credentials belong to, when known.
	Caller string `json:"caller_account,omitempty"`
	// Sites are the account-regions the run touched: what it asked of each,
	// and why one could not be audited.
	Sites []SiteStats `json:"sites,omitempty"`
	// Rendered is set when reports were rendered again from the record
	// (auditor report); the fields above stay the run's own.
	Rendered *Rendering `json:"rendered,omitempty"`
	// GroupOf is set in the run.json of a group of a split (report.Split):
	// what the group's reports say of the whole run, which the group's own
	// record cannot tell, so that its mail and its reports rendered again
	// say it too. Nil elsewhere.
	GroupOf *GroupOf `json:"group_of,omitempty"`
	// Unknown are the fields of the run.json read that this version of
	// the auditor does not know (a newer one wrote them), sorted: nil for
	// one it wrote. A run.json it writes from this one leaves them out.
	Unknown []string `json:"-"`
}

// GroupOf is what the run.json of a group of a split keeps of the whole
// run (see RunInfo.GroupOf); the group's account-regions that failed keep
// the whole run's SiteStats.Audited.
type GroupOf struct {
	// WithoutResult counts the whole run's targets without a result, any
	// of which may be the group's: a group counts its results as its
	// targets.
	WithoutResult int `json:"without_result,omitempty"`
	// TargetsFrom is where the whole run's targets came from: "list",
	// "discovery" or "both"; the group's run.json has no parts to say it.
	TargetsFrom string `json:"targets_from,omitempty"`
}

// runInfoFields are the names of RunInfo's fields in run.json, in lower
// case: encoding/json takes "Complete" for "complete".
var runInfoFields = func() map[string]bool {
	m := map[string]bool{}
	t := reflect.TypeFor[RunInfo]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			m[strings.ToLower(name)] = true
		}
	}
	return m
}()

// AttemptStarts returns the starts of the run's attempts, sorted: its
// Attempts, or, for a run.json written before they were kept, StartedAt
// alone; nil when neither is known (a run synthesized for a record without
// run.json). The slice is the caller's.
func (ri RunInfo) AttemptStarts() []time.Time {
	if len(ri.Attempts) > 0 {
		out := slices.Clone(ri.Attempts)
		slices.SortFunc(out, time.Time.Compare)
		return slices.CompactFunc(out, time.Time.Equal)
	}
	if ri.StartedAt.IsZero() {
		return nil
	}
	return []time.Time{ri.StartedAt}
}

// Stats counts what a run asked of SSM.
type Stats struct {
	// Calls counts HTTP attempts, retries included.
	Calls int64 `json:"calls"`
	// Pages counts pages received.
	Pages int64 `json:"pages"`
	// Throttled counts attempts answered with a throttling error.
	Throttled int64 `json:"throttled"`
	// Retries counts attempts after the first of an operation.
	Retries int64 `json:"retries"`
	// Rate is the mean rate of calls per second over the fetch.
	Rate float64 `json:"rate"`
	// LimiterRate is the client-side limit at the end of the run (calls per
	// second; 0 means unlimited).
	LimiterRate float64 `json:"limiter_rate,omitempty"`
	// LimiterPeak is the highest rate an adaptive limiter set once it had
	// cut its rate for throttling (calls per second, the highest over
	// accounts and regions; 0 when none was throttled, or with a fixed
	// rate).
	LimiterPeak float64 `json:"limiter_peak,omitempty"`
	// LimiterCutRate is LimiterRate of the adaptive limiters that were cut
	// for throttling alone: the highest of their rates at the end (calls
	// per second, at most LimiterPeak). It is 0 when none was cut, with a
	// fixed rate, and in a record that predates it, or a merge of one:
	// LimiterRate counts limiters never cut too, whose rate is only how
	// far their slow start grew.
	LimiterCutRate float64 `json:"limiter_cut_rate,omitempty"`
	// Seconds is how long the fetch took.
	Seconds float64 `json:"seconds"`
	// Answers counts the calls the service answered, a page or an error
	// of its own (not a timeout, a connection refused or reset): what
	// tells a stopped endpoint from a slow one while a run goes on. It is
	// not written to run.json.
	Answers int64 `json:"-"`
}

// ReadRunInfo reads a run.json file. A file that is JSON but not a
// run.json of this Schema (no schema, another one, no started_at: any
// other program's JSON, or a newer auditor's) is a *RunInfoError, so that
// no reader takes it for a run's and nothing writes it back as this
// schema; a file that is not there wraps fs.ErrNotExist; one that is not
// a regular file wraps ErrNotRegular, refused at once (see OpenRunInfo).
func ReadRunInfo(path string) (RunInfo, error) {
	f, _, err := OpenRunInfo(path)
	if err != nil {
		return RunInfo{}, err
	}
	defer f.Close()
	return ReadRunInfoFrom(f, path)
}

// ErrNotRegular is wrapped by the error of OpenRunInfo, and of
// ReadRunInfo, for a run.json that is not a regular file, nor a link to
// one: a FIFO, a device, a directory, a socket.
var ErrNotRegular = errors.New("must be a regular file")

// OpenRunInfo opens the run.json at path, through a link, for
// ReadRunInfoFrom, and returns it with its FileInfo, so that a caller that
// checks more of it (its owner) checks the file it reads. Every reader of
// a run.json opens it here. A FIFO at path (or a link to one) would hold
// an open until a writer came, where no signal ends it, and a device such
// as /dev/zero a read without end: it is opened without waiting, and a
// file that is not a regular one is refused at once, its error naming
// path and wrapping ErrNotRegular. One that is not there wraps
// fs.ErrNotExist. The caller must Close the file.
func OpenRunInfo(path string) (*os.File, fs.FileInfo, error) {
	f, err := nowait.Open(path)
	if err != nil {
		// nowait.Open opens no file that is not a regular one (nor can a
		// socket be opened): it is said as what it is.
		if st, serr := os.Stat(path); serr == nil && !st.Mode().IsRegular() {
			return nil, nil, notRegular(path, st.Mode())
		}
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, notRegular(path, st.Mode())
	}
	return f, st, nil
}

func notRegular(path string, m fs.FileMode) error {
	return fmt.Errorf("%s: %w: it is %s", path, ErrNotRegular, FileKind(m))
}

// FileKind names what a file that is not a regular one is: "a pipe", "a
// directory", "a device", "a socket", else "not a regular file".
func FileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a regular file"
}

// ReadRunInfoFrom is ReadRunInfo of a run.json already open, f, named path
// in errors: a caller that checked the file it opened (f.Stat: a regular
// file, its owner) reads that same file, not what path names a moment
// later.
func ReadRunInfoFrom(f io.Reader, path string) (RunInfo, error) {
	b, err := io.ReadAll(f)
	if err != nil {
		return RunInfo{}, fmt.Errorf("reading %s: %w", path, err)
	}
	return decodeRunInfo(path, b)
}

func decodeRunInfo(path string, b []byte) (RunInfo, error) {
	var ri RunInfo
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return ri, fmt.Errorf("%s: %w", path, err)
	}
	if fields == nil {
		return ri, &RunInfoError{Path: path, Problem: fmt.Sprintf("null, not a run.json of the auditor (want an object of schema %d)", Schema)}
	}
	if err := json.Unmarshal(b, &ri); err != nil {
		return ri, fmt.Errorf("%s: %w", path, err)
	}
	for name := range fields {
		if !runInfoFields[strings.ToLower(name)] {
			ri.Unknown = append(ri.Unknown, name)
		}
	}
	slices.Sort(ri.Unknown)
	for i := range ri.Sites {
		// As a result's account_name label (see decodeResult).
		ri.Sites[i].AccountName = EscapeRefused(ri.Sites[i].AccountName)
	}
	absent := func(name string) bool {
		v, ok := fields[name]
		return !ok || string(bytes.TrimSpace(v)) == "null"
	}
	switch {
	case absent("schema"):
		return ri, &RunInfoError{Path: path, Field: "schema", Problem: fmt.Sprintf("missing: not a run.json of the auditor (want schema %d)", Schema)}
	case ri.Schema > Schema:
		return ri, &RunInfoError{Path: path, Field: "schema", Newer: true, Problem: fmt.Sprintf("%d: written by a newer auditor (this one reads schema %d)", ri.Schema, Schema)}
	case ri.Schema != Schema:
		return ri, &RunInfoError{Path: path, Field: "schema", Problem: fmt.Sprintf("%d: unknown (want %d): not a run.json of the auditor", ri.Schema, Schema)}
	case absent("started_at"):
		// Every run.json the auditor writes has it (the zero time for
		// a merge of records without one: unknown, and said so).
		return ri, &RunInfoError{Path: path, Field: "started_at", Problem: "missing: not a run.json of the auditor"}
	}
	if field, n := negativeCount(reflect.ValueOf(ri), ""); field != "" {
		// Taken for its record's, it would make the reports count
		// "-1,000 targets".
		return ri, &RunInfoError{Path: path, Field: field, Problem: fmt.Sprintf("%d: negative, and a count never is: not a run.json of the auditor", n)}
	}
	return ri, nil
}

// RunInfoError is a run.json file that ReadRunInfo refuses: JSON, but not a
// run.json that this version of the auditor wrote or reads.
type RunInfoError struct {
	Path string
	// Field is the field at fault ("schema", "started_at"); "" when the
	// file is no JSON object.
	Field   string
	Problem string
	// Newer says the file is of a later schema than Schema: a newer
	// auditor's, which that version reads.
	Newer bool
}

func (e *RunInfoError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s: %s", e.Path, e.Problem)
	}
	return fmt.Sprintf("%s: %s %s", e.Path, e.Field, e.Problem)
}
