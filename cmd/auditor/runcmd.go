package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/internal/atomicfile"
	"github.com/auditor-dev/auditor/internal/dirlock"
	"github.com/auditor-dev/auditor/report"
)

// runOptions are the flags of "auditor run"; demo fills the same struct.
type runOptions struct {
	instances   listFlag
	instanceIDs listFlag
	skipInvalid bool

	profile       string
	region        string
	endpointURL   string
	allowInsecure bool
	maxAttempts   int
	callTimeout   time.Duration

	concurrency int
	maxResults  int
	maxPages    int
	rate        float64
	timeout     time.Duration
	grace       time.Duration
	shard       string
	shardCount  int

	out         string
	resume      bool
	formats     listFlag
	failOn      listFlag
	staleAfter  days
	htmlMaxRows int
	template    string
	quiet       bool

	// Set by demo, never by a flag: credentials that bypass the default
	// chain, and the environment that --shard auto reads.
	credentials aws.CredentialsProvider
	getenv      func(string) string
	now         func() time.Time
}

func defaultRunOptions() *runOptions {
	return &runOptions{
		maxAttempts: 8,
		callTimeout: 30 * time.Second,
		concurrency: 16,
		maxResults:  50,
		maxPages:    1000,
		grace:       5 * time.Second,
		staleAfter:  days(7 * 24 * time.Hour),
		htmlMaxRows: 500,
		getenv:      os.Getenv,
		now:         time.Now,
		instances:   listFlag{},
		formats:     listFlag{split: true},
		failOn:      listFlag{split: true},
	}
}

// bindTargets and the others bind groups of flags, so that demo shares the
// ones it has in common with run.
func (o *runOptions) bindTargets(fs *flag.FlagSet) {
	fs.Var(&o.instances, "instances", "`FILE` of instance IDs, plain text or CSV with an instance_id column (repeatable; - is stdin)")
	fs.Var(&o.instanceIDs, "instance-id", "an instance `ID` to audit (repeatable)")
	fs.BoolVar(&o.skipInvalid, "skip-invalid", false, "audit the valid IDs and record bad lines as outcome invalid, instead of stopping with exit 2")
	fs.StringVar(&o.shard, "shard", "", "audit only part `K/N` of the list (K from 0), or auto: from Kubernetes Indexed Jobs or AWS Batch array jobs")
	fs.IntVar(&o.shardCount, "shard-count", 0, "the `N` of --shard auto under a Kubernetes Indexed Job (its completions); also AUDITOR_SHARD_COUNT")
}

func (o *runOptions) bindAWS(fs *flag.FlagSet) {
	fs.StringVar(&o.profile, "profile", "", "use this `profile` of the AWS shared config and credentials files (as the AWS CLI's --profile)")
	fs.StringVar(&o.region, "region", "", "AWS `region` of targets that name none (default: AWS_REGION, AWS_DEFAULT_REGION, or the profile's)")
	fs.StringVar(&o.endpointURL, "endpoint-url", "", "send SSM calls to this `URL` instead of the region's endpoint (as the AWS CLI's --endpoint-url)")
	fs.BoolVar(&o.allowInsecure, "allow-insecure-endpoint", false, "allow an http:// --endpoint-url that is not on this machine (signed requests would cross the network in clear)")
	fs.IntVar(&o.maxAttempts, "max-attempts", o.maxAttempts, "attempts per call, the first included, with capped exponential backoff")
	fs.DurationVar(&o.callTimeout, "call-timeout", o.callTimeout, "timeout of one HTTP attempt")
}

func (o *runOptions) bindFetch(fs *flag.FlagSet) {
	fs.IntVar(&o.concurrency, "concurrency", o.concurrency, "instances audited at once")
	fs.IntVar(&o.maxResults, "max-results", o.maxResults, "page size asked of SSM, 1 to 50")
	fs.IntVar(&o.maxPages, "max-pages", o.maxPages, "pages per instance before it ends in error PaginationLoop")
	fs.Float64Var(&o.rate, "rate", 0, "calls per second per account and region (default: adapt to the service's throttling)")
	fs.DurationVar(&o.timeout, "timeout", 0, "stop the run after this long, write partial reports, exit 3 (default: no limit)")
	fs.DurationVar(&o.grace, "grace", o.grace, "after an interrupt, how long calls in flight may finish")
}

