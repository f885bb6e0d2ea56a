package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/aws/smithy-go"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/awsconn"
	"github.com/auditor-dev/auditor/internal/atomicfile"
	"github.com/auditor-dev/auditor/internal/extsort"
	"github.com/auditor-dev/auditor/internal/outdir"
)

// exitCode is the process's exit status; each value has one meaning, listed
// in the README.
type exitCode int

const (
	exitOK         exitCode = 0 // every instance audited, no findings at the --fail-on level
	exitFindings   exitCode = 1 // findings at the --fail-on level
	exitUsage      exitCode = 2 // bad flags or bad input; no instance audited (see README: some refusals need the caller's account from STS)
	exitIncomplete exitCode = 3 // some instances ended in error, or the run was interrupted
	exitFatal      exitCode = 4 // credentials, authorization, endpoint unreachable, an organisation with no ACTIVE account, output (or temporary files) not writable, or a --split-by's reports not written
	exitDelivery   exitCode = 5 // the reports are written, but the mail or the upload failed, or a mail is not confirmed
)

// usageError is a mistake in the command line or the input: exit 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// usagef formats a usage error. An error among a that names a path where
// no file is is shown as shownPathError shows it: every flag that takes a
// file, and every record, is refused through here.
func usagef(format string, a ...any) error {
	a = slices.Clone(a) // the caller's, when it passed a slice
	for i, v := range a {
		if err, ok := v.(error); ok {
			a[i] = shownPathError(err)
		}
	}
	return &usageError{fmt.Sprintf(format, a...)}
}

// shownPathError returns err, an error of opening or statting a path, with
// the path as shownArg shows it when no file is there (a URL given where a
// file is wanted: "open https://u:pass@host: no such file or directory"),
// so that a password in it does not reach stderr, which cron mails on.
// Any other error, and one of a path that is there (its name is the
// user's file's, and the message is about that file), is err.
func shownPathError(err error) error {
	var pe *fs.PathError
	if !errors.As(err, &pe) || !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
		return err
	}
	p := shownArg(pe.Path)
	if p == pe.Path {
		return err
	}
	return &shownError{strings.ReplaceAll(err.Error(), pe.Path, p), err}
}

// shownError is an error with the message a user may be shown.
type shownError struct {
	msg string
	err error
}

func (e *shownError) Error() string { return e.msg }
func (e *shownError) Unwrap() error { return e.err }

// errIncomplete and errFindings end a run that worked but must say so in its
// exit code; the reports are written before they are returned. Everything
// that needed saying was said before.
var (
	errIncomplete = errors.New("incomplete")
	errFindings   = errors.New("findings")
)

// errInterrupted ends a run that a signal stopped before it audited any
// instance: reading its lists, checking its credentials, listing its
// accounts and regions, looking up its instances' information or tags.
// Some of those steps call AWS; none writes the record or a report, and an
// --out the run made is removed (see CloseAndRemoveIfBare). The error that
// wraps it names the step, when it was one that calls AWS.
var errInterrupted = errors.New("interrupted before any instance was audited; this attempt wrote no record or report (a record of earlier attempts in --out is as it was)")

// errInputInterrupted ends a command other than run that a signal stopped
// while its --cli-input-json file was being read (a FIFO that nobody
// writes).
var errInputInterrupted = errors.New("interrupted while it was being read: nothing was done or written")

// errTimedOut ends a run that --timeout stopped at the same steps as
// errInterrupted; the error that wraps it names the step and the --timeout.
var errTimedOut = errors.New("stopped before any instance was audited; this attempt wrote no record or report (a record of earlier attempts in --out is as it was)")

