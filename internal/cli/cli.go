// Package cli is the auditor command: its flags, the wiring of the audit,
// the reports and the delivery, and the one place that maps errors to exit
// codes. cmd/auditor only connects it to the process.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/auditor-dev/auditor/awsconn"
)

// Version is set by package main from its -ldflags "-X main.version=v1.2.3";
// empty, the module version and the commit come from the build information.
var Version = ""

// Program is how the process was invoked (its os.Args[0]), set by package
// main. The commands printed to be pasted (to resume a run, to mail or
// render its reports again) name the program so (/usr/local/bin/auditor
// from cron, ./bin/auditor, ssm-audit found on the PATH), so that pasted
// they run the same auditor; a build of go run and "" are named auditor
// (see invokedAs).
var Program = ""

// program is the program that the commands printed to be pasted name,
// unquoted: Program as invokedAs takes it, with the build cache that go
// run would use (see goBuildCache).
func program() string { return invokedAs(Program, goBuildCache()) }

// invokedAs returns arg0, how the process was invoked, as the commands
// printed to be pasted name the program: a name the shell found on the
// PATH, or a path, relative to the working directory the command is to be
// pasted in, or absolute. A build of go run, gone once it ends, and "" are
// named "auditor". go run names its build by an absolute path, in go's
// temporary work directory (go-build followed by digits, in the temporary
// directory or GOTMPDIR) or, since Go 1.24, under cache, the build cache
// ("" for none known); a directory that is merely named like them, or any
// other under the temporary directory, holds a program as any other.
func invokedAs(arg0, cache string) string {
	const name = "auditor"
	if arg0 == "" {
		return name
	}
	if !filepath.IsAbs(arg0) {
		return arg0
	}
	for _, dir := range strings.Split(filepath.ToSlash(filepath.Dir(arg0)), "/") {
		if goWorkDir(dir) {
			return name
		}
	}
	if rel, err := filepath.Rel(cache, arg0); cache != "" && err == nil && filepath.IsLocal(rel) {
		return name
	}
	return arg0
}

// goWorkDir reports whether a directory's name is that of a go command's
// temporary work directory: go-build followed by digits.
func goWorkDir(name string) bool {
	n, ok := strings.CutPrefix(name, "go-build")
	return ok && n != "" && strings.Trim(n, "0123456789") == ""
}

// goBuildCache returns the build cache where go run keeps what it builds,
// as the go command finds it: $GOCACHE, else go-build in the user's cache
// directory; "" when neither is known, or GOCACHE is off (go run builds in
// its work directory then). A GOCACHE set with go env -w, which only the
// go command reads, is not seen.
func goBuildCache() string {
	if c := os.Getenv("GOCACHE"); c != "" {
		if !filepath.IsAbs(c) {
			return ""
		}
		return c
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "go-build")
	}
	return ""
}

// Main is the whole program: it parses args, does the work, and returns the
// exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return run(ctx, args, stdin, stdout, stderr)
}

// appVersion returns the version: Version, else the module version from the
// build information (go install ...@v1.2.3), else "dev"; then the VCS
// revision and time, when the binary was built from a checkout.
func appVersion() string {
	v := Version
	bi, ok := debug.ReadBuildInfo()
	if v == "" {
		v = "dev"
		if ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
	}
	if !ok {
		return v
	}
	var rev, at string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return v
	}
	rev = rev[:min(12, len(rev))]
	if modified {
		rev += "+changes"
	}
	if at != "" {
		return fmt.Sprintf("%s (commit %s, %s)", v, rev, at)
	}
	return fmt.Sprintf("%s (commit %s)", v, rev)
}

const mainUsage = `auditor audits the SSM State Manager associations of a whole fleet.

Usage:
  auditor run      --instances FILE [flags]    audit a fleet against AWS
  auditor demo     [--fleet-size N] [--seed S] audit a simulated fleet, write every report
  auditor report   RECORD... --out DIR         render reports from results.jsonl files
  auditor mail     DIR --to ADDRESSES          mail a run's reports (again)
  auditor simulate --listen 127.0.0.1:PORT     serve the simulated SSM endpoint

Examples:
  auditor run --instances fleet.txt --region eu-west-1
  auditor run --instances fleet.csv --profile prod --out audit-prod --fail-on failed,not_managed
  aws ec2 describe-instances --query 'Reservations[].Instances[].InstanceId' --output text \
    | tr '\t' '\n' | auditor run --instances - --region us-east-1
  auditor run --resume --out audit-prod --instances fleet.csv --profile prod \
    --fail-on failed,not_managed
  auditor report shard-*/results.jsonl --out all
  auditor run --instances fleet.csv --out audits/{time} --baseline previous \
    --mail-to ops@example.com --mail-from auditor@example.com --smtp smtp://mail.example.com:587
  auditor demo

Run "auditor COMMAND --help" for a command's flags. "auditor --version" prints the version.

Exit codes: 0 no findings; 1 findings at the --fail-on level; 2 usage or input error;
3 incomplete (instances in error, interrupted, or an endpoint lost mid-run); 4 fatal
(credentials, authorization, endpoint unreachable, output not writable); 5 the reports
are written but their delivery (mail, upload) failed.
`

