package audit

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

const lineEndsProblem = `contains a carriage return (\r): lines must end in \n or \r\n`

// LineEnds returns the problem of a line of a list or a file (without its
// line end and the white space around it) that holds a carriage return, as
// all the lines of a file with old Mac line ends (a lone "\r", as older
// Excel for Mac saves "CSV") are one; "" for a line without one.
func LineEnds(line string) string {
	if strings.Contains(line, "\r") {
		return lineEndsProblem
	}
	return ""
}

// ValidID returns "" when id is a managed node ID as the SSM API accepts it:
// "i-" followed by 8 or 17 lower-case hex digits, or "mi-" followed by 17.
// Otherwise it returns a short reason for a person, such as "empty",
// "contains a space", "upper-case letters: instance IDs are lower case" or
// "'x' is not a hex digit (want i- followed by 8 or 17 hex digits)". The
// reason never contains control characters or invalid UTF-8: any part of id
// it quotes is escaped. ValidID does not trim: callers strip the white space
// around a value before they ask.
func ValidID(id string) string {
	if listIDShape(id) {
		return ""
	}
	if id == "" {
		return "empty"
	}
	if !utf8.ValidString(id) {
		return "not valid UTF-8 (binary data?)"
	}
	for _, r := range id {
		switch {
		case r == ' ':
			return "contains a space"
		case r == '\t':
			return "contains a tab"
		case r == '\r':
			return lineEndsProblem
		case r == 0:
			return "contains a NUL byte (binary data?)"
		case r == '\uFEFF':
			return "contains a byte-order mark (U+FEFF)"
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return fmt.Sprintf("contains a control character (%U)", r)
		case unicode.IsSpace(r):
			return fmt.Sprintf("contains a Unicode space (%U)", r)
		case r == ',':
			return "contains a comma"
		}
	}
	for _, r := range id {
		if r >= utf8.RuneSelf {
			return fmt.Sprintf("contains a non-ASCII character %q (want i- or mi- and the digits 0-9 and letters a-f)", r)
		}
	}
	// From here on id is printable ASCII without spaces.
	lower := strings.ToLower(id)
	if lower != id && listIDShape(lower) {
		return "upper-case letters: instance IDs are lower case"
	}
	var prefix, want string
	switch {
	case strings.HasPrefix(lower, "arn:"):
		// The ID is the resource's last part (instance/i-..., or
		// managed-instance/mi-... for a hybrid node), which the value
		// quoted in the message may be cut before.
		if i := strings.LastIndexByte(id, '/'); i >= 0 && ValidID(id[i+1:]) == "" {
			return fmt.Sprintf("an ARN, not an instance ID (give only its ID, %s)", id[i+1:])
		}
		return "an ARN, not an instance ID (give only the i-... or mi-... part)"
	case strings.HasPrefix(lower, "i-"):
		prefix, want = id[:2], "want i- followed by 8 or 17 hex digits"
	case strings.HasPrefix(lower, "mi-"):
		prefix, want = id[:3], "want mi- followed by 17 hex digits"
	default:
		if i := strings.IndexByte(id, '-'); i > 0 && listHex(id[i+1:]) == -1 && strings.Trim(id[:i], "abcdefghijklmnopqrstuvwxyz") == "" {
			return fmt.Sprintf("%s- is not an instance ID prefix (want i- followed by 8 or 17 hex digits, or mi- followed by 17)", id[:i])
		}
		return "not an instance ID (want i- followed by 8 or 17 hex digits, or mi- followed by 17)"
	}
	if prefix != strings.ToLower(prefix) {
		return "upper-case letters: instance IDs are lower case"
	}
	body := id[len(prefix):]
	if body == "" {
		return fmt.Sprintf("nothing after %s (%s)", prefix, want)
	}
	if i := listHex(body); i >= 0 {
		c := body[i]
		if c >= 'A' && c <= 'F' {
			return "upper-case letters: instance IDs are lower case"
		}
		return fmt.Sprintf("%q is not a hex digit (%s)", c, want)
	}
	return fmt.Sprintf("%d hex digits (%s)", len(body), want)
}

// listIDShape reports whether id is exactly a valid instance ID.
func listIDShape(id string) bool {
	var body string
	switch {
	case len(id) == 2+8 || len(id) == 2+17:
		if id[0] != 'i' || id[1] != '-' {
			return false
		}
		body = id[2:]
	case len(id) == 3+17:
		if id[0] != 'm' || id[1] != 'i' || id[2] != '-' {
			return false
		}
		body = id[3:]
	default:
		return false
	}
	return listHex(body) == -1
}