func (o *runOptions) bindOutput(fs *flag.FlagSet, defaultOut string) {
	fs.StringVar(&o.out, "out", defaultOut, "output `DIR`, created if needed")
	fs.Var(&o.formats, "format", "report `formats`, comma-separated: csv,xlsx,html,json (default all)")
	fs.Var(&o.failOn, "fail-on", "`findings` that make the exit code 1: failed, pending, not_managed, no_associations, none (default failed)")
	fs.Var(&o.staleAfter, "stale-after", "an association whose last execution is older than this `age` is stale (e.g. 7d, 36h; 0 turns it off)")
	fs.IntVar(&o.htmlMaxRows, "html-max-rows", o.htmlMaxRows, "failure rows shown in report.html (all are in report.xlsx)")
	fs.StringVar(&o.template, "template", "", "render report.html with this html/template `FILE` instead of the built-in one")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress on stderr, only errors and the closing summary")
}

func runCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	o := defaultRunOptions()
	fs := newFlagSet("run", "run --instances FILE | --instance-id ID [flags]", stdout, stderr)
	o.bindTargets(fs)
	o.bindAWS(fs)
	o.bindFetch(fs)
	o.bindOutput(fs, "")
	fs.BoolVar(&o.resume, "resume", false, "continue the record in --out: skip instances already audited, retry those in error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("run: unexpected argument %q (instance lists go in --instances FILE)", fs.Arg(0))
	}
	if o.out == "" {
		if o.resume {
			return usagef("run: --resume needs --out DIR, the directory of the run to continue")
		}
		o.out = "audit-" + o.now().UTC().Format("20060102T150405Z")
	}
	return o.execute(ctx, stdin, stdout, stderr)
}

// settings are the options checked and parsed.
type settings struct {
	formats []report.Format
	failOn  map[audit.Outcome]bool
}

func (o *runOptions) check() (settings, error) {
	var s settings
	switch {
	case o.concurrency < 1:
		return s, usagef("--concurrency %d: want at least 1", o.concurrency)
	case o.maxResults < 1 || o.maxResults > 50:
		return s, usagef("--max-results %d: want 1 to 50 (the API's limits)", o.maxResults)
	case o.maxPages < 1:
		return s, usagef("--max-pages %d: want at least 1", o.maxPages)
	case o.maxAttempts < 1:
		return s, usagef("--max-attempts %d: want at least 1", o.maxAttempts)
	case o.rate < 0:
		return s, usagef("--rate %g: want a positive number of calls per second, or 0 to adapt", o.rate)
	case o.htmlMaxRows < 1:
		return s, usagef("--html-max-rows %d: want at least 1 (all rows are in report.xlsx)", o.htmlMaxRows)
	}
	var err error
	if len(o.formats.vals) == 0 {
		s.formats = report.Formats()
	} else if s.formats, err = report.ParseFormats(strings.Join(o.formats.vals, ",")); err != nil {
		return s, usagef("--format: %v", err)
	}
	if s.failOn, err = parseFailOn(o.failOn.vals); err != nil {
		return s, err
	}
	if o.template != "" {
		// A bad template is found now, not after an hour of calls.
		if err := report.CheckTemplate(o.template); err != nil {
			return s, usagef("--template: %v", err)
		}
	}
	if o.endpointURL != "" {
		if err := checkEndpoint(o.endpointURL, o.allowInsecure); err != nil {
			return s, usagef("--endpoint-url: %v", err)
		}
	}
	return s, nil
}

// parseFailOn maps --fail-on's words to the outcomes that count as findings.
func parseFailOn(vals []string) (map[audit.Outcome]bool, error) {
	if len(vals) == 0 {
		vals = []string{"failed"}
	}
	words := map[string]audit.Outcome{
		"failed":          audit.OutcomeNoncompliant,
		"noncompliant":    audit.OutcomeNoncompliant,
		"pending":         audit.OutcomePending,
		"not_managed":     audit.OutcomeNotManaged,
		"no_associations": audit.OutcomeNoAssociations,
	}
	set := map[audit.Outcome]bool{}
	for _, v := range vals {
		if v == "none" {
			continue
		}
		oc, ok := words[v]
		if !ok {
			return nil, usagef("--fail-on %q: want failed, pending, not_managed, no_associations or none", v)
		}
		set[oc] = true
	}
	return set, nil
}

