package cli

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/awsconn"
	"github.com/auditor-dev/auditor/deliver"
	"github.com/auditor-dev/auditor/internal/bidi"
	"github.com/auditor-dev/auditor/report"
)

// errorTally counts the instances that ended in error by code, with the
// first message of each, for the closing summary: nobody should have to
// open a CSV to learn why. It is safe for concurrent use.
type errorTally struct {
	mu    sync.Mutex
	codes map[string]*codeCount
	// departed counts the record's results in error of accounts that
	// have left the organisation, which no resume can audit.
	departed int
	// sites holds the account-regions of the results counted: one not
	// audited in full is already in the instances in error it left.
	sites map[[2]string]bool
	// overMaxPages counts the results with more pages than --max-pages
	// (audit.OverMaxPages).
	overMaxPages int
	// denied holds, for each account-region where SSM or EC2 refused an
	// instance's calls to the credentials, the first such refusal: a
	// retry fails the same way until a policy allows the action.
	denied map[[2]string]audit.Error
	// listed and stopped count, of each account-region that failed after
	// some of its nodes were audited, how many were, as the reports tell
	// it: listed in part, or stopped part way (see readInPart).
	listed, stopped map[[2]string]int
}

// readInPart sets t's listed and stopped from the results rs holds of the
// account-regions that failed in info (report.InPart). A record that
// cannot be read again leaves them unset: the reports, written from it
// just before, said why.
func (t *errorTally) readInPart(rs *audit.Records, info audit.RunInfo) {
	listed, stopped, err := report.InPart(rs, info)
	if err != nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.listed, t.stopped = map[[2]string]int{}, map[[2]string]int{}
	for _, s := range listed {
		t.listed[[2]string{s.AccountID, s.Region}] = s.Audited
	}
	for _, s := range stopped {
		t.stopped[[2]string{s.AccountID, s.Region}] = s.Audited
	}
}

// inPart returns how many of s's nodes were audited, and whether it was
// listed in part, when it failed after some were (see readInPart).
func (t *errorTally) inPart(s audit.SiteStats) (audited int, listed bool) {
	if t == nil {
		return 0, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	k := [2]string{s.AccountID, s.Region}
	if n := t.stopped[k]; n > 0 {
		return n, false
	}
	return t.listed[k], t.listed[k] > 0
}

type codeCount struct {
	code, message string
	n             int
}

func (t *errorTally) add(r audit.Result) {
	if r.Outcome != audit.OutcomeError || r.Error == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.codes == nil {
		t.codes = map[string]*codeCount{}
	}
	t.site(r.AccountID, r.Region)
	if audit.OverMaxPages(r.Error) {
		t.overMaxPages++
	}
	if deniedCode(r.Error.Code) {
		if t.denied == nil {
			t.denied = map[[2]string]audit.Error{}
		}
		k := [2]string{r.AccountID, r.Region}
		if _, ok := t.denied[k]; !ok {
			t.denied[k] = *r.Error
		}
	}
	c := t.codes[r.Error.Code]
	if c == nil {
		c = &codeCount{code: r.Error.Code, message: r.Error.Message}
		t.codes[r.Error.Code] = c
	}
	c.n++
}

// site notes an account-region with instances in error; t.mu is held, or
// t is not yet shared.
func (t *errorTally) site(account, region string) {
	if t.sites == nil {
		t.sites = map[[2]string]bool{}
	}
	t.sites[[2]string{account, region}] = true
}

// inErrors reports whether the instances in error counted hold some of s's.
func (t *errorTally) inErrors(s audit.SiteStats) bool {
	if t == nil {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sites[[2]string{s.AccountID, s.Region}]
}

// deniedCode reports whether code is SSM's or EC2's refusal of an action
// to the credentials that signed it.
func deniedCode(code string) bool {
	return code == "AccessDeniedException" || code == "UnauthorizedOperation"
}

// deniedHints returns what to allow, and where, for the refusals of the
// instances in error (see siteHint), one line each, in the order of their
// account-regions, without repeats.
func (t *errorTally) deniedHints(caller string, options map[string]any) []string {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for _, k := range slices.SortedFunc(maps.Keys(t.denied), func(a, b [2]string) int {
		return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1]))
	}) {
		e := t.denied[k]
		if h := siteHint(audit.SiteStats{AccountID: k[0], Region: k[1], Error: &e}, caller, options); h != "" && !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// toldInPart reports whether stderr tells s as listed in part
// (audit.SiteStats.ListedInPart): not when its account has left the
// organisation, which is said as such, not as a listing that failed.
func toldInPart(s audit.SiteStats) bool {
	return s.ListedInPart() && s.Error.Code != audit.CodeAccountNotActive
}

// maxPagesHint says that n instances have more pages than --max-pages
// (limit, as run.json's options give it: "" for a merge of runs with
// different limits), and to raise it.
func maxPagesHint(n int, limit string) string {
	verb := "have"
	if n == 1 {
		verb = "has"
	}
	more := "more pages than their runs' --max-pages"
	switch limit {
	case "":
	case "1":
		more = "more than 1 page (--max-pages 1)"
	default:
		more = "more than " + limit + " pages (--max-pages " + limit + ")"
	}
	return fmt.Sprintf("%s %s %s: the limit, not a loop; raise --max-pages in the command below to audit them", plural(n, "instance"), verb, more)
}

// overMaxPagesCount returns overMaxPages; 0 for a nil t.
func (t *errorTally) overMaxPagesCount() int {
	if t == nil {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.overMaxPages
}

// top returns the most frequent codes, at most n.
func (t *errorTally) top(n int) []codeCount {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []codeCount
	for _, c := range t.codes {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b codeCount) int { return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.code, b.code)) })
	return out[:min(n, len(out))]
}

