package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/logging"
	"golang.org/x/term"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/awsconn"
	"github.com/auditor-dev/auditor/internal/dirlock"
	"github.com/auditor-dev/auditor/internal/outdir"
	"github.com/auditor-dev/auditor/report"
)

// runOptions are the flags of "auditor run"; demo and report fill the same
// struct.
type runOptions struct {
	instances   listFlag
	instanceIDs listFlag
	skipInvalid bool

	profile string
	region  string
	// configRegion is the region the AWS configuration (AWS_REGION, the
	// profile's) names when --region does not, as report and mail found
	// it before --mail-via ses (checkDeliveryAWS), for the commands that
	// deliver again; run puts it in region.
	configRegion  string
	endpointURL   string
	allowInsecure bool
	maxAttempts   int
	callTimeout   time.Duration
	// configuredEndpoint is SSM's endpoint when the AWS configuration
	// gives one and --endpoint-url does not, and endpointFrom the setting
	// that gives it (job.endpointSource): run sets them, so that the
	// record names an endpoint that is not the region's own whatever set
	// it.
	configuredEndpoint, endpointFrom string
	// endpointVariant names the variants of the region's own endpoint
	// that SSM's calls go to (awsconn.Conn.SSMVariants): "FIPS", say, for
	// the evidence that the calls went through FIPS endpoints.
	endpointVariant string

	accounts        string
	excludeAccounts listFlag
	roleName        string
	roleARN         string
	externalID      string
	roleSessionName string
	roleDuration    time.Duration
	regions         string
	discover        bool
	filters         listFlag
	withInfo        bool
	triage          bool
	tagLabels       listFlag

	concurrency int
	maxResults  int
	maxPages    int
	rate        float64
	timeout     time.Duration
	deadline    time.Time // --timeout's, counted from the command's start
	grace       time.Duration
	shard       string
	shardCount  int

	out         string
	outDefault  bool   // out was not given: it is the default, audit-{time}
	outNamed    string // out as given, placeholders filled, where out is outdir.Clean's: see outGiven
	resume      bool
	formats     listFlag
	failOn      listFlag
	staleAfter  days
	htmlMaxRows int
	template    string
	quiet       bool
	logFormat   string
	// inputJSON is the --cli-input-json file the options were read from,
	// if any, for the commands that continue the run.
	inputJSON string
	// line is run's command line as it was given, flag by flag, for the
	// command that resumes it.
	line []givenFlag
	// origins says which options came from AUDITOR_* or the
	// --cli-input-json file (layered.origins), for the problems found
	// after parsing.
	origins string
	// given names the options set on the command line, where an empty
	// value ("$ACCOUNTS" of an empty variable) is not one left unset.
	given map[string]bool
	// chosen names the options the user set for this command: given a
	// value on the command line, or one other than the default in the
	// --cli-input-json file (not AUDITOR_*, which reaches every command of
	// a job).
	chosen   map[string]bool
	baseline string
	splitBy  string
	delivery deliveryOptions

	// Set by demo, never by a flag: credentials that bypass the default
	// chain, and the environment that --shard auto reads.
	credentials aws.CredentialsProvider
	getenv      func(string) string
	environ     func() []string
	now         func() time.Time
	// isTerminal tells whether reading r (standard input) would wait for a
	// person at a terminal.
	isTerminal func(r io.Reader) bool
	// prompt asks a person at the terminal (an MFA code), for a command
	// that may; nil for one that never does.
	prompt *prompter
	// openDir opens the output directory (default outdir.Open); the demo
	// opens only a directory of its own.
	openDir func(string) (*outdir.Dir, error)
	// demo is set by the demo, whose findings are by design.
	demo bool
	// sdkLogger receives the AWS SDK's log lines.
	sdkLogger logging.Logger
	// console is stderr, when run() made it.
	console *console
	// merging is set for auditor report: it delivers what it merged.
	merging bool
	// base is the --baseline record, once opened; warnedScope is set once
	// it was warned to cover other targets.
	base        *audit.Baseline
	warnedScope bool
	// baselineElse are the runs --baseline previous falls back on, in
	// order, when the one it chose cannot be read.
	baselineElse []string
	// baselineUnfinished are the runs --baseline previous left out for
	// want of a run.json (killed before they finished), to warn of.
	baselineUnfinished []string
	baselinePrevious   bool
	// baselineAs is how run.json's options name the baseline a resume
	// keeps: its first attempt's spelling (W1, where baseline, which opens
	// it, is W1/results.jsonl), so that one baseline throughout is not
	// told as an option its attempts ran with apart (earlier_options). It
	// holds while baseline is still baselineFor; one taken instead, when
	// the kept one cannot be read, is recorded as it is.
	baselineAs, baselineFor string
	// baselineChosen is set when --baseline previous chose the run: one
	// of another account is then passed over (two jobs whose lists have
	// one name look like runs of one list).
	baselineChosen bool
	// ranAfter are the starts of the runs --baseline previous passed over
	// as dated later than now, for run.json (audit.RunInfo.RanAfter).
	ranAfter []time.Time
	// resumed is when the run being resumed started, once read.
	resumed *resumedAt
	// groups are the --split-by groups, once rendered; splitFailed is set
	// when they could not all be, and none is then mailed.
	groups      []report.SplitGroup
	splitFailed bool
	// labelKeys are label keys that every report has a column for
	// (report.Options.LabelKeys): the label of the split whose group
	// auditor report renders again.
	labelKeys []string
	// delivers tells whether this command delivers (run, report).
	delivers bool
}

// startClock is what a command's options take for the present
// (runOptions.now): time.Now, but in a test that makes runs start in one
// second.
var startClock = time.Now

func defaultRunOptions() *runOptions {
	return &runOptions{
		maxAttempts:     8,
		callTimeout:     30 * time.Second,
		concurrency:     16,
		maxResults:      50,
		maxPages:        1000,
		grace:           5 * time.Second,
		staleAfter:      days(7 * 24 * time.Hour),
		htmlMaxRows:     500,
		getenv:          getenv,
		environ:         os.Environ,
		now:             startClock,
		instances:       listFlag{},
		formats:         listFlag{split: true},
		failOn:          listFlag{split: true},
		tagLabels:       listFlag{split: true},
		excludeAccounts: listFlag{split: true},
		isTerminal:      stdinTerminal,
	}
}

// bindTargets and the others bind groups of flags, so that demo shares the
// ones it has in common with run.
func (o *runOptions) bindTargets(fs *flagSet) {
	fs.Var(&o.instances, "instances", "`FILE` of instance IDs, plain text or CSV with an instance_id column (repeatable; - is stdin)")
	fs.Var(&o.instanceIDs, "instance-id", "an instance `ID` to audit (repeatable)")
	fs.BoolVar(&o.skipInvalid, "skip-invalid", false, "audit the valid IDs and record bad lines as outcome invalid, instead of stopping with exit 2")
	fs.StringVar(&o.shard, "shard", "", "audit only part `K/N` of the list (K from 0), or auto: from Kubernetes Indexed Jobs or AWS Batch array jobs")
	fs.IntVar(&o.shardCount, "shard-count", 0, "the `N` of --shard auto under a Kubernetes Indexed Job (its completions); also AUDITOR_SHARD_COUNT")
}

func (o *runOptions) bindAWS(fs *flagSet) {
	fs.StringVar(&o.profile, "profile", "", "use profile `NAME` of the AWS shared config and credentials files (as the AWS CLI's --profile)")
	fs.StringVar(&o.region, "region", "", "the `REGION` of targets that name none (default: AWS_REGION, AWS_DEFAULT_REGION, or the profile's)")
	fs.StringVar(&o.endpointURL, "endpoint-url", "", "send SSM calls to this `URL` instead of the region's endpoint (as the AWS CLI's --endpoint-url)")
	fs.BoolVar(&o.allowInsecure, "allow-insecure-endpoint", false, "allow an http:// endpoint that is not on this machine (signed requests would cross the network in clear)")
	fs.IntVar(&o.maxAttempts, "max-attempts", o.maxAttempts, "`N` attempts per call, the first included, with capped exponential backoff")
	fs.DurationVar(&o.callTimeout, "call-timeout", o.callTimeout, "timeout `D` of one HTTP attempt (a duration such as 30s or 2m)")
}