// loadFleet reads every --instances file and --instance-id.
func (o *runOptions) loadFleet(stdin io.Reader) (*audit.Fleet, error) {
	f := &audit.Fleet{}
	for _, name := range o.instances.vals {
		if name == "-" {
			if err := f.Read(stdin, "-"); err != nil {
				return nil, usagef("%v", err)
			}
			continue
		}
		fh, err := os.Open(name)
		if err != nil {
			return nil, usagef("--instances: %v", err)
		}
		err = f.Read(fh, name)
		fh.Close()
		if err != nil {
			return nil, usagef("%v", err)
		}
	}
	for _, id := range o.instanceIDs.vals {
		f.AddID(id, "", "")
	}
	if len(o.instances.vals) == 0 && len(o.instanceIDs.vals) == 0 {
		return nil, usagef("no instances to audit: pass --instances FILE (- for stdin) or --instance-id ID")
	}
	if len(f.Targets) == 0 && len(f.Invalid) == 0 {
		return nil, usagef("no instances to audit: %s held no instance IDs", strings.Join(append(o.instances.vals, o.instanceIDs.vals...), ", "))
	}
	if err := f.Err(); err != nil && !o.skipInvalid {
		return nil, err
	}
	if len(f.Targets) == 0 {
		return nil, usagef("no valid instance IDs: all %d were invalid", len(f.Invalid))
	}
	return f, nil
}

// execute runs the whole job: read, fetch, record, render, and tell.
func (o *runOptions) execute(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) error {
	set, err := o.check()
	if err != nil {
		return err
	}
	fleet, err := o.loadFleet(stdin)
	if err != nil {
		return err
	}
	targets := fleet.Targets
	if o.skipInvalid {
		targets = append(targets, fleet.Invalid...)
	}
	if o.shard != "" {
		k, n, err := parseShard(o.shard, o.shardCount, o.getenv)
		if err != nil {
			return err
		}
		targets = audit.Shard(targets, k, n)
		o.logf(stderr, "shard %d/%d: %d of %d targets", k, n, len(targets), len(fleet.Targets)+len(fleet.Invalid))
	}

	unlock, err := lockOut(o.out)
	if err != nil {
		return err
	}
	defer unlock()
	recordPath := filepath.Join(o.out, audit.ResultsFile)
	info := audit.RunInfo{
		Schema:     audit.Schema,
		Version:    appVersion(),
		StartedAt:  o.now().UTC(),
		Options:    o.record(),
		Targets:    len(targets),
		Duplicates: fleet.Duplicates,
		Invalid:    len(fleet.Invalid),
	}
	var cfg audit.Config
	if needsAWS(targets) {
		awsCfg, err := o.loadAWS(ctx)
		if err != nil {
			return err
		}
		if o.region == "" {
			o.region = awsCfg.Region
		}
		// Targets carry their region from here on, so that they match the
		// record of an earlier run whatever told it the region.
		for i, t := range targets {
			if t.Problem != "" || t.Region != "" {
				continue
			}
			if o.region == "" {
				return usagef("no region for %s: pass --region, set AWS_REGION, or add a region column to the list", t.InstanceID)
			}
			targets[i].Region = o.region
		}
		cfg.Client = o.clients(awsCfg)
	}
	info.Options = o.record()
	targets, info, err = o.resumeFrom(recordPath, targets, info, stderr)
	if err != nil {
		return err
	}

	w, err := audit.CreateRecord(recordPath)
	if err != nil {
		return fmt.Errorf("%w: %v", atomicfile.ErrNotWritable, err)
	}
	defer w.Close()

	runCtx := ctx
	if o.timeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, o.timeout)
		defer cancel()
	}
	prog := newProgress(stderr, len(targets), o.quiet)
	cfg.Region = o.region
	cfg.Concurrency = o.concurrency
	cfg.MaxResults = int32(o.maxResults)
	cfg.MaxPages = o.maxPages
	cfg.Rate = o.rate
	cfg.Grace = o.grace
	cfg.OnResult = func(r audit.Result) error {
		if err := w.Write(r); err != nil {
			return fmt.Errorf("%w: %v", atomicfile.ErrNotWritable, err)
		}
		prog.done(r.Outcome)
		return nil
	}
	if len(targets) > 0 {
		o.logf(stderr, "auditing %d instances, %d at a time; record in %s", len(targets), o.concurrency, recordPath)
	}
	stats, runErr := audit.Run(runCtx, cfg, targets)
	prog.stop()
	info.Stats = stats
	info.EndedAt = o.now().UTC()
	if runErr != nil && ctx.Err() == nil && runCtx.Err() != nil {
		fmt.Fprintf(stderr, "auditor: stopped after --timeout %s\n", o.timeout)
	}
	interrupted := runErr != nil && runCtx.Err() != nil
	if runErr != nil && !interrupted {
		info.Error = runErr.Error()
	}
	info.Interrupted = interrupted

	// Reports are written whatever happened, for what was audited; a
	// second signal still stops the process at once.
	renderCtx := context.WithoutCancel(ctx)
	written, outcomes, renderErr := o.render(renderCtx, recordPath, &info, set)
	if renderErr != nil {
		return renderErr
	}
	for _, p := range written {
		fmt.Fprintln(stdout, p)
	}
	o.summarize(stderr, info, outcomes)
	if runErr != nil && !interrupted {
		if w.Written() > 0 || info.Resumed > 0 {
			fmt.Fprintf(stderr, "auditor: the record in %s holds what was audited; fix the cause below, then continue with: auditor run --resume --out %s ...\n", o.out, o.out)
		}
		return runErr
	}
	return verdict(info, outcomes, set.failOn)
}