// plural returns "1 instance", "2 instances".
func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// tell prints the closing lines of a run on stderr.
func (j *job) tell(stderr io.Writer, written []string, fatal bool, delivered error) {
	st := j.info.Stats
	// After --resume the time and the calls are this run's alone, and so
	// is the count; the record's whole is in the outcomes that follow. The
	// count is what this attempt audited, not the record's less what was
	// resumed: results in error that it did not get to (their
	// account-region failed again) are neither.
	//
	// Audited means a verdict, as in the reports: of instances some of
	// which got none (in error, not managed), the line says how many of
	// them got one ("audited 168 of 200 instances"), since the lines after
	// it say the others could not be audited.
	did := plural(j.audited, "instance")
	if j.verdicts < j.audited {
		did = fmt.Sprintf("%d of %s", j.verdicts, did)
	}
	paced, paceHint := throttledPace(st, j.o.rate, j.o.maxResults, j.audited)
	head := fmt.Sprintf("audited %s in %.1fs (%s, %d throttled, %d retried%s)",
		did, st.Seconds, plural(int(st.Calls), "call"), st.Throttled, st.Retries, paced)
	if j.info.Resumed > 0 {
		head += fmt.Sprintf(", %d from earlier runs", j.info.Resumed)
	}
	var failOn *audit.FailOn // nil: the demo's verdict
	if !j.o.demo {
		failOn = &j.set.failOn
	}
	// The cause of each account-region given up on comes before the
	// verdict, which counts the instances it left, and the file to open.
	var causes []string
	for _, u := range j.unreachable {
		// The cause of a failing endpoint is the service's own error code.
		hint := unreachableHint(u, j.endpointSource(u.Region), j.regionSource(u.Region))
		if u.Cause == "timed out" && j.o.callTimeout < shortCallTimeout {
			// Then the limit may be the cause, not the endpoint.
			hint += fmt.Sprintf("; or --call-timeout %s, the time each call was given, is too short", j.o.callTimeout)
		}
		causes = append(causes, fmt.Sprintf("auditor: %s; %s", plain(u.Error(), 0), hint))
	}
	// Before the summary's record, which a pipeline takes for the last.
	if paceHint != "" {
		causes = append(causes, paceHint)
	}
	summarize(stderr, head, j.info, failOn, j.errs, causes, j.o.out, j.o.resumeCommand(), written, fatal, delivered)
	heard := slices.ContainsFunc(j.info.Sites, func(s audit.SiteStats) bool { return s.SharedWith > 0 })
	if j.shardN > 1 && !j.o.discover && j.o.rate == 0 && st.Throttled > 0 && st.Seconds > 0 && !heard && !j.o.resume {
		// The shards of a list share each account-region's limit, and
		// adaptive ones that cannot hear each other split it unevenly
		// (BENCHMARKS.md, "Processes sharing one bucket"). A resumed
		// shard runs once the others ended, side by side or not.
		fmt.Fprintf(stderr, "shard %s was throttled and heard no other shard: the %d shards share each account-region's limit, and split it unevenly unless their --out directories are side by side (RUN/shard-K); else pace each with --rate LIMIT/%d (this shard: %.1f calls a second answered)\n",
			j.shard, j.shardN, j.shardN, float64(st.Calls-st.Throttled)/st.Seconds)
	}
}

