package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/awsconn"
	"github.com/auditor-dev/auditor/internal/atomicfile"
	"github.com/auditor-dev/auditor/internal/dirlock"
	"github.com/auditor-dev/auditor/internal/extsort"
	"github.com/auditor-dev/auditor/internal/outdir"
	"github.com/auditor-dev/auditor/internal/owner"
	"github.com/auditor-dev/auditor/report"
)

// reportCmd renders every report from one or more records without calling
// AWS; several records (shards, or runs of several accounts) are merged, one
// result per instance, the later record winning. Its exit code is run's:
// 1 for findings at the --fail-on level, 3 when a merged run was
// interrupted, holds instances in error, lacks results for some of its
// targets, or cannot show that it is complete (no run.json beside a
// record).
func reportCmd(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	c := newCommand("report", stdout, stderr)
	o := c.o
	paths, err := c.parse(ctx, args, true, stdout)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return usagef("report: name at least one results.jsonl (see auditor report --help)")
	}
	if o.out == "" {
		return usagef("report: --out DIR is required")
	}
	// One instant for both, as for run: the upload's prefix names the
	// directory.
	now := o.now()
	var claim *outClaim
	if strings.Contains(o.out, "{time}") {
		// As for run: a second whose directory is taken (another
		// report's, a run's) moves to the next one, and a report refused
		// before it wrote anything leaves nothing there.
		if now, claim, err = claimTimedOut(ctx, o.out, now, o.now); err != nil {
			return err
		}
		defer func() {
			if err != nil {
				claim.release()
			}
		}()
	}
	// As for run: e/y/.. is e, made alone.
	o.outNamed = expandOut(o.out, now)
	o.out = outdir.Clean(o.outNamed)
	o.delivery.upload = expandOut(o.delivery.upload, now)
	if err := outdir.Check(o.outGiven()); errors.Is(err, outdir.ErrShared) {
		// Before it is held to render in place: not even a lock is left
		// there.
		return o.sharedOut(err)
	}
	var dir *outdir.Dir
	if sameFile(paths, filepath.Join(o.out, audit.ResultsFile)) {
		// Rendered again in place: held before its run.json or record is
		// read, so that a run or resume into it, or another report, cannot
		// write them between the read and the rendering, which would mix
		// two attempts. A flag no run.json could make right is named
		// first: told the directory is in use, a user would wait for it,
		// then be told the flag.
		pre := *o
		pre.base = &audit.Baseline{} // --fail-on new: it may have been compared
		if _, problems := pre.check(); len(problems) > 0 {
			return o.joinProblems(problems)
		}
		if dir, err = outdir.Open(o.out); err != nil {
			return outError(o.outGiven(), err)
		}
		defer dir.Close()
		keepJudgement(c, stderr)
	} else {
		keepInputsJudgement(c, paths, stderr)
	}
	if err := inputsInUse(paths, dir, stderr); err != nil {
		return err
	}
	if o.baseline == "" && sameFile(paths, filepath.Join(o.out, audit.ResultsFile)) {
		// A run's (or a group's) reports rendered again in place, or a
		// late shard of its list merged into its merge, are compared as
		// the run was: its changes stay, and every failure dates from the
		// same baseline.
		if ri, err := audit.ReadRunInfo(filepath.Join(o.out, audit.RunFile)); err == nil && ri.Changes != nil && sameList(ri, paths) {
			var lost string
			b, err := inSpill(o.out, func(tmpDir string) (b *audit.Baseline, err error) {
				b, lost, err = recordedBaselineOf(tmpDir, o.out, ri)
				return b, err
			})
			switch {
			case err != nil:
				return recordError(fmt.Sprintf("report: the baseline %s was compared with", shownPath(o.out)), err)
			case b == nil:
				// Rendered without it, its recorded changes would go for
				// good, or disagree with the record.
				return usagef("report: %s was compared with %s, which is gone: put it back and render again, or compare with another run: --baseline DIR", shownPath(o.out), shownPath(lost))
			}
			o.logf(stderr, "rendering %s again with the baseline it was compared with: %s", shownPath(o.out), shownPath(ri.Changes.Baseline))
			o.base = b
			defer o.closeBaseline()
		}
	}
	set, problems := o.check()
	var taken error
	if err := outdir.Check(o.outGiven()); errors.Is(err, outdir.ErrNotDir) {
		problems = append(problems, usagef("--out %v: name a directory", err))
	} else if err == nil {
		// A record rendered in place is an input: reading it names its
		// line, and another --out would not help.
		var foreign error
		if !sameFile(paths, filepath.Join(o.out, audit.ResultsFile)) {
			foreign = checkForeignRecord(o.out)
		}
		if foreign != nil {
			problems = append(problems, foreign)
		} else if err := checkOthersOutputs(o.out); err != nil {
			problems = append(problems, err)
		} else {
			taken = checkReportPaths(o.out, set.formats)
		}
		if err := checkSplit(o.out, o.splitBy); err != nil {
			problems = append(problems, err)
		}
	}
	paths, err = distinctInputs(paths)
	if err != nil {
		problems = append(problems, err)
	}
	runFiles, runProblems := readRunFiles(paths)
	problems = append(problems, runProblems...)
	if err := o.checkDeliveryAWS(ctx); err != nil {
		problems = append(problems, err)
	}
	if len(problems) > 0 {
		return o.joinProblems(problems)
	}
	if taken != nil {
		return taken
	}
	for i, ri := range runFiles {
		if ri != nil {
			warnUnknownFields(stderr, filepath.Join(filepath.Dir(paths[i]), audit.RunFile), *ri)
		}
	}
	// Opened once: the merged record and every report are written from
	// this index, since decoding the record is most of the cost.
	groups, unknown := listGroups(paths)
	if unknown != "" {
		fmt.Fprintf(stderr, "auditor: warning: %s: the instances it shares with the other records count twice; merge the runs' own records instead\n", unknown)
	}
	merged := func(tmpDir string) (*audit.Records, error) { return audit.OpenMerged(tmpDir, groups, paths...) }
	var rs *audit.Records
	if dir != nil {
		rs, err = inSpill(o.out, merged)
	} else {
		// --out is not held yet: its .auditor-tmp, made and removed now,
		// would be the spill of whoever holds it. TMPDIR first; --out's
		// only where TMPDIR cannot take the index (a read-only one).
		if rs, err = merged(""); errors.Is(err, extsort.ErrScratch) && !tooManyFiles(err) && statOK(o.out) {
			rs, err = inSpill(o.out, merged)
		}
	}
	if err != nil {
		return recordError("report", err)
	}
	defer func() { rs.Close() }() // rs is the merged record's once written with a baseline
	// A line written before lines kept their attempt's start is given it
	// from its own run: its run.json's attempts, and those of attempts
	// killed before they wrote it, which the directory keeps.
	for i, p := range paths {
		kept := audit.ReadAttempts(filepath.Join(filepath.Dir(p), audit.AttemptsFile), time.Time{})
		starts := slices.DeleteFunc(slices.Clone(kept), func(at time.Time) bool { return at.After(o.now()) })
		if ri := runFiles[i]; ri != nil {
			// An attempt killed before its run.json kept its start
			// beside it, and its results are in the record: the run.json
			// written from this one names it, as a resume's would, so
			// that it is taken for the record's when rendered again (and
			// checkRunFiles takes its results). Starts kept by another
			// run are not (KeptAttempts).
			ri.JoinKept(kept, o.now())
			starts = append(starts, ri.AttemptStarts()...)
		}
		slices.SortFunc(starts, time.Time.Compare)
		if starts = slices.CompactFunc(starts, time.Time.Equal); len(starts) > 0 {
			rs.SetAttempts(i, starts)
		}
	}
	if n, err := rs.Unattributed(); err != nil {
		return usagef("report: %v", err)
	} else if n > 0 && len(paths) > 1 {
		// The same instances as two accounts' would count twice, and the
		// merge say complete.
		return usagef("report: %s are in these records both with an account and with no account (a run that could not learn the account of its credentials: STS out of reach), and would count twice; merge records of one kind: run that list again where STS answers, and merge its record instead",
			plural(n, "instance"))
	}
	if err := checkRunFiles(paths, runFiles, rs); err != nil {
		return err
	}
	if rs.Torn > 0 {
		fmt.Fprintf(stderr, "auditor: dropped %s torn by a crash (the last line of a record); run --resume on that run's directory to audit it again\n", plural(rs.Torn, "line"))
	}
	if dir == nil {
		_, statErr := os.Lstat(o.out)
		made := errors.Is(statErr, fs.ErrNotExist) || claim != nil
		if dir, err = outdir.Open(o.out); err != nil {
			return outError(o.outGiven(), err)
		}
		if made {
			// A refusal from here on (a baseline of another account)
			// leaves no --out made for nothing, with only a lock in it;
			// one that holds anything else is kept, and so is one the
			// user made.
			defer dir.CloseAndRemoveIfBare()
		} else {
			defer dir.Close()
		}
	}

	recordPath := filepath.Join(o.out, audit.ResultsFile)
	inPlace := sameFile(paths, recordPath)
	if inPlace && !statOK(filepath.Join(o.out, audit.RunFile)) {
		// A killed merge's leftover, rendered as it is, would be marked
		// partial for good, and its run.json would make the merge that
		// finishes it refuse the directory. (Asked only here: leftMerge
		// reads the whole record for its digest.)
		if m, ok := leftMerge(recordPath); ok && m.inputsThere() {
			return usagef("report: %s was left by a merge stopped before it wrote %s; run that merge again: %s --out %s",
				recordPath, audit.RunFile, shellCommand(append([]string{program(), "report"}, m.Inputs...)...), shellQuote(o.out))
		}
	}
	info, late, err := mergedRunInfo(paths, runFiles, rs, stderr)
	if err != nil {
		return err
	}
	// An instance in two lists is one target, listed twice; unknown
	// targets (0: shards of a list split two ways) stay unknown.
	if info.Targets > 0 {
		info.Targets -= rs.Overlap
		info.Duplicates += rs.Overlap
	}
	if err := o.resolvePrevious(info, stderr); err != nil {
		return err
	}
	info.Rendered = &audit.Rendering{At: o.now().UTC(), Version: appVersion(), Options: o.outputRecord(), Inputs: len(paths)}
	// A group of a split rendered again in place keeps the column of the
	// label it is split by, as Split wrote it, whatever its rows hold: the
	// group of an account that could not be audited has no instance with
	// that label. Only in place: an output directory that merely sits
	// where a split's group would is no group, and its split's index may
	// be anyone's.
	if label := report.GroupLabel(o.out); label != "" && inPlace && len(paths) == 1 {
		o.labelKeys = []string{label}
	}
	if !inPlace {
		if st, err := os.Stat(recordPath); err == nil && st.Size() > 0 {
			if !leftoverOf(recordPath, paths) {
				return usagef("report: %s already holds a record that is not among the inputs; choose another --out, or name it as an input to merge into it", shownPath(o.out))
			}
			o.logf(stderr, "%s holds the record of this same merge, stopped before it wrote %s: merging again", shownPath(o.out), audit.RunFile)
		}
	}
	// Written before the record replaces what was there, so that a merge
	// killed before its run.json can be run again, and the run.json it
	// leaves (an earlier merge's, in place) is not taken for the record's.
	mark := func(digest string) error {
		return writeJSON(filepath.Join(o.out, mergingFile), merging{Inputs: absPaths(paths), Record: digest})
	}
	account, _ := rs.SoleAccount()
	if err := o.openBaseline(recordPath, account, stderr); err != nil {
		return err
	}
	defer o.closeBaseline()
	if len(paths) > 1 || !inPlace || o.base != nil {
		// The merged record goes beside the reports, so that they can be
		// rebuilt, diffed or resumed from the output alone. Where it
		// replaces one of the inputs, the index opened above still reads
		// the old file, which the rename leaves intact until closed.
		// With a baseline, each failure carries the date it was first
		// seen failing, as a run's record does: the reports say it, and
		// the record is the next run's baseline.
		if err := writeMerged(rs, recordPath, o.base, mark); err != nil {
			var re *readError
			if errors.As(err, &re) {
				// The inputs', not the directory's: a record changed
				// or cut while it was merged.
				return fmt.Errorf("report: %w", re.err)
			}
			return fmt.Errorf("%w: %w", atomicfile.ErrNotWritable, err)
		}
		if o.base != nil {
			torn := rs.Torn
			rs.Close()
			if rs, err = openRecords(o.out, recordPath); err != nil {
				return fmt.Errorf("report: reading the merged record again: %w", err)
			}
			rs.Torn = torn
		}
	}
	if mergeWritten != nil {
		mergeWritten()
	}
	// A signal while rendering does not leave the reports half done: they
	// are written (each file whole).
	// Records of nothing (shards that found nothing) are reported and
	// delivered as any other, unless a signal came first.
	empty := ctx.Err() == nil
	o.premarkMail(stderr)
	written, renderErr := o.renderRecords(context.WithoutCancel(ctx), rs, &info, set, empty, stderr)
	if slices.Contains(written, filepath.Join(o.out, audit.RunFile)) {
		// run.json speaks for the record now: a merge like any other,
		// which the next merge into this directory must name as an input.
		if err := os.Remove(filepath.Join(o.out, mergingFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(stderr, "auditor: warning: %v (the same merge run again would replace the record in %s)\n", err, shownPath(o.out))
		}
	}
	for _, p := range append([]string{recordPath}, written...) {
		fmt.Fprintln(stdout, p)
	}
	var deliverErr error
	switch {
	case rs.Len() == 0 && !empty:
		o.mailNotDue(stderr)
	case !deliverable(renderErr):
		// As a run's: what is not delivered is told, with the command
		// that delivers it once rendered again.
		o.notDelivered(info, stderr)
	default:
		conn := func() (*awsconn.Conn, error) { return awsconn.Load(ctx, o.awsSettings()) }
		deliverErr = o.deliver(ctx, rs, info, append([]string{recordPath}, written...), conn, stderr)
	}
	errs := &errorTally{}
	if info.Outcomes[audit.OutcomeError] > 0 {
		rs.Each(func(r audit.Result) error { errs.add(r); return nil })
	}
	errs.readInPart(rs, info)
	head := fmt.Sprintf("rendered the reports of %s from %s", plural(rs.Len(), "instance"), plural(len(paths), "record"))
	summarize(stderr, head, info, &set.failOn, errs, nil, o.out, o.resumeInputs(late), written, renderErr != nil, deliverErr)
	if renderErr != nil {
		return renderErr
	}
	if deliverErr != nil {
		return deliverErr
	}
	if ctx.Err() != nil {
		// As for run, a signal that left nothing undone interrupts
		// nothing: the exit is the verdict the lines above name.
		fmt.Fprintln(stderr, "auditor: a signal came while the reports were rendered; they were written whole, nothing is left undone")
	}
	// The same exit codes as run, so that a merge job can gate on them.
	return verdictErr(info.Verdict(set.failOn))
}

