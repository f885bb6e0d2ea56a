package cli

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/awsconn"
	"github.com/auditor-dev/auditor/deliver"
	"github.com/auditor-dev/auditor/internal/atomicfile"
	"github.com/auditor-dev/auditor/internal/dirlock"
	"github.com/auditor-dev/auditor/internal/nowait"
	"github.com/auditor-dev/auditor/report"
)

// Delivery: the reports, once written, go to S3 (--upload) and by mail
// (--mail-to, or --mail-to-label for each group's own). A delivery that
// fails ends the command with exit 5: the reports are on disk, and
// "auditor mail DIR" sends them again once the mail set-up is fixed.

// The environment variables of the SMTP login: never flags, never in a
// file, never logged.
const (
	envSMTPUser     = "AUDITOR_SMTP_USERNAME"
	envSMTPPassword = "AUDITOR_SMTP_PASSWORD"
)

// When a mail is sent.
const (
	mailAlways   = "always"
	mailFindings = "findings"
	mailChanges  = "changes"
)

// deliveryOptions are the flags of delivery.
type deliveryOptions struct {
	mailTo      listFlag
	mailFrom    string
	mailSubject string
	mailWhen    string
	smtp        string
	smtpCA      string
	mailVia     string
	mailMaxBody int
	mailMaxSize int64
	mailToLabel string
	// undelivered (auditor mail, with mailToLabel) mails only the groups
	// whose mail was due and not delivered (undeliveredTo).
	undelivered bool
	upload      string
	uploadSSE   string
	uploadKMS   string
	uploadOwner string
	uploadACL   string
}

// bind binds the delivery flags, the recipients' as --to (mail) or
// --mail-to (run, report); fresh (run, report: reports just written) binds
// --mail-when and the S3 ones too.
func (d *deliveryOptions) bind(fs *flagSet, to string, fresh bool) {
	d.mailWhen = mailAlways
	d.mailTo.split = true
	fs.Var(&d.mailTo, to, "mail the reports to these addresses (a comma-separated `LIST`, repeatable)")
	fs.StringVar(&d.mailFrom, "mail-from", "", "the sender's address `ADDR` (needed with --"+to+" or --mail-to-label)")
	fs.StringVar(&d.mailSubject, "mail-subject", "", "make the subject from `TEMPLATE`, a text/template over the view model (default: PARTIAL when incomplete, the group of a split's mail, what changed in brief, the headline, the scope)")
	fs.StringVar(&d.smtp, "smtp", "", "send through the SMTP server at `URL`: smtp://host:587 (STARTTLS required), smtps://host:465, plain text only to loopback; login from AUDITOR_SMTP_USERNAME and AUDITOR_SMTP_PASSWORD")
	fs.StringVar(&d.smtpCA, "smtp-ca-bundle", "", "also trust the certificates in this PEM `FILE` when verifying the SMTP server (a relay with an internal CA)")
	fs.StringVar(&d.mailVia, "mail-via", "", "send through `ses` (Amazon SES v2, with the AWS configuration); smtp, the other value, is the default with --smtp")
	fs.IntVar(&d.mailMaxBody, "mail-max-body", report.DefaultMailMaxBody, "at most `BYTES` of the mail's HTML body; longer lists are cut with \"N more in the attached workbook\"")
	fs.Int64Var(&d.mailMaxSize, "mail-max-size", deliver.DefaultMaxSize, "at most `BYTES` of the whole message; attachments that would pass it are left out and the body says where the reports are")
	// mail has no --split-by of its own: it mails the groups the run made.
	groups := "--split-by (or of this `LABEL` itself)"
	if fs.Lookup("split-by") == nil {
		groups = "the run's --split-by (or of this `LABEL` itself, when the run had none)"
	}
	fs.StringVar(&d.mailToLabel, "mail-to-label", "", "mail each group of "+groups+" to the addresses in this label, such as an owner_email column")
	if !fresh {
		fs.BoolVar(&d.undelivered, "undelivered", false, "with --mail-to-label: mail only the groups whose mail a run or report was due to send and did not deliver, or an auditor mail did not send, each to the addresses it did not reach (not one the server may have taken); refused while a mailing of the groups stopped midway is pending")
	}
	if fresh {
		fs.StringVar(&d.mailWhen, "mail-when", mailAlways, "when to mail (`always|findings|changes`): always; findings (a failed association or an incomplete run, whatever --fail-on says); or changes (a failure new or resolved or failing with another error code, an instance come or gone since --baseline)")
		fs.StringVar(&d.upload, "upload", "", "put every output under `s3://BUCKET/PREFIX/` once written; {date} and {time} in it are the run's, as in --out")
		fs.StringVar(&d.uploadSSE, "upload-sse", "", "encrypt the upload server-side with `aws:kms|AES256` (default: as the bucket does)")
		fs.StringVar(&d.uploadKMS, "upload-kms-key", "", "the KMS `KEY` (ID, ARN or alias) of --upload-sse aws:kms (default: the account's AWS-managed key)")
		fs.StringVar(&d.uploadOwner, "upload-bucket-owner", "", "the `ACCOUNT` ID that must own the --upload bucket: S3 refuses the upload if another account owns it (a mistyped or re-created bucket name)")
		fs.StringVar(&d.uploadACL, "upload-acl", "", "the canned `ACL` of each object uploaded, bucket-owner-full-control: what a bucket of another account often requires by policy (needs s3:PutObjectAcl)")
	}
}

// bindDeliveryAWS binds what a command that calls AWS only to deliver
// (report, mail) needs to reach S3 and SES.
func bindDeliveryAWS(fs *flagSet, o *runOptions) {
	fs.StringVar(&o.profile, "profile", "", "use profile `NAME` of the AWS shared config and credentials files, for the delivery's calls to S3 and SES")
	fs.StringVar(&o.region, "region", "", "the `REGION` of SES and of the S3 client (default: AWS_REGION, AWS_DEFAULT_REGION, or the profile's)")
}

// record adds the delivery to run.json's options: where the reports went,
// never a login.
func (d *deliveryOptions) record(m map[string]any) {
	if len(d.mailTo.vals) > 0 {
		m["mail_to"] = strings.Join(d.mailTo.vals, ",")
	}
	if d.mailToLabel != "" {
		m["mail_to_label"] = d.mailToLabel
	}
	if d.mailing() {
		m["mail_via"] = d.via()
		m["mail_when"] = d.mailWhen
	}
	if d.upload != "" {
		m["upload"] = d.upload
	}
}

// maxSize is --mail-max-size as deliver.Message takes it: 0 or less is
// its default.
func (d *deliveryOptions) maxSize() int64 {
	if d.mailMaxSize <= 0 {
		return deliver.DefaultMaxSize
	}
	return d.mailMaxSize
}

// mailing reports whether a mail is asked for.
func (d *deliveryOptions) mailing() bool { return len(d.mailTo.vals) > 0 || d.mailToLabel != "" }

// check checks the delivery flags before anything is asked of AWS, and
// returns every problem.
func (d *deliveryOptions) check(to string) []error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, usagef(format, a...)) }
	notAddress := func(flag, a string) {
		// Why, as an owner's address in a label is refused with its
		// reason: a form that looks valid (ops@1.2.3.4, "ops"@corp.example)
		// needs one to be fixed.
		if _, err := deliver.ParseAddress(a); err != nil {
			bad("--%s %q: not a mail address: %v", flag, a, err)
		}
	}
	for _, a := range d.mailTo.vals {
		notAddress(to, a)
	}
	if d.mailing() {
		if d.mailFrom == "" {
			bad("--mail-from: a mail needs a sender address")
		} else {
			notAddress("mail-from", d.mailFrom)
		}
		switch d.via() {
		case "smtp":
			if d.smtp == "" {
				bad("--%s needs --smtp URL, or --mail-via ses", to)
			} else if err := deliver.ParseSMTP(d.smtp); err != nil {
				bad("--smtp: %v", err)
			}
			if d.smtpCA != "" {
				if _, err := d.smtpTLS(); err != nil {
					bad("--smtp-ca-bundle: %v", err)
				}
			}
		case "ses":
		default:
			bad("--mail-via %q: want smtp or ses%s", d.mailVia, didYouMean(d.mailVia, []string{"smtp", "ses"}))
		}
		if d.mailMaxBody < minMailMaxBody {
			bad("--mail-max-body %d: want at least %d bytes", d.mailMaxBody, minMailMaxBody)
		}
		if d.mailMaxSize < 100_000 {
			bad("--mail-max-size %d: want at least 100000 bytes", d.mailMaxSize)
		}
		if d.mailSubject != "" {
			// Tried as a group's mail's too: a field of the group is
			// only looked at when there is one.
			if _, err := report.MailSubject(d.mailSubject, &report.Model{}, &report.MailGroup{Label: "owner", Value: "alice"}); err != nil {
				bad("--mail-subject: %v", err)
			} else if _, err := report.MailSubject(d.mailSubject, &report.Model{}, nil); err != nil {
				bad("--mail-subject: %v (a mail of a whole run's reports has no .Group: write {{with .Group}}{{.Label}}{{end}})", err)
			}
		}
	}
	switch d.mailWhen {
	case mailAlways, mailFindings, mailChanges:
	default:
		bad("--mail-when %q: want always, findings or changes%s", d.mailWhen, didYouMean(d.mailWhen, []string{mailAlways, mailFindings, mailChanges}))
	}
	if d.upload != "" {
		if _, _, err := deliver.ParseS3URL(d.upload); err != nil {
			bad("--upload: %v", err)
		}
	}
	switch d.uploadSSE {
	case "", deliver.SSES3, deliver.SSEKMS:
	default:
		bad("--upload-sse %q: want %s or %s%s", d.uploadSSE, deliver.SSES3, deliver.SSEKMS, didYouMean(d.uploadSSE, []string{deliver.SSES3, deliver.SSEKMS}))
	}
	if d.uploadKMS != "" && d.uploadSSE != deliver.SSEKMS {
		bad("--upload-kms-key needs --upload-sse %s", deliver.SSEKMS)
	}
	if d.uploadACL != "" && !slices.Contains(deliver.ACLs(), d.uploadACL) {
		bad("--upload-acl %q: want %s (an ACL that shows the reports to more than the bucket's owner is not taken)%s", d.uploadACL, strings.Join(deliver.ACLs(), " or "), didYouMean(d.uploadACL, deliver.ACLs()))
	}
	// Without --upload it is refused with the other upload options
	// (runOptions.unpaired).
	if d.uploadOwner != "" && d.upload != "" {
		if p := audit.ValidAccountID(d.uploadOwner); p != "" {
			bad("--upload-bucket-owner %q: %s", d.uploadOwner, p)
		}
	}
	return errs
}

// smtpTLS is the TLS configuration that verifies the SMTP server: the
// system's roots, and --smtp-ca-bundle's certificates; nil without it.
func (d *deliveryOptions) smtpTLS() (*tls.Config, error) {
	if d.smtpCA == "" {
		return nil, nil
	}
	pemData, err := os.ReadFile(d.smtpCA)
	if err != nil {
		return nil, err
	}
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	if !roots.AppendCertsFromPEM(pemData) {
		return nil, fmt.Errorf("%s: no PEM certificate in it", d.smtpCA)
	}
	return &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}, nil
}

// via is the mail transport: smtp unless SES is asked for.
func (d *deliveryOptions) via() string {
	if d.mailVia == "" {
		return "smtp"
	}
	return d.mailVia
}

// errDelivery ends a command whose reports are written but could not be
// delivered, or whose delivery is not confirmed: exit 5. said is set once
// the summary has printed it.
type errDelivery struct {
	errs []error
	// hints are the commands that deliver again.
	hints []again
	said  bool
}

// again is a command that delivers again what a command did not deliver.
type again struct {
	cmd string
	// maybe is a mail that may have been delivered (maybeDelivered): its
	// command is offered with that warning, for a person to decide.
	maybe bool
	// abort is the command that aborts a multipart upload that S3 did
	// not let the upload abort (deliver.IncompleteUploadError), not one
	// that delivers.
	abort bool
	// why is, for abort, why S3 refused the abort.
	why string
}

// line is how the closing lines offer a.
func (a again) line() string {
	if a.abort {
		return "a multipart upload is left in the bucket (S3 refused its abort: " + a.why + "), its parts billed until it is aborted; abort it with: " + a.cmd
	}
	if a.maybe {
		return "the mail may have been delivered (the server got the whole message and did not answer): only if its recipients did not get it, send it again with: " + a.cmd
	}
	return "once fixed, deliver them with: " + a.cmd
}

// mailFailed adds err, a mail's failure, and cmd, the command that sends
// that mail again.
func (e *errDelivery) mailFailed(err error, cmd string) {
	e.errs = append(e.errs, err)
	e.hints = append(e.hints, again{cmd: cmd, maybe: maybeDelivered(err)})
}

// unconfirmed reports whether every mail that e counts may have been
// delivered: nothing is known to have failed.
func (e *errDelivery) unconfirmed() bool {
	for _, err := range e.errs {
		if !maybeDelivered(err) {
			return false
		}
	}
	return len(e.errs) > 0
}

// what is what happened to the delivery, for the closing lines.
func (e *errDelivery) what() string {
	if e.unconfirmed() {
		return "delivery not confirmed"
	}
	return "delivery failed"
}

func (e *errDelivery) Error() string {
	var lines []string
	for _, err := range e.errs {
		lines = append(lines, err.Error())
	}
	return e.what() + " (the reports are written): " + strings.Join(lines, "; ")
}

// signalledError is a part of a delivery that the signal which cancelled
// the run's context cut short: nothing failed that needs fixing, and it
// is done again as any failed part is, with its command.
type signalledError struct {
	// during names the part: "the upload", "the mail to ADDRESSES".
	during string
	// err is what the cut left (a server's greeting that timed out, a
	// request cancelled), which the message leaves out: it would read as
	// the server's failure.
	err error
}

func (e *signalledError) Error() string { return "interrupted by a signal during " + e.during }
func (e *signalledError) Unwrap() error { return e.err }

// cutShort returns err, the error of the part of a delivery that during
// names, as a *signalledError when ctx, cancelled by a signal, cut it
// short (err wraps ctx's error); any other err as it is. A mail that may
// have been delivered stays as it is, for a person to decide.
func cutShort(ctx context.Context, err error, during string) error {
	if err == nil || ctx.Err() == nil || !errors.Is(err, ctx.Err()) || maybeDelivered(err) {
		return err
	}
	return &signalledError{during: during, err: err}
}

// mailTo names the mail to the addresses to, for cutShort.
func mailTo(to []string) string { return "the mail to " + strings.Join(to, ", ") }

// maybeDelivered reports whether err is a mail whose outcome is unknown:
// the server got the whole message and gave no answer, so it may have
// delivered it (deliver.Error.Unknown).
func maybeDelivered(err error) bool {
	var de *deliver.Error
	var mg *mayHaveGone
	return errors.As(err, &de) && de.Unknown || errors.As(err, &mg)
}

// deliver delivers what a run or report wrote, as the delivery flags say;
// conn reaches S3 and SES. A signal before it skips it: the person who
// pressed Ctrl-C, or the scheduler that stopped the job, wants the command
// to stop. After a whole audit that is a delivery that failed (exit 5, with
// the commands that deliver the reports: nobody got them); after an
// interrupted one, the resume delivers (exit 3).
func (o *runOptions) deliver(ctx context.Context, rs *audit.Records, info audit.RunInfo, written []string, conn func() (*awsconn.Conn, error), stderr io.Writer) error {
	// Only run's own interruption is a resume's to deliver: auditor report
	// delivers what it merged, interrupted inputs or not.
	resumable := info.Interrupted && !o.merging
	d := &o.delivery
	if o.splitFailed && d.mailToLabel != "" {
		// Its groups are not all written: the run's own reports go, as
		// --mail-to and --upload say, and no group's.
		fmt.Fprintf(stderr, "auditor: --mail-to-label %s: no group is mailed: the split by %s failed (below)\n", d.mailToLabel, o.splitBy)
		only := *d
		only.mailToLabel = ""
		d = &only
	}
	if !o.delivers || !d.mailing() && d.upload == "" {
		return nil
	}
	dl := &delivery{
		d:        d,
		out:      o.out,
		written:  written,
		splitBy:  o.splitBy,
		toFlag:   "mail-to",
		conn:     sync.OnceValues(conn),
		awsFlags: o.deliveryAWSFlags(),
		getenv:   o.getenv,
		logf:     func(format string, a ...any) { o.logf(stderr, format, a...) },
		warnf:    func(format string, a ...any) { fmt.Fprintf(stderr, "auditor: warning: "+format+"\n", a...) },
		grace:    o.grace,

		recordRegion: recordRegion(info),
	}
	if ctx.Err() != nil {
		if resumable {
			// The audit stopped too: the resume that finishes it delivers
			// it (exit 3, which a scheduler retries); its partial reports
			// are not for mailing.
			fmt.Fprintf(stderr, "auditor: interrupted: the reports were not delivered; the run that --resume continues delivers them\n")
			return nil
		}
		return dl.skipped(ctx, info, rs, o.base, o.groups)
	}
	ropts := report.Options{StaleAfter: o.staleAfter.report(), HTMLMaxRows: o.htmlMaxRows}
	return dl.deliverRun(ctx, info, rs, o.base, ropts, written, o.groups)
}

