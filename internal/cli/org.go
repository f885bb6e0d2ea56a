package cli

import (
	"bufio"
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"golang.org/x/sync/errgroup"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/awsconn"
)

// The organisation steps of a run: whose credentials these are, which
// accounts and regions to audit (discovery then lists their managed nodes
// as the audit takes them: see discovery), and the instance information of
// listed ones. They run after the credentials are known to work and before
// the record is planned.

// orgSpec is what the organisation flags asked for, read before any call.
type orgSpec struct {
	// accounts are the listed accounts (--accounts LIST or FILE); org asks
	// Organizations for them.
	accounts []awsconn.Account
	org      bool
	exclude  []string
	// regions are --regions; allRegions asks each account's enabled ones.
	regions    []string
	allRegions bool
	filters    []audit.Filter
	// tagKeys are the tags read as labels: --tag-labels, and the tag:KEY
	// that --split-by or --mail-to-label names.
	tagKeys []string
}

// otherServices are the SDK IDs of the services besides SSM that the run
// will call: STS always (the caller's account, roles), and Organizations,
// EC2, S3 and SES as the options ask.
func (o *runOptions) otherServices(spec orgSpec) []string {
	ids := []string{"STS"}
	if spec.org {
		ids = append(ids, "Organizations")
	}
	if spec.allRegions || len(spec.tagKeys) > 0 {
		ids = append(ids, "EC2")
	}
	if o.delivery.upload != "" {
		ids = append(ids, "S3")
	}
	if o.delivery.mailing() && o.delivery.via() == "ses" {
		ids = append(ids, "SESv2")
	}
	return ids
}

// checkOrg reads the organisation flags and returns every problem.
func (o *runOptions) checkOrg() (orgSpec, []error) {
	var spec orgSpec
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, usagef(format, a...)) }
	switch v := o.accounts; {
	case v == "" && o.given["accounts"]:
		// As from an empty shell variable ("$ACCOUNTS").
		bad("--accounts \"\": names no account (want a comma-separated list of account IDs, a file of them, or org; leave the option out for the caller's account)")
	case v == "":
	case v == "org":
		spec.org = true
	case isAccountList(v) && len(splitList(v)) == 0:
		// As from an empty shell variable: not the caller's account
		// instead, which a run would audit alone and call complete.
		bad("--accounts %q: names no account (want a comma-separated list of account IDs, a file of them, or org)", v)
	case isAccountList(v):
		// An account named twice is audited once: twice, its nodes
		// would be listed and audited twice over, and the run never
		// complete.
		for _, a := range splitList(v) {
			if !slices.ContainsFunc(spec.accounts, func(b awsconn.Account) bool { return b.ID == a }) {
				spec.accounts = append(spec.accounts, awsconn.Account{ID: a})
			}
		}
	default:
		accounts, err := readAccounts(v)
		switch {
		case err != nil:
			errs = append(errs, err)
		case len(accounts) == 0:
			bad("--accounts %s: no account IDs in it (want one ID a line, optionally ID,name)", v)
		}
		spec.accounts = accounts
	}
	for _, a := range spec.accounts {
		if p := audit.ValidAccountID(a.ID); p != "" {
			bad("--accounts %q: %s", a.ID, p)
		}
	}
	for _, a := range o.excludeAccounts.vals {
		if p := audit.ValidAccountID(a); p != "" {
			bad("--exclude-accounts %q: %s", a, p)
		}
		spec.exclude = append(spec.exclude, a)
	}
	switch v := o.regions; {
	case v == "" && o.given["regions"]:
		bad("--regions \"\": names no region (want a comma-separated list of regions, or all; leave the option out for --region's)")
	case v == "":
	case v == "all":
		spec.allRegions = true
	case len(splitList(v)) == 0:
		// Not --region instead, as --accounts names no account.
		bad("--regions %q: names no region (want a comma-separated list of regions, or all)", v)
	default:
		for _, r := range splitList(v) {
			if p := audit.ValidRegion(r); p != "" {
				bad("--regions %q: %s", r, p)
			}
			if !slices.Contains(spec.regions, r) { // as an account named twice
				spec.regions = append(spec.regions, r)
			}
		}
		if a, b := partitionsApart(spec.regions); a != "" {
			bad("--regions: %s is in partition %s and %s in %s; %s", a, awsconn.RegionPartition(a), b, awsconn.RegionPartition(b), onePartition)
		}
	}
	for _, f := range o.filters.vals {
		flt, err := audit.ParseFilter(f)
		if err != nil {
			bad("--filter %v", err)
			continue
		}
		spec.filters = append(spec.filters, flt)
	}
	if err := audit.CheckFilters(spec.filters); err != nil && len(spec.filters) > 0 {
		bad("--filter: %v", err)
	}
	if len(spec.filters) > 0 && !o.discover {
		bad("--filter filters discovery: pass --discover too")
	}
	if o.roleName != "" && o.roleARN != "" {
		bad("--role-name and --role-arn: pass one")
	}
	if o.roleARN != "" && !strings.Contains(o.roleARN, "{account}") {
		bad("--role-arn %q: want {account} in it, such as arn:aws:iam::{account}:role/AuditRole", o.roleARN)
	}
	if o.triage && !o.discover && !o.withInfo {
		bad("--triage reads the association overview: pass --discover or --with-instance-info too")
	}
	if v := o.roleSessionName; v != "" {
		if p := awsconn.ValidSessionName(v); p != "" {
			bad("--role-session-name %q: %s (STS's rule)", v, p)
		}
	}
	if v := o.externalID; v != "" {
		// Not a secret to AWS, but kept out of run.json, and so here.
		if p := awsconn.ValidExternalID(v); p != "" {
			bad("--external-id: %s (STS's rule)", p)
		}
	}
	if d := o.roleDuration; d != 0 && (d < awsconn.MinRoleDuration || d > awsconn.MaxRoleDuration) {
		bad("--role-duration %s: want %s to %s (STS's limits; the role's own maximum, one hour unless raised, may be lower)", shortDuration(d), shortDuration(awsconn.MinRoleDuration), shortDuration(awsconn.MaxRoleDuration))
	}
	type tagKey struct{ flag, key string }
	var keys []tagKey
	for _, k := range o.tagLabels.vals {
		keys = append(keys, tagKey{"--tag-labels", k})
	}
	for flag, l := range map[string]string{"--split-by": o.splitBy, "--mail-to-label": o.delivery.mailToLabel} {
		if k, ok := strings.CutPrefix(l, audit.TagLabelPrefix); ok {
			keys = append(keys, tagKey{flag, k})
		}
	}
	for _, k := range keys {
		switch {
		case k.key == "" && k.flag != "--tag-labels":
			bad("%s %s: the tag key is empty (want %sKEY)", k.flag, audit.TagLabelPrefix, audit.TagLabelPrefix)
		case k.key == "":
			bad("%s: a tag key is empty (want KEY, comma-separated for several)", k.flag)
		case strings.TrimSpace(k.key) != k.key:
			bad("%s: tag key %q: want a key without spaces around it (comma-separated for several)", k.flag, k.key)
		case len(k.key) > 128 || !utf8.ValidString(k.key):
			bad("%s: tag key %q: a tag key is at most 128 characters of UTF-8", k.flag, k.key)
		case audit.ValidLabel(k.key) != "":
			// The key names the label, a column of every report; the
			// tags read are those of the keys named here, so no key from
			// AWS becomes a name unchecked.
			bad("%s: tag key %q: %s (a label's name must read as itself)", k.flag, k.key, audit.ValidLabel(k.key))
		case !slices.Contains(spec.tagKeys, k.key):
			spec.tagKeys = append(spec.tagKeys, k.key)
		}
	}
	if len(spec.tagKeys) > 50 {
		bad("--tag-labels: %d keys; a resource has at most 50 tags", len(spec.tagKeys))
	}
	return spec, errs
}

