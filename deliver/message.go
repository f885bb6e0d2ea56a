package deliver

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	netmail "net/mail"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/wneessen/go-mail"
)

// DefaultMaxSize is Message.MaxSize's default: 10 MB (10,000,000 bytes) of
// message as sent, encodings included, the most SES v1 accepts and under
// what most mail servers take.
const DefaultMaxSize = 10_000_000

// maxSubject caps the subject, in runes.
const maxSubject = 250

// ErrFormatCharacter is returned, wrapped, by ParseAddress for an address
// that holds a Unicode format character.
var ErrFormatCharacter = errors.New("it holds a format character")

// ParseAddress parses one RFC 5322 address ("Auditor <a@example.com>", or
// the bare address), as net/mail does, and refuses one that holds a Unicode
// format character (category Cf: U+202E RIGHT-TO-LEFT OVERRIDE and the
// other bidi controls, zero-width spaces and joiners, U+FEFF) with an error
// wrapping ErrFormatCharacter that names it. net/mail takes them, and such
// an address reads as another in a log or a mail client ("ops@example.com"
// followed by U+202E looks like ops@example.com) while it is not that
// address. It also refuses a mailbox (the part in angle brackets, or the
// bare address) that holds a space or a control character, which net/mail
// takes outside ASCII (a no-break space, U+2028 LINE SEPARATOR, U+0085):
// no server would deliver to it as it reads. Last, it refuses a mailbox
// that is not a dot-atom, an @ and a host name, in ASCII (see
// checkMailbox): net/mail takes a quoted local part, an IP literal (a bare
// IPv4 address too) and characters past ASCII, which the message or its
// envelope could not carry as they are, or no server would deliver to.
func ParseAddress(s string) (*netmail.Address, error) {
	if i := strings.IndexFunc(s, func(r rune) bool { return unicode.Is(unicode.Cf, r) }); i >= 0 {
		r := []rune(s[i:])[0]
		return nil, fmt.Errorf("%w (U+%04X)", ErrFormatCharacter, r)
	}
	a, err := netmail.ParseAddress(s)
	if err != nil {
		return nil, syntaxError(s, err)
	}
	if i := strings.IndexFunc(a.Address, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }); i >= 0 {
		r := []rune(a.Address[i:])[0]
		return nil, fmt.Errorf("it holds a space or a control character (U+%04X)", r)
	}
	if err := checkMailbox(a.Address); err != nil {
		return nil, err
	}
	return a, nil
}

// syntaxError says what is wrong with s, which net/mail refused with err,
// and what to write instead, where that can be told for sure. net/mail's
// own words name its grammar ("mail: no angle-addr"), and some name the
// wrong fault (ops@example..com is "missing '@' or angle-addr"). Where s
// has a display name, angle brackets, a comment or quotes, a guess could
// be untrue: the advice is general, and net/mail's words follow it.
func syntaxError(s string, err error) error {
	t := strings.TrimSpace(s)
	why := strings.TrimPrefix(err.Error(), "mail: ")
	// A bare try at name@domain: nothing of a name, a comment or quotes.
	bare := !strings.ContainsAny(t, `<>()"\,;`)
	local, domain := t, ""
	if i := strings.LastIndexByte(t, '@'); i >= 0 {
		local, domain = t[:i], t[i+1:]
	}
	endDot := func(p string) bool { return strings.HasPrefix(p, ".") || strings.HasSuffix(p, ".") }
	switch {
	case t == "":
		return errors.New("it is empty: want name@domain")
	case strings.HasPrefix(strings.ToLower(t), "mailto:"):
		return errors.New("it starts with mailto:, which is a link's, not the address's: want name@domain")
	case why == "unclosed angle-addr":
		return errors.New("an angle bracket is not closed: want Name <name@domain>")
	case several(t):
		return errors.New("it holds more than one address: give one address, name@domain")
	case why == "no angle-addr" && strings.IndexFunc(t, unicode.IsSpace) > 0:
		f := strings.Fields(t)
		name, addr := strings.Join(f[:len(f)-1], " "), f[len(f)-1]
		if _, err := ParseAddress(addr); err == nil && !strings.ContainsAny(name, `@<>()"\,;`) {
			return fmt.Errorf("a name before the address needs the address in angle brackets: %s <%s>", name, addr)
		}
	case !bare:
	case !strings.Contains(t, "@"):
		return errors.New("it has no '@': want name@domain")
	case strings.Count(t, "@") > 1:
		return errors.New("it holds more than one '@': want name@domain")
	case domain == "":
		return errors.New("nothing comes after its '@': want name@domain")
	case local == "":
		return errors.New("nothing comes before its '@': want name@domain")
	case strings.IndexFunc(t, unicode.IsSpace) >= 0:
		return errors.New("it holds a blank: want name@domain, with none")
	case strings.Contains(local, "..") || strings.Contains(domain, ".."):
		return errors.New("it has two dots in a row: want name@domain, with no empty word between dots")
	case endDot(local) || endDot(domain):
		return errors.New("a part of it has a dot at either end: want name@domain, with no empty word between dots")
	}
	return fmt.Errorf("want name@domain, or Name <name@domain> (%s)", why)
}