// notDelivered tells that the reports of a rendering that failed are not
// delivered: a mail would attach what it left (or nothing) as if whole,
// and an upload put it where the whole reports are looked for. It gives
// the commands that mail them once they are rendered again (auditor mail
// refuses them until then: allWritten), and marks a mail that was due
// undelivered, as a failed one is, so that the next run under --mail-when
// changes is mailed.
func (o *runOptions) notDelivered(info audit.RunInfo, stderr io.Writer) {
	d := &o.delivery
	if !o.delivers || !d.mailing() && d.upload == "" {
		return
	}
	dl := &delivery{d: d, out: o.out, getenv: o.getenv, awsFlags: o.deliveryAWSFlags(), toFlag: "mail-to",
		logf: func(string, ...any) {}, warnf: func(format string, a ...any) { fmt.Fprintf(stderr, "auditor: warning: "+format+"\n", a...) }}
	if d.upload != "" {
		fmt.Fprintf(stderr, "auditor: the reports are not all written: not uploaded to %s; once they are rendered again (below), add --upload to that command\n", d.upload)
	}
	if len(d.mailTo.vals) > 0 {
		// Nobody whom an earlier attempt mailed these reports (from the
		// same record) is named: the command would mail them twice.
		rest, gone := dl.notYet(mailSource{dir: o.out, run: info}, d.mailTo.vals)
		if due, _ := dl.mailDue(info, o.out); !due {
			dl.notDue(true, false)
		} else if len(rest) > 0 {
			dl.premark(o.out, rest)
		}
		if len(rest) > 0 {
			fmt.Fprintf(stderr, "auditor: the reports are not all written: not mailed to %s; once they are rendered again (below), mail them with: %s\n",
				plain(strings.Join(rest, ", "), 0), dl.mailAgain(o.out, rest))
		}
		if gone != nil {
			fmt.Fprintf(stderr, "auditor: %s: %v: only if its recipients did not get it, once the reports are rendered again (below), send it again with: %s\n",
				o.out, gone, dl.mailAgain(o.out, toOf(gone, nil)))
		}
	}
	if d.mailToLabel != "" {
		fmt.Fprintf(stderr, "auditor: the reports are not all written: no group mailed by --mail-to-label %s; once they are rendered again (below), with --split-by, mail them with: %s\n",
			d.mailToLabel, dl.mailAgain(o.out, nil))
	}
}

// skipped is the delivery a signal stopped before it began: each part of
// it that was due failed, with the command that does it, as deliverRun
// would have judged it due (groupsDue). ctx is the cancelled context.
func (dl *delivery) skipped(ctx context.Context, info audit.RunInfo, rs *audit.Records, base *audit.Baseline, groups []report.SplitGroup) error {
	d := dl.d
	de := &errDelivery{}
	if d.upload != "" {
		de.errs = append(de.errs, errors.New("interrupted before the upload"))
		de.hints = append(de.hints, again{cmd: dl.uploadAgain()})
	}
	if d.mailing() {
		due := dl.shouldMail(info)
		if due && len(d.mailTo.vals) > 0 {
			rest, gone := dl.notYet(mailSource{dir: dl.out, run: info}, d.mailTo.vals)
			if len(rest) > 0 {
				de.mailFailed(errors.New("interrupted before the mail"), dl.mailAgain(dl.out, rest))
				dl.markUndelivered(dl.out, rest, true)
			}
			if gone != nil {
				de.mailFailed(gone, dl.mailAgain(dl.out, toOf(gone, nil)))
			}
		}
		groupsDue := dl.groupsDue(due, info, rs, base)
		dl.notDue(!due, !groupsDue)
		if groupsDue {
			nobodys := len(d.mailTo.vals) > 0 && slices.ContainsFunc(groups, func(g report.SplitGroup) bool { return g.Value == "" })
			if d.mailWhen == mailAlways && !nobodys && !dl.groupsMailedBefore(info) {
				// Every group with an address is due: the whole run's
				// command is theirs, without reading each group's record
				// after a signal. (The group of no value, due to
				// --mail-to, is not among them: its own command mails it.
				// Nor are groups an earlier attempt mailed: each of the
				// others gets its own.)
				de.mailFailed(errors.New("interrupted before the mail to each group"), dl.mailAgain(dl.out, nil))
			} else {
				// --mail-when holds some groups back, and auditor mail
				// would not: name those that were due.
				r := dl.mailGroups(ctx, report.Options{}, groupDirs(groups), dl.out)
				de.errs = append(de.errs, r.errs...)
				de.hints = append(de.hints, dl.groupsAgain(r)...)
			}
		}
	}
	if len(de.errs) == 0 {
		return nil
	}
	return de
}

// groupsDue reports whether --mail-to-label's groups are to be looked at,
// each by its own --mail-when (mailGroups): when the run is due, and, under
// --mail-when changes, when a group's mail of the baseline's run was not
// delivered or failing instances were handed over to a group, which makes
// it due whatever the run's changes.
func (dl *delivery) groupsDue(due bool, info audit.RunInfo, rs *audit.Records, base *audit.Baseline) bool {
	if dl.d.mailToLabel == "" {
		return false
	}
	return due || dl.d.mailWhen == mailChanges && (undeliveredBefore(info, dl.out, true) != "" || handedOver(rs, base, dl.splitBy))
}

// deliveryAWSFlags are the flags that reach S3 and SES as this command was
// given them, for a command to deliver again.
func (o *runOptions) deliveryAWSFlags() []string {
	var flags []string
	if o.profile != "" {
		flags = append(flags, "--profile", o.profile)
	}
	if r := cmp.Or(o.region, o.configRegion); r != "" {
		flags = append(flags, "--region", r)
	}
	return flags
}

// sesRegionProblem refuses --mail-via ses without a region to send in
// (region, from --region or the AWS configuration, is ""), before any
// call: SES verifies its senders in one region, which no other setting of
// the run (--regions, the home region) stands for, and SES's client found
// the region missing only at the send, after the whole audit. nil when
// the delivery does not use SES or region names one.
func (d *deliveryOptions) sesRegionProblem(region string) error {
	if !d.mailing() || d.via() != "ses" || region != "" {
		return nil
	}
	return usagef("--mail-via ses needs a region: pass --region or set AWS_REGION")
}

// checkDeliveryAWS is run's checks of the AWS configuration for the
// commands that call AWS only to deliver (report, mail: --upload, --mail-via
// ses): it loads the configuration, which calls nothing, and refuses a
// proxy variable that cannot be read, and with --mail-via ses no region
// (sesRegionProblem), keeping the region it names for the commands that
// deliver again (configRegion). Any other configuration that does not
// load is the delivery's to report, as it was.
func (o *runOptions) checkDeliveryAWS(ctx context.Context) error {
	d := &o.delivery
	ses := d.mailing() && d.via() == "ses"
	if d.upload == "" && !ses {
		return nil
	}
	conn, err := awsconn.Load(ctx, o.awsSettings())
	var ce *awsconn.ConfigError
	if errors.As(err, &ce) && ce.Setting == "proxy" {
		// Told now, not once the reports are rendered.
		return err
	}
	if err != nil || !ses || o.region != "" {
		return nil
	}
	o.configRegion = conn.Region()
	return d.sesRegionProblem(o.configRegion)
}

// delivery is what one delivery needs.
type delivery struct {
	d   *deliveryOptions
	out string
	// written is what the run or report wrote in out, which an upload
	// takes.
	written []string
	// splitBy is the label of the groups that --mail-to-label mails.
	splitBy string
	// toFlag is the flag, without its dashes, of the addresses that every
	// mail goes to in the command in use: "mail-to" (run, report) or "to"
	// (mail).
	toFlag string
	conn   func() (*awsconn.Conn, error) // for S3 and SES
	// awsFlags are --profile and --region as given, for the commands that
	// deliver again.
	awsFlags []string
	// s3Region is the region the upload was sent to last (the bucket's,
	// when S3 named it), for the command that uploads again; "" before
	// the upload, or when nothing named the region it was sent to.
	s3Region string
	// recordRegion is the region of the record delivered (recordRegion),
	// where the upload starts when no region is configured.
	recordRegion string
	getenv       func(string) string
	// logf says what was done (not with --quiet), warnf what was not that
	// someone may have expected.
	logf, warnf func(format string, a ...any)
	// grace is --grace: how long, once a signal came, an SMTP server's
	// answer to a mail sent whole is waited for (smtpGrace).
	grace time.Duration
	// already, while mailGroups mails the groups, gathers those an
	// earlier attempt mailed (notYet), said once they are all seen: one
	// line for thousands of owners, not one each.
	already *[]alreadyMailed
	// undeliveredBases, while mailGroups mails the groups, gathers those
	// mailed because their baseline's mail was not delivered (mailDue),
	// each with that baseline in to, said on one line when many.
	undeliveredBases *[]alreadyMailed
	// sent is what the delivery knows of the sentFile of each run's
	// directory it looked at, by that directory (sentOf).
	sent map[string]*sentJournal
	// leftOutSaid is whether a mail's attachments left out to fit were
	// said.
	leftOutSaid bool
}

// deliverRun uploads the run's files and mails its reports, as the flags
// say; info is the finished run, rs its record and base its baseline (or
// nil), written the files written, groups the --split-by groups.
func (dl *delivery) deliverRun(ctx context.Context, info audit.RunInfo, rs *audit.Records, base *audit.Baseline, ropts report.Options, written []string, groups []report.SplitGroup) error {
	d := dl.d
	de := &errDelivery{}
	reportsAt := dl.out
	if d.upload != "" {
		at, err := dl.uploadAll(ctx, written)
		if err != nil {
			de.errs = append(de.errs, cutShort(ctx, err, "the upload"))
			de.hints = append(de.hints, again{cmd: dl.uploadAgain()})
			if ie := (*deliver.IncompleteUploadError)(nil); errors.As(err, &ie) {
				code, msg := audit.Classify(ie.Err)
				de.hints = append(de.hints, again{cmd: dl.abortAgain(ie), abort: true, why: plain(code+": "+msg, 200)})
			}
		} else {
			reportsAt = at
		}
	}
	if d.mailing() {
		due := dl.shouldMail(info)
		if due && len(d.mailTo.vals) > 0 {
			if err := dl.mailDir(ctx, ropts, mailSource{dir: dl.out, rs: rs, run: info, base: base}, d.mailTo.vals, reportsAt); err != nil {
				de.mailFailed(cutShort(ctx, err, mailTo(d.mailTo.vals)), dl.mailAgain(dl.out, toOf(err, d.mailTo.vals)))
			}
		}
		groupsDue := dl.groupsDue(due, info, rs, base)
		if groupsDue {
			r := dl.mailGroups(ctx, ropts, groupDirs(groups), reportsAt)
			de.errs = append(de.errs, r.errs...)
			de.hints = append(de.hints, dl.groupsAgain(r)...)
		}
		dl.notDue(!due, !groupsDue)
	}
	if len(de.errs) > 0 {
		return de
	}
	return nil
}

// uploadAgain is the AWS CLI command that uploads the output as --upload
// did: with the same encryption, and without the hidden files (the lock,
// the split's marker, the groups' baselines). The AWS CLI joins a filter's
// pattern to the source directory's absolute path and matches it with
// fnmatch, whose * crosses "/": ".*" is a hidden entry at the top, "*/.*"
// one below it.
func (dl *delivery) uploadAgain() string {
	d := dl.d
	dest := d.upload
	if bucket, prefix, err := deliver.ParseS3URL(d.upload); err == nil {
		// The keys the upload used: the AWS CLI takes an S3 path as it
		// is, %40 and all.
		dest = "s3://" + bucket + "/" + prefix
	}
	src, root := dl.out, ""
	// The CLI joins the source's absolute path to each pattern unquoted:
	// a '[' in it made every pattern miss, and every file of the
	// directory go, a '*' let a pattern reach into the user's own
	// directories. A pattern that is an absolute path it takes whole
	// (os.path.join), so such a source is named by that path, which the
	// CLI then takes as it is, and each pattern starts with it, quoted.
	if abs, err := filepath.Abs(dl.out); err == nil && strings.ContainsAny(abs, "[*?") {
		src, root = abs, fnmatchQuote(filepath.ToSlash(abs))+"/"
	}
	var opts []string
	switch d.uploadSSE {
	case deliver.SSEKMS:
		opts = append(opts, "--sse", deliver.SSEKMS)
		if d.uploadKMS != "" {
			opts = append(opts, "--sse-kms-key-id", d.uploadKMS)
		}
	case deliver.SSES3:
		opts = append(opts, "--sse", deliver.SSES3)
	}
	if d.uploadOwner != "" {
		opts = append(opts, "--expected-bucket-owner", d.uploadOwner)
	}
	if d.uploadACL != "" {
		opts = append(opts, "--acl", d.uploadACL)
	}
	opts = append(opts, withRegion(dl.awsFlags, dl.s3Region)...)
	args := []string{"aws", "s3", "cp", "--recursive", src, dest}
	filters := uploadFilters(dl.out, root, dl.written)
	// The top run.json goes last, as the upload sends it, so that a
	// reader that waits for it sees the whole set: in a command of its
	// own, after the rest (the AWS CLI sends a recursive copy's files in
	// no order).
	top := slices.ContainsFunc(dl.written, func(p string) bool {
		rel, err := filepath.Rel(dl.out, p)
		return err == nil && rel == audit.RunFile
	})
	if top {
		filters = append(filters, "--exclude", root+audit.RunFile)
	}
	cmd := shellCommand(slices.Concat(args, filters, opts)...)
	if top {
		last := []string{"aws", "s3", "cp", filepath.Join(dl.out, audit.RunFile), strings.TrimSuffix(dest, "/") + "/" + audit.RunFile}
		cmd += " && " + shellCommand(slices.Concat(last, opts)...)
	}
	return cmd
}

// uploadLocation is where an upload to dest (an --upload URL ending in
// "/") put the reports, as said and mailed: the keys' own prefix, %40 and
// %20 decoded, as the bucket's console lists them; dest as it is when the
// decoded prefix holds what would not print as it is (a control
// character, a run of spaces).
func uploadLocation(dest string) string {
	if bucket, prefix, err := deliver.ParseS3URL(dest); err == nil {
		if loc := "s3://" + bucket + "/" + prefix; deliver.OneLine(loc, 0) == loc {
			return loc
		}
	}
	return dest
}

// abortAgain is the AWS CLI command that aborts the multipart upload
// that ie names, in the region the upload went to.
func (dl *delivery) abortAgain(ie *deliver.IncompleteUploadError) string {
	args := []string{"aws", "s3api", "abort-multipart-upload", "--bucket", ie.Bucket, "--key", ie.Key, "--upload-id", ie.UploadID}
	if dl.d.uploadOwner != "" {
		args = append(args, "--expected-bucket-owner", dl.d.uploadOwner)
	}
	args = append(args, withRegion(dl.awsFlags, dl.s3Region)...)
	return shellCommand(args...)
}

// withRegion returns flags (deliveryAWSFlags) with --region region in
// place of theirs; flags as they are when region is "".
func withRegion(flags []string, region string) []string {
	if region == "" {
		return flags
	}
	var out []string
	for i := 0; i < len(flags); i++ {
		if flags[i] == "--region" {
			i++ // and its value
			continue
		}
		out = append(out, flags[i])
	}
	return append(out, "--region", region)
}

// uploadFilters are the AWS CLI's filters that copy, of out, the files
// written and no other: an --out may hold files of the user's own (notes,
// a key), which the upload left be. A split's directories are taken whole,
// their hidden files (the groups' baselines) left out, as the run's own
// (the lock, the markers) are. Without written, every file but the hidden
// ones. Each pattern starts with root: "" for patterns the CLI takes
// relative to the source, or that source's absolute path, quoted for
// fnmatch, and a "/".
func uploadFilters(out, root string, written []string) []string {
	var inc []string
	for _, p := range written {
		rel, err := filepath.Rel(out, p)
		if err != nil || strings.HasPrefix(rel, "..") {
			continue
		}
		rel = fnmatchQuote(filepath.ToSlash(rel))
		if dir, _, ok := strings.Cut(rel, "/"); ok {
			rel = dir + "/*"
		}
		inc = append(inc, rel)
	}
	hidden := []string{"--exclude", root + ".*", "--exclude", root + "*/.*"}
	if len(inc) == 0 {
		return hidden
	}
	f := []string{"--exclude", root + "*"}
	for _, p := range slices.Compact(slices.Sorted(slices.Values(inc))) {
		f = append(f, "--include", root+p)
	}
	return append(f, hidden...)
}

// fnmatchQuote quotes the characters that the AWS CLI's filters (Python's
// fnmatch) take for patterns.
var fnmatchQuote = strings.NewReplacer("[", "[[]", "*", "[*]", "?", "[?]").Replace

// mailAgain is the command that mails dir's reports again: to the
// recipients, or with to nil to each group by --mail-to-label; every
// argument quoted for a POSIX shell, so that it can be pasted as it is.
func (dl *delivery) mailAgain(dir string, to []string) string {
	d := dl.d
	args := []string{program(), "mail", dir}
	if to != nil {
		args = append(args, "--to", strings.Join(to, ","))
	} else {
		args = append(args, "--mail-to-label", d.mailToLabel)
		if d.undelivered {
			args = append(args, "--undelivered")
		}
	}
	args = append(args, "--mail-from", d.mailFrom)
	if d.via() == "ses" {
		args = append(args, "--mail-via", "ses")
		args = append(args, dl.awsFlags...)
	} else {
		args = append(args, "--smtp", d.smtp)
		if d.smtpCA != "" {
			args = append(args, "--smtp-ca-bundle", d.smtpCA)
		}
	}
	if d.mailSubject != "" {
		args = append(args, "--mail-subject", d.mailSubject)
	}
	if d.mailMaxBody != report.DefaultMailMaxBody {
		args = append(args, "--mail-max-body", strconv.Itoa(d.mailMaxBody))
	}
	// Not the server's SIZE: the command reads it again, and it may be
	// under what --mail-max-size takes.
	if d.mailMaxSize != deliver.DefaultMaxSize {
		args = append(args, "--mail-max-size", strconv.FormatInt(d.mailMaxSize, 10))
	}
	return shellCommand(withoutInputEnv(args, dl.getenv)...)
}

