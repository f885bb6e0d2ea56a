package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
)

// command is one subcommand's flags, bound to its options: the single place
// that says which flags each command takes (the commands, the tests of
// --generate-cli-skeleton, and the help all use it).
type command struct {
	o      *runOptions
	fs     *flagSet
	layers *layered
	// stderr takes the warnings of parse; nil for none.
	stderr io.Writer
	// The demo's own flags.
	fleetSize, orgAccounts, orgRegions *int
	seed                               *int64
}

// newCommand returns the flags of run, demo, report or mail. stderr, when it is
// the console, takes --log-format.
func newCommand(name string, stdout, stderr io.Writer) *command {
	c := &command{o: defaultRunOptions(), stderr: stderr}
	c.o.console, _ = stderr.(*console)
	o := c.o
	switch name {
	case "run":
		c.fs = newFlagSet("run", "run --instances FILE | --instance-id ID | --discover [flags]", stdout)
		o.bindTargets(c.fs)
		o.bindAWS(c.fs)
		o.bindOrg(c.fs)
		o.bindFetch(c.fs)
		o.bindOutput(c.fs, "")
		// Left empty, not the default itself, so that run can tell that
		// --out was not given (--resume needs it); the help shows what
		// run takes then (runCmd).
		c.fs.Lookup("out").Usage += " (default ./audit-{time})"
		c.fs.BoolVar(&o.resume, "resume", false, "continue the record in --out: skip instances already audited, retry those in error")
		c.fs.Lookup("baseline").Usage += "; a --resume keeps the one its run started with"
		o.delivery.bind(c.fs, "mail-to", true)
		o.delivers = true
	case "demo":
		c.fs = newFlagSet("demo", "demo [--fleet-size N] [--seed S] [--out DIR] [flags]", stdout)
		c.fleetSize = c.fs.Int("fleet-size", 300, "`N` instances in the simulated fleet")
		c.seed = c.fs.Int64("seed", 1, "seed `S` of the simulated fleet: the same seed, the same fleet")
		c.orgAccounts = c.fs.Int("accounts", 0, "simulate an organisation of `N` accounts, discovered and audited through assumed roles")
		c.orgRegions = c.fs.Int("regions", 0, "simulate `N` regions in each account (with --accounts; default 1)")
		o.bindFetch(c.fs)
		o.bindOutput(c.fs, "auditor-demo")
	case "report":
		c.fs = newFlagSet("report", "report RECORD... --out DIR [flags]", stdout)
		o.bindOutput(c.fs, "")
		o.delivery.bind(c.fs, "mail-to", true)
		bindDeliveryAWS(c.fs, o)
		o.delivers, o.merging = true, true
	case "mail":
		c.fs = newFlagSet("mail", "mail DIR --to ADDRESSES --mail-from ADDRESS (--smtp URL | --mail-via ses) [flags]", stdout)
		o.delivery.bind(c.fs, "to", false)
		bindDeliveryAWS(c.fs, o)
		o.bindStderr(c.fs, "no line on stderr for each mail sent, only warnings, errors and what to do next")
	default:
		panic("newCommand: no command " + name)
	}
	c.layers = bindLayers(c.fs, o.getenv, o.environ)
	return c
}

// parse parses args (flags only, or flags and arguments in any order when
// interspersed), applies the environment and --cli-input-json, sets the
// log format of stderr, and warns there of AUDITOR_* variables that no
// command reads, refused or not. It returns the positional arguments.
func (c *command) parse(ctx context.Context, args []string, interspersed bool, stdout io.Writer) ([]string, error) {
	c.layers.ctx = ctx
	pos, err := c.parseLogged(args, interspersed, stdout)
	if !errors.Is(err, flag.ErrHelp) {
		// In the log format just set, before the refusal if any.
		c.layers.warnUnknown(c.stderr)
	}
	return pos, err
}

func (c *command) parseLogged(args []string, interspersed bool, stdout io.Writer) ([]string, error) {
	pos, err := c.parseArgs(args, interspersed, stdout)
	if err != nil {
		if c.o.console != nil && c.failedLogFormat(args, interspersed) == logJSON {
			// The error that ends the program is a record, as every
			// other is: exitFor writes it through the console.
			c.o.console.setFormat(logJSON)
		}
		return nil, err
	}
	if c.o.console != nil {
		if err := c.o.console.setFormat(c.o.logFormat); err != nil {
			return nil, c.o.joinProblems([]error{err})
		}
		c.o.sdkLogger = c.o.console.sdkLogger()
	}
	return pos, nil
}

