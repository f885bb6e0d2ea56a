// Package earlysig catches SIGINT and SIGTERM from the moment the process
// has initialised the standard library, before the packages that take
// longest to initialise (the SDK's SSM schemas, excelize: 60 to 130 ms on
// a busy 2-core machine). Until a handler is installed a SIGTERM kills
// the process with no word and no reports, and a SIGINT that a shell's
// background job ignores on start is dropped, so the whole audit runs.
//
// It imports only the standard library, and its import path sorts before
// those of the SDK and the other modules, so that Go (since 1.21: the
// first package in import-path order whose imports are initialised goes
// first) initialises it before them. package main imports it and hands C
// to cli.NotifyContext, which reads the signals that came before it.
package earlysig

import (
	"os"
	"os/signal"
	"syscall"
)

// C receives the process's SIGINT and SIGTERM from its initialisation on.
var C = make(chan os.Signal, 4)

func init() {
	signal.Notify(C, os.Interrupt, syscall.SIGTERM)
}