// withoutInputEnv adds --cli-input-json= to args, a command printed for
// the user to run, when getenv (nil: none) has AUDITOR_CLI_INPUT_JSON:
// run where the run was, the variable names the run's file, whose run
// options the command would refuse. What it needs is on its line.
func withoutInputEnv(args []string, getenv func(string) string) []string {
	if getenv != nil && strings.TrimRight(getenv(envName(inputJSONFlag)), "\r\n") != "" {
		return append(args, "--"+inputJSONFlag+"=")
	}
	return args
}

// groupsAgain returns the commands that mail again the groups that were
// due and not mailed (r, from mailGroups), and no other: the whole run's
// by --mail-to-label when that is exactly those groups (none was sent,
// none may have been (maybeDelivered), none held back by --mail-when,
// every record read), else each such group's own, to its own addresses,
// so that no group is mailed twice and none that --mail-when held back is
// mailed (auditor mail has no --mail-when); the group of no value is
// mailed by its own command, to --mail-to's addresses, which the whole
// run's by --mail-to-label would not. The command of a group whose mail
// may have been delivered is marked so. A group whose record could not be
// read has none: its error says why.
func (dl *delivery) groupsAgain(r groupsMailed) []again {
	if len(r.errs) == 0 {
		return nil
	}
	var failed []*groupMailError
	unread := false // a group's record, or another error than a group's mail
	for _, err := range r.errs {
		var ge *groupMailError
		var ug *untriedGroups
		switch {
		case errors.As(err, &ug):
			failed = append(failed, ug.groups...)
		case errors.As(err, &ge):
			failed = append(failed, ge)
		default:
			unread = true
		}
	}
	if r.sent == 0 && r.held == 0 && !unread && !slices.ContainsFunc(failed, func(ge *groupMailError) bool {
		return ge.nobodys || maybeDelivered(ge.err)
	}) {
		return []again{{cmd: dl.mailAgain(dl.out, nil)}}
	}
	var hints []again
	if n := len(failed) - countFunc(failed, func(ge *groupMailError) bool { return maybeDelivered(ge.err) }); n > fewGroups && dl.allUndelivered(failed) {
		// One command for them all, not one each: it mails the groups
		// marked undelivered, each to the addresses it did not reach,
		// and no group mailed, held back, or that may have its mail.
		for _, ge := range failed {
			if maybeDelivered(ge.err) {
				hints = append(hints, again{cmd: dl.mailAgain(ge.dir, ge.to), maybe: true})
			}
		}
		return append(hints, again{cmd: dl.mailUndeliveredAgain()})
	}
	for _, ge := range failed {
		hints = append(hints, again{cmd: dl.mailAgain(ge.dir, ge.to), maybe: maybeDelivered(ge.err)})
	}
	return hints
}

// markOwnersUnmailed marks src, a group of auditor mail --mail-to-label
// whose mail to its owners' addresses to failed or was not tried, unsent
// to those of them no attempt mailed (mailsSent; unsentFile), for auditor
// mail --undelivered to mail them alone, as a run's undelivered groups.
// Not the group of no value, whose addresses are this command's --to.
func (dl *delivery) markOwnersUnmailed(src mailSource, nobodys bool, to []string) {
	if dl.toFlag != "to" || nobodys {
		return
	}
	sent, maybe := dl.earlier(src, to)
	rest := slices.DeleteFunc(slices.Clone(to), func(a string) bool { return inAddresses(sent, a) || inAddresses(maybe, a) })
	if len(rest) > 0 {
		dl.markIn(src.dir, unsentFile, rest, markFailed, true)
	}
}

// countFunc is how many elements of s f holds for.
func countFunc[T any](s []T, f func(T) bool) int {
	n := 0
	for _, v := range s {
		if f(v) {
			n++
		}
	}
	return n
}

// mailUndeliveredAgain is the command that mails every group of the run in
// dl.out whose mail is marked undelivered (auditor mail --undelivered).
func (dl *delivery) mailUndeliveredAgain() string {
	d := *dl.d
	d.undelivered = true
	again := *dl
	again.d = &d
	return again.mailAgain(dl.out, nil)
}

// allUndelivered reports whether each of failed, the groups whose mail
// failed or was not tried, is marked undelivered to its addresses (its
// undeliveredFile), so that auditor mail --undelivered mails each of
// them: a mark that could not be written, or auditor mail's of a group
// not marked before, leaves that group to its own command.
func (dl *delivery) allUndelivered(failed []*groupMailError) bool {
	if statOK(filepath.Join(dl.out, groupsPendingFile)) {
		// auditor mail --undelivered refuses the run then.
		return false
	}
	for _, ge := range failed {
		if maybeDelivered(ge.err) {
			continue
		}
		u, ok := readUndelivered(ge.dir)
		if !ok || slices.ContainsFunc(ge.to, func(a string) bool { return !inAddresses(u.To, a) }) {
			return false
		}
	}
	return true
}

// readUndelivered reads dir's undeliveredFile and unsentFile, the
// addresses of both in one; false when there is neither, or one cannot
// be read.
func readUndelivered(dir string) (undelivered, bool) {
	u, found, err := readMarks(dir)
	return u, found && err == nil
}

// readMarks reads dir's undeliveredFile and unsentFile, the addresses of
// both in one, and whether there was any; err names a mark that is there
// and cannot be read (a FIFO, a directory, not JSON), whose addresses are
// not known, beside those of the other.
func readMarks(dir string) (all undelivered, found bool, err error) {
	for _, name := range []string{undeliveredFile, unsentFile} {
		var u undelivered
		b, rerr := readMark(filepath.Join(dir, name))
		if errors.Is(rerr, fs.ErrNotExist) {
			continue
		}
		found = true
		if rerr == nil {
			rerr = json.Unmarshal(b, &u)
		}
		if rerr != nil {
			err = fmt.Errorf("%s: its mark of what was not delivered cannot be read (%v): the addresses in it are not mailed; mail them with auditor mail %s --to ADDRESSES", dir, rerr, shellQuote(dir))
			continue
		}
		for _, a := range u.To {
			if !inAddresses(all.To, a) {
				all.To = append(all.To, a)
			}
		}
	}
	return all, found, err
}

// undeliveredTo returns the addresses that src's mail was due to and did
// not reach, as its undeliveredFile and unsentFile say (auditor mail
// --undelivered; unread names one that cannot be read),
// but those an earlier attempt mailed (mailsSent: a kill between keeping
// the one and taking off the other), which it takes off the mark, and
// those the server may have taken, sent whole and not answered, which a
// person decides about: gone, as notYet has it, names them.
func (dl *delivery) undeliveredTo(src mailSource) (to []string, gone, unread error) {
	u, _, unread := readMarks(src.dir)
	if len(u.To) == 0 {
		return nil, nil, unread
	}
	sent, maybe := dl.earlier(src, u.To)
	if len(sent) > 0 {
		dl.markUndelivered(src.dir, sent, false)
	}
	if len(maybe) > 0 {
		gone = &partTo{to: maybe, err: &mayHaveGone{to: maybe}}
	}
	return slices.DeleteFunc(slices.Clone(u.To), func(a string) bool { return inAddresses(sent, a) || inAddresses(maybe, a) }), gone, unread
}

// shellCommand joins args into a command line for a POSIX shell: an
// argument of only characters no shell reads specially as it is, any
// other in single quotes (a single quote in it closes them, is escaped with
// a backslash, and opens them again), but one with a character that
// stderr shows escaped (a control character, the line break too, a bidi
// control, a byte that is not UTF-8: see terminalText) in $'...', whose
// escapes bash, zsh, ksh and busybox sh decode (POSIX.1-2024 too; dash
// does not), so that the command shows as itself and pastes as the value.
func shellCommand(args ...string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = shellQuote(a)
	}
	return strings.Join(quoted, " ")
}

func shellQuote(a string) string {
	plain := a != "" && !strings.HasPrefix(a, "=") // zsh expands a leading =
	for _, r := range a {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@%+=:,./_-", r)) {
			plain = false
			break
		}
	}
	if plain {
		return a
	}
	for _, r := range a {
		if !terminalSafe(r) { // a byte that is not UTF-8 too
			return ansiCQuote(a)
		}
	}
	return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
}

// ansiCQuote quotes a as $'...': a backslash and a single quote escaped,
// every byte that is not UTF-8, and each byte of every other character
// that is no terminalSafe one, as \xNN, the rest as it is.
func ansiCQuote(a string) string {
	var b strings.Builder
	b.WriteString("$'")
	for i := 0; i < len(a); {
		r, n := utf8.DecodeRuneInString(a[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, a[i])
		case r == '\\' || r == '\'':
			b.WriteByte('\\')
			b.WriteRune(r)
		case terminalSafe(r):
			b.WriteString(a[i : i+n])
		default:
			// Its UTF-8 bytes: bash reads \u as a character only
			// in a UTF-8 locale.
			for _, c := range []byte(a[i : i+n]) {
				fmt.Fprintf(&b, `\x%02x`, c)
			}
		}
		i += n
	}
	b.WriteByte('\'')
	return b.String()
}

// shouldMail applies --mail-when.
func (dl *delivery) shouldMail(info audit.RunInfo) bool {
	ok, why := dl.mailDue(info, dl.out)
	if !ok {
		dl.logf("%s: no mail", why)
	}
	return ok
}

// mailDue applies --mail-when to a run, or to a group of it (its own
// run.json, in dir): whether it is mailed, and why not. Under changes,
// a run whose baseline's mail was not delivered is mailed.
func (dl *delivery) mailDue(info audit.RunInfo, dir string) (bool, string) {
	switch dl.d.mailWhen {
	case mailFindings:
		if info.Verdict(audit.FailOn{Outcomes: map[audit.Outcome]bool{audit.OutcomeNoncompliant: true}, New: true}) != audit.Clean {
			return true, ""
		}
		return false, "no failed association and a complete run (--mail-when findings)"
	case mailChanges:
		c := info.Changes
		if c == nil {
			return true, "" // no baseline to compare with: everything is news
		}
		for k, n := range c.Counts {
			if k != audit.StillFailing && n > 0 {
				return true, ""
			}
		}
		if c.ErrorCodeChanged > 0 {
			return true, "" // failing still, but otherwise
		}
		if at := undeliveredBefore(info, dir, false); at != "" {
			// Said --quiet or not: a mail with nothing new in it needs
			// its reason in the job's log; for thousands of groups, on
			// one line (mailGroups).
			if dl.undeliveredBases != nil {
				*dl.undeliveredBases = append(*dl.undeliveredBases, alreadyMailed{dir: dir, to: []string{at}})
			} else {
				dl.warnf("%s: %s: due, whatever changed since", dir, baseNotDelivered(at))
			}
			return true, ""
		}
		return false, "no change since the baseline (--mail-when changes)"
	}
	return true, ""
}

// uploadAll puts every written file under --upload, each directory of the
// output under its own prefix, and returns where the reports are. The
// upload starts in uploadRegion and, when S3 answers that the bucket is in
// another (a central bucket of one region, audits of every region), goes
// on in the bucket's, as the AWS CLI does: run has no flag of its own for
// the upload's region.
func (dl *delivery) uploadAll(ctx context.Context, written []string) (string, error) {
	conn, err := dl.conn()
	if err == nil {
		// auditor report and auditor mail come here without run's
		// check of the endpoints before any call.
		err = conn.CheckEndpointsOf("S3")
	}
	if err != nil {
		return "", fmt.Errorf("--upload: %w", err)
	}
	dest := strings.TrimSuffix(dl.d.upload, "/") + "/"
	at := uploadLocation(dest)
	batches := uploadBatches(dl.out, written)
	opts := deliver.UploadOptions{SSE: dl.d.uploadSSE, KMSKeyID: dl.d.uploadKMS, ExpectedBucketOwner: dl.d.uploadOwner, ACL: dl.d.uploadACL}
	put := func(region string) (int, error) {
		client := s3.NewFromConfig(conn.Config(), func(o *s3.Options) {
			o.Region = region
			// A custom endpoint (MinIO, a test's fake) wants path-style
			// addresses; AWS's own takes either.
			o.UsePathStyle = o.BaseEndpoint != nil
			awsconn.GivenEndpointWins(o.BaseEndpoint, &o.EndpointOptions.UseFIPSEndpoint, &o.EndpointOptions.UseDualStackEndpoint)
		})
		n := 0
		for _, b := range batches {
			prefix := dest
			if b.dir != "." {
				prefix += filepath.ToSlash(b.dir) + "/"
			}
			locs, err := deliver.Upload(ctx, client, prefix, b.files, opts)
			n += len(locs)
			if err != nil {
				return n, err
			}
		}
		return n, nil
	}
	first := uploadRegion(conn, dl.recordRegion)
	// Named in the command that uploads again only when something named
	// it: a guess would send that command to the wrong partition.
	dl.s3Region = first
	if first == "" {
		first = noUploadRegion
	}
	n, err := put(first)
	moved := false
	if r := deliver.RedirectRegion(err); r != "" && r != first {
		// Once: S3 names the bucket's region, and a second refusal is
		// told as it is. What went before the refusal (nothing, as S3
		// refuses the first request) is put again.
		bucket, _, _ := deliver.ParseS3URL(dest)
		dl.logf("the bucket %s is in %s: uploading there", bucket, r)
		dl.s3Region, moved = r, true
		n, err = put(r)
	}
	if err != nil {
		if moved {
			return "", fmt.Errorf("--upload (the bucket is in %s, S3 said): %w", dl.s3Region, err)
		}
		return "", fmt.Errorf("--upload: %w", err)
	}
	dl.logf("uploaded %s to %s", plural(n, "file"), at)
	return at, nil
}

// uploadBatch is files of one directory, dir (relative to the output), to
// upload together.
type uploadBatch struct {
	dir   string
	files []string
}

// markerRank orders the files that say a directory is whole, each written
// after the files it describes: the split's index, the summary, run.json
// last. 0 for any other file.
func markerRank(name string) int {
	switch name {
	case report.SplitIndex:
		return 1
	case report.SummaryFile:
		return 2
	case audit.RunFile:
		return 3
	}
	return 0
}

// uploadBatches orders written, the files of the output out, for the
// upload: every other file first, then the markers (markerRank) of each
// directory, the deepest directories' first, so that the output's run.json
// goes last. Written locally last, they were put in the bucket first (in
// sorted order): an upload stopped midway left a run.json that a reader
// takes as the sign that the set is whole, beside reports of another run.
// Files outside out are left out.
func uploadBatches(out string, written []string) []uploadBatch {
	content, markers := map[string][]string{}, map[string][]string{}
	for _, p := range slices.Compact(slices.Sorted(slices.Values(written))) {
		rel, err := filepath.Rel(out, filepath.Dir(p))
		if err != nil || strings.HasPrefix(rel, "..") {
			continue // not of this output
		}
		if markerRank(filepath.Base(p)) > 0 {
			markers[rel] = append(markers[rel], p)
		} else {
			content[rel] = append(content[rel], p)
		}
	}
	var batches []uploadBatch
	for _, dir := range slices.Sorted(maps.Keys(content)) {
		batches = append(batches, uploadBatch{dir, content[dir]})
	}
	depth := func(dir string) int {
		if dir == "." {
			return 0
		}
		return strings.Count(filepath.ToSlash(dir), "/") + 1
	}
	dirs := slices.SortedFunc(maps.Keys(markers), func(a, b string) int {
		return cmp.Or(cmp.Compare(depth(b), depth(a)), cmp.Compare(a, b))
	})
	for _, dir := range dirs {
		files := markers[dir]
		slices.SortFunc(files, func(a, b string) int { return cmp.Compare(markerRank(filepath.Base(a)), markerRank(filepath.Base(b))) })
		batches = append(batches, uploadBatch{dir, files})
	}
	return batches
}

// uploadRegion is the region the upload's first request goes to: that of
// the delivery's calls (--region, AWS_REGION, the profile's), else the
// run's home region (the first of --regions, ...), else the record's
// (recordRegion: auditor report and auditor mail have no home region); ""
// when none of them names one. S3 names the bucket's own region in its
// answer, where the upload goes on (uploadAll).
func uploadRegion(conn *awsconn.Conn, record string) string {
	return cmp.Or(conn.Region(), conn.HomeRegion(), record)
}

// noUploadRegion is where an upload that no region names starts, as the
// AWS CLI's S3 calls without a region do. An S3-compatible store (MinIO)
// takes any region, us-east-1 by default.
const noUploadRegion = "us-east-1"