func isAccountList(v string) bool {
	for _, a := range splitList(v) {
		if strings.Trim(a, "0123456789") != "" {
			return false
		}
	}
	return true
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// readAccounts reads a file of accounts: one ID a line, optionally a name
// after a comma ("111111111111,prod"), # comments and blank lines skipped, a
// UTF-8 byte-order mark at the start too (a UTF-16 file is refused, as
// audit.UTF16 tells one), and a header ("account_id,name")
// as the first line that is not one. Each line is a CSV record, as a
// spreadsheet saves one (accountsFields): a name with a comma in it is
// quoted, and a line of more than two fields refuses the file; a line with
// a quote out of place reads as before, its name all after the first comma. Each name becomes the
// account_name label, and must be one (audit.ValidAccountName): one that
// is not UTF-8 refuses the file, since two names whose bytes were replaced
// with U+FFFD would be one, and so does one with a control or format
// character, which would be another label than the name it reads as. An
// account on several lines is one account, with the name one of them
// gives; two different names for it refuse the file, since which is meant
// cannot be told; a name is read in Unicode Normalization Form C
// (audit.NFC), so that two spellings that read alike are one. A line longer than audit.MaxListLine refuses it too, as
// it does an instance list, and so does a carriage return in an ID or a
// name, or in a line of too many fields (old Mac line ends, which make the
// lines one: audit.LineEnds). Values are quoted in errors as an instance
// list's (audit.Quote): escaped, and cut to 60 characters.
func readAccounts(path string) ([]awsconn.Account, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usagef("--accounts: %v (want a comma-separated list of account IDs, a file of them, or org)", err)
	}
	defer f.Close()
	var out []awsconn.Account
	// Each account's place in out, and the line that gave its name.
	type entry struct{ at, line int }
	seen := map[string]entry{}
	br := bufio.NewReader(f)
	// A read error is the scanner's too, told below.
	if utf16, _ := audit.HeadUTF16(br); utf16 {
		return nil, usagef("%s:1: UTF-16 text: save the file as UTF-8", path)
	}
	sc := bufio.NewScanner(br)
	// Room for the longest line and its "\r\n"; longer, Scan stops with
	// bufio.ErrTooLong at the line it could not hold.
	sc.Buffer(make([]byte, 0, 64<<10), audit.MaxListLine+2)
	line, long, header := 1, false, false
	for ; sc.Scan(); line++ {
		if long = len(sc.Bytes()) > audit.MaxListLine; long {
			break
		}
		text := sc.Text()
		if line == 1 {
			text = strings.TrimPrefix(text, "\ufeff")
		}
		text = strings.TrimSpace(text)
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		id, name, problem := accountsFields(text)
		// Old Mac line ends make the lines one, whose carriage returns end
		// up in a field or in too many of them; one in the empty columns
		// after the name is left aside with them.
		if p := audit.LineEnds(text); p != "" && (problem != "" || audit.LineEnds(id+name) != "") {
			return nil, usagef("%s:%d: %s: %s", shownPath(path), line, audit.Quote(text), p)
		}
		if problem != "" {
			return nil, usagef("%s:%d: %s: %s", shownPath(path), line, audit.Quote(text), problem)
		}
		if len(out) == 0 && !header && accountsHeader(id) {
			// "account_id,name" or "account_id","name", as spreadsheets
			// save a header.
			header = true
			continue
		}
		if p := audit.ValidAccountID(id); p != "" {
			return nil, usagef("%s:%d: %s: %s", shownPath(path), line, audit.Quote(id), p)
		}
		if !utf8.ValidString(name) {
			return nil, usagef("%s:%d: name %s: not UTF-8 (a Latin-1 or Windows-1252 file?): save the file as UTF-8", shownPath(path), line, audit.Quote(name))
		}
		if p := audit.ValidAccountName(name); p != "" {
			return nil, usagef("%s:%d: name %s: %s", shownPath(path), line, audit.Quote(name), p)
		}
		// In one Unicode form, as a list's labels and Organizations' names:
		// written on a Mac, the name would be another account_name than
		// the same name typed elsewhere.
		name = audit.NFC(name)
		e, ok := seen[id]
		switch {
		case !ok:
			seen[id] = entry{len(out), line}
			out = append(out, awsconn.Account{ID: id, Name: name})
		case name == "" || name == out[e.at].Name:
		case out[e.at].Name == "":
			out[e.at].Name = name
			seen[id] = entry{e.at, line}
		default:
			return nil, usagef("%s:%d: %s: name %s, but line %d names it %s: keep one line for the account", shownPath(path), line, id, audit.Quote(name), e.line, audit.Quote(out[e.at].Name))
		}
	}
	err = sc.Err()
	if long || errors.Is(err, bufio.ErrTooLong) {
		return nil, usagef("%s:%d: line longer than 1 MiB", shownPath(path), line)
	}
	if err != nil {
		return nil, usagef("--accounts %s: %v", path, err)
	}
	return out, nil
}