// bindOrg binds the flags that reach an organisation: accounts, roles,
// regions, discovery and triage.
func (o *runOptions) bindOrg(fs *flagSet) {
	fs.StringVar(&o.accounts, "accounts", "", "audit these accounts (`LIST|FILE|org`): a comma-separated list of IDs, a file of them (ID[,name] a line), or org (the organisation's active accounts)")
	fs.Var(&o.excludeAccounts, "exclude-accounts", "leave out these account IDs (a comma-separated `LIST`, repeatable)")
	fs.StringVar(&o.roleName, "role-name", "", "reach accounts other than the caller's by assuming the role `NAME` in each (arn:<partition>:iam::<account>:role/NAME)")
	fs.StringVar(&o.roleARN, "role-arn", "", "the role `ARN` to assume in each account, with {account} in it (instead of --role-name)")
	fs.StringVar(&o.externalID, "external-id", "", "the external `ID` the role's trust policy asks for")
	fs.StringVar(&o.roleSessionName, "role-session-name", o.roleSessionName, "the `NAME` of the role sessions, as CloudTrail shows it: 2 to 64 letters, digits and _+=,.@- (default auditor)")
	fs.DurationVar(&o.roleDuration, "role-duration", 0, "each role session's length `D` before it is renewed, 15m to 12h (default: STS's, 1h; 1h at most when the run's own credentials are a role's session)")
	fs.StringVar(&o.regions, "regions", "", "discover in these regions (`LIST|all`): a comma-separated list, or all, each account's enabled regions (default: --region)")
	fs.BoolVar(&o.discover, "discover", false, "find the targets: every managed node of each account-region (DescribeInstanceInformation), with --instances as a union")
	fs.Var(&o.filters, "filter", "discover only the nodes that match `Key=K,Values=V1,V2` (AWS CLI shorthand: tag:Env, tag-key, PingStatus, PlatformType, ...; repeatable)")
	fs.BoolVar(&o.withInfo, "with-instance-info", false, "also record what DescribeInstanceInformation says of listed instances (ping status, agent, platform): about one call per 50 instances")
	fs.Var(&o.tagLabels, "tag-labels", "label each instance with these tags' `KEYS` (comma-separated, repeatable), as tag:KEY, for --split-by and --mail-to-label (ec2:DescribeTags; ssm:ListTagsForResource for mi- nodes)")
	fs.BoolVar(&o.triage, "triage", false, "record nodes whose association overview shows every association succeeded as compliant without fetching their detail (with --discover or --with-instance-info)")
}

// roles are the role flags.
func (o *runOptions) roles() awsconn.Roles {
	return awsconn.Roles{Name: o.roleName, ARN: o.roleARN, ExternalID: o.externalID, SessionName: o.roleSessionName, Duration: o.roleDuration}
}

func (o *runOptions) bindFetch(fs *flagSet) {
	fs.IntVar(&o.concurrency, "concurrency", o.concurrency, "`N` instances audited at once")
	fs.IntVar(&o.maxResults, "max-results", o.maxResults, "page size `N` asked of SSM, 1 to 50")
	fs.IntVar(&o.maxPages, "max-pages", o.maxPages, "`N` pages per instance before it ends in error PaginationLoop")
	fs.Float64Var(&o.rate, "rate", 0, "call each account and region at most `TPS` times a second (default: adapt to the service's throttling)")
	fs.DurationVar(&o.timeout, "timeout", 0, "stop the run `D` after it starts (the lists, credentials and accounts count too), write partial reports, exit 3 (default: no limit)")
	fs.DurationVar(&o.grace, "grace", o.grace, "after an interrupt, calls in flight may finish for `D`")
}

func (o *runOptions) bindOutput(fs *flagSet, defaultOut string) {
	fs.StringVar(&o.out, "out", defaultOut, "output `DIR`, created if needed; {date} and {time} in it are the run's UTC date and time")
	fs.Var(&o.formats, "format", "report formats, a comma-separated `LIST` of csv, xlsx, html, json (default all)")
	fs.Var(&o.failOn, "fail-on", "findings that make the exit code 1, a comma-separated `LIST` of failed, pending, not_managed, no_associations, new (failures new since --baseline), none (default failed)")
	fs.Var(&o.staleAfter, "stale-after", "an association whose last execution is older than this `AGE` is stale (e.g. 7d, 36h; 0 turns it off)")
	fs.IntVar(&o.htmlMaxRows, "html-max-rows", o.htmlMaxRows, "`N` failure rows shown in report.html (all are in report.xlsx)")
	fs.StringVar(&o.template, "template", "", "render report.html with this html/template `FILE` instead of the built-in one")
	fs.StringVar(&o.splitBy, "split-by", "", "also write the whole set of reports for each value of this `LABEL` (a list column such as owner, account_name, or tag:KEY) under DIR/by-LABEL/VALUE/")
	fs.StringVar(&o.baseline, "baseline", "", "compare with an earlier run (`DIR|RECORD|previous`: its --out directory, its results.jsonl, or previous, the latest whole run of the same targets in a directory beside --out): new failures, resolved, still failing since when, instances come and gone")
	o.bindStderr(fs, "no progress on stderr, only errors and the closing summary")
}

// bindStderr binds --quiet (its usage quiet) and --log-format.
func (o *runOptions) bindStderr(fs *flagSet, quiet string) {
	fs.BoolVar(&o.quiet, "quiet", false, quiet)
	fs.StringVar(&o.logFormat, "log-format", logText, "write stderr as `text|json` (json: one log/slog JSON record a line)")
}

// settings are the options checked and parsed.
type settings struct {
	formats []report.Format
	failOn  audit.FailOn
}

// minRate is the slowest --rate taken: one call each 100 s, a day for 864
// calls. Below it a run of any list waits in silence for longer than anyone
// means it to.
const minRate = 0.01

// shortCallTimeout is a --call-timeout that an answer from afar may need
// more than: calls cut by one shorter are said to be, beside the endpoint.
const shortCallTimeout = 10 * time.Second

// check checks the flags alone, and returns every problem it finds.
func (o *runOptions) check() (settings, []error) {
	var s settings
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, usagef(format, a...)) }
	if o.concurrency < 1 {
		bad("--concurrency %d: want at least 1", o.concurrency)
	}
	if o.maxResults < 1 || o.maxResults > 50 {
		bad("--max-results %d: want 1 to 50 (the API's limits)", o.maxResults)
	}
	if o.maxPages < 1 {
		bad("--max-pages %d: want at least 1", o.maxPages)
	}
	if o.maxAttempts < 1 {
		bad("--max-attempts %d: want at least 1", o.maxAttempts)
	}
	switch {
	case o.rate < 0 || math.IsNaN(o.rate) || math.IsInf(o.rate, 0):
		// NaN and Inf pass a "< 0" test: an unpaced run that then
		// could not write its run.json.
		bad("--rate %g: want a positive number of calls per second, or 0 to adapt", o.rate)
	case o.rate > 0 && o.rate < minRate:
		bad("--rate %g: want at least %g calls per second (one each %s), or 0 to adapt: at this rate the run would not end", o.rate, minRate, time.Duration(float64(time.Second)/minRate))
	}
	if o.timeout < 0 {
		bad("--timeout %s: want a positive duration such as 2h, or 0 for no limit", o.timeout)
	}
	if o.callTimeout <= 0 {
		bad("--call-timeout %s: want a positive duration such as 30s", o.callTimeout)
	}
	if o.grace < 0 {
		bad("--grace %s: want a positive duration, or 0 to cut calls at once", o.grace)
	}
	if o.htmlMaxRows < 1 {
		bad("--html-max-rows %d: want at least 1 (all rows are in report.xlsx)", o.htmlMaxRows)
	}
	var err error
	if len(o.formats.vals) == 0 {
		s.formats = report.Formats()
	} else if s.formats, err = report.ParseFormats(strings.Join(o.formats.vals, ",")); err != nil {
		bad("--format: %v%s", err, formatTypo(o.formats.vals))
	}
	if s.failOn, err = audit.ParseFailOn(o.failOn.vals); err != nil {
		bad("--fail-on %v%s", err, failOnTypo(o.failOn.vals))
	} else if s.failOn.New && o.baseline == "" && o.base == nil && !o.demo && !(o.resume && recordedBaseline(o.out) != "") {
		// Without a baseline nothing is new, and a gate on new failures
		// would pass whatever fails.
		bad("--fail-on new: new since what? add --baseline DIR (or --baseline previous for a schedule)")
	}
	// --baseline previous is resolved once the targets are known
	// (resolvePrevious): only a run of the same targets qualifies.
	if o.baseline != "" && o.baseline != "previous" {
		if err := checkBaseline(o.baseline); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, o.unpaired()...)
	if err := o.htmlOnly(s.formats); err != nil {
		errs = append(errs, err)
	}
	if o.delivers {
		errs = append(errs, o.delivery.check("mail-to")...)
		if o.delivery.mailToLabel != "" && o.splitBy == "" {
			// Each address its own reports: the groups are the label's.
			o.splitBy = o.delivery.mailToLabel
		}
	}
	if o.template != "" {
		// A bad template is found now, not after an hour of calls.
		if err := report.CheckTemplate(o.template); err != nil {
			bad("--template: %v", err)
		}
	}
	if o.endpointURL != "" {
		if err := awsconn.CheckEndpoint(o.endpointURL, o.allowInsecure); err != nil {
			bad("--endpoint-url: %v", insecureHint(err))
		}
	}
	if o.shard != "" {
		if _, _, err := parseShard(o.shard, o.shardCount, o.getenv); err != nil {
			errs = append(errs, err)
		}
	}
	return s, errs
}

