package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/auditor-dev/auditor/awsconn"
)

// openTerminal opens the terminal of the process, to ask a person for what
// neither the flags nor the configuration can hold; a variable so that a
// test can stand in for one.
var openTerminal = openTTY

func openTTY() (io.ReadWriteCloser, error) { return os.OpenFile("/dev/tty", os.O_RDWR, 0) }

// defaultMFAWait is how long the MFA prompt waits for a code. A person at
// the terminal answers within a minute, a hardware token found included
// (a code changes every 30 s); a job started with a terminal that nobody
// is at (script -c from cron, docker run -t, ssh -t) is told so soon,
// well before a --timeout or a next schedule. The prompt comes again at
// each renewal of the role's session, and a run whose person has gone
// stops there rather than waiting without end.
const defaultMFAWait = 2 * time.Minute

// mfaWait is defaultMFAWait, a variable so that a test can wait less.
var mfaWait = defaultMFAWait

// hasTerminal reports whether the process has a terminal to ask at: one
// started by cron or systemd, or in a container without -t, has none, and
// one in the background of its terminal may not use it.
func hasTerminal() bool {
	tty, err := openTerminal()
	if err != nil {
		return false
	}
	defer tty.Close()
	return foreground(tty)
}

// foreground reports whether the process may use tty without being
// stopped by it: not a job in the background of its terminal (see
// inForeground). A stand-in that is no file is.
func foreground(tty io.ReadWriteCloser) bool {
	f, ok := tty.(*os.File)
	if !ok {
		return true
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return true
	}
	fg := true
	rc.Control(func(fd uintptr) { fg = inForeground(int(fd)) })
	return fg
}

// prompter asks a person at the terminal for the MFA codes of one command.
// Its close ends a prompt still waiting (the command stopped by a signal,
// --timeout, or a fatal error while a renewal asked) and returns once the
// terminal is as it was: the process may exit next. Safe for concurrent
// use.
type prompter struct {
	ctx    context.Context
	cancel context.CancelFunc
	// deadline, when set, is --timeout's: no prompt waits past it.
	deadline func() time.Time

	mu     sync.Mutex
	closed bool
	asking sync.WaitGroup
}

// newPrompter returns a prompter whose prompts end with ctx.
func newPrompter(ctx context.Context, deadline func() time.Time) *prompter {
	ctx, cancel := context.WithCancel(ctx)
	return &prompter{ctx: ctx, cancel: cancel, deadline: deadline}
}

// ask asks for a code of the MFA device serial (see askMFACode).
func (p *prompter) ask(serial string) (string, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return "", errors.New("the command has ended")
	}
	p.asking.Add(1)
	p.mu.Unlock()
	defer p.asking.Done()
	ctx := p.ctx
	if d := p.deadline(); !d.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d)
		defer cancel()
	}
	return askMFACode(ctx, serial, mfaWait)
}

// close ends any prompt and waits until the terminal is given back.
func (p *prompter) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.cancel()
	p.asking.Wait()
}

// askMFACode asks at the terminal for a code of the MFA device serial (a
// role_arn profile's mfa_serial), as the aws CLI does, and reads it without
// echo. The terminal, not standard input, which may be a list of instances
// (--instances -), and not stderr, which may be a log.
//
// It gives up when ctx is done, and after wait without an answer, with an
// error that wraps awsconn.ErrMFANoAnswer. Whatever the end, the terminal
// echoes again and the prompt's line is ended, so that nothing typed later
// is hidden and the next message starts on a line of its own.
func askMFACode(ctx context.Context, serial string, wait time.Duration) (string, error) {
	tty, err := openTerminal()
	if err != nil {
		return "", fmt.Errorf("opening the terminal: %w", err)
	}
	defer tty.Close() // also ends a read left waiting
	if !foreground(tty) {
		// Put in the background since it started: its terminal would
		// stop it at the prompt.
		return "", fmt.Errorf("%w: the run is in the background of its terminal", awsconn.ErrMFANoAnswer)
	}
	restore, hidden, err := hideInput(tty)
	if err != nil {
		return "", fmt.Errorf("turning off the terminal's echo: %w", err)
	}
	defer restore()
	fmt.Fprintf(tty, "Enter MFA code for %s: ", plain(serial, 200))
	type answer struct {
		line string
		err  error
	}
	got := make(chan answer, 1)
	go func() {
		line, err := bufio.NewReader(tty).ReadString('\n')
		got <- answer{line, err}
	}()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	var a answer
	select {
	case a = <-got:
		if hidden {
			fmt.Fprintln(tty) // the line break that was not echoed
		}
	case <-ctx.Done():
		fmt.Fprintln(tty)
		return "", ctx.Err()
	case <-timer.C:
		fmt.Fprintln(tty)
		return "", fmt.Errorf("%w within %s", awsconn.ErrMFANoAnswer, wait)
	}
	if code := strings.TrimSpace(a.line); code != "" {
		return code, nil
	}
	if a.err == nil || errors.Is(a.err, io.EOF) {
		a.err = errors.New("none was entered")
	}
	return "", a.err
}

// hideInput turns off the echo of tty, when it is a terminal, and returns
// what gives it back as it was (term.GetState's). hidden tells whether the
// echo was turned off. The file is reached through its SyscallConn, which
// keeps it in non-blocking mode, so that closing it ends a read.
func hideInput(tty io.ReadWriteCloser) (restore func(), hidden bool, err error) {
	restore = func() {}
	f, ok := tty.(*os.File)
	if !ok {
		return restore, false, nil
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return restore, false, err
	}
	var saved *term.State
	cerr := rc.Control(func(fd uintptr) {
		if !term.IsTerminal(int(fd)) {
			return
		}
		if saved, err = term.GetState(int(fd)); err == nil {
			err = echoOff(int(fd))
		}
	})
	if cerr != nil {
		err = cerr
	}
	if err != nil || saved == nil {
		return restore, false, err
	}
	return func() { rc.Control(func(fd uintptr) { term.Restore(int(fd), saved) }) }, true, nil
}