// recordRegion is the region a record's upload starts in when none is
// configured: S3 refuses credentials of another partition than its
// region's, so the record's partition's region (awsconn.PartitionRegion)
// when the regions of its account-regions are of one, else the first of
// them; with none, --region's as run.json names it (a list whose rows all
// name GovCloud regions, run with AWS_REGION=us-east-1, audited GovCloud
// only); "" when it names neither.
func recordRegion(ri audit.RunInfo) string {
	valid := func(r string) bool { return r != "" && audit.ValidRegion(r) == "" }
	var regions []string
	for _, s := range ri.Sites {
		if valid(s.Region) {
			regions = append(regions, s.Region)
		}
	}
	if r, _ := ri.Options["region"].(string); len(regions) == 0 && valid(r) {
		regions = append(regions, r)
	}
	if len(regions) == 0 {
		return ""
	}
	if a, _ := partitionsApart(regions); a != "" {
		return regions[0]
	}
	return cmp.Or(awsconn.PartitionRegion(awsconn.RegionPartition(regions[0])), regions[0])
}

// mailSource is one directory's reports to mail: the run's output, or a
// group's of --split-by.
type mailSource struct {
	dir  string
	rs   *audit.Records
	run  audit.RunInfo
	base *audit.Baseline // nil without a baseline
	// lost names the baseline the run was compared with when it is no
	// longer there to compare with again.
	lost string
	// notes say why it is mailed, when that is not what changed
	// (report.MailOptions.Notes).
	notes []string
	// group is the group of a split that dir is, which its mail names
	// (report.MailOptions.Group); nil for a run's own directory.
	group *report.MailGroup
}

// openMailSource opens what dir holds: its record, its run.json, and the
// baseline it was compared with (a group's part of it, or the run's own
// record when it is still where it was). The indexes of large records go
// in the spill directory of spillOf, the directory that the command holds
// (inSpill). Close it with close.
func openMailSource(dir, spillOf string) (*mailSource, error) {
	return inSpill(spillOf, func(tmpDir string) (*mailSource, error) { return openMailSourceIn(tmpDir, dir) })
}

// openMailSourceIn is openMailSource with the indexes in tmpDir.
func openMailSourceIn(tmpDir, dir string) (*mailSource, error) {
	run, err := audit.ReadRunInfo(filepath.Join(dir, audit.RunFile))
	if err != nil {
		return nil, err
	}
	rs, err := audit.OpenRecordsIn(tmpDir, filepath.Join(dir, audit.ResultsFile))
	if err != nil {
		return nil, err
	}
	// As the run settled its record: what it lacks, and which shards it
	// covers, are compared as the run compared them.
	rs.Partial, rs.Scope = !run.Whole(), run.Parts
	if run.Changes != nil && run.Changes.Scope != nil {
		// As compared: a split group's run.json has no parts.
		rs.Scope = run.Changes.Scope
	}
	src := &mailSource{dir: dir, rs: rs, run: run}
	src.base, src.lost, err = recordedBaselineOf(tmpDir, dir, run)
	if err != nil {
		rs.Close()
		return nil, err
	}
	return src, nil
}

// recordedBaselineOf opens the baseline that the run in dir (run, its
// run.json) was compared with: a group's part of it, or the run's own
// record when it is still where it was, compared as the run compared it;
// nil without one. lost names it when it is no longer there, and says so
// when the record there now is another run's: the run's own, moved where
// its baseline was (mv latest previous), or one that started at another
// time than the baseline did. Its index goes in tmpDir ("" for TMPDIR).
func recordedBaselineOf(tmpDir, dir string, run audit.RunInfo) (b *audit.Baseline, lost string, err error) {
	c := run.Changes
	if c == nil {
		return nil, "", nil
	}
	var at time.Time
	if c.Since != nil {
		at = *c.Since
	}
	b, err = report.OpenGroupBaselineIn(tmpDir, dir, c.Baseline, at)
	if err == nil && b == nil {
		p := c.BaselineIn(dir)
		if !statOK(p) {
			return nil, p, nil
		}
		if ownRecord(dir, p) {
			return nil, p + " (the record there now is this run's own: moved since?)", nil
		}
		if b, err = audit.OpenBaselineIn(tmpDir, p); b != nil {
			if other := anotherRun(b, run, c); other != "" {
				b.Close()
				return nil, p + " (the record there now is " + other + ")", nil
			}
			b.Path = c.Baseline // named as the run named it
		}
	}
	if err != nil {
		return nil, "", err
	}
	if c.BaselineIncomplete {
		b.Records().Partial = true
	}
	if c.BaselineScope != nil {
		// A group's part of the baseline has no run.json to say it.
		b.Records().Scope = c.BaselineScope
	}
	return b, "", nil
}

// ownRecord reports whether p is the record of the run in dir.
func ownRecord(dir, p string) bool {
	a, err := os.Stat(p)
	if err != nil {
		return false
	}
	b, err := os.Stat(filepath.Join(dir, audit.ResultsFile))
	return err == nil && os.SameFile(a, b)
}

// anotherRun says what b is when it is not the baseline that run was
// compared with (c): run itself, copied, or a run that started at another
// time than c.Since, the baseline's start. "" when it may be the one: a
// start that either does not know is not compared.
func anotherRun(b *audit.Baseline, run audit.RunInfo, c *audit.ChangeInfo) string {
	switch {
	case b.At.IsZero():
		return ""
	case !run.StartedAt.IsZero() && b.At.Equal(run.StartedAt):
		return "this run's own: moved since?"
	case c.Since != nil && !b.At.Equal(*c.Since):
		return fmt.Sprintf("another run, started at %s, not the one compared with, started at %s", b.At.UTC().Format(time.RFC3339), c.Since.UTC().Format(time.RFC3339))
	}
	return ""
}

func (src *mailSource) close() {
	src.rs.Close()
	if src.base != nil {
		src.base.Close()
	}
}

// mailDir mails the reports of one output directory to the recipients.
// A run's or report's own delivery (not auditor mail, which is asked to)
// mails nobody whom an earlier attempt mailed these reports from the same
// record (notYet). The error of a mail to only some of to says which
// (toOf).
func (dl *delivery) mailDir(ctx context.Context, ropts report.Options, src mailSource, to []string, reportsAt string) error {
	rest, gone := dl.notYet(src, to)
	var err error
	if len(rest) > 0 {
		if err = dl.mailDirTo(ctx, ropts, src, rest, reportsAt); err != nil && len(rest) < len(to) {
			err = &partTo{to: rest, err: err}
		}
	}
	if gone == nil {
		return err
	}
	if err == nil {
		return gone
	}
	// Two errors for one directory: the failure takes the command, and
	// this line the one a person may choose to run.
	dl.warnf("%s: %v: only if its recipients did not get it, send it again with: %s", src.dir, gone, dl.mailAgain(src.dir, toOf(gone, nil)))
	return err
}

// notYet returns the addresses of to that no earlier attempt of a run or
// report mailed src's reports to from the same record (mailsSent), saying
// on stderr who had them: a retry of a job killed midway would mail
// everyone again. gone, a *partTo of a *mayHaveGone, names those an
// earlier attempt may have mailed (the server got the whole message and
// did not answer), which are not mailed again either: a person decides.
// auditor mail, which is asked to, mails them all.
func (dl *delivery) notYet(src mailSource, to []string) (rest []string, gone error) {
	if dl.toFlag == "to" {
		return to, nil
	}
	sent, maybe := dl.earlier(src, to)
	if len(sent) > 0 {
		// Said --quiet or not: someone who expects it in the log of this
		// attempt finds why it is not there.
		if dl.already != nil {
			*dl.already = append(*dl.already, alreadyMailed{dir: src.dir, to: sent})
		} else {
			dl.warnf("%s: an earlier attempt of this run already mailed these reports to %s: not sent again (auditor mail sends them again)",
				src.dir, plain(strings.Join(sent, ", "), 0))
		}
		dl.markUndelivered(src.dir, sent, false)
	}
	if len(maybe) > 0 {
		gone = &partTo{to: maybe, err: &mayHaveGone{to: maybe}}
	}
	rest = slices.DeleteFunc(slices.Clone(to), func(a string) bool { return inAddresses(sent, a) || inAddresses(maybe, a) })
	return rest, gone
}

// groupsMailedBefore reports whether an earlier attempt mailed any group
// of the run in dl.out (info, its run.json) from the same record.
func (dl *delivery) groupsMailedBefore(info audit.RunInfo) bool {
	rec, ok := recordOf(dl.out, mailSource{run: info})
	if !ok {
		return false
	}
	j := dl.sentOf(dl.out)
	if !j.of(rec) {
		return false
	}
	for key := range j.Mails {
		if key != "." {
			return true
		}
	}
	return false
}

// mailDirTo mails the reports of src to the recipients, keeping a mail
// that a server took (or may have) in its run's mailsSent.
func (dl *delivery) mailDirTo(ctx context.Context, ropts report.Options, src mailSource, to []string, reportsAt string) error {
	// A run's (or report's) own mail, which was due, is marked before the
	// message goes, and unmarked once the server took it: a process killed
	// in between (the server holding the message, a node drained) leaves
	// the mark, and the next run under --mail-when changes is mailed; else
	// this run's changes would reach nobody. Not auditor mail's: a mail to
	// others leaves the mark as it was, and a killed one that was due
	// leaves the mark it came to take off.
	if dl.toFlag != "to" {
		dl.premark(src.dir, to)
	}
	ropts.Records, ropts.Dir, ropts.Run, ropts.Baseline = src.rs, src.dir, src.run, src.base
	m, err := report.Build(ctx, ropts)
	if err != nil {
		err = fmt.Errorf("mail to %s: %w", strings.Join(to, ", "), err)
	} else {
		notes := slices.Clone(src.notes)
		if dl.d.mailWhen == mailChanges {
			if at := undeliveredBefore(src.run, src.dir, false); at != "" {
				note := fmt.Sprintf("The mail of the run this one is compared with (%s) was not delivered: what changed in that run is in its changes.csv there, and auditor mail sends it; what changed below is since that run.", at)
				if notKnown(at) {
					why := "its record of what it did not deliver cannot be read"
					if filepath.Base(at) == groupsPendingFile {
						why = "its mailing was stopped midway"
					}
					note = fmt.Sprintf("Whether the mail of the run this one is compared with reached you is not known (%s): what changed in that run is in its changes.csv; what changed below is since that run.", why)
				}
				notes = append(notes, plain(note, 0))
			}
		}
		err = dl.send(ctx, m, src, to, reportsAt, notes)
	}
	// Kept before the undelivered mark is taken off: a kill between the
	// two leaves a mail marked both sent and undelivered, which mails
	// the next run under --mail-when changes once more, not this
	// attempt's recipients twice.
	switch {
	case err == nil:
		dl.keepSent(src, to, false)
	case maybeDelivered(err):
		dl.keepSent(src, to, true)
	}
	dl.markUndelivered(src.dir, to, err != nil)
	return err
}

// partTo is the error of a mail that went to only some of the addresses
// it was due to, the others mailed by an earlier attempt: to are those
// the error is about, for the command that mails them.
type partTo struct {
	to  []string
	err error
}

func (e *partTo) Error() string { return e.err.Error() }
func (e *partTo) Unwrap() error { return e.err }

// toOf returns the addresses that err, of a mail to to, is about.
func toOf(err error, to []string) []string {
	var p *partTo
	if errors.As(err, &p) {
		return p.to
	}
	return to
}

// mayHaveGone is a mail that an earlier attempt of the run sent whole and
// got no answer for: it may have been delivered, and a retry does not
// send it again; a person decides (maybeDelivered).
type mayHaveGone struct{ to []string }

func (e *mayHaveGone) Error() string {
	return fmt.Sprintf("mail to %s: an earlier attempt of this run sent it whole and the server did not answer: not sent again", strings.Join(e.to, ", "))
}

// sentFile, in a run's (or report's) directory, keeps the mails of its
// reports that a server took, or got whole without answering, each with
// its addresses, and the record they were made from (mailsSent). A hidden
// file, not uploaded. It is in the run's directory, not each group's: a
// rendering writes every group's directory anew.
//
// It is a journal of one JSON object a line: a note for whoever opens it,
// then an entry (sentEntry) for each mail kept, appended and synced once
// the server answered. Keeping a mail writes one line, however many groups
// the run has: written whole for each mail, the file of 3,000 groups cost
// some 650 MB of writes. Later entries win (mailsSent.add). The previous
// release wrote one indented object (sentEntry.Mails) and rewrote it whole
// for each mail; it is read too, and written anew as a journal at the next
// mail kept. That release, given a journal of any mail, fails to parse it
// and takes it as none: its retry mails again rather than nobody.
const sentFile = ".auditor-mail-sent"

// sentNote is the first line of sentFile, for whoever opens it.
const sentNote = "the mails of this run's reports that a server took (to) or got whole without answering (maybe), one a line, a later line winning: a retry of the run with the same record does not send them again; auditor mail does"

// mailsSent is what sentFile says.
type mailsSent struct {
	// Record is the record the mails were made from: a resume that
	// audited more (a run that --timeout stopped, mailed PARTIAL) appends
	// to it, and its mails are news to everyone again.
	Record sentRecord
	// Mails are by directory, from the run's: "." for its own mail,
	// "by-owner/alice" for a group's.
	Mails map[string]*sentTo
}

// of reports whether ms keeps the mails of the record rec.
func (ms *mailsSent) of(rec sentRecord) bool {
	return ms.Mails != nil && ms.Record.StartedAt.Equal(rec.StartedAt) && ms.Record.Size == rec.Size
}

// add keeps in ms that the mail of the reports of the directory key
// (reports, as reportsOf tells them), made from rec, went to the addresses
// to, or, with maybe, that it may have. A mail of another record than the
// one kept replaces them all, and one of other reports the directory's;
// an address the server took is no longer one it may have.
func (ms *mailsSent) add(rec sentRecord, key, reports string, to []string, maybe bool) {
	if !ms.of(rec) {
		*ms = mailsSent{Record: rec, Mails: map[string]*sentTo{}}
	}
	m := ms.Mails[key]
	if m == nil || m.Reports != reports {
		m = &sentTo{Reports: reports}
		ms.Mails[key] = m
	}
	for _, a := range to {
		a = normAddress(a)
		if maybe {
			if !inAddresses(m.To, a) && !inAddresses(m.Maybe, a) {
				m.Maybe = append(m.Maybe, a)
			}
			continue
		}
		m.Maybe = slices.DeleteFunc(m.Maybe, func(b string) bool { return b == a })
		if !inAddresses(m.To, a) {
			m.To = append(m.To, a)
		}
	}
}

// sentEntry is one line of sentFile: the mail of the reports of the
// directory Dir, made from Record, that the server took for To or may
// have for Maybe. A line with neither Record nor Mails is a note.
type sentEntry struct {
	Note   string      `json:"note,omitempty"`
	Record *sentRecord `json:"record,omitempty"`
	Dir    string      `json:"dir,omitempty"`
	sentTo
	// Mails is the whole of a file of the previous release, with Record
	// and Note: every directory's mail.
	Mails map[string]*sentTo `json:"mails,omitempty"`
}

// sentRecord tells one record from another: the run's start, the same
// in every attempt, and the size of its results.jsonl, which an attempt
// that audits anything appends to.
type sentRecord struct {
	StartedAt time.Time `json:"started_at"`
	Size      int64     `json:"results_size"`
}

// sentTo are the addresses of one directory's mail.
type sentTo struct {
	// Reports tells the reports that were mailed (reportsOf): a group,
	// or a run, rendered again in place from another record or with
	// another --baseline has news, though its run's record is the same.
	Reports string `json:"reports,omitempty"`
	// To are those the server took it for.
	To []string `json:"to,omitempty"`
	// Maybe are those of a mail the server got whole and did not answer.
	Maybe []string `json:"maybe,omitempty"`
}

// sentPlace returns where the mail of dir is kept: its run's directory,
// the sentFile there, and dir's key in it.
func sentPlace(dir string) (runDir, key string) {
	if run, ok := runOfGroup(dir); ok && statOK(filepath.Join(run, audit.RunFile)) {
		rel, err := filepath.Rel(run, dir)
		if err == nil {
			return run, filepath.ToSlash(rel)
		}
	}
	return dir, "."
}

// recordOf is the sentRecord of src, in runDir; false without a record
// there to tell.
func recordOf(runDir string, src mailSource) (sentRecord, bool) {
	st, err := os.Stat(filepath.Join(runDir, audit.ResultsFile))
	if err != nil {
		return sentRecord{}, false
	}
	return sentRecord{StartedAt: src.run.StartedAt.UTC(), Size: st.Size()}, true
}

// reportsOf tells the reports in dir from others (sentTo.Reports): the
// size of its results.jsonl, and a digest of its changes.csv, which a
// --baseline changes where the record's bytes may not (a group without
// failures has no date of one to change). A render of the same record
// and baseline, as a retry's, writes both the same.
func reportsOf(dir string) string {
	var size int64
	if st, err := os.Stat(filepath.Join(dir, audit.ResultsFile)); err == nil {
		size = st.Size()
	}
	h := sha256.New()
	if f, err := nowait.Open(filepath.Join(dir, report.ChangesCSV)); err == nil {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			io.Copy(h, f)
		}
		f.Close()
	}
	return fmt.Sprintf("%d:%x", size, h.Sum(nil)[:16])
}

// sentJournal is what a delivery knows of one run's sentFile: read once,
// then kept in step with what the delivery writes there. The run's lock,
// which a delivery holds for its whole life, keeps others from writing it
// meanwhile.
type sentJournal struct {
	mailsSent
	// appendable: the file is a journal of whole lines, of the record
	// kept, which few later lines overrule; a mail is appended to it.
	// Otherwise (no file, one that cannot be read, the previous
	// release's, a last line cut short, another record) the next mail
	// kept writes it anew.
	appendable bool
	// warned: a mail could not be kept, and the delivery said so; not
	// again for each of thousands of groups.
	warned bool
}