// unpaired refuses the options that mean something only with another,
// chosen (o.chosen) without it: taken, they would do nothing, and a mail
// set-up without recipients would mail nobody without a word. Each group
// is one problem, which says what to add.
func (o *runOptions) unpaired() []error {
	d := &o.delivery
	var errs []error
	for _, g := range []struct {
		have  bool
		needs string
		names []string
	}{
		{d.mailing(), "--mail-to ADDRESSES, or --mail-to-label LABEL: without recipients nothing is mailed",
			[]string{"mail-from", "mail-subject", "smtp", "smtp-ca-bundle", "mail-via", "mail-max-body", "mail-max-size", "mail-when"}},
		{d.upload != "", "--upload s3://BUCKET/PREFIX/: without it nothing is uploaded",
			[]string{"upload-sse", "upload-kms-key", "upload-bucket-owner", "upload-acl"}},
		{o.roles().Set(), "--role-name ROLE, or --role-arn ARN: without a role nothing is assumed",
			[]string{"external-id", "role-session-name", "role-duration"}},
	} {
		if g.have {
			continue
		}
		var flags []string
		for _, name := range g.names {
			if o.chosen[name] {
				flags = append(flags, "--"+name)
			}
		}
		switch len(flags) {
		case 0:
		case 1:
			errs = append(errs, usagef("%s needs %s", flags[0], g.needs))
		default:
			errs = append(errs, usagef("%s need %s", joinAnd(flags), g.needs))
		}
	}
	return errs
}

// htmlOnly refuses the options that shape report.html alone, chosen
// (o.chosen) with formats that leave html out: taken, they would do
// nothing, and --template's page would never be written. formats is nil
// when --format was refused, which says so itself.
func (o *runOptions) htmlOnly(formats []report.Format) error {
	if formats == nil || slices.Contains(formats, report.FormatHTML) {
		return nil
	}
	var flags []string
	if o.chosen["template"] {
		flags = append(flags, "--template")
	}
	// A mail's body cuts its lists to --html-max-rows too, and
	// summary.json's lists hold as many when that is over
	// report.MinListRows.
	if o.chosen["html-max-rows"] && !(o.delivers && o.delivery.mailing()) && !(slices.Contains(formats, report.FormatJSON) && o.htmlMaxRows > report.MinListRows) {
		flags = append(flags, "--html-max-rows")
	}
	given := strings.Join(o.formats.vals, ",")
	switch len(flags) {
	case 0:
		return nil
	case 1:
		if flags[0] == "--html-max-rows" {
			return usagef("--html-max-rows needs html in --format: it caps the rows of report.html (and, past %d, of summary.json's lists), which --format %s does not write; add html to --format, or leave out --html-max-rows", report.MinListRows, given)
		}
		return usagef("%s needs html in --format: it shapes report.html alone, which --format %s does not write; add html to --format, or leave out %s", flags[0], given, flags[0])
	}
	return usagef("%s need html in --format: they shape report.html alone, which --format %s does not write; add html to --format, or leave them out", joinAnd(flags), given)
}

// joinProblems joins problems as joinUsage does and adds, on a line of its
// own, where the options that were not on the command line came from, so
// that whoever reads "--format ..." and finds no such flag in a scheduled
// job's command line knows where to look.
func (o *runOptions) joinProblems(problems []error) error {
	err := joinUsage(problems)
	if err == nil || o.origins == "" {
		return err
	}
	return &notedError{err, o.origins}
}

// notedError is an error with a note on a line of its own; it is the error
// it notes for errors.Is and errors.As.
type notedError struct {
	err  error
	note string
}

func (e *notedError) Error() string { return e.err.Error() + "\n" + e.note }
func (e *notedError) Unwrap() error { return e.err }

// joinUsage returns the problems as one usage error, one a line.
func joinUsage(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	if len(errs) == 1 {
		return errs[0]
	}
	var lines []string
	for _, e := range errs {
		lines = append(lines, e.Error())
	}
	return usagef("%d problems:\n  %s", len(errs), strings.Join(lines, "\n  "))
}

// awsSettings are the options that say how to reach AWS. Conns counts
// every account-region audited at once, each with its own workers: on AWS
// those of one region share its endpoint's host, and a pool of idle
// connections sized for fewer closes the rest after each call, to dial
// them anew.
func (o *runOptions) awsSettings() awsconn.Settings {
	return awsconn.Settings{
		Profile:       o.profile,
		Region:        o.region,
		EndpointURL:   o.endpointURL,
		AllowInsecure: o.allowInsecure,
		MaxAttempts:   o.maxAttempts,
		CallTimeout:   o.callTimeout,
		Conns:         o.concurrency * audit.DefaultSites,
		Credentials:   o.credentials,
		Roles:         o.roles(),
		Logger:        o.sdkLogger,
		MFACode:       o.mfaCode(),
		MFAAsked:      o.prompt != nil && canAskCode,
	}
}

// mfaCode is how a role that needs an MFA code gets one: asked at the
// process's terminal when it has one, whatever standard input is (a list
// of instances: --instances -); nil, which refuses such a role, for a job
// with no terminal (cron, systemd, a container without -t), where no one
// could answer.
func (o *runOptions) mfaCode() func(serial string) (string, error) {
	if o.prompt == nil || o.credentials != nil || !hasTerminal() {
		return nil
	}
	return o.prompt.ask
}

// record returns the options as run.json shows them: no secrets (none are
// flags; credentials never pass through here).
func (o *runOptions) record() map[string]any {
	m := o.outputRecord()
	for k, v := range map[string]any{
		"concurrency":  o.concurrency,
		"max_results":  o.maxResults,
		"max_pages":    o.maxPages,
		"max_attempts": o.maxAttempts,
		"rate":         o.rate,
		"skip_invalid": o.skipInvalid,
		"resume":       o.resume,
	} {
		m[k] = v
	}
	endpoint, from := o.endpointURL, "--endpoint-url"
	if endpoint == "" {
		endpoint, from = o.configuredEndpoint, o.endpointFrom
	}
	if endpoint == "" {
		from = ""
	}
	for k, v := range map[string]string{
		// The endpoint was checked (awsconn.CheckEndpoint) and holds no
		// login, query or fragment; redacted all the same, as a record must
		// never carry one. Where it came from is said too: a reader of the
		// record cannot tell AWS_ENDPOINT_URL or a profile's endpoint_url
		// from the machine's environment.
		"profile": o.profile, "region": o.region, "endpoint_url": awsconn.RedactURL(endpoint), "endpoint_from": from,
		"endpoint_variant": o.endpointVariant,
		"shard":            o.shard, "timeout": durString(o.timeout),
		"accounts": o.accounts, "role_name": o.roleName, "role_arn": o.roleARN, "regions": o.regions,
	} {
		if v != "" {
			m[k] = v
		}
	}
	if len(o.instances.vals) > 0 {
		// Which list the run read, whatever it held then: --baseline
		// previous knows a list edited since (sameTargets).
		m["instances"] = o.instances.vals
	}
	if len(o.instanceIDs.vals) > 0 {
		// Targets besides the list's (sameScope).
		m["instance_id"] = o.instanceIDs.vals
	}
	if len(o.excludeAccounts.vals) > 0 {
		m["exclude_accounts"] = strings.Join(o.excludeAccounts.vals, ",")
	}
	if len(o.filters.vals) > 0 {
		m["filter"] = o.filters.vals
	}
	if len(o.tagLabels.vals) > 0 {
		m["tag_labels"] = strings.Join(o.tagLabels.vals, ",")
	}
	for k, v := range map[string]bool{"discover": o.discover, "with_instance_info": o.withInfo, "triage": o.triage} {
		if v {
			m[k] = true
		}
	}
	return m
}

