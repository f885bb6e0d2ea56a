package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/aws/smithy-go"
	"golang.org/x/net/http/httpproxy"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/awsconn"
	"github.com/auditor-dev/auditor/internal/atomicfile"
	"github.com/auditor-dev/auditor/internal/dirlock"
	"github.com/auditor-dev/auditor/internal/extsort"
	"github.com/auditor-dev/auditor/internal/outdir"
	"github.com/auditor-dev/auditor/internal/owner"
	"github.com/auditor-dev/auditor/internal/paceboard"
	"github.com/auditor-dev/auditor/report"
)

func runCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) (err error) {
	c := newCommand("run", stdout, stderr)
	o := c.o
	pos, err := c.parse(ctx, args, false, stdout)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("run: unexpected argument %q (instance lists go in --instances FILE)", shownArg(pos[0]))
	}
	o.line = givenFlags(c.fs.FlagSet, args)
	if o.out == "" {
		if o.resume {
			return o.joinProblems([]error{usagef("run: --resume needs --out DIR, the directory of the run to continue")})
		}
		o.out = "audit-{time}"
		o.outDefault = true
	}
	if o.resume && strings.Contains(o.out, "{time}") {
		return o.joinProblems([]error{usagef("run: --resume with {time} in --out would continue a new directory: name the run's own")})
	}
	// One instant for both, so that the upload's prefix names the run's
	// directory.
	now := o.now()
	var claim *outClaim
	if !o.resume && strings.Contains(o.out, "{time}") {
		if now, claim, err = claimTimedOut(ctx, o.out, now, o.now); err != nil {
			return err
		}
		// Refused before it wrote anything, it leaves nothing behind.
		defer func() {
			if err != nil {
				claim.release()
			}
		}()
	}
	// Named through a directory not made yet and back (e/y/..), it is
	// the directory it leads to, from here on: only that is made, and
	// every look at it before and after finds the same one.
	o.outNamed = expandOut(o.out, now)
	o.out = outdir.Clean(o.outNamed)
	upload := o.delivery.upload
	o.delivery.upload = expandOut(upload, now)
	if o.resume && o.delivery.upload != upload {
		// The run's date and time are its first attempt's: the resume
		// delivers where the run did.
		o.delivery.upload = resumedUpload(o, upload, o.delivery.upload)
	}
	_, statErr := os.Lstat(o.out)
	made := errors.Is(statErr, fs.ErrNotExist) || claim != nil
	// Given back, echo on, before the run's last words and its exit.
	o.prompt = newPrompter(ctx, func() time.Time { return o.deadline })
	defer o.prompt.close()
	j, err := o.prepare(ctx, stdin, stderr)
	if err != nil {
		return err
	}
	defer j.close()
	resume := o.resumeCommand()
	dieResume.Store(&resume)
	err = j.execute(ctx, stdout, stderr)
	if made && err != nil && j.dir != nil {
		// Refused or stopped once the directory was made, before anything
		// was written there (a --baseline of another account, told by
		// STS; a shard's --with-instance-info lookup, refused, out of
		// --timeout or interrupted): it leaves nothing behind. Anything
		// written keeps it.
		j.dir.CloseAndRemoveIfBare()
		j.dir = nil
	}
	return err
}

// job is one audit, from checked options to the verdict. Its steps are
// prepare (everything that needs no call), run: credentials, the output
// directory, the plan (resume), fetch, render, tell.
type job struct {
	o     *runOptions
	set   settings
	org   orgSpec
	fleet *audit.Fleet
	// fileLimit is the process's limit of open files (0: none known), and
	// sitesAtOnce the account-regions audited at once that it holds the
	// connections of (see sitesAtOnce).
	fileLimit   uint64
	sitesAtOnce int
	// workers is the most workers one account-region has (siteWorkers).
	workers int
	// list is the whole list's Fleet.Digest as the run read it, before
	// any account was filled in and before --shard: what every shard of
	// it, and its whole run, share (Part.List). "" for discovery.
	list string
	// board is how a shard paces each account-region with the others
	// (package paceboard); nil when it is no shard, or paced by --rate.
	board *paceboard.Board
	// unnamedRecord says the record --resume continues names no account
	// (written when it could not be learnt); learnt is the one these
	// credentials belong to, "" when unknown (checkRecordAccount).
	unnamedRecord bool
	learnt        string
	conn          *awsconn.Conn
	shard         string
	// shardK and shardN are the shard, -1 and 0 for none.
	shardK, shardN int
	// caller is the account the credentials belong to, once asked
	// (callerAsked); accountNames the names of the accounts in the
	// organisation.
	caller      string
	callerAsked bool
	// fill is the account that listed rows giving none are audited in
	// (the caller's, or a resumed record's).
	fill string
	// presumed is the account the rows of the record --resume continues
	// name, taken as the caller's when STS did not say whose the
	// credentials are; checkRecordAccount checks it as it does a record
	// that names none. "" when STS said, or the record names none.
	// callerErr is why STS did not say.
	presumed  string
	callerErr error
	// fresh is set when this attempt starts the record (no --resume, or
	// nothing to resume).
	fresh        bool
	accountNames map[string]string
	// escapedTags are the tag values written escaped, for the run's one
	// warning.
	escapedTags escapedTags
	// dir is the output directory, once opened and locked.
	dir *outdir.Dir
	// openDir opens the output directory; the demo opens its own kind.
	openDir func(string) (*outdir.Dir, error)
	info    audit.RunInfo
	// attempt is when this attempt of the run started (a --resume is
	// another): the reports judge what it reads stale from it, and so
	// does --triage.
	attempt time.Time
	errs    *errorTally
	// allowed holds the account-regions (siteOf) where an earlier attempt
	// of a resumed run has results with a verdict: SSM answered there.
	allowed map[[2]string]bool
	// onResult receives each result of the audit; deadline is --timeout's.
	onResult func(audit.Result) error
	deadline time.Time
	// discovered are the account-regions discovery looks in; disc lists
	// their nodes as the audit takes them (nil without --discover).
	discovered []site
	disc       *discovery
	// unlisted are the accounts whose regions could not be listed
	// (--regions all): account-regions of the run all the same, unknown.
	unlisted map[string]bool
	// members are the accounts the organisation lists as active now
	// (--accounts org); nil for a run that does not list them. A result
	// in the record of another account is of one that has left the
	// organisation (or been suspended) since: the run's all the same when
	// the record was written for this run's scope (see keepsDeparted).
	members map[string]bool
	// departed are the account-regions of accounts that have left the
	// organisation that an earlier attempt did not audit in full: they
	// could not be audited (see departedUnaudited).
	departed []audit.SiteStats
	// reportEmpty: render and deliver the reports even of an empty record.
	reportEmpty bool
	// torn counts the torn last lines cut off the record before the
	// audit appended to it: the record rendered has none left to count.
	torn int
	// unreachable are the account-regions given up on (see
	// audit.UnreachableError), for the closing lines to tell.
	unreachable []*audit.UnreachableError
	// regionFrom names the setting that the run's default region came
	// from (see regionSource).
	regionFrom string
	// listRegions are the regions the instance list's region column
	// names; listDefault is set when some of its rows name none, and are
	// audited in the default region (see noteListRegions).
	listRegions []string
	listDefault bool
	// audited counts the instances this attempt finished, in error or
	// not, and verdicts those of them that got a verdict (the reports'
	// audited instances), for the closing lines to tell.
	audited, verdicts int
}

// prepare checks every precondition that needs no call to AWS and reports
// every problem it finds at once: the flags, the lists, the AWS
// configuration (profile, region, endpoint), the output directory and,
// with --resume, the record to continue. An output directory that exists
// is locked here; a new one is created only once the run will write into
// it.
func (o *runOptions) prepare(ctx context.Context, stdin io.Reader, stderr io.Writer) (*job, error) {
	if o.timeout > 0 && o.deadline.IsZero() {
		// A scheduled run is bounded from its start: a list that does not
		// end, or credentials that hang, count against it too.
		o.deadline = o.now().Add(o.timeout)
	}
	set, problems := o.check()
	spec, orgProblems := o.checkOrg()
	problems = append(problems, orgProblems...)
	fleet, err := o.loadFleet(ctx, stdin, stderr)
	if errors.Is(err, errInterrupted) {
		return nil, err
	}
	var inputErr error
	if err != nil {
		var ie *audit.InputError
		if errors.As(err, &ie) && len(problems) == 0 {
			inputErr = err // reported as it is, with its own hint
		} else {
			problems = append(problems, err)
		}
	}
	j := &job{o: o, set: set, org: spec, fleet: fleet, openDir: o.openDir, errs: &errorTally{}, shardK: -1}
	if j.openDir == nil {
		j.openDir = outdir.Open
	}
	reach := o.awsSettings()
	reach.HomeRegion = o.homeRegion(spec, fleet)
	conn, err := awsconn.Load(ctx, reach)
	var ce *awsconn.ConfigError
	switch {
	case err == nil:
	case errors.As(err, &ce) && ce.Setting == "endpoint" && o.endpointURL != "":
		// --endpoint-url's problem, already among the flags' problems.
	default:
		problems = append(problems, err)
	}
	j.conn = conn
	if conn != nil {
		o.endpointVariant = conn.SSMVariants(o.region)
	}
	if conn != nil && o.endpointURL == "" {
		// The region does not change which endpoint is configured; the
		// client knows whether one is (the SDK may be told to ignore them
		// all).
		if c, err := conn.SSM(o.region); err == nil && c.Options().BaseEndpoint != nil {
			o.configuredEndpoint, o.endpointFrom = *c.Options().BaseEndpoint, j.endpointSource(o.region)
		}
	}
	if conn != nil {
		if err := conn.CheckEndpointsOf(o.otherServices(spec)...); err != nil {
			problems = append(problems, err)
		}
		if err := o.delivery.sesRegionProblem(conn.Region()); err != nil {
			problems = append(problems, err)
		}
	}
	if fleet != nil && conn != nil {
		region := o.region
		j.regionFrom = "--region"
		if region == "" {
			region, j.regionFrom = conn.Region(), conn.RegionSource()
		}
		if region != "" {
			if p := audit.ValidRegion(region); p != "" {
				problems = append(problems, usagef("region %q (from --region or the AWS configuration): %s", region, p))
			}
		}
		o.region = region
		if spec.allRegions && conn.HomeRegion() == "" {
			problems = append(problems, usagef("--regions all: no region to ask EC2 for each account's regions in, nor to call STS and Organizations in: pass --region or set AWS_REGION"))
		}
		if err := j.checkListedRegions(region); err != nil {
			problems = append(problems, err)
		}
		j.noteListRegions(fleet.Regions())
		// Targets carry their region from here on, so that they match the
		// record of an earlier run whatever told it the region, and one
		// instance named twice is one target.
		fleet.ApplyDefaults(region, "")
		if !o.discover {
			j.list = fleet.Digest()
		}
		regions := fleet.Regions()
		if o.discover {
			regions = append(regions, spec.regions...)
			if len(spec.regions) == 0 && !spec.allRegions {
				regions = append(regions, region)
			}
		}
		toldAside, toldNoRegion := false, false
		for _, r := range regions {
			if r == "" {
				// Told once: the list's targets without one, and
				// discovery's, each its own.
				if !toldNoRegion {
					toldNoRegion = true
					if o.discover && len(spec.regions) == 0 && !spec.allRegions {
						problems = append(problems, usagef("no region to discover in: pass --regions (or --region), or set AWS_REGION"))
					}
					if msg := noRegionFor(fleet.Targets()); msg != "" {
						problems = append(problems, usagef("%s", msg))
					}
				}
				continue
			}
			if audit.ValidRegion(r) != "" {
				// Its problem is told already (--region, the list's
				// region column, --regions); the endpoint rules would
				// only blame the FIPS and dual-stack settings for it.
				continue
			}
			if err := conn.CheckSSMEndpoint(r); err != nil {
				problems = append(problems, usagef("endpoint for %s: %v", r, insecureHint(err)))
				break
			}
			if aside := conn.VariantsLeftAside(r); len(aside) > 0 && !toldAside {
				toldAside = true
				verb := "is"
				if len(aside) > 1 {
					verb = "are"
				}
				o.logf(stderr, "%s %s set, and SSM's endpoint is given: it is used as it is, as the AWS CLI does; make sure it is the endpoint you want", strings.Join(aside, " and "), verb)
			}
		}
		if o.shard != "" {
			if k, n, err := parseShard(o.shard, o.shardCount, o.getenv); err == nil {
				j.shardK, j.shardN = k, n
				j.shard = fmt.Sprintf("%d/%d", k, n)
			}
		}
		if err := o.keepBaseline(stderr); err != nil {
			problems = append(problems, err)
		} else if _, known := j.discoveryAccounts(); known {
			// A discovery of the caller's account or its organisation's
			// knows its targets once STS has said whose: execute takes
			// --baseline previous then.
			self := audit.RunInfo{Parts: []audit.Part{j.part()}, Options: o.record()}
			if err := o.resolvePrevious(self, stderr); err != nil {
				problems = append(problems, err)
			}
		}
	}
	if o.resume {
		if err := checkResumedRun(o.out); err != nil {
			problems = append(problems, err)
		}
	}
	var notWritable error
	if err := outdir.Check(o.outGiven()); err != nil {
		switch {
		case errors.Is(err, outdir.ErrShared):
			problems = append(problems, o.sharedOut(err))
		case errors.Is(err, outdir.ErrNotDir):
			problems = append(problems, usagef("--out %v: name a directory", err))
		default:
			notWritable = outNotWritable(err, o.outDefault)
		}
	} else if err := checkForeignRecord(o.out); err != nil {
		problems = append(problems, err)
	} else if err := checkOthersOutputs(o.out); err != nil {
		problems = append(problems, err)
	} else if err := checkReportPaths(o.out, set.formats); err != nil {
		notWritable = err
	}
	if err := checkSplit(o.out, o.splitBy); err != nil {
		problems = append(problems, err)
	}
	if len(problems) > 0 {
		if notWritable != nil {
			problems = append(problems, notWritable)
		}
		return nil, o.joinProblems(problems)
	}
	if inputErr != nil {
		return nil, o.joinProblems([]error{inputErr})
	}
	if notWritable != nil {
		return nil, notWritable
	}
	if err := ctx.Err(); err != nil {
		return nil, errInterrupted
	}
	// A directory that exists is locked now: another auditor writing it
	// is found before credentials are asked for, and it holds still.
	if st, err := os.Stat(o.out); err == nil && st.IsDir() {
		if err := j.open(); err != nil {
			return nil, err
		}
		if j.hasRecord() {
			// Checked again now that the directory holds still.
			if err := checkForeignRecord(o.out); err != nil {
				j.close()
				return nil, err
			}
			if !o.resume {
				j.close()
				return nil, usagef("%s already holds a record: pass --resume to continue it, or another --out", shownPath(o.out))
			}
			if err := checkResumedRunFile(o.out, o.now()); err != nil {
				j.close()
				return nil, err
			}
		}
	}
	return j, nil
}

