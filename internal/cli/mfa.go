package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// openTerminal opens the terminal of the process, to ask a person for what
// neither the flags nor the configuration can hold; a variable so that a
// test can stand in for one.
var openTerminal = openTTY

func openTTY() (io.ReadWriteCloser, error) { return os.OpenFile("/dev/tty", os.O_RDWR, 0) }

// hasTerminal reports whether the process has a terminal to ask at: one
// started by cron or systemd, or in a container without -t, has none.
func hasTerminal() bool {
	tty, err := openTerminal()
	if err != nil {
		return false
	}
	tty.Close()
	return true
}

// askMFACode asks at the terminal for a code of the MFA device serial (a
// role_arn profile's mfa_serial), as the aws CLI does, and reads it without
// echo. The terminal, not standard input, which may be a list of instances
// (--instances -), and not stderr, which may be a log.
func askMFACode(serial string) (string, error) {
	tty, err := openTerminal()
	if err != nil {
		return "", fmt.Errorf("opening the terminal: %w", err)
	}
	defer tty.Close()
	fmt.Fprintf(tty, "Enter MFA code for %s: ", plain(serial, 200))
	var line string
	if f, ok := tty.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		b, rerr := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(tty) // the line break that was not echoed
		line, err = string(b), rerr
	} else {
		line, err = bufio.NewReader(tty).ReadString('\n')
	}
	if code := strings.TrimSpace(line); code != "" {
		return code, nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = errors.New("none was entered")
	}
	return "", err
}