// resumeInputs is what a merge's closing lines advise to complete it: the
// resume of each run in late (mergedRunInfo), then the merge again.
func (o *runOptions) resumeInputs(late []string) string {
	if len(late) == 0 {
		return "auditor run --resume on the run's own --out, then merge again"
	}
	var cmds []string
	for _, d := range late {
		cmds = append(cmds, o.resumeCommandOf(d))
	}
	return strings.Join(cmds, "; ") + ", then merge again"
}

// mergeWritten, when set, is called once the merged record is in place and
// before run.json is written: a test stops there, as a kill would.
var mergeWritten func()

// parseInterspersed parses flags that may stand before, between or after the
// positional arguments, as in "auditor report a.jsonl b.jsonl --out all".
func parseInterspersed(fs *flagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// distinctInputs checks that every input is a regular file (or a link to
// one) and drops those that are another's file under another name: the
// same record given twice counts once. A record is read more than once,
// and at the offsets of its lines: a pipe (a process substitution,
// <(...)) or a device cannot be.
func distinctInputs(paths []string) ([]string, error) {
	var out []string
	var seen []os.FileInfo
	for _, p := range paths {
		st, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, usagef("report: %s does not exist: name the %s of a run, in the --out directory it wrote", shownArg(p), audit.ResultsFile)
		}
		if err != nil {
			return nil, usagef("report: %v", err)
		}
		if st.IsDir() {
			return nil, usagef("report: %s is a directory: name its %s", p, audit.ResultsFile)
		}
		if !st.Mode().IsRegular() {
			return nil, usagef("report: RECORD must be a regular file: %s is %s, which cannot be read more than once; save it to a file and name that", p, audit.FileKind(st.Mode()))
		}
		dup := false
		for _, s := range seen {
			dup = dup || os.SameFile(s, st)
		}
		if !dup {
			seen = append(seen, st)
			out = append(out, p)
		}
	}
	return out, nil
}