// summarize prints the closing summary: what was done, why instances ended
// in error, the causes (one line each: why account-regions were given up
// on), the verdict and what its exit code means, and the file to open. A
// fatal run gets no verdict line: its error follows, and says it all.
//
// The verdict counts as not audited the instances in error and the targets
// the record has no result for (left by an endpoint given up on, or a
// shard not merged): both are what a resumed run audits.
//
// delivered is the delivery's failure, if it failed: its exit code, 5,
// stands over 1 and 3, whose lines then say no exit code of their own; a
// fatal run (the reports of each value of --split-by not written, say)
// keeps its own, and tells the failed delivery all the same.
func summarize(w io.Writer, head string, info audit.RunInfo, failOn *audit.FailOn, errs *errorTally, causes []string, out, resume string, written []string, fatal bool, delivered error) {
	var parts []string
	for _, oc := range audit.Outcomes() {
		if n := info.Outcomes[oc]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, oc))
		}
	}
	if len(parts) > 0 {
		head += ": " + strings.Join(parts, ", ")
	}
	fmt.Fprintln(w, head)
	if c := info.Changes; c != nil && outcomeCounts(info.Outcomes).total() > 0 {
		// The reports' own words: every kind of change, and the caveat of
		// a partial run. A run that audited nothing compared nothing.
		fmt.Fprintln(w, report.ChangeSummary(c.Comparison(), c.Since, c.BaselineIncomplete || !info.Whole(), report.BaselineLater(c.Since, info)))
	}
	var hints []string
	for _, s := range info.Sites {
		if s.Error != nil && !s.Unreachable {
			where := siteWhere(s)
			code, message := plain(s.Error.Code, 60), plain(s.Error.Message, 300)
			// In the reports' words: what the record holds of it is known.
			switch audited, listed := errs.inPart(s); {
			case toldInPart(s):
				// Discovered, not Results: after --resume the nodes listed
				// include those an earlier attempt audited.
				logLine(w, slog.LevelWarn, "%s listed in part: the listing failed after %s (%s: %s)",
					where, plural(s.Discovered, "node"), code, message)
			case listed:
				logLine(w, slog.LevelWarn, "%s listed in part: %s audited before the listing failed (%s: %s)",
					where, plural(audited, "instance"), code, message)
			case audited > 0:
				logLine(w, slog.LevelWarn, "%s stopped part way: %s audited before it failed (%s: %s)",
					where, plural(audited, "instance"), code, message)
			default:
				logLine(w, slog.LevelWarn, "%s could not be audited: %s: %s", where, code, message)
			}
			if h := siteHint(s, info.Caller, info.Options); h != "" && !slices.Contains(hints, h) {
				hints = append(hints, h)
			}
		}
		if s.InfoError != nil && s.Error == nil {
			where := siteWhere(s)
			fmt.Fprintf(w, "%s: instance information not read (%s: %s); its instances were audited without it\n",
				where, plain(s.InfoError.Code, 60), plain(s.InfoError.Message, 300))
		}
	}
	// What a partial run left out, and why, is a warning in JSON form
	// too, as the README says: these lines do not begin "auditor: ".
	for _, h := range hints {
		logLine(w, slog.LevelWarn, "%s", h)
	}
	// Instances whose own calls were refused, told after their count.
	var deniedHints []string
	for _, h := range errs.deniedHints(info.Caller, info.Options) {
		if !slices.Contains(hints, h) {
			deniedHints = append(deniedHints, h)
		}
	}
	hints = append(hints, deniedHints...)
	// Instances over --max-pages fail the same way until it is raised.
	if n := errs.overMaxPagesCount(); n > 0 {
		h := maxPagesHint(n, optionText(info.Options["max_pages"]))
		deniedHints = append(deniedHints, h)
		hints = append(hints, h)
	}
	// A resumed run fails the same way until the setting is changed.
	resumeWith := "continue with"
	switch len(hints) {
	case 0:
	case 1:
		resumeWith = "fix the cause above, then continue with"
	default:
		resumeWith = "fix the causes above, then continue with"
	}
	// The account-regions not audited, beside the instances: the verdict
	// line counted the instances alone. One given up on (its endpoint
	// failing) is in the instances it left, and in its cause's line; one
	// whose instances ended in error (those of an account that has left
	// the organisation, or of a list's region refused) is in those.
	sitesToo := ""
	if n := len(slices.DeleteFunc(slices.Clone(info.Sites), func(s audit.SiteStats) bool {
		return s.Error == nil || s.Unreachable || errs.inErrors(s)
	})); n > 0 {
		sitesToo = " and " + plural(n, "account-region")
	}
	// An account-region that a resume can audit once its cause is fixed
	// (a role refused, a region not enabled), as it cannot one of an
	// account that has left the organisation.
	liveSiteFailed := slices.ContainsFunc(info.Sites, func(s audit.SiteStats) bool { return s.Error != nil && s.Error.Code != audit.CodeAccountNotActive })
	if n := info.Outcomes[audit.OutcomeError]; n > 0 {
		var codes []string
		if errs != nil {
			for _, c := range errs.top(5) {
				codes = append(codes, fmt.Sprintf("%d %s (%s)", c.n, plain(c.code, 60), plainEnds(c.message, 120)))
			}
		}
		if len(codes) > 0 {
			logLine(w, slog.LevelWarn, "%s ended in error: %s", plural(n, "instance"), strings.Join(codes, "; "))
		}
	}
	for _, h := range deniedHints {
		logLine(w, slog.LevelWarn, "%s", h)
	}
	for _, c := range causes {
		fmt.Fprintln(w, c)
	}
	var de *errDelivery
	errors.As(delivered, &de)
	exit := func(c exitCode) string {
		if de != nil {
			return ""
		}
		return fmt.Sprintf(" (exit %d)", c)
	}
	// Targets without a result in the record: instances left by an
	// account-region given up on, or a shard not merged.
	errored := info.Outcomes[audit.OutcomeError]
	left := max(info.Targets-outcomeCounts(info.Outcomes).total(), 0)
	code := exitOK
	defer func() {
		if de != nil {
			de.said = true
			if fatal {
				// Its exit is the fatal error's, told after; what was
				// not delivered, and how to, is told all the same.
				logLine(w, slog.LevelError, "%s too; the reports written are in %s:", de.what(), shownPath(out))
			} else {
				code = exitDelivery
				logLine(w, slog.LevelError, "%s (exit 5); the reports are in %s:", de.what(), shownPath(out))
			}
			for _, e := range de.errs {
				// A service's words (S3's, SES's, an SMTP server's) are
				// in them: on a line of their own, they could read as
				// the lines below.
				logLine(w, slog.LevelError, "  %s", plain(e.Error(), 0))
			}
			for _, h := range de.hints {
				logLine(w, slog.LevelError, "%s", h.line())
			}
		}
		if c, ok := w.(*console); ok {
			c.summary("instances", outcomeCounts(info.Outcomes).total(), "outcomes", info.Outcomes, "not_audited", errored+left,
				"complete", info.Complete, "exit", int(code), "out", out)
		}
	}()
	switch {
	case fatal:
		code = exitFatal
	case info.Interrupted && outcomeCounts(info.Outcomes).total() == 0:
		// A record of nothing renders no reports, only run.json.
		code = exitIncomplete
		logLine(w, slog.LevelWarn, "interrupted before any instance was audited: no reports%s; continue with: %s", exit(exitIncomplete), resume)
	case info.Interrupted:
		code = exitIncomplete
		logLine(w, slog.LevelWarn, "interrupted: the reports are partial%s; continue with: %s", exit(exitIncomplete), resume)
	case left > 0 && !info.Complete:
		code = exitIncomplete
		what := plural(errored+left, "instance") + sitesToo
		var parts []string
		if errored > 0 {
			parts = append(parts, fmt.Sprintf("%d ended in error", errored))
		}
		parts = append(parts, fmt.Sprintf("%d left for a resumed run", left))
		if errored == 0 {
			parts = []string{"left for a resumed run"}
		}
		again := resumeWith
		if len(causes) > 0 {
			again = "continue once it answers again with"
		}
		logLine(w, slog.LevelWarn, "incomplete: %s could not be audited: %s%s; %s: %s",
			what, strings.Join(parts, ", "), exit(exitIncomplete), again, resume)
	case errored > 0 && errs != nil && errs.departed >= errored && liveSiteFailed:
		// The instances in error are beyond any resume; the
		// account-regions beside them are not.
		code = exitIncomplete
		logLine(w, slog.LevelWarn, "incomplete: %s%s could not be audited%s; %s: %s",
			plural(errored, "instance"), sitesToo, exit(exitIncomplete), resumeWith, resume)
	case errored > 0 && errs != nil && errs.departed >= errored:
		code = exitIncomplete
		logLine(w, slog.LevelWarn, "incomplete: %s%s could not be audited%s; no resumed run can audit an account that has left the organisation",
			plural(errored, "instance"), sitesToo, exit(exitIncomplete))
	case errored > 0:
		code = exitIncomplete
		retry := "retry them with"
		if len(hints) > 0 {
			retry = strings.TrimSuffix(resumeWith, "continue with") + retry
		}
		logLine(w, slog.LevelWarn, "incomplete: %s%s could not be audited%s; %s: %s", plural(errored, "instance"), sitesToo, exit(exitIncomplete), retry, resume)
	case !info.Complete && info.Error != "":
		code = exitIncomplete
		next := ""
		switch {
		case liveSiteFailed:
			// Account-regions not audited (a role refused, a region
			// down): a resumed run audits them.
			next = "; " + resumeWith + ": " + resume
		case slices.ContainsFunc(info.Sites, func(s audit.SiteStats) bool { return s.Error != nil }):
			// Accounts that left the organisation: a resumed run would
			// end the same way.
			next = "; no resumed run can audit an account that has left the organisation"
		}
		logLine(w, slog.LevelWarn, "incomplete: %s%s%s", plain(info.Error, 0), exit(exitIncomplete), next)
	case failOn == nil:
		fmt.Fprintln(w, "the demo fleet fails by design: the reports show how findings look (exit 0)")
	case failOn.Findings(info) > 0:
		code = exitFindings
		fmt.Fprintf(w, "findings: %s at the --fail-on level%s\n", plural(failOn.Findings(info), "finding"), exit(exitFindings))
	default:
		fmt.Fprintf(w, "no findings at the --fail-on level%s\n", exit(exitOK))
	}
	html := filepath.Join(out, report.HTMLFile)
	reports := slices.DeleteFunc(slices.Clone(written), func(p string) bool { return filepath.Base(p) == audit.RunFile })
	var missing []string
	if fatal && len(reports) > 0 {
		// A rendering that failed: its error, below, says why and how
		// to render them again.
		missing = unwritten(out, info)
	}
	switch {
	case len(missing) > 0:
		logLine(w, slog.LevelWarn, "the reports in %s are not all written: no %s", shownPath(out), strings.Join(missing, ", "))
	case slices.Contains(reports, html):
		fmt.Fprintf(w, "open %s\n", shownPath(html))
	case len(reports) > 0:
		fmt.Fprintf(w, "reports in %s\n", shownPath(out))
	}
}