// outputRecord is record for a command that only renders: the output
// options alone (record adds the run's own to them).
func (o *runOptions) outputRecord() map[string]any {
	m := map[string]any{
		"stale_after":   o.staleAfter.String(),
		"html_max_rows": o.htmlMaxRows,
	}
	if o.template != "" {
		m["template"] = o.template
	}
	if len(o.formats.vals) > 0 {
		m["format"] = strings.Join(o.formats.vals, ",")
	}
	if len(o.failOn.vals) > 0 {
		m["fail_on"] = strings.Join(o.failOn.vals, ",")
	}
	if o.baseline != "" {
		m["baseline"] = o.baseline
		if o.baselineAs != "" && o.baseline == o.baselineFor {
			m["baseline"] = o.baselineAs
		}
	}
	if o.splitBy != "" {
		m["split_by"] = o.splitBy
	}
	o.delivery.record(m)
	return m
}

func durString(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

// parseShard reads --shard K/N or --shard auto.
func parseShard(s string, count int, getenv func(string) string) (k, n int, err error) {
	if s == "auto" {
		if idx := getenv("AWS_BATCH_JOB_ARRAY_INDEX"); idx != "" {
			size := getenv("AWS_BATCH_JOB_ARRAY_SIZE")
			if size == "" {
				return 0, 0, usagef("--shard auto: AWS_BATCH_JOB_ARRAY_INDEX is %s, but AWS_BATCH_JOB_ARRAY_SIZE is not set (AWS Batch sets both for an array job): set it, or pass --shard K/N", shardValue(idx))
			}
			return shardNumbers(idx, size, "--shard auto", "AWS_BATCH_JOB_ARRAY_INDEX", "AWS_BATCH_JOB_ARRAY_SIZE")
		}
		if idx := getenv("JOB_COMPLETION_INDEX"); idx != "" {
			if count <= 0 {
				// A Kubernetes Indexed Job tells each pod its index, not
				// how many there are.
				return 0, 0, usagef("--shard auto: JOB_COMPLETION_INDEX is %s but the shard count is not set: pass --shard-count N (or set AUDITOR_SHARD_COUNT), N being the Job's completions", strconv.Quote(idx))
			}
			return shardNumbers(idx, strconv.Itoa(count), "--shard auto", "JOB_COMPLETION_INDEX", "--shard-count (or AUDITOR_SHARD_COUNT)")
		}
		return 0, 0, usagef("--shard auto: neither AWS_BATCH_JOB_ARRAY_INDEX nor JOB_COMPLETION_INDEX is set; pass --shard K/N")
	}
	ks, ns, ok := strings.Cut(s, "/")
	if !ok {
		return 0, 0, usagef("--shard %q: want K/N, such as 0/4 (K counts from 0), or auto", s)
	}
	return shardNumbers(ks, ns, "--shard "+shardValue(s), "K", "N")
}

// shardNumbers reads the shard index ks and count ns, which kname and
// nname name in a message, after where (the flag and its value).
func shardNumbers(ks, ns, where, kname, nname string) (int, int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(ns))
	if n > audit.MaxShards {
		// Atoi gives its largest int, with an error, for a count too
		// large for one: too many shards as well.
		return 0, 0, usagef("%s: %s is %s, but a list is split into at most %d shards", where, nname, shardValue(ns), audit.MaxShards)
	}
	if err != nil || n < 1 {
		return 0, 0, usagef("%s: %s is %s, want a whole number of at least 1", where, nname, shardValue(ns))
	}
	k, err := strconv.Atoi(strings.TrimSpace(ks))
	if err != nil || k < 0 || k >= n {
		return 0, 0, usagef("%s: %s is %s, want 0 to %d (%s counts from 0)", where, kname, shardValue(ks), n-1, kname)
	}
	return k, n, nil
}

// shardValue shows a value of --shard or of a variable in a message: as it
// is when it is digits and slashes, which need no quotes, quoted when it
// holds anything else (a space, a letter, a control character).
func shardValue(v string) string {
	if v != "" && strings.Trim(v, "0123456789/") == "" {
		return v
	}
	return strconv.Quote(v)
}

// report returns the rule for report.Options.StaleAfter. Its zero turns the
// check off, as 0 does on the command line.
func (d days) report() audit.StaleAfter { return audit.StaleAfter(d) }

// days is a duration flag that also takes whole days ("7d").
type days time.Duration

// String spells the age as a user writes it, and as Set reads it back:
// whole days as "7d", else a Go duration without its zero units ("1h",
// "1h30m", not "1h0m0s").
func (d *days) String() string {
	v := time.Duration(*d)
	if v > 0 && v%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", v/(24*time.Hour))
	}
	return shortDuration(v)
}

// shortDuration is a Go duration without its zero units, as a user writes
// it ("1h", "15m", "1h30m", not "1h0m0s").
func shortDuration(v time.Duration) string {
	s := v.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
		if strings.HasSuffix(s, "h0m") {
			s = strings.TrimSuffix(s, "0m")
		}
	}
	return s
}

// Get returns the age as the flag spells it, for flag.Getter.
func (d *days) Get() any { return d.String() }

// Set reads an age in whole or fractional days ("7d", "1.5d") or as a Go
// duration ("36h"). It refuses what no positive age can hold rather than
// let it turn the check off: a value that is not a finite number, one
// longer than a time.Duration (about 106751 days), and one that is not 0
// but rounds to 0 (shorter than 1ns). Only a zero ("0", "0d", "0h")
// turns the check off.
func (d *days) Set(s string) error {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		v, err := strconv.ParseFloat(n, 64)
		if err != nil || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return errors.New("want a duration such as 7d or 36h")
		}
		ns := v * float64(24*time.Hour)
		// float64(math.MaxInt64) rounds up to 2^63, which a
		// time.Duration cannot hold: the conversion would wrap to a
		// negative age, read as off.
		if ns >= float64(math.MaxInt64) {
			return errTooLong
		}
		// A mantissa with a non-zero digit that parsed as 0 underflowed
		// (1e-400d, 0x1p-1100d): not 0, and no age.
		num := strings.ToLower(strings.TrimLeft(n, "+-"))
		mantissa, _, _ := strings.Cut(num, "e")
		if hex, ok := strings.CutPrefix(num, "0x"); ok {
			mantissa, _, _ = strings.Cut(hex, "p")
		}
		if v > 0 && time.Duration(ns) == 0 || v == 0 && strings.ContainsAny(mantissa, "123456789abcdef") {
			return errTooShort
		}
		*d = days(time.Duration(ns))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil && goDuration.MatchString(s) {
		// Spelt as a duration, and no time.Duration holds it.
		return errTooLong
	}
	if err != nil || v < 0 {
		return errors.New("want a duration such as 7d or 36h")
	}
	// ParseDuration drops what is finer than 1ns, so "0.5ns" reads as 0;
	// units hold no digits, so a non-zero digit means a non-zero age.
	if v == 0 && strings.ContainsAny(s, "123456789") {
		return errTooShort
	}
	*d = days(v)
	return nil
}

// goDuration matches what time.ParseDuration reads, whatever its size: a
// positive number and unit, once or more.
var goDuration = regexp.MustCompile(`^\+?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+$`)

// errTooLong refuses an age that no time.Duration holds, naming the
// longest (106751d 23h47m16.854775807s) in both spellings, cut down so as
// not to claim more than it is.
var errTooLong = fmt.Errorf("longer than the longest age, about %.2fd (%dh)",
	math.Floor(float64(math.MaxInt64)/float64(24*time.Hour)*100)/100, math.MaxInt64/int64(time.Hour))

// errTooShort refuses an age that is not 0 but rounds to 0, which would
// turn the check off.
var errTooShort = errors.New("shorter than 1ns (0 turns the check off)")

// stdinTerminal is isTerminal, a variable so that a test can stand in for a
// terminal.
var stdinTerminal = isTerminal

// isTerminal reports whether r is a terminal.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// maxUnreadableNamed is how many runs passed over for their run.json
// resolvePrevious names, the latest first; the rest are counted.
const maxUnreadableNamed = 3

