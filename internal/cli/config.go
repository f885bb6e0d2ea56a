package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Options can come from four places, in this order of precedence, as the
// AWS CLI and most schedulers expect: a flag on the command line; the
// environment variable AUDITOR_<FLAG> (upper case, dashes as underscores:
// AUDITOR_MAX_PAGES); a JSON file given with --cli-input-json, whose keys
// are the flag names; the default. --generate-cli-skeleton prints every
// option of a command with its default, in the file's form, so that a
// scheduled job's configuration can live in one reviewed file.
//
// Secrets are never options: credentials come from the AWS configuration,
// the SMTP user and password from AUDITOR_SMTP_USERNAME and
// AUDITOR_SMTP_PASSWORD only. A key that is not an option is an error.

const (
	inputJSONFlag = "cli-input-json"
	skeletonFlag  = "generate-cli-skeleton"
)

// layered binds --cli-input-json and --generate-cli-skeleton to fs.
type layered struct {
	// ctx ends the reading of a --cli-input-json file that is not a
	// regular one (readInputFile); nil reads it to its end.
	ctx      context.Context
	fs       *flagSet
	input    string
	skeleton bool
	getenv   func(string) string
	// environ lists the environment that getenv reads, NAME=VALUE, as
	// os.Environ does: unknownEnv reads its names.
	environ func() []string
	// fromEnv and fromFile name the options apply took from AUDITOR_*
	// (the variables) and from the --cli-input-json file (the keys).
	fromEnv, fromFile []string
	// file is the --cli-input-json file's options as read, nil without
	// one.
	file map[string]json.RawMessage
	// inputFrom names where input came from in messages: the flag, or
	// AUDITOR_CLI_INPUT_JSON.
	inputFrom string
}

// valued reports whether the environment or the --cli-input-json file
// gives the option a value that is not empty, before the command line
// sets it: an empty value there then says "not that".
func (l *layered) valued(name string) bool {
	if l.env(name) != "" {
		return true
	}
	raw, ok := l.file[name]
	if !ok {
		return false
	}
	vals, err := jsonValues(raw)
	return err == nil && slices.ContainsFunc(vals, func(v string) bool { return v != "" })
}

// origins says where the options not on the command line came from (the
// variables by name only: a value may hold a URL with a login), or "" when
// all came from it: appended to the problems found once the flags are parsed, so
// that whoever reads "--format ..." and finds no such flag in a scheduled
// job's command line knows where to look.
func (l *layered) origins() string {
	var parts []string
	if len(l.fromEnv) > 0 {
		parts = append(parts, "from the environment: "+strings.Join(l.fromEnv, ", "))
	}
	if len(l.fromFile) > 0 {
		// The file is in view; the environment is not.
		parts = append(parts, "from "+l.inputFrom+" "+l.input)
	}
	if len(parts) == 0 {
		return ""
	}
	return "(options " + strings.Join(parts, "; ") + ")"
}

func bindLayers(fs *flagSet, getenv func(string) string, environ func() []string) *layered {
	l := &layered{fs: fs, getenv: getenv, environ: environ, inputFrom: "--" + inputJSONFlag}
	fs.StringVar(&l.input, inputJSONFlag, "", "read options from this JSON `FILE` (keys are flag names; flags and AUDITOR_<FLAG> variables override it)")
	fs.BoolVar(&l.skeleton, skeletonFlag, false, "print every option of this command with its default as JSON for --cli-input-json, and exit")
	return l
}

// env is the value of a flag's variable without the line ends after it:
// a YAML "|" block, a Kubernetes ConfigMap's file or a value written on
// Windows ends in one, which no option means (no path, list or number ends
// in a newline), as a list's items are taken without the blanks around
// them. An empty value, or one of line ends only, leaves the option unset.
func (l *layered) env(flagName string) string {
	return strings.TrimRight(l.getenv(envName(flagName)), "\r\n")
}

// envPrefix starts the name of every variable the auditor reads.
const envPrefix = "AUDITOR_"

// envName is the environment variable of a flag.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// testEnv are the AUDITOR_* variables that the project's own tests read,
// not the auditor: CI sets them for every test, the auditor's included,
// so they are no mistake.
var testEnv = []string{"AUDITOR_REQUIRE_AWSCLI", "AUDITOR_REQUIRE_CHROMIUM", "AUDITOR_BENCH_SIMULATOR", "AUDITOR_SCREENSHOT_DIR"}