// pacedTogether says that the shards of this list pace each
// account-region's limit together, through the directories beside this
// one (package paceboard): a discovery shard owns its account-regions,
// and --rate paces alone.
func (j *job) pacedTogether() bool {
	return j.shardN > 1 && j.o.rate == 0 && !j.o.discover
}

// startBoard opens the output directory and starts this shard's side of
// the pace board, before the first call on an account-region the shards
// share: --with-instance-info's lookup, or else the audit. It does
// nothing the second time, or when the shard paces alone. execute
// closes the board.
func (j *job) startBoard() error {
	if j.board != nil || !j.pacedTogether() {
		return nil
	}
	if err := j.open(); err != nil {
		return err
	}
	j.board = paceboard.Start(j.o.out, cmp.Or(j.list, j.fleet.Digest()), j.shardK, j.shardN)
	return nil
}

// open opens and locks the output directory. It does nothing the second
// time.
func (j *job) open() error {
	if j.dir != nil {
		return nil
	}
	d, err := j.openDir(j.o.out)
	if err != nil {
		return outError(j.o.outGiven(), err)
	}
	j.dir = d
	return nil
}

// outNotWritable says that --out, as outdir.Check found, cannot be
// written. The default, which the user did not type, is named as the
// default, with what to do.
func outNotWritable(err error, byDefault bool) error {
	var ce *outdir.Error
	if byDefault && errors.As(err, &ce) {
		return fmt.Errorf("--out %s (the default, in the working directory): %w; pass --out DIR to write elsewhere", ce.Dir, ce.Err)
	}
	return fmt.Errorf("--out %w", err)
}

// sharedOut refuses an --out that outdir.Check finds shared with others'
// files (outdir.ErrShared: the root of the file system, the home
// directory), and says what to give instead: the command's default, or
// one like it.
func (o *runOptions) sharedOut(err error) error {
	example := "./audit-{time}"
	if o.demo {
		example = "./auditor-demo"
	}
	return usagef("--out %v: give one such as %s", err, example)
}

// outError says why --out could not be opened, and what to do: wait when
// another auditor holds it, choose another when it is not ours or cannot
// be locked.
func outError(out string, err error) error {
	switch {
	case errors.Is(err, dirlock.ErrBusy):
		return fmt.Errorf("--out %s: %w; wait for it, or choose another --out", shownPath(out), err)
	case errors.Is(err, dirlock.ErrNoLocks):
		return fmt.Errorf("--out %s: %w: choose an --out on a local disk or one with locks", shownPath(out), err)
	}
	return fmt.Errorf("--out %s: %w; choose another --out", shownPath(out), err)
}

// checkOthersOutputs refuses an --out that holds files a run or a report
// would replace (report.html, summary.json, ...) when no run of the
// auditor wrote them: the directory holds neither a run.json of the
// auditor nor a record. Nothing the auditor did not make is ever replaced.
// A results.jsonl that is no record of the auditor is checkForeignRecord's.
func checkOthersOutputs(dir string) error {
	if ri, err := audit.ReadRunInfo(filepath.Join(dir, audit.RunFile)); err == nil && ri.Schema > 0 {
		return nil
	}
	if st, err := os.Stat(filepath.Join(dir, audit.ResultsFile)); err == nil && st.Size() > 0 {
		return nil // a record: --resume's, or refused as another run's
	}
	var found []string
	for _, name := range reportNames {
		if st, err := os.Lstat(filepath.Join(dir, name)); err == nil && !st.IsDir() {
			found = append(found, name)
		}
	}
	if len(found) == 0 {
		return nil
	}
	return usagef("--out %s holds %s, which the reports would replace, and no run of the auditor: choose another --out, or move them away", dir, strings.Join(found, ", "))
}

// checkForeignRecord refuses an --out whose results.jsonl is no record of
// the auditor: its first line is not a result (audit.ErrNotResult), as in
// another program's JSON-lines log. A run would append to it, a --resume
// continue it and cut its torn last line off, a merge replace it: none is
// the auditor's to do, so the advice is another --out, never --resume. An
// empty record, a torn line alone, and a result of another schema are left
// to the checks that know them; so is a results.jsonl that is not a
// regular file, which is not opened here (a pipe would not answer).
func checkForeignRecord(dir string) error {
	record := filepath.Join(dir, audit.ResultsFile)
	if st, err := os.Stat(record); err != nil || !st.Mode().IsRegular() || st.Size() == 0 {
		return nil
	}
	f, err := os.Open(record)
	if err != nil {
		return nil
	}
	defer f.Close()
	_, err = audit.ReadRecord(f, record, func(audit.Result) error { return errFirstResult })
	if !errors.Is(err, audit.ErrNotResult) {
		return nil
	}
	return usagef("--out %s: %v: %s is not a record of the auditor, which neither continues nor replaces it: choose another --out, or move it away", dir, plain(err.Error(), 0), audit.ResultsFile)
}

// checkResumedRun refuses, for --resume, a record whose run.json this
// auditor cannot read as its own (audit.RunInfoError: a newer auditor's
// schema, another program's JSON): the resume would write it again as
// this schema, what it does not know of it dropped. A directory without a
// record resumes nothing.
func checkResumedRun(dir string) error {
	if st, err := os.Stat(filepath.Join(dir, audit.ResultsFile)); err != nil || st.Size() == 0 {
		return nil
	}
	_, err := audit.ReadRunInfo(filepath.Join(dir, audit.RunFile))
	switch {
	case err == nil || errors.Is(err, fs.ErrNotExist):
		return nil
	case errors.Is(err, audit.ErrNotRegular):
		return usagef("--resume: %v; put the run's own %s there, or move it away, or start anew with another --out", err, audit.RunFile)
	}
	return usagef("--resume: %v; resume it with the auditor that wrote it, or start anew with another --out", err)
}

// checkResumedRunFile refuses, for --resume, a run.json that is not the
// record's beside it in dir (audit.RunInfo.Mismatch, as report refuses
// it: another run's put there), with the attempts killed before they
// wrote it whose starts dir kept: the resume would write it again as the
// record's, and the next report refuse it. A record that cannot be read
// is plan's to tell. The caller holds dir's lock.
func checkResumedRunFile(dir string, now time.Time) error {
	ri, ok := resumedRun(dir)
	if !ok {
		return nil
	}
	record := filepath.Join(dir, audit.ResultsFile)
	rs, err := openRecords(dir, record)
	if err != nil {
		return nil
	}
	defer rs.Close()
	ri.JoinKept(audit.ReadAttempts(filepath.Join(dir, audit.AttemptsFile), time.Time{}), now)
	if why := ri.Mismatch(rs.Input(0)); why != "" {
		return usagef("--resume: %s is not the %s of %s beside it: %s; it is another audit's: put the record's own %s there, or start anew with another --out",
			filepath.Join(dir, audit.RunFile), audit.RunFile, record, why, audit.RunFile)
	}
	return nil
}

// checkSplit refuses, before the first call, a by-LABEL directory of --out
// that a split by label would replace and that no split made (exit 2), or
// that another user's split made (exit 4: a retry under another UID).
func checkSplit(out, label string) error {
	if label == "" {
		return nil
	}
	err := report.CheckSplit(out, label)
	if errors.Is(err, report.ErrOthersSplit) {
		// Not the flags' fault but who runs them (a retry under another
		// UID): exit 4, as the other setup errors.
		return fmt.Errorf("split by %q: %w", label, err)
	}
	if err != nil {
		return usagef("split by %q: %v", label, err)
	}
	return nil
}

// reportNames are the files a run writes at the top of its directory.
var reportNames = []string{report.HTMLFile, report.XLSXFile, report.SummaryFile, report.InstancesCSV,
	report.AssociationsCSV, report.ErrorCodesCSV, report.ChangesCSV, audit.RunFile}

// checkReportPaths refuses, with an error wrapping ErrNotWritable, a
// directory (or another file that is not a plain file or a link) where run.json
// or a report of formats goes: found before the first call, not after the
// audit.
func checkReportPaths(dir string, formats []report.Format) error {
	names := []string{audit.RunFile}
	for _, f := range formats {
		names = append(names, f.Files()...)
	}
	for _, name := range names {
		if st, err := os.Lstat(filepath.Join(dir, name)); err == nil && !st.Mode().IsRegular() && st.Mode()&fs.ModeSymlink == 0 {
			return fmt.Errorf("--out %s: %w: %s is not a file, and the report of that name goes there; move it away", dir, atomicfile.ErrNotWritable, name)
		}
	}
	return nil
}

// hasRecord reports whether the output directory holds a record: a file
// that is not empty (an empty one is no record).
func (j *job) hasRecord() bool {
	st, err := os.Stat(j.recordPath())
	return err == nil && st.Size() > 0
}

func (j *job) close() {
	if j.dir != nil {
		j.dir.Close()
		j.dir = nil
	}
}

func (j *job) recordPath() string { return filepath.Join(j.o.out, audit.ResultsFile) }