// resolvePrevious turns --baseline previous into the run it means for a
// run of self's targets (its parts, and the --instances it read): none for
// the first run of a schedule, and none, with a warning that names them,
// when the runs beside --out are all of other targets (the other shards of
// the same run, in RUN/shard-K). A run whose run.json cannot be read is
// passed over with a warning that names it and why, when it may be later
// than the run chosen (earlierRuns.unreadable): the run goes on, as a
// scheduled job must not stop at every run once one run.json is damaged,
// but not in silence, as its changes are then counted since an older run.
func (o *runOptions) resolvePrevious(self audit.RunInfo, stderr io.Writer) error {
	if o.baseline != "previous" {
		return nil
	}
	started := o.started()
	if !self.StartedAt.IsZero() && self.StartedAt.Before(started) {
		// A record rendered again, or merged: the run before its own.
		started = self.StartedAt
	}
	now := o.now()
	found, err := previousRuns(o.out, started, now, self)
	if err != nil {
		return usagef("--baseline previous: %v", err)
	}
	// A fresh run came after every run beside it; a record rendered
	// again or merged (which has a start of its own) after those its
	// run.json says it came after (ran_after: its baseline dated ahead,
	// say); a resume after none for sure.
	var cameAfter func(time.Time) bool
	switch {
	case o.resume:
	case self.StartedAt.IsZero():
		cameAfter = func(time.Time) bool { return true }
	default:
		cameAfter = func(at time.Time) bool { return slices.ContainsFunc(self.RanAfter, at.Equal) }
	}
	if fallback, ok := latestAhead(found, cameAfter); ok {
		// Only runs dated ahead are beside --out: passed over, this run
		// would compare with nothing and call no failure new, and the run
		// after it, ranking it above them (ran_after), would call that
		// failure still failing: a --fail-on new gate that never fires.
		// A finished run beside a fresh one ran before it, whatever its
		// date says.
		fmt.Fprintf(stderr, "auditor: warning: --baseline previous: compares with %s, though its run.json says it started at %s, later than now (%s by this machine's clock): every earlier run beside %s is dated ahead, and this one came after it (a new run, started after each of them finished, or one whose run.json says so); check both clocks\n",
			fallback.dir, fallback.at.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), o.out)
		found.dirs = []string{fallback.dir}
		found.ahead = slices.DeleteFunc(found.ahead, func(d string) bool { return d == fallback.dir })
	}
	for _, dir := range found.ahead {
		// Passed over as any run that started after this one; dated in the
		// future, it is the latest, and a skewed clock would otherwise
		// compare every run of a schedule with an older one in silence.
		ri, _ := audit.ReadRunInfo(filepath.Join(dir, audit.RunFile))
		// Kept, so that the run after this one, once the present has
		// passed that date, still ranks this run above it.
		o.ranAfter = append(o.ranAfter, ri.StartedAt)
		fmt.Fprintf(stderr, "auditor: warning: --baseline previous: passed over %s: its run.json says it started at %s, later than now (%s by this machine's clock), so after this run: a clock ahead where it ran, or behind here? check both clocks; to compare with it all the same: --baseline %s\n",
			dir, ri.StartedAt.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), shellQuote(dir))
	}
	prev, other := found.dirs, found.other
	for i, u := range found.unreadable {
		// Passed over, as its targets and start are not known; named, as
		// it may be the latest run, and a comparison with an older one
		// would call new what that run already found. A few are named: a
		// year of runs beside a new schema's would be a page of them.
		if i == maxUnreadableNamed {
			fmt.Fprintf(stderr, "auditor: warning: --baseline previous: skipped %s whose %s cannot be read, beside %s\n",
				plural(len(found.unreadable)-i, "more run"), audit.RunFile, o.out)
			break
		}
		instead := "this run has nothing to compare with"
		if len(prev) > 0 {
			instead = "this run compares with " + shownPath(prev[0]) + ", an earlier one"
		}
		fix := "restore its " + audit.RunFile
		if u.newer {
			fix = "run the auditor that wrote it"
		}
		fmt.Fprintf(stderr, "auditor: warning: --baseline previous: skipped %s: its %s %s, so neither its targets nor its start are known; if it is the latest run of these targets, %s: %s, or name the run to compare with, --baseline DIR\n",
			shownPath(u.dir), audit.RunFile, u.why, instead, fix)
	}
	o.baselineUnfinished = found.unfinished
	if len(prev) == 0 {
		o.baseline = "" // the first run of a schedule: nothing to compare with
		if len(other) > 0 {
			if len(other) > 3 {
				other = append(other[:3:3], "...")
			}
			// A shard's siblings are the other shards; a merge's (or a
			// whole run's) are the shards it was merged from.
			what, fix := "another list or another shard", "for a shard, the same shard of the run before"
			if len(shardsOf(self.Parts)) == 0 {
				what, fix = "another list or only a shard", "for a merge of shards, the merge of the run before"
			}
			fmt.Fprintf(stderr, "auditor: warning: --baseline previous: no earlier run of the same targets beside %s (%s audited %s); nothing to compare with: name the run to compare with, --baseline DIR (%s)\n",
				o.out, strings.Join(other, ", "), what, fix)
		}
		return nil
	}
	o.baseline, o.baselineElse, o.baselinePrevious, o.baselineChosen = prev[0], prev[1:], true, true
	return nil
}

// aheadRun is a run beside --out dated ahead of now.
type aheadRun struct {
	dir string
	at  time.Time
}

// latestAhead returns the latest of found's runs dated ahead that the run
// came after (cameAfter of their start) when they are all found has to
// compare with: false otherwise, and with a nil cameAfter (a resume: a run
// dated ahead may have run while it waited, after its first attempt).
func latestAhead(found earlierRuns, cameAfter func(time.Time) bool) (aheadRun, bool) {
	if cameAfter == nil || len(found.dirs) > 0 {
		return aheadRun{}, false
	}
	var latest aheadRun
	for _, dir := range found.ahead {
		ri, err := audit.ReadRunInfo(filepath.Join(dir, audit.RunFile))
		if err == nil && cameAfter(ri.StartedAt) && ri.StartedAt.After(latest.at) {
			latest = aheadRun{dir, ri.StartedAt}
		}
	}
	return latest, latest.dir != ""
}

// keepBaseline holds a resumed run to the baseline its first attempt
// compared with (run.json's changes), as every line of one record must
// carry its first_seen_failing from one baseline: without --baseline, or
// with --baseline previous, the run takes the recorded one again and says
// so; one gone since, another --baseline, or one for a run that started
// without, is refused. A run
// with no record yet, or whose first attempt was killed before its
// run.json, starts as a new one.
func (o *runOptions) keepBaseline(stderr io.Writer) error {
	if !o.resume {
		return nil
	}
	recorded, known := startedWith(o.out)
	if !known {
		return nil
	}
	switch {
	case recorded != "" && !statOK(recorded):
		// Resumed without it, the lines it adds would date no failure
		// (and nothing be called new), beside the first attempt's lines
		// dated from it: one record, two baselines.
		return usagef("--resume: %s started comparing with %s, which is gone: put it back and resume, or audit again into a new --out",
			o.out, shownPath(recorded))
	case recorded != "" && replacedBaseline(o.out, recorded) != "":
		// Another run's record at its path: the lines it adds would date
		// their failures from it, beside the first attempt's dated from
		// the one it replaced, and run.json would say one baseline.
		return usagef("--resume: %s started comparing with %s, which was replaced since: it is now %s; put the first back and resume, or audit again into a new --out",
			o.out, shownPath(recorded), replacedBaseline(o.out, recorded))
	case o.baseline == "" || o.baseline == "previous":
		if recorded == "" {
			if o.baseline != "" {
				o.logf(stderr, "--baseline previous: %s started without a baseline; it resumes without one", shownPath(o.out))
			}
			o.baseline = ""
			return nil
		}
		fmt.Fprintf(stderr, "auditor: resuming %s with the baseline it started with: %s\n", shownPath(o.out), recorded)
		o.baseline, o.baselinePrevious = recorded, true
		o.keepBaselineSpelling(recorded)
		return nil
	case recorded == "":
		return usagef("--baseline %s: %s started without a baseline, and the instances it audited then carry no first-seen dates: resume it without --baseline, then compare its record: %s report %s --out DIR --baseline %s",
			o.baseline, o.out, shellQuote(program()), filepath.Join(o.out, audit.ResultsFile), o.baseline)
	case !sameRecord(o.baseline, recorded):
		return usagef("--baseline %s: %s started comparing with %s: resume it without --baseline to keep that one, or compare its record with another: %s report %s --out DIR --baseline %s",
			o.baseline, o.out, recorded, shellQuote(program()), filepath.Join(o.out, audit.ResultsFile), o.baseline)
	}
	// The same record, perhaps named another way (W1/results.jsonl for W1).
	o.keepBaselineSpelling(recorded)
	return nil
}