// accountsFields reads a line of an accounts file as a CSV record, as an
// instance list's rows are read (audit.Fleet.Read): a quoted name may hold
// a comma and doubled quotes, and white space around a field is trimmed.
// The problem is for a line that is not a record of one or two fields; a
// third field is refused rather than joined to the name, as the name
// "Prod,extra" of a line split at its first comma was. A line with a
// quote out of place (12" rack, Bob's "test" acct) is no CSV record: its
// name is all after the first comma, as files held it before they were
// read as CSV.
func accountsFields(text string) (id, name, problem string) {
	cr := csv.NewReader(strings.NewReader(text))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	rec, err := cr.Read()
	if err != nil {
		id, name, _ = strings.Cut(text, ",")
		return strings.TrimSpace(id), strings.TrimSpace(name), ""
	}
	// Empty columns after the name are a spreadsheet's, which saves every
	// row as wide as its widest.
	for len(rec) > 2 && strings.TrimSpace(rec[len(rec)-1]) == "" {
		rec = rec[:len(rec)-1]
	}
	switch {
	case len(rec) > 2:
		return "", "", fmt.Sprintf(`%d fields, want ACCOUNT_ID[,NAME] (quote a name that holds a comma: 111111111111,"Acme, Inc")`, len(rec))
	case len(rec) == 2:
		name = strings.TrimSpace(rec[1])
	}
	return strings.TrimSpace(rec[0]), name, ""
}

// accountsHeader reports whether the first field of an accounts file's
// first line is a header's: "account_id", "Account ID", "AccountId", "id".
func accountsHeader(field string) bool {
	f := strings.ToLower(strings.NewReplacer("_", "", " ", "", "-", "").Replace(field))
	return f == "accountid" || f == "id" || f == "account"
}

// homeRegion is the region of the calls that belong to no one region
// (STS, Organizations, EC2's DescribeRegions) when none is configured: the
// first of --regions, else the first region the list names, else the first
// region of the partition of --role-arn; "" when nothing names one. Of
// --regions, or of the list's, the first that every account has comes
// before an opt-in region (awsconn.EveryAccountHas), and us-east-1 before
// opt-in regions alone: one that the caller's account has not enabled
// would refuse its credentials, and stop the whole run, where it is only
// that region that cannot be audited.
func (o *runOptions) homeRegion(spec orgSpec, fleet *audit.Fleet) string {
	first := func(regions []string) string {
		regions = slices.DeleteFunc(slices.Clone(regions), func(r string) bool { return r == "" })
		if i := slices.IndexFunc(regions, awsconn.EveryAccountHas); i >= 0 {
			return regions[i]
		}
		if len(regions) > 0 {
			// Every one an opt-in region, and so of the aws partition
			// (the others have none): its first region, which every
			// account has.
			return awsconn.PartitionRegion("aws")
		}
		return ""
	}
	if len(spec.regions) > 0 {
		return first(spec.regions)
	}
	if fleet != nil {
		if r := first(fleet.Regions()); r != "" {
			return r
		}
	}
	if p := awsconn.ARNPartition(o.roleARN); p != "" {
		return awsconn.PartitionRegion(p)
	}
	return ""
}

// roleARNHome says, for credentials refused in a home region that no one
// configured and that --role-arn's partition chose, that credentials of
// another partition are refused there, before the partitions can be
// compared: what to pass instead; "" otherwise.
func (o *runOptions) roleARNHome(conn *awsconn.Conn, err error) string {
	partition := awsconn.ARNPartition(o.roleARN)
	if conn.RegionConfigured() || !audit.IsBadCredentials(err) || partition == "" ||
		awsconn.PartitionRegion(partition) != conn.HomeRegion() {
		return ""
	}
	var others []string
	for _, p := range awsconn.Partitions() {
		if p != partition {
			others = append(others, fmt.Sprintf("--region %s and a --role-arn of arn:%s: for credentials of %s", awsconn.PartitionRegion(p), p, p))
		}
	}
	return fmt.Sprintf("no region is configured: %s was taken from --role-arn's partition, %s, whose STS refuses credentials of another partition; pass %s",
		conn.HomeRegion(), plain(partition, 30), strings.Join(others, ", or "))
}

// multiAccount reports whether the run reaches accounts other than the
// caller's.
func (o *runOptions) multiAccount() bool {
	return o.accounts != "" || o.roleName != "" || o.roleARN != ""
}

// callerNeeded is the error of a run that reaches other accounts when
// STS did not say whose the credentials are (err): it names the flag that
// needs the caller's account and, when STS did not answer at all, where
// and why, and what to check. Its words are its own: audit.ErrFatal's
// ("cannot call SSM") are untrue, as SSM was not called.
func (o *runOptions) callerNeeded(err error, region string) error {
	flag := "--accounts"
	switch {
	case o.roleName != "":
		flag = "--role-name"
	case o.roleARN != "":
		flag = "--role-arn"
	}
	if u, none := audit.NoAnswer(err); none {
		where := "STS"
		switch {
		case u.Endpoint != "":
			where += " at " + u.Endpoint
		case region != "":
			where += " in " + region
		}
		next := "check the network or " + u.ProxyVar()
		if u.ThroughProxy {
			where += " through the proxy"
			if u.Proxy != "" {
				where += " " + u.Proxy
			}
			next = "check the proxy, or " + u.ProxyVar()
		}
		return &fatalError{msg: fmt.Sprintf("%s needs the caller's account, but %s did not answer (%s): %s", flag, where, u.Cause, next), err: err}
	}
	return &fatalError{msg: fmt.Sprintf("%s needs the caller's account, but STS did not give it: %v", flag, err), err: err}
}