// readEnv returns the variables that the auditor reads, sorted: that of
// every flag of every command, since one job's variables reach each of its
// commands (AUDITOR_TO is mail's, not a mistake in a run), and the SMTP
// login.
func readEnv() []string {
	names := []string{envSMTPUser, envSMTPPassword}
	for _, c := range commands {
		flags, err := Flags(c)
		if err != nil {
			continue
		}
		for f := range flags {
			names = append(names, envName(f))
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// unknownEnv returns a warning, without "auditor: warning: ", for each
// variable of environ (NAME=VALUE, as os.Environ lists them) that starts
// AUDITOR_ and that neither the auditor nor its tests read, one per name,
// in the order of the names: a misspelled AUDITOR_FAIL_ONN would
// otherwise leave a job's compliance gate off without a word. A variable
// whose value is empty is left out: set right, it would leave its option
// unset all the same. No value is told; one may hold a secret.
func unknownEnv(environ []string) []string {
	var names []string
	for _, kv := range environ {
		name, v, _ := strings.Cut(kv, "=")
		if strings.TrimRight(v, "\r\n") == "" {
			continue
		}
		if runtime.GOOS == "windows" {
			// Windows reads the variables whatever their case.
			name = strings.ToUpper(name)
		}
		if strings.HasPrefix(name, envPrefix) && !slices.Contains(testEnv, name) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	slices.Sort(names)
	known := readEnv()
	var msgs []string
	for _, name := range slices.Compact(names) {
		if _, found := slices.BinarySearch(known, name); found {
			continue
		}
		msgs = append(msgs, name+" is not an option of any auditor command, and is ignored"+didYouMean(name, known))
	}
	return msgs
}

// warnUnknown writes to w (nil: nowhere) the warnings of unknownEnv for
// the environment, once the options are read; not for
// --generate-cli-skeleton, which Flags runs to learn them.
func (l *layered) warnUnknown(w io.Writer) {
	if w == nil || l.environ == nil || l.skeleton {
		return
	}
	for _, msg := range unknownEnv(l.environ()) {
		fmt.Fprintf(w, "auditor: warning: %s\n", msg)
	}
}

// apply fills the options that the command line left unset, from the
// environment and then from the --cli-input-json file. It returns
// errSkeleton after printing the skeleton when that was asked for.
func (l *layered) apply(stdout io.Writer) error {
	if l.skeleton {
		return l.printSkeleton(stdout)
	}
	set := map[string]bool{}
	l.fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if l.env(skeletonFlag) != "" {
		// Set for a scheduled job, it would make every run print the
		// skeleton and exit 0 without auditing anything.
		return usagef("%s: --%s is taken on the command line only; unset the variable", envName(skeletonFlag), skeletonFlag)
	}
	if v := l.env(inputJSONFlag); v != "" && !set[inputJSONFlag] {
		// As for every option, the flag wins over the variable, and an
		// empty --cli-input-json= reads no file.
		p, err := homeExpanded(v)
		if err != nil {
			return usagef("%s: %v", envName(inputJSONFlag), err)
		}
		l.input, l.inputFrom = p, envName(inputJSONFlag)
	}
	var file map[string]json.RawMessage
	if l.input != "" {
		var err error
		file, err = l.readInput()
		// Kept when refused too: its log-format says how the refusal is
		// told (command.failedLogFormat).
		l.file = file
		if err != nil {
			return err
		}
	}
	var errs []error
	l.fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || f.Name == inputJSONFlag || f.Name == skeletonFlag {
			return
		}
		if v := l.env(f.Name); v != "" {
			l.fromEnv = append(l.fromEnv, envName(f.Name))
			if err := l.fs.Set(f.Name, v); err != nil {
				errs = append(errs, usagef("%s=%q: %v", envName(f.Name), v, err))
			}
			return
		}
		raw, ok := file[f.Name]
		if !ok {
			return
		}
		l.fromFile = append(l.fromFile, f.Name)
		vals, err := jsonValues(raw)
		if err == nil {
			for _, v := range vals {
				if err = l.fs.Set(f.Name, v); err != nil {
					break
				}
			}
		}
		if err != nil {
			errs = append(errs, usagef("%s %s: %q: %v", l.inputFrom, l.input, f.Name, err))
		}
	})
	return joinUsage(errs)
}

// peekInput returns the options of the --cli-input-json file that the
// command line names (path, when named) or else AUDITOR_CLI_INPUT_JSON,
// for how a command line refused before the file was read is told; nil
// when there is none, it is not a regular file, or it cannot be read as
// options. It checks nothing.
func (l *layered) peekInput(path string, named bool) map[string]json.RawMessage {
	if !named {
		path = l.env(inputJSONFlag)
	}
	path, err := homeExpanded(strings.TrimPrefix(path, "file://"))
	if err != nil {
		return nil
	}
	if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
		// Not a FIFO: opening one waits for a writer, and a refusal must
		// not wait.
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	// A file refused for a repeated key or text after its object still
	// tells its log-format, as it does once read.
	m, _ := decodeOptions(b)
	return m
}

// readInputFile reads path. One that is not a regular file (a FIFO, a
// process substitution) is read in a goroutine that a signal abandons, as
// the lists are (loadFleet): opening a FIFO that nobody writes blocks, and
// the signal must still end the command at once.
func (l *layered) readInputFile(path string) ([]byte, error) {
	if fi, err := os.Stat(path); err != nil || fi.Mode().IsRegular() || l.ctx == nil {
		return os.ReadFile(path)
	}
	type read struct {
		b   []byte
		err error
	}
	done := make(chan read, 1)
	go func() {
		b, err := os.ReadFile(path)
		done <- read{b, err}
	}()
	ctx, d := l.ctx, l.givenTimeout()
	if d > 0 {
		// The run's --timeout counts from its start, the reading of its
		// options and lists included: a job's must end it here too.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	select {
	case r := <-done:
		return r.b, r.err
	case <-ctx.Done():
	}
	switch {
	case l.ctx.Err() == nil:
		return nil, fmt.Errorf("%s %s had not ended when --timeout %s ran out (check what writes to it): %w", l.inputFrom, path, d, errTimedOut)
	case l.fs.Name() == "run":
		return nil, fmt.Errorf("%s %s: %w", l.inputFrom, path, errInterrupted)
	}
	return nil, fmt.Errorf("%s %s: %w", l.inputFrom, path, errInputInterrupted)
}

// givenTimeout is the --timeout of the command line, or else of its
// variable, as the file of options is read: 0 when there is none, or the
// command takes none.
func (l *layered) givenTimeout() time.Duration {
	if l.fs.Lookup("timeout") == nil {
		return 0
	}
	v := l.env("timeout")
	l.fs.Visit(func(f *flag.Flag) {
		if f.Name == "timeout" {
			v = f.Value.String()
		}
	})
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d <= 0 {
		return 0
	}
	return d
}

// readInput reads the --cli-input-json file (a path, or file://path as the
// AWS CLI writes it) as decodeOptions does, naming the file and the place
// in it, and checks that every key is an option.
func (l *layered) readInput() (map[string]json.RawMessage, error) {
	// file://~/job.json: no shell expands a ~ after file://, and the AWS
	// CLI takes it as home.
	path, err := homeExpanded(strings.TrimPrefix(l.input, "file://"))
	if err != nil {
		return nil, usagef("%s: %v%s", l.inputFrom, err, l.inputHint())
	}
	b, err := l.readInputFile(path)
	if errors.Is(err, errInterrupted) || errors.Is(err, errTimedOut) || errors.Is(err, errInputInterrupted) {
		return nil, err
	}
	if err != nil && strings.HasPrefix(strings.TrimSpace(path), "{") {
		// The AWS CLI's --cli-input-json takes the JSON itself. Here the
		// options of a scheduled job are a file, which ps does not show.
		return nil, usagef("%s takes a file of options, not the JSON itself: write the JSON to a file and name it (--cli-input-json FILE, or file://FILE)%s", l.inputFrom, l.inputHint())
	}
	if err != nil {
		return nil, usagef("%s: %v%s", l.inputFrom, err, l.inputHint())
	}
	m, err := decodeOptions(b)
	if pe := (*placeError)(nil); errors.As(err, &pe) {
		return m, usagef("%s %s%s: %s%s", l.inputFrom, path, pe.place(), pe.msg, l.inputHint())
	} else if err != nil {
		return m, usagef("%s %s: %v%s", l.inputFrom, path, err, l.inputHint())
	}
	var names []string
	l.fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	var errs []error
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		switch {
		case k == inputJSONFlag || k == skeletonFlag:
			errs = append(errs, usagef("%s %s: %q cannot be set in the file", l.inputFrom, path, k))
		case !slices.Contains(names, k):
			var msg string
			if others := commandsTaking(k, l.fs.Name()); others != "" {
				// A file written for another command, or shared through
				// AUDITOR_CLI_INPUT_JSON: the key is right where it came from.
				msg = fmt.Sprintf("%s %s: %q is an option of %s, not of auditor %s", l.inputFrom, path, k, others, l.fs.Name())
			} else {
				msg = fmt.Sprintf("%s %s: %q is not an option of auditor %s", l.inputFrom, path, k, l.fs.Name())
				if s := closest(k, names); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
				if looksSecret(k) {
					msg += "; secrets are never options: credentials come from the AWS configuration, mail passwords from AUDITOR_SMTP_PASSWORD"
				}
			}
			errs = append(errs, usagef("%s%s", msg, l.inputHint()))
		}
	}
	return m, joinUsage(errs)
}

// inputHint tells how to read no file when the variable named one: it
// applies to every command, whose options differ.
func (l *layered) inputHint() string {
	if l.inputFrom == "--"+inputJSONFlag {
		return ""
	}
	return "; --" + inputJSONFlag + "= on the command line reads no file"
}

// commandsTaking names the commands other than self that take the option
// name ("auditor run and auditor report"), in the order of the help; ""
// when none does.
func commandsTaking(name, self string) string {
	var taking []string
	for _, c := range commands {
		if c == self {
			continue
		}
		if flags, err := Flags(c); err == nil {
			if _, ok := flags[name]; ok {
				taking = append(taking, "auditor "+c)
			}
		}
	}
	return joinAnd(taking)
}

// joinAnd joins items as a sentence lists them: "a", "a and b", "a, b and
// c"; "" for none.
func joinAnd(items []string) string {
	if n := len(items); n > 1 {
		return strings.Join(items[:n-1], ", ") + " and " + items[n-1]
	}
	return strings.Join(items, "")
}

// looksSecret reports whether k, a key that is no command's option, names
// a secret: a password, a token, a secret or access key. An option's name
// may hold "key" (upload-kms-key, a KMS key's ID or alias): that alone is
// not one.
func looksSecret(k string) bool {
	k = strings.NewReplacer("-", "", "_", "", ".", "", " ", "").Replace(strings.ToLower(k))
	for _, w := range []string{"secret", "password", "passwd", "passphrase", "token", "credential", "accesskey", "apikey", "privatekey"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// jsonValues turns one JSON value into the strings flag.Set takes: an array
// gives one per element (a repeatable flag), a string itself, a number or a
// boolean its text.
func jsonValues(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, err
		}
		var out []string
		for _, it := range items {
			v, err := jsonScalar(it)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	v, err := jsonScalar(raw)
	if err != nil {
		return nil, err
	}
	return []string{v}, nil
}

func jsonScalar(raw json.RawMessage) (string, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", err
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case nil:
		return "", errors.New("null: leave the key out for the default")
	}
	return "", errors.New("want a string, a number, a boolean or a list of them")
}

// printSkeleton prints every option with its default, as JSON.
func (l *layered) printSkeleton(w io.Writer) error {
	var b bytes.Buffer
	b.WriteString("{\n")
	first := true
	l.fs.VisitAll(func(f *flag.Flag) {
		if f.Name == inputJSONFlag || f.Name == skeletonFlag {
			return
		}
		if !first {
			b.WriteString(",\n")
		}
		first = false
		k, _ := json.Marshal(f.Name)
		v, _ := json.Marshal(skeletonValue(f))
		fmt.Fprintf(&b, "  %s: %s", k, v)
	})
	b.WriteString("\n}\n")
	_, err := w.Write(b.Bytes())
	if err != nil {
		return err
	}
	return errSkeleton
}

// errSkeleton ends a command after --generate-cli-skeleton, exit 0.
var errSkeleton = flag.ErrHelp

// skeletonValue is a flag's default as JSON would hold it.
func skeletonValue(f *flag.Flag) any {
	if g, ok := f.Value.(flag.Getter); ok {
		switch v := g.Get().(type) {
		case time.Duration:
			return v.String()
		case []string:
			if v == nil {
				return []string{}
			}
			return v
		case bool, int, int64, uint, uint64, float64, string:
			return v
		}
	}
	return f.Value.String()
}