// replacedBaseline says, when the record at recorded is not the one the
// run whose record is in dir compared with (its run.json's changes date
// that run's start, and the run.json beside recorded dates another), what
// it is now: "the record of a run of TIME". "" when it is the same, or
// either is not known.
func replacedBaseline(dir, recorded string) string {
	ri, ok := resumedRun(dir)
	if !ok || ri.Changes == nil || ri.Changes.Since == nil {
		return ""
	}
	path := recorded
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, audit.ResultsFile)
	}
	now, err := audit.ReadRunInfo(filepath.Join(filepath.Dir(path), audit.RunFile))
	if err != nil || now.StartedAt.IsZero() || now.StartedAt.Equal(*ri.Changes.Since) {
		return ""
	}
	return fmt.Sprintf("the record of a run of %s, not of %s", now.StartedAt.UTC().Format(time.RFC3339Nano), ri.Changes.Since.UTC().Format(time.RFC3339Nano))
}

// keepBaselineSpelling makes the resume record the baseline it keeps,
// recorded (the path its run.json's changes give), as its run.json's
// options named it: the first attempt's spelling, carried by each resume
// since. A spelling that names another record here (a run.json not kept
// by one run) is left aside; one that names none here (the first attempt
// ran in another directory) names this record all the same, as the
// run.json's changes say.
func (o *runOptions) keepBaselineSpelling(recorded string) {
	ri, ok := resumedRun(o.out)
	if !ok {
		return // killed before its run.json: no earlier options to match
	}
	as, _ := ri.Options["baseline"].(string)
	if as == "" || as == "previous" || as == o.baseline || (statOK(as) && !sameRecord(as, recorded)) {
		return
	}
	o.baselineAs, o.baselineFor = as, o.baseline
}

// recordedBaseline returns the baseline that the run whose record is in
// dir was compared with, as its run.json says (or, killed before it wrote
// one, as its first attempt kept it); "" for none.
func recordedBaseline(dir string) string {
	b, _ := startedWith(dir)
	return b
}

// startedWith returns the baseline that the run whose record is in dir
// started with ("" for none), and whether that is known: from its run.json,
// or for a run killed before it wrote one, from the baselineFile its first
// attempt kept before its first line. A record kept by a release that kept
// no baselineFile, or no record, tells nothing.
func startedWith(dir string) (baseline string, known bool) {
	if ri, ok := resumedRun(dir); ok {
		if ri.Changes == nil {
			return "", true
		}
		return ri.Changes.BaselineIn(dir), true
	}
	b, ok := readKept(dir, baselineFile, maxBaselineFile)
	if !ok {
		return "", false
	}
	kept := strings.TrimSuffix(string(b), "\n")
	switch {
	case kept == "":
		return "", true
	case filepath.IsAbs(kept):
		return kept, true
	}
	return filepath.Join(dir, kept), true
}

// baselineFile is where an output directory keeps the baseline its run
// started with (the record's path from the directory, or nothing for
// none), written by the first attempt before its first line: the lines it
// writes carry their first-seen dates from that baseline, and a resume of
// an attempt killed before its run.json must keep to it as one of a run
// that wrote its run.json does.
const baselineFile = ".auditor-baseline"

// maxBaselineFile bounds what startedWith reads of a baselineFile: a path,
// and not a file grown by anything else.
const maxBaselineFile = 64 << 10

// targetsFile is where an output directory keeps the targets of its run
// (its part of run.json, as JSON), written by the first attempt before its
// first line: a resume of an attempt killed before its run.json must keep
// to them as one of a run that wrote its run.json does.
const targetsFile = ".auditor-targets"

// maxTargetsFile bounds what startedTargets reads of a targetsFile: a
// discovery's scope names each of its accounts.
const maxTargetsFile = 1 << 20

// startFile is where an output directory keeps what its run's first
// attempt knew as it started and run.json keeps: the --upload it filled in
// ({date} and {time}: the instant that named the run's directory, not its
// first attempt's start, which comes once its lists are read), and the runs
// dated ahead that it came after (ran_after). Written by the first attempt
// before its first line, for a resume of an attempt killed before its
// run.json.
const startFile = ".auditor-start"

// keptStart is a startFile's content.
type keptStart struct {
	Upload   string      `json:"upload,omitempty"`
	RanAfter []time.Time `json:"ran_after,omitempty"`
}

// startedKept returns what the first attempt of the run whose record is in
// dir kept in startFile, and whether it is known: a record kept by a
// release that kept no startFile, no record, or a file that is not the
// auditor's tells nothing. It is read only when the run's run.json is
// missing.
func startedKept(dir string) (keptStart, bool) {
	b, ok := readKept(dir, startFile, maxTargetsFile)
	var k keptStart
	if !ok || json.Unmarshal(b, &k) != nil {
		return keptStart{}, false
	}
	return k, true
}

// readKept reads the file name that the first attempt of the run whose
// record is in dir kept there, and reports whether there is one to read:
// a record that holds something, and a regular file (not a link, a FIFO
// or a directory planted in its name) of at most max bytes.
func readKept(dir, name string, max int64) ([]byte, bool) {
	if st, err := os.Stat(filepath.Join(dir, audit.ResultsFile)); err != nil || st.Size() == 0 {
		return nil, false
	}
	path := filepath.Join(dir, name)
	if st, err := os.Lstat(path); err != nil || !st.Mode().IsRegular() || st.Size() > max {
		return nil, false
	}
	b, err := os.ReadFile(path)
	return b, err == nil
}

// startedTargets returns the targets that the run whose record is in dir
// started with, as its first attempt kept them in targetsFile, and whether
// they are known: a record kept by a release that kept no targetsFile, no
// record, or a file that is not the auditor's tells nothing. It is read
// only when the run's run.json is missing.
func startedTargets(dir string) (audit.Part, bool) {
	b, ok := readKept(dir, targetsFile, maxTargetsFile)
	if !ok {
		return audit.Part{}, false
	}
	var p audit.Part
	if json.Unmarshal(b, &p) != nil || !p.Known() {
		return audit.Part{}, false
	}
	return p, true
}

// sameRecord reports whether a and b (records, or directories holding one)
// name the same record.
func sameRecord(a, b string) bool {
	record := func(p string) string {
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			p = filepath.Join(p, audit.ResultsFile)
		}
		return p
	}
	a, b = record(a), record(b)
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	if errA == nil && errB == nil {
		return os.SameFile(sa, sb)
	}
	a, _ = filepath.Abs(a)
	b, _ = filepath.Abs(b)
	return filepath.Clean(a) == filepath.Clean(b)
}

// started is when the run started: now, or, for --resume of a record, when
// its first attempt started (its run.json's started_at), so that every
// attempt of a run means the same run by --baseline previous, and none
// takes a run that started while it waited to be resumed.
func (o *runOptions) started() time.Time {
	if o.resume {
		if at, ok := o.resumedStart(); ok {
			return at
		}
	}
	return o.now()
}

// resumedStart is when the run in --out started: the first of its
// resumedAttempts.
func (o *runOptions) resumedStart() (time.Time, bool) {
	attempts := o.resumedAttempts()
	if len(attempts) == 0 {
		return time.Time{}, false
	}
	return attempts[0], true
}

// resumedAttempts is resumedAttempts of --out, read once: for a run killed
// before its run.json, that reads the whole record. The slice is the
// caller's.
func (o *runOptions) resumedAttempts() []time.Time {
	if o.resumed == nil {
		o.resumed = &resumedAt{resumedAttempts(o.out, o.now())}
	}
	return slices.Clone(o.resumed.attempts)
}

type resumedAt struct {
	attempts []time.Time
}