// sentOf returns what dl knows of runDir's sentFile, read at the first
// call for runDir (readSent).
func (dl *delivery) sentOf(runDir string) *sentJournal {
	// One entry for the directory however it was named ("run/", "./run"):
	// two would each miss what the other wrote.
	runDir = filepath.Clean(runDir)
	if j, ok := dl.sent[runDir]; ok {
		return j
	}
	if dl.sent == nil {
		dl.sent = map[string]*sentJournal{}
	}
	j := readSent(runDir)
	dl.sent[runDir] = &j
	return &j
}

// readSent reads runDir's sentFile; no mails when there is none or it
// cannot be read (the mail goes again rather than to nobody). A line that
// does not parse, the last one cut short by a kill as it was appended,
// ends what is read: the lines before it stand.
func readSent(runDir string) sentJournal {
	var j sentJournal
	b, err := readMark(filepath.Join(runDir, sentFile))
	if err != nil {
		return j
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	noted, whole, entries := false, true, 0
	for {
		var e sentEntry
		if err := dec.Decode(&e); err == io.EOF {
			break
		} else if err != nil {
			whole = false
			break
		}
		switch {
		case e.Mails != nil:
			// The previous release's: written anew before anything
			// is appended.
			j.mailsSent = mailsSent{Mails: e.Mails}
			maps.DeleteFunc(j.Mails, func(_ string, m *sentTo) bool { return m == nil })
			if e.Record != nil {
				j.Record = *e.Record
			}
			whole = false
		case e.Record != nil && e.Dir != "":
			j.add(*e.Record, e.Dir, e.Reports, e.To, false)
			j.add(*e.Record, e.Dir, e.Reports, e.Maybe, true)
			entries++
		case e.Record == nil:
			noted = noted || entries == 0
		}
	}
	// Lines that later ones overrule (a mail that may have gone, then
	// went; another record's) are dropped once they are more than the
	// mails kept: a file appended to by retry after retry stays within
	// twice what it keeps.
	j.appendable = noted && whole && len(b) > 0 && b[len(b)-1] == '\n' && entries <= 2*len(j.Mails)+16
	return j
}

// earlier returns the addresses of to that an earlier attempt mailed
// src's reports to, from the same record: sent those the server took,
// maybe those it may have.
func (dl *delivery) earlier(src mailSource, to []string) (sent, maybe []string) {
	runDir, key := sentPlace(src.dir)
	rec, ok := recordOf(runDir, src)
	if !ok {
		return nil, nil
	}
	j := dl.sentOf(runDir)
	m := j.Mails[key]
	if m == nil || !j.of(rec) || m.Reports != reportsOf(src.dir) {
		return nil, nil
	}
	for _, a := range to {
		switch {
		case inAddresses(m.To, a):
			sent = append(sent, a)
		case inAddresses(m.Maybe, a):
			maybe = append(maybe, a)
		}
	}
	return sent, maybe
}

// keepSent keeps in src's run's sentFile that its mail went to the
// addresses to, or, with maybe, that it may have, appending one line to
// it. A mail of another record than the one kept writes it anew.
func (dl *delivery) keepSent(src mailSource, to []string, maybe bool) {
	runDir, key := sentPlace(src.dir)
	rec, ok := recordOf(runDir, src)
	if !ok {
		return
	}
	j := dl.sentOf(runDir)
	if !j.of(rec) {
		j.appendable = false
	}
	e := sentEntry{Record: &rec, Dir: key, sentTo: sentTo{Reports: reportsOf(src.dir)}}
	addrs := make([]string, len(to))
	for i, a := range to {
		addrs[i] = normAddress(a)
	}
	if maybe {
		e.Maybe = addrs
	} else {
		e.To = addrs
	}
	j.add(rec, key, e.Reports, addrs, maybe)
	p := filepath.Join(runDir, sentFile)
	var err error
	if j.appendable {
		err = appendSent(p, e)
	}
	if !j.appendable || err != nil {
		// Written anew, which also takes away what a failed append may
		// have left of its line.
		err = writeSent(p, &j.mailsSent)
	}
	j.appendable = err == nil
	if err != nil && !j.warned {
		j.warned = true
		dl.warnf("%s: a retry of this run cannot learn that this mail went, and would send it again (said once, for every mail of this run it cannot keep): %v", runDir, err)
	}
}

// appendSent appends e to the journal p as one line, synced before the
// next mail is sent. A kill midway leaves the line cut short, which
// readSent stops at, and the next mail kept writes the file anew.
func appendSent(p string, e sentEntry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	// Not opened if it is not a regular file: a FIFO put in its place
	// would hold the open for ever (writeSent replaces it).
	if st, err := os.Lstat(p); err != nil {
		return err
	} else if !st.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", p)
	}
	f, err := atomicfile.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	if _, err = f.Write(append(b, '\n')); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeSent writes the journal p anew with the mails of ms, atomically:
// its note, then a line for each directory, in the order of their keys.
func writeSent(p string, ms *mailsSent) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	if err := enc.Encode(sentEntry{Note: sentNote}); err != nil {
		return err
	}
	for _, key := range slices.Sorted(maps.Keys(ms.Mails)) {
		if err := enc.Encode(sentEntry{Record: &ms.Record, Dir: key, sentTo: *ms.Mails[key]}); err != nil {
			return err
		}
	}
	return atomicfile.WriteFile(p, buf.Bytes())
}

// maxMark bounds what readMark reads: a run's marks of its mail name its
// groups and their addresses. A group's line of sentFile, of one address,
// is some 250 bytes, and the journal is written anew once it holds more
// than twice the lines it needs: 16 MiB keep the mails of over 30,000
// groups. Past it the file is not read: every mail goes again, rather
// than to nobody, and the first one kept writes the file anew.
const maxMark = 16 << 20

// readMark reads a mark of the mail in a run's directory, a small file the
// auditor wrote there: not a FIFO, a device or a directory planted in its
// place (a read of a FIFO waits for ever, the directory's lock held, and
// nobody is mailed), nor more than maxMark bytes. Such a mark is one that
// cannot be read.
func readMark(p string) ([]byte, error) {
	f, err := nowait.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", p)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxMark+1))
	if err == nil && len(b) > maxMark {
		err = fmt.Errorf("%s: more than %d bytes", p, maxMark)
	}
	return b, err
}

// normAddress is an address as the mail reaches it: without a display
// name, in one case.
func normAddress(a string) string {
	if pa, err := deliver.ParseAddress(a); err == nil {
		a = pa.Address
	}
	return strings.ToLower(strings.TrimSpace(a))
}

// inAddresses reports whether list holds a, each as normAddress has it.
func inAddresses(list []string, a string) bool {
	return slices.ContainsFunc(list, func(b string) bool { return normAddress(a) == normAddress(b) })
}

// undeliveredFile marks a directory whose mail was due and was not
// delivered (or not surely): under --mail-when changes, the run that takes
// it for its baseline is mailed whatever changed since (undeliveredBefore),
// or that run's changes would reach nobody. A hidden file, not uploaded;
// removed once its mail goes to each of the addresses it was due to
// (auditor mail, the command printed; not a mail to others).
const undeliveredFile = ".auditor-mail-undelivered"

// unsentFile marks a group whose owners' mail auditor mail --mail-to-label
// failed or did not try (markOwnersUnmailed), as undeliveredFile marks a
// run's, for auditor mail --undelivered to send: not the run's own mail,
// which may not have been due (--mail-when), and so not a mail the run
// compared with it looks for (undeliveredBefore). A mail that goes takes
// it off.
const unsentFile = ".auditor-mail-unsent"

// groupsPendingFile marks a run whose mailing of its groups by
// --mail-to-label began and did not end (see mailGroups).
const groupsPendingFile = ".auditor-mail-groups-pending"

// groupsUnread is groupsPendingFile as mailGroups leaves it when a
// group's record could not be read (groupUnread).
const groupsUnread = "the mail of a group of this run was not tried: its record could not be read: a run compared with it mails every group\n"

// groupsUntried is groupsPendingFile as premarkMail writes it, before the
// groups' mail is tried; mailGroups writes it otherwise once it begins.
const groupsUntried = "the mail of each group of this run is due to be tried: a run compared with it mails every group\n"

// undelivered is the content of undeliveredFile.
type undelivered struct {
	Note string `json:"note"`
	// To are the addresses the mail was due to and did not reach.
	To []string `json:"to"`
	// Untried are those of To marked before their mail was tried
	// (premarkMail): the delivery takes them off when the mail turns out
	// not to be due, which a mail tried and failed never is.
	Untried []string `json:"untried,omitempty"`
}

// markOp is what mark does to the addresses it is given.
type markOp int

const (
	// markFailed: their mail is being tried, or was and did not reach
	// them.
	markFailed markOp = iota
	// markSent: their mail reached them.
	markSent
	// markUntried: their mail is configured and not yet tried (nor known
	// to be due).
	markUntried
	// markNotDue: their mail, marked untried, turned out not to be due.
	markNotDue
)

// markUndelivered marks dir as undelivered to the addresses to, or, once
// a mail to them went, takes them off the mark, and the mark away when
// none is left.
func (dl *delivery) markUndelivered(dir string, to []string, failed bool) {
	if failed && dl.toFlag == "to" {
		// auditor mail: a mail to others that failed is not the run's
		// mail undelivered; one that was due and failed again leaves
		// its mark as it was.
		return
	}
	op := markSent
	if failed {
		op = markFailed
	}
	dl.mark(dir, to, op, true)
}

// premark marks dir undelivered to the addresses to before their mail
// goes (see mailDir). A directory this user may not write is said only if
// the mail fails.
func (dl *delivery) premark(dir string, to []string) {
	dl.mark(dir, to, markFailed, false)
}

// premarkMail marks the mail of --out undelivered, to --mail-to and to
// each group of --mail-to-label (groupsPendingFile), before its reports
// and run.json are written, when the command mails: a process killed from
// then until its mail is tried (while it renders, uploads, which goes
// first, or writes the marks of the mail itself) would leave a run.json
// that looks delivered, and the run compared with it under --mail-when
// changes would mail nobody what changed in it. The delivery takes these
// marks back when the mail turns out not to be due (untried), and as each
// mail goes.
func (o *runOptions) premarkMail(stderr io.Writer) {
	d := &o.delivery
	if !o.delivers || !d.mailing() {
		return
	}
	dl := o.marker(stderr)
	if len(d.mailTo.vals) > 0 {
		dl.mark(o.out, d.mailTo.vals, markUntried, false)
	}
	if d.mailToLabel != "" {
		if p := filepath.Join(o.out, groupsPendingFile); !statOK(p) {
			// One an earlier attempt left is kept as it says.
			_ = atomicfile.WriteFile(p, []byte(groupsUntried))
		}
	}
}

// mailNotDue takes back what premarkMail marked when the command mails
// nothing (a record of nothing).
func (o *runOptions) mailNotDue(stderr io.Writer) {
	d := &o.delivery
	if !o.delivers || !d.mailing() {
		return
	}
	dl := o.marker(stderr)
	dl.notDue(true, true)
}

// marker is a delivery of --out that only marks.
func (o *runOptions) marker(stderr io.Writer) *delivery {
	return &delivery{d: &o.delivery, out: o.out, toFlag: "mail-to", getenv: o.getenv,
		logf: func(string, ...any) {}, warnf: func(format string, a ...any) { fmt.Fprintf(stderr, "auditor: warning: "+format+"\n", a...) }}
}

// notDue takes back premarkMail's marks of the run's own mail (own) and of
// its groups' (groups), which turned out not to be due. A mark an attempt
// wrote once its mail was tried stays.
func (dl *delivery) notDue(own, groups bool) {
	if dl.toFlag == "to" {
		return
	}
	if own && len(dl.d.mailTo.vals) > 0 {
		dl.mark(dl.out, dl.d.mailTo.vals, markNotDue, true)
	}
	if groups && dl.d.mailToLabel != "" {
		p := filepath.Join(dl.out, groupsPendingFile)
		if b, err := readMark(p); err == nil && string(b) == groupsUntried {
			if err := os.Remove(p); err != nil {
				dl.warnf("%s: %v", dl.out, err)
			}
		}
	}
}

// mark changes dir's undeliveredFile as op says for the addresses to,
// saying why when the mark cannot be written if warn is set. A mail that
// went (markSent) takes them off its unsentFile too.
func (dl *delivery) mark(dir string, to []string, op markOp, warn bool) {
	if op == markSent {
		dl.markIn(dir, unsentFile, to, op, warn)
	}
	dl.markIn(dir, undeliveredFile, to, op, warn)
}

// markIn is mark of dir's mark name, undeliveredFile or unsentFile.
func (dl *delivery) markIn(dir, name string, to []string, op markOp, warn bool) {
	p := filepath.Join(dir, name)
	var u undelivered
	b, err := readMark(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if op == markSent || op == markNotDue {
			return
		}
	case err != nil || json.Unmarshal(b, &u) != nil:
		// Who was due is not known: it says already that a mail was
		// not delivered, and no mail takes it away or rewrites it.
		return
	}
	norm, in := normAddress, inAddresses
	drop := func(list []string, which func(string) bool) []string {
		return slices.DeleteFunc(list, func(b string) bool { return which(b) })
	}
	ofTo := func(b string) bool { return in(to, b) }
	switch op {
	case markFailed:
		for _, a := range to {
			if !in(u.To, a) {
				u.To = append(u.To, norm(a))
			}
		}
		u.Untried = drop(u.Untried, ofTo)
	case markUntried:
		for _, a := range to {
			if !in(u.To, a) {
				u.To = append(u.To, norm(a))
				u.Untried = append(u.Untried, norm(a))
			}
		}
	case markSent:
		u.To = drop(u.To, ofTo)
		u.Untried = drop(u.Untried, ofTo)
	case markNotDue:
		untried := slices.Clone(u.Untried)
		gone := func(b string) bool { return in(to, b) && in(untried, b) }
		u.To = drop(u.To, gone)
		u.Untried = drop(u.Untried, gone)
	}
	if len(u.To) == 0 {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			dl.warnf("%s: %v", dir, err)
		}
		return
	}
	u.Note = "the mail of this run was due and was not delivered to these addresses: the next run under --mail-when changes that compares with it is mailed"
	what := "the next run under --mail-when changes cannot learn that this mail was not delivered"
	if name == unsentFile {
		u.Note = "auditor mail's mail of these reports to these addresses failed or was not tried: auditor mail --undelivered sends it; the run compared with this one is not mailed for it"
		what = "auditor mail --undelivered cannot learn that this mail was not sent"
	}
	b, _ = json.MarshalIndent(u, "", "  ")
	if err := atomicfile.WriteFile(p, append(b, '\n')); err != nil && warn {
		dl.warnf("%s: %s: %v", dir, what, err)
	}
}

// handedOver reports whether an instance of cur that fails now had
// another value of the split label in base: an owner handed it over since
// (a group's part of a baseline holds the instances in the group now,
// with their labels then). An instance that fails no association is no
// news to its new owner.
func handedOver(cur *audit.Records, base *audit.Baseline, label string) bool {
	if base == nil || label == "" {
		return false
	}
	failing := map[audit.Key]string{}
	cur.Each(func(r audit.Result) error {
		if slices.ContainsFunc(r.Associations, func(a audit.Association) bool { return a.Status == audit.StatusFailed }) || len(r.CarriedFailing) > 0 {
			failing[r.Key()] = r.Labels[label]
		}
		return nil
	})
	if len(failing) == 0 {
		return false
	}
	found := false
	base.Records().Each(func(r audit.Result) error {
		if v, ok := failing[r.Key()]; ok && v != r.Labels[label] {
			found = true
			return errFound
		}
		return nil
	})
	return found
}

// undeliveredBefore returns the directory of the baseline of the run, or
// of its --split-by group, in dir (info, its run.json) when that
// directory's mail was due and not delivered (undeliveredFile); with
// groups, also when any group of the baseline's was not. "" otherwise.
func undeliveredBefore(info audit.RunInfo, dir string, groups bool) string {
	c := info.Changes
	if c == nil {
		return ""
	}
	// A group's run.json names the baseline as its run's does, from the
	// run's directory.
	runDir, sub := dir, ""
	if run, ok := runOfGroup(dir); ok && statOK(filepath.Join(run, audit.RunFile)) {
		runDir, sub = run, filepath.Join(filepath.Base(filepath.Dir(filepath.Clean(dir))), filepath.Base(dir))
	}
	base := c.BaselineIn(runDir)
	if st, err := os.Stat(base); err != nil {
		return ""
	} else if !st.IsDir() {
		base = filepath.Dir(base)
	}
	at := filepath.Join(base, sub)
	if statOK(filepath.Join(at, undeliveredFile)) {
		return at
	}
	if (sub != "" || groups) && statOK(filepath.Join(base, groupsPendingFile)) {
		// Stopped while it mailed its groups: which were mailed is
		// not known (notKnown).
		return filepath.Join(base, groupsPendingFile)
	}
	if groups && sub == "" {
		if m := groupMarkFiles(base, undeliveredFile); len(m) > 0 {
			return filepath.Dir(m[0])
		}
	}
	// Kept apart while its reports were rendered again (killed midway),
	// or of a group that rendering did not write; not known, taken for
	// undelivered.
	carried, err := readCarriedOnce(base)
	if groups || sub != "" {
		if err != nil {
			return filepath.Join(base, carriedMarksFile)
		}
		if unread := unreadFiles(base); len(unread) > 0 {
			return unread[0]
		}
	}
	if sub != "" {
		// Asked for each of thousands of groups: looked up, not sought.
		if _, ok := carried[filepath.ToSlash(sub)+"/"+undeliveredFile]; ok {
			return at
		}
		return ""
	}
	if groups {
		for _, rel := range slices.Sorted(maps.Keys(carried)) {
			if g, name := path.Split(rel); name == undeliveredFile {
				return filepath.Join(base, filepath.FromSlash(strings.TrimSuffix(g, "/")))
			}
		}
	}
	return ""
}