// plan applies --resume to the targets: it drops those that the record
// holds with a verdict, and refuses a record of another audit and targets
// that are not those of the run its run.json describes (or, killed before
// it wrote one, those it kept in targetsFile: a *keptTargetsError). Without
// --resume, a directory that already holds a record is refused: appending to
// another run's record would mix two audits. An empty record is no record.
func (j *job) plan(stderr io.Writer) error {
	o := j.o
	j.info = audit.RunInfo{
		Schema:    audit.Schema,
		Version:   appVersion(),
		StartedAt: j.attempt,
		Attempts:  []time.Time{j.attempt},
		Options:   o.record(),
	}
	part := j.part()
	j.info.Parts = []audit.Part{part}
	j.info.Targets, j.info.Duplicates, j.info.Invalid = part.Targets, part.Duplicates, part.Invalid

	exists := j.hasRecord()
	j.fresh = !exists
	if !o.resume {
		if exists {
			return usagef("%s already holds a record: pass --resume to continue it, or another --out", shownPath(o.out))
		}
		return nil
	}
	if !exists {
		o.logf(stderr, "nothing to resume in %s: starting a new record", shownPath(o.out))
		return nil
	}
	if err := j.resumedOptions(stderr); err != nil {
		return err
	}
	if prev, ok := j.previousRun(); ok {
		warnUnknownFields(stderr, filepath.Join(o.out, audit.RunFile), prev)
		// Most of the record may be the earlier attempts': its run.json
		// says each version that wrote it, and the options they ran with
		// that this one does not, as its reader needs them.
		j.info.Resumes(prev)
	}
	rs, err := openRecords(o.out, j.recordPath())
	if err != nil {
		return recordError("--resume", err)
	}
	defer rs.Close()
	scope := audit.Scope{Account: j.caller}
	kept := false
	if prev, ok := j.previousRun(); ok && len(prev.Parts) == 1 {
		// A resume continues the run in --out: other targets would drop
		// those it has yet to audit, or add others to it, and call it
		// complete.
		scope.Run, scope.Given = &prev.Parts[0], part
	} else if !ok {
		// A run killed before its run.json kept its targets first.
		if began, ok := startedTargets(o.out); ok {
			scope.Run, scope.Given, kept = &began, part, true
		}
	}
	departed := map[string]int{}
	// held counts the record's results with a verdict of the departed
	// accounts by account-region; gone holds their results' keys.
	held := map[[2]string]int{}
	gone := map[audit.Key]bool{}
	if o.discover {
		// Nodes found last time may be gone now: a result of the same
		// account-regions is this audit's, whatever discovery finds today.
		sites := map[[2]string]bool{}
		for _, b := range j.fleet.Batches() {
			sites[[2]string{b.AccountID, b.Region}] = true
		}
		for _, s := range j.discovered {
			sites[[2]string{s.account, s.region}] = true
		}
		keepsDeparted := j.keepsDeparted()
		scope.InScope = func(k audit.Key) bool {
			switch {
			case sites[[2]string{k.AccountID, k.Region}] || j.unlisted[k.AccountID]:
				return true
			case keepsDeparted && k.AccountID != "" && !j.members[k.AccountID] &&
				(j.shardK < 0 || audit.SiteIn(k.AccountID, k.Region, j.shardK, j.shardN)):
				departed[k.AccountID]++
				gone[k] = true
				return true
			}
			return false
		}
		// A departed account's results with a verdict count as audited
		// then; one in error is a node the run never audited, which no
		// resume can (departedUnaudited).
		scope.Earlier = func(k audit.Key, verdict bool) {
			if j.disc != nil {
				j.disc.earlierResult(k, verdict)
			}
			switch {
			case verdict && gone[k]:
				held[[2]string{k.AccountID, k.Region}]++
			case gone[k]:
				j.errs.departed++
				j.errs.site(k.AccountID, k.Region)
			}
		}
		if j.disc != nil {
			scope.Dropped = func(k audit.Key) { j.disc.listed[k] = true }
		}
	}
	relabelled := 0
	scope.Relabelled = func(audit.Key) { relabelled++ }
	j.allowed = map[[2]string]bool{}
	scope.Verdict = func(k audit.Key) { j.allowed[j.siteOf(k.AccountID, k.Region)] = true }
	done, err := audit.Resume(rs, j.fleet, scope)
	if te := (*audit.TargetsError)(nil); kept && errors.As(err, &te) {
		return &keptTargetsError{err}
	}
	if err != nil {
		return err
	}
	if at, ok := o.resumedStart(); ok {
		// Each attempt's results are judged stale from its start: this
		// one's joins those before it (those kept in --out are read up to
		// now; run.json's are kept whatever a clock said, as started_at
		// is), and so do those the record's lines name, so that run.json
		// names every attempt that read its record (RunInfo.Mismatch): an
		// attempt killed before it kept its start, whose first result
		// stands for it, named its own. Before a run.json's start, a line
		// is not of its run.
		attempts := o.resumedAttempts()
		prev, described := j.previousRun()
		named := rs.Input(0).Attempts
		if !described && len(named) > 0 && !named[0].After(attempts[0]) &&
			!slices.ContainsFunc(audit.ReadAttempts(filepath.Join(o.out, audit.AttemptsFile), o.now()), attempts[0].Equal) {
			// The first result stood for the first attempt's start,
			// which the lines name.
			attempts = attempts[1:]
		}
		for _, a := range named {
			if !described || !a.Before(prev.StartedAt) {
				attempts = append(attempts, a)
			}
		}
		attempts = append(attempts, j.attempt)
		slices.SortFunc(attempts, time.Time.Compare)
		j.info.Attempts = slices.CompactFunc(attempts, time.Time.Equal)
		j.info.StartedAt = at
		if !described {
			// The first attempt's own start, where its lines name it.
			j.info.StartedAt = j.info.Attempts[0]
		}
	}
	j.info.Resumed = done
	// The runs its first attempt passed over as dated ahead: it came
	// after them, resumed or not (killed before its run.json, as that
	// attempt kept them).
	if prev, ok := j.previousRun(); ok {
		j.info.RanAfter = prev.RanAfter
	} else if k, ok := startedKept(o.out); ok {
		j.info.RanAfter = k.RanAfter
	}
	if o.discover && j.keepsDeparted() {
		inRecord := map[[2]string]bool{}
		for k := range gone {
			inRecord[[2]string{k.AccountID, k.Region}] = true
		}
		j.departed = j.departedUnaudited(held, inRecord)
	}
	for _, a := range slices.Sorted(maps.Keys(departed)) {
		fmt.Fprintf(stderr, "auditor: warning: account %s is no longer among the organisation's active accounts: its %s in the record %s kept as audited then, not audited again\n",
			a, plural(departed[a], "result"), map[bool]string{true: "is", false: "are"}[departed[a] == 1])
	}
	if j.disc != nil {
		// Every verdict of the record is taken as it is, whether
		// discovery finds its node again or not (its account-region
		// failing sooner this time, or the node gone).
		for _, verdict := range j.disc.earlier {
			if verdict {
				j.info.Resumed++
			}
		}
		o.logf(stderr, "resuming %s: %d instances already audited, to be skipped as discovery finds them (torn lines dropped: %d)", shownPath(o.out), j.info.Resumed, rs.Torn)
		return nil
	}
	again := ""
	if relabelled > 0 {
		again = fmt.Sprintf(", %d audited again as their labels in the list changed", relabelled)
	}
	o.logf(stderr, "resuming %s: %d instances already audited, %d to go%s (torn lines dropped: %d)", shownPath(o.out), done, j.fleet.Len(), again, rs.Torn)
	return nil
}

// keptTargetsError is the *audit.TargetsError of a resume checked against
// the targets its run kept in targetsFile, killed before it wrote its
// run.json: the refusal names that file, not a run.json there is not.
type keptTargetsError struct{ err error }

func (e *keptTargetsError) Error() string { return e.err.Error() }
func (e *keptTargetsError) Unwrap() error { return e.err }

// keepsDeparted reports whether the record that --resume continues keeps
// the results of accounts that have left the organisation since: when its
// run.json says it was written for this run's scope (the same organisation,
// seen from the same management account, less the same accounts, in the
// same regions, with the same filters: audit.DiscoveryScope) and shard.
// Without a run.json (a first attempt killed before it wrote one) nothing
// tells such results from another organisation's: they are not kept.
func (j *job) keepsDeparted() bool {
	if j.members == nil {
		return false
	}
	prev, ok := j.previousRun()
	if !ok || len(prev.Parts) != 1 {
		return false
	}
	was, now := prev.Parts[0], j.info.Parts[0]
	return now.Discovered() && !was.OldDiscovery() && was.Fleet == now.Fleet && was.Shard == now.Shard
}

// departedUnaudited returns the account-regions of accounts that have left
// the organisation that the record's run did not audit in full: some of
// the nodes it discovered there are not in the record (held counts its
// results of each), or it could not audit the account-region at all, or,
// the run stopped, its last attempt had not listed every node there (or
// not reached it, though the record holds results there: inRecord). A
// resume cannot audit them, as it cannot assume a role there, and the run
// cannot vouch for them. Each keeps what its run discovered, so that the
// next resume tells the same.
func (j *job) departedUnaudited(held map[[2]string]int, inRecord map[[2]string]bool) []audit.SiteStats {
	prev, ok := j.previousRun()
	if !ok {
		return nil
	}
	sites := slices.Clone(prev.Sites)
	for _, k := range slices.SortedFunc(maps.Keys(inRecord), func(a, b [2]string) int { return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1])) }) {
		if !slices.ContainsFunc(sites, func(s audit.SiteStats) bool { return s.AccountID == k[0] && s.Region == k[1] }) {
			// Results of an earlier attempt where the last did not go.
			sites = append(sites, audit.SiteStats{AccountID: k[0], Region: k[1]})
		}
	}
	var out []audit.SiteStats
	for _, s := range sites {
		if s.AccountID == "" || j.members[s.AccountID] {
			continue
		}
		n := held[[2]string{s.AccountID, s.Region}]
		left := audit.SiteStats{AccountID: s.AccountID, Region: s.Region, Discovered: s.Discovered, Listed: s.Listed}
		gone := func(why string, args ...any) *audit.Error {
			return &audit.Error{Code: audit.CodeAccountNotActive,
				Message: fmt.Sprintf("account %s is no longer among the organisation's active accounts: ", s.AccountID) + fmt.Sprintf(why, args...)}
		}
		switch {
		case s.Error != nil && s.Error.Code == audit.CodeAccountNotActive:
			// Told by an earlier resume: the account is still gone.
			left.Error = s.Error
		case s.Error == nil && !s.Listed && !prev.Whole():
			// A run whose last attempt stopped before it had listed
			// them all (or written before listings were told apart):
			// the nodes not listed are neither targets nor results.
			listed := ""
			if s.Discovered > 0 {
				listed = fmt.Sprintf(" (%s listed)", plural(s.Discovered, "node"))
			}
			left.Error = gone("an earlier attempt stopped before it had listed every node here%s", listed)
		case s.Discovered > n:
			left.Error = gone("%d of its %s discovered here by an earlier attempt %s not audited",
				s.Discovered-n, plural(s.Discovered, "node"), map[bool]string{true: "was", false: "were"}[s.Discovered-n == 1])
		case s.Error != nil:
			left.Error = gone("an earlier attempt could not audit it here (%s)", s.Error.Code)
		default:
			continue
		}
		out = append(out, left)
	}
	return out
}

// keepAttempts writes the run's attempts, this one's start included, to
// --out's audit.AttemptsFile before the attempt records anything, so that
// a resume knows this start even if the attempt is killed before its
// run.json. It is called under the directory's lock, once the attempt is
// past every check that may refuse it: a refused attempt reads nothing and
// adds no start. A file that cannot be written costs only that, and the
// run goes on: it says so.
func (j *job) keepAttempts(stderr io.Writer) {
	if err := audit.WriteAttempts(filepath.Join(j.o.out, audit.AttemptsFile), j.info.Attempts); err != nil {
		fmt.Fprintf(stderr, "auditor: warning: --out %s: this attempt's start could not be kept (%v): if it is killed before it writes %s, a resume judges what it read from the attempt before it\n",
			j.o.out, err, audit.RunFile)
	}
}

// keepBaselineChoice writes, for a run's first attempt, the baseline it
// compares with to --out's baselineFile before the attempt records
// anything, so that a resume keeps to it even if the attempt is killed
// before its run.json (see startedWith). As for keepAttempts, a file that
// cannot be written costs only that: the run says so, and goes on.
func (j *job) keepBaselineChoice(stderr io.Writer) {
	if !j.fresh {
		return
	}
	kept := ""
	if b := j.o.base; b != nil {
		kept = pathFrom(j.o.out, b.Path) + "\n"
	}
	if err := atomicfile.WriteFile(filepath.Join(j.o.out, baselineFile), []byte(kept)); err != nil {
		fmt.Fprintf(stderr, "auditor: warning: --out %s: the baseline this run compares with could not be kept (%v): if it is killed before it writes %s, a resume cannot tell which it started with\n",
			j.o.out, err, audit.RunFile)
	}
}

// keepTargets writes, for a run's first attempt, its part (the targets it
// audits, as run.json keeps them) to --out's targetsFile before the attempt
// records anything, so that a resume of an attempt killed before its
// run.json refuses other targets as it would with one (see
// startedTargets). As for keepAttempts, a file that cannot be written
// costs only that: the run says so, and goes on.
func (j *job) keepTargets(stderr io.Writer) {
	if !j.fresh {
		return
	}
	b, err := json.Marshal(j.info.Parts[0])
	if err == nil {
		err = atomicfile.WriteFile(filepath.Join(j.o.out, targetsFile), append(b, '\n'))
	}
	if err != nil {
		fmt.Fprintf(stderr, "auditor: warning: --out %s: the targets of this run could not be kept (%v): if it is killed before it writes %s, a resume cannot tell them from others\n",
			j.o.out, err, audit.RunFile)
	}
}

// keepStart writes, for a run's first attempt, what it knew as it started
// and its run.json keeps (keptStart) to --out's startFile before the
// attempt records anything. As for keepAttempts, a file that cannot be
// written costs only that: the run says so, and goes on.
func (j *job) keepStart(stderr io.Writer) {
	if !j.fresh {
		return
	}
	b, err := json.Marshal(keptStart{Upload: j.o.delivery.upload, RanAfter: j.ranAfter()})
	if err == nil {
		err = atomicfile.WriteFile(filepath.Join(j.o.out, startFile), append(b, '\n'))
	}
	if err != nil {
		fmt.Fprintf(stderr, "auditor: warning: --out %s: what this run knew at its start could not be kept (%v): if it is killed before it writes %s, a resume may upload under another prefix, and --baseline previous rank it otherwise\n",
			j.o.out, err, audit.RunFile)
	}
}

// ranAfter returns the starts of the runs dated ahead that this attempt
// came after: those --baseline previous passed over, and its baseline
// when it is dated ahead (--baseline DIR, as passing it over advises).
func (j *job) ranAfter() []time.Time {
	out := slices.Clone(j.o.ranAfter)
	if b := j.o.base; b != nil && b.At.After(j.info.StartedAt) {
		out = append(out, b.At)
	}
	return out
}

// part is the run's part of run.json: the targets it audits.
func (j *job) part() audit.Part {
	o := j.o
	part := audit.Part{Fleet: j.fleet.Digest(), List: j.list, Shard: j.shard, Targets: j.fleet.Len(), Duplicates: j.fleet.Duplicates, Invalid: len(j.fleet.Invalid)}
	if o.discover {
		// What discovery finds changes from run to run: the part is the
		// scope, not the targets found; the scope resolved, as the text of
		// the options is one for runs of any --region or any caller.
		accounts, _ := j.discoveryAccounts()
		regions := j.org.regions
		switch {
		case j.org.allRegions:
			regions = []string{"all"}
		case len(regions) == 0:
			regions = []string{o.region}
		}
		part.Fleet = audit.DiscoveryScope(accounts, regions, o.filters.vals)
		part.List = part.Fleet
	}
	if o.skipInvalid {
		part.Targets += len(j.fleet.Invalid)
	}
	return part
}

// discoveryAccounts returns the accounts of a discovery's scope (see
// audit.DiscoveryScope), and whether they are known yet: the caller's
// account, or the organisation's, are known once STS was asked. It is known,
// and nil, for a run that does not discover.
func (j *job) discoveryAccounts() ([]string, bool) {
	spec := j.org
	if !j.o.discover {
		return nil, true
	}
	var out []string
	switch {
	case spec.org:
		out = append(out, "org@"+j.caller)
		for _, a := range spec.exclude {
			out = append(out, "!"+a)
		}
	case len(spec.accounts) > 0:
		for _, a := range spec.accounts {
			if !slices.Contains(spec.exclude, a.ID) {
				out = append(out, a.ID)
			}
		}
	default:
		out = append(out, j.caller)
	}
	return out, j.callerAsked || len(spec.accounts) > 0
}

// soleAccount returns the one account the run audits: "" when it audits
// several, or cannot name it.
func (j *job) soleAccount() string {
	accounts := map[string]bool{}
	for _, b := range j.fleet.Batches() {
		accounts[b.AccountID] = true
	}
	for _, s := range j.discovered {
		accounts[s.account] = true
	}
	if len(accounts) != 1 {
		return ""
	}
	for a := range accounts {
		return a
	}
	return ""
}