// exitFor maps an error to the exit code, in this one place, and prints what
// the user needs to know.
func exitFor(err error, con *console) exitCode {
	var ue *usageError
	var ie *audit.InputError
	var ce *awsconn.ConfigError
	var fe *audit.ForeignError
	var te *audit.TargetsError
	var de *errDelivery
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &de):
		if !de.said {
			// The services' words are in it, as in the closing lines.
			con.errorf("%s", plain(err.Error(), 0))
			for _, h := range de.hints {
				con.errorf("%s", h.line())
			}
		}
		return exitDelivery
	case errors.Is(err, errFindings):
		return exitFindings
	case errors.Is(err, errIncomplete):
		return exitIncomplete
	case errors.As(err, &ie):
		// A value of --instance-id is no line of a list.
		what, none := "line", "no line of the list"
		if !slices.ContainsFunc(ie.Problems, func(t audit.Target) bool { return t.Source != instanceIDSource }) {
			what, none = "value", "no --instance-id"
		}
		hint := "fix the " + what + "s above, or pass --skip-invalid to audit the rest"
		switch {
		case !ie.Rest && len(ie.Problems) == 1:
			hint = none + " is a valid target: fix the " + what + " above"
		case !ie.Rest:
			hint = none + " is a valid target: fix the " + what + "s above"
		case len(ie.Problems) == 1:
			hint = "fix the " + what + " above, or pass --skip-invalid to audit the rest"
		}
		con.errorf("%s\n%s", shownSources(err.Error(), ie), hint)
		return exitUsage
	case errors.As(err, &ue), errors.As(err, &ce), errors.Is(err, outdir.ErrNotDir), errors.Is(err, outdir.ErrShared), errors.Is(err, outdir.ErrNotDemo):
		// A ConfigError's file is the AWS configuration's (AWS_CA_BUNDLE,
		// AWS_CONFIG_FILE), named as usagef names a flag's.
		con.errorf("%v", shownPathError(err))
		return exitUsage
	case errors.As(err, &te):
		options := ": the options in its " + audit.RunFile
		if ke := (*keptTargetsError)(nil); errors.As(err, &ke) {
			// Killed before its run.json: the file holds a digest
			// of the targets, not the options that gave them.
			options = ", those of the command that started it, whose digest the run kept in " + targetsFile + " in --out"
		}
		con.errorf("--resume: %v\nresume with the run's own targets (its lists as they were when it started, and its --instance-id, --region, --accounts, --discover and --shard%s), or start a new run with another --out", err, options)
		return exitUsage
	case errors.As(err, &fe):
		con.errorf("--resume: %v\nresume with the same lists, --region, --profile and --shard as the run it continues, or choose another --out", err)
		return exitUsage
	case errors.Is(err, errInterrupted), errors.Is(err, errTimedOut), errors.Is(err, errInputInterrupted):
		con.errorf("%v", err)
		return exitIncomplete
	case errors.Is(err, extsort.ErrScratch) && !errors.Is(err, syscall.EMFILE) && !errors.Is(err, syscall.ENFILE):
		// Not the record's fault, nor the flags': where the index of a
		// large record goes (inSpill).
		con.errorf("%s\nthe index of a record this large goes in %s in the directory written (--out; auditor mail's: the directory mailed), or in TMPDIR where that cannot be made or used (a read-only directory, a full disk): give one of them room, about 60 bytes an instance (set TMPDIR to a writable directory), then run again", plainLines(err.Error()), outdir.TmpDir)
		return exitFatal
	}
	var cred *audit.CredentialsError
	if errors.As(err, &cred) {
		// One line, whatever STS's or SSO's message holds: a line break
		// in it would start a line that seems the auditor's.
		con.errorf("%s", plain(err.Error(), 0))
		return exitFatal
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		// Not the directory's permissions, which "directory not
		// writable" would send the user to check.
		msg := strings.ReplaceAll(err.Error(), atomicfile.ErrNotWritable.Error()+": ", "")
		con.errorf("%s\nthe disk of the output is full (or the user's quota there used up): free space on it, then run again", plainLines(msg))
		return exitFatal
	}
	if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
		// Not the directory either: the workers' connections hold every
		// file the process may open.
		msg := strings.ReplaceAll(err.Error(), atomicfile.ErrNotWritable.Error()+": ", "")
		con.errorf("%s\nthe limit of open files was reached: raise it (ulimit -n), or for an audit lower --concurrency, then run again (with --resume, for a run that recorded instances)", plainLines(msg))
		return exitFatal
	}
	if off, ok := audit.ClockOff(err); ok && !strings.Contains(err.Error(), audit.ClockHint(off)) {
		// The service's words say "expired" or "signature": the clock
		// is the cause, and nothing else would send the user to it.
		con.errorf("%s\n%s", errorLines(err), audit.ClockHint(off))
		return exitFatal
	}
	// A fatal error may hold the service's words (a refusal's message).
	con.errorf("%s", errorLines(err))
	return exitFatal
}

// shownSources is msg, the text of an error that wraps ie, with each
// problem's source (FILE:LINE) shown as shownPath shows the file: a line
// break in the path of a list would start a line that seems the
// auditor's. The record keeps the source as it is.
func shownSources(msg string, ie *audit.InputError) string {
	for _, t := range ie.Problems {
		if shown := shownSource(t.Source); shown != t.Source {
			msg = strings.ReplaceAll(msg, t.Source+": ", shown+": ")
		}
	}
	return msg
}

// shownSource is a target's source, FILE:LINE, with FILE as shownPath
// shows it.
func shownSource(src string) string {
	if i := strings.LastIndexByte(src, ':'); i >= 0 {
		if _, err := strconv.Atoi(src[i+1:]); err == nil {
			return shownPath(src[:i]) + src[i:]
		}
	}
	return shownPath(src)
}

// serviceTextMax caps the words of one answer of a service in an error
// line, as the account-region lines cap their message.
const serviceTextMax = 500

// errorLines is err's text for stderr: each of the service's answers in it
// (a smithy.APIError's code and message, an account-region's failure's
// message, anywhere in its chain) made one line of at most serviceTextMax
// characters, then plainLines, so that the line breaks left are the
// auditor's own (errors.Join's, a hint's) and a message cannot start a
// line that seems the auditor's, nor flood a log.
func errorLines(err error) string {
	s := err.Error()
	for _, t := range serviceTexts(err) {
		if t != "" {
			if p := plain(t, serviceTextMax); p != t {
				s = strings.ReplaceAll(s, t, p)
			}
		}
	}
	return plainLines(s)
}

// serviceTexts returns the words of a service in err's tree, outermost
// first: every smithy.APIError's text (errors.As finds one, and a run none
// of whose account-regions could be audited joins one for each), and the
// message of every *audit.SiteError and *audit.InfoError, which carry a
// service's words as plain strings.
func serviceTexts(err error) []string {
	var out []string
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if ae, ok := e.(smithy.APIError); ok {
			out = append(out, ae.Error())
			return // its words hold those of what it wraps
		}
		switch x := e.(type) {
		case *audit.SiteError:
			out = append(out, x.Message)
			return
		case *audit.InfoError:
			out = append(out, x.Message)
			return
		}
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		}
	}
	walk(err)
	return out
}