// siteWhere names a site in a line for the terminal: its account and
// region, which may come from a service's answer (ListAccounts,
// DescribeRegions), made plain.
func siteWhere(s audit.SiteStats) string {
	return strings.TrimSpace(plain(s.AccountID, 60) + " " + plain(s.Region, 60))
}

// siteHint says what to change for an account-region that failed from a
// setting, which a resumed run would fail the same way; "" when resuming
// alone may do. caller is the run's own account. The codes tell the
// services apart: STS's are AccessDenied and ValidationError, SSM's
// AccessDeniedException and ValidationException; a region not enabled
// refuses SSM's calls with UnrecognizedClientException, STS's with
// InvalidClientTokenId, and EC2's (the tags of --tag-labels) with
// AuthFailure or OptInRequired.
func siteHint(s audit.SiteStats, caller string, options map[string]any) string {
	account, region := plain(s.AccountID, 60), plain(s.Region, 60)
	switch s.Error.Code {
	case "ValidationError":
		// The role's parameters that the run does not check itself
		// leave the duration, which the role's own maximum bounds.
		return "STS refused the role's session as asked: lower --role-duration to the role's maximum session duration (one hour unless raised in IAM), or raise that maximum"
	case "AccessDenied":
		by := "the run's account"
		if caller != "" {
			by = "account " + plain(caller, 60)
		}
		return fmt.Sprintf("the role could not be assumed in account %s: deploy it there, with a trust policy that lets %s assume it (and the --external-id it asks for, if any)", account, by)
	case "UnauthorizedOperation", "AccessDeniedException":
		// EC2's refusal (SSM's) in one account: the policy of the
		// role's session (or, in the caller's own account, of the run's
		// own credentials) lacks the action, or a service control
		// policy of that account denies it.
		svc, what := "EC2", "the EC2 calls the run makes"
		if s.Error.Code == "AccessDeniedException" {
			svc, what = "SSM", "the SSM calls the run makes"
		}
		for _, a := range [...]struct{ action, what string }{
			{"ec2:DescribeTags", "ec2:DescribeTags (--tag-labels)"},
			{"ec2:DescribeRegions", "ec2:DescribeRegions (--regions all)"},
			{"ssm:DescribeInstanceInformation", "ssm:DescribeInstanceInformation (--discover, --with-instance-info)"},
			{"ssm:ListTagsForResource", "ssm:ListTagsForResource (--tag-labels, for hybrid nodes)"},
			{"ssm:DescribeInstanceAssociationsStatus", "ssm:DescribeInstanceAssociationsStatus (the audit's own call)"},
		} {
			if strings.Contains(s.Error.Message, a.action) {
				what = a.what
				break
			}
		}
		switch {
		case caller != "" && s.AccountID == caller:
			return fmt.Sprintf("%s refused %s to the run's own credentials in account %s: allow it in their policy, or in the service control policy that denies it there", svc, what, account)
		case caller != "" && s.AccountID != "":
			return fmt.Sprintf("%s refused %s to the role's session in account %s: allow it in the role's policy, or in the service control policy that denies it there", svc, what, account)
		}
		// Whose credentials signed is not known: the caller's account
		// could not be learnt, or a merge holds runs of several callers;
		// nor, without an account, where.
		where := ""
		if account != "" {
			where = " in account " + account
		}
		return fmt.Sprintf("%s refused %s to the credentials that signed its calls%s: allow it in their policy, or in the service control policy that denies it there", svc, what, where)
	case "UnrecognizedClientException", "InvalidClientTokenId", "AuthFailure", "OptInRequired":
		if s.Region != audit.AllRegions && s.AccountID != "" {
			// A resume keeps the run's regions and targets: one that
			// must go is left out of a new run, from --regions, or
			// from the list that named it.
			without := "without it in --regions, into another --out (a resume keeps the run's regions)"
			if listed(options, s.Region) {
				switch l := optionStrings(options, "instances"); {
				case len(l) == 0:
					without = "with another --region, into another --out (a resume keeps the run's targets)"
				case len(l) == 1 && l[0] != "-":
					without = fmt.Sprintf("with its rows out of %s, into another --out (a resume keeps the run's targets)", plain(l[0], 300))
				default:
					without = "with its rows out of the list, into another --out (a resume keeps the run's targets)"
				}
			}
			if theirs, its := callerPartition(caller, options), awsconn.RegionPartition(s.Region); theirs != "" && theirs != its {
				// No account of the credentials' partition can enable
				// a region of another.
				return fmt.Sprintf("%s is in partition %s, and the run's credentials are of partition %s, which another partition's regions refuse: audit it in its own run, with credentials of %s; run this one again %s",
					region, its, theirs, its, without)
			}
			return fmt.Sprintf("is %s not enabled in account %s, or misspelt? a region that is not enabled refuses every credential: enable it and continue, or run again %s", region, account, without)
		}
	}
	return ""
}