// discoveryPrefix begins the part of a discovery run: its scope.
const discoveryPrefix = audit.DiscoveryPrefix

// execute does the rest of the job: credentials, output directory, fetch,
// render, verdict.
func (j *job) execute(ctx context.Context, stdout, stderr io.Writer) error {
	o := j.o
	// --timeout bounds the credentials' check and the accounts' listing
	// too: a credential process or an STS endpoint that hangs must not
	// hold a scheduled run past it.
	early := ctx
	if !o.deadline.IsZero() {
		var cancel context.CancelFunc
		early, cancel = context.WithDeadline(ctx, o.deadline)
		defer cancel()
	}
	// stopped is the error of a run that a signal or --timeout stopped
	// while doing, before any instance was audited. (A signal ends early
	// too: pastDeadline(early) is true of both.)
	stopped := func(doing string) error {
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", doing, errInterrupted)
		}
		return fmt.Errorf("%s: --timeout %s ran out: %w", doing, o.timeout, errTimedOut)
	}
	if err := j.conn.CheckCredentials(early); err != nil {
		if pastDeadline(early) {
			return stopped("checking the credentials")
		}
		return err // a *audit.CredentialsError: fatal, and says so itself
	}
	j.attempt = o.now().UTC()
	session := audit.NewSession(j.auditConfig())
	defer func() {
		if j.board != nil { // started by the lookup, or below
			j.board.Close()
		}
	}()
	start := o.now() // the fetch begins with discovery
	failedSites, err := j.orgTargets(early, session, stderr)
	if err != nil {
		if stoppedBy(ctx, early, err) {
			doing := "finding the accounts and regions to audit"
			if se := (*stepError)(nil); errors.As(err, &se) {
				doing = se.doing
			}
			return stopped(doing)
		}
		return err
	}
	if err := j.open(); err != nil {
		return err
	}
	if err := j.startBoard(); err != nil {
		return err
	}
	if err := j.plan(stderr); err != nil {
		return err
	}
	if (j.unnamedRecord || j.presumed != "") && (j.fleet.Len() > 0 || j.disc != nil) {
		if err := j.checkRecordAccount(early, j.learnt); err != nil {
			if pastDeadline(early) {
				return stopped("confirming the record's account")
			}
			return err
		}
	}
	// For a discovery whose accounts were not known before (see
	// discoveryAccounts); nothing when --baseline previous was resolved.
	self := audit.RunInfo{Parts: []audit.Part{j.part()}, Options: o.record()}
	if err := o.resolvePrevious(self, stderr); err != nil {
		return err
	}
	if err := o.openBaseline(j.recordPath(), j.soleAccount(), stderr); err != nil {
		return err
	}
	defer o.closeBaseline()
	if d := j.disc; d != nil && o.base != nil {
		if err := d.seedBaseline(self, o.base); err != nil {
			return fmt.Errorf("--baseline %s: %w", o.base.Path, err)
		}
	}
	j.keepAttempts(stderr)
	j.keepBaselineChoice(stderr)
	j.keepTargets(stderr)
	j.keepStart(stderr)
	w, err := audit.CreateRecord(j.recordPath())
	if err != nil {
		return fmt.Errorf("%w: %w", atomicfile.ErrNotWritable, err)
	}
	defer w.Close()
	j.torn = w.Torn()

	runCtx := ctx
	if !j.deadline.IsZero() {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithDeadline(ctx, j.deadline)
		defer cancel()
	}
	total := j.fleet.Len()
	if o.skipInvalid {
		total += len(j.fleet.Invalid)
	}
	prog := newProgress(stderr, total, o.concurrency, o.quiet || total == 0 && j.disc == nil, session.Stats)
	if d := j.disc; d != nil {
		d.ctx, d.onFound = runCtx, prog.found
	}
	j.onResult = func(r audit.Result) error {
		if d := j.disc; d != nil && strings.HasPrefix(r.Source, unlistedSource) {
			d.mu.Lock()
			drop := r.Outcome == audit.OutcomeNotManaged && !d.resumed[r.Key()]
			switch {
			case drop:
				// A node that discovery did not list, and SSM no
				// longer knows: gone, as it would be had discovery
				// not looked for it, not a target not managed (left
				// out of the record unless the record has it
				// already).
				if d.goneAt == nil {
					d.goneAt = map[site]int{}
				}
				d.goneAt[site{r.AccountID, r.Region}]++
			case r.Outcome == audit.OutcomeNotManaged:
				d.goneKept++
			case r.Outcome == audit.OutcomeError:
				d.unlistedErr++
			default:
				d.baseAudited++
			}
			d.mu.Unlock()
			if drop {
				prog.drop()
				return nil
			}
		}
		if o.base != nil {
			o.base.Carry(&r)
		}
		if err := w.Write(r); err != nil {
			return fmt.Errorf("%w: %w", atomicfile.ErrNotWritable, err)
		}
		prog.done(r.Outcome)
		j.errs.add(r)
		return nil
	}
	j.warnOpenFiles(stderr)
	switch {
	case j.disc != nil:
		o.logf(stderr, "auditing the managed nodes of %s as discovery lists them%s, %d at a time; record in %s",
			plural(len(j.disc.sites), "account-region"), listedToo(total), o.concurrency, shownPath(j.recordPath()))
	case total > 0:
		o.logf(stderr, "auditing %s, %d at a time; record in %s", plural(total, "instance"), o.concurrency, shownPath(j.recordPath()))
	}
	runErr := session.Run(runCtx, j.batches())
	if j.info.Resumed > 0 && errors.Is(runErr, audit.ErrNoSiteAudited) {
		// Its earlier attempts audited instances: incomplete (exit 3),
		// each account-region failed, not a run that audited nothing.
		runErr = nil
	}
	if j.board != nil {
		j.board.Close() // done: the other shards take its room
	}
	// The record syncs in the background; all of it is on disk before the
	// reports say what was audited, and a disk that failed says so.
	if err := w.Sync(); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("%w: %w", atomicfile.ErrNotWritable, err))
	}
	prog.stop()
	j.audited, j.verdicts = prog.audited(), prog.verdicts()
	info := &j.info
	if d := j.disc; d != nil {
		d.mu.Lock()
		failedSites = append(failedSites, d.failed...)
		// The record's nodes that discovery did not find again are
		// targets all the same: their results are the run's.
		found := d.found + d.unlisted - d.gone() + len(d.earlier)
		info.Targets += found
		info.Duplicates += d.dups
		info.Parts[0].Targets += found
		info.Parts[0].Duplicates += d.dups
		// The account-regions listed, not those that failed before
		// their listing (a role refused): those are named below. Those
		// whose tags could not be read were listed; those whose listing
		// failed after some of their nodes were audited, in part.
		failed := make(map[site]bool, len(d.failed))
		for _, e := range d.failed {
			failed[site{e.AccountID, e.Region}] = true
		}
		inPart := map[site]bool{}
		for _, s := range withFailures(session.Sites(), d.failed) {
			inPart[site{s.AccountID, s.Region}] = toldInPart(s)
		}
		unlisted, untagged, partly := 0, 0, 0
		for _, s := range d.sites {
			switch {
			case d.untagged[s]:
				untagged++
			case failed[s] && inPart[s]:
				partly++
			case failed[s]:
				unlisted++
			}
		}
		var notes []string
		if partly > 0 {
			notes = append(notes, fmt.Sprintf("%d of them listed in part", partly))
		}
		if unlisted > 0 {
			notes = append(notes, fmt.Sprintf("%d more could not be listed", unlisted))
		}
		if untagged > 0 {
			notes = append(notes, fmt.Sprintf("in %d of them the tags could not be read", untagged))
		}
		more := ""
		if len(notes) > 0 {
			more = " (" + strings.Join(notes, "; ") + ")"
		}
		o.logf(stderr, "discovered %s in %s%s", plural(d.found+d.dups, "managed node"), plural(len(d.sites)-unlisted, "account-region"), more)
		if d.unlisted > 0 {
			// DescribeInstanceInformation lists neither a stopped node
			// nor one SSM no longer knows.
			more := ""
			if d.unlistedErr > 0 {
				more += fmt.Sprintf(", %d in error", d.unlistedErr)
			}
			if n := d.unlisted - d.baseAudited - d.gone() - d.goneKept - d.unlistedErr; n > 0 {
				more += fmt.Sprintf(", %d not answered", n)
			}
			o.logf(stderr, "asked about %s that discovery did not list (failing in the baseline, or in error in the record): %d audited (stopped, say), %d no longer managed (gone)%s",
				plural(d.unlisted, "more node"), d.baseAudited, d.gone()+d.goneKept, more)
		}
		if len(j.org.tagKeys) > 0 {
			o.logf(stderr, "tags %s read for the nodes discovered: %d have at least one", strings.Join(j.org.tagKeys, ", "), d.tagged)
		}
		d.mu.Unlock()
	}
	j.escapedTags.warn(stderr)
	if j.conn != nil && o.staleAfter > 0 {
		// The SDK signs by AWS's clock once an answer showed it off;
		// staleness is judged by this machine's (see audit.StaleSkewHint).
		if hint := audit.StaleSkewHint(j.conn.ClockSkew(), o.staleAfter.String()); hint != "" {
			fmt.Fprintf(stderr, "auditor: warning: %s\n", hint)
		}
	}
	info.Stats = session.Stats()
	info.Stats.Seconds = o.now().Sub(start).Seconds()
	if info.Stats.Seconds > 0 {
		info.Stats.Rate = float64(info.Stats.Calls) / info.Stats.Seconds
	}
	info.Caller = j.caller
	info.Sites = append(withFailures(session.Sites(), failedSites), j.departed...)
	for i := range info.Sites {
		// Said of an account that could not be audited too: no result of
		// it carries its name, and a split by the name makes its group
		// from run.json alone.
		info.Sites[i].AccountName = j.accountNames[info.Sites[i].AccountID]
		if d := j.disc; d != nil {
			// A node that discovery did not list and SSM no longer
			// knows is no target (see onResult).
			n := d.goneAt[site{info.Sites[i].AccountID, info.Sites[i].Region}]
			info.Sites[i].Targets -= n
			info.Sites[i].Results -= n
		}
	}
	// A run none of whose account-regions could be audited is a setup to
	// fix (exit 4), counting those that failed before the audit (listing
	// their regions or nodes), which the Session never saw.
	if runErr == nil && info.Resumed == 0 && prog.answered() == 0 {
		if failed := siteFailures(info.Sites); failed != nil {
			runErr = audit.NoSiteAudited(failed)
		}
	}
	info.EndedAt = o.now().UTC()
	// The deadline, not only runCtx's timer: a renewal's MFA prompt ends on
	// a timer of its own at the same deadline (see pastDeadline).
	timedOut := runErr != nil && ctx.Err() == nil && pastDeadline(runCtx)
	if timedOut {
		fmt.Fprintf(stderr, "auditor: stopped after --timeout %s\n", o.timeout)
	}
	interrupted := runErr != nil && pastDeadline(runCtx)
	info.Interrupted = interrupted
	var unreachable []*audit.UnreachableError
	if runErr != nil && !interrupted {
		info.Error = runErr.Error()
		unreachable = unreachables(runErr)
	}
	j.unreachable = unreachable

	// Nothing could be audited at all (no endpoint answered, or every
	// account-region failed), a setup to fix: the record's lines of this
	// attempt, invalid lines and instances in error, are taken back, so
	// that the same command runs again once fixed (a record left would
	// make it a --resume), and no report reads as an audit.
	// So are the invalid lines of a run stopped by a signal before its
	// first answer, which writes run.json alone too.
	nothing := info.Resumed == 0 && (errors.Is(runErr, audit.ErrNoSiteAudited) || len(unreachable) > 0 && j.audited == 0)
	if nothing || interrupted && info.Resumed == 0 && j.audited == 0 {
		if err := w.Discard(); err != nil {
			runErr = errors.Join(runErr, fmt.Errorf("%w: %w", atomicfile.ErrNotWritable, err))
			info.Error = runErr.Error()
		}
		j.audited, j.verdicts = 0, 0 // the closing lines count none, as the record
	}
	// What earlier attempts recorded (instances in error, invalid lines)
	// stays: the same command run again would be refused, and the closing
	// lines say to continue instead.
	held := false
	if st, err := os.Stat(j.recordPath()); err == nil && st.Size() > 0 {
		held = true
	}
	// Reports are written whatever happened, for what was audited; a
	// second signal still stops the process at once.
	fatal := runErr != nil && !interrupted && len(unreachable) == 0 || len(unreachable) > 0 && nothing
	// A run that audited nothing and was not stopped (a discovery that
	// found no node, account-regions that all failed) reports and delivers
	// that, as any other; one stopped by a setup to fix, or by a signal,
	// leaves run.json alone. A shard's reports are the merge's.
	j.reportEmpty = !fatal && !interrupted && j.shard == ""
	written, renderErr, deliverErr := j.render(ctx, stdout, stderr)
	// Reports that could not be written are exit 4 (below), whatever the
	// verdict: the summary says no verdict's exit.
	j.tell(stderr, written, fatal || renderErr != nil, deliverErr)
	if len(unreachable) > 0 {
		// The closing lines told the causes, and how to continue.
		if nothing {
			// Nothing could be audited at all: a setup to fix, not a
			// fleet to retry.
			if renderErr != nil {
				logLine(stderr, slog.LevelError, "auditor: %s", plainLines(resumeInstead(renderErr).Error()))
			}
			if held {
				return fmt.Errorf("nothing was audited: fix the cause above, then continue with: %s", o.resumeCommand())
			}
			return errors.New("nothing was audited: fix the cause above, then run again")
		}
		if renderErr != nil {
			// Reports not written (a --split-by's among them) are exit
			// 4, which says more than an incomplete run's 3; and only
			// this says why. The closing lines gave no verdict, nor how
			// to continue.
			fmt.Fprintf(stderr, "auditor: continue once it answers again with: %s\n", o.resumeCommand())
			return resumeInstead(renderErr)
		}
		if deliverErr != nil {
			return deliverErr
		}
		return errIncomplete
	}
	if runErr != nil && !interrupted {
		if renderErr != nil {
			// Both are exit 4; the run's cause is told last, with what
			// to do: continue, which renders too.
			logLine(stderr, slog.LevelError, "auditor: %s", plainLines(resumeInstead(renderErr).Error()))
		}
		if held {
			fmt.Fprintf(stderr, "auditor: the record in %s holds what was audited; fix the cause below, then continue with: %s\n", shownPath(o.out), o.resumeCommand())
		}
		return withFatalHint(runErr, o.region)
	}
	if renderErr != nil {
		return renderErr
	}
	if deliverErr != nil {
		return deliverErr // exit 5 says the most urgent thing: nobody got the reports
	}
	return verdictErr(info.Verdict(j.set.failOn))
}