// minMailMaxBody is the least --mail-max-body; smallestMail about the
// least a message takes with a body of that size, its text part and its
// headers: a server's SIZE under it takes no report's mail.
const (
	minMailMaxBody = 10_000
	smallestMail   = 50_000
)

// fitMail sets msg's attachments to those of attach that keep it within
// max bytes, its MaxSize to max, and its bodies to body's for them (body
// names the attachments, and says where the others are); it returns those
// left out. A body that says where the reports are can be longer than one
// that named them attached, so that one more no longer fits: it is fitted
// again until each it names is in, with fitSlack bytes to spare for the
// Date and Message-ID of the message built again to be sent.
func fitMail(msg *deliver.Message, attach []string, max int64, body func(attached []string) (html, text string, err error)) (left []string, err error) {
	const fitSlack = 64
	kept := attach
	for {
		msg.HTML, msg.Text, err = body(kept)
		if err != nil {
			return nil, err
		}
		// Bodies over the limit itself are said of it, not of the room
		// kept for the headers (no attachment is read for this).
		bare := *msg
		bare.Attachments, bare.MaxSize = nil, max
		if _, _, err := bare.Build(); err != nil {
			return nil, err
		}
		msg.Attachments, msg.MaxSize = kept, max-fitSlack
		_, out, err := msg.Build()
		if err != nil {
			return nil, err
		}
		if len(out) == 0 {
			msg.MaxSize = max
			return left, nil
		}
		// out is of kept: each round keeps fewer.
		left = append(left, out...)
		kept = slices.DeleteFunc(slices.Clone(kept), func(a string) bool { return slices.Contains(out, a) })
	}
}

// send mails the Model's report of src, with the workbook and the error
// codes of its directory attached while the message stays under
// --mail-max-size.
func (dl *delivery) send(ctx context.Context, m *report.Model, src mailSource, to []string, reportsAt string, notes []string) error {
	d, dir := dl.d, src.dir
	var attach []string
	for _, name := range []string{report.XLSXFile, report.ErrorCodesCSV} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			attach = append(attach, filepath.Join(dir, name))
		}
	}
	subject, err := report.MailSubject(d.mailSubject, m, src.group)
	if err != nil {
		return err
	}
	msg := deliver.Message{From: d.mailFrom, To: to, Subject: subject}
	names := func(paths []string) []string {
		var out []string
		for _, p := range paths {
			out = append(out, filepath.Base(p))
		}
		return out
	}
	// fit makes msg, with the attachments that keep it under max bytes;
	// the body names those attached, and says where the others are.
	// The reports the body may send the reader to, beside the attached:
	// those its rendering wrote (its --format's).
	written := []string{}
	for _, name := range []string{report.ChangesCSV, report.XLSXFile} {
		if statOK(filepath.Join(dir, name)) {
			written = append(written, name)
		}
	}
	var left []string
	fit := func(max int64) (err error) {
		left, err = fitMail(&msg, attach, max, func(attached []string) (string, string, error) {
			return report.MailBody(m, report.MailOptions{MaxBody: d.mailMaxBody, Attached: names(attached), ReportsAt: reportsAt, Written: written, Notes: notes, Group: src.group})
		})
		return err
	}
	if err := fit(d.mailMaxSize); err != nil {
		return fmt.Errorf("mail to %s: %w", strings.Join(to, ", "), err)
	}
	switch d.via() {
	case "ses":
		conn, cerr := dl.conn()
		if cerr == nil {
			cerr = conn.CheckEndpointsOf("SESv2")
		}
		if cerr != nil {
			return fmt.Errorf("--mail-via ses: %w", cerr)
		}
		err = deliver.SendSESWithin(ctx, sesv2.NewFromConfig(conn.Config(), func(o *sesv2.Options) {
			awsconn.GivenEndpointWins(o.BaseEndpoint, &o.EndpointOptions.UseFIPSEndpoint, &o.EndpointOptions.UseDualStackEndpoint)
		}), msg, smtpGrace(dl.grace))
	default:
		tc, terr := d.smtpTLS()
		if terr != nil {
			return fmt.Errorf("--smtp-ca-bundle: %w", terr)
		}
		smtp := deliver.SMTP{URL: d.smtp, Username: dl.getenv(envSMTPUser), Password: dl.getenv(envSMTPPassword), TLSConfig: tc,
			Grace: smtpGrace(dl.grace)}
		err = smtp.Send(ctx, msg)
		var de *deliver.Error
		if errors.As(err, &de) && de.TooBig() {
			switch {
			case de.MaxSize > 0 && de.MaxSize < d.maxSize():
				// The server's SIZE is under --mail-max-size: fit under
				// it as under --mail-max-size.
				if ferr := fit(de.MaxSize); ferr != nil {
					what := fmt.Sprintf("lower --mail-max-body (now %d)", d.mailMaxBody)
					if de.MaxSize < smallestMail {
						what = "raise the server's message size limit, or mail through another server"
					}
					return fmt.Errorf("mail to %s: the server takes at most %d bytes (its SIZE), and the message is more without its attachments: %s: %w",
						strings.Join(to, ", "), de.MaxSize, what, ferr)
				}
				err = smtp.Send(ctx, msg)
			case de.MaxSize == 0:
				err = fmt.Errorf("%w: the server refused the message as too big: lower --mail-max-size (now %d) under the server's limit", err, d.maxSize())
			}
		}
	}
	if err != nil {
		return fmt.Errorf("mail to %s: %w", strings.Join(to, ", "), err)
	}
	dl.logf("mailed the reports to %s", plain(strings.Join(to, ", "), 0))
	if len(left) > 0 && !dl.leftOutSaid {
		// Said once: thousands of owners' mails may each leave theirs.
		dl.leftOutSaid = true
		others := ""
		if d.mailToLabel != "" {
			others = " (said once: other groups' mails may leave theirs out too)"
		}
		dl.warnf("mail to %s: %s left out: with it the message would pass %d bytes (--mail-max-size, or the server's limit); the mail says where the reports are instead%s",
			plain(strings.Join(to, ", "), 0), strings.Join(names(left), ", "), msg.MaxSize, others)
	}
	return nil
}

// alreadyMailed is a directory whose reports an earlier attempt of the run
// mailed to the addresses to.
type alreadyMailed struct {
	dir string
	to  []string
}

// sayAlready says which of the groups an earlier attempt of the run
// mailed (notYet): each on its own line when they are few, else on one.
func (dl *delivery) sayAlready(already []alreadyMailed) {
	if len(already) <= fewGroups {
		for _, a := range already {
			dl.warnf("%s: an earlier attempt of this run already mailed these reports to %s: not sent again (auditor mail sends them again)",
				a.dir, plain(strings.Join(a.to, ", "), 0))
		}
		return
	}
	var names []string
	for _, a := range already[:min(5, len(already))] {
		names = append(names, filepath.Base(a.dir))
	}
	if n := len(already) - len(names); n > 0 {
		names = append(names, fmt.Sprintf("and %d more", n))
	}
	dl.warnf("an earlier attempt of this run already mailed the reports of %d groups (%s) to their addresses: not sent again (auditor mail sends them again)",
		len(already), strings.Join(names, ", "))
}

// notKnown reports whether at, as undeliveredBefore returned it, says
// that whether the baseline's mail went is not known (its mailing of the
// groups stopped midway, its kept marks unread), not that a directory's
// mail was not delivered.
func notKnown(at string) bool {
	name := filepath.Base(at)
	return name == groupsPendingFile || name == carriedMarksFile || strings.HasPrefix(name, unreadCarriedFile)
}

// baseNotDelivered says why a group is due whatever changed, from at, as
// undeliveredBefore returned it.
func baseNotDelivered(at string) string {
	switch {
	case filepath.Base(at) == groupsPendingFile:
		return fmt.Sprintf("its baseline's mailing of the groups was stopped midway (%s), and which owners were mailed is not known", at)
	case notKnown(at):
		return fmt.Sprintf("the marks of what its baseline's mail did not deliver cannot be read (%s), and which owners were mailed is not known", at)
	}
	return fmt.Sprintf("the mail of its baseline (%s) was not delivered", at)
}

// sayUndeliveredBases says which groups were mailed because the mail of
// their baseline was not delivered, or is not known to have been (its
// marks unread; mailDue): each on its own line when they are few, else on
// one for each of the two reasons.
func (dl *delivery) sayUndeliveredBases(bases []alreadyMailed) {
	unread := slices.DeleteFunc(slices.Clone(bases), func(b alreadyMailed) bool { return !notKnown(b.to[0]) })
	bases = slices.DeleteFunc(bases, func(b alreadyMailed) bool { return notKnown(b.to[0]) })
	for _, some := range [][]alreadyMailed{bases, unread} {
		if len(some) <= fewGroups {
			for _, b := range some {
				dl.warnf("%s: %s: due, whatever changed since", b.dir, baseNotDelivered(b.to[0]))
			}
			continue
		}
		var names []string
		for _, b := range some[:min(5, len(some))] {
			names = append(names, filepath.Base(b.dir))
		}
		if n := len(some) - len(names); n > 0 {
			names = append(names, fmt.Sprintf("and %d more", n))
		}
		why := fmt.Sprintf("the mail of their baseline (as %s) was not delivered", some[0].to[0])
		if notKnown(some[0].to[0]) {
			why = baseNotDelivered(some[0].to[0])
		}
		dl.warnf("%d groups (%s): %s: due, whatever changed since", len(some), strings.Join(names, ", "), why)
	}
}

// groupMailError is a group's mail that failed: its directory and the
// addresses it was for; nobodys when it is the group of no value, whose
// addresses are --mail-to's.
type groupMailError struct {
	dir     string
	to      []string
	nobodys bool
	err     error
}

func (e *groupMailError) Error() string { return filepath.Base(e.dir) + ": " + e.err.Error() }
func (e *groupMailError) Unwrap() error { return e.err }

// groupsMailed is how mailGroups left the groups of a run.
type groupsMailed struct {
	sent int // mailed
	held int // with an address, and not due by --mail-when
	// errs has an error for each group that was due and not mailed (a
	// *groupMailError, or the *untriedGroups of many), or whose record
	// could not be read.
	errs []error
}

// untriedGroups are the groups due and not tried once the mail server
// failed (mailGroups), when they are more than fewGroups: one line for
// all of them, not one each (thousands of owners).
type untriedGroups struct {
	groups []*groupMailError
	cause  error
}

func (e *untriedGroups) Error() string {
	var names []string
	for _, g := range e.groups[:min(len(e.groups), 5)] {
		names = append(names, filepath.Base(g.dir))
	}
	if n := len(e.groups) - len(names); n > 0 {
		names = append(names, fmt.Sprintf("and %d more", n))
	}
	return fmt.Sprintf("%d groups not tried (%s): %v", len(e.groups), strings.Join(names, ", "), e.cause)
}

func (e *untriedGroups) Unwrap() error { return e.cause }

// fewGroups is how many groups the closing lines name one by one, each
// with its own command (groupsAgain); more are told on one line, with one
// command for all.
const fewGroups = 3