// resumedAttempts returns when the attempts of the run in dir started,
// sorted, each once, when dir holds its record (an empty record is no
// record): those its run.json names (the first being its started_at, and
// the only one in a run.json written before attempts were kept), and those
// kept in its audit.AttemptsFile (up to notAfter, unless its run.json names
// them), which name the attempts killed before they wrote their run.json
// (audit.RunInfo.KeptAttempts). A run killed before its first
// run.json and its first attempt's start was kept counts from when it
// audited its first instance. Nil when there is none of these.
func resumedAttempts(dir string, notAfter time.Time) []time.Time {
	all := audit.ReadAttempts(filepath.Join(dir, audit.AttemptsFile), time.Time{})
	var attempts []time.Time
	if ri, ok := resumedRun(dir); ok && !ri.StartedAt.IsZero() {
		attempts = append(ri.KeptAttempts(all, notAfter), ri.StartedAt)
	} else if first, ok := firstAudited(filepath.Join(dir, audit.ResultsFile)); ok {
		// No run.json dates the run: a kept time after now is no
		// attempt that has run.
		kept := slices.DeleteFunc(all, func(at time.Time) bool { return at.After(notAfter) })
		attempts = kept
		if len(kept) == 0 || kept[0].After(first) {
			// The first attempt's start was not kept (an auditor that
			// did not keep them ran it): its first result stands for it.
			attempts = append(attempts, first)
		}
	}
	slices.SortFunc(attempts, time.Time.Compare)
	return slices.CompactFunc(attempts, time.Time.Equal)
}

// firstAudited returns the earliest audited_at of the record at path:
// false when it holds none (missing, empty, or no line that reads).
func firstAudited(path string) (time.Time, bool) {
	f, err := os.Open(path)
	if err != nil {
		return time.Time{}, false
	}
	defer f.Close()
	var first time.Time
	r := bufio.NewReader(f)
	for {
		line, err := r.ReadBytes('\n')
		var l struct {
			AuditedAt time.Time `json:"audited_at"`
		}
		if json.Unmarshal(line, &l) == nil && !l.AuditedAt.IsZero() && (first.IsZero() || l.AuditedAt.Before(first)) {
			first = l.AuditedAt
		}
		if err != nil {
			return first, !first.IsZero()
		}
	}
}

// resumedRun returns the run.json of the run in dir, when dir holds its
// record (an empty record is no record) and a run.json of the auditor.
func resumedRun(dir string) (audit.RunInfo, bool) {
	if st, err := os.Stat(filepath.Join(dir, audit.ResultsFile)); err != nil || st.Size() == 0 {
		return audit.RunInfo{}, false
	}
	ri, err := audit.ReadRunInfo(filepath.Join(dir, audit.RunFile))
	if err != nil || ri.Schema == 0 {
		return audit.RunInfo{}, false
	}
	return ri, true
}

// checkBaseline checks that --baseline names a record: a results.jsonl, or a
// directory that holds one, whose first line is a result (an empty record
// is one). It reads that line alone: a file that is no record at all (a
// run's instances.csv or summary.json) is refused before the output
// directory is made, and openBaseline reads the rest.
func checkBaseline(path string) error {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return usagef("--baseline %s does not exist: give an earlier run's --out directory, its %s, or previous (the latest earlier run beside --out)", shownArg(path), audit.ResultsFile)
	}
	if err != nil {
		return usagef("--baseline: %v", err)
	}
	record := path
	if st.IsDir() {
		record = filepath.Join(path, audit.ResultsFile)
		if st, err = os.Stat(record); err != nil {
			return usagef("--baseline %s: no %s in it (%s)", path, audit.ResultsFile, wantBaseline)
		}
	}
	if !st.Mode().IsRegular() {
		// A baseline is read at the offsets of its lines, and more than
		// once: a pipe (a process substitution, <(...)) cannot be.
		return usagef("--baseline %s: must be a regular file: %s is %s, which cannot be read more than once; save it to a file and name that (%s)", path, record, audit.FileKind(st.Mode()), wantBaseline)
	}
	f, err := os.Open(record)
	if err != nil {
		return usagef("--baseline: %v", err)
	}
	defer f.Close()
	_, err = audit.ReadRecord(f, record, func(audit.Result) error { return errFirstResult })
	var re *audit.ReadError
	if errors.As(err, &re) {
		return usagef("--baseline: %v (%s)", plain(err.Error(), 0), wantBaseline)
	}
	return nil
}

// wantBaseline says what --baseline names.
const wantBaseline = "want an earlier run's --out directory, or its " + audit.ResultsFile

// errFirstResult stops checkBaseline's reading at the first result.
var errFirstResult = errors.New("a result")

// openBaseline opens --baseline, refusing the record that is being written
// (a run cannot be its own baseline). For --baseline previous, a run whose
// record cannot be read is skipped, with a warning, for the one before it:
// a scheduled job must not stop at every run once one record is damaged;
// so is a run of another account than account, the one this run audits
// ("" when it is unknown, or several), or of no known account (its record
// names none) when this run's is known, and one whose record was cut short
// (whole only by its run.json) while an earlier one is left to try. A
// --baseline named on the command line of another account is refused (a
// usage error): comparing two accounts' fleets says nothing; one of no
// known account is compared, with a warning.
func (o *runOptions) openBaseline(current, account string, stderr io.Writer) error {
	for _, d := range o.baselineUnfinished {
		// Its targets are not known: a run.json records them, and it
		// has none; the record names only the instances it got to.
		if err := dirlock.Held(d); errors.Is(err, dirlock.ErrBusy) {
			// Not stopped: a run of the schedule that overlaps this one.
			fmt.Fprintf(stderr, "auditor: warning: --baseline previous: skipped %s: it is still running (%v)\n", d, err)
			continue
		} else if err != nil {
			// Skipped all the same: whether stopped or still going, its
			// record is not whole.
			fmt.Fprintf(stderr, "auditor: warning: --baseline previous: skipped %s: its record has no run.json, and whether a run is still writing it is not known (%v)\n", d, err)
			continue
		}
		if m, ok := leftMerge(filepath.Join(d, audit.ResultsFile)); ok {
			again := "its inputs are gone"
			if m.inputsThere() {
				again = "run it again: " + shellCommand(append([]string{program(), "report"}, m.Inputs...)...) + " --out " + shellQuote(d)
			}
			fmt.Fprintf(stderr, "auditor: warning: --baseline previous: skipped %s: its record has no run.json (a merge stopped before it finished; %s)\n", d, again)
			continue
		}
		fmt.Fprintf(stderr, "auditor: warning: --baseline previous: skipped %s: its record has no run.json (a run stopped before it finished; continue it with %s)\n", d, o.resumeCommandOf(d))
	}
	for {
		err := o.openOneBaseline(current, account)
		if err == nil && o.base != nil && !o.baselinePrevious && account != "" && accountless(o.base) {
			what := "this run audits"
			if o.merging {
				what = "this record audits"
			}
			fmt.Fprintf(stderr, "auditor: warning: --baseline %s: its record names no account (its run could not learn which), and %s %s: if it is a run of another account, every instance of one is reported new and every one of the other gone\n", o.baseline, what, account)
		}
		if err == nil && o.base != nil && o.base.Incomplete != "" {
			fmt.Fprintf(stderr, "auditor: warning: --baseline %s: %s; the instances it lacks are not compared (neither new nor gone)\n", shownPath(o.base.Path), plain(o.base.Incomplete, 0))
		}
		if err == nil || len(o.baselineElse) == 0 {
			if err != nil && o.baselinePrevious {
				fmt.Fprintf(stderr, "auditor: warning: --baseline previous: skipped %s: %v; no earlier run to compare with\n", o.baseline, err)
				o.baseline = ""
				return nil
			}
			return err
		}
		fmt.Fprintf(stderr, "auditor: warning: --baseline previous: skipped %s: %v; comparing with %s\n", o.baseline, err, o.baselineElse[0])
		o.baseline, o.baselineElse = o.baselineElse[0], o.baselineElse[1:]
	}
}

