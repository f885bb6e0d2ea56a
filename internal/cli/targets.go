package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/auditor-dev/auditor/audit"
)

// loadFleet reads every --instances list and --instance-id. Reading can be
// interrupted: a list may be a slow pipe, standard input a terminal, or a
// FIFO that nobody writes (opening it blocks), and a signal must still end
// the run at once, with errInterrupted, and --timeout with errTimedOut. Lists are read in a goroutine that
// is abandoned on interrupt; the process is about to exit.
func (o *runOptions) loadFleet(ctx context.Context, stdin io.Reader, stderr io.Writer) (*audit.Fleet, error) {
	if len(o.instances.vals) == 0 && len(o.instanceIDs.vals) == 0 {
		if o.discover {
			return &audit.Fleet{}, nil // discovery finds them
		}
		return nil, usagef("no instances to audit: pass --instances FILE (- for stdin), --instance-id ID, or --discover")
	}
	if slices.Contains(o.instances.vals, "-") && o.isTerminal != nil && o.isTerminal(stdin) {
		fmt.Fprintln(stderr, "auditor: reading instance IDs from standard input, one a line; end with Ctrl-D")
	}
	type result struct {
		f   *audit.Fleet
		err error
	}
	var reading atomic.Pointer[string] // the list being read
	done := make(chan result, 1)
	go func() {
		f, err := o.readFleet(stdin, func(name string) { reading.Store(&name) })
		done <- result{f, err}
	}()
	rctx := ctx
	if !o.deadline.IsZero() {
		var cancel context.CancelFunc
		rctx, cancel = context.WithDeadline(ctx, o.deadline)
		defer cancel()
	}
	var r result
	read := false
	select {
	case r = <-done:
		// Both may be ready at once (a deadline already past, a short
		// file), and select picks either: a deadline past is said the
		// same way whichever it picked.
		if rctx.Err() == nil {
			return r.f, r.err
		}
		read = true
	case <-rctx.Done():
	}
	if ctx.Err() != nil {
		return nil, errInterrupted
	}
	if len(o.instances.vals) == 0 {
		if !read {
			r = <-done // --instance-id alone is read at once
		}
		return r.f, r.err
	}
	name := o.instances.vals[0] // the reader has not begun
	if p := reading.Load(); p != nil {
		name = *p
	}
	if read || regularFile(name, stdin) {
		// The list ended, or nothing writes to it: the time was too
		// short.
		return nil, fmt.Errorf("--instances %s: --timeout %s ran out while the list was being read (too short?): %w", shownPath(name), o.timeout, errTimedOut)
	}
	return nil, fmt.Errorf("--instances %s: the list had not ended when --timeout %s ran out (check what writes to it): %w", shownPath(name), o.timeout, errTimedOut)
}

// regularFile reports whether the list name (- for stdin) is a regular
// file, which ends by itself, rather than a pipe, a FIFO or a terminal,
// which end when what writes to them says so. Stat does not open a FIFO,
// so it does not wait for a writer.
func regularFile(name string, stdin io.Reader) bool {
	var st os.FileInfo
	var err error
	if name == "-" {
		f, ok := stdin.(*os.File)
		if !ok {
			return false
		}
		st, err = f.Stat()
	} else {
		st, err = os.Stat(name)
	}
	return err == nil && st.Mode().IsRegular()
}

// readFleet reads the lists, calling reading with each list's name before
// it reads it.
func (o *runOptions) readFleet(stdin io.Reader, reading func(name string)) (*audit.Fleet, error) {
	f := &audit.Fleet{}
	// The lists that held no instance IDs: one among others, as one alone,
	// is refused, so that a failed export is not passed over in silence.
	var empty []string
	held := func() int { return f.Len() + len(f.Invalid) + f.Duplicates }
	stdinRead := false
	for _, name := range o.instances.vals {
		reading(name)
		before := held()
		if name == "-" {
			if stdin == nil {
				return nil, usagef("--instances -: no standard input")
			}
			if stdinRead {
				// Read to its end already: the second would be empty.
				return nil, usagef("--instances - is given more than once: standard input is read once: give it once")
			}
			stdinRead = true
			if err := f.Read(stdin, "-"); err != nil {
				return nil, usagef("%v", err)
			}
			if held() == before {
				empty = append(empty, "- (standard input)")
			}
			continue
		}
		fh, err := os.Open(name)
		if errors.Is(err, fs.ErrNotExist) && strings.Contains(name, ",") {
			return nil, usagef("--instances %s does not exist: the flag takes one file: repeat it, once a file (%s)", shownArg(name), repeated("--instances", name))
		}
		if err != nil {
			return nil, usagef("--instances: %v", err)
		}
		if st, err := fh.Stat(); err == nil && st.IsDir() {
			fh.Close()
			return nil, usagef("--instances %s is a directory: name a file of instance IDs", shownPath(name))
		}
		err = f.Read(fh, name)
		fh.Close()
		if re := (*audit.ReadError)(nil); errors.As(err, &re) {
			re.Path = shownPath(re.Path) // the record keeps the name as it is
		}
		if err != nil {
			return nil, usagef("%v", err)
		}
		if held() == before {
			empty = append(empty, shownPath(name))
		}
	}
	for _, id := range o.instanceIDs.vals {
		if strings.Contains(id, ",") {
			return nil, usagef("--instance-id %q: contains a comma: the flag takes one ID: repeat it, once an ID (%s), or list them in a file for --instances", id, repeated("--instance-id", id))
		}
		f.AddID(instanceIDSource, id, "", "")
	}
	if f.Len() == 0 && len(f.Invalid) == 0 && !o.discover {
		var named []string
		for _, v := range append(o.instances.vals, o.instanceIDs.vals...) {
			if v == "-" {
				v = "standard input"
			}
			named = append(named, shownPath(v))
		}
		return nil, usagef("no instances to audit: %s held no instance IDs", strings.Join(named, ", "))
	}
	if len(empty) > 0 && !o.discover {
		it := "it"
		if len(empty) > 1 {
			it = "them"
		}
		return nil, usagef("--instances %s held no instance IDs (a failed export?): fill %s, or leave %s out", strings.Join(empty, ", "), it, it)
	}
	if err := f.Err(); err != nil && !o.skipInvalid {
		if ie := (*audit.InputError)(nil); errors.As(err, &ie) && o.discover {
			ie.Rest = true // what discovery finds
		}
		return nil, err
	}
	if f.Len() == 0 && !o.discover {
		// The first bad one says what is wrong with them, as the error
		// without --skip-invalid would.
		first := f.Invalid[0]
		what := first.Source + ": "
		if first.InstanceID != "" {
			what += audit.Quote(first.InstanceID) + ": "
		}
		none := "none in " + plural(len(f.Invalid), "line")
		if slices.ContainsFunc(f.Invalid, func(t audit.Target) bool { return t.Source == instanceIDSource }) {
			none = fmt.Sprintf("none of the %d given", len(f.Invalid))
		}
		return nil, usagef("%s%s; --skip-invalid needs at least one valid ID (%s)", what, first.Problem, none)
	}
	return f, nil
}

// instanceIDSource is the Source of a target given with --instance-id.
const instanceIDSource = "--instance-id"

// repeated returns flag given once for each comma-separated part of value,
// as a command line: what a value that holds a comma meant to say. Each
// part is shown as shownArg shows it (a URL without its login).
func repeated(flag, value string) string {
	var args []string
	for _, part := range strings.Split(value, ",") {
		if part = strings.TrimSpace(part); part != "" {
			args = append(args, flag, shownArg(part))
		}
	}
	return shellCommand(args...)
}