// batches are the targets to audit, one batch per account-region (the
// listed ones, then those discovery lists), then the invalid lines when
// they are recorded. The fleet lets go of each target's
// instance information as the audit takes it.
func (j *job) batches() []audit.Batch {
	bs := j.fleet.Drain()
	if j.disc != nil {
		bs = append(bs, j.disc.batches()...)
	}
	if j.o.skipInvalid && len(j.fleet.Invalid) > 0 {
		bs = append(bs, audit.Batch{Len: len(j.fleet.Invalid), Targets: slices.Values(j.fleet.Invalid), Invalid: true})
	}
	return bs
}

// openFileLimit is systemOpenFileLimit, a variable so that a test can
// stand in for a low limit.
var openFileLimit = systemOpenFileLimit

// fileReserve is how many open files a run keeps for what is not a worker's
// connection to SSM: the record, the lock, the reports being written,
// temporary files, the connections to STS and EC2, standard streams.
const fileReserve = 64

// sitesAtOnce returns how many account-regions a run may audit at once for
// their workers' connections (concurrency each) to fit in limit open files
// beside fileReserve: audit.DefaultSites, or fewer, and at least one. Past
// the limit, each call's connection fails ("too many open files") and is
// retried, and the run grinds instead of waiting its turn.
func sitesAtOnce(limit uint64, concurrency int) int {
	if limit <= fileReserve {
		return 1
	}
	return max(1, int(min(uint64(audit.DefaultSites), (limit-fileReserve)/uint64(max(concurrency, 1)))))
}

// siteWorkers returns the most workers, and so connections, one
// account-region of the run has: --concurrency, or for a list the
// instances of its largest account-region when they are fewer (an
// account-region has no more workers than instances).
func (j *job) siteWorkers() int {
	o := j.o
	if o.discover {
		return o.concurrency
	}
	most := 0
	for _, n := range j.listSites() {
		most = max(most, n)
	}
	return min(o.concurrency, max(most, 1))
}

// listSites counts the listed targets of each account-region (a target
// that names no region is the run's region's).
func (j *job) listSites() map[[2]string]int {
	per := map[[2]string]int{}
	if j.fleet == nil {
		return per
	}
	for t := range j.fleet.All() {
		per[[2]string{t.AccountID, cmp.Or(t.Region, j.o.region)}]++
	}
	return per
}

// warnOpenFiles warns when the limit of open files holds back the run:
// fewer account-regions at once than it has, or not even one
// account-region's workers.
func (j *job) warnOpenFiles(stderr io.Writer) {
	o := j.o
	if j.fileLimit == 0 {
		return
	}
	workers := j.workers
	switch {
	case j.fileLimit <= fileReserve:
		fmt.Fprintf(stderr, "auditor: warning: the open-file limit is %d, too few for the run's own files and connections (about %d, and one a worker): raise the limit (ulimit -n)\n",
			j.fileLimit, fileReserve)
		return
	case uint64(workers)+fileReserve > j.fileLimit:
		fmt.Fprintf(stderr, "auditor: warning: the open-file limit is %d, too few for --concurrency %d (each worker holds a connection, and the run about %d files besides): lower --concurrency to %d, or raise the limit (ulimit -n)\n",
			j.fileLimit, o.concurrency, fileReserve, j.fileLimit-fileReserve)
		return
	}
	if j.sitesAtOnce >= audit.DefaultSites {
		return
	}
	n := len(j.listSites())
	if j.disc != nil {
		n = len(j.disc.sites)
	}
	if n > j.sitesAtOnce {
		fmt.Fprintf(stderr, "auditor: warning: the open-file limit is %d: the %d account-regions are audited %d at a time (up to %d connections each), not up to %d; raise the limit (ulimit -n) to audit more at once\n",
			j.fileLimit, n, j.sitesAtOnce, workers, audit.DefaultSites)
	}
}

// siteOf is an account-region as allowed holds it: the caller's account
// as none, since a result may name it or not.
func (j *job) siteOf(account, region string) [2]string {
	if account == j.caller {
		account = ""
	}
	return [2]string{account, region}
}

// auditConfig is the audit's configuration; OnResult calls j.onResult,
// which the run sets once the record is open.
func (j *job) auditConfig() audit.Config {
	o := j.o
	cfg := audit.Config{
		Client: func(account, region string) (audit.API, error) {
			return j.conn.SSMIn(account, region)
		},
		Role: func(account string) string {
			return j.conn.RoleARN(account)
		},
		Region: o.region,
		Allowed: func(account, region string) bool {
			return j.allowed[j.siteOf(account, region)]
		},
		Concurrency: o.concurrency,
		MaxResults:  int32(o.maxResults),
		MaxPages:    o.maxPages,
		Rate:        o.rate,
		Grace:       o.grace,
		Triage:      o.triage,
		Started:     j.attempt,
		OnResult:    func(r audit.Result) error { return j.onResult(r) },
	}
	if limit, ok := openFileLimit(); ok {
		j.workers = j.siteWorkers()
		j.fileLimit, j.sitesAtOnce = limit, sitesAtOnce(limit, j.workers)
		cfg.Sites = j.sitesAtOnce
	}
	if j.pacedTogether() {
		// Started once the output directory is the run's, before the
		// first call (startBoard).
		cfg.Peers = func(account, region string) audit.Peers {
			if j.board == nil {
				return nil
			}
			return j.board.For(account, region)
		}
	}
	if o.triage && o.staleAfter > 0 {
		// A node whose last success is older than the stale age may hold
		// stale associations, which only the detail shows. The reports
		// judge what this attempt reads from its start: so does triage,
		// which skips no node whose associations they could call stale.
		cfg.TriageSince = j.attempt.Add(-time.Duration(o.staleAfter))
	}
	if !o.deadline.IsZero() {
		j.deadline = o.deadline
		cfg.Deadline = j.deadline
	}
	return cfg
}

// withFatalHint adds to a fatal error the service gave (credentials or
// access refused), or the SDK's endpoint rules, what to check next; other
// errors say it themselves.
func withFatalHint(err error, region string) error {
	var rules *audit.EndpointRulesError
	if errors.As(err, &rules) {
		return fmt.Errorf("%w\n%s", err, endpointRulesHint)
	}
	if h := credentialsHint(err, region); h != "" {
		return fmt.Errorf("%w\n%s", err, h)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return err
	}
	switch ae.ErrorCode() {
	case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation":
		// The action denied: another service's denial (EC2's tags under
		// --tag-labels) says its own.
		action := "DescribeInstanceAssociationsStatus"
		if oe := (*smithy.OperationError)(nil); errors.As(err, &oe) {
			if oe.ServiceID != "SSM" {
				return err
			}
			action = oe.OperationName
		}
		return fmt.Errorf("%w\nallow ssm:%s (see deploy/iam/auditor-policy.json), then run again", err, action)
	}
	return err
}

// noRegionFor says which of targets have no region (all of them, or how
// many and the first by where it was read), and how to give them one: a
// list's region column only when a list gave one of them; "" when each
// has one.
func noRegionFor(targets []audit.Target) string {
	var none []audit.Target
	listed := false
	for _, t := range targets {
		if t.Region == "" {
			none = append(none, t)
			listed = listed || t.Source != instanceIDSource
		}
	}
	fix := "pass --region or set AWS_REGION"
	if listed {
		fix = "pass --region, set AWS_REGION, or give each line of the list a region (a region column)"
	}
	switch {
	case len(none) == 0:
		return ""
	case len(none) == len(targets) && len(none) == 1:
		return "no region for the target: " + fix
	case len(none) == len(targets):
		return fmt.Sprintf("no region for any of the %d targets: %s", len(none), fix)
	}
	first := none[0]
	where := first.InstanceID
	if first.Source != "" {
		where = first.Source + ": " + first.InstanceID
	}
	return fmt.Sprintf("no region for %d of the %d targets (the first, %s): %s", len(none), len(targets), plain(where, 0), fix)
}

// credentialsHint says what to do about credentials that a service (SSM,
// STS) refused, or found expired, in err, a call made in region; "" when
// err is no such answer.
func credentialsHint(err error, region string) string {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return ""
	}
	if off, ok := audit.ClockOff(err); ok {
		// Refused as signed at the wrong time: the credentials are not
		// at fault, and checking them would find nothing.
		return audit.ClockHint(off)
	}
	switch ae.ErrorCode() {
	case "UnrecognizedClientException", "InvalidClientTokenId", "InvalidSignatureException", "SignatureDoesNotMatch",
		"IncompleteSignature", "IncompleteSignatureException", "MissingAuthenticationToken", "MissingAuthenticationTokenException", "AuthFailure":
		return fmt.Sprintf("the credentials were refused: check them with aws sts get-caller-identity --region %s; a region that is not enabled for the account refuses every credential (enable it, or leave it out)", region)
	case "ExpiredToken", "ExpiredTokenException":
		return "the credentials have expired: refresh them (aws sso login, or a new session), then run again"
	}
	return ""
}

// unreachables returns the account-regions that Run gave up on.
func unreachables(err error) []*audit.UnreachableError {
	if !errors.Is(err, audit.ErrUnreachable) {
		return nil
	}
	var out []*audit.UnreachableError
	var walk func(error)
	walk = func(e error) {
		var u *audit.UnreachableError
		if errors.As(e, &u) && e == error(u) {
			out = append(out, u)
			return
		}
		switch x := e.(type) {
		case interface{ Unwrap() []error }:
			for _, c := range x.Unwrap() {
				walk(c)
			}
		case interface{ Unwrap() error }:
			walk(x.Unwrap())
		}
	}
	walk(err)
	return out
}

// unreachableHint says what to check when an endpoint could not be
// reached: what to set or check when the TLS handshake failed on the
// proxy's certificate (awsconn.ProxyCertificateHint) or the server's
// (awsconn.CertificateHint); nothing of ours when the
// service answered with server errors;
// when what answered was not SSM (answers not in its protocol), the proxy's
// settings and the setting the endpoint came from, if any; the proxy's
// settings when it was the proxy that failed; otherwise the setting the
// endpoint came from (see endpointSource), or for the region's own, the
// setting the region came from (see regionSource), or the network path
// when none is known.
func unreachableHint(u *audit.UnreachableError, source, regionSource string) string {
	hint := unreachableHintOf(u, source, regionSource)
	if bypassedProxy(u) {
		hint += "; NO_PROXY sends this host around the proxy that " + u.ProxyVar() + " names: check NO_PROXY too"
	}
	return hint
}

// bypassedProxy reports whether u's calls got no answer without the proxy
// that the environment sets because NO_PROXY names their host, as
// net/http reads the variables (httpproxy), so that a machine that
// resolves or reaches outside names only through its proxy fails there.
// This machine's hosts, which net/http never takes through a proxy, are
// not.
func bypassedProxy(u *audit.UnreachableError) bool {
	if u.ThroughProxy || u.Certificate != "" || u.BadAnswer != "" || u.Status != 0 {
		return false
	}
	h, err := url.Parse(u.Endpoint)
	if err != nil || h.Hostname() == "" {
		return false
	}
	host := h.Hostname()
	if ip := net.ParseIP(host); host == "localhost" || strings.HasSuffix(host, ".localhost") || ip != nil && ip.IsLoopback() {
		return false
	}
	cfg := httpproxy.FromEnvironment()
	set := cfg.HTTPSProxy
	if h.Scheme == "http" {
		set = cfg.HTTPProxy
	}
	p, err := cfg.ProxyFunc()(h)
	return set != "" && err == nil && p == nil
}

// unreachableHintOf is unreachableHint but for the proxy that NO_PROXY
// sent the calls around.
func unreachableHintOf(u *audit.UnreachableError, source, regionSource string) string {
	proxyVar := u.ProxyVar()
	proxies := proxyVar + " (the proxy) and NO_PROXY (the hosts reached without it)"
	// The SDK resolves a region's FIPS endpoint (ssm-fips.REGION...)
	// when one of these asks for it, and SSM has one in some regions only.
	fips := ""
	if h, err := url.Parse(u.Endpoint); err == nil && strings.Contains(h.Hostname(), "-fips.") {
		fips = "use_fips_endpoint in the AWS config"
		if os.Getenv("AWS_USE_FIPS_ENDPOINT") != "" {
			fips = "AWS_USE_FIPS_ENDPOINT"
		}
	}
	switch {
	case u.Certificate != "" && u.ThroughProxy:
		// The proxy's own handshake (an https:// proxy): no handshake
		// reached the endpoint, whatever set it.
		return awsconn.ProxyCertificateHint(u.Certificate, proxyVar)
	case u.Certificate != "":
		return awsconn.CertificateHint(u.Certificate, source)
	case u.BadAnswer != "" && source != "":
		return "check " + source + ", which set this endpoint, " + proxies + ", and the firewalls on the way"
	case u.BadAnswer != "":
		return "check " + proxies + ", and the firewalls on the way"
	case u.Status != 0:
		return "the service itself is failing there (an outage, or a proxy on the way)"
	case !u.ThroughProxy && source == "" && regionSource != "" && fips != "":
		return "check " + regionSource + ", which set this region, and " + fips + ", which asked for the FIPS endpoint (not every region has one)"
	case !u.ThroughProxy && source == "" && regionSource != "":
		return "check " + regionSource + ", which set this region"
	case !u.ThroughProxy && source == "" && fips != "":
		return "check " + fips + ", which asked for the FIPS endpoint (not every region has one), and the network path to it: a VPC endpoint for the service, a NAT gateway, or HTTPS_PROXY and NO_PROXY"
	case !u.ThroughProxy && source == "":
		return "check the network path to it: a VPC endpoint for the service, a NAT gateway, or HTTPS_PROXY and NO_PROXY"
	case !u.ThroughProxy:
		return "check " + source + ", which set this endpoint"
	}
	return "check " + proxies
}