// verdict says what the exit code of a finished run, or of reports over
// finished runs, must tell: incomplete before findings, since an incomplete
// audit cannot vouch for what it did not see.
func verdict(info audit.RunInfo, outcomes map[audit.Outcome]int, failOn map[audit.Outcome]bool) error {
	switch {
	case info.Interrupted || info.Error != "" || outcomes[audit.OutcomeError] > 0:
		return errIncomplete
	case findings(outcomes, failOn) > 0:
		return errFindings
	}
	return nil
}

// lockOut checks that the output directory can take files, and keeps any
// other auditor out of it until unlock: two runs appending to one record
// would interleave it.
func lockOut(dir string) (unlock func(), err error) {
	if err := atomicfile.CheckDir(dir); err != nil {
		return nil, fmt.Errorf("--out %s: %w", dir, err)
	}
	unlock, err = dirlock.Lock(dir)
	if err != nil {
		return nil, fmt.Errorf("--out %s: %w; wait for it, or choose another --out", dir, err)
	}
	return unlock, nil
}

// needsAWS reports whether any target will be sent to SSM.
func needsAWS(targets []audit.Target) bool {
	for _, t := range targets {
		if t.Problem == "" {
			return true
		}
	}
	return false
}

// resumeFrom applies --resume: it drops the targets that the record in the
// output directory already holds with a verdict, and keeps the earlier
// run's start. Without --resume, an existing record is an error: appending
// to another run's record would mix two audits.
func (o *runOptions) resumeFrom(recordPath string, targets []audit.Target, info audit.RunInfo, stderr io.Writer) ([]audit.Target, audit.RunInfo, error) {
	_, err := os.Stat(recordPath)
	exists := err == nil
	if !o.resume {
		if exists {
			return nil, info, usagef("%s already holds a record: pass --resume to continue it, or another --out", o.out)
		}
		return targets, info, nil
	}
	if !exists {
		o.logf(stderr, "nothing to resume in %s: starting a new record", o.out)
		return targets, info, nil
	}
	rs, err := audit.OpenRecords(recordPath)
	if err != nil {
		return nil, info, usagef("--resume: %v", err)
	}
	defer rs.Close()
	done := map[audit.Key]bool{}
	err = rs.Each(func(r audit.Result) error {
		if r.Outcome != audit.OutcomeError {
			done[r.Key()] = true
		}
		return nil
	})
	if err != nil {
		return nil, info, err
	}
	if prev, err := audit.ReadRunInfo(filepath.Join(o.out, audit.RunFile)); err == nil && !prev.StartedAt.IsZero() {
		info.StartedAt = prev.StartedAt
	}
	var rest []audit.Target
	for _, t := range targets {
		if !done[t.Key()] {
			rest = append(rest, t)
		}
	}
	info.Resumed = len(targets) - len(rest)
	o.logf(stderr, "resuming %s: %d instances already audited, %d to go (torn lines dropped: %d)", o.out, info.Resumed, len(rest), rs.Torn)
	return rest, info, nil
}

