package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3"; a
// plain build reports the module version or "dev".
var version = ""

func appVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

const mainUsage = `auditor audits the SSM State Manager associations of a whole fleet.

Usage:
  auditor run      --instances FILE [flags]    audit a fleet against AWS
  auditor demo     [--fleet-size N] [--seed S] audit a simulated fleet, write every report
  auditor report   RECORD... --out DIR         render reports from results.jsonl files
  auditor simulate --listen 127.0.0.1:PORT     serve the simulated SSM endpoint

Examples:
  auditor run --instances fleet.txt --region eu-west-1
  auditor run --instances fleet.csv --profile prod --out audit-prod --fail-on failed,not_managed
  aws ec2 describe-instances --query 'Reservations[].Instances[].InstanceId' --output text \
    | tr '\t' '\n' | auditor run --instances - --region us-east-1
  auditor run --resume --out audit-prod --instances fleet.csv
  auditor report shard-*/results.jsonl --out all
  auditor demo

Run "auditor COMMAND --help" for a command's flags. "auditor --version" prints the version.

Exit codes: 0 no findings; 1 findings at the --fail-on level; 2 usage or input error;
3 incomplete (instances in error, or interrupted); 4 fatal (credentials, authorization,
output not writable).
`

// run is the whole program: it parses args, does the work, and returns the
// exit code. main only wires it to the process.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, mainUsage)
		return int(exitUsage)
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "-h", "-help", "--help", "help":
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
	case "simulate":
		err = simulateCmd(ctx, rest, stdout, stderr)
	default:
		err = usagef("unknown command %q: want run, demo, report or simulate (see auditor --help)", cmd)
	}
	if errors.Is(err, flag.ErrHelp) {
		return int(exitOK)
	}
	return int(exitFor(err, stderr))
}

// newFlagSet returns a FlagSet that reports errors instead of exiting, and
// prints its help to stdout when asked (so "auditor run --help | less"
// works) and to stderr on a mistake.
func newFlagSet(name, synopsis string, stdout, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fs.SetOutput(stdout)
		fmt.Fprintf(stdout, "Usage: auditor %s\n\nFlags:\n", synopsis)
		printFlags(stdout, fs)
	}
	return fs
}

// parseFlags parses args and turns flag's errors into usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return err
	}
	return usagef("%s: %v (see auditor %s --help)", fs.Name(), err, fs.Name())
}

// listFlag is a repeatable string flag; each use may also hold a
// comma-separated list where split is set.
type listFlag struct {
	vals  []string
	split bool
}

func (l *listFlag) String() string { return strings.Join(l.vals, ",") }

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

// printFlags lists the flags the way the AWS CLI spells them, with two
// dashes (Go's flag package accepts both).
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if name != "" {
			line += " " + name
		}
		if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "false" {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "%s\n      %s\n", line, usage)
	})
}