// commands are the commands, in the order of the help.
var commands = []string{"run", "demo", "report", "mail", "simulate"}

// run is Main.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stdErr io.Writer) int {
	stderr := newConsole(stdErr)
	if len(args) == 0 {
		fmt.Fprint(stderr, mainUsage)
		return int(exitUsage)
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "-h", "-help", "--help", "help":
		if cmd == "help" && len(rest) > 0 {
			// "auditor help run" is "auditor run --help".
			return run(ctx, []string{rest[0], "--help"}, stdin, stdout, stdErr)
		}
		fmt.Fprint(stdout, mainUsage)
		return int(exitOK)
	case "-version", "--version", "version":
		fmt.Fprintf(stdout, "auditor %s\n", appVersion())
		return int(exitOK)
	case "run":
		err = runCmd(ctx, rest, stdin, stdout, stderr)
	case "demo":
		err = demoCmd(ctx, rest, stdout, stderr)
	case "report":
		err = reportCmd(ctx, rest, stdout, stderr)
	case "mail":
		err = mailCmd(ctx, rest, stdout, stderr)
	case "simulate":
		err = simulateCmd(ctx, rest, stdout, stderr)
	default:
		shown := shownArg(cmd)
		msg := fmt.Sprintf("unknown command %q: want run, demo, report, mail or simulate (see auditor --help)", shown)
		if s := closest(strings.ToLower(cmd), commands); s != "" {
			msg = fmt.Sprintf("unknown command %q (did you mean %s?); see auditor --help", shown, s)
		} else if s := closest(cmd, []string{"--help", "--version"}); s != "" {
			msg = fmt.Sprintf("unknown flag %q (did you mean %s?); see auditor --help", shown, s)
		} else if c, f := commandOf(cmd); c != "" {
			msg = fmt.Sprintf("unknown command %q (did you mean auditor %s --%s?); see auditor --help", shown, c, f)
		}
		err = usagef("%s", msg)
	}
	if errors.Is(err, flag.ErrHelp) {
		return int(exitOK)
	}
	return int(exitFor(err, stderr))
}

// commandOf returns the first command (in the order of the help) that
// takes arg as a flag, and the flag's name; "" when none does. It is for a
// flag given before its command: auditor --instances fleet.txt. The help's
// order names the command most likely meant where several take the flag:
// --fleet-size is demo's before simulate's, --out run's before report's.
func commandOf(arg string) (command, name string) {
	name, ok := strings.CutPrefix(arg, "-")
	if !ok {
		return "", ""
	}
	name, _, _ = strings.Cut(strings.TrimPrefix(name, "-"), "=")
	for _, c := range commands {
		// Flags knows every command's flags, simulate's too, which
		// newCommand does not bind.
		if flags, err := Flags(c); err == nil {
			if _, ok := flags[name]; ok {
				return c, name
			}
		}
	}
	return "", ""
}

// secretFlags are the flags whose value no message repeats, whatever it
// is: --external-id is not a secret to AWS, but it is kept out of run.json
// and so out of messages too.
var secretFlags = map[string]bool{"external-id": true}

// isSecretFlag reports whether no message may repeat the value of the flag
// name: one of secretFlags, or a name that looks like a secret's.
func isSecretFlag(name string) bool {
	return secretFlags[name] || looksSecret(name)
}