func (o *runOptions) openOneBaseline(current, account string) error {
	if o.baseline == "" || o.base != nil {
		return nil
	}
	path := o.baseline
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, audit.ResultsFile)
	}
	if a, err := os.Stat(path); err == nil {
		if b, err := os.Stat(current); err == nil && os.SameFile(a, b) {
			return usagef("--baseline %s is this run's own record: name an earlier run", o.baseline)
		}
	}
	b, err := inSpill(o.out, func(tmpDir string) (*audit.Baseline, error) { return audit.OpenBaselineIn(tmpDir, path) })
	if re := (*audit.ReadError)(nil); errors.As(err, &re) && !o.baselinePrevious {
		// Named on the command line, and broken past the first line,
		// which checkBaseline read.
		return usagef("--baseline: %v (%s)", err, wantBaseline)
	}
	if errors.Is(err, audit.ErrNotRegular) {
		return usagef("--baseline: %v: put its run's own %s there, or move it away", err, audit.RunFile)
	}
	if err != nil {
		return recordError("--baseline", err)
	}
	if theirs, ok := b.Records().SoleAccount(); ok && theirs != "" && account != "" && theirs != account {
		switch {
		case o.baselineChosen:
			b.Close()
			return fmt.Errorf("it audited account %s, and this run audits %s", theirs, account)
		case !o.baselinePrevious:
			// Named: every instance of one account would be new and every
			// one of the other gone, a comparison of nothing.
			b.Close()
			what, how := "this run audits", "name a run of account "+account+", or audit account "+theirs+" with its credentials"
			if o.merging {
				what, how = "this record audits", "name a record of account "+account
			}
			return usagef("--baseline %s: it audited account %s, and %s %s: runs of two accounts cannot be compared; %s", o.baseline, theirs, what, account, how)
		}
		// The baseline a resumed run started with: it was taken then,
		// and every line of the record dates its failures from it.
	}
	if o.baselineChosen && account != "" && accountless(b) {
		// Not known to be a run of this account: previous skips the
		// runs of another.
		b.Close()
		return fmt.Errorf("its record names no account (its run could not learn which), and this run audits %s", account)
	}
	if o.baselinePrevious && b.Incomplete != "" && len(o.baselineElse) > 0 {
		// previous means the latest whole run: one whose record was cut
		// short is whole only by its run.json.
		b.Close()
		return errors.New(plain(b.Incomplete, 0))
	}
	o.base = b
	return nil
}

// accountless reports whether b's record names no account: its run could
// not learn the account of its credentials.
func accountless(b *audit.Baseline) bool {
	theirs, ok := b.Records().SoleAccount()
	return ok && theirs == ""
}

// closeBaseline closes --baseline, if it was opened.
func (o *runOptions) closeBaseline() {
	if o.base != nil {
		o.base.Close()
		o.base = nil
	}
}

// insecureHint adds to an endpoint's error what mends it: the flag that
// allows plain http, or the settings that the SDK's endpoint rules refuse
// together.
func insecureHint(err error) error {
	var rules *audit.EndpointRulesError
	switch {
	case errors.Is(err, awsconn.ErrInsecure):
		return fmt.Errorf("%w (--allow-insecure-endpoint allows plain http)", err)
	case errors.As(err, &rules):
		return fmt.Errorf("%w; %s", err, endpointRulesHint)
	}
	return err
}

// endpointRulesHint says what to check when the SDK's endpoint rules refuse
// the configuration (an *audit.EndpointRulesError).
const endpointRulesHint = "no request can be sent so: check AWS_USE_FIPS_ENDPOINT and AWS_USE_DUALSTACK_ENDPOINT (use_fips_endpoint and use_dualstack_endpoint in the profile) against the endpoint (--endpoint-url, AWS_ENDPOINT_URL*, the profile's endpoint_url)"

// resumeCommand is the command that continues this run, as a POSIX shell
// reads it, to be run from the same directory with the same AUDITOR_*
// variables: the run's own command line, so that its targets and options
// are the same, with --resume once and --out naming the directory it
// writes (a {time} in it, or the default, names another, and --resume
// refuses them). A secret flag's value is not repeated: the shell takes it
// from the flag's AUDITOR_<FLAG>, and refuses to run the command while
// that is unset rather than run it without. A list read from standard
// input (-, /dev/stdin) or from another of the run's descriptors
// (/dev/fd/N, as <(...) passes it) cannot be read again: a note after the
// command says so. A --shard auto (from any source) is given as the shard
// it resolved to, K/N: the index that auto reads is the pod's or the array
// job's, and the command is most often pasted elsewhere.
func (o *runOptions) resumeCommand() string {
	if o.demo {
		return o.resumeCommandOf(o.out)
	}
	words := []string{shellQuote(program()), "run", "--resume"}
	shard := ""
	if o.shard == "auto" {
		if k, n, err := parseShard(o.shard, o.shardCount, o.getenv); err == nil {
			shard = fmt.Sprintf("%d/%d", k, n)
		}
	}
	named := false
	for _, f := range o.line {
		switch {
		case f.name == "resume" || f.name == "out":
			continue // given once, below
		case shard != "" && (f.name == "shard" || f.name == "shard-count"):
			continue // the shard resolved, below
		case isSecretFlag(f.name):
			// Quoted, as the shell expands it: a value, however many
			// words, or none (the shell says why).
			words = append(words, "--"+f.name, fmt.Sprintf(`"${%s:?export it first: the --%s that this run was given}"`, envName(f.name), f.name))
			continue
		}
		named = named || f.name == inputJSONFlag
		for _, a := range f.args {
			words = append(words, shellQuote(a))
		}
	}
	if o.inputJSON != "" && !named {
		// AUDITOR_CLI_INPUT_JSON named it: the options it holds are
		// the run's, wherever the command is run.
		words = append(words, "--"+inputJSONFlag, shellQuote(o.inputJSON))
	}
	if shard != "" {
		// On the command line, it wins over an AUDITOR_SHARD=auto or a
		// --cli-input-json file that says auto.
		words = append(words, "--shard", shard)
	}
	cmd := strings.Join(append(words, "--out", shellQuote(o.out)), " ")
	if slices.ContainsFunc(o.instances.vals, stdinList) {
		// Run as it is, it would wait for a list typed at the terminal.
		cmd += " (with the same list on its standard input again: this run read it from there)"
	}
	var fds []string
	for _, name := range o.instances.vals {
		if !stdinList(name) && descriptorList(name) {
			fds = append(fds, name)
		}
	}
	switch {
	case len(fds) == 1:
		// Run as it is, it would find no such file, or another one.
		cmd += fmt.Sprintf(" (with the same list again in place of %s: this run read it from a descriptor that its shell opened, which is gone)", fds[0])
	case len(fds) > 1:
		cmd += fmt.Sprintf(" (with the same lists again in place of %s: this run read them from descriptors that its shell opened, which are gone)", strings.Join(fds, ", "))
	}
	return cmd
}

// stdinList reports whether the --instances list name is standard input:
// -, or a name of its descriptor.
func stdinList(name string) bool {
	switch name {
	case "-", "/dev/stdin", "/dev/fd/0", "/proc/self/fd/0":
		return true
	}
	return false
}

// descriptorList reports whether the --instances list name is a descriptor
// of the process, /dev/fd/N or /proc/self/fd/N, as bash's <(...) passes a
// pipe: a list that no other process can read by that name.
func descriptorList(name string) bool {
	n, ok := strings.CutPrefix(name, "/dev/fd/")
	if !ok {
		n, ok = strings.CutPrefix(name, "/proc/self/fd/")
	}
	return ok && n != "" && strings.Trim(n, "0123456789") == ""
}

// resumeCommandOf is the command that continues the run in dir, another
// run than this one (or the demo's), whose command line is not known: with
// the --cli-input-json file this one read its options from, and a note for
// what else it needs.
func (o *runOptions) resumeCommandOf(dir string) string {
	cmd := shellQuote(program()) + " run --resume"
	if o.inputJSON != "" {
		cmd += " --cli-input-json " + shellQuote(o.inputJSON)
	}
	return cmd + " --out " + shellQuote(dir) + " (and the same targets and options)"
}

// formatTypo returns didYouMean's suggestion for the first name of vals
// (each a comma-separated list) that is no report format, or "".
func formatTypo(vals []string) string {
	var names []string
	for _, f := range report.Formats() {
		names = append(names, string(f))
	}
	for _, name := range strings.Split(strings.Join(vals, ","), ",") {
		if name = strings.TrimSpace(name); name != "" {
			if _, err := report.ParseFormats(name); err != nil {
				return didYouMean(strings.ToLower(name), names)
			}
		}
	}
	return ""
}

// failOnTypo returns didYouMean's suggestion for the first word of vals
// that --fail-on refuses, or "".
func failOnTypo(vals []string) string {
	for _, w := range vals {
		if _, err := audit.ParseFailOn([]string{w}); err != nil {
			return didYouMean(w, audit.FailOnWords())
		}
	}
	return ""
}

// outGiven is --out as the user gave it (its placeholders filled), for a
// message that refuses it: e/y/.. is named so, while out, the directory
// it leads to (e, outdir.Clean), is what is made, read and shown after.
func (o *runOptions) outGiven() string {
	if o.outNamed != "" {
		return o.outNamed
	}
	return o.out
}