// callerPartition returns the partition of the credentials of a run of
// options (run.json's) whose caller is its account, when the run tells it:
// a run that reaches other accounts learns its caller from STS in its home
// region, refused with credentials of another partition, and refuses a
// --role-arn of another partition than the caller's. "" when that is not
// known: a run of one account may presume its caller from its record
// without STS's word.
func callerPartition(caller string, options map[string]any) string {
	str := func(key string) string { v, _ := options[key].(string); return v }
	if caller == "" || str("accounts") == "" && str("role_name") == "" && str("role_arn") == "" {
		return ""
	}
	if p := awsconn.ARNPartition(str("role_arn")); p != "" {
		return plain(p, 30)
	}
	if r := str("region"); r != "" && audit.ValidRegion(r) == "" {
		return awsconn.RegionPartition(r)
	}
	return ""
}

// listed reports whether a run of options (run.json's) audits region as a
// region of its targets (a list's rows, or --instance-id's --region), not
// as one of its discovery's.
func listed(options map[string]any, region string) bool {
	if len(optionStrings(options, "instances")) == 0 && len(optionStrings(options, "instance_id")) == 0 {
		return false
	}
	if discover, _ := options["discover"].(bool); discover {
		regions, _ := options["regions"].(string)
		if regions == "" {
			regions, _ = options["region"].(string)
		}
		return regions != "all" && !slices.Contains(splitList(regions), region)
	}
	return true
}

