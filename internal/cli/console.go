package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/aws/smithy-go/logging"
	"golang.org/x/term"

	"github.com/auditor-dev/auditor/internal/bidi"
)

// console is the CLI's stderr: logs, progress, warnings and the closing
// summary. In text form (the default) it passes lines through as they are
// written, for a person or a cron mail. In JSON form (--log-format json)
// every line becomes one log/slog JSON record ({"time", "level", "msg"}):
// a line written with logLine has the level it was given, a line that
// begins "auditor: " is a warning, an error from exitFor is an error, the
// rest is information; the AWS SDK's own log lines come through Logger with
// source "sdk". In both forms a character that would act on the terminal
// rather than show (see terminalText) is written escaped. It is safe for
// concurrent use.
type console struct {
	mu   sync.Mutex
	w    io.Writer
	json *slog.Logger // nil in text form
	part []byte       // an unfinished line, in JSON form
	// live is the status line shown in place on a terminal, if any.
	live string
	// sdkSaid counts the SDK's warnings of each kind (their format).
	sdkSaid map[string]int
}

func newConsole(w io.Writer) *console { return &console{w: w} }

// Log formats.
const (
	logText = "text"
	logJSON = "json"
)

// setFormat switches to the named form; it is called once the flags are
// parsed.
func (c *console) setFormat(format string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch format {
	case "", logText:
		c.json = nil
	case logJSON:
		c.json = slog.New(slog.NewJSONHandler(c.w, nil))
		if c.w == os.Stderr {
			dieLog.Store(c.json) // the second signal's line, in the same form
		}
	default:
		return usagef("--log-format %q: want text or json%s", format, didYouMean(format, []string{logText, logJSON}))
	}
	return nil
}

// Write writes text; in JSON form each complete line is a record.
func (c *console) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.json == nil {
		c.clearLive()
		if t := terminalText(string(p)); len(t) != len(p) {
			if _, err := io.WriteString(c.w, t); err != nil {
				return 0, err
			}
			return len(p), nil
		}
		return c.w.Write(p)
	}
	c.part = append(c.part, p...)
	for {
		i := bytes.IndexByte(c.part, '\n')
		if i < 0 {
			break
		}
		line := string(c.part[:i])
		c.part = c.part[i+1:]
		if strings.TrimSpace(line) == "" {
			continue
		}
		level := slog.LevelInfo
		if msg, ok := strings.CutPrefix(line, "auditor: "); ok {
			level, line = slog.LevelWarn, msg
		}
		c.json.Log(context.Background(), level, line)
	}
	return len(p), nil
}

// logLine writes one message to w, a line for each of its lines: in JSON
// form each is a record at level, whatever its words (a failure or a
// partial outcome does not always begin "auditor: "); in text form, or to
// any other writer, the lines are written as they are.
func logLine(w io.Writer, level slog.Level, format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	if c, ok := w.(*console); ok {
		c.mu.Lock()
		if c.json != nil {
			defer c.mu.Unlock()
			for _, line := range strings.Split(msg, "\n") {
				if strings.TrimSpace(line) == "" {
					continue
				}
				c.json.Log(context.Background(), level, strings.TrimPrefix(line, "auditor: "))
			}
			return
		}
		c.mu.Unlock()
	}
	fmt.Fprintln(w, msg)
}

// errorf writes the error that ends the program.
func (c *console) errorf(format string, a ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	msg := fmt.Sprintf(format, a...)
	if c.json != nil {
		c.json.Error(msg)
		return
	}
	c.clearLive()
	fmt.Fprintf(c.w, "auditor: %s\n", terminalText(msg))
}

// summary writes the closing summary's figures as one structured record in
// JSON form; in text form the lines already said it.
func (c *console) summary(attrs ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.json != nil {
		c.json.Info("summary", attrs...)
	}
}

// status shows s in place of the last status line (on a terminal only:
// callers check). An empty s clears it.
func (c *console) status(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clearLive()
	if s != "" {
		fmt.Fprint(c.w, s)
		c.live = s
	}
}