// render writes run.json and every report from the record on disk, which
// after a resume holds the earlier runs' results too.
func (o *runOptions) render(ctx context.Context, recordPath string, info *audit.RunInfo, set settings) ([]string, map[audit.Outcome]int, error) {
	rs, err := audit.OpenRecords(recordPath)
	if err != nil {
		return nil, nil, err
	}
	defer rs.Close()
	return o.renderRecords(ctx, rs, recordPath, info, set)
}

// renderRecords is render over records already open: rs must hold what
// recordPath holds.
func (o *runOptions) renderRecords(ctx context.Context, rs *audit.Records, recordPath string, info *audit.RunInfo, set settings) ([]string, map[audit.Outcome]int, error) {
	outcomes := rs.Outcomes()
	info.Outcomes = outcomes
	if missing := info.Targets - rs.Len(); missing > 0 && !info.Interrupted && info.Error == "" {
		// A shard that never ran, or a record cut short by hand.
		info.Error = fmt.Sprintf("%d of %d targets have no result in the record", missing, info.Targets)
	}
	info.Complete = !info.Interrupted && info.Error == "" && outcomes[audit.OutcomeError] == 0
	runPath := filepath.Join(o.out, audit.RunFile)
	if err := writeJSON(runPath, info); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", atomicfile.ErrNotWritable, err)
	}
	written := []string{recordPath, runPath}
	if rs.Len() == 0 {
		return written, outcomes, nil
	}
	paths, err := report.Render(ctx, report.Options{
		Dir:         o.out,
		Formats:     set.formats,
		Records:     rs,
		Run:         *info,
		StaleAfter:  o.staleAfter.report(),
		HTMLMaxRows: o.htmlMaxRows,
		Template:    o.template,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("rendering reports: %w", err)
	}
	return append(written, paths...), outcomes, nil
}

// record returns the options as run.json shows them: no secrets (none are
// flags; credentials never pass through here).
func (o *runOptions) record() map[string]any {
	m := map[string]any{
		"concurrency":   o.concurrency,
		"max_results":   o.maxResults,
		"max_pages":     o.maxPages,
		"max_attempts":  o.maxAttempts,
		"rate":          o.rate,
		"stale_after":   time.Duration(o.staleAfter).String(),
		"html_max_rows": o.htmlMaxRows,
		"skip_invalid":  o.skipInvalid,
		"resume":        o.resume,
	}
	for k, v := range map[string]string{
		"profile": o.profile, "region": o.region, "endpoint_url": o.endpointURL,
		"shard": o.shard, "template": o.template, "timeout": durString(o.timeout),
	} {
		if v != "" {
			m[k] = v
		}
	}
	if len(o.formats.vals) > 0 {
		m["format"] = strings.Join(o.formats.vals, ",")
	}
	if len(o.failOn.vals) > 0 {
		m["fail_on"] = strings.Join(o.failOn.vals, ",")
	}
	return m
}

func durString(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

func findings(outcomes map[audit.Outcome]int, failOn map[audit.Outcome]bool) int {
	n := 0
	for oc := range failOn {
		n += outcomes[oc]
	}
	return n
}

// summarize prints the closing lines on stderr.
func (o *runOptions) summarize(stderr io.Writer, info audit.RunInfo, outcomes map[audit.Outcome]int) {
	total := 0
	var parts []string
	for _, oc := range audit.Outcomes() {
		total += outcomes[oc]
		if outcomes[oc] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", outcomes[oc], oc))
		}
	}
	st := info.Stats
	fmt.Fprintf(stderr, "audited %d instances in %.1fs (%d calls, %d throttled, %d retried): %s\n",
		total, st.Seconds, st.Calls, st.Throttled, st.Retries, strings.Join(parts, ", "))
	if info.Interrupted {
		fmt.Fprintf(stderr, "interrupted: reports are partial; continue with: auditor run --resume --out %s (and the same targets)\n", o.out)
	} else if outcomes[audit.OutcomeError] > 0 {
		fmt.Fprintf(stderr, "%d instances ended in error (see instances.csv); retry them with: auditor run --resume --out %s (and the same targets)\n", outcomes[audit.OutcomeError], o.out)
	}
	fmt.Fprintf(stderr, "reports in %s\n", o.out)
}

