// Package nowait opens a file for reading without waiting for a writer when
// it is a FIFO: a path that should name a regular file (a run.json), put
// there by mistake or by someone else, must not hang the auditor in its
// open, where no signal ends it. The caller tells what it opened by its
// Stat.
package nowait

import "errors"

// BeforeOpen, unless nil, is called with the path that Open is given,
// before Open opens it, in Open's goroutine. It is nil except in tests,
// which set it to see what holds at the moment a file is read (whether a
// directory's lock is held, say) without putting anything in the file's
// place. A test sets it before the code that calls Open starts and back to
// nil once that code has ended: it is not guarded for use while Open runs.
var BeforeOpen func(path string)

func beforeOpen(path string) {
	if BeforeOpen != nil {
		BeforeOpen(path)
	}
}

// errNotRegular is why Open does not open what is not a regular file.
var errNotRegular = errors.New("not a regular file")