// endpointSource names the setting that SSM's endpoint in region comes
// from: --endpoint-url, else the one the SDK took it from, in the SDK's
// order (awsconn.Conn.EndpointSource: AWS_ENDPOINT_URL_SSM, the profile's
// services section, AWS_ENDPOINT_URL, the profile's endpoint_url); "" for
// the region's own.
func (j *job) endpointSource(region string) string {
	if j.o.endpointURL != "" {
		return "--endpoint-url"
	}
	if j.conn == nil {
		return ""
	}
	// The client knows whether one was configured (the SDK also ignores
	// them all when told to); awsconn, which one.
	if c, err := j.conn.SSM(region); err != nil || c.Options().BaseEndpoint == nil {
		return ""
	}
	return cmp.Or(j.conn.EndpointSource("SSM"), "the endpoint_url of the AWS profile (or of its ssm services section)")
}

// regionSource names the setting that region, one the run called SSM in,
// came from: for discovery, --regions, or the run's default region's
// (--region, AWS_REGION, AWS_DEFAULT_REGION, the profile's) when there is
// no --regions; for a list, its region column, or the default region's
// for the rows that give none. "" when none did (each account's enabled
// regions, for --regions all). The default region's setting is named only
// where the default region was what chose it: not for a region of
// --regions or of the list that happens to be the default one too.
func (j *job) regionSource(region string) string {
	if j.o.discover {
		switch {
		case slices.Contains(j.org.regions, region):
			return "--regions"
		case len(j.org.regions) == 0 && !j.org.allRegions && region == j.o.region:
			return j.regionFrom
		}
	}
	switch {
	case j.listDefault && region == j.o.region:
		return j.regionFrom
	case slices.Contains(j.listRegions, region):
		return "the region column of the instance list"
	}
	return ""
}

// noteListRegions notes the regions of the instance list as it was read
// (Fleet.Regions, "" for rows that give none), before the default region
// is applied to the rows that give none: which regions the list chose,
// and whether the default region was used for some rows.
func (j *job) noteListRegions(regions []string) {
	j.listRegions, j.listDefault = nil, false
	for _, r := range regions {
		if r == "" {
			j.listDefault = true
		} else {
			j.listRegions = append(j.listRegions, r)
		}
	}
}

func verdictErr(v audit.Verdict) error {
	switch v {
	case audit.Incomplete:
		return errIncomplete
	case audit.Findings:
		return errFindings
	}
	return nil
}

// render writes run.json and every report from the record on disk, which
// after a resume holds the earlier runs' results too, prints the paths
// written on stdout, then delivers them. A signal does not stop the
// rendering (each file is written whole) but skips the delivery.
func (j *job) render(ctx context.Context, stdout, stderr io.Writer) (written []string, renderErr, deliverErr error) {
	var paths []string
	if _, err := os.Stat(j.recordPath()); errors.Is(err, fs.ErrNotExist) && (j.shard != "" || j.reportEmpty) {
		// A shard with nothing recorded (no target fell in it, or none
		// could be audited) still leaves its record, empty, beside its
		// run.json: the merge that names every shard's record finds it,
		// and counts its part. An empty record is no record to refuse.
		if err := atomicfile.WriteFile(j.recordPath(), nil); err != nil {
			return nil, fmt.Errorf("%w: %w", atomicfile.ErrNotWritable, err), nil
		}
	}
	if _, err := os.Stat(j.recordPath()); err == nil {
		paths = []string{j.recordPath()}
	}
	// The index of a large record goes where the workbook spills: in the
	// output directory, which this run holds the lock of.
	spill := spillDir(j.o.out)
	if spill != "" {
		defer os.RemoveAll(spill)
	}
	rs, err := audit.OpenRecordsIn(spill, paths...)
	if err != nil {
		return nil, err, nil
	}
	defer rs.Close()
	rs.Torn += j.torn
	j.o.premarkMail(stderr)
	// A run, not a record rendered again (which may have run before the
	// runs its rendering passes over), came after the runs it passed over.
	for _, at := range j.ranAfter() {
		if !at.IsZero() && !slices.ContainsFunc(j.info.RanAfter, at.Equal) {
			j.info.RanAfter = append(j.info.RanAfter, at.UTC())
		}
	}
	slices.SortFunc(j.info.RanAfter, time.Time.Compare)
	written, renderErr = j.o.renderRecords(context.WithoutCancel(ctx), rs, &j.info, j.set, j.reportEmpty, stderr)
	j.errs.readInPart(rs, j.info)
	for _, p := range append(paths, written...) {
		fmt.Fprintln(stdout, p)
	}
	if rs.Len() == 0 && !j.reportEmpty {
		j.o.mailNotDue(stderr)
		return written, renderErr, nil
	}
	if !deliverable(renderErr) {
		j.o.notDelivered(j.info, stderr)
		return written, renderErr, nil
	}
	conn := func() (*awsconn.Conn, error) { return j.conn, nil }
	return written, renderErr, j.o.deliver(ctx, rs, j.info, append(paths, written...), conn, stderr)
}

// renderRecords settles info from rs, writes run.json beside rs, then every
// report (of an empty rs, only when empty). It returns the paths written; a
// format that fails does not stop the others, and every failure is in the
// error.
func (o *runOptions) renderRecords(ctx context.Context, rs *audit.Records, info *audit.RunInfo, set settings, empty bool, stderr io.Writer) ([]string, error) {
	// A run that did not get to every target says nothing of those it
	// missed: not gone since the baseline, only not audited (rs.Partial).
	info.Settle(rs)
	switch {
	case o.base == nil:
		// The changes of this rendering, or none: not those of an earlier
		// attempt compared with a baseline this one has not (gone since),
		// nor, for a record rendered again, those its run.json kept.
		// Its changes.csv, left by an earlier one, goes with the other
		// reports this rendering does not write (removeUnwritten).
		info.Changes = nil
	default:
		if !o.warnedScope && len(info.Parts) > 0 && splitGroup(o.base.Run) {
			// A group's run.json has no parts to compare: its options
			// tell it.
			o.warnedScope = true
			instead := "name the directory of the run it was split from"
			if run, ok := runOfGroup(filepath.Dir(o.base.Path)); ok {
				instead = "--baseline " + shellQuote(run)
			}
			fmt.Fprintf(stderr, "auditor: warning: --baseline %s covers other targets than this run (one --split-by group of a run): an instance of the other groups is reported new; to compare with the whole run: %s\n", o.base.Path, instead)
		}
		if !o.warnedScope && len(info.Parts) > 0 && moreAccounts(o.base.Records(), rs, info.Sites) {
			// Parts of one list read in two accounts are of the same
			// list: their digest is taken before accounts are filled in.
			o.warnedScope = true
			fmt.Fprintf(stderr, "auditor: warning: --baseline %s covers other targets than this run (the instances of several accounts, this run's of one): an instance of another account is reported gone\n", o.base.Path)
		}
		if !o.warnedScope && len(o.base.Run.Parts) > 0 && len(info.Parts) > 0 && !sameLists(*info, o.base.Run) {
			// Shards of one list are compared on the instances both
			// cover (audit.Compare); lists that cannot be related are
			// compared as they are.
			o.warnedScope = true
			fmt.Fprintf(stderr, "auditor: warning: --baseline %s covers other targets than this run (another list): an instance in one of the lists only is reported new or gone\n", o.base.Path)
		}
		res, err := audit.Compare(o.base.Records(), rs, func(audit.Change) error { return nil })
		if err != nil {
			return nil, fmt.Errorf("comparing with --baseline: %w", err)
		}
		info.Changes = &audit.ChangeInfo{Baseline: o.base.Path, BaselineFromRun: pathFrom(o.out, o.base.Path), Counts: res.Counts, NotCompared: res.NotCompared, ErrorCodeChanged: res.ErrorCodeChanged,
			BaselineIncomplete: o.base.Records().Partial, Scope: rs.Scope, BaselineScope: o.base.Records().Scope}
		if !o.base.At.IsZero() {
			at := o.base.At.UTC()
			info.Changes.Since = &at
		}
	}
	// run.json goes last, once every report is on disk: a process killed
	// while rendering leaves the run.json before it (a partial run's, say)
	// beside reports it may not describe, never a run.json that speaks for
	// reports not yet written.
	runPath := filepath.Join(o.out, audit.RunFile)
	writeRun := func(written []string) ([]string, error) {
		if err := writeJSON(runPath, info); err != nil {
			return written, fmt.Errorf("%w: %w", atomicfile.ErrNotWritable, err)
		}
		return append([]string{runPath}, written...), nil
	}
	if rs.Len() == 0 && !empty {
		marks := carryGroupMarks(o.out, stderr)
		err := errors.Join(o.removeUnwritten(nil, false, stderr), o.removeStaleSplits("", stderr))
		restoreGroupMarks(o.out, "", marks, stderr)
		if err != nil {
			return nil, err
		}
		return writeRun(nil)
	}
	var written []string
	spill := spillDir(o.out)
	paths, err := report.Render(ctx, report.Options{
		Dir:         o.out,
		Formats:     set.formats,
		Records:     rs,
		Run:         *info,
		StaleAfter:  o.staleAfter.report(),
		HTMLMaxRows: o.htmlMaxRows,
		Template:    o.template,
		Baseline:    o.base,
		LabelKeys:   o.labelKeys,
		TmpDir:      spill,
	})
	defer func() {
		if spill != "" {
			os.RemoveAll(spill) // under the lock; what the workbook spilled is in it now
		}
	}()
	written = append(written, paths...)
	// Left out with a warning when another format keeps the labels; the
	// workbook alone is a failure: nothing would be written.
	others := slices.ContainsFunc(set.formats, func(f report.Format) bool { return f != report.FormatXLSX })
	if others && report.OnlyTooWide(err) {
		fmt.Fprintf(stderr, "auditor: warning: %v (%s not written)\n", unjoin(err)[0], report.XLSXFile)
		err = nil
	}
	var splitErr error
	split := "" // the split this rendering writes
	// Kept apart before any split is written anew or removed, and put
	// back in the groups written once it is done.
	marks := carryGroupMarks(o.out, stderr)
	if err == nil && o.splitBy != "" {
		split = report.SplitDir(o.out, o.splitBy)
		groups, serr := report.Split(ctx, report.Options{
			Dir: o.out, Formats: set.formats, Records: rs, Run: *info, StaleAfter: o.staleAfter.report(),
			HTMLMaxRows: o.htmlMaxRows, Template: o.template, Baseline: o.base, LabelKeys: o.labelKeys, TmpDir: spill,
		}, o.splitBy)
		for _, g := range groups {
			written = append(written, g.Paths...)
		}
		if others && report.OnlyTooWide(serr) {
			fmt.Fprintf(stderr, "auditor: warning: %v (the groups' %s not written)\n", unjoin(serr)[0], report.XLSXFile)
			serr = nil
		}
		if serr != nil {
			splitErr = &splitError{label: o.splitBy, err: serr}
			o.splitFailed = true
		} else {
			o.groups = groups
			// Split writes the index last, and does not list it among the
			// groups' files: it is an output of the run all the same (it
			// maps each value to its directory), to be uploaded.
			written = append(written, filepath.Join(report.SplitDir(o.out, o.splitBy), report.SplitIndex))
			o.logf(stderr, "reports for each of %s of %q in %s", plural(len(groups), "value"), o.splitBy, shownPath(report.SplitDir(o.out, o.splitBy)))
			warnUnlabelled(stderr, o.splitBy, rs, groups)
		}
	}
	if rerr := errors.Join(o.removeUnwritten(paths, err != nil, stderr), o.removeStaleSplits(split, stderr)); rerr != nil {
		err = errors.Join(err, rerr)
	}
	if splitErr != nil {
		split = "" // not written whole: its marks are kept for the next
	}
	restoreGroupMarks(o.out, split, marks, stderr)
	// Written even when a format failed: it is the record's account, which
	// a --resume reads.
	written, werr := writeRun(written)
	if err != nil {
		// Every failure, run.json's too, each on its line (a format's
		// own may hold several): the first is often not the only one (a
		// full disk), and the error returned says what to do.
		for _, e := range unjoin(errors.Join(err, werr)) {
			for _, line := range strings.Split(e.Error(), "\n") {
				logLine(stderr, slog.LevelError, "auditor: %s", line)
			}
		}
		if report.OnlyTooWide(err) {
			// The directory is fine: the input is more than a workbook
			// holds, and nothing else was asked for.
			return written, &fatalError{msg: "no report written: the workbook, the only format asked for, cannot show every label (above); ask for csv, html or json too (--format), which keep them", err: err}
		}
		if failuresAre(err, report.ErrTemplate, report.ErrTooWide) {
			// Nothing failed to be written: the template failed on this
			// record's data, which its check could not foresee.
			return written, &fatalError{msg: fmt.Sprintf("%s not written: --template %s cannot render this record (above); fix the template, then render the reports again with: %s (and the other output options of this command)",
				report.HTMLFile, o.template, o.renderAgain("--template", o.template)), err: err}
		}
		return written, &renderFailed{again: o.renderAgain()}
	}
	if splitErr != nil && werr != nil {
		logLine(stderr, slog.LevelError, "auditor: %v", splitErr)
		return written, werr
	}
	if splitErr != nil {
		return written, splitErr
	}
	return written, werr
}