// mailGroups mails each group (a directory of --split-by) its own
// reports, to the addresses in --mail-to-label among its instances, when
// --mail-when says it is due. The group of the instances without a value
// of the split label is nobody's: the addresses among them are their own,
// not an owner's (anyone who takes the label off their instance would
// get every unowned instance's report, and a split label that no instance
// has the whole fleet's), so it goes to --mail-to, the run's own
// recipients, or to nobody, with a warning. A failure of the server, or
// ctx cancelled, stops the mailing: the groups after it are due and not
// tried. A failure within one message (no answer to it, its connection
// dropped: deliver.Error.OneMessage) stops it only when the group before
// failed so too (oneMessageFailures in a row), or when such failures are
// oneMessageFailuresInAll: a server that hangs on one message of
// thousands has not failed for the others, and one that hangs on every
// third has.
func (dl *delivery) mailGroups(ctx context.Context, ropts report.Options, dirs []string, reportsAt string) (r groupsMailed) {
	// Said before the first group's mail goes, and unsaid once every
	// group was seen to: a run killed in between has mailed some groups
	// and not others, none of them marked, and the run compared with it
	// mails each group whatever changed (undeliveredBefore).
	pending := filepath.Join(dl.out, groupsPendingFile)
	// unread counts the groups whose record or run.json could not be
	// read: to whom their mail is due is not known, and no mark of
	// theirs can say it.
	unread := 0
	if dl.toFlag != "to" {
		if ctx.Err() == nil {
			_ = atomicfile.WriteFile(pending, []byte("the mail of each group of this run was under way: a run compared with it mails every group\n"))
		}
		// A signal before the first mail too: each group due is marked
		// undelivered (not tried), and the mark premarkMail wrote goes,
		// as auditor mail --undelivered, which the closing lines may
		// offer, refuses a run whose groups are pending.
		defer func() {
			if unread > 0 {
				// Pending still, as for a kill: the run compared with
				// this one mails every group, and --undelivered sends
				// to the command that mails those no attempt mailed.
				if err := atomicfile.WriteFile(pending, []byte(groupsUnread)); err != nil {
					dl.warnf("%s: the run compared with this one cannot learn that a group was not mailed: %v", dl.out, err)
				}
				return
			}
			if err := os.Remove(pending); err != nil && !errors.Is(err, fs.ErrNotExist) {
				dl.warnf("%s: %v", dl.out, err)
			}
		}()
	}
	var down error // what stopped the mailing
	// owners are the addresses the owners' mail of a group reached:
	// taken off the marks kept for splits of other labels, once.
	var owners []string
	defer func() {
		if err := dropCarried(dl.out, owners); err != nil {
			dl.warnf("%s: %v", dl.out, err)
		}
	}()
	var already, bases []alreadyMailed
	dl.already, dl.undeliveredBases = &already, &bases
	defer func() {
		dl.already, dl.undeliveredBases = nil, nil
		dl.sayAlready(already)
		dl.sayUndeliveredBases(bases)
	}()
	var untried []*groupMailError
	defer func() {
		if len(untried) > fewGroups {
			r.errs = append(r.errs, &untriedGroups{groups: untried, cause: down})
			return
		}
		for _, ge := range untried {
			r.errs = append(r.errs, ge)
		}
	}()
	inARow := 0            // groups whose mail failed within the message, one after the other
	inAll := 0             // and in all
	var noAddress []string // groups with no address to mail
	// unmailed: the group of no value of the split label, due to
	// --mail-to, was not mailed for want of one (auditor mail without --to).
	unmailed := false
	if dl.toFlag == "to" {
		// auditor mail of every group (the command a run printed when it
		// did not get to them): once each due was mailed, none is
		// pending, and the run compared with this one mails only what
		// changed.
		defer func() {
			if len(dirs) > 0 && !unmailed && len(r.errs) == 0 && down == nil && ctx.Err() == nil && !dl.d.undelivered {
				if err := os.Remove(pending); err != nil && !errors.Is(err, fs.ErrNotExist) {
					dl.warnf("%s: %v", dl.out, err)
				}
			}
		}()
	}
	// empty are the groups with no instance, now or in the baseline: the
	// groups of accounts that could not be audited (report.Split), whose
	// label is not at fault.
	var empty []string
	// labelled is whether an instance of any group has a value of
	// --mail-to-label; until one has, theirs gathers the labels they have.
	labelled, theirs := false, map[string]bool{}
	defer func() {
		if !labelled && len(dirs) > 0 && unread == 0 {
			// Said by the error (labelUnknown) instead.
			return
		}
		// One warning, whatever --quiet says: a label no group has (a
		// typo in a weekly job's options) would otherwise mail nobody
		// and end in silence.
		if n := len(noAddress); n > 0 {
			names := noAddress
			if n > 5 {
				names = append(names[:5:5], "...")
			}
			have := "have"
			if n == 1 {
				have = "has"
			}
			dl.warnf("%s of --split-by %s %s no address in label %q (%s): not mailed; check --mail-to-label",
				plural(n, "group"), dl.splitBy, have, dl.d.mailToLabel, strings.Join(names, ", "))
		}
		if n := len(empty); n > 0 {
			names, them := empty, "them"
			if n > 5 {
				names = append(names[:5:5], "...")
			}
			if n == 1 {
				them = "it"
			}
			dl.warnf("%s of --split-by %s could not be audited, and no instance gives an address in label %q (%s): not mailed; the run's own reports say why, and a run compared with one that audited %s (--baseline) mails the addresses of then",
				plural(n, "group"), dl.splitBy, dl.d.mailToLabel, strings.Join(names, ", "), them)
		}
	}()
	for _, dir := range dirs {
		if down == nil && ctx.Err() != nil {
			down = errors.New("interrupted")
		}
		src, err := openMailSource(dir, dl.out)
		if err != nil {
			unread++
			r.errs = append(r.errs, dl.groupUnread(dir, err))
			continue
		}
		name := filepath.Base(dir)
		// The group of the instances without a value of the split label,
		// those it holds now or, for a group of the baseline's only, those
		// it held then.
		v, ok := splitValue(src, dl.splitBy)
		nobodys := ok && v == ""
		if ok {
			src.group = &report.MailGroup{Label: dl.splitBy, Value: v}
		}
		if !labelled {
			labelled = dl.labelled(src, theirs)
		}
		var to []string
		refused := 0
		switch {
		case dl.d.undelivered:
			var gone error
			var unread error
			to, gone, unread = dl.undeliveredTo(*src)
			if gone != nil {
				r.errs = append(r.errs, &groupMailError{dir: dir, to: toOf(gone, nil), nobodys: nobodys, err: gone})
			}
			if unread != nil {
				// No command: the addresses are not known.
				r.errs = append(r.errs, unread)
			}
			if len(to) == 0 {
				src.close()
				continue
			}
		case nobodys:
			to = dl.d.mailTo.vals
		default:
			to, refused = dl.groupAddresses(src)
		}
		if len(to) == 0 {
			switch {
			case nobodys:
				unmailed = true
				// Those of the baseline's, for a group of no instance now,
				// as splitValue reads them.
				n := src.rs.Len()
				if n == 0 && src.base != nil {
					n = src.base.Records().Len()
				}
				dl.warnf("%s with no %q value (group %s): not mailed by --mail-to-label, which mails owners; add --%s ADDRESSES to mail them", plural(n, "instance"), dl.splitBy, name, dl.toFlag)
			case refused > 0:
				// It has values, each refused above: "no address" would
				// send its owner looking for a label that is there. A
				// failed delivery, week after week until the list is
				// fixed: no command would mail it sooner.
				r.errs = append(r.errs, fmt.Errorf("%s: not mailed: %s in label %q, and none is a mail address (above); fix it in the list or the tag", name, plural(refused, "value"), dl.d.mailToLabel))
			case down == nil && src.rs.Len() == 0 && (src.base == nil || src.base.Records().Len() == 0):
				empty = append(empty, name)
			case down == nil:
				noAddress = append(noAddress, name)
			}
			src.close()
			continue
		}
		ok, why := dl.mailDue(src.run, dir)
		if !ok && dl.d.mailWhen == mailChanges && handedOver(src.rs, src.base, dl.splitBy) {
			// Compared in its new group, a failure handed over is
			// failing still: its new owner would never be told of it.
			dl.warnf("%s: failing instances handed over to it since the baseline: mailed, whatever changed", name)
			src.notes = append(src.notes, "Failing instances were handed over to you since the run this one is compared with: they are among those still failing below.")
			ok = true
		}
		if !ok {
			// Each owner is mailed on what changed (or fails) in their
			// own instances, not in the whole run's.
			dl.logf("%s: %s: no mail", name, why)
			r.held++
			src.close()
			continue
		}
		if down != nil {
			// Not tried: it would fail as the last did, after its retries
			// and timeouts (minutes, for a server that hangs). Those an
			// earlier attempt mailed are not among them.
			rest, gone := dl.notYet(*src, to)
			if gone != nil {
				r.errs = append(r.errs, &groupMailError{dir: dir, to: toOf(gone, nil), nobodys: nobodys, err: gone})
			}
			if len(rest) > 0 {
				untried = append(untried, &groupMailError{dir: dir, to: rest, nobodys: nobodys, err: fmt.Errorf("not tried: %w", down)})
				dl.markUndelivered(dir, rest, true)
				dl.markOwnersUnmailed(*src, nobodys, rest)
			} else if gone == nil {
				r.sent++
			}
			src.close()
			continue
		}
		at := reportsAt
		if rel, err := filepath.Rel(dl.out, dir); err == nil && at != dl.out {
			at = strings.TrimSuffix(reportsAt, "/") + "/" + filepath.ToSlash(rel) + "/"
		} else if err == nil {
			at = dir
		}
		err = cutShort(ctx, dl.mailDir(ctx, ropts, *src, to, at), mailTo(to))
		if err != nil {
			dl.markOwnersUnmailed(*src, nobodys, toOf(err, to))
		}
		src.close()
		if err != nil {
			r.errs = append(r.errs, &groupMailError{dir: dir, to: toOf(err, to), nobodys: nobodys, err: err})
			var se *signalledError
			// A signal's cut is no server's failure: the next turn
			// finds the run interrupted.
			switch {
			case !serverFailed(err) || errors.As(err, &se):
				// The server answered (a recipient refused): it is up.
				inARow = 0
			case oneMessage(err) && inARow+1 < oneMessageFailures && inAll+1 < oneMessageFailuresInAll:
				inARow++
				inAll++
				dl.warnf("%s: the mail server failed within its message (below): going on with the next group", name)
			default:
				down = fmt.Errorf("the mail server failed for %s", name)
				if maybeDelivered(err) {
					down = fmt.Errorf("the mail server did not answer for %s", name)
				}
				switch {
				case inARow > 0:
					down = fmt.Errorf("%w, and for the group before", down)
				case inAll > 0 && oneMessage(err):
					down = fmt.Errorf("%w, and for %s before", down, plural(inAll, "other group"))
				}
			}
			continue
		}
		inARow = 0
		r.sent++
		if !nobodys {
			owners = append(owners, to...)
		}
	}
	if !labelled && len(dirs) > 0 && unread == 0 {
		// A group that could not be read may have the label.
		r.errs = append(r.errs, &labelUnknown{label: dl.d.mailToLabel, theirs: theirLabels(theirs)})
	}
	if dl.d.undelivered {
		carried, err := readCarried(dl.out)
		if err != nil {
			r.errs = append(r.errs, fmt.Errorf("%w: which owners were not mailed is not known; see what it holds, mail them, then move it away", err))
		}
		if err := unreadCarried(dl.out); err != nil {
			r.errs = append(r.errs, err)
		}
		if len(carried) > 0 {
			r.errs = append(r.errs, fmt.Errorf("the mail of %s was due and not delivered, and %s holds no such group (that split is not written now: its reports were rendered again by another --split-by, or a rendering failed or was stopped; the marks are kept in %s): render that split again, then run this command again",
				carriedGroups(carried), dl.out, carriedMarksFile))
		}
	}
	if dl.d.undelivered && r.sent == 0 && len(r.errs) == 0 && len(untried) == 0 {
		dl.logf("no group's mail is marked undelivered: nothing sent")
	}
	return r
}

// groupUnread is the error of a group whose record or run.json could not
// be read (openMailSource failed: no room for its index, a record cut or
// changed): its mail was not tried, and to whom it was due is not known.
// It says what mails it once the group reads: the run's own command again,
// which left the mailing pending (mailGroups) and mails each group due
// that no attempt mailed; auditor mail, the group alone.
func (dl *delivery) groupUnread(dir string, err error) error {
	next := "once it reads, the command that wrote the reports, run again (auditor run with --resume and the same options, or the same auditor report), mails each group due that no attempt mailed"
	if dl.toFlag == "to" {
		next = fmt.Sprintf("once it reads, mail it: %s mail %s --to ADDRESSES (its owners', in label %s)", program(), shellQuote(dir), shellQuote(dl.d.mailToLabel))
	}
	return fmt.Errorf("%s: not mailed (its record could not be read): %w; %s", dir, err, next)
}

// labelUnknown is a --mail-to-label that no instance has (a typo, or a
// label's name in another case): it mails nobody, a failed delivery.
type labelUnknown struct {
	label  string
	theirs string // theirLabels of those the instances have
}

func (e *labelUnknown) Error() string {
	return fmt.Sprintf("--mail-to-label %s: no instance has the label %q (%s; a label's name is case-sensitive): no group was mailed by it", e.label, e.label, e.theirs)
}

// theirLabels says which labels the instances have, for a message that
// names a label none of them has: "the instances have no labels", or
// "the labels they have: a, b". A name is quoted only when it holds what
// would make the list ambiguous (a space, a comma, a quote).
func theirLabels(have map[string]bool) string {
	if len(have) == 0 {
		return "the instances have no labels"
	}
	var names []string
	for _, k := range slices.Sorted(maps.Keys(have)) {
		if len(names) == 20 {
			names = append(names, "...")
			break
		}
		if k == "" || strings.ContainsAny(k, " ,;()\"\\") || !utf8.ValidString(k) || strings.IndexFunc(k, unicode.IsControl) >= 0 {
			k = fmt.Sprintf("%q", k)
		}
		names = append(names, k)
	}
	return "the labels they have: " + strings.Join(names, ", ")
}

// labelled reports whether an instance of src (or, for a group whose
// instances are all gone since the baseline, of the baseline, as
// groupAddresses reads them) has --mail-to-label, a value or empty; when
// none has, it adds the labels they have to theirs.
func (dl *delivery) labelled(src *mailSource, theirs map[string]bool) bool {
	records := src.rs
	if records.Len() == 0 && src.base != nil {
		records = src.base.Records()
	}
	found := false
	records.Each(func(r audit.Result) error {
		// The label there, even empty: a group of no address is said
		// so, not taken for a typo.
		if _, ok := r.Labels[dl.d.mailToLabel]; ok {
			found = true
			return errFound
		}
		for k := range r.Labels {
			theirs[k] = true
		}
		return nil
	})
	return found
}

// groupDirs returns the directories of the groups of --split-by.
func groupDirs(groups []report.SplitGroup) []string {
	var dirs []string
	for _, g := range groups {
		dirs = append(dirs, g.Dir)
	}
	return dirs
}

// splitValue returns the value of label that the instances of src, a
// group of a split by label, have ("" for the group of no value): those it
// holds now, or for a group of the baseline's only, those it held then.
// ok is false when it holds none.
func splitValue(src *mailSource, label string) (v string, ok bool) {
	records := src.rs
	if records.Len() == 0 && src.base != nil {
		records = src.base.Records()
	}
	records.Each(func(r audit.Result) error {
		v, ok = r.Labels[label], true
		return errFound
	})
	return v, ok
}

// errFound stops a walk through a record at the result it looked for.
var errFound = errors.New("found")

// groupAddresses returns the valid addresses in the --mail-to-label label
// of a group's instances, each once; for a group whose instances are all
// gone since the baseline (its reports say so), those its instances had
// then. A value that is not a bare mail address (deliver.ParseAddrSpec:
// one malformed, or with a format character, which reads as another; a
// tag's value with such a character is written escaped, audit.EscapeLabel,
// and its backslash makes it malformed; one with a display name, quotes,
// an IP literal or a character past ASCII, which a message could not be
// built or sent to as it is) is refused with a warning naming the
// first instance (and list line) that has it, the value escaped; refused
// is how many values were.
func (dl *delivery) groupAddresses(src *mailSource) (to []string, refused int) {
	var seen []string
	collect := func(r audit.Result) error {
		for _, a := range strings.FieldsFunc(r.Labels[dl.d.mailToLabel], func(c rune) bool { return c == ',' || c == ';' || c == ' ' }) {
			addr, err := deliver.ParseAddrSpec(a)
			switch {
			case err != nil && !slices.Contains(seen, a):
				seen = append(seen, a)
				where := r.InstanceID
				if r.Source != "" {
					where = plain(r.Source, 200) + " (" + r.InstanceID + ")"
				}
				why := err.Error()
				if strings.HasPrefix(dl.d.mailToLabel, audit.TagLabelPrefix) && (strings.Contains(a, `\x`) || strings.Contains(a, `\u`) || strings.Contains(a, `\U`)) {
					// The address's own fault ("want name@domain, or ...")
					// would not say that the tag held an unseen character. Only
					// an escape's spelling: a quoted local part's own
					// backslash ("ops\team"@...) has its own reason.
					why = "it holds a backslash, as a tag's value does where a character of it that does not show as itself " +
						`(a zero-width space, a bidi control) was written escaped (\u200b, \u202e): fix the tag`
				}
				dl.warnf("%s: %s %q: not mailed, not a mail address: %s", where, dl.d.mailToLabel, a, why)
			case err == nil && !slices.Contains(to, addr):
				to = append(to, addr)
			}
		}
		return nil
	}
	src.rs.Each(collect)
	if src.rs.Len() == 0 && src.base != nil {
		src.base.Records().Each(collect)
	}
	return to, len(seen)
}

// serverFailed reports whether a mail failed at the server, not at its
// recipients or its content (deliver.Error.ServerFailed): another message
// would fail the same way.
func serverFailed(err error) bool {
	var de *deliver.Error
	return errors.As(err, &de) && de.ServerFailed()
}

// oneMessage reports whether err is a failure of the server within one
// message (deliver.Error.OneMessage).
func oneMessage(err error) bool {
	var de *deliver.Error
	return errors.As(err, &de) && de.OneMessage()
}

// oneMessageFailures is how many groups in a row whose mail failed within
// its message stop the mailing of the rest (mailGroups): two, not one, so
// that a message the server hangs on, or a connection the network drops,
// leaves the other owners mailed; not more, as each costs the server's
// timeout (a minute), and a mail that may have been delivered, for a
// person to decide about.
const oneMessageFailures = 2

// oneMessageFailuresInAll is how many groups whose mail failed within its
// message, in all, stop the mailing of the rest: a server that hangs on
// one message in three would otherwise cost a minute for each of them,
// thousands of owners over, with as many mails for a person to decide
// about.
const oneMessageFailuresInAll = 5

// isDelivery reports whether err is a delivery failure.
func isDelivery(err error) bool {
	var de *errDelivery
	return errors.As(err, &de)
}