// shownArg returns arg, a command-line argument refused whole, as a message
// may quote it: a flag with =VALUE by its name alone when the flag is a
// secret one (isSecretFlag), as the message of a mistyped flag names it;
// any other value, or an argument that is no flag, as shownURL shows it,
// without a URL's login, query or fragment. A password in a URL
// must not reach stderr, which cron mails on.
func shownArg(arg string) string {
	if rest, ok := strings.CutPrefix(arg, "-"); ok {
		if name, value, ok := strings.Cut(strings.TrimPrefix(rest, "-"), "="); ok {
			named := shownURL(arg[:len(arg)-len(value)-1])
			if isSecretFlag(name) {
				return named
			}
			return named + "=" + shownURL(value)
		}
	}
	return shownURL(arg)
}

// shownURL is s as RedactURL shows it when s may be a URL or a login
// (a "://", or a ':' before an '@': u:pass@host), else s as it is: an
// '@' or a '?' of ordinary text (me@example.com, ops@7d, why?) is no
// login and no query, and a path (/..., ./..., ~/..., C:\...) with no
// "://" is no URL, however its names spell ("2026-12-03T10:00@prod").
func shownURL(s string) string {
	if strings.Contains(s, "://") {
		return awsconn.RedactURL(s)
	}
	if isPath(s) {
		return s
	}
	if at := strings.LastIndexByte(s, '@'); at > 0 && strings.Contains(s[:at], ":") {
		return awsconn.RedactURL(s)
	}
	return s
}