// several reports whether s is addresses separated by commas or
// semicolons, each taken alone.
func several(s string) bool {
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' })
	if len(parts) < 2 {
		return false
	}
	for _, p := range parts {
		if _, err := ParseAddress(strings.TrimSpace(p)); err != nil {
			return false
		}
	}
	return true
}

// ParseAddrSpec parses s as a bare address, name@domain, and returns it: an
// address as ParseAddress takes it that is s itself, without a display
// name, angle brackets, quotes or a comment. It is the form an owner's
// address has in a tag or a list, where anything else is a mistake or a
// trick ("ops@corp.example"@evil.example is not mailed at corp.example).
func ParseAddrSpec(s string) (string, error) {
	a, err := ParseAddress(s)
	if err != nil {
		return "", err
	}
	if a.Name != "" || a.Address != s {
		return "", errors.New("want a bare name@domain, without a display name, angle brackets, quotes or a comment")
	}
	return a.Address, nil
}

// checkMailbox refuses a mailbox, as net/mail returns it (local@domain,
// the quotes of a quoted local part dropped), that is not in ASCII (SES
// and a server without SMTPUTF8 take no other), whose local part is not
// a dot-atom (it was quoted: written back without its quotes, it is
// another address, or none) or whose domain is not a host name (RFC 5321:
// letters, digits and hyphens, in labels between dots, the last not all
// digits; not an IP literal, bracketed or bare).
func checkMailbox(addr string) error {
	if i := strings.IndexFunc(addr, func(r rune) bool { return r > unicode.MaxASCII }); i >= 0 {
		r := []rune(addr[i:])[0]
		return fmt.Errorf("it holds %q (U+%04X), past ASCII, which SES and most mail servers do not take in an address: give an ASCII one (a domain in its xn-- form)", r, r)
	}
	at := strings.LastIndexByte(addr, '@')
	local, domain := addr[:at], addr[at+1:]
	if !dotAtom(local) {
		return errors.New("its local part is quoted, or holds a character a plain one cannot (want letters, digits and !#$%&'*+-/=?^_`{|}~, in words between dots)")
	}
	for _, label := range strings.Split(domain, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' || strings.ContainsFunc(label, func(r rune) bool {
			return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-')
		}) {
			return fmt.Errorf("its domain %q is not a host name (want letters, digits and hyphens, in labels between dots; not an IP literal)", domain)
		}
	}
	// No top-level domain is all digits (RFC 1123 2.1, RFC 3696 2), so a
	// domain that ends in such a label is no host name: a bare IPv4
	// address (an address literal is bracketed, and refused above), or a
	// typo.
	last := domain[strings.LastIndexByte(domain, '.')+1:]
	if strings.Trim(last, "0123456789") == "" {
		if ip, err := netip.ParseAddr(domain); err == nil && ip.Is4() {
			return fmt.Errorf("its domain %q is an IP address, not a host name: give the address at a host name instead (ops@mail.example.com); an address literal, [%s], is not taken either", domain, domain)
		}
		return fmt.Errorf("its domain %q ends in %q, all digits, which no top-level domain is: give the address at a host name instead (ops@mail.example.com)", domain, last)
	}
	return nil
}

// dotAtom reports whether s is an RFC 5322 dot-atom: words of atext
// between single dots.
func dotAtom(s string) bool {
	for _, w := range strings.Split(s, ".") {
		if w == "" || strings.ContainsFunc(w, func(r rune) bool {
			return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("!#$%&'*+-/=?^_`{|}~", r))
		}) {
			return false
		}
	}
	return true
}

// Message is one mail to send. The zero value is not a valid message: it
// needs From, at least one To, and a Text or HTML body.
type Message struct {
	// From is the sender, an RFC 5322 address ("Auditor <a@example.com>");
	// see ParseAddress.
	From string
	// To are the recipients, each an RFC 5322 address (see ParseAddress).
	To []string
	// Subject is the subject line. Control characters (CR, LF, ...) are
	// made spaces, so that no text can start another header.
	Subject string
	// Text and HTML are the bodies: both make a multipart/alternative
	// message, plain text first.
	Text, HTML string
	// Attachments are paths of files to attach, in order, under their
	// base names, while the message stays within MaxSize.
	Attachments []string
	// MaxSize is the largest message, in bytes as sent; zero or less means
	// DefaultMaxSize.
	MaxSize int64
}