// orgTargets runs the organisation steps: it learns the caller's account
// and gives it to the targets that name none, refuses a list that names
// accounts no role reaches, resolves the accounts and regions, sets up
// the discovery of their managed nodes (j.disc) and looks up the instance
// information of listed ones. Account-regions whose regions cannot be
// listed are returned, to be reported; the run goes on without them.
func (j *job) orgTargets(ctx context.Context, session *audit.Session, stderr io.Writer) ([]*audit.SiteError, error) {
	o := j.o
	id, callerErr := j.conn.CallerIdentity(ctx)
	if err := callerErr; err != nil {
		if ctx.Err() != nil {
			// Named, or the stop is told as the accounts' listing,
			// which a run of a plain --instances list never does.
			return nil, &stepError{"learning the credentials' account (sts:GetCallerIdentity)", errInterrupted}
		}
		if o.multiAccount() {
			err = withFatalHint(o.callerNeeded(err, j.conn.HomeRegion()), j.conn.HomeRegion())
			if h := o.roleARNHome(j.conn, callerErr); h != "" {
				err = fmt.Errorf("%w\n%s", err, h)
			}
			return nil, err
		}
		if audit.IsBadCredentials(err) && j.conn.STSSpeaksForSSM(j.conn.HomeRegion()) {
			// Credentials STS refuses (or finds expired) SSM refuses
			// too: stop at this first sign, before --out is created,
			// not at the first instance.
			msg := err.Error()
			if h := credentialsHint(err, j.conn.HomeRegion()); h != "" {
				msg += "\n" + h
			}
			return nil, &fatalError{msg: msg, err: err}
		}
	}
	if want := o.roles().ForPartition(awsconn.ARNPartition(id.ARN)); want != "" {
		// Before any AssumeRole: STS would refuse the role in every
		// account as untrusted, and the hint would say to deploy it.
		return nil, usagef("--role-arn %q: a role in partition %s, but these credentials are in %s and can assume only its roles: pass --role-arn %q",
			o.roleARN, plain(awsconn.ARNPartition(o.roleARN), 0), awsconn.ARNPartition(id.ARN), want)
	}
	j.caller, j.callerAsked = id.Account, true
	if d := j.conn.RoleDuration(); o.roles().Set() && d < o.roleDuration {
		// Refusing would leave --role-duration unusable under IRSA, a
		// task or job role and SSO; it only says how often the
		// sessions are renewed.
		fmt.Fprintf(stderr, "auditor: warning: --role-duration %s: these credentials are a role's session, and STS gives a role assumed with them %s at most (role chaining): the sessions last %s, renewed before they end\n", shortDuration(o.roleDuration), shortDuration(d), shortDuration(d))
	}
	// A resumed record keeps its own convention: the account its results
	// name is the one it was written with, so that no instance is there
	// twice under two keys when this run learns its account and the last
	// did not, or the other way round.
	fill := id.Account
	if prev, ok := j.previousRun(); ok {
		fill = prev.Caller
		if j.caller == "" {
			j.caller = prev.Caller
		}
	}
	if o.resume && !o.multiAccount() {
		// The rows the record holds, not run.json, decide. A record
		// written when its account could not be learnt (run.json's or a
		// run's killed before it wrote one) names none: this run's
		// results must not either, nor may its run.json name one, or
		// the next resume would take its word and fill it into the rows
		// it adds, the same fleet under two keys in one record. One
		// with no such row has nothing to keep apart from the account
		// learnt now.
		//
		// When STS did not say whose these credentials are, the account
		// the rows name is taken as theirs, so that the targets are the
		// record's and the calls are signed with these credentials, not
		// refused as another account's: SSM is asked first whether it
		// knows the instances the record audited (checkRecordAccount).
		accountless, named := j.recordAccount()
		switch {
		case accountless:
			fill = ""
		case id.Account == "" && named != "":
			fill, j.caller, j.presumed, j.callerErr = named, named, named, callerErr
			j.conn.PresumeCaller(named)
		case fill == "":
			fill = id.Account
		}
		if fill == "" {
			j.caller = ""
		}
	}
	if callerErr != nil {
		// Not a word about the credentials (STS out of reach, throttled,
		// or denied by a policy on the way: GetCallerIdentity itself
		// needs no permission): SSM's answers will tell. STS's words
		// are the service's: plain, as every other.
		if j.presumed != "" {
			fmt.Fprintf(stderr, "auditor: warning: cannot tell which account these credentials belong to (%s); the record's results name account %s, which the resume keeps once SSM knows an instance it audited\n", plain(callerText(callerErr), 0), j.presumed)
		} else {
			fmt.Fprintf(stderr, "auditor: warning: cannot tell which account these credentials belong to (%s); the account column stays empty\n", plain(callerText(callerErr), 0))
		}
	}
	if o.resume && fill == "" && !o.multiAccount() {
		// Checked once the targets left are known (checkRecordAccount).
		j.unnamedRecord, j.learnt = true, id.Account
	}
	// Before a shard takes its part: every shard of a list refuses it
	// alike. The rows that give no account are told apart from those
	// that name the caller's until then.
	j.fill = fill
	accounts, err := j.resolveAccounts(ctx, stderr)
	if err != nil {
		return nil, err
	}
	if err := j.checkListedScope(accounts); err != nil {
		return nil, err
	}
	j.fleet.ApplyDefaults("", fill)
	if j.shardN > 0 && !o.discover {
		// By instance, once every target has its account; a discovery
		// run splits by account-region once it knows them.
		all := j.fleet.Len() + len(j.fleet.Invalid)
		j.fleet.Shard(j.shardK, j.shardN)
		o.logf(stderr, "shard %s: %d of %d targets", j.shard, j.fleet.Len()+len(j.fleet.Invalid), all)
	}
	if len(j.accountNames) > 0 {
		// Listed instances carry their account's name as discovered
		// nodes do (a list column of the same name wins).
		labels := map[string]map[string]string{}
		for id, name := range j.accountNames {
			labels[id] = map[string]string{audit.AccountNameLabel: name}
		}
		j.fleet.LabelAccounts(labels)
	}
	// A list that names accounts no role reaches would come back
	// InvalidInstanceId for every one of their instances: not managed,
	// which hides them. Refused before any SSM call.
	if !j.o.roles().Set() {
		var others []string
		for _, b := range j.fleet.Batches() {
			if j.conn.NeedsRole(b.AccountID) && !slices.Contains(others, b.AccountID) {
				others = append(others, b.AccountID)
			}
		}
		for _, a := range accounts {
			if j.conn.NeedsRole(a.ID) && !slices.Contains(others, a.ID) {
				others = append(others, a.ID)
			}
		}
		if len(others) > 0 {
			slices.Sort(others)
			them := map[bool]string{true: "that account", false: "those accounts"}[len(others) == 1]
			if _, none := audit.NoAnswer(callerErr); id.Account == "" && !none {
				// STS answered, and would not say: credentials it
				// refuses are refused (exit 4, as when SSM refuses
				// them), not an STS out of reach. (Where STS speaks
				// for SSM, they stopped the run already.)
				err := fmt.Errorf("the targets name account%s %s, but STS would not say which account these credentials belong to: %w",
					pluralS(len(others)), strings.Join(others, ", "), callerErr)
				if h := credentialsHint(callerErr, j.conn.HomeRegion()); h != "" {
					return nil, fmt.Errorf("%w\n%s", err, h)
				}
				return nil, fmt.Errorf("%w\nfix what STS says, then run again, or pass --role-name ROLE to reach %s with a role", err, them)
			}
			if id.Account == "" {
				// Neither theirs nor another's can be told: the STS
				// failure is what to mend.
				return nil, usagef("the targets name account%s %s, but which account these credentials belong to is unknown (%s): let the run reach STS (a VPC endpoint for it, or HTTPS_PROXY and NO_PROXY), pass --role-name ROLE to reach %s with a role, or leave out the list's account_id column if its instances are the credentials' own account's",
					pluralS(len(others)), strings.Join(others, ", "), plain(callerText(callerErr), 0), them)
			}
			return nil, usagef("the targets name account%s %s, but these credentials are account %s's and no role reaches the others: pass --role-name ROLE (a role that account %s may assume in each), or audit each account with its own credentials",
				pluralS(len(others)), strings.Join(others, ", "), id.Account, id.Account)
		}
	}
	// Before any call, the instance-information lookup and the tags
	// included: one account-region of several that refuses (a region not
	// enabled) must fail alone there too, not stop the run.
	if len(accounts) > 1 || j.fleetSites(nil) > 1 {
		session.SetMulti()
	}

	var failed []*audit.SiteError
	if o.discover {
		sites, siteErrs, err := j.sites(ctx, accounts)
		if err != nil {
			return nil, err
		}
		failed = append(failed, siteErrs...)
		j.discovered = sites
		if j.org.org {
			j.members = map[string]bool{}
			for _, a := range accounts {
				j.members[a.ID] = true
			}
		}
		j.unlisted = map[string]bool{}
		for _, se := range siteErrs {
			j.unlisted[se.AccountID] = true
		}
		if j.fleetSites(sites) > 1 {
			session.SetMulti()
		}
		// The nodes are listed as the audit takes them (see discovery).
		j.disc = &discovery{j: j, session: session, sites: sites, earlier: map[audit.Key]bool{}, listed: map[audit.Key]bool{}}
	}
	if j.shardK >= 0 && o.discover {
		// Whole account-regions to a shard, so that no two shards share
		// one account-region's rate limit.
		j.fleet.ShardSites(j.shardK, j.shardN)
	}
	if o.withInfo {
		// The lookup calls the account-regions the shards of a list
		// share, on the same limit as the audit: it paces with them.
		if err := j.startBoard(); err != nil {
			return nil, err
		}
		infoFailed, err := j.lookupInfo(ctx, session, stderr)
		if err != nil {
			// A denial says what to allow, as the same denial under
			// --discover does.
			return nil, &stepError{"looking up the instances' information (--with-instance-info)", withFatalHint(err, o.region)}
		}
		failed = append(failed, infoFailed...)
	}
	if len(j.org.tagKeys) > 0 && (j.fleet.Len() > 0 || !o.discover) {
		tagFailed, err := j.readTags(ctx, session, failed, stderr)
		if err != nil {
			return nil, &stepError{"reading the tags of --tag-labels", err}
		}
		failed = append(failed, tagFailed...)
	}
	return failed, nil
}