// listGroups returns, for each record, the target list its run audited
// (run.json's parts' list: a shard's is the whole list's), so that an
// instance in the records of two lists counts once; nil, so that none is
// counted twice, unless there are several records and each has a run.json
// of one list. unknown says of a record, when there are several, why its
// instances cannot be told apart by list: a merge of several lists, or a
// run.json that names none (a --split-by group, a run from before lists
// were named).
func listGroups(paths []string) (groups []string, unknown string) {
	if len(paths) < 2 {
		return nil, ""
	}
	groups = make([]string, len(paths))
	for i, p := range paths {
		ri, err := audit.ReadRunInfo(filepath.Join(filepath.Dir(p), audit.RunFile))
		lists := map[string]bool{}
		for _, part := range ri.Parts {
			lists[part.List] = true
		}
		switch {
		case err != nil:
			groups = nil // no run.json: said apart, as completeness unknown
		case len(lists) == 0 || lists[""]:
			groups, unknown = nil, p+" names no target list in its run.json (a --split-by group, or a run from before lists were named)"
		case len(lists) > 1:
			groups, unknown = nil, p+" is a merge of several lists"
		case groups != nil:
			groups[i] = ri.Parts[0].List
		}
	}
	return groups, unknown
}

// sameList reports whether every record in paths is of the list (or of a
// shard of it) that the run of out (its run.json, run) audited: a late
// shard merged into its merge, not another list's record.
func sameList(run audit.RunInfo, paths []string) bool {
	lists := func(ri audit.RunInfo) []string {
		var out []string
		for _, p := range ri.Parts {
			out = append(out, p.List)
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	want := lists(run)
	if len(paths) == 1 {
		return true // the run's own record
	}
	for _, p := range paths {
		ri, err := audit.ReadRunInfo(filepath.Join(filepath.Dir(p), audit.RunFile))
		if err != nil || !slices.Equal(lists(ri), want) || slices.Contains(want, "") {
			return false
		}
	}
	return true
}

// inputsInUse returns an error wrapping dirlock.ErrBusy (exit 4, as for an
// --out in use) when another auditor holds the directory of one of the
// records in paths, or, for a group's record of a split
// (RUN/by-LABEL/GROUP), its run's: a run or a resume still writing it,
// whose record, merged, would be taken for that of a run killed before it
// finished. held, unless nil, is the directory this report holds itself,
// to render it in place. Where it cannot tell (a filesystem that takes no
// locks, where no auditor can hold one: a run refuses such an --out), it
// warns on stderr and goes on.
func inputsInUse(paths []string, held *outdir.Dir, stderr io.Writer) error {
	var own os.FileInfo
	if held != nil {
		own, _ = os.Stat(held.Path)
	}
	seen := map[string]bool{}
	for _, p := range paths {
		dirs := []string{filepath.Dir(p)}
		if run, ok := runOfGroup(dirs[0]); ok {
			dirs = append(dirs, run)
		}
		for _, d := range dirs {
			if seen[d] {
				continue
			}
			seen[d] = true
			if st, err := os.Stat(d); err == nil && own != nil && os.SameFile(st, own) {
				continue
			}
			err := dirlock.Held(d)
			switch {
			case errors.Is(err, dirlock.ErrBusy):
				return fmt.Errorf("report: %s is still being written (%w): run the report when it ends", p, err)
			case err != nil:
				fmt.Fprintf(stderr, "auditor: warning: report: %v; reading %s as it is\n", err, p)
			}
		}
	}
	return nil
}

// readRunFiles reads the run.json beside each record: runs[i] is that of
// paths[i], nil when there is none. A run.json that cannot be read, or is
// not one of the auditor's (audit.RunInfoError: another program's JSON, a
// newer auditor's schema) is a problem, refused before anything is
// written: taken for the record's, it would call it complete, or of
// another number of targets, or be written out again as this schema.
func readRunFiles(paths []string) (runs []*audit.RunInfo, problems []error) {
	runs = make([]*audit.RunInfo, len(paths))
	for i, p := range paths {
		ri, err := audit.ReadRunInfo(filepath.Join(filepath.Dir(p), audit.RunFile))
		var re *audit.RunInfoError
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case errors.As(err, &re) && re.Newer:
			problems = append(problems, usagef("report: %v: render %s with that version", err, p))
		case errors.As(err, &re), errors.Is(err, audit.ErrNotRegular):
			problems = append(problems, usagef("report: %v; it is beside %s: put that record's own %s there, or move this one away (without one, the record is rendered as of unknown completeness, exit 3)",
				err, p, audit.RunFile))
		case err != nil:
			problems = append(problems, usagef("report: %v", err))
		default:
			runs[i] = &ri
		}
	}
	return runs, problems
}

// checkRunFiles refuses a run.json that is certainly not the run.json of
// the record beside it (audit.RunInfo.Mismatch: another audit's), which
// would count the record's instances as the targets of another. rs is the
// records of paths, opened together; runs their run.json files
// (readRunFiles), which name the attempts killed before they wrote it
// whose starts their directory kept (audit.RunInfo.KeptAttempts): such
// an attempt's results are the record's own. A record that a merge killed
// before its run.json left may hold what run.json does not say: it is
// not refused.
func checkRunFiles(paths []string, runs []*audit.RunInfo, rs *audit.Records) error {
	for i, p := range paths {
		ri := runs[i]
		if ri == nil {
			continue
		}
		why := ri.Mismatch(rs.Input(i))
		if why == "" {
			continue
		}
		if _, ok := leftMerge(p); ok {
			continue
		}
		return usagef("report: %s is not the %s of %s beside it: %s; it is another audit's: put the record's own %s there, or move this one away (without one, the record is rendered as of unknown completeness, exit 3)",
			filepath.Join(filepath.Dir(p), audit.RunFile), audit.RunFile, p, why, audit.RunFile)
	}
	return nil
}

// readError is an error of writeMerged's in reading the records, not in
// writing the merged one.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// mergedRunInfo merges the run.json beside each record, runs (readRunFiles),
// rs being the records merged. A record without one cannot show that it is
// complete: the merge is marked so, and its reports say partial. A record
// that later ones replace whole (audit.Superseded: an earlier merge merged
// again with the shard that was late) is left out: its run was
// interrupted, or lacked that shard's run.json, and the merge is not. One
// whose parts that were not whole later ones replace (audit.SupersedeParts:
// an earlier merge merged again with that shard alone) stays, without the
// flags that were those parts'.
// late are the directories of the runs (of one part each: a list, or a
// shard of it, not a merge) among the rest that a resume would complete.
func mergedRunInfo(paths []string, runs []*audit.RunInfo, rs *audit.Records, stderr io.Writer) (info audit.RunInfo, late []string, err error) {
	var infos []audit.RunInfo
	var kept, indexOf []int // indexOf[j]: the input that infos[j] describes
	var missing []string
	for i, p := range paths {
		if _, left := leftMerge(p); runs[i] == nil || left {
			// A record that a merge stopped before its run.json left:
			// the run.json beside it, if any, is an earlier one's
			// (another record's, in the same directory), and does not
			// describe it.
			missing = append(missing, p)
			continue
		}
		infos = append(infos, *runs[i])
		kept = append(kept, rs.Input(i).Kept)
		indexOf = append(indexOf, i)
	}
	var live []audit.RunInfo
	for i := range infos {
		if audit.Superseded(infos, i, kept[i]) {
			continue
		}
		// An earlier merge that still brings results of its own (the
		// shards that were whole) keeps its parts, but not the flags of
		// the parts later runs replaced whole: the shard that was late,
		// resumed since and named after it.
		ri, _ := audit.SupersedeParts(infos, i, kept[i])
		live = append(live, ri)
		if ri := infos[i]; len(ri.Parts) == 1 && (!ri.Whole() || ri.Outcomes[audit.OutcomeError] > 0) {
			late = append(late, filepath.Dir(paths[indexOf[i]]))
		}
	}
	info = audit.MergeRunInfo(live)
	if len(infos) == 0 {
		info = audit.RunInfo{Schema: audit.Schema, Version: appVersion()}
	}
	info.Undescribed(missing)
	if len(missing) > 0 {
		// A merge's record is finished by running the merge again, a
		// run's by resuming the run.
		var next []string
		runs := false
		for _, p := range missing {
			m, ok := leftMerge(p)
			if !ok {
				runs = true
				continue
			}
			if !m.inputsThere() {
				next = append(next, fmt.Sprintf("%s was left by a merge stopped before it wrote %s, whose inputs are gone: it is taken as it is", p, audit.RunFile))
				continue
			}
			next = append(next, fmt.Sprintf("%s was left by a merge stopped before it wrote %s: run that merge again, %s --out %s",
				p, audit.RunFile, shellCommand(append([]string{program(), "report"}, m.Inputs...)...), shellQuote(filepath.Dir(p))))
		}
		if runs {
			s := "continue a run killed before it finished with auditor run --resume on its own --out"
			if len(paths) > 1 {
				s += ", then merge again"
			}
			next = append(next, s)
		}
		fmt.Fprintf(stderr, "auditor: %s, so the reports are marked partial and the number of targets is unknown; %s\n", info.Error, strings.Join(next, "; "))
	}
	return info, late, nil
}

func sameFile(paths []string, target string) bool {
	tst, err := os.Stat(target)
	if err != nil {
		return false
	}
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil && os.SameFile(st, tst) {
			return true
		}
	}
	return false
}