// failedLogFormat is the log format that args ask for when parsing them
// failed, as far as it can be told exactly: the last --log-format on the
// command line, read as the parser reads it even past the mistake that
// stopped it; else AUDITOR_LOG_FORMAT; else the --cli-input-json file's
// (read here when the command line failed before it was); else what
// parsing set before it failed, the default. ""
// for a command without --log-format.
func (c *command) failedLogFormat(args []string, interspersed bool) string {
	const name = "log-format"
	if c.fs.Lookup(name) == nil {
		return ""
	}
	if v, ok := flagArg(c.fs.FlagSet, args, interspersed, name); ok {
		return v
	}
	if v := c.layers.env(name); v != "" {
		return v
	}
	file := c.layers.file
	if file == nil {
		// The command line failed before the options file it names was
		// read: the file may ask json all the same.
		file = c.layers.peekInput(flagArg(c.fs.FlagSet, args, interspersed, inputJSONFlag))
	}
	var v string
	if raw, ok := file[name]; ok && json.Unmarshal(raw, &v) == nil {
		// The options file asked it (the one it was refused for, or the
		// one the refused command line names).
		return v
	}
	return c.o.logFormat
}

func (c *command) parseArgs(args []string, interspersed bool, stdout io.Writer) ([]string, error) {
	var pos []string
	if interspersed {
		var err error
		if pos, err = parseInterspersed(c.fs, args); err != nil {
			return nil, err
		}
	} else {
		if err := parseFlags(c.fs, args); err != nil {
			return nil, err
		}
		pos = c.fs.Args()
	}
	// Positional arguments are paths (report's records, mail's
	// directory): a ~ unexpanded is home, as for a flag of a path.
	for i, p := range pos {
		e, err := homeExpanded(p)
		if err != nil {
			return nil, usagef("%v", err)
		}
		pos[i] = e
	}
	// Before the environment and the file: an empty value there is one
	// left unset (a skeleton's "accounts": ""), on the command line one
	// given, unless it empties an AUDITOR_* variable's or the file's
	// ("not these").
	var onLine []string
	c.fs.Visit(func(f *flag.Flag) { onLine = append(onLine, f.Name) })
	err := c.layers.apply(stdout)
	// After apply: AUDITOR_CLI_INPUT_JSON may name the file.
	c.o.inputJSON = c.layers.input
	c.o.origins = c.layers.origins()
	c.o.given = map[string]bool{}
	for _, name := range onLine {
		c.o.given[name] = !c.layers.valued(name)
	}
	// A value in the environment or the file that is the default was not
	// chosen: --generate-cli-skeleton writes every default into the file.
	// Nor was one from the environment: an AUDITOR_* variable reaches
	// every command of a job, and those the auditor prints to run again.
	c.o.chosen = map[string]bool{}
	c.fs.Visit(func(f *flag.Flag) {
		v := f.Value.String()
		_, line := c.o.given[f.Name]
		if !line && slices.Contains(c.layers.fromEnv, envName(f.Name)) {
			return
		}
		if v != f.DefValue || line && v != "" {
			c.o.chosen[f.Name] = true
		}
	})
	return pos, err
}

// Flags returns the flags of a command (run, demo, report, mail or simulate), as
// its --generate-cli-skeleton lists them, each with whether it is boolean;
// --cli-input-json and --generate-cli-skeleton are included.
func Flags(command string) (map[string]bool, error) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{command, "--" + skeletonFlag}, nil, &out, &errb); code != 0 {
		return nil, fmt.Errorf("auditor %s --%s: exit %d: %s", command, skeletonFlag, code, errb.String())
	}
	var skeleton map[string]any
	if err := json.Unmarshal(out.Bytes(), &skeleton); err != nil {
		return nil, fmt.Errorf("auditor %s --%s: %w", command, skeletonFlag, err)
	}
	flags := map[string]bool{inputJSONFlag: false, skeletonFlag: true}
	for name, v := range skeleton {
		_, isBool := v.(bool)
		flags[name] = isBool
	}
	return flags, nil
}