// optionStrings returns the strings of a run's option (run.json's) that
// holds a list of them, as the run kept it or as JSON read it back.
func optionStrings(options map[string]any, key string) []string {
	switch v := options[key].(type) {
	case []string:
		return v
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// plain makes text from outside (the service's error codes and messages, or
// whoever wrote a record) one line fit for a terminal or a log record: as
// a mail header takes it (deliver.OneLine: control characters and spaces
// one space, without the bidi controls the reports drop too, at most max
// characters).
func plain(s string, max int) string {
	return deliver.OneLine(s, max)
}

// shownPath is a path read from a record (a baseline's, as its run.json
// names it) fit for a terminal or a log record: as it is, or quoted as Go
// quotes a string (strconv.Quote) when it holds a control or bidi
// character, so that it is still the path, not text that moves the cursor
// or starts a line.
func shownPath(p string) string {
	for _, r := range p {
		if r == utf8.RuneError || unicode.IsControl(r) || bidi.IsControl(r) {
			return strconv.Quote(p)
		}
	}
	return p
}

// warnUnknownFields warns that ri, the run.json at path, holds fields this
// version does not know (a newer one wrote it), which the run.json it
// writes in its place, or merges it into, leaves out: the newer version
// keeps them.
func warnUnknownFields(stderr io.Writer, path string, ri audit.RunInfo) {
	if len(ri.Unknown) == 0 {
		return
	}
	names := make([]string, 0, 5)
	for _, n := range ri.Unknown[:min(len(ri.Unknown), 5)] {
		names = append(names, plain(n, 40))
	}
	more := ""
	if n := len(ri.Unknown) - len(names); n > 0 {
		more = fmt.Sprintf(" and %d more", n)
	}
	if ri.Version == appVersion() {
		// Not a newer version's: edited by hand, or another program's.
		fmt.Fprintf(stderr, "auditor: warning: %s holds fields the auditor does not write: %s%s; the run.json written from it leaves them out\n",
			shownPath(path), strings.Join(names, ", "), more)
		return
	}
	by := "a newer auditor"
	if ri.Version != "" {
		by = "auditor " + plain(ri.Version, 40)
	}
	fmt.Fprintf(stderr, "auditor: warning: %s was written by %s, with fields this version (%s) does not know: %s%s; the run.json written from it leaves them out: run %s or later to keep them\n",
		shownPath(path), by, plain(appVersion(), 40), strings.Join(names, ", "), more, by)
}

// plainEnds is plain with at most max runes, kept from both ends of s: an
// error's start says what failed, and its end why, after the SDK's own
// words ("operation error SSM: ..., exceeded maximum number of attempts,
// 8, https response error StatusCode: 0, RequestID: , request send failed,
// Post ...: dial tcp ...: socket: too many open files").
func plainEnds(s string, max int) string {
	p := []rune(plain(s, 0))
	if max <= 0 || len(p) <= max {
		return string(p)
	}
	head := max / 2
	return string(p[:head]) + "…" + string(p[len(p)-(max-head):])
}

// plainLines is plain for each line of a message of several lines (an
// error from the service followed by what to do), keeping the breaks.
func plainLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = plain(l, 0)
	}
	return strings.Join(lines, "\n")
}

// outcomeCounts adds a total to the outcome counts of run.json.
type outcomeCounts map[audit.Outcome]int

func (m outcomeCounts) total() int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func (o *runOptions) logf(stderr io.Writer, format string, a ...any) {
	if !o.quiet {
		fmt.Fprintf(stderr, format+"\n", a...)
	}
}