// renderFailed is reports that could not be written (a full disk), each
// failure told on its line; again is the command that renders them again
// once the cause is fixed, "" when another command is given instead.
type renderFailed struct{ again string }

func (e *renderFailed) Error() string {
	msg := atomicfile.ErrNotWritable.Error() + ": rendering reports failed (see above)"
	if e.again != "" {
		msg += "; when the cause is fixed (on a full disk, when there is room again), render them again with: " + e.again + " (and the other output options of this command)"
	}
	return msg
}

func (e *renderFailed) Unwrap() error { return atomicfile.ErrNotWritable }

// resumeInstead returns err without the command that renders again, when
// it has one: the resume command, which renders too, is given instead.
func resumeInstead(err error) error {
	if _, ok := err.(*renderFailed); ok {
		return &renderFailed{}
	}
	return err
}

// renderAgain returns the command that renders the reports of --out again
// from its record, with args: a merge's record is in --out too.
func (o *runOptions) renderAgain(args ...string) string {
	return renderAgainIn(o.out, o.getenv, args...)
}

// renderAgainIn returns the command that renders the reports of dir again,
// in place, from its record, with args, in the environment of getenv (see
// withoutInputEnv).
func renderAgainIn(dir string, getenv func(string) string, args ...string) string {
	cmd := append([]string{program(), "report", filepath.Join(dir, audit.ResultsFile), "--out", dir}, args...)
	return shellCommand(withoutInputEnv(cmd, getenv)...)
}

// failuresAre reports whether every failure that err joins (Render joins
// one per format, and renderRecords joins more to them) is one of
// targets.
func failuresAre(err error, targets ...error) bool {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if !failuresAre(e, targets...) {
				return false
			}
		}
		return true
	}
	return slices.ContainsFunc(targets, func(target error) bool { return errors.Is(err, target) })
}

// removeUnwritten removes the reports at the top of --out that this
// rendering did not write (written, the paths it wrote; failed, whether it
// failed): those of a format not asked for this time, or whose write
// failed (a full disk), and changes.csv without a baseline, which an
// earlier attempt or rendering left. Beside the run.json written next they would be taken for its
// reports (an interrupted attempt's headline beside a whole run), and a
// mail attaches the workbook on disk. They are the auditor's: --out holds
// its run.json or record, or held none of these names (checkOthersOutputs),
// and its lock is held. Only files and links are removed; a directory of
// such a name is someone else's, and refused when its format is asked for
// (checkReportPaths).
func (o *runOptions) removeUnwritten(written []string, failed bool, stderr io.Writer) error {
	done := map[string]bool{}
	for _, p := range written {
		if filepath.Dir(p) == filepath.Clean(o.out) {
			done[filepath.Base(p)] = true
		}
	}
	var removed []string
	var errs []error
	for _, f := range report.Formats() {
		for _, name := range f.Files() {
			p := filepath.Join(o.out, name)
			st, err := os.Lstat(p)
			if done[name] || err != nil || !st.Mode().IsRegular() && st.Mode()&fs.ModeSymlink == 0 {
				continue
			}
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("%w: removing %s, which this rendering did not write: %w", atomicfile.ErrNotWritable, name, err))
				continue
			}
			removed = append(removed, name)
		}
	}
	if len(removed) > 0 {
		them, were := "them", "they were"
		if len(removed) == 1 {
			them, were = "it", "it was"
		}
		if failed {
			// Not "this one did not": it could not, and may have been
			// asked to.
			fmt.Fprintf(stderr, "auditor: removed %s from %s: an earlier attempt or rendering wrote %s, so %s not of this record's reports; this rendering failed (below)\n",
				strings.Join(removed, ", "), o.out, them, were)
		} else {
			fmt.Fprintf(stderr, "auditor: removed %s from %s: an earlier attempt or rendering wrote %s and this one did not, so %s not of this record's reports\n",
				strings.Join(removed, ", "), o.out, them, were)
		}
	}
	return errors.Join(errs...)
}

// removeStaleSplits removes the splits that Split made in --out and
// this rendering did not write (keep is the one it writes, or ""): those
// of an earlier attempt, split by another label or not at all this time,
// or left when this one's reports failed before its split. Their figures
// are that attempt's, and auditor mail --mail-to-label would mail them to
// every owner beside a record that says otherwise. Each is named, with
// the command that splits the record again, whatever --quiet says: they
// were there to be read.
func (o *runOptions) removeStaleSplits(keep string, stderr io.Writer) error {
	removed, err := report.RemoveSplits(o.out, keep)
	for _, m := range removed {
		label := m.Label
		if label == "" {
			label = "LABEL"
		}
		fmt.Fprintf(stderr, "auditor: removed %s, the reports for each value of a label that an earlier attempt or rendering left: they were not of this record's reports; split it again with: %s\n",
			m.Dir, resplit(o.out, label, o.getenv))
	}
	if err != nil {
		return fmt.Errorf("removing a split an earlier rendering left: %w", err)
	}
	return nil
}

// warnUnlabelled warns when the group of no value of the split label holds
// every instance of rs, or most: a label no instance has (tag:team for the
// tag Team: a label's name is case-sensitive) makes one group of the
// whole fleet, which is nobody's.
func warnUnlabelled(stderr io.Writer, label string, rs *audit.Records, groups []report.SplitGroup) {
	i := slices.IndexFunc(groups, func(g report.SplitGroup) bool { return g.Value == "" })
	if i < 0 || rs.Len() == 0 {
		return
	}
	switch n := groups[i].Instances; {
	case n == rs.Len():
		have := map[string]bool{}
		rs.Each(func(r audit.Result) error {
			for k := range r.Labels {
				have[k] = true
			}
			return nil
		})
		fmt.Fprintf(stderr, "auditor: warning: no instance has the label %q that the reports are split by (%s; a label's name is case-sensitive): every instance is in the group of no value, which is nobody's\n", label, theirLabels(have))
	case 2*n > rs.Len():
		fmt.Fprintf(stderr, "auditor: warning: %d of %d instances have no label %q, which the reports are split by: they are in the group of no value, which is nobody's\n", n, rs.Len(), label)
	}
}

// splitError is a --split-by that failed once the run's own reports and
// run.json were written: those are whole, and delivered; the groups' are
// not. It is atomicfile.ErrNotWritable only when Split's error is (a disk
// that failed), never for a cause of another kind.
type splitError struct {
	label string
	err   error
}

func (e *splitError) Error() string {
	return fmt.Sprintf("split by %q: %v (the run's own reports are written; those of each value are not)", e.label, e.err)
}

func (e *splitError) Unwrap() error { return e.err }

// deliverable reports whether the reports of a rendering that ended in
// renderErr are whole, to be delivered: it did not fail, or only its
// --split-by did.
func deliverable(renderErr error) bool {
	var se *splitError
	return renderErr == nil || errors.As(renderErr, &se)
}

// spillDir makes and returns the output directory's spill directory, where
// the workbook puts what it cannot hold in memory; "" (the system's) when
// it cannot be made.
func spillDir(out string) string {
	p := filepath.Join(out, outdir.TmpDir)
	if err := os.MkdirAll(p, 0o777); err != nil {
		return ""
	}
	return p
}

// inSpill calls open with the spill directory of dir, the directory of a
// run or a report that this process reads or writes, for the index of a
// record too large for memory: where a fresh run puts it, so that a
// resume, a report or a mail works wherever the run did (a container
// whose only writable directory is --out). A dir that cannot hold it
// (read-only, or gone) leaves the index to TMPDIR, which a user who can
// only read the run's directory has; so does one left there that is not
// a directory of this user's (a link is not followed: the index's files
// would go wherever it leads), and one whose files cannot be made (a
// killed run's, that this user cannot write; a full disk). The spill
// directory goes again when this call made it: open leaves it empty, as
// the index's files are unlinked as soon as they are made
// (extsort.TempFile), and one left by another process is that process's
// to remove.
func inSpill[T any](dir string, open func(tmpDir string) (T, error)) (T, error) {
	p := filepath.Join(dir, outdir.TmpDir)
	made := os.Mkdir(p, 0o777) == nil
	if st, err := os.Lstat(p); !made && (err != nil || !st.IsDir() || !owner.Mine(st)) {
		p = ""
	}
	v, err := open(p)
	if made {
		_ = os.Remove(p) // only when empty: never another's files
	}
	if p != "" && errors.Is(err, extsort.ErrScratch) && !tooManyFiles(err) {
		return open("")
	}
	return v, err
}

// tooManyFiles reports whether err is the limit of open files reached,
// which no other directory cures.
func tooManyFiles(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}

// openRecords is audit.OpenRecordsIn with the index in dir's spill
// directory (inSpill).
func openRecords(dir string, paths ...string) (*audit.Records, error) {
	return inSpill(dir, func(tmpDir string) (*audit.Records, error) { return audit.OpenRecordsIn(tmpDir, paths...) })
}

// recordError is err, of reading a record for what (a command or a flag),
// as the user is told it: a usage error (exit 2), the record's fault, but
// for its index's temporary files (extsort.ErrScratch), which are the
// machine's: exitFor makes them exit 4, saying where the index goes.
func recordError(what string, err error) error {
	if errors.Is(err, extsort.ErrScratch) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return usagef("%s: %v", what, err)
}

// unjoin returns the errors that errors.Join joined, or err alone.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// writeJSON writes v, indented, to path through a temporary file.
func writeJSON(path string, v any) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	})
}

// resumedUpload returns --upload's template filled as the run that
// --resume continues filled it: the prefix its run.json names, when that
// is the template's; else the template filled with the run's start; else
// now, the template filled with this attempt's time.
func resumedUpload(o *runOptions, template, now string) string {
	if ri, ok := resumedRun(o.out); ok {
		if v, _ := ri.Options["upload"].(string); v != "" && fillsTemplate(template, v) {
			return v
		}
	}
	if k, ok := startedKept(o.out); ok && k.Upload != "" && fillsTemplate(template, k.Upload) {
		// Killed before its run.json: as its first attempt filled it.
		return k.Upload
	}
	if at, ok := o.resumedStart(); ok {
		return expandOut(template, at)
	}
	return now
}

// fillsTemplate reports whether s is template with its {date} and
// {time} filled in (expandOut).
func fillsTemplate(template, s string) bool {
	pattern := regexp.QuoteMeta(template)
	pattern = strings.ReplaceAll(pattern, regexp.QuoteMeta("{date}"), `\d{4}-\d{2}-\d{2}`)
	pattern = strings.ReplaceAll(pattern, regexp.QuoteMeta("{time}"), `\d{8}T\d{6}Z`)
	ok, err := regexp.MatchString("^"+pattern+"$", s)
	return err == nil && ok
}

// expandOut fills the placeholders of --out and --upload: {date}
// (2026-11-30) and {time}
// (20261130T030000Z), in UTC, so that a scheduled job writes each run into
// a directory of its own from one fixed configuration.
func expandOut(out string, now time.Time) string {
	now = now.UTC()
	out = strings.ReplaceAll(out, "{date}", now.Format(time.DateOnly))
	return strings.ReplaceAll(out, "{time}", now.Format("20060102T150405Z"))
}

// earlierRuns are the runs that previousRuns finds beside --out.
type earlierRuns struct {
	// dirs are the baselines, best first.
	dirs []string
	// other are the runs of other targets, whenever they started.
	other []string
	// unfinished are the runs killed before they wrote their run.json,
	// after the first of dirs started.
	unfinished []string
	// ahead are the runs of the same targets whose run.json says they
	// started later than now: a clock ahead where they ran, or behind
	// here. Left out, as any run that started after this one, and worth
	// a warning: they would be the latest.
	ahead []string
	// unreadable are the runs whose run.json cannot be read (or gives
	// no start), whose record was written after the first of dirs
	// started (or all of them, with no dirs): left out, as neither their
	// targets nor their start are known, and worth a warning, as one may
	// be the latest.
	unreadable []unreadableRun
}

// unreadableRun is a run beside --out whose run.json --baseline previous
// cannot read: its directory, and why, for a person; newer when a newer
// auditor wrote it, whole, which only that auditor reads.
type unreadableRun struct {
	dir, why string
	newer    bool
}