// stepError is err, returned by the step of orgTargets that doing names,
// and says what err says: a signal or --timeout that stops the run there
// is told with the step's name (see execute), where the step's own errors
// are told as they are.
type stepError struct {
	doing string
	err   error
}

func (e *stepError) Error() string { return e.err.Error() }
func (e *stepError) Unwrap() error { return e.err }

func pluralS(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// fleetSites counts the account-regions of the listed targets (a target
// that names no region is in the run's) and of also, together.
func (j *job) fleetSites(also []site) int {
	seen := map[site]bool{}
	for _, s := range also {
		seen[s] = true
	}
	for _, b := range j.fleet.Batches() {
		seen[site{b.AccountID, cmp.Or(b.Region, j.o.region)}] = true
	}
	return len(seen)
}

// resolveAccounts returns the accounts to discover in: --accounts (its list,
// its file or the organisation's active accounts) less --exclude-accounts,
// or the caller's alone. An excluded account that is not among them is
// warned about on stderr: a mistyped ID leaves out nothing, and audits the
// account it meant to.
func (j *job) resolveAccounts(ctx context.Context, stderr io.Writer) ([]awsconn.Account, error) {
	spec := j.org
	accounts := spec.accounts
	if spec.org {
		var err error
		if accounts, err = j.conn.OrgAccounts(ctx); err != nil {
			switch {
			case ctx.Err() != nil:
				return nil, errInterrupted
			case errors.Is(err, awsconn.ErrNoActiveAccount):
				// Not the caller's account instead: a run that audits it
				// alone would call itself complete.
				return nil, fmt.Errorf("--accounts org: %w; see each account's State with aws organizations list-accounts, or name the accounts to audit with --accounts ID,ID", err)
			}
			return nil, orgListError(err, j.conn.HomeRegion())
		}
	}
	if len(accounts) == 0 {
		// No --accounts: checkOrg refuses a file that names none.
		accounts = []awsconn.Account{{ID: j.caller}}
	}
	for _, x := range spec.exclude {
		// A listed instance is audited in the account the list gives it:
		// an exclusion that the list contradicts is refused, not ignored.
		if n, first := j.listedWhere(func(t audit.Target) bool { return t.AccountID == x }); n > 0 {
			return nil, usagef("--exclude-accounts %s: the list names %s of that account (the first at %s), and a listed instance is audited in the account the list gives it: take that account's rows out of the list, or leave it out of --exclude-accounts",
				x, plural(n, "instance"), first)
		}
		if n, first := j.listedWhere(func(t audit.Target) bool { return t.AccountID == "" }); n > 0 && x == j.fill {
			return nil, usagef("--exclude-accounts %s: the rows that give no account (%s, the first at %s) are audited in the caller's account %s: add an account_id column to the list, or leave it out of --exclude-accounts",
				x, plural(n, "instance"), first, x)
		}
		if !slices.ContainsFunc(accounts, func(a awsconn.Account) bool { return a.ID == x }) {
			among := "the accounts to audit"
			if spec.org {
				among += " (the organisation's ACTIVE accounts)"
			}
			fmt.Fprintf(stderr, "auditor: warning: --exclude-accounts %s: not among %s: it leaves out nothing; check the ID\n", x, among)
		}
	}
	n := len(accounts)
	accounts = slices.DeleteFunc(accounts, func(a awsconn.Account) bool { return slices.Contains(spec.exclude, a.ID) })
	if len(accounts) == 0 && j.fleet.Len() == 0 {
		// An audit of nothing would call itself complete.
		return nil, fmt.Errorf("%w: --exclude-accounts leaves out every one of the %s to audit: nothing is left", audit.ErrFatal, plural(n, "account"))
	}
	warnEscapedNames(stderr, accounts)
	j.accountNames = map[string]string{}
	byName := map[string][]string{}
	for _, a := range accounts {
		if a.Name != "" {
			j.accountNames[a.ID] = a.Name
			byName[a.Name] = append(byName[a.Name], a.ID)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		if ids := byName[name]; len(ids) > 1 {
			// Organizations lets two accounts share a name: one label
			// value, so one group of a split by it, one owner's report.
			// The name reads as itself (a file's is checked, the
			// organisation's escaped): shown as it is, not quoted again,
			// which would double the backslashes of an escaped one.
			fmt.Fprintf(stderr, "auditor: warning: accounts %s share the name \"%s\": the account_name label does not tell them apart (a --split-by account_name makes them one group, mailed as one); give one another name (in Organizations, or in an --accounts file)\n",
				strings.Join(ids, ", "), name)
		}
	}
	return accounts, nil
}

// warnEscapedNames says once that names of the organisation's accounts
// were written escaped (awsconn.Account.Escaped), naming the first by ID,
// when any was: one warning, not one an account, as for tags.
func warnEscapedNames(stderr io.Writer, accounts []awsconn.Account) {
	var escaped []awsconn.Account
	for _, a := range accounts {
		if a.Escaped {
			escaped = append(escaped, a)
		}
	}
	if len(escaped) == 0 {
		return
	}
	first := slices.MinFunc(escaped, func(a, b awsconn.Account) int { return strings.Compare(a.ID, b.ID) })
	more := ""
	if len(escaped) > 1 {
		more = fmt.Sprintf("; %d more account names were written so", len(escaped)-1)
	}
	// The name as written reads as itself (audit.ValidLabel): shown as it
	// is, between quotes, not quoted again.
	fmt.Fprintf(stderr, "auditor: warning: the name of account %s in Organizations is written escaped, \"%s\": a character of it that does not show as itself "+
		"(a control, format or look-alike space character) is written as its escape, and a backslash that would read as one is doubled, "+
		"so that the name cannot pass for another in the reports, their groups or the terminal; rename the account to drop it%s\n",
		first.ID, first.Name, more)
}

// checkListedScope refuses a list that names instances outside the
// accounts to audit: without --discover, --accounts (its list, its file or
// the organisation's ACTIVE accounts) and --regions (a list, see
// checkListedRegions) say what the run audits, and a listed instance is
// audited in the account and region the list gives it (those that give no
// account in the caller's, j.fill), so a row outside them would be audited
// all the same. With --discover they scope the discovery, and listed instances
// are a union with it, audited as listed (--exclude-accounts is checked in
// both: see resolveAccounts).
func (j *job) checkListedScope(accounts []awsconn.Account) error {
	spec := j.org
	if j.o.discover {
		return nil
	}
	if spec.org || len(spec.accounts) > 0 {
		among := map[string]bool{}
		for _, a := range accounts {
			among[a.ID] = true
		}
		if out := j.listedOutside(func(t audit.Target) string { return t.AccountID }, "of account", among); out != "" {
			return usagef("--accounts %s: the list names %s, not among the accounts to audit, and a listed instance is audited in the account the list gives it: take those rows out of the list, or add the account to --accounts",
				j.o.accounts, out)
		}
		if n, first := j.listedWhere(func(t audit.Target) bool { return t.AccountID == "" }); n > 0 && j.fill != "" && !among[j.fill] {
			return usagef("--accounts %s: the rows that give no account (%s, the first at %s) are audited in the caller's account %s, not among the accounts to audit: add an account_id column to the list, or add %s to --accounts",
				j.o.accounts, plural(n, "instance"), first, j.fill, j.fill)
		}
	}
	return nil
}

// checkListedRegions refuses a list that names instances outside --regions
// (a list), without --discover (see checkListedScope), before any call:
// the rows that give a region are audited in it, and those that give none
// in region (--region or the AWS configuration's).
func (j *job) checkListedRegions(region string) error {
	spec := j.org
	if err := j.checkListedPartitions(region); err != nil {
		return err
	}
	if j.o.discover || len(spec.regions) == 0 || spec.allRegions {
		return nil
	}
	among := map[string]bool{}
	for _, r := range spec.regions {
		among[r] = true
	}
	if out := j.listedOutside(func(t audit.Target) string { return t.Region }, "in", among); out != "" {
		return usagef("--regions %s: the list names %s, not among --regions, and a listed instance is audited in the region the list gives it: take those rows out of the list, or add the region to --regions",
			j.o.regions, out)
	}
	if n, first := j.listedWhere(func(t audit.Target) bool { return t.Region == "" }); n > 0 && region != "" && !among[region] {
		return usagef("--regions %s: the rows that give no region (%s, the first at %s) are audited in %s (--region, AWS_REGION or the profile's region), not among --regions: pass --region with one of --regions, or add a region column to the list",
			j.o.regions, plural(n, "instance"), first, region)
	}
	return nil
}

// onePartition is why regions of two partitions are refused together, and
// what to do instead.
const onePartition = "one run's credentials reach one partition: audit each partition in its own run"

// partitionsApart returns the first of regions and the first after it of
// another partition (awsconn.RegionPartition); "", "" when all are of one
// partition. A region that is not one (audit.ValidRegion) is passed over:
// its problem is told as such.
func partitionsApart(regions []string) (string, string) {
	first := ""
	for _, r := range regions {
		switch {
		case audit.ValidRegion(r) != "":
		case first == "":
			first = r
		case awsconn.RegionPartition(r) != awsconn.RegionPartition(first):
			return first, r
		}
	}
	return "", ""
}

// checkListedPartitions refuses a run whose listed instances (those that
// name no region in region, the run's default) and --regions are in
// regions of more than one partition: the credentials of one partition are
// refused in every region of another, which a run would then report as
// regions not enabled, or as bad credentials. --regions alone is checked
// by checkOrg. It refuses too a region configured (--region, AWS_REGION,
// the profile's) of another partition than the regions audited, all of
// one: STS is asked whose the credentials are there (it is the home
// region, awsconn.Conn.HomeRegion), and it refuses those of the audited
// regions' partition, which refuse those of its own.
func (j *job) checkListedPartitions(region string) error {
	var regions []string
	where := map[string]string{}
	for t := range j.fleet.All() {
		r := t.Region
		if r == "" {
			r = region
		}
		if t.Problem != "" || r == "" || where[r] != "" {
			continue
		}
		regions = append(regions, r)
		where[r] = "the first at " + t.Source
	}
	if a, _ := partitionsApart(j.org.regions); a == "" {
		for _, r := range j.org.regions {
			if where[r] == "" {
				regions = append(regions, r)
				where[r] = "--regions"
			}
		}
	}
	if len(regions) == 0 {
		return nil
	}
	if a, b := partitionsApart(regions); a != "" {
		return usagef("the instances' regions: %s (%s) is in partition %s and %s (%s) in %s; %s",
			a, where[a], awsconn.RegionPartition(a), b, where[b], awsconn.RegionPartition(b), onePartition)
	}
	i := slices.IndexFunc(regions, func(r string) bool { return audit.ValidRegion(r) == "" })
	if region == "" || audit.ValidRegion(region) != "" || i < 0 {
		return nil
	}
	a := regions[i]
	theirs, ours := awsconn.RegionPartition(a), awsconn.RegionPartition(region)
	if theirs == ours {
		return nil
	}
	if j.o.endpointURL != "" || j.conn != nil && !j.conn.STSSpeaksForSSM(region) {
		// SSM at an endpoint of its own (--endpoint-url: an emulator, a
		// private endpoint) is no partition's, and STS's refusal does
		// not stop the run there (see orgTargets).
		return nil
	}
	// A region every account has: an opt-in one the caller's account has
	// not enabled would refuse its credentials.
	home := a
	if !awsconn.EveryAccountHas(a) {
		home = awsconn.PartitionRegion(theirs)
	}
	return usagef("%s (%s) is in partition %s, but the configured region %s (from %s) is in %s, and one run's credentials reach one partition: for %s credentials, pass --region %s",
		a, where[a], theirs, region, cmp.Or(j.regionFrom, "the AWS configuration"), ours, theirs, home)
}

// listedOutside describes the listed targets whose key (an account or a
// region) is not among those given, one key after another in order, each
// after the words of: "4 instances of account 111111111111 (the first at
// fleet.csv:6)"; "" when there are none. A target whose key is unknown
// ("") is passed over.
func (j *job) listedOutside(key func(audit.Target) string, of string, among map[string]bool) string {
	var keys []string
	for t := range j.fleet.All() {
		if k := key(t); k != "" && !among[k] && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []string
	for _, k := range keys {
		n, first := j.listedWhere(func(t audit.Target) bool { return key(t) == k })
		out = append(out, fmt.Sprintf("%s %s %s (the first at %s)", plural(n, "instance"), of, k, first))
	}
	return strings.Join(out, ", ")
}

// listedWhere counts the listed targets for which match is true, and
// returns where the first of them was read.
func (j *job) listedWhere(match func(audit.Target) bool) (n int, first string) {
	for t := range j.fleet.All() {
		if t.Problem == "" && match(t) {
			if n == 0 {
				first = t.Source
			}
			n++
		}
	}
	return n, first
}

// orgListError stops a run whose organisation's accounts could not be
// listed, in words about Organizations (ErrFatal's are SSM's), saying what
// to do as fits the failure: the management account's credentials only
// when access was denied, another try later when the service failed or
// throttled.
func orgListError(err error, region string) error {
	msg := "--accounts org: cannot list the organisation's accounts: " + err.Error()
	var ae smithy.APIError
	var re *smithyhttp.ResponseError
	code := ""
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	_, none := audit.NoAnswer(err)
	switch {
	case code == "AWSOrganizationsNotInUseException":
		msg += "\nthe credentials' account is in no organisation: name the accounts to audit with --accounts ID,ID"
	case strings.HasPrefix(code, "AccessDenied"):
		msg += "\nOrganizations lists the accounts to the organisation's management account or a delegated administrator (organizations:ListAccounts): use their credentials, or name the accounts to audit with --accounts ID,ID"
	case audit.IsThrottle(err) || errors.As(err, &re) && re.HTTPStatusCode() >= 500:
		msg += "\nOrganizations failed after every retry: try again later"
	case none:
		msg += "\nOrganizations did not answer: try again later, or let the run reach it (HTTPS_PROXY and NO_PROXY)"
	default:
		if h := credentialsHint(err, region); h != "" {
			msg += "\n" + h
		} else {
			msg += "\nrun again once it is fixed, or name the accounts to audit with --accounts ID,ID"
		}
	}
	return &fatalError{msg: msg, err: err}
}

// site is one account-region to discover in.
type site struct{ account, region string }

// sites returns the account-regions to discover in: each account's regions
// (--regions, all of its enabled ones, or the run's region), less those
// another shard owns. An account whose regions cannot be listed is a
// failed site.
func (j *job) sites(ctx context.Context, accounts []awsconn.Account) ([]site, []*audit.SiteError, error) {
	spec := j.org
	var out []site
	var failed []*audit.SiteError
	seen := map[site]bool{}
	for _, a := range accounts {
		regions := spec.regions
		if spec.allRegions {
			rs, err := j.conn.EnabledRegions(ctx, a.ID)
			if err != nil {
				if ctx.Err() != nil {
					return nil, nil, errInterrupted
				}
				var ce *audit.CredentialsError
				if errors.As(err, &ce) && ce.AccountID == "" {
					return nil, nil, err
				}
				code, msg := siteCause(err)
				failed = append(failed, audit.NewSiteError(a.ID, audit.AllRegions, code, msg))
				continue
			}
			regions = rs
		}
		if len(regions) == 0 {
			regions = []string{j.o.region}
		}
		for _, r := range regions {
			if j.shardK >= 0 && !audit.SiteIn(a.ID, r, j.shardK, j.shardN) {
				continue
			}
			// Listed twice, an account-region's nodes would be audited
			// twice and the run never complete; whatever repeated it (an
			// answer that names a region twice), it is one site.
			if s := (site{a.ID, r}); !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out, failed, nil
}

// siteCause is the code and message of an error that failed a site: the
// service's, when it answered.
func siteCause(err error) (code, msg string) {
	var se *audit.SiteError
	if errors.As(err, &se) {
		return se.Code, se.Message
	}
	return audit.Classify(err)
}

// lookupInfo asks DescribeInstanceInformation about the listed targets that
// have no information yet, 50 a call, in every account-region at once (each
// is paced by its own limiter), up to --concurrency calls at once in each.
// Where it cannot be read but the instances can still be audited, they are
// audited without it (the session's Sites say why: SiteStats.InfoError); an
// account-region that failed is returned, as for the audit; fatal errors
// stop the run. A line on stderr says how far it is, as the progress does.
func (j *job) lookupInfo(ctx context.Context, session *audit.Session, stderr io.Writer) ([]*audit.SiteError, error) {
	type ask struct {
		account, region string
		ids             []string
	}
	var asks []ask
	for _, b := range j.fleet.Batches() {
		var ids []string
		for t := range b.Targets {
			if t.Info == nil {
				ids = append(ids, t.InstanceID)
			}
		}
		if len(ids) > 0 {
			asks = append(asks, ask{b.AccountID, b.Region, ids})
		}
	}
	var (
		mu     sync.Mutex // the fleet, failed and answered
		failed []*audit.SiteError
		asked  int
		// answered counts the instances that got their information.
		answered int
	)
	for _, a := range asks {
		asked += len(a.ids)
	}
	base := session.Stats()
	defer heartbeat(stderr, j.o.quiet || asked == 0, func(bool) string {
		mu.Lock()
		n := answered
		mu.Unlock()
		st := session.Stats()
		calls, throttled := st.Calls-base.Calls, st.Throttled-base.Throttled
		line := fmt.Sprintf("looking up instance information: %s of %s instances, %s calls", thousands(n), thousands(asked), thousands(int(calls)))
		if calls > 0 {
			line += fmt.Sprintf(" (%.1f%% throttled)", 100*float64(throttled)/float64(calls))
		}
		return line
	})()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(lookupSites)
	for _, a := range asks {
		g.Go(func() error {
			err := session.LookupInfo(gctx, a.account, a.region, a.ids, func(id string, info *audit.InstanceInfo) {
				mu.Lock()
				j.fleet.SetInfo(audit.Key{AccountID: a.account, Region: a.region, InstanceID: id}, info)
				answered++
				mu.Unlock()
			})
			var ie *audit.InfoError
			switch {
			case err == nil:
			case ctx.Err() != nil:
				return errInterrupted
			case errors.Is(err, audit.ErrFatal):
				return err
			case gctx.Err() != nil:
				// Another account-region's fatal error stopped this one.
			case errors.As(err, &ie):
				// The session keeps it for run.json, whence the closing
				// lines and the reports say it.
			default:
				code, msg := siteCause(err)
				mu.Lock()
				failed = append(failed, audit.NewSiteError(a.account, a.region, code, msg))
				mu.Unlock()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	// In one order, whichever finished first.
	slices.SortStableFunc(failed, func(x, y *audit.SiteError) int {
		return cmp.Or(cmp.Compare(x.AccountID, y.AccountID), cmp.Compare(x.Region, y.Region))
	})
	return failed, nil
}

// lookupSites is how many account-regions lookupInfo asks at once.
const lookupSites = 32

// recordAccount says which account the record that --resume continues
// names in its results: accountless when one names none, written when
// the caller's account could not be learnt (every target without an
// account column gets the caller's when it can be); else sole, the one
// account they all name, "" when they name none or several. The record's
// index knows it once opened (Records.NamesNoAccount, SoleAccount): no
// result is decoded again.
func (j *job) recordAccount() (accountless bool, sole string) {
	if !j.hasRecord() {
		return false, ""
	}
	rs, err := openRecords(j.o.out, j.recordPath())
	if err != nil {
		return false, "" // Resume reads it again, and says what is wrong
	}
	defer rs.Close()
	if rs.NamesNoAccount() {
		return true, ""
	}
	sole, _ = rs.SoleAccount()
	return false, sole
}

// previousRun returns the run.json of the record that --resume continues.
func (j *job) previousRun() (audit.RunInfo, bool) {
	if !j.o.resume || !j.hasRecord() {
		return audit.RunInfo{}, false
	}
	ri, err := audit.ReadRunInfo(filepath.Join(j.o.out, audit.RunFile))
	return ri, err == nil
}

// callerText says why STS did not tell whose the credentials are: as an
// endpoint of SSM's is told when it gets no answer
// ("sts:GetCallerIdentity: cannot reach URL: connection refused"), not in
// the SDK's words; else err's text, STS's code and message.
func callerText(err error) string {
	if u, none := audit.NoAnswer(err); none && u.Endpoint != "" {
		return "sts:GetCallerIdentity: " + u.Error()
	} else if none {
		// Cut short before it was sent (its deadline, in a retry's
		// wait): no place to name.
		return "sts:GetCallerIdentity: no answer (" + u.Cause + ")"
	}
	return err.Error()
}