// progress reports on stderr how far the run is. On a terminal it is one
// live line, redrawn four times a second; elsewhere (a file, a cron mail, a
// Kubernetes log) it is a line every 10 seconds, with the outcomes so far.
// Both say the same: instances done of the total and their recent pace,
// the calls, their recent pace and throttled share, how long no answer
// came once that is long, and the time left once it can be told.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	total    int
	n        int
	outcomes map[audit.Outcome]int
	start    time.Time
	stats    func() audit.Stats
	// conc is how many instances of an account-region are audited at
	// once: when no more are left, every one is in flight.
	conc int
	now  func() time.Time
	// base is the stats when the run began (the calls of the steps
	// before), and samples where it stood since, oldest first: the pace
	// is measured against them.
	base    audit.Stats
	samples []progressSample
	// answers is answerSum as seen last, first seen at answerAt (zero:
	// none since the start) with answerCalls calls sent.
	answers     int64
	answerAt    time.Time
	answerCalls int64
	// stopBeat stops the heartbeat that shows it.
	stopBeat func()
}

// logEvery is how often the progress, and a step before it that takes
// long, log a line where stderr is no terminal; a variable for tests.
var logEvery = 10 * time.Second

// progressSample is where the run stood at one moment.
type progressSample struct {
	at                      time.Time
	n                       int
	calls, throttled, pages int64
	answers                 int64
}

const (
	// paceWindow is how far back a pace is measured: recent enough that
	// a stall shows, long enough for a slow run's few instances.
	paceWindow = 30 * time.Second
	// paceKeep is how far back the instances' pace may look for
	// paceInstances done, on a run slower than that.
	paceKeep      = 5 * time.Minute
	paceInstances = 5
	// stallAfter is how long without an answer before the line says so.
	stallAfter = 30 * time.Second
)

func newProgress(w io.Writer, total, conc int, quiet bool, stats func() audit.Stats) *progress {
	p := &progress{w: w, total: total, conc: conc, outcomes: map[audit.Outcome]int{}, start: time.Now(), stats: stats, now: time.Now}
	if stats != nil {
		p.base = stats()
		p.answers = answerSum(p.base, total)
		p.answerCalls = p.base.Calls
	}
	p.stopBeat = heartbeat(w, quiet, p.text)
	return p
}

// answerSum moves whenever an answer comes: an answer of the service's
// own (a page, an error: Stats.Answers), a throttle, or a node that
// discovery lists (or drops), which changes total. Its value means
// nothing; a throttle counts twice in it.
func answerSum(st audit.Stats, total int) int64 {
	return st.Answers + st.Pages + st.Throttled + int64(total)
}

// found adds a target to the total: one that discovery has just listed.
func (p *progress) found() {
	p.mu.Lock()
	p.total++
	p.mu.Unlock()
}

func (p *progress) done(oc audit.Outcome) {
	p.mu.Lock()
	p.n++
	p.outcomes[oc]++
	p.mu.Unlock()
}

// drop takes back a target found that is not the run's after all.
func (p *progress) drop() {
	p.mu.Lock()
	p.total--
	p.mu.Unlock()
}

// audited returns how many instances were audited: the invalid lines that
// --skip-invalid records are not.
func (p *progress) audited() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n - p.outcomes[audit.OutcomeInvalid]
}

// verdicts is how many instances got a verdict, as the reports count the
// audited instances (audit.Outcome.Audited): not an invalid line, an
// error, or an instance SSM does not manage.
func (p *progress) verdicts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for o, c := range p.outcomes {
		if o.Audited() {
			n += c
		}
	}
	return n
}

// answered is how many instances got a verdict: neither an invalid line
// nor an error.
func (p *progress) answered() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n - p.outcomes[audit.OutcomeInvalid] - p.outcomes[audit.OutcomeError]
}

// print logs the progress line, as a heartbeat where stderr is no
// terminal does.
func (p *progress) print() {
	fmt.Fprintln(p.w, p.text(false))
}

// text is the progress now: the live status line of a terminal, or the
// line logged elsewhere, with the outcomes so far.
func (p *progress) text(live bool) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	line := p.line(p.now())
	if live {
		return line
	}
	var keys []string
	for oc, n := range p.outcomes {
		keys = append(keys, fmt.Sprintf("%s %d", oc, n))
	}
	sort.Strings(keys)
	if len(keys) > 0 {
		line += ": " + strings.Join(keys, ", ")
	}
	return "progress: " + line
}