// writeMerged writes the merged, sorted record rs to dst. mark, unless nil,
// is given the digest of the record (sha256, in hex) once it is written and
// before it replaces dst; an error from mark leaves dst as it was. An error
// in reading rs is a *readError.
func writeMerged(rs *audit.Records, dst string, base *audit.Baseline, mark func(digest string) error) error {
	return atomicfile.Write(dst, func(w io.Writer) error {
		h := sha256.New()
		hw := io.MultiWriter(w, h)
		var writeErr error
		err := rs.Each(func(r audit.Result) error {
			if base != nil {
				base.Carry(&r)
			}
			writeErr = audit.EncodeResult(hw, r)
			return writeErr
		})
		if err != nil && writeErr == nil {
			return &readError{err}
		}
		if err != nil || mark == nil {
			return err
		}
		return mark(hex.EncodeToString(h.Sum(nil)))
	})
}

// mergingFile marks an output directory whose merged record may be in
// place without the run.json that describes it: what a merge killed in
// between leaves. It names the merge's inputs and the record's digest, so
// that the same merge run again knows the record for its own and replaces
// it, where any other record is refused. It is written before the record
// replaces what was there and removed once run.json is written.
const mergingFile = ".auditor-merging"

// merging is the content of mergingFile.
type merging struct {
	// Inputs are the merge's records, absolute, in the order given.
	Inputs []string `json:"inputs"`
	// Record is the sha256 of the merged record, in hex.
	Record string `json:"record_sha256"`
}