// apiIDShape reports whether id has the shape the SSM API gives a managed
// node's ID, its pattern (^i-(\w{8}|\w{17})$)|(^mi-\w{17}$): "i-" and 8
// or 17 ASCII letters, digits or "_", or "mi-" and 17. Every ID that ValidID
// accepts has it, and so has every node discovery lists (which takes the
// IDs SSM gives as they are); a record line of any other is not one
// auditor wrote.
func apiIDShape(id string) bool {
	var body string
	switch {
	case strings.HasPrefix(id, "i-") && (len(id) == 2+8 || len(id) == 2+17):
		body = id[2:]
	case strings.HasPrefix(id, "mi-") && len(id) == 3+17:
		body = id[3:]
	default:
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_') {
			return false
		}
	}
	return true
}

// maxQuoted is how many characters of a value quoteValue shows.
const maxQuoted = 64

// quoteValue quotes s for a message: Go-quoted with every character that
// is not printable ASCII escaped (a control character, a terminal escape,
// a zero-width space or a right-to-left override shows as \x1b, \u200b,
// \u202e; invalid UTF-8 as \xff), cut to maxQuoted characters with "…".
func quoteValue(s string) string {
	n := 0
	for i := range s {
		if n == maxQuoted {
			return strconv.QuoteToASCII(s[:i]) + "…"
		}
		n++
	}
	return strconv.QuoteToASCII(s)
}

// listHex returns the index of the first byte of s that is not a lower-case
// hex digit, or -1.
func listHex(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return i
		}
	}
	return -1
}