func (o *runOptions) logf(stderr io.Writer, format string, a ...any) {
	if !o.quiet {
		fmt.Fprintf(stderr, format+"\n", a...)
	}
}

// parseShard reads --shard K/N or --shard auto.
func parseShard(s string, count int, getenv func(string) string) (k, n int, err error) {
	if s == "auto" {
		if idx := getenv("AWS_BATCH_JOB_ARRAY_INDEX"); idx != "" {
			return shardNumbers(idx, getenv("AWS_BATCH_JOB_ARRAY_SIZE"), "AWS_BATCH_JOB_ARRAY_INDEX", "AWS_BATCH_JOB_ARRAY_SIZE")
		}
		if idx := getenv("JOB_COMPLETION_INDEX"); idx != "" {
			c := getenv("AUDITOR_SHARD_COUNT")
			if count > 0 {
				c = strconv.Itoa(count)
			}
			return shardNumbers(idx, c, "JOB_COMPLETION_INDEX", "--shard-count (or AUDITOR_SHARD_COUNT)")
		}
		return 0, 0, usagef("--shard auto: neither AWS_BATCH_JOB_ARRAY_INDEX nor JOB_COMPLETION_INDEX is set; pass --shard K/N")
	}
	ks, ns, ok := strings.Cut(s, "/")
	if !ok {
		return 0, 0, usagef("--shard %q: want K/N, such as 0/4 (K counts from 0), or auto", s)
	}
	return shardNumbers(ks, ns, "--shard K", "--shard N")
}

func shardNumbers(ks, ns, kname, nname string) (int, int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(ns))
	if err != nil || n < 1 {
		return 0, 0, usagef("shard count %s %q: want a whole number of at least 1", nname, ns)
	}
	k, err := strconv.Atoi(strings.TrimSpace(ks))
	if err != nil || k < 0 || k >= n {
		return 0, 0, usagef("shard index %s %q: want 0 to %d (it counts from 0)", kname, ks, n-1)
	}
	return k, n, nil
}

// report returns the rule for report.Options.StaleAfter. Its zero turns the
// check off, as 0 does on the command line.
func (d days) report() audit.StaleAfter { return audit.StaleAfter(d) }

// days is a duration flag that also takes whole days ("7d").
type days time.Duration

func (d *days) String() string {
	v := time.Duration(*d)
	if v > 0 && v%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", v/(24*time.Hour))
	}
	return v.String()
}

func (d *days) Set(s string) error {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		v, err := strconv.ParseFloat(n, 64)
		if err != nil || v < 0 {
			return fmt.Errorf("want a duration such as 7d or 36h")
		}
		*d = days(time.Duration(v * float64(24*time.Hour)))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return fmt.Errorf("want a duration such as 7d or 36h")
	}
	*d = days(v)
	return nil
}

// progress reports on stderr how far the run is: a line every 10 seconds,
// which reads well in a terminal and in a cron job's mail alike.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	total    int
	n        int
	outcomes map[audit.Outcome]int
	start    time.Time
	quit     chan struct{}
	wg       sync.WaitGroup
}

func newProgress(w io.Writer, total int, quiet bool) *progress {
	p := &progress{w: w, total: total, outcomes: map[audit.Outcome]int{}, start: time.Now(), quit: make(chan struct{})}
	if quiet || total == 0 {
		return p
	}
	p.wg.Go(func() {
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-p.quit:
				return
			case <-t.C:
				p.print()
			}
		}
	})
	return p
}

func (p *progress) done(oc audit.Outcome) {
	p.mu.Lock()
	p.n++
	p.outcomes[oc]++
	p.mu.Unlock()
}

func (p *progress) print() {
	p.mu.Lock()
	defer p.mu.Unlock()
	var keys []string
	for oc, n := range p.outcomes {
		keys = append(keys, fmt.Sprintf("%s %d", oc, n))
	}
	sort.Strings(keys)
	el := time.Since(p.start).Seconds()
	fmt.Fprintf(p.w, "progress: %d/%d instances (%.0f/s): %s\n", p.n, p.total, float64(p.n)/max(el, 0.001), strings.Join(keys, ", "))
}

func (p *progress) stop() {
	close(p.quit)
	p.wg.Wait()
}