// line is the progress at now, the same on a terminal and in a log; p.mu
// is held.
func (p *progress) line(now time.Time) string {
	st := p.base
	if p.stats != nil {
		st = p.stats()
	}
	cur := progressSample{at: now, n: p.n, calls: st.Calls, throttled: st.Throttled, pages: st.Pages, answers: st.Answers}
	p.remember(cur)
	line := fmt.Sprintf("%s/%s instances", thousands(p.n), thousands(p.total))
	from := p.since(now, paceInstances)
	span := now.Sub(from.at)
	if span > 0 {
		line += " (" + pace(float64(cur.n-from.n)/span.Seconds()) + ")"
	}
	calls := p.since(now, 0)
	if p.stats != nil {
		line += ", " + thousands(int(st.Calls)) + " calls"
		if d := now.Sub(calls.at); d > 0 {
			sent := cur.calls - calls.calls
			line += " (" + pace(float64(sent)/d.Seconds())
			if sent > 0 {
				line += fmt.Sprintf(", %.1f%% throttled", 100*float64(cur.throttled-calls.throttled)/float64(sent))
			}
			line += ")"
		}
		at := p.answerAt
		if at.IsZero() {
			at = p.start
		}
		// Timed out calls and a stopped endpoint look the same as a
		// slow run but for this.
		if quiet := now.Sub(at); quiet >= stallAfter {
			line += fmt.Sprintf(", no answer for %s (%s sent since)", quiet.Round(time.Second), plural(int(cur.calls-p.answerCalls), "call"))
		}
	}
	left := p.total - p.n
	switch {
	case left <= 0:
	case left <= p.conc:
		// Each is paging: the time left is theirs, which the pace of
		// instances done does not tell.
		line += fmt.Sprintf(", %d in flight", left)
		// Paging only when pages came: those waiting for their first
		// call (a slow --rate) are not.
		if d := now.Sub(calls.at).Round(time.Second); p.stats != nil && d > 0 && cur.pages > calls.pages {
			line += fmt.Sprintf(", paging (%s in the last %s)", plural(int(cur.pages-calls.pages), "page"), d)
		}
	case cur.n-from.n >= paceInstances && now.Sub(p.start) >= paceWindow:
		// One or two instances early on would make it jump by minutes.
		rate := float64(cur.n-from.n) / span.Seconds()
		line += ", " + time.Duration(float64(left)/rate*float64(time.Second)).Round(time.Second).String() + " left"
	}
	return line
}

// remember keeps cur for the pace (one sample a second at most, none
// older than paceKeep) and notes when an answer came.
func (p *progress) remember(cur progressSample) {
	if a := answerSum(audit.Stats{Answers: cur.answers, Pages: cur.pages, Throttled: cur.throttled}, p.total); a != p.answers {
		p.answers, p.answerAt, p.answerCalls = a, cur.at, cur.calls
	}
	if len(p.samples) == 0 {
		p.samples = append(p.samples, progressSample{at: p.start, calls: p.base.Calls, throttled: p.base.Throttled, pages: p.base.Pages})
	}
	if cur.at.Sub(p.samples[len(p.samples)-1].at) < time.Second {
		return
	}
	p.samples = append(p.samples, cur)
	i := 0
	for i < len(p.samples)-2 && cur.at.Sub(p.samples[i].at) > paceKeep {
		i++
	}
	p.samples = p.samples[i:]
}

// since is the sample a pace at now is measured from: the last one at
// least paceWindow old (the first, when none is), or an older one still
// until need instances were done since.
func (p *progress) since(now time.Time, need int) progressSample {
	i := len(p.samples) - 1
	for i > 0 && now.Sub(p.samples[i].at) < paceWindow {
		i--
	}
	for i > 0 && p.n-p.samples[i].n < need {
		i--
	}
	return p.samples[i]
}

// pace is a rate per second in two figures at least, a minute's when
// under one a second: a slow run's 0.26/s is not "0/s".
func pace(r float64) string {
	switch {
	case r <= 0:
		return "0/s"
	case r >= 10:
		return fmt.Sprintf("%.0f/s", r)
	case r >= 1:
		return fmt.Sprintf("%.1f/s", r)
	case r*60 >= 10:
		return fmt.Sprintf("%.0f/min", r*60)
	default:
		return fmt.Sprintf("%.2g/min", r*60)
	}
}

// heartbeat shows line(true) as the live status line of a terminal, four
// times a second, or logs line(false) every logEvery elsewhere, until stop
// is called: the audit's progress, and a step before it that may take
// minutes (--with-instance-info at a low rate), say how far they are.
func heartbeat(w io.Writer, quiet bool, line func(live bool) string) (stop func()) {
	if quiet {
		return func() {}
	}
	every := logEvery
	con, ok := w.(*console)
	live := ok && con.terminal()
	if live {
		every = 250 * time.Millisecond
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				if live {
					con.status(line(true))
				} else {
					fmt.Fprintln(w, line(false))
				}
			}
		}
	})
	return func() {
		close(quit)
		wg.Wait()
		if live {
			con.status("")
		}
	}
}

func (p *progress) stop() { p.stopBeat() }

// thousands formats n with commas between groups of three digits.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// throttledPace is what the closing line adds for a throttled run: the
// pace its adaptive limiter ended at, and a hint when more than a tenth
// of the calls were throttled and a setting would take fewer calls: a
// larger page, where some of the instances audited took more than one.
// Shards are no hint: they share one account-region's limit.
func throttledPace(st audit.Stats, rate float64, maxResults, instances int) (suffix, hint string) {
	if st.Throttled == 0 || st.Calls == 0 {
		return "", ""
	}
	if rate == 0 && st.LimiterCutRate > 0 {
		suffix = fmt.Sprintf(", paced at %.1f calls/s", st.LimiterCutRate)
	}
	if share := float64(st.Throttled) / float64(st.Calls); share > 0.1 && maxResults < 50 && st.Pages > int64(instances) {
		hint = fmt.Sprintf("%.0f%% of the calls were throttled: SSM's limit paced the run; --max-results 50 (not %d) reads each instance in fewer calls", 100*share, maxResults)
	}
	return suffix, hint
}