// isPath reports whether s reads as a file's path rather than a URL or a
// login: it starts at the root (one '/': "//u:pass@host" is a URL without
// its scheme), at the working or home directory, or at a drive and a
// backslash (C:\; "x:/pass@host" is a login).
func isPath(s string) bool {
	if strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "//") {
		return true
	}
	for _, p := range []string{"./", "../", "~/", `.\`, `..\`} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return len(s) >= 3 && (s[0]|0x20) >= 'a' && (s[0]|0x20) <= 'z' && s[1] == ':' && s[2] == '\\'
}

// newFlagSet returns a FlagSet that reports errors instead of exiting and
// prints nothing itself: parseFlags prints the help to stdout when it is
// asked for (so "auditor run --help | less" works), and a mistake is one
// line on stderr, never the whole help.
func newFlagSet(name, synopsis string, stdout io.Writer) *flagSet {
	fs := &flagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError)}
	fs.SetOutput(io.Discard)
	fs.Usage = func() {} // flag calls it on every mistake too
	fs.help = func() {
		printHelp(stdout, fs.FlagSet, synopsis)
	}
	return fs
}

// flagSet is a FlagSet with its help.
type flagSet struct {
	*flag.FlagSet
	help func()
	// bad is the last value that a flag refused, set by checkedValue.
	bad *valueError
}

// parseFlags parses args and turns flag's errors into one-line usage errors,
// with a suggestion for a mistyped flag.
func parseFlags(fs *flagSet, args []string) error {
	if err := missingValue(fs.FlagSet, args); err != nil {
		return err
	}
	fs.checkValues()
	fs.bad = nil
	err := fs.Parse(args)
	if err == nil {
		return nil
	}
	if errors.Is(err, flag.ErrHelp) {
		fs.help()
		return err
	}
	if fs.bad != nil {
		// flag's own words are "parse error", and one dash for a boolean.
		return usagef("%s: %v", fs.Name(), fs.bad)
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		name = strings.TrimLeft(name, "-")
		dashes := typedDashes(args, name)
		if h, ok := awsCLIOptions[name]; ok && (h.needs == "" || fs.Lookup(h.needs) != nil) {
			says := h.says
			if name == "ca-bundle" || name == "no-verify-ssl" {
				if fs.Lookup("smtp-ca-bundle") != nil {
					says += "; for the SMTP server's certificate, --smtp-ca-bundle"
				}
			}
			return usagef("unknown flag %s%s: %s", dashes, name, says)
		}
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		// flag names the flag without its =VALUE; a name may still be a
		// URL given with a dash (-https://user:password@host).
		shown := shownURL(name)
		if s, ok := otherSpellings[name]; ok && fs.Lookup(s) != nil {
			return usagef("unknown flag %s%s (did you mean --%s?)", dashes, shown, s)
		}
		if s := closest(name, names); s != "" {
			return usagef("unknown flag %s%s (did you mean --%s?)", dashes, shown, s)
		}
		return usagef("unknown flag %s%s (see auditor %s --help)", dashes, shown, fs.Name())
	}
	// "invalid value "x" for flag -rate: ..." and the like, with the flag
	// spelled as the help spells it.
	msg = strings.Replace(msg, "for flag -", "for --", 1)
	return usagef("%s: %s", fs.Name(), msg)
}

// typedDashes returns the dashes that the first argument of args naming
// the flag name (with =VALUE or without) was given with, "-" or "--", so
// that an unknown flag is told as it was typed: Go's flag package names
// -v and --v alike, "-v". "--" when none does.
func typedDashes(args []string, name string) string {
	for _, a := range args {
		if a == "--" {
			break
		}
		n, _, _ := strings.Cut(a, "=")
		if strings.HasPrefix(n, "--") && n[2:] == name {
			return "--"
		}
		if strings.HasPrefix(n, "-") && n[1:] == name {
			return "-"
		}
	}
	return "--"
}

// missingValue refuses, as the AWS CLI does, a flag that wants a value and
// is followed by another of the command's flags, or by nothing: Go's flag
// package would take "--out --quiet" as an --out named --quiet, and write a
// whole run there. It reads args as flag.Parse does, up to the first
// argument that is no flag. A value that only starts with a dash (- for
// standard input, a negative number) is still a value, and so is any value
// given with = (--out=--quiet).
func missingValue(fs *flag.FlagSet, args []string) error {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || len(a) < 2 || a[0] != '-' {
			return nil
		}
		name := strings.TrimPrefix(a[1:], "-")
		if strings.Contains(name, "=") {
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			return nil // flag.Parse names it
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			continue
		}
		if i+1 == len(args) {
			return usagef("%s: argument --%s: expected one argument", fs.Name(), name)
		}
		if next := args[i+1]; isFlagOf(fs, next) {
			return usagef("%s: argument --%s: expected one argument, and %s is a flag (--%s=%s would take it as the value)", fs.Name(), name, next, name, next)
		}
		i++
	}
	return nil
}

// awsCLIOptions are options of the AWS CLI that a user may carry over,
// and what stands for each here; a command is told only when it has the
// flag named in needs ("": every command). None is taken for a typo of
// another: --output is not --out.
var awsCLIOptions = map[string]struct{ says, needs string }{
	"output":              {"the AWS CLI's output format; here --format picks the reports, and --out their directory", "format"},
	"query":               {"the AWS CLI's JMESPath filter of what it prints; here the output is the files in --out: filter instances.csv or associations.csv, or results.jsonl and summary.json (with jq, say)", "format"},
	"debug":               {"there is no debug log; progress, warnings and errors go to stderr (leave out --quiet; --log-format json makes each line a JSON record, the SDK's own included), and why an instance ended in error, with the code and message of the call, is in its line of results.jsonl", "log-format"},
	"ca-bundle":           {"set AWS_CA_BUNDLE, or ca_bundle in the profile, to the CA's PEM file, as the AWS CLI also reads", "region"},
	"no-verify-ssl":       {"certificates are always verified; set AWS_CA_BUNDLE, or ca_bundle in the profile, to the PEM file of the CA that signs them (a TLS-inspecting proxy's)", "region"},
	"cli-read-timeout":    {"--call-timeout bounds each HTTP attempt, connecting and reading, and --timeout the whole run", "call-timeout"},
	"cli-connect-timeout": {"--call-timeout bounds each HTTP attempt, connecting and reading, and --timeout the whole run", "call-timeout"},
	"page-size":           {"--max-results sets the results a page asks for; every page is read", "max-results"},
	"no-paginate":         {everyPage, "max-pages"},
	"max-items":           {everyPage, "max-pages"},
	"starting-token":      {everyPage + "; a run that was stopped is continued with --resume and its --out", "resume"},
	"next-token":          {everyPage + "; a run that was stopped is continued with --resume and its --out", "resume"},
	"no-cli-pager":        {"the auditor never pipes its output to a pager: there is nothing to turn off", ""},
}

// otherSpellings are flags that one command spells otherwise than
// another, and the spelling that stands for each where it is unknown: a
// command is told the other only when it has that flag. These come before
// closest, whose nearest name may be another setting altogether: for
// mail, --mail-to would be --mail-to-label, which takes a label, not
// addresses.
var otherSpellings = map[string]string{
	"mail-to": "to",      // run and report spell mail's --to so
	"to":      "mail-to", // and mail spells their --mail-to so
}

// everyPage is what stands for the AWS CLI's paging options.
const everyPage = "the auditor reads every page of every instance itself, up to --max-pages of them (more ends the instance as PaginationLoop)"

// flagArg returns the value that args give the flag name last, read as
// parseFlags reads them (with parseInterspersed's arguments among the flags
// when interspersed), whether or not a mistake stopped it before: -name or
// --name, with =VALUE or the next argument for a flag that takes a value.
// ok is false when args do not give it.
func flagArg(fs *flag.FlagSet, args []string, interspersed bool, name string) (value string, ok bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || len(a) < 2 || a[0] != '-' {
			if !interspersed {
				break
			}
			if a == "--" {
				i++ // an argument, whatever it looks like
			}
			continue
		}
		n, v, hasValue := strings.Cut(strings.TrimPrefix(a[1:], "-"), "=")
		f := fs.Lookup(n)
		if f == nil {
			continue // an unknown flag: the mistake, or one past it
		}
		if b, isBool := f.Value.(interface{ IsBoolFlag() bool }); !hasValue && !(isBool && b.IsBoolFlag()) {
			if i+1 == len(args) {
				break
			}
			i++
			v = args[i]
		}
		if n == name {
			value, ok = v, true
		}
	}
	return value, ok
}

// givenFlag is one flag of a command line as it was given: its name, and
// the arguments that gave it (two for --flag VALUE, one for --flag=VALUE
// or a boolean).
type givenFlag struct {
	name string
	args []string
}

// givenFlags splits args, a command line that fs parsed without error,
// into its flags, in their order, up to the first argument that is no
// flag, where fs stopped too.
func givenFlags(fs *flag.FlagSet, args []string) []givenFlag {
	var flags []givenFlag
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || len(a) < 2 || a[0] != '-' {
			break
		}
		name, _, hasValue := strings.Cut(strings.TrimPrefix(a[1:], "-"), "=")
		g := givenFlag{name: name, args: []string{a}}
		if f := fs.Lookup(name); f != nil && !hasValue && i+1 < len(args) {
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !ok || !b.IsBoolFlag() {
				i++
				g.args = append(g.args, args[i])
			}
		}
		flags = append(flags, g)
	}
	return flags
}

// isFlagOf reports whether arg is one of fs's flags, with one or two
// dashes, with or without =VALUE; -h and --help, which every command
// takes, count.
func isFlagOf(fs *flag.FlagSet, arg string) bool {
	name, ok := strings.CutPrefix(arg, "-")
	if !ok || name == "" {
		return false
	}
	name, _, _ = strings.Cut(strings.TrimPrefix(name, "-"), "=")
	return name == "h" || name == "help" || fs.Lookup(name) != nil
}

// checkValues makes every flag of fs that is not yet so a checkedValue,
// so that a value it refuses says what it wants, whether it comes from the
// command line, an AUDITOR_* variable or --cli-input-json (all of which
// set it through fs).
func (fs *flagSet) checkValues() {
	fs.VisitAll(func(f *flag.Flag) {
		if _, ok := f.Value.(*checkedValue); !ok {
			f.Value = &checkedValue{Value: f.Value, name: f.Name, fs: fs}
		}
	})
}

// checkedValue is a flag's value whose Set, when it refuses a value,
// returns a *valueError that names the flag and what it wants.
type checkedValue struct {
	flag.Value
	name string
	fs   *flagSet
}

func (v *checkedValue) Set(s string) error {
	set, err := s, error(nil)
	if f := v.fs.Lookup(v.name); f != nil && isPathFlag(f) {
		set, err = homeExpanded(s)
	}
	if err == nil {
		err = v.Value.Set(set)
	}
	if err == nil {
		return nil
	}
	e := &valueError{flag: v.name, value: s, want: wanted(v.Value, s), err: err}
	if e.want == "" {
		// A value of ours (an age, a list) says what it wants itself.
		e.want = err.Error()
	}
	v.fs.bad = e
	return e
}

// Get is the value's, for flag.Getter: --generate-cli-skeleton prints it.
func (v *checkedValue) Get() any {
	if g, ok := v.Value.(flag.Getter); ok {
		return g.Get()
	}
	return v.Value.String()
}

// IsBoolFlag is the value's, so that --quiet still takes no value.
func (v *checkedValue) IsBoolFlag() bool {
	b, ok := v.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// isPathFlag reports whether f takes a file's or a directory's path, as
// the placeholder of its help says (FILE, DIR, RECORD).
func isPathFlag(f *flag.Flag) bool {
	name, _ := flag.UnquoteUsage(f)
	return strings.Contains(name, "FILE") || strings.Contains(name, "DIR") || strings.Contains(name, "RECORD")
}

// homeExpanded returns path with a leading ~ (alone, or before a
// separator) made the home directory, as a shell would have: a path from
// a quoted crontab line, a systemd unit, an AUDITOR_* variable or a
// --cli-input-json file reaches the auditor unexpanded, and would name a
// directory "~" in the working directory that reads as home. The rest of
// the path is kept as written (not cleaned).
func homeExpanded(path string) (string, error) {
	if path != "~" && !strings.HasPrefix(path, "~/") && !strings.HasPrefix(path, "~"+string(filepath.Separator)) {
		return path, nil
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return "", fmt.Errorf("%s starts at the home directory, which is unknown here (HOME is not set): give the whole path", path)
	}
	if path == "~" {
		return home, nil
	}
	// A home of / (root in some containers) keeps its one separator.
	return strings.TrimRight(home, `/\`) + path[1:], nil
}

// valueError is a value that a flag refused.
type valueError struct {
	flag, value, want string
	err               error
}

// Error quotes the value as a message may show it: not at all for a
// secret flag, without a URL's login, query or fragment otherwise.
func (e *valueError) Error() string {
	if isSecretFlag(e.flag) {
		return fmt.Sprintf("invalid value for --%s: %s", e.flag, e.want)
	}
	return fmt.Sprintf("invalid value %q for --%s: %s", shownURL(e.value), e.flag, e.want)
}

func (e *valueError) Unwrap() error { return e.err }

// wanted says what a flag of one of the flag package's types wants, for
// the value s that it refused; "" for a type of ours.
func wanted(v flag.Value, s string) string {
	g, ok := v.(flag.Getter)
	if !ok {
		return ""
	}
	switch g.Get().(type) {
	case bool:
		return "want true or false"
	case int, int64:
		if _, err := strconv.ParseInt(s, 0, 64); errors.Is(err, strconv.ErrRange) {
			return "want an integer, and this one is out of range"
		}
		return "want an integer, such as 10"
	case uint, uint64:
		return "want a whole number, 0 or more"
	case float64:
		return "want a number, such as 10 or 2.5"
	case time.Duration:
		return "want a duration such as 30s, 5m or 1h30m"
	}
	return ""
}

// didYouMean returns " (did you mean C?)" with C the choice closest to v,
// a value refused for a flag of fixed choices, as closest finds it; ""
// when none is close.
//
// Case does not count (aes256 is AES256), and a choice's part after its
// colon is taken for it (kms is aws:kms).
func didYouMean(v string, choices []string) string {
	lower := make([]string, len(choices))
	for i, c := range choices {
		lower[i] = strings.ToLower(c)
	}
	if c := closest(strings.ToLower(v), lower); c != "" {
		if c := choices[slices.Index(lower, c)]; c != v {
			return " (did you mean " + c + "?)"
		}
	}
	for _, c := range choices {
		if _, after, ok := strings.Cut(c, ":"); ok && strings.EqualFold(after, v) {
			return " (did you mean " + c + "?)"
		}
	}
	return ""
}

// closest returns the candidate nearest to s (edit distance at most 2, or a
// prefix either way, which counts as one edit), or "". Of candidates as near,
// the one fewer real edits away wins, then the one that starts more alike
// (js is json, not csv), then the first: --instance is
// --instances (one edit), not --instance-id (a prefix, three edits).
func closest(s string, candidates []string) string {
	best, bestD, bestEdits := "", 3, 0
	for _, c := range candidates {
		edits := editDistance(s, c)
		d := edits
		if len(s) >= 3 && (strings.HasPrefix(c, s) || strings.HasPrefix(s, c)) {
			d = min(d, 1)
		}
		if d < bestD || d == bestD && (edits < bestEdits || edits == bestEdits && sharedPrefix(s, c) > sharedPrefix(s, best)) {
			best, bestD, bestEdits = c, d, edits
		}
	}
	return best
}

// sharedPrefix returns how many bytes a and b start with alike.
func sharedPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// listFlag is a repeatable string flag; each use may also hold a
// comma-separated list where split is set.
type listFlag struct {
	vals  []string
	split bool
}

func (l *listFlag) String() string { return strings.Join(l.vals, ",") }

// Get returns the values, for flag.Getter.
func (l *listFlag) Get() any { return append([]string(nil), l.vals...) }

func (l *listFlag) Set(v string) error {
	if !l.split {
		l.vals = append(l.vals, v)
		return nil
	}
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			l.vals = append(l.vals, s)
		}
	}
	return nil
}