// clearLive wipes the status line before other output; c.mu is held.
func (c *console) clearLive() {
	if c.live != "" {
		fmt.Fprintf(c.w, "\r%s\r", strings.Repeat(" ", len(c.live)))
		c.live = ""
	}
}

// sdkLogger routes the AWS SDK's log lines (retry notices, IMDS fallbacks)
// through the console instead of the SDK's own "SDK 2026/..." lines on
// stderr.
func (c *console) sdkLogger() logging.Logger {
	return logging.LoggerFunc(func(cls logging.Classification, format string, v ...any) {
		// One line, capped, as other text from outside: the SDK's words
		// repeat what an endpoint sent (a Date header's parse holds the
		// header once for each form tried, a line each).
		msg := plain(terminalText(strings.TrimSpace(fmt.Sprintf(format, v...))), sdkTextMax)
		c.mu.Lock()
		defer c.mu.Unlock()
		if cls != logging.Warn {
			if c.json != nil {
				c.json.Log(context.Background(), slog.LevelDebug, msg, "source", "sdk")
			}
			return
		}
		// Some come at every dropped connection: each kind once, then
		// at the 10th, the 100th, ..., with the count, in either form.
		if c.sdkSaid == nil {
			c.sdkSaid = map[string]int{}
		}
		// The kind is the form of the message, and what it is about
		// when the form quotes it first (an endpoint's identifier), not
		// an error that differs every time (a Date header's parse).
		kind := format
		if i := strings.IndexByte(format, '%'); i >= 0 && strings.HasPrefix(format[i:], "%q") && len(v) > 0 {
			kind += "\x00" + fmt.Sprint(v[0]) // a name, quoted: an endpoint's
		}
		c.sdkSaid[kind]++
		n := c.sdkSaid[kind]
		times := ""
		switch {
		case n == 1:
		case tenPower(n):
			times = fmt.Sprintf("(%d times so far) ", n)
		default:
			return
		}
		if c.json != nil {
			c.json.Log(context.Background(), slog.LevelWarn, times+msg, "source", "sdk")
			return
		}
		c.clearLive()
		fmt.Fprintf(c.w, "auditor: AWS SDK: %s%s\n", times, msg)
	})
}

// sdkTextMax caps an SDK log line, as plain caps the other lines of text
// from outside.
const sdkTextMax = 500

// tenPower reports whether n is 10, 100, 1000, ...
func tenPower(n int) bool {
	for n >= 10 && n%10 == 0 {
		n /= 10
	}
	return n == 1
}

// terminal reports whether the console is text written to a terminal.
func (c *console) terminal() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.w.(*os.File)
	return ok && c.json == nil && term.IsTerminal(int(f.Fd()))
}

// terminalText is s with every character that would act on a terminal
// rather than show written as Go writes it in a quoted string: a control
// character but the line break and the tab (\x1b, \r, \a, \u009b), a
// bidi control (\u202e, which reverses the rest of the line) and a byte
// that is not UTF-8 (\xff). Messages repeat text from outside (a path
// given on the command line, a variable's value, a service's message):
// none of it may recolour, move the cursor, retitle or rewrite what the
// terminal that reads stderr shows.
func terminalText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			if b.Len() == 0 {
				b.WriteString(s[:i])
			}
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case !terminalSafe(r) && r != '\n':
			if b.Len() == 0 {
				b.WriteString(s[:i])
			}
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			if b.Len() > 0 {
				b.WriteString(s[i : i+n])
			}
		}
		i += n
	}
	if b.Len() == 0 {
		return s
	}
	return b.String()
}

// terminalSafe reports whether r shows as itself on a terminal, the tab
// among them; the line break is the caller's to allow.
func terminalSafe(r rune) bool {
	return r == '\t' || !unicode.IsControl(r) && !bidi.IsControl(r) && r != utf8.RuneError
}