// Build returns the message as go-mail writes it (MIME 1.0, UTF-8, bodies in
// quoted-printable, attachments in base64): a multipart/alternative of Text
// and HTML, with a Date, a Message-ID, "Auto-Submitted: auto-generated" and
// "X-Auto-Response-Suppress: All" (no out-of-office replies to a report).
// Attachments are added in order while the whole message stays within
// MaxSize; those that would pass it are skipped (a later, smaller one may
// still fit) and returned in left, in order, so that the caller can say in
// the body where they are. Each has the content type of ContentType.
//
// It returns an error for a bad address (see ParseAddress), a message
// with no body, an
// attachment that cannot be read, or a message over MaxSize without any
// attachment. Build reads the attachments but changes nothing.
func (m Message) Build() (raw []byte, left []string, err error) {
	msg, err := m.base()
	if err != nil {
		return nil, nil, err
	}
	max := m.MaxSize
	if max <= 0 {
		max = DefaultMaxSize
	}
	raw, err = write(msg)
	if err != nil {
		return nil, nil, err
	}
	if int64(len(raw)) > max {
		return nil, nil, fmt.Errorf("building the message: %d bytes without attachments, over the %d-byte limit", len(raw), max)
	}
	var attached []*mail.File
	for _, path := range m.Attachments {
		fi, err := os.Stat(path)
		if err != nil {
			return nil, nil, fmt.Errorf("attaching %s: %w", path, err)
		}
		if fi.IsDir() {
			return nil, nil, fmt.Errorf("attaching %s: a directory", path)
		}
		// Base64 makes 4 bytes of 3, and a CRLF every 76: a file of this
		// size cannot fit whatever the rest.
		if fi.Size()/3*4 > max-int64(len(raw)) {
			left = append(left, path)
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, fmt.Errorf("attaching %s: %w", path, err)
		}
		name := filepath.Base(path)
		msg.AttachReadSeeker(name, bytes.NewReader(b), mail.WithFileContentType(mail.ContentType(ContentType(name))))
		next, err := write(msg)
		if err != nil {
			return nil, nil, err
		}
		if int64(len(next)) > max {
			// Too big after all: take it out again.
			msg.SetAttachments(attached)
			left = append(left, path)
			continue
		}
		attached = msg.GetAttachments()
		raw = next
	}
	return raw, left, nil
}

// whole is Build for sending: an error when an attachment does not fit
// (the body, made for every attachment, would say it is there). The
// callers' Error says that it was building the message.
func (m Message) whole() ([]byte, error) {
	raw, left, err := m.Build()
	if err == nil && len(left) > 0 {
		names := make([]string, len(left))
		for i, p := range left {
			names[i] = filepath.Base(p)
		}
		max := m.MaxSize
		if max <= 0 {
			max = DefaultMaxSize
		}
		return nil, fmt.Errorf("%s would pass its %d bytes: build it without (Build names what does not fit)", strings.Join(names, ", "), max)
	}
	return raw, err
}

// base returns the message without attachments.
func (m Message) base() (*mail.Msg, error) {
	if m.Text == "" && m.HTML == "" {
		return nil, errors.New("building the message: no body")
	}
	if len(m.To) == 0 {
		return nil, errors.New("building the message: no recipient")
	}
	// Checked here too, so that no message is built with an address that
	// reads as another, whoever gave it.
	from, _, err := m.envelope()
	if err != nil {
		return nil, fmt.Errorf("building the message: %w", err)
	}
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	if err := msg.From(m.From); err != nil {
		return nil, fmt.Errorf("building the message: sender %q: %w", OneLine(m.From, 100), err)
	}
	for _, to := range m.To {
		if err := msg.AddTo(to); err != nil {
			return nil, fmt.Errorf("building the message: recipient %q: %w", OneLine(to, 100), err)
		}
	}
	msg.Subject(OneLine(m.Subject, maxSubject))
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetGenHeader(mail.HeaderXAutoResponseSuppress, "All")
	msg.SetDate()
	// Of the sender's domain, not of this machine (go-mail's default is
	// the host name: a pod's or an instance's name in every inbox).
	msg.SetMessageIDWithValue(rand.Text() + "@" + from[strings.LastIndex(from, "@")+1:])
	switch {
	case m.Text != "" && m.HTML != "":
		msg.SetBodyString(mail.TypeTextPlain, m.Text)
		msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	case m.Text != "":
		msg.SetBodyString(mail.TypeTextPlain, m.Text)
	default:
		msg.SetBodyString(mail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

func write(msg *mail.Msg) ([]byte, error) {
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("building the message: %w", err)
	}
	return buf.Bytes(), nil
}

// envelope returns the SMTP envelope of m: the bare addresses of From and To.
func (m Message) envelope() (from string, to []string, err error) {
	f, err := ParseAddress(m.From)
	if err != nil {
		return "", nil, fmt.Errorf("sender %q: %w", OneLine(m.From, 100), err)
	}
	for _, r := range m.To {
		a, err := ParseAddress(r)
		if err != nil {
			return "", nil, fmt.Errorf("recipient %q: %w", OneLine(r, 100), err)
		}
		to = append(to, a.Address)
	}
	return f.Address, to, nil
}
