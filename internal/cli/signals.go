package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"
)

// duplicateWindow is how soon after the first signal another counts as the
// same one sent twice rather than a person asking again.
const duplicateWindow = time.Second

// NotifyContext returns a context that the first SIGINT or SIGTERM cancels:
// the run stops starting instances and writes partial reports. A second
// signal ends the process at once, as the default handling would, unless it
// comes within a second of the first: that is the same signal sent twice,
// as timeout(1) does (to the command and to its process group) and as a
// Ctrl-C does that reaches both a wrapper script and the auditor. Were it
// obeyed, a scheduled job stopped by timeout would, now and then, leave no
// reports at all.
//
// sigs, when not nil, is a channel on which SIGINT and SIGTERM were
// notified already (package earlysig's, from the process's start), so that
// a signal that came before is read; nil notifies a channel of its own.
func NotifyContext(parent context.Context, sigs chan os.Signal) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(parent)
	if sigs == nil {
		sigs = make(chan os.Signal, 4)
	}
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go watchSignals(ctx, cancel, sigs, time.Now, die)
	return ctx, func() {
		signal.Stop(sigs)
		cancel()
	}
}

// SurviveBrokenPipes makes a write to a stdout or stderr whose reader is
// gone (auditor run ... 2>&1 | head -1, a log shipper that died) fail with
// EPIPE instead of ending the process: by default Go dies of SIGPIPE there
// (exit 141), in the middle of an audit or before its reports and their
// delivery. Every write to stdout and stderr ignores its error, so a dead
// log pipe changes neither the run nor its exit code. package main calls it
// once, first.
func SurviveBrokenPipes() {
	// Caught, not ignored: an ignored signal stays ignored in the
	// processes the auditor starts (a credential_process), a caught one
	// does not.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
}

// watchSignals is NotifyContext's loop: the first signal from sigs cancels,
// a later one at least duplicateWindow after it calls die. It returns when
// parent ends otherwise, or after die.
func watchSignals(ctx context.Context, cancel context.CancelFunc, sigs <-chan os.Signal, now func() time.Time, die func(os.Signal)) {
	var first time.Time
	for {
		select {
		case sig := <-sigs:
			switch {
			case first.IsZero():
				first = now()
				cancel()
			case now().Sub(first) >= duplicateWindow:
				die(sig)
				return
			}
		case <-ctx.Done():
			if first.IsZero() {
				return // cancelled by the caller, not by a signal
			}
			// Cancelled by the first signal: keep watching for a second.
			ctx = context.Background()
		}
	}
}

// dieLog is the JSON logger of a process that writes its stderr as JSON
// records (--log-format json), for die's line; nil writes text.
var dieLog atomic.Pointer[slog.Logger]

// dieResume is the command that continues the run of this process, once
// run knows it, for die's line: run again as it was, a command whose --out
// has {time} in it, or is the default, would start another run, and
// --resume refuses it.
var dieResume atomic.Pointer[string]

// dieMessage is die's line.
func dieMessage() string {
	// Reports and a delivery under way are cut short; the record, synced
	// as it goes, is not.
	const msg = "stopped at once by a second signal: the files written whole stay, the reports may be missing or out of date; "
	if cmd := dieResume.Load(); cmd != nil {
		return msg + "the record holds what was audited: continue with: " + *cmd
	}
	return msg + "run the same command again (auditor run with --resume: the record holds what was audited)"
}

// die ends the process by sig with its default handling, so that a shell
// sees the usual status (130 for SIGINT); where a signal cannot be sent to
// oneself (PID 1 in a container), it exits with that status.
func die(sig os.Signal) {
	msg := dieMessage()
	if l := dieLog.Load(); l != nil {
		l.Error(msg)
	} else {
		fmt.Fprintln(os.Stderr, "auditor: "+msg)
	}
	signal.Reset(os.Interrupt, syscall.SIGTERM)
	os.Exit(dieBy(sig, os.Getpid() == 1, raise))
}

// dieBy is die's end once its handler is reset: it sends sig to the
// process itself with raise, unless the process is PID 1, and returns the
// status to exit with should the process still be alive. The kernel drops
// a signal of default action that PID 1 (the auditor as a container's
// ENTRYPOINT) sends to itself, and Go would then exit 2, a usage error's
// status: PID 1 exits with 128 + the signal's number instead.
func dieBy(sig os.Signal, pid1 bool, raise func(os.Signal) bool) int {
	if !pid1 && raise(sig) {
		time.Sleep(time.Second) // the signal is on its way
	}
	code := 130
	if s, ok := sig.(syscall.Signal); ok {
		code = 128 + int(s)
	}
	return code
}

// raise sends sig to the process itself; it reports whether it was sent.
func raise(sig os.Signal) bool {
	p, err := os.FindProcess(os.Getpid())
	return err == nil && p.Signal(sig) == nil
}