// mailCmd mails the reports of a run's output directory again, as they are
// on disk: after the mail set-up is fixed, or to more people. It calls AWS
// only for --mail-via ses. Its exit code is 0, 2 for bad flags or a
// directory without a run, 4 for a run another auditor holds (holdForMail),
// 5 when the mail failed.
func mailCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newCommand("mail", stdout, stderr)
	o := c.o
	pos, err := c.parse(ctx, args, true, stdout)
	if err != nil {
		return err
	}
	d := &o.delivery
	problems := d.check("to")
	if len(pos) != 1 {
		problems = append(problems, usagef("mail: name one directory, the --out of a run or a report (see auditor mail --help)"))
	} else if err := mailDir(pos[0]); err != nil {
		problems = append(problems, err)
	}
	if !d.mailing() {
		problems = append(problems, usagef("mail: no recipient: pass --to ADDRESSES, or --mail-to-label LABEL to mail each group its own"))
	}
	switch {
	case d.undelivered && d.mailToLabel == "":
		problems = append(problems, usagef("--undelivered needs --mail-to-label LABEL: it mails the groups whose mail was not delivered, each to the addresses it did not reach"))
	case d.undelivered && len(d.mailTo.vals) > 0:
		problems = append(problems, usagef("--undelivered mails each group to the addresses its mail did not reach, and takes no --to: mail the run's own reports with --to in a command of its own"))
	}
	if err := o.checkDeliveryAWS(ctx); err != nil {
		problems = append(problems, err)
	}
	if len(problems) > 0 {
		return o.joinProblems(problems)
	}
	dir := pos[0]
	warn := warnOnce(stderr)
	// First: a first run's directory has no run.json until it ends.
	if err := mailInUse(dir, warn); err != nil {
		return err
	}
	for _, name := range []string{audit.RunFile, audit.ResultsFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			if name == audit.ResultsFile {
				// A run stopped before its first result: there is nothing
				// to mail, and its run.json says why.
				ri, err := audit.ReadRunInfo(filepath.Join(dir, audit.RunFile))
				switch {
				case err != nil:
				case ri.Error != "":
					return usagef("mail: %s holds no %s: its run audited nothing, and wrote no report to mail (%s: %s); fix that, then run it again", shownPath(dir), name, audit.RunFile, plain(ri.Error, 300))
				case ri.Interrupted:
					return usagef("mail: %s holds no %s: its run was stopped (a signal or --timeout) before it audited anything, and wrote no report to mail; continue it with --resume, which writes them", shownPath(dir), name)
				}
			}
			return usagef("mail: %s: no %s: name the --out directory of a run or a report", dir, name)
		}
	}
	// Held before anything in it is read, until the mail is sent: a run or
	// a report that began between a read and the lock would have the mail
	// take its figures from one run and its attachments from another.
	release, err := holdForMail(dir, warn)
	if err != nil {
		return err
	}
	defer release()
	src, err := openMailSource(dir, dir)
	if err != nil {
		return recordError("mail", err)
	}
	defer src.close()
	if err := ofOneAttempt(dir, src); err != nil {
		return err
	}
	if len(d.mailTo.vals) > 0 {
		if err := allWritten(dir, dir, src.run, src.rs, o.getenv); err != nil {
			return err
		}
	}
	if src.rs.Len() == 0 && src.run.Rendered == nil && slices.ContainsFunc(src.run.Parts, func(p audit.Part) bool { return p.Shard != "" }) {
		// A shard that had nothing to audit: its reports are the merge's.
		return usagef("mail: %s holds no results (an empty shard's record): mail the merged reports", dir)
	}
	if src.lost != "" {
		fmt.Fprintf(stderr, "auditor: the baseline %s is gone: the mail leaves out what changed since it\n", shownPath(src.lost))
	}
	// The mail lists what the run's own mail listed: its judgement, and
	// its reports' rows.
	ropts := report.Options{StaleAfter: o.staleAfter.report(), HTMLMaxRows: o.htmlMaxRows}
	j := judgementOf(src.run)
	if j.staleAfter != nil {
		ropts.StaleAfter = j.staleAfter.report()
	}
	if j.htmlMaxRows != nil {
		ropts.HTMLMaxRows = *j.htmlMaxRows
	}
	splitBy, _ := renderedOptions(src.run)["split_by"].(string)
	reportsAt := dir
	if v, ok := src.run.Options["upload"].(string); ok && v != "" {
		reportsAt = uploadLocation(strings.TrimSuffix(v, "/") + "/")
		if g := groupOf(dir, splitBy); g != "" {
			// A group's directory: its reports went under its own prefix.
			reportsAt += g + "/"
		}
	}
	dl := &delivery{
		d: d, out: dir, toFlag: "to", getenv: o.getenv, awsFlags: o.deliveryAWSFlags(),
		conn:  sync.OnceValues(func() (*awsconn.Conn, error) { return awsconn.Load(ctx, o.awsSettings()) }),
		logf:  func(format string, a ...any) { o.logf(stderr, format, a...) },
		warnf: func(format string, a ...any) { fmt.Fprintf(stderr, "auditor: warning: "+format+"\n", a...) },
		grace: o.grace,

		recordRegion: recordRegion(src.run),
	}
	if g := groupOf(dir, splitBy); g != "" {
		// One group's directory: its reports must be of its run's
		// rendering, as the split's are (below).
		run := filepath.Dir(filepath.Dir(filepath.Clean(dir)))
		if d.mailToLabel != "" {
			// The label mails the groups of a run, each to its own;
			// a group's directory holds no split of its own.
			return usagef("mail: %s is one group of the split by %s of the run in %s: --mail-to-label mails every group of a run, each to its own addresses (%s); mail this group alone with --to ADDRESSES",
				dir, splitBy, run, dl.mailAgain(run, nil))
		}
		ri, err := audit.ReadRunInfo(filepath.Join(run, audit.RunFile))
		switch {
		case errors.Is(err, audit.ErrNotRegular):
			return usagef("mail: %v (the %s of the run that %s is a group of): put the run's own there, or move it away", err, audit.RunFile, dir)
		case err == nil && !report.SameRendering(ri, src.run):
			return usagef("mail: %s", staleSplit(dir, run, splitBy, src.run, ri, dl.getenv))
		}
		if v, ok := splitValue(src, splitBy); ok {
			src.group = &report.MailGroup{Label: splitBy, Value: v}
		}
	}
	if b, err := readMark(filepath.Join(dir, groupsPendingFile)); d.undelivered && err == nil && string(b) == groupsUnread {
		return usagef("mail: --undelivered: a group of %s could not be read when its mail was due (%s says so; that run's closing lines name the group), and to whom its mail was due is not marked; once it reads, run again the command that wrote the reports (its auditor run --resume, with the same options, or the same auditor report), which mails each group due that no attempt mailed, and no other",
			shownPath(dir), groupsPendingFile)
	}
	if d.undelivered && statOK(filepath.Join(dir, groupsPendingFile)) {
		// Killed as it mailed its groups: only the group in flight is
		// marked, and the groups after it are due as much. No command
		// of every group: it would mail those mailed, and those
		// --mail-when held back.
		return usagef("mail: --undelivered: the mailing of the groups of %s was stopped midway (a kill, a lost node: %s is there), and which groups were due and not mailed is not known from their marks; continue it with the command that was stopped (its auditor run --resume, with the same options, or the same auditor report), which mails each group due that no attempt mailed, and no other",
			shownPath(dir), groupsPendingFile)
	}
	var dirs []string
	var splitErr error
	if d.mailToLabel != "" {
		by := splitBy
		if by == "" {
			by = d.mailToLabel
		}
		dl.splitBy = by
		dirs, err = splitGroupDirs(report.SplitDir(dir, by))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			// Splitting by a label no instance has would fail too: say
			// that, not how to split.
			theirs := map[string]bool{}
			if by == d.mailToLabel && !dl.labelled(src, theirs) {
				splitErr = &labelUnknown{label: by, theirs: theirLabels(theirs)}
				break
			}
			splitErr = fmt.Errorf("--mail-to-label %s: the run in %s was not split by %q (no %s); split it: %s",
				d.mailToLabel, dir, by, report.SplitDir(dir, by), resplit(dir, by, dl.getenv))
		case err != nil:
			splitErr = fmt.Errorf("--mail-to-label %s: %w (the run was not split by %q)", d.mailToLabel, err, by)
		case !statOK(filepath.Join(report.SplitDir(dir, by), report.SplitIndex)):
			// The index is written last: without it the split stopped
			// midway, and its groups are not all there.
			splitErr = fmt.Errorf("--mail-to-label %s: the split by %q in %s has no %s: it stopped before it ended; split it again: %s",
				d.mailToLabel, by, report.SplitDir(dir, by), report.SplitIndex, resplit(dir, by, dl.getenv))
			dirs = nil
		}
		// Refused before anything is sent: every owner would get the
		// figures of another attempt than the record's.
		for _, g := range dirs {
			ri, err := audit.ReadRunInfo(filepath.Join(g, audit.RunFile))
			if errors.Is(err, audit.ErrNotRegular) {
				return usagef("mail: --mail-to-label %s: %v: put the group's own %s there, or move it away (auditor report renders the split again)", d.mailToLabel, err, audit.RunFile)
			}
			if err == nil && !report.SameRendering(src.run, ri) {
				return usagef("mail: --mail-to-label %s: %s", d.mailToLabel, staleSplit(report.SplitDir(dir, by), dir, by, ri, src.run, dl.getenv))
			}
			if err == nil {
				// A group rendered again in place, and failed.
				if err := allWritten(g, dir, ri, nil, o.getenv); err != nil {
					return err
				}
			}
		}
	}
	de := &errDelivery{}
	if len(d.mailTo.vals) > 0 {
		if err := dl.mailDir(ctx, ropts, *src, d.mailTo.vals, reportsAt); err != nil {
			de.mailFailed(cutShort(ctx, err, mailTo(d.mailTo.vals)), dl.mailAgain(dir, d.mailTo.vals))
		}
	}
	if d.mailToLabel != "" {
		if splitErr != nil {
			de.errs = append(de.errs, splitErr)
		}
		r := dl.mailGroups(ctx, ropts, dirs, reportsAt)
		de.errs = append(de.errs, r.errs...)
		de.hints = append(de.hints, dl.groupsAgain(r)...)
	}
	if len(de.errs) > 0 {
		return de
	}
	return nil
}

// mailDir refuses a path that auditor mail cannot take for a run's
// directory, saying what to name instead: a file (its results.jsonl or
// run.json named for the directory that holds them), or nothing there.
// Checked before the lock, which would be looked for inside it.
func mailDir(path string) error {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// Not a directory at all, and maybe a URL given in its place: a
		// password in it is not repeated.
		return usagef("mail: %s: no such directory: name the --out directory of a run or a report", shownPath(shownURL(path)))
	case err != nil:
		return usagef("mail: %v", err)
	case st.IsDir():
		return nil
	}
	parent := filepath.Dir(path)
	if statOK(filepath.Join(parent, audit.RunFile)) || statOK(filepath.Join(parent, audit.ResultsFile)) {
		return usagef("mail: %s is a file: name its directory, %s (the --out of its run or report)", shownPath(path), shownPath(parent))
	}
	return usagef("mail: %s is a file: name the --out directory of a run or a report", shownPath(path))
}

// runOfGroup returns the directory of the run whose --split-by group dir
// may be (RUN/by-LABEL/GROUP), and whether dir has that shape.
func runOfGroup(dir string) (string, bool) {
	parent := filepath.Dir(filepath.Clean(dir))
	return filepath.Dir(parent), strings.HasPrefix(filepath.Base(parent), "by-")
}

// mailInUse returns an error wrapping dirlock.ErrBusy (exit 4, as for a
// run's --out in use) when another auditor holds dir, or, for a group's
// directory of a split (OUT/by-LABEL/GROUP), the run's: a run still
// writing or resuming it would have the mail take its subject from a
// record being written and attach a workbook the finished run replaces.
// The split's index is not asked for: a split being written has none yet.
// Where it cannot tell (a filesystem that takes no locks, where no auditor
// can hold one: a run refuses such an --out), it says so through warn and
// goes on: refused, such a directory could never be mailed, and the mail
// still refuses a run.json that is not of its record (ofOneAttempt).
func mailInUse(dir string, warn func(string)) error {
	dirs := []string{dir}
	if run, ok := runOfGroup(dir); ok {
		dirs = append(dirs, run)
	}
	for _, d := range dirs {
		err := dirlock.Held(d)
		switch {
		case errors.Is(err, dirlock.ErrBusy):
			return fmt.Errorf("mail: %w; wait for it to end, then mail again", err)
		case err != nil:
			warn(fmt.Sprintf("mail: %v; mailing it as it is", err))
		}
	}
	return nil
}

// warnOnce returns what prints a warning on stderr, each one once.
func warnOnce(stderr io.Writer) func(string) {
	seen := map[string]bool{}
	return func(msg string) {
		if !seen[msg] {
			seen[msg] = true
			fmt.Fprintf(stderr, "auditor: warning: %s\n", msg)
		}
	}
}

// ofOneAttempt refuses the mail of a directory whose run.json is not of
// its record: run.json is written last, so that a run or resume killed
// while it rendered leaves the record and the CSVs of its attempt beside
// the run.json, summary and workbook of the attempt before, and a mail
// would take figures from both. A run.json that counts no outcomes (from
// before they were kept) is not compared.
func ofOneAttempt(dir string, src *mailSource) error {
	if len(src.run.Outcomes) == 0 {
		return nil
	}
	have := src.rs.Outcomes()
	for _, oc := range audit.Outcomes() {
		if have[oc] == src.run.Outcomes[oc] {
			continue
		}
		return usagef("mail: %s: its run.json is not of its record (%s: %d in the record, %d in run.json): it was stopped while it wrote its reports, which are of two attempts; end it, then mail: a run's with auditor run --resume on its --out (the same targets and options), auditor report's by running that report again",
			dir, oc, have[oc], src.run.Outcomes[oc])
	}
	return nil
}

// renderedFormats returns the formats that the reports of ri, a run.json,
// were rendered in: its last rendering's --format (renderedOptions), every
// format when none was given (every version records the flag when it is
// given). ok is false when ri records no options at all, or a format this
// version does not know: which reports it should have is not known.
func renderedFormats(ri audit.RunInfo) (formats []report.Format, ok bool) {
	opts := renderedOptions(ri)
	if opts == nil {
		return nil, false
	}
	v, given := opts["format"]
	if !given {
		return report.Formats(), true
	}
	s, _ := v.(string)
	formats, err := report.ParseFormats(s)
	return formats, err == nil
}

// unwritten returns the reports that the rendering which ri, the run.json
// in dir, records should have written there and that are not there
// (report.Missing): it failed (a full disk, a --template failing on the
// record's data) and, as a rendering does, left none of them from an
// earlier one. None when which reports it should have is not known.
func unwritten(dir string, ri audit.RunInfo) []string {
	formats, ok := renderedFormats(ri)
	if !ok {
		return nil
	}
	return report.Missing(dir, formats, ri.Changes != nil)
}

// allWritten refuses the mail of dir (a run's, a report's or a group's
// directory: its record rs, nil to open it only when needed, and its
// run.json ri) when its reports are not all there: its rendering failed,
// and a mail would attach what it left (or nothing) and say nothing of
// the rest. The error names them and the auditor report that renders them
// again. The workbook left out for more label keys than a sheet has
// columns is no failure; a run of nothing stopped by a signal or a fatal
// error renders no report. A record opened here is indexed in the spill
// directory of spillOf, the directory the command holds (inSpill).
func allWritten(dir, spillOf string, ri audit.RunInfo, rs *audit.Records, getenv func(string) string) error {
	missing := unwritten(dir, ri)
	if len(missing) == 0 {
		return nil
	}
	if rs == nil {
		var err error
		if rs, err = openRecords(spillOf, filepath.Join(dir, audit.ResultsFile)); err != nil {
			return recordError("mail", err)
		}
		defer rs.Close()
	}
	if rs.Len() == 0 && (ri.Interrupted || ri.Error != "") {
		return nil
	}
	if slices.Equal(missing, []string{report.XLSXFile}) {
		var keys []string
		if label := report.GroupLabel(dir); label != "" {
			keys = []string{label} // a column of every group's reports
		}
		if wide, err := report.TooWide(rs, keys); err == nil && wide {
			return nil
		}
	}
	return usagef("mail: %s: the reports are not all there (no %s): the rendering that its %s records failed (a full disk, a --template failing on the data); once the cause is fixed, render them again, then mail: %s",
		dir, strings.Join(missing, ", "), audit.RunFile, renderAgainOf(dir, ri, getenv))
}

// renderAgainOf returns the command that renders the reports of dir again
// as ri, its run.json, records their last rendering: with its --format,
// --template and --split-by (not for a group's directory of the split,
// which renders as its group). Its baseline is taken again by itself.
func renderAgainOf(dir string, ri audit.RunInfo, getenv func(string) string) string {
	opts := renderedOptions(ri)
	splitBy, _ := opts["split_by"].(string)
	group := splitBy != "" && filepath.Base(filepath.Dir(filepath.Clean(dir))) == filepath.Base(report.SplitDir("", splitBy))
	var args []string
	for _, k := range []string{"format", "template", "split_by"} {
		v, _ := opts[k].(string)
		if v == "" || k == "split_by" && group {
			continue
		}
		args = append(args, "--"+strings.ReplaceAll(k, "_", "-"), v)
	}
	return renderAgainIn(dir, getenv, args...)
}

// holdForMail takes the lock of dir, and for one group's directory of a
// split (RUN/by-LABEL/GROUP, beside its run's run.json) the lock of its
// run first, for as long as the mail reads and sends: two mails at once
// (a cron job and an engineer) would each read and write the undelivered
// marks, and a run, a resume or a report rendering it again would write
// what the mail reads. It is taken before run.json says how the run was
// split, so a group is known by its place. Another mail of the run or of
// one of its groups is refused meanwhile (exit 4), as a run into it is.
// Where a lock cannot be taken for another reason (a directory this user
// may read, not write), the mail goes on without it once no other
// auditor is seen to hold it (mailInUse, which warns through warn where
// it cannot tell).
func holdForMail(dir string, warn func(string)) (release func(), err error) {
	dirs := []string{dir}
	if run, ok := runOfGroup(dir); ok && statOK(filepath.Join(run, audit.RunFile)) {
		dirs = []string{run, dir}
	}
	var unlocks []func()
	release = func() {
		for _, u := range slices.Backward(unlocks) {
			u()
		}
	}
	for _, d := range dirs {
		unlock, err := dirlock.Lock(d)
		switch {
		case errors.Is(err, dirlock.ErrBusy):
			release()
			return nil, fmt.Errorf("mail: %w; wait for it to end, then mail again", err)
		case err != nil:
			if err := mailInUse(d, warn); err != nil {
				release()
				return nil, err
			}
		default:
			unlocks = append(unlocks, unlock)
		}
	}
	return release, nil
}

// staleSplit says why split (a split's directory, or one group's) is not
// mailed: it is of another attempt or rendering than the run in dir
// (group and run are their run.json), whose record it need not agree
// with; and the command that splits the record again.
func staleSplit(split, dir, label string, group, run audit.RunInfo, getenv func(string) string) string {
	return fmt.Sprintf("%s is not of the reports in %s: it is of a run %s, they of one %s (an earlier attempt or rendering left it), and its figures need not be the record's; split the record again: %s",
		split, dir, renderedAt(group), renderedAt(run), resplit(dir, label, getenv))
}

// resplit is the command that splits the record in dir by label again,
// in the environment of getenv (see withoutInputEnv).
func resplit(dir, label string, getenv func(string) string) string {
	return renderAgainIn(dir, getenv, "--split-by", label)
}

// renderedAt says when the reports of ri, a run.json, were rendered, to
// the millisecond: the attempts of one run may end within a second.
func renderedAt(ri audit.RunInfo) string {
	at, what := ri.EndedAt, "ended"
	switch {
	case ri.Rendered != nil:
		at, what = ri.Rendered.At, "rendered again"
	case ri.Interrupted:
		what = "interrupted"
	}
	return what + " at " + at.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// groupOf returns the path, slash-separated, of dir under its run's
// output when dir is a group's directory of a split by label
// (OUT/by-LABEL/GROUP, beside the split's index), or "".
func groupOf(dir, label string) string {
	if label == "" {
		return ""
	}
	split := filepath.Dir(filepath.Clean(dir))
	if filepath.Base(split) != filepath.Base(report.SplitDir("", label)) || !statOK(filepath.Join(split, report.SplitIndex)) {
		return ""
	}
	return filepath.Base(split) + "/" + filepath.Base(filepath.Clean(dir))
}

// splitGroupDirs lists the group directories of a split: those that hold a
// record.
func splitGroupDirs(root string) ([]string, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var dirs []string
	for _, e := range entries {
		p := filepath.Join(root, e.Name())
		if _, err := os.Stat(filepath.Join(p, audit.ResultsFile)); e.IsDir() && err == nil {
			dirs = append(dirs, p)
		}
	}
	return dirs, nil
}

// statOK reports whether p can be stat'ed: a baseline that is gone since
// the run is left out of a mail (with a word on stderr), not an error.
func statOK(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// smtpGrace is deliver.SMTP.Grace (and SendSESWithin's grace) for
// --grace, how long the server's answer to a mail sent whole is waited for
// once a signal came (past a container's own grace, the process is killed
// and says nothing): 0 there waits for the attempt's whole time, and
// --grace 0 cuts at once.
func smtpGrace(grace time.Duration) time.Duration {
	if grace <= 0 {
		return -1
	}
	return grace
}