// previousRuns finds the baselines that --baseline previous means, best
// first: the runs in the directories beside --out that started before
// this one did (started: a resumed run's first attempt) and hold a record
// and its run.json, whole ones (not interrupted, every
// account-region audited) before the others (such a baseline cannot tell
// what changed on the instances it did not get to), each kind latest first
// (a run that came after another whatever their dates say, as its
// run.json tells, ranks above it: see audit.RunInfo.RanAfter). None for the first run of a
// schedule. It also returns the runs left out that are worth a warning
// (earlierRuns); now is the present, as this machine's clock tells it.
// A run.json beside a record that is not a regular file (a FIFO, a
// device) is not waited on: its run is one whose run.json cannot be read.
func previousRuns(out string, started, now time.Time, targets audit.RunInfo) (earlierRuns, error) {
	var found earlierRuns
	parent := filepath.Dir(filepath.Clean(out))
	entries, err := os.ReadDir(parent)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return found, err
	}
	type run struct {
		dir      string
		at       time.Time
		complete bool
		why      string // why its run.json cannot be read
		newer    bool   // a newer auditor's
		// after are the starts of the runs it came after whatever their
		// dates: those it passed over as dated ahead, and its baseline's
		// (when not rendered again).
		after []time.Time
		rank  time.Time // when it ranks: see below
	}
	var runs, killed, unreadable []run
	self, _ := filepath.Abs(out)
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		if abs, _ := filepath.Abs(dir); abs == self {
			continue
		}
		st, err := os.Stat(filepath.Join(dir, audit.ResultsFile))
		if err != nil || st.Size() == 0 {
			continue
		}
		ri, err := audit.ReadRunInfo(filepath.Join(dir, audit.RunFile))
		if errors.Is(err, fs.ErrNotExist) && st.ModTime().Before(started) {
			killed = append(killed, run{dir: dir, at: st.ModTime()})
			continue
		}
		if err != nil || ri.StartedAt.IsZero() {
			// Without a run.json, a run still going, or one that started
			// after this one (a killed one is above); with one that
			// cannot be read, a run whose targets and start are not
			// known, dated by its record's last write.
			if !errors.Is(err, fs.ErrNotExist) {
				var re *audit.RunInfoError
				unreadable = append(unreadable, run{dir: dir, at: st.ModTime(), why: runJSONProblem(filepath.Join(dir, audit.RunFile), err),
					newer: errors.As(err, &re) && re.Newer})
			}
			continue
		}
		if !sameTargets(targets, ri) {
			// Whenever it started: a merge starts when its earliest
			// shard did, so that the shards beside it did not start
			// before it, and passed over as later runs they would leave
			// it without a baseline and without a word.
			found.other = append(found.other, dir)
			continue
		}
		if !ri.StartedAt.Before(started) {
			// Started while this one waited to be resumed, or, dated in
			// the future, by a clock that is not this machine's.
			if ri.StartedAt.After(now) {
				found.ahead = append(found.ahead, dir)
			}
			continue
		}
		// Whole, not complete: a run with some instances in error is as
		// good a baseline for the others (a comparison compares its
		// instances in error with what was last known of them), and in a large fleet nearly every run
		// has some; passing it over for an ever older complete run would
		// call the same failure new week after week.
		after := ri.RanAfter
		if ri.Changes != nil && ri.Changes.Since != nil && ri.Rendered == nil {
			// A run came after its baseline; a record rendered again
			// may have been compared with a later one.
			after = append(slices.Clip(after), *ri.Changes.Since)
		}
		runs = append(runs, run{dir: dir, at: ri.StartedAt, complete: ri.Whole(), after: after})
	}
	// A run dated ahead, by a clock ahead where it ran, ranks by its date
	// once the present has passed it; a run that came after it all the
	// same, and said so (passed over as ahead, or compared with),
	// ranks with it and above it, else the run after both would skip it
	// and call its new failures new again.
	starts := map[int64]bool{}
	for _, r := range runs {
		starts[r.at.UnixNano()] = true
	}
	for i := range runs {
		runs[i].rank = runs[i].at
		for _, at := range runs[i].after {
			if at.After(runs[i].rank) && starts[at.UnixNano()] {
				runs[i].rank = at
			}
		}
	}
	cameAfter := func(a, b run) bool { return slices.ContainsFunc(a.after, b.at.Equal) }
	slices.SortFunc(runs, func(a, b run) int {
		if a.complete != b.complete {
			if a.complete {
				return -1
			}
			return 1
		}
		if c := b.rank.Compare(a.rank); c != 0 {
			return c
		}
		switch ab, ba := cameAfter(a, b), cameAfter(b, a); {
		case ab && !ba:
			return -1
		case ba && !ab:
			return 1
		}
		// Neither, or each after the other (run.json files made up):
		// by date.
		return b.at.Compare(a.at)
	})
	for _, r := range runs {
		found.dirs = append(found.dirs, r.dir)
	}
	for _, r := range killed {
		if len(runs) == 0 || r.at.After(runs[0].at) {
			found.unfinished = append(found.unfinished, r.dir)
		}
	}
	slices.SortFunc(unreadable, func(a, b run) int { return b.at.Compare(a.at) }) // the latest first
	for _, r := range unreadable {
		// Its record last written before the baseline started, it
		// started before it too: no later run is missed.
		if len(runs) == 0 || r.at.After(runs[0].at) {
			found.unreadable = append(found.unreadable, unreadableRun{r.dir, r.why, r.newer})
		}
	}
	return found, nil
}

// runJSONProblem says why the run.json at path gives no run to compare
// with, err being what audit.ReadRunInfo returned (nil: it gives no start,
// as a merge of records that had none), for a person: without the path,
// which the message names, on one line.
func runJSONProblem(path string, err error) string {
	var se *json.SyntaxError
	var re *audit.RunInfoError
	var pe *fs.PathError
	switch st, serr := os.Stat(path); {
	case err == nil:
		return "gives no start (a merge of records that had none)"
	case serr == nil && st.IsDir():
		return "is a directory"
	case errors.As(err, &se):
		return "is not valid JSON (" + plain(se.Error(), 200) + ")"
	case errors.As(err, &re):
		return "is not a run.json this auditor reads (" + plain(strings.TrimSpace(re.Field+" "+re.Problem), 200) + ")"
	case errors.As(err, &pe):
		return "cannot be read (" + plain(pe.Err.Error(), 200) + ")"
	}
	return "cannot be read (" + plain(strings.TrimPrefix(err.Error(), path+": "), 200) + ")"
}

// sameTargets reports whether the run of ri audited the targets of self,
// so that --baseline previous may compare with it: the same shard of its
// list, or both the whole (a merge of every shard of a list is the whole
// list), of the same lists. A list is the same when its digest is
// (Part.List), or when both runs read it from the same --instances files:
// a list edited since (an instance added, one gone) is still the list,
// and what changed is what the comparison is for. A run.json from before
// runs recorded their files is taken at its shards' word when both runs
// read lists. A discovery recorded before its scope was resolved (see
// audit.Part.OldDiscovery) is of targets not known to be any run's.
func sameTargets(self, ri audit.RunInfo) bool {
	if slices.ContainsFunc(self.Parts, audit.Part.OldDiscovery) || slices.ContainsFunc(ri.Parts, audit.Part.OldDiscovery) {
		return false
	}
	return slices.Equal(shardsOf(ri.Parts), shardsOf(self.Parts)) && sameLists(self, ri)
}

// sameLists reports whether the runs of self and ri read the same lists,
// whichever shards of them they audited (see sameTargets). Lists of other
// digests are the same when both runs read them from the same --instances
// files for the same targets (sameScope): the digest of a list read
// elsewhere (another --region, other --accounts, an --instance-id added)
// differs as the digest of a list edited since does. A discovery's part is
// its scope whatever files it read besides (audit.DiscoveryScope): the
// files are no sign of the same scope.
func sameLists(self, ri audit.RunInfo) bool {
	a, b := listsOf(self.Parts), listsOf(ri.Parts)
	if slices.Equal(a, b) {
		return true
	}
	if slices.ContainsFunc(self.Parts, audit.Part.Discovered) || slices.ContainsFunc(ri.Parts, audit.Part.Discovered) {
		return false
	}
	mine, ok := self.Options["instances"]
	if !ok {
		return false
	}
	// A run.json from before runs named their files: nothing but the
	// digest tells its list from another's, and it differs.
	theirs, ok := ri.Options["instances"]
	return ok && slices.Equal(listNames(mine), listNames(theirs)) && sameScope(self, ri)
}

// listNames returns the names of the --instances files that run.json's
// "instances" option v holds ([]string in this run's, []any read from a
// run.json): each path without its "." elements and repeated separators,
// so that ./fleet.csv is fleet.csv. Only the path tells two lists apart:
// staging/fleet.csv is not prod/fleet.csv, though their runs write beside
// each other; and a ".." stays, as the directory before it may be a link
// (filepath.Clean would make prod/lists/../fleet.csv prod/fleet.csv where
// lists links to staging's). "-" is standard input, and a file named "-"
// (./-) stays a path.
func listNames(v any) []string {
	var paths []string
	switch v := v.(type) {
	case []string:
		paths = v
	case []any:
		for _, p := range v {
			paths = append(paths, fmt.Sprint(p))
		}
	default:
		return []string{fmt.Sprint(v)}
	}
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = p
		if p != "-" {
			names[i] = withoutDots(p)
			if names[i] == "-" {
				names[i] = "." + string(filepath.Separator) + "-"
			}
		}
	}
	return names
}

// withoutDots returns path p without its "." elements and empty ones
// (repeated or trailing separators); ".." elements stay.
func withoutDots(p string) string {
	sep := string(filepath.Separator)
	var kept []string
	for _, e := range strings.Split(p, sep) {
		if e != "" && e != "." {
			kept = append(kept, e)
		}
	}
	out := strings.Join(kept, sep)
	if strings.HasPrefix(p, sep) {
		out = sep + out
	}
	if out == "" {
		out = "."
	}
	return out
}

// scopeOptions are the options of run.json that say where a list's
// targets are, besides its lines.
var scopeOptions = []string{"region", "regions", "accounts", "exclude_accounts", "instance_id"}

// sameScope reports whether the runs of self and ri read their lists for
// the same targets: the same scopeOptions, and, when both know it, the
// same caller's account (that of the lines that name none).
func sameScope(self, ri audit.RunInfo) bool {
	for _, k := range scopeOptions {
		if fmt.Sprint(self.Options[k]) != fmt.Sprint(ri.Options[k]) {
			return false
		}
	}
	return self.Caller == "" || ri.Caller == "" || self.Caller == ri.Caller
}

// moreAccounts reports whether the baseline's record base names instances
// of several accounts, and the run of rs, whose account-regions are sites,
// is of one known account: its results name one, and no other account is
// among its sites (an account that could not be audited is the run's all
// the same, though no result names it). For a run of some shards only
// (rs.Scope), it also needs the comparison to report an instance of
// another account gone: the baseline's instances outside those shards are
// not compared (audit.Compare), and a discovery shard of the baseline's
// own scope, split by account-region, may hold one account of many.
func moreAccounts(base, rs *audit.Records, sites []audit.SiteStats) bool {
	_, one := base.SoleAccount()
	mine, ok := rs.SoleAccount()
	other := slices.ContainsFunc(sites, func(s audit.SiteStats) bool { return s.AccountID != "" && s.AccountID != mine })
	if base.Len() == 0 || one || !ok || mine == "" || other {
		return false
	}
	if len(audit.PartialShards(rs.Scope)) == 0 {
		return true
	}
	// The comparison itself says, rather than a second rule of which
	// instances a shard covers; it stops at the first such instance.
	errGone := errors.New("an instance of another account gone")
	_, err := audit.Compare(base, rs, func(c audit.Change) error {
		if c.Kind == audit.VanishedInstance && c.AccountID != mine {
			return errGone
		}
		return nil
	})
	// A record that cannot be read is the comparison's to report; the
	// warning stays on the safe side.
	return err != nil
}

// splitGroup reports whether ri is the run.json of a --split-by group
// (RUN/by-LABEL/GROUP): split by a label, of no parts; a run's own
// run.json names its parts.
func splitGroup(ri audit.RunInfo) bool {
	by, _ := ri.Options["split_by"].(string)
	return by != "" && len(ri.Parts) == 0
}

// shardsOf returns the shards ("K/N") that parts hold, sorted, leaving out
// those of a list whose every shard is there (audit.ShardGap): a merge of
// them is the whole list. Empty for a whole run.
func shardsOf(parts []audit.Part) []string {
	byList := map[string][]audit.Part{}
	for _, p := range parts {
		if p.Shard != "" {
			l := cmp.Or(p.List, p.Fleet)
			byList[l] = append(byList[l], p)
		}
	}
	var out []string
	for _, ps := range byList {
		if ps[0].List != "" && audit.ShardGap(ps) == "" {
			continue
		}
		var shards []string
		for _, p := range ps {
			shards = append(shards, p.Shard)
		}
		slices.Sort(shards)
		out = append(out, slices.Compact(shards)...)
	}
	slices.Sort(out)
	return out
}

// listsOf returns the lists that parts were taken from, sorted, once each:
// Part.List, or Fleet in a run.json from before parts named their list.
func listsOf(parts []audit.Part) []string {
	var out []string
	for _, p := range parts {
		if l := cmp.Or(p.List, p.Fleet); l != "" {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// pathFrom is p relative to dir, or p made absolute when it has no path
// relative to dir (another volume).
func pathFrom(dir, p string) string {
	ap, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	ad, err := filepath.Abs(dir)
	if err != nil {
		return ap
	}
	if rel, err := filepath.Rel(ad, ap); err == nil {
		return rel
	}
	return ap
}

// listedToo says how many listed instances a discovery run audits besides.
func listedToo(listed int) string {
	if listed == 0 {
		return ""
	}
	return " and " + plural(listed, "listed instance")
}

// siteFailures returns the failures of sites when every one of them
// failed, else nil.
func siteFailures(sites []audit.SiteStats) []*audit.SiteError {
	var failed []*audit.SiteError
	for _, s := range sites {
		if s.Error == nil {
			return nil
		}
		failed = append(failed, &audit.SiteError{AccountID: s.AccountID, Region: s.Region, Code: s.Error.Code, Message: s.Error.Message})
	}
	return failed
}

// withFailures adds the account-regions that failed outside the audit
// (listing their regions or nodes) to its own: one entry an account-region,
// which keeps the first failure it was given.
func withFailures(sites []audit.SiteStats, failed []*audit.SiteError) []audit.SiteStats {
	for _, f := range failed {
		i := slices.IndexFunc(sites, func(s audit.SiteStats) bool { return s.AccountID == f.AccountID && s.Region == f.Region })
		if i < 0 {
			sites = append(sites, audit.SiteStats{AccountID: f.AccountID, Region: f.Region})
			i = len(sites) - 1
		}
		if sites[i].Error == nil {
			sites[i].Error = &audit.Error{Code: f.Code, Message: f.Message}
		}
	}
	return sites
}
