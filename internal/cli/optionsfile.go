package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/auditor-dev/auditor/audit"
)

// placeError is a problem in the --cli-input-json file at a place in it:
// line and col count from 1 (col in characters, as an editor shows it); a
// zero col is not told, nor a zero line.
type placeError struct {
	line, col int
	msg       string
}

// place is ":LINE:COL", ":LINE" or "", to follow the file's name.
func (e *placeError) place() string {
	switch {
	case e.line == 0:
		return ""
	case e.col == 0:
		return ":" + strconv.Itoa(e.line)
	}
	return ":" + strconv.Itoa(e.line) + ":" + strconv.Itoa(e.col)
}

func (e *placeError) Error() string { return e.place() + ": " + e.msg }

// decodeOptions reads b, an options file, as one JSON object, blanks after
// it being fine; a UTF-8 BOM before it, which editors on Windows write, is
// skipped, and places are counted without it. It refuses what
// encoding/json drops without a word and that would change the options: a
// key that an object, at any depth, gives twice (the later would win) and
// text after the object (it would be ignored). The error is a *placeError,
// with the line and column of a syntax error. The options are returned
// with the error too when the object itself could be read, so that its
// log-format can tell the refusal; nil when it could not.
func decodeOptions(b []byte) (map[string]json.RawMessage, error) {
	if audit.UTF16(b) {
		// What PowerShell 5's > writes.
		return nil, &placeError{msg: "UTF-16 text: save the file as UTF-8"}
	}
	b = bytes.TrimPrefix(b, []byte("\xEF\xBB\xBF"))
	var m map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&m); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return nil, &placeError{msg: "empty: want a JSON object of options (--generate-cli-skeleton prints one)"}
		case errors.Is(err, io.ErrUnexpectedEOF):
			line, _ := position(b, len(b))
			return nil, &placeError{line: line, msg: "not a JSON object of options: the file ends before the object does"}
		case errors.As(err, &syn):
			return nil, placeErrorAt(b, syn.Offset-1, "not a JSON object of options: %v", err)
		case errors.As(err, &typ):
			// The values are raw: only the top-level value can be of
			// the wrong type.
			return nil, placeErrorAt(b, start(b), "not a JSON object of options but %s", aJSON(typ.Value))
		}
		return nil, &placeError{msg: "not a JSON object of options: " + err.Error()}
	}
	if m == nil {
		// null decodes into a map without an error, and would read as
		// a file of no options.
		return nil, placeErrorAt(b, start(b), "not a JSON object of options but null")
	}
	end := int(dec.InputOffset())
	if err := repeatedKey(b[:end]); err != nil {
		return m, err
	}
	rest := bytes.TrimLeft(b[end:], " \t\r\n")
	if len(rest) == 0 {
		return m, nil
	}
	at := int64(len(b) - len(rest))
	text, _, _ := bytes.Cut(rest, []byte("\n"))
	text = bytes.TrimRight(text, "\r")
	if looksSecret(string(text)) {
		// The text is a key and value that missed the object, and the
		// value may be what no log should hold.
		return m, placeErrorAt(b, at, "text after the JSON object of options (not shown: it names a secret; secrets are never options: credentials come from the AWS configuration, mail passwords from AUDITOR_SMTP_PASSWORD): one object holds every option")
	}
	return m, placeErrorAt(b, at, "text after the JSON object of options: %q: one object holds every option", excerpt(text, 40))
}

// repeatedKey returns a *placeError at the second of two keys that one
// object of b, a valid JSON value, gives, at any depth; nil when no object
// does. Keys are compared as decoded: "a" and "\u0061" are one key.
func repeatedKey(b []byte) error {
	type object struct {
		keys    map[string]int // a key's line
		wantKey bool
		option  string // the top-level key whose value holds it, "" at the top
	}
	var stack []*object // nil for an array
	option := ""        // the top-level key being read
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := dec.Token()
		if err != nil {
			// b is valid: only its end.
			return nil
		}
		var top *object
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if k, ok := tok.(string); ok && top != nil && top.wantKey {
			// The offset just after a key is on its line: a key holds no
			// line break.
			line, _ := position(b, int(dec.InputOffset())-1)
			if first, seen := top.keys[k]; seen {
				msg := fmt.Sprintf("%q given twice", k)
				if top.option != "" {
					msg += fmt.Sprintf(" in %q", top.option)
				}
				return &placeError{line: line, msg: fmt.Sprintf("%s (first on line %d): the later would win; keep one", msg, first)}
			}
			top.keys[k] = line
			top.wantKey = false
			if len(stack) == 1 {
				option = k
			}
			continue
		}
		switch tok {
		case json.Delim('{'):
			o := &object{keys: map[string]int{}, wantKey: true}
			if len(stack) > 0 {
				o.option = option
			}
			stack = append(stack, o)
			continue
		case json.Delim('['):
			stack = append(stack, nil)
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		// A value ended: its object wants the next key.
		if len(stack) == 0 {
			return nil
		}
		if top := stack[len(stack)-1]; top != nil {
			top.wantKey = true
		}
	}
}

// start is the offset of b's first character that is not a blank.
func start(b []byte) int64 {
	return int64(len(b) - len(bytes.TrimLeft(b, " \t\r\n")))
}

// aJSON names a JSON type as json.UnmarshalTypeError.Value does ("array",
// "string", "number", "bool") with its article.
func aJSON(value string) string {
	switch value {
	case "array":
		return "an array"
	case "bool":
		return "true or false"
	}
	return "a " + value
}

// placeErrorAt is a *placeError at byte offset off of b.
func placeErrorAt(b []byte, off int64, format string, a ...any) *placeError {
	line, col := position(b, int(max(off, 0)))
	return &placeError{line: line, col: col, msg: fmt.Sprintf(format, a...)}
}

// position is the line and column, from 1, of byte offset off of b; the
// column counts characters.
func position(b []byte, off int) (line, col int) {
	off = min(off, len(b))
	start := bytes.LastIndexByte(b[:off], '\n') + 1
	return 1 + bytes.Count(b[:off], []byte("\n")), 1 + utf8.RuneCount(b[start:off])
}

// excerpt is text cut to n characters, "..." saying it was cut.
func excerpt(text []byte, n int) string {
	if utf8.RuneCount(text) <= n {
		return string(text)
	}
	i := 0
	for range n {
		_, size := utf8.DecodeRune(text[i:])
		i += size
	}
	return string(text[:i]) + "..."
}