// listRegion is the loose shape of an AWS Region name: us-east-1,
// us-gov-west-1, cn-northwest-1, us-isob-east-1, eusc-de-east-1.
var listRegion = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}$`)

// ValidRegion returns "" when region looks like an AWS Region name
// (us-east-1, us-gov-west-1, eusc-de-east-1...), otherwise a short reason. It
// checks the shape only, not that the Region exists.
func ValidRegion(region string) string {
	switch {
	case listRegion.MatchString(region):
		return ""
	case region == "":
		return "empty"
	case listRegion.MatchString(strings.ToLower(region)):
		return "upper-case letters: Regions are lower case"
	}
	return "not an AWS Region (want one like us-east-1)"
}

// ValidAccountID returns "" when account is an AWS account ID (12 digits),
// otherwise a short reason.
func ValidAccountID(account string) string {
	digits := strings.Trim(account, "0123456789") == ""
	switch {
	case digits && len(account) == 12:
		return ""
	case account == "":
		return "empty"
	case digits && len(account) > 12:
		return fmt.Sprintf("%d digits, want 12", len(account))
	case digits:
		return fmt.Sprintf("%d digits, want 12 (did a spreadsheet drop leading zeros?)", len(account))
	case strings.ReplaceAll(account, "-", "") != account && strings.Trim(account, "0123456789-") == "":
		return "want 12 digits without dashes"
	}
	return "want 12 digits"
}

// ValidLabel returns "" when s can be a label's name or value, otherwise a
// short reason that quotes no part of s. A label is UTF-8 without a NUL,
// another control character (an escape, a tab, a line break), a space
// other than U+0020 (a no-break space, a line separator) or a format
// character (a bidi control such as U+202E, a zero-width space), except a
// zero-width joiner or non-joiner between two characters past ASCII (see
// joins): shown, these are unseen or change the text around them, so that
// two values that read as one would be two labels and two groups of a
// split, and an escape would reach a terminal. An empty s is valid (a
// label without a value). ValidLabel does not trim, and does not care in
// which Unicode form s is: where labels enter (a list, a tag, an account's
// name) they are put in one (see NFC).
func ValidLabel(s string) string {
	if !utf8.ValidString(s) {
		return "not UTF-8"
	}
	for i, r := range s {
		if p := labelRuneProblem(s, i, r); p != "" {
			return p
		}
	}
	return ""
}

// NFC returns s in Unicode Normalization Form C: a letter and its accents
// as one character where Unicode has one, as most keyboards write them, so
// that Müller spelt with u and a combining diaeresis (as macOS and some
// exports write it) is the Müller spelt with ü. Two spellings that read as
// one would otherwise be two labels and two groups of a split. NFC changes
// no character a reader sees; bytes that are not UTF-8 are kept as they
// are. A label's name and value are put so where they enter: a list's
// columns and cells, a tag's value (EscapeLabel), an account's name.
func NFC(s string) string { return norm.NFC.String(s) }

// labelRuneProblem returns why the character r at s[i] cannot be in a
// label (see ValidLabel), or "".
func labelRuneProblem(s string, i int, r rune) string {
	switch {
	case r == 0:
		return "contains a NUL byte (binary data?)"
	case unicode.IsControl(r):
		return fmt.Sprintf("contains a control character (%U)", r)
	case r != ' ' && unicode.IsSpace(r):
		return fmt.Sprintf("contains a Unicode space (%U): use a plain space", r)
	case unicode.Is(unicode.Cf, r) && !joins(s, i, r):
		return fmt.Sprintf("contains a format character (%U), unseen where it is shown", r)
	}
	return ""
}

// EscapeLabel returns s as a label that ValidLabel takes, and whether it
// escaped a character of s: s is put in Normalization Form C (see NFC),
// which changes no character a reader sees and is no escape, so that Müller
// spelt with a combining diaeresis is the Müller spelt with ü; then each
// character ValidLabel refuses is written as its code in
// hex (\x1b, \x09 for a tab, \u200b, \u202e, \u00a0, \U000e0041; a byte
// that is not UTF-8 as \xff), so that "ops" and "ops" followed by a
// zero-width space are two labels that read as two, and no escape reaches
// a report or a terminal. It is for text that cannot be refused, as a list
// is: a tag's value, which anyone who may tag an instance sets.
//
// Real backslashes are doubled only where they would make an escape: a run
// of them before an escaped character, or before text that reads as one
// (x and two hex digits, u and four, U and eight). So a tag spelt
// ops\u200b is written ops\\u200b and is not the zero-width space's, and
// no two values that read apart are written alike (read back, a run of 2k
// backslashes before such text is k backslashes and the text, one of 2k+1
// is k and an escape); two that differ only in their Unicode form read
// alike, and are written alike. Every other backslash is kept as it is
// (CORP\bob, C:\Users, \\server\share), so that a value ValidLabel takes
// is never changed but for such a spelling, which no real tag holds, and
// its form.
func EscapeLabel(s string) (string, bool) {
	// Before escaping, not after: a joiner is judged by the characters
	// beside it as they will be read (see joins), and the hex digit an
	// escape ends in (\u202a) is not composed with a mark after it.
	s = NFC(s)
	escaped := func(i int) bool {
		r, n := utf8.DecodeRuneInString(s[i:])
		return r == utf8.RuneError && n == 1 || labelRuneProblem(s, i, r) != ""
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] == '\\' {
			j := i
			for j < len(s) && s[j] == '\\' {
				j++
			}
			run := s[i:j]
			if j < len(s) && (escaped(j) || spellsEscape(s[j:])) {
				run += run
			}
			b.WriteString(run)
			i = j
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case labelRuneProblem(s, i, r) == "":
			b.WriteString(s[i : i+n])
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
		i += n
	}
	if b.Len() == len(s) {
		return s, false // nothing was escaped: an escape is longer than its character
	}
	return b.String(), true
}

// EscapeRefused returns s as EscapeLabel writes it when ValidLabel refuses
// s, and s as it is otherwise, so that a name ValidLabel takes is never
// changed, not even one spelt as an escape (Lab\x64). It is for an
// account's name in Organizations, which is kept as a file of accounts
// keeps it, and for a label that a record holds: one written by an older
// auditor holds a tag's value or an account's name as it was served, and
// one written now holds it escaped already, which EscapeLabel would escape
// again (doubling the backslash of each escape), so that a record read
// twice, or written again from what was read, would change. An older
// record's value spelt as an escape (ops\u200b typed as such) cannot be
// told from one written escaped, and reads as it is.
func EscapeRefused(s string) string {
	if ValidLabel(s) == "" {
		return s
	}
	e, _ := EscapeLabel(s)
	return e
}

// spellsEscape reports whether s starts with the text of an escape that
// EscapeLabel writes after its backslash: x and two hex digits, u and four,
// U and eight.
func spellsEscape(s string) bool {
	if s == "" {
		return false
	}
	n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[s[0]]
	if n == 0 || len(s) < 1+n {
		return false
	}
	for _, c := range []byte(s[1 : 1+n]) {
		if !strings.ContainsRune("0123456789abcdefABCDEF", rune(c)) {
			return false
		}
	}
	return true
}

// ValidAccountName returns "" when name can be an account's name, otherwise
// a short reason that quotes no part of name: an account's name is the
// account_name label of its targets, and follows ValidLabel. An empty name
// is valid: the account has none. ValidAccountName does not trim.
func ValidAccountName(name string) string { return ValidLabel(name) }

// joins reports whether the zero-width joiner or non-joiner r at name[i]
// is a script's or an emoji's spelling: between two characters past
// ASCII that are no spaces, marks or format characters, and are of no
// script that never writes one (unjoinedScripts): Persian writes a
// non-joiner inside words, an emoji sequence joins its emoji. Between
// Latin, Cyrillic or CJK letters, or at an end, it would hide a second name
// in one that reads the same.
func joins(name string, i int, r rune) bool {
	if r != '\u200c' && r != '\u200d' {
		return false
	}
	// The letter before, past its marks (a Persian vowel sign, a
	// Devanagari virama): a mark takes its letter's place in no script.
	before := utf8.RuneError
	for rest := name[:i]; rest != ""; {
		c, n := utf8.DecodeLastRuneInString(rest)
		if before = c; !unicode.Is(unicode.M, c) {
			break
		}
		rest = rest[:len(rest)-n]
	}
	after, _ := utf8.DecodeRuneInString(name[i+utf8.RuneLen(r):])
	spelt := func(c rune) bool {
		return c > unicode.MaxASCII && c != utf8.RuneError && !unicode.IsSpace(c) && !unicode.IsControl(c) && !unicode.Is(unicode.Cf, c) &&
			!unicode.Is(unicode.M, c) && !unicode.In(c, unjoinedScripts...)
	}
	// A script's own sign after it: Bengali's ya-phala (RA, a joiner, the
	// virama) and Sinhala's touching letters are spelt so.
	scriptMark := unicode.Is(unicode.M, after) && !unicode.In(after, unicode.Inherited, unicode.Common) && !unicode.In(after, unjoinedScripts...)
	return spelt(before) && (spelt(after) || scriptMark)
}

// unjoinedScripts never write a zero-width joiner or non-joiner inside a
// word: between two of their letters one reads as nothing, and "Иван"
// and "И<ZWNJ>ван", or two CJK names, would be two names that read as one.
// Scripts that do write them (Arabic and Persian, Syriac, the Indic and
// Brahmic scripts, Khmer, Myanmar, Tibetan, Mongolian...) and emoji
// sequences are not listed, nor is any script this list does not name, so
// that a name that is text somewhere is not refused.
var unjoinedScripts = []*unicode.RangeTable{
	unicode.Latin, unicode.Cyrillic, unicode.Greek, unicode.Armenian, unicode.Georgian,
	unicode.Cherokee, unicode.Coptic, unicode.Thai, unicode.Lao,
	unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul, unicode.Bopomofo,
}

// packedID is a valid instance ID in ten bytes with no pointer: its kind
// (1: i- and 8 hex digits, 2: i- and 17, 3: mi- and 17) and its hex digits,
// two to a byte. A fleet of ten million IDs is held in it without a string
// for each.
type packedID [10]byte

// packID packs id, which must be valid (ValidID(id) == "").
func packID(id string) packedID {
	var p packedID
	body := id[2:]
	switch {
	case id[0] == 'm':
		p[0], body = 3, id[3:]
	case len(body) == 8:
		p[0] = 1
	default:
		p[0] = 2
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		v := c - '0'
		if c >= 'a' {
			v = c - 'a' + 10
		}
		if i%2 == 0 {
			p[1+i/2] = v << 4
		} else {
			p[1+i/2] |= v
		}
	}
	return p
}

// String returns the instance ID that p packs.
func (p packedID) String() string {
	var buf [20]byte
	b := buf[:0]
	n := 17
	switch p[0] {
	case 1:
		b, n = append(b, "i-"...), 8
	case 2:
		b = append(b, "i-"...)
	default:
		b = append(b, "mi-"...)
	}
	for i := range n {
		v := p[1+i/2]
		if i%2 == 0 {
			v >>= 4
		}
		b = append(b, hexDigit[v&0xf])
	}
	return string(b)
}

const hexDigit = "0123456789abcdef"