// leftMerge returns the merge that left record in its directory, when the
// directory's mergingFile names a merge and record is the one it wrote.
func leftMerge(record string) (merging, bool) {
	b, err := os.ReadFile(filepath.Join(filepath.Dir(record), mergingFile))
	if err != nil {
		return merging{}, false
	}
	var m merging
	if err := json.Unmarshal(b, &m); err != nil || len(m.Inputs) == 0 || m.Record == "" {
		return merging{}, false
	}
	f, err := os.Open(record)
	if err != nil {
		return merging{}, false
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil || hex.EncodeToString(h.Sum(nil)) != m.Record {
		return merging{}, false
	}
	return m, true
}

// inputsThere reports whether every input of the merge is still there, so
// that running it again can finish it.
func (m merging) inputsThere() bool {
	return !slices.ContainsFunc(m.Inputs, func(p string) bool { return !statOK(p) })
}

// leftoverOf reports whether record is what a merge of the same inputs
// (in any order) left when it was stopped before its run.json: replacing
// it loses nothing that the inputs do not hold.
func leftoverOf(record string, inputs []string) bool {
	m, ok := leftMerge(record)
	if !ok {
		return false
	}
	a, b := slices.Clone(m.Inputs), absPaths(inputs)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// absPaths returns paths made absolute, through their links (so that one
// file named by another path is known), each as far as it can be.
func absPaths(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = p
		if a, err := filepath.Abs(p); err == nil {
			out[i] = a
		}
		if r, err := filepath.EvalSymlinks(out[i]); err == nil {
			out[i] = r
		}
	}
	return out
}

// keepJudgement gives a run (or a rendering) rendered again in place, as
// the tool's own advice to split it does, the options its reports were
// judged by: --stale-after, and --html-max-rows, unless given again on the
// command line, in the environment or in --cli-input-json. Rendered with
// the defaults, a run audited with --stale-after 30d would count as stale
// what it did not, with nothing said.
func keepJudgement(c *command, stderr io.Writer) {
	o := c.o
	ri, err := audit.ReadRunInfo(filepath.Join(o.out, audit.RunFile))
	if err != nil {
		return
	}
	j := judgementOf(ri)
	given := map[string]bool{}
	c.fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var kept []string
	if j.staleAfter != nil && !given["stale-after"] && *j.staleAfter != o.staleAfter {
		o.staleAfter = *j.staleAfter
		kept = append(kept, "--stale-after "+o.staleAfter.String())
	}
	if j.htmlMaxRows != nil && !given["html-max-rows"] && *j.htmlMaxRows != o.htmlMaxRows {
		o.htmlMaxRows = *j.htmlMaxRows
		kept = append(kept, fmt.Sprintf("--html-max-rows %d", o.htmlMaxRows))
	}
	if len(kept) > 0 {
		o.logf(stderr, "rendering %s again with the options its reports were judged by: %s (give them to change them)", shownPath(o.out), strings.Join(kept, ", "))
	}
}

// keepInputsJudgement is keepJudgement for reports written into another
// directory than their record's: a merge of shards (the Kubernetes merge
// job passes no --stale-after), or a run's reports written elsewhere. The
// inputs' run.json files say what their reports were judged by; when
// those that say agree, the rendering judges so, and says it; when they
// do not, it judges by the flag's value, and warns with theirs. An option
// given again is the user's.
func keepInputsJudgement(c *command, paths []string, stderr io.Writer) {
	o := c.o
	given := map[string]bool{}
	c.fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var stale []days
	var rows []int
	for _, p := range paths {
		ri, ok := ownRunInfo(filepath.Join(filepath.Dir(p), audit.RunFile))
		if !ok {
			continue // nothing said of its judgement
		}
		j := judgementOf(ri)
		if j.staleAfter != nil && !slices.Contains(stale, *j.staleAfter) {
			stale = append(stale, *j.staleAfter)
		}
		if j.htmlMaxRows != nil && !slices.Contains(rows, *j.htmlMaxRows) {
			rows = append(rows, *j.htmlMaxRows)
		}
	}
	var kept []string
	if !given["stale-after"] {
		switch {
		case len(stale) == 1 && stale[0] != o.staleAfter:
			o.staleAfter = stale[0]
			kept = append(kept, "--stale-after "+o.staleAfter.String())
		case len(stale) > 1:
			var vs []string
			for _, d := range stale {
				vs = append(vs, d.String())
			}
			fmt.Fprintf(stderr, "auditor: warning: the records were judged with --stale-after %s; these reports judge every one by --stale-after %s (give --stale-after to choose)\n", strings.Join(vs, ", "), o.staleAfter.String())
		}
	}
	if !given["html-max-rows"] {
		switch {
		case len(rows) == 1 && rows[0] != o.htmlMaxRows:
			o.htmlMaxRows = rows[0]
			kept = append(kept, fmt.Sprintf("--html-max-rows %d", o.htmlMaxRows))
		case len(rows) > 1:
			var vs []string
			for _, n := range rows {
				vs = append(vs, strconv.Itoa(n))
			}
			fmt.Fprintf(stderr, "auditor: warning: the records were rendered with --html-max-rows %s; these reports take --html-max-rows %d (give --html-max-rows to choose)\n", strings.Join(vs, ", "), o.htmlMaxRows)
		}
	}
	if len(kept) > 0 {
		o.logf(stderr, "rendering with the options the records' reports were judged by: %s (give them to change them)", strings.Join(kept, ", "))
	}
}

// ownRunInfo reads the run.json at path when it is the user's own regular
// file: another user's run.json beside a record, in a directory others may
// write to, is not its run's word. A link is followed, as mergedRunInfo
// reads it (audit.ReadRunInfo), so that both take the same file; the file
// checked is the file read, opened once, with no time between for the
// path to be made to name another.
func ownRunInfo(path string) (audit.RunInfo, bool) {
	f, st, err := audit.OpenRunInfo(path)
	if err != nil {
		return audit.RunInfo{}, false
	}
	defer f.Close()
	if !owner.Mine(st) {
		return audit.RunInfo{}, false
	}
	ri, err := audit.ReadRunInfoFrom(f, path)
	return ri, err == nil
}

// renderedOptions returns the options that ri, a run.json, says its
// reports were written with: those of their latest rendering again
// (auditor report in place), else the run's.
func renderedOptions(ri audit.RunInfo) map[string]any {
	if ri.Rendered != nil {
		return ri.Rendered.Options
	}
	return ri.Options
}

// judgement is what the reports of a run were judged by, as its run.json
// records it (renderedOptions). A field is nil where run.json records no
// value, or one that its flag would refuse.
type judgement struct {
	staleAfter  *days // --stale-after
	htmlMaxRows *int  // --html-max-rows
}

// judgementOf reads the judgement of the reports of ri, a run.json: what a
// rendering of them again, or a mail of them, judges by, so that neither
// counts as stale what the reports did not.
func judgementOf(ri audit.RunInfo) judgement {
	var j judgement
	opts := renderedOptions(ri)
	if v, ok := opts["stale_after"].(string); ok {
		var sa days
		if sa.Set(v) == nil {
			j.staleAfter = &sa
		}
	}
	// A JSON number: an integer of at least 0 is what the flag takes.
	if v, ok := opts["html_max_rows"].(float64); ok && v >= 0 && v == math.Trunc(v) {
		n := int(v)
		j.htmlMaxRows = &n
	}
	return j
}
