package audit

import (
	"cmp"
	"context"
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/middleware"
)

// Secrets are the secret values of one run: the access key ID, secret
// access key and session token of every set of credentials it obtained
// (renewed and assumed ones too), an external ID.
// Redact takes them out of text that came from outside (an endpoint, or
// something posing as one, may echo the request's headers in its error
// message) before that text is recorded, logged, rendered or mailed: each
// becomes "***", as deliver's SMTP does with its password. A value shorter
// than minSecret is not kept: it would eat ordinary words, account IDs and
// numbers (an external ID that is an account's ID or a word, as the
// records of a run with --external-id 123456789012 read "account ***"),
// and AWS's keys, tokens and key IDs are all longer. An MFA code (six
// digits, spent once used) is not kept for the same reason.
//
// Redact also takes out, whatever the Secrets holds, the values that sign
// a request or carry credentials that the run need not know: a request's
// signature, another signer's presigned URL (see redactSigning).
//
// A Secrets is safe for concurrent use: credentials renewed in one
// goroutine are added while others redact. Adding values it holds already
// is cheap, so that every signed request may add its credentials. The zero
// value holds none; a nil *Secrets holds none and adds none.
type Secrets struct {
	mu  sync.Mutex // serialises Add
	set atomic.Pointer[secretSet]
}

// secretSet is what Secrets holds at one time; Add replaces it whole.
type secretSet struct {
	known map[string]bool
	r     *strings.Replacer
}

// minSecret is the shortest value that Secrets keeps.
const minSecret = 16

// redactedText is what a secret becomes.
const redactedText = "***"

// redactSigning returns text with every value that signs a request or
// carries credentials replaced by "***": the value after a signing name
// (see kindOf: one that ends in Signature, Credential, SessionToken, ...),
// or the credentials after an Authorization header's name, in the first
// of these forms that the text after the name takes:
//  1. JSON: the name in quotes, ':' and the value in quotes, or an array
//     of values (as Go's http.Header is marshalled), each element up to
//     one that is no such value; blanks and line ends, which an indenting
//     encoder writes, may come between them. A value ends at a quote that
//     no backslash escapes (IQoJ\/abc== is one value). With the value's
//     quote escaped (JSON in a JSON string) the value ends at an escaped
//     quote that is not the inner text's escape (IQoJ\\/abc== and a\\\"b
//     are one value). An Authorization header's value is a scheme and
//     credentials, which are taken, as in 2.
//  2. an Authorization header's name, ':' or '=' (or %3A or %3D, escaped
//     whole), '[' if any (Go's %v of an http.Header: map[Authorization:
//     [Bearer ...]]), and Bearer or Basic and blanks (or '+' or %20, in a
//     query, or %2520, in one escaped whole), or signature version 2's
//     AWS, blanks, the access key ID (kept) and ':'; the credentials end
//     where a header's parameter or a query's does, at an escape of a
//     blank or a control character (no token holds one), or, in a text
//     escaped whole (after %3A or %3D), at an escape of what ends them,
//     or at '<' or '>' (a placeholder such as <token> is kept); a '%'
//     that starts no escape is theirs (see authForm). A token may hold
//     ':', unlike 5's values. A challenge's parameter (Basic realm="x",
//     which a WWW-Authenticate header holds) is no credential, here or in
//     1 (see authParam), though a value that signs in it is taken as
//     anywhere else (error_description="?X-Amz-Signature=***"). After
//     '[', each of the header's values that follows, a blank before it,
//     is read as the first, up to one that is neither credentials nor a
//     challenge, or the ']' that closes them (map[Authorization:[Basic
//     realm="x" Bearer ...]]), as in 1's array.
//  3. XML: the name as an element's start tag, with attributes or none,
//     '<' and '>' as they are or escaped (&lt; and &gt;, twice, or by Go's
//     JSON as \u003c and \u003e), as in STS's answers (<SessionToken>,
//     <SecretAccessKey>) and S3's refusals (<SignatureProvided>); the
//     value starts right after '>', or in CDATA, or on the next line,
//     indented, or after blanks on the same line when it may be a token
//     (see isToken), and ends at a tag, or at an '&' that starts no
//     character reference (an escaped tag), or at a '>', but for those
//     in a value that the element's end tag closes (see valueEnd). A
//     word that blanks and more words follow is prose:
//     "<Signature>missing or empty</Signature>" (see xmlEscape).
//  4. a header line: a header's name that holds X-Amz-, ':' and '[' if
//     any (a header line, a canonical request, Go's %v of an http.Header);
//     the value ends where a header does.
//  5. the name and '=' (or '%3D', escaped: an Authorization header's
//     parameter, a query, a query escaped whole, a variable), or ':' (Go's
//     %+v of a struct, {SecretAccessKey:... SessionToken:...}, and %v of a
//     map, map[X-Amz-Signature:[...]]); the value starts right after it,
//     in quotes or not (AWS_SESSION_TOKEN="..."), and ends where a
//     header's or a query's parameter does, or at an escaped '&' (see
//     queryValue).
//  6. the same with blanks after '=' or ':' (a credentials file's "key =
//     value", YAML's "key: value"); the value is taken only when it may
//     be a token (see isToken), which no word of prose is: "Credential =
//     missing", "IncompleteSignature: Credential should be scoped" and
//     "Signature = SignatureDoesNotMatchException raised" keep their words.
//
// A value also ends at a blank: no value that signs holds one, and text
// that is not what it seems (an unclosed quote) is not eaten to its end.
// Brackets, braces and parentheses are part of a value, but not those at
// its end that close what came before it (see trimClosers).
// A name without a value (prose, 'Signature' parameter), a name that only
// starts so (SignatureDoesNotMatch, SignatureVersion, X-Amz-SignedHeaders)
// and an empty value are not taken, nor an XML element that holds
// elements (<Credentials>, XML-DSig's <Signature>). An access key ID
// (<AccessKeyId>, AWSAccessKeyId=) is no secret here: ordinary errors name
// key IDs; the run's own are redacted as Secrets.
//
// redactSigning looks for names, not for values: it reads text once a pass, and
// matches the forms' regexps only after a name, where they are anchored,
// so that its time grows with the text's length, and little with the
// number of forms.
func redactSigning(text string) string {
	// Once more while a pass changes the text: a value redacted may have
	// ended another's that the pass read past (CI's fuzzer: the content of
	// "<SessionToken> 000%0SignAture=00" went only on a second pass). A
	// pass only writes redactedText in place of values, and the bound
	// keeps a text that still changed from costing more.
	for range maxRedactPasses {
		if !mayHoldSigning(text) {
			return text
		}
		r := redactAfterNames(text)
		if r == text {
			return r
		}
		text = r
	}
	return text
}

// maxRedactPasses bounds redactSigning's passes over one text.
const maxRedactPasses = 8

// redactAfterNames is redactSigning without the look for signingWords.
func redactAfterNames(text string) string {
	var b strings.Builder
	kept := 0 // text[kept:] is not written to b yet
	for i := 0; i < len(text); {
		n := nameLen(text[i:])
		if n == 0 {
			i++
			continue
		}
		start, end := i, i+n
		i = end
		if k := escapeLen(text, start); k < n {
			start += k
		}
		kind := kindOf(text[start:end])
		if kind == plainName {
			continue
		}
		for _, v := range valuesAfter(text, start, end, kind) {
			from := max(kept, end)
			before := text[from:v[0]]
			if kind == authorizationName {
				// Before an Authorization header's value may lie a
				// challenge's parameters, kept, but not the values that
				// sign in them: the loop reads no name in them.
				before = redactSigning(before)
			}
			b.WriteString(text[kept:from])
			b.WriteString(before)
			b.WriteString(redactedText)
			kept, i = v[1], v[1]
		}
	}
	if kept == 0 {
		return text
	}
	b.WriteString(text[kept:])
	return b.String()
}

// nameLen returns the length of the name that s starts with: ASCII
// letters, digits, '_' and '-', and the long s and the Kelvin sign, which
// regexp's (?i) takes for s and k, as kindOf does.
func nameLen(s string) int {
	n := 0
	for n < len(s) {
		switch c := s[n]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '-':
			n++
		case strings.HasPrefix(s[n:], longS):
			n += len(longS)
		case strings.HasPrefix(s[n:], kelvin):
			n += len(kelvin)
		default:
			return n
		}
	}
	return n
}

// escapeLen returns the length of the letters of a JSON string's escape
// that text[i:] starts with after a backslash (\n, \t, \u003c), or 0:
// they are no part of the name after them, which starts a word there
// (\u003cidToken, \nid_token). A backslash that is escaped itself is
// taken for one that escapes too: JSON in a JSON string escapes twice.
func escapeLen(text string, i int) int {
	if i == 0 || text[i-1] != '\\' {
		return 0
	}
	switch {
	case strings.IndexByte("bfnrt", text[i]) >= 0:
		return 1
	case len(text)-i >= 5 && text[i] == 'u' && hexDigits(text[i+1:i+5]):
		return 5
	}
	return 0
}

// hexDigits reports whether s is made of hexadecimal digits only.
func hexDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

// longS and kelvin are the letters outside ASCII that fold to ASCII ones:
// a name spelt with them is a name still.
const (
	longS  = "\u017f"
	kelvin = "\u212a"
)

// nameKind is what redactSigning does with a name's value.
type nameKind int

const (
	plainName         nameKind = iota // keeps it
	signingName                       // takes it (see signingNames)
	authorizationName                 // takes the credentials in it
)

// signingNames are the ends of the names whose value signs a request or
// carries credentials, word by word: X-Amz-Signature, Credential,
// X-Amz-Security-Token, AWS_SESSION_TOKEN, SecretAccessKey, S3's
// SignatureProvided, IAM Identity Center's accessToken, refreshToken,
// clientSecret, idToken, deviceCode and codeVerifier, OAuth's
// refresh_token. Each holds one of signingWords, which redactSigning
// looks for first.
var signingNames = [][]string{
	{"signature"}, {"signature", "provided"}, {"credential"}, {"security", "token"}, {"session", "token"},
	{"secret", "access", "key"}, {"access", "token"}, {"refresh", "token"}, {"client", "secret"},
	{"id", "token"}, {"device", "code"}, {"code", "verifier"},
}

// kindOf returns what name is: a signing name when it ends in one of
// signingNames, in any case, with or without one '-' or '_' between two
// words; an Authorization header's (Proxy-Authorization too) when it ends
// in authorization. An ID token's name starts a word: idToken, IdToken,
// oidc_id_token, oidcIdToken, not InvalidToken.
func kindOf(name string) nameKind {
	if _, ok := trimWords(name, []string{"authorization"}); ok {
		return authorizationName
	}
	for _, words := range signingNames {
		before, ok := trimWords(name, words)
		if ok && (words[0] != "id" || startsWord(before, name[len(before)])) {
			return signingName
		}
	}
	return plainName
}

// trimWords returns name without words, lower case ASCII, at its end, and
// whether they were there, in any case, with or without one '-' or '_'
// between two of them.
func trimWords(name string, words []string) (string, bool) {
	for i := len(words) - 1; i >= 0; i-- {
		var ok bool
		if name, ok = trimFoldSuffix(name, words[i]); !ok {
			return name, false
		}
		if i > 0 && (strings.HasSuffix(name, "-") || strings.HasSuffix(name, "_")) {
			name = name[:len(name)-1]
		}
	}
	return name, true
}

// startsWord reports whether a word whose first letter is first starts
// after before: at a name's start, after '-' or '_', or in CamelCase.
func startsWord(before string, first byte) bool {
	if before == "" {
		return true
	}
	last := before[len(before)-1]
	return last == '-' || last == '_' || 'A' <= first && first <= 'Z' && ('a' <= last && last <= 'z' || '0' <= last && last <= '9')
}

// trimFoldSuffix returns s without word, lower case ASCII, at its end, and
// whether it was there in any case: as regexp's (?i) does, it takes the
// long s for s and the Kelvin sign for k.
func trimFoldSuffix(s, word string) (string, bool) {
	for i := len(word) - 1; i >= 0; i-- {
		r, n := utf8.DecodeLastRuneInString(s)
		c := rune(word[i])
		if n == 0 || r != c && r != c-'a'+'A' && !(c == 's' && r == '\u017f') && !(c == 'k' && r == '\u212a') {
			return s, false
		}
		s = s[:len(s)-n]
	}
	return s, true
}

// The forms of redactSigning's values, matched right after a name; the
// value is each one's last group.
var (
	// jsonForm is form 1's start: the name's closing quote, ':', the '['
	// of an array (group 1), and the value's opening quote, whose escape
	// is group 2, with jsonBlank between them.
	jsonForm = regexp.MustCompile(`^\\?["']` + jsonBlank + `:` + jsonBlank + `(\[` + jsonBlank + `)?(\\?)["']`)
	// jsonNext and jsonEscapedNext are what separate two elements of an
	// array of values, in JSON and in JSON in a JSON string.
	jsonNext        = regexp.MustCompile(`^["']` + jsonBlank + `,` + jsonBlank + `["']`)
	jsonEscapedNext = regexp.MustCompile(`^\\["']` + jsonBlank + `,` + jsonBlank + `\\["']`)
	// jsonValue and jsonEscapedValue are form 1's values, in JSON and in
	// JSON in a JSON string.
	jsonValue        = regexp.MustCompile(`^(?:[^"'\\\s]|\\\S)+`)
	jsonEscapedValue = regexp.MustCompile(`^(?:[^"'\\\s]|\\[^"'\\\s]|\\\\(?:\\\S|[^"'\\\s]))+`)
	// authScheme is an Authorization header's scheme whose credentials
	// are a secret, and the blanks after it, escaped or not: Bearer,
	// Basic, and signature version 2's AWS and the access key ID, which is
	// kept, and ':'.
	authScheme = regexp.MustCompile(`(?i)^` + authSchemes)
	// authForm and authEscapedForm are form 2, after ':' or '=' as it
	// is and escaped: the value is made of the characters of a token's
	// credentials (RFC 6750's b64token, ':', and others that a token may
	// hold). After ':' or '=' as it is, the value is the header's or the
	// query parameter's, and ends where it does: escapes are the value's,
	// of a blank or '&' too, and a '%' that starts none. In a text escaped
	// whole, an escape of what ends them unescaped ends them (see
	// authEscape); a '%' that starts no escape is the value's (see
	// authValue), and authEscapedRest is the value after it.
	authForm        = regexp.MustCompile(`(?i)^[ \t]*(?::|=)(?:[ \t]|%20)*(\[)?` + authSchemes + `(` + authFormValue + `+)`)
	authEscapedForm = regexp.MustCompile(`(?i)^[ \t]*(?:%3a|%3d)(?:[ \t]|%20)*\[?` + authSchemes + `(` + authEscapedValue + `+)`)
	authEscapedRest = regexp.MustCompile(`(?i)^` + authEscapedValue + `*`)
	// authNextForm is the next of a header's values as Go's %v writes
	// them, after the '[' that authForm matched (map[Authorization:[Basic
	// realm="x" Bearer ...]]): a blank, and a scheme and credentials, or a
	// challenge, as the first value is.
	authNextForm = regexp.MustCompile(`(?i)^[ \t]+` + authSchemes + `(` + authFormValue + `+)`)
	// authParam, jsonAuthParam and jsonEscapedAuthParam match, where
	// credentials would start, a challenge's parameter (a
	// WWW-Authenticate header's realm="x"), in forms 2 and 1: it is no
	// credential. Its quoted string is opened and closed with the quote
	// as the text around it writes one: as it is, or escaped once or
	// twice in form 2 (in a JSON string, in JSON in a JSON string), once
	// or twice in form 1. A token ends in '=' only: one before the quote
	// that closes the text around it (curl -H "Authorization: Bearer
	// abc=", or in a JSON string \"...abc=\"") is no parameter. In form
	// 1 they match the challenge's parameters to their end, and so do
	// authParams, in each of form 2's escapes, after '[': after them the
	// header's next value may hold credentials.
	authParam            = regexp.MustCompile(`^[a-z][a-z_-]*=(?:"` + quotedText + `"|\\"` + quotedText + `\\"|\\\\\\"` + quotedText + `\\\\\\")`)
	authParams           = []*regexp.Regexp{challengeParams(`"`), jsonAuthParam, jsonEscapedAuthParam}
	jsonAuthParam        = challengeParams(`\\"`)
	jsonEscapedAuthParam = challengeParams(`\\\\\\"`)

	// headerForm is form 4's separator and value.
	headerForm = regexp.MustCompile(`^[ \t]*:[ \t]*\[?((?:[^\s;,"'\\]|\\/)+)`)
	// queryForm and colonForm are forms 5 and 6: group 1 holds the blanks
	// after '=' or ':', group 2 the opening quote, if any.
	queryForm = regexp.MustCompile(`(?i)^[ \t]*(?:=|%3d)([ \t]*)(\\?["'])?(` + queryValue + `+)`)
	colonForm = regexp.MustCompile(`(?i)^[ \t]*:([ \t]*)\[?(\\?["'])?(` + queryValue + `+)`)
)

// challengeParams returns the regexp of a challenge's parameters, one or
// more, separated by ',', whose quoted strings are in quote.
func challengeParams(quote string) *regexp.Regexp {
	param := `[a-z][a-z_-]*=` + quote + quotedText + quote
	return regexp.MustCompile(`^` + param + `(?:[ \t]*,[ \t]*` + param + `)*`)
}

// quotedText is the text in a challenge's quoted string, between its
// quotes, on one line: nothing, or what does not start with a blank, as
// the text after a closing quote and a blank would (-H "Host: x").
const quotedText = `(?:(?:[^\s"\\]|\\[^\s"\\])(?:[^"\\\r\n]|\\\\|\\[^"\\\r\n])*)?`

// authSchemes is authScheme's text. The blanks after a scheme are one run
// of them, or one escaped, once or twice (a query escaped whole, its
// value's escapes with it: Authorization%3DBearer%2520...), since a token
// may start with '+'.
const authSchemes = `(?:(?:bearer|basic)(?:[ \t]+|%20|%2520|\+)|aws(?:[ \t]+|%20|%2520|\+)[a-z0-9]+(?::|%3a))`

// authFormValue is one character of authForm's value.
const authFormValue = `(?:[^\s,;&"'\\<>]|\\/)`

// authEscapedValue is one character of authEscapedForm's value, or one
// escape (see authEscape).
const authEscapedValue = `(?:[^\s,;&"'\\<>%]|\\/|` + authEscape + `)`

// authEscape is an escape that an Authorization header's credentials
// hold: any but of a blank, a control character, or what ends them
// unescaped ("%&',;<>\), so that a header line escaped whole
// (Authorization%3A%20Bearer%20...%0D%0AHost...) ends with its line.
const authEscape = `%(?:2[13-589abd-f]|3[0-9adf]|5[0-9abd-f]|[4679a-f][0-9a-f])`

// jsonBlank is the white space between JSON's tokens, as an indenting
// encoder writes it: blanks and line ends, escaped too in JSON in a JSON
// string.
const jsonBlank = `(?:\s|\\[nrt])*`

// queryValue is one character of a value in a query or a header's
// parameter, or one escape that is not of '%' or '&', or a '/' that JSON
// escaped as '\/': a value quoted in JSON does not end at its first '/'.
// Brackets, braces and parentheses are part of it; those that close what
// came before the value are not (see trimClosers).
const queryValue = `(?:[^%\s&;,:"'<>\\]|\\/|%(?:[013-9a-f][0-9a-f]|2[0-57-9a-f]))`

// valuesAfter returns the bounds of the values of kind that follow the
// name text[start:end], in the first of redactSigning's forms that the
// text takes there, or none.
func valuesAfter(text string, start, end int, kind nameKind) [][2]int {
	if start > 0 && (text[start-1] == '"' || text[start-1] == '\'') {
		if v := jsonValues(text, end, kind); v != nil {
			return v
		}
	}
	if kind == authorizationName {
		return authValue(text, end)
	}
	if v := xmlValue(text, start, end); v != nil {
		return v
	}
	if strings.Contains(strings.ToLower(text[start:end]), "x-amz-") {
		if v := valueOf(text, matchAt(headerForm, text, end)); v != nil {
			return v
		}
	}
	m := matchAt(queryForm, text, end)
	if m == nil {
		m = matchAt(colonForm, text, end)
	}
	v := valueOf(text, m)
	if v == nil || m[3] > m[2] && !isToken(text[v[0][0]:v[0][1]]) {
		return nil
	}
	return v
}

// authValue returns the bounds of form 2's credentials after an
// Authorization header's name's end, or none; after a '[', those of each
// of the header's values as Go's %v writes them, up to one that is no
// scheme's.
func authValue(text string, end int) [][2]int {
	m := matchAt(authForm, text, end)
	list := m != nil && m[3] > m[2]
	if m == nil {
		if m = matchAt(authEscapedForm, text, end); m == nil {
			return nil
		}
		// A '%' that starts no escape is no text escaped whole's end.
		for e := m[3]; e < len(text) && text[e] == '%' && !(len(text)-e >= 3 && hexDigits(text[e+1:e+3])); {
			e = matchAt(authEscapedRest, text, e+1)[1]
			m[1], m[3] = e, e
		}
	}
	var values [][2]int
	for {
		start, end := m[len(m)-2], m[len(m)-1]
		if authParam.MatchString(text[start:]) {
			if !list {
				return values
			}
			// A challenge holds no credentials; the next value may.
			for _, params := range authParams {
				if p := matchAt(params, text, start); p != nil {
					end = p[1]
					break
				}
			}
		} else {
			v := credentials(text, start, end)
			if v == nil {
				return values
			}
			values = append(values, v[0])
			end = v[0][1]
		}
		if !list {
			return values
		}
		if m = matchAt(authNextForm, text, end); m == nil {
			return values
		}
	}
}

// credentials returns the bounds of the credentials that form 2 matched
// at text[start:end], or none.
func credentials(text string, start, end int) [][2]int {
	// No token holds a blank or a control character: an escape of one
	// after it ends it, and what follows (escaped prose, a log line's
	// next field) is not the token's; escapes of blanks before it are
	// the scheme's separator.
	blank := func(i int) bool {
		if i+2 >= end || text[i] != '%' || !hexDigits(text[i+1:i+3]) {
			return false
		}
		c, _ := strconv.ParseUint(text[i+1:i+3], 16, 8)
		return c <= ' ' || c == 0x7f
	}
	for blank(start) {
		start += 3
	}
	for i := start; i < end; i++ {
		if blank(i) {
			end = i
			break
		}
	}
	return valueOf(text, []int{start, end})
}

// jsonValues returns the bounds of form 1's values after a name's end:
// its value, or each element of its array up to one that is no such value.
func jsonValues(text string, end int, kind nameKind) [][2]int {
	m := matchAt(jsonForm, text, end)
	if m == nil {
		return nil
	}
	value, next, param := jsonValue, jsonNext, jsonAuthParam
	if m[5] > m[4] {
		value, next, param = jsonEscapedValue, jsonEscapedNext, jsonEscapedAuthParam
	}
	var values [][2]int
	for i := m[1]; ; {
		if kind == authorizationName {
			s := matchAt(authScheme, text, i)
			if s == nil {
				return values
			}
			if p := matchAt(param, text, s[1]); p != nil {
				// A challenge holds no credentials; the next element may.
				n := matchAt(next, text, p[1])
				if m[3] == m[2] || n == nil {
					return values
				}
				i = n[1]
				continue
			}
			i = s[1]
		}
		v := matchAt(value, text, i)
		if v == nil {
			return values
		}
		values = append(values, [2]int{v[0], v[1]})
		n := matchAt(next, text, v[1])
		if m[3] == m[2] || n == nil {
			return values
		}
		i = n[1]
	}
}

// xmlValue returns the bounds of form 3's value after the name
// text[start:end], or none: no XML start tag's, or prose's (see
// xmlEscape).
func xmlValue(text string, start, end int) [][2]int {
	// A start tag's name ends at a blank, '>' or an escape's start. Only
	// then is the text before the name read, up to the previous one of
	// them: no byte is read twice.
	if end == len(text) || !strings.ContainsRune("\t\n\f\r >&\\", rune(text[end])) {
		return nil
	}
	e := xmlEscapeOf(text, start)
	if e == nil {
		return nil
	}
	m := matchAt(e.form, text, end)
	if m == nil {
		return nil
	}
	m[len(m)-1] = e.valueEnd(text, text[start:end], m[len(m)-2], m[len(m)-1])
	v := valueOf(text, m)
	if v == nil {
		return nil
	}
	value := text[v[0][0]:v[0][1]]
	if m[3] > m[2] && !isToken(value) || isWord(value) && proseNext.MatchString(text[v[0][1]:]) {
		return nil
	}
	return v
}

// xmlEscape is how a text writes XML's '<' and '>', and the form of an
// element's start tag and value that it takes then, after the element's
// name: attributes, if any; '>'; and the value, in CDATA, or right after
// '>', or on a line of its own, indented, or after blanks on the same
// line (group 1) when it may be a token (see isToken): "missing
// <Credential> is required" and "<SessionToken>\texpired" are prose. A
// word that blanks and another word follow is prose too, not a value:
// "<Signature>missing or empty</Signature>".
type xmlEscape struct {
	lt, gt string // as the text writes '<' and '>'
	form   *regexp.Regexp
}

// xmlEscapes are XML as it is, escaped in HTML or another XML (STS's
// answer in a message), escaped twice, and in a string that Go's JSON
// escaped.
var xmlEscapes = []*xmlEscape{
	newXMLEscape("<", ">", `[ \t]`, `[ \t]*\r?\n\s*`, `\\`, `&(?:amp|quot|apos|#[0-9]+|#x[0-9a-f]+);`),
	newXMLEscape("&lt;", "&gt;", `[ \t]`, `[ \t]*\r?\n\s*`, `\\`, `&(?:amp|quot|apos|#[0-9]+|#x[0-9a-f]+);`),
	newXMLEscape("&amp;lt;", "&amp;gt;", `[ \t]`, `[ \t]*\r?\n\s*`, `\\`, `&amp;(?:amp|quot|apos|#[0-9]+|#x[0-9a-f]+);`),
	newXMLEscape(`\u003c`, `\u003e`, `(?:[ \t]|\\t)`, `(?:[ \t]|\\t)*(?:\\r)?\\n(?:\s|\\[nrt])*`, `\\[/\\]`, `\\u0026(?:amp|quot|apos|#[0-9]+|#x[0-9a-f]+);`),
}

// newXMLEscape returns the xmlEscape that writes '<' and '>' as lt and gt,
// a blank as blank matches, a line's end and the indentation after it as
// newline matches, what a backslash starts in a value as backslash
// matches, and a character reference as ref matches.
func newXMLEscape(lt, gt, blank, newline, backslash, ref string) *xmlEscape {
	// Attributes hold no '<', escaped or not, nor an '&' that is not a
	// quote's or a number's reference: they end before another tag
	// starts, so that they are read once.
	const attrs = `(?:\s(?:[^<>&\\]|&(?:amp;)?(?:quot|apos|#[0-9]+|#x[0-9a-f]+);|\\["/])*)?`
	value := `(?:[^<>&\s\\]|` + backslash + `|` + ref + `|` + regexp.QuoteMeta(gt) + `)+`
	return &xmlEscape{lt: lt, gt: gt, form: regexp.MustCompile(`(?i)^` + attrs + regexp.QuoteMeta(gt) +
		`(?:` + regexp.QuoteMeta(lt) + `!\[CDATA\[|` + newline + `|(` + blank + `+))?(` + value + `)`)}
}

// valueEnd returns where the value that form matched at text[start:end]
// ends, after the element name's start tag: at its end, or where '>',
// as e writes it, is first in it. A '>' is the value's own when the
// element's end tag, for name, follows the value right after it: then
// the value runs to the end tag (<SessionToken>ab>cd</SessionToken>), not
// holding the '>'s at its end (CDATA's end, ]]>).
func (e *xmlEscape) valueEnd(text, name string, start, end int) int {
	first := indexFold(text[start:end], e.gt)
	if first < 0 {
		return end
	}
	if !e.endTag(text[end:], name) {
		return start + first
	}
	for end > start && hasFoldSuffix(text[start:end], e.gt) {
		end -= len(e.gt)
	}
	return end
}

// endTag reports whether s starts with the end tag, as e writes it, of
// the element name, with a namespace's prefix or none, in any case.
func (e *xmlEscape) endTag(s, name string) bool {
	switch {
	case hasFoldPrefix(s, e.lt+"/"):
		s = s[len(e.lt)+1:]
	case e.lt == `\u003c` && hasFoldPrefix(s, e.lt+`\/`):
		s = s[len(e.lt)+2:]
	default:
		return false
	}
	n := 0
	for {
		n += nameLen(s[n:])
		if n == len(s) || s[n] != ':' && s[n] != '.' {
			break
		}
		n++
	}
	tag := s[:n]
	if i := strings.LastIndexAny(tag, ":."); i >= 0 {
		tag = tag[i+1:]
	}
	return strings.EqualFold(tag, name) && hasFoldPrefix(strings.TrimLeft(s[n:], " \t"), e.gt)
}

// xmlEscapeOf returns how the text writes the '<' of an XML start tag
// whose name starts at text[start:], after a namespace's prefix, if any,
// or nil when it is no start tag's.
func xmlEscapeOf(text string, start int) *xmlEscape {
	for {
		switch head := text[:start]; {
		case strings.HasSuffix(head, ":"), strings.HasSuffix(head, "."):
			start--
			continue
		case strings.HasSuffix(head, longS):
			start -= len(longS)
			continue
		case strings.HasSuffix(head, kelvin):
			start -= len(kelvin)
			continue
		case start > 0 && nameLen(head[start-1:]) == 1:
			start--
			continue
		}
		break
	}
	for _, e := range xmlEscapes {
		if e.lt == `\u003c` {
			// u003c is a name's start, after a backslash.
			if strings.HasSuffix(text[:start], `\`) && len(text)-start >= len("u003c") && strings.EqualFold(text[start:start+len("u003c")], "u003c") {
				return e
			}
		} else if start >= len(e.lt) && strings.EqualFold(text[start-len(e.lt):start], e.lt) {
			return e
		}
	}
	return nil
}

// proseNext matches the start of text in which a word of prose is
// followed by others.
var proseNext = regexp.MustCompile(`^[ \t]+[A-Za-z]`)

// isWord reports whether value reads as a word of prose or an error's
// name rather than as a token: ASCII letters only, in one case throughout
// (missing, NONE), or ending in Exception or Error, or in CamelCase
// (Signature, SignatureDoesNotMatch) whose words are more than three
// letters long on average, as English words are. AWS's keys, tokens and
// signatures, base64 or hex of 40 characters or more, almost never do;
// letters in a random mix of cases may fall into CamelCase, with words of
// a letter or two (AbCdEfGhIjKlMnOp), which reads as no word from
// minSecret letters on.
func isWord(value string) bool {
	if word.MatchString(value) {
		return true
	}
	if !camelCase.MatchString(value) {
		return false
	}
	words := 0
	for i := 0; i < len(value); i++ {
		if i == 0 || 'A' <= value[i] && value[i] <= 'Z' {
			words++
		}
	}
	return len(value) < minSecret || len(value) > 3*words
}

// word and camelCase are the forms of isWord's words.
var (
	word      = regexp.MustCompile(`^(?:[a-z]+|[A-Z]+|[A-Za-z]+(?:Exception|Error))$`)
	camelCase = regexp.MustCompile(`^[A-Za-z][a-z]*(?:[A-Z][a-z]+)*$`)
)

// isToken reports whether value, as queryValue reads it, may be a token:
// minSecret characters or more, an escape counting as one and a bracket,
// brace or parenthesis as none (those around a value, [abc] or abc(),
// close or enclose it as those after it do: see trimClosers); no word
// (see isWord); and no signing or Authorization name and '=', escaped or
// not, at its start: a name and its value (IncompleteSignature:
// Signature=...) are read on their own. A '=' elsewhere is the value's
// own (base64's padding, or a token's).
func isToken(value string) bool {
	n := nameLen(value)
	if n > 0 && kindOf(value[:n]) != plainName && (strings.HasPrefix(value[n:], "=") || hasFoldPrefix(value[n:], "%3d")) {
		return false
	}
	brackets := 0
	for i := 0; i < len(value); i++ {
		if strings.IndexByte("()[]{}", value[i]) >= 0 {
			brackets++
		}
	}
	return utf8.RuneCountInString(value)-2*strings.Count(value, "%")-strings.Count(value, `\`)-brackets >= minSecret && !isWord(value)
}

// hasFoldPrefix reports whether s starts with prefix in any case.
func hasFoldPrefix(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// hasFoldSuffix reports whether s ends with suffix in any case.
func hasFoldSuffix(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}

// indexFold returns the index of the first sub, ASCII, in s in any case,
// or -1.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

// matchAt returns the bounds of re's match at text[i:], and of its groups,
// as offsets in text, or nil when it matches none there. re is anchored.
func matchAt(re *regexp.Regexp, text string, i int) []int {
	m := re.FindStringSubmatchIndex(text[i:])
	for k := range m {
		if m[k] >= 0 {
			m[k] += i
		}
	}
	return m
}

// valueOf returns the bounds of m's last group, a value, without what
// closes before it (see trimClosers), or none when m is nil or that
// leaves nothing.
func valueOf(text string, m []int) [][2]int {
	if m == nil {
		return nil
	}
	start, end := m[len(m)-2], m[len(m)-1]
	end = start + len(trimClosers(text[start:end]))
	if end == start {
		return nil
	}
	return [][2]int{{start, end}}
}

// trimClosers returns value without the brackets, braces and parentheses
// at its end that close none opened in it: they close what came before
// it, as Go's %v (map[X-Amz-Signature:[...]]) and %+v ({...}) and
// CDATA's end (]]>) do. Those inside a value are part of it. It reads
// value once.
func trimClosers(value string) string {
	var open [3]int // of '(', '[' and '{', not closed yet
	end := 0
	for i := 0; i < len(value); i++ {
		if k := strings.IndexByte("([{", value[i]); k >= 0 {
			open[k]++
		} else if k := strings.IndexByte(")]}", value[i]); k >= 0 {
			if open[k] == 0 {
				continue
			}
			open[k]--
		}
		end = i + 1
	}
	return value[:end]
}

// signingWords are words that every signing name and Authorization holds:
// a text that holds none of them, in any case, holds no value that
// redactSigning takes.
var signingWords = []string{"signature", "credential", "token", "secret", "authorization", "device", "verifier"}

// mayHoldSigning reports whether text holds one of signingWords in any
// case, which costs little beside looking for names, and most texts (an
// instance's error, a tag's value) hold none. redactSigning, as regexp's
// (?i), takes the Kelvin sign for k, which strings.ToLower writes as k,
// and the long s for s, which it keeps: a text with a long s is left to
// redactSigning.
func mayHoldSigning(text string) bool {
	if strings.Contains(text, longS) {
		return true
	}
	lower := strings.ToLower(text)
	for _, w := range signingWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// Add keeps values, those at least minSecret bytes long, and the form each
// takes in a query string or a form body (an echoed STS request).
func (s *Secrets) Add(values ...string) {
	if s == nil || s.holds(values) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	known := map[string]bool{}
	if old := s.set.Load(); old != nil {
		for v := range old.known {
			known[v] = true
		}
	}
	n := len(known)
	for _, v := range values {
		if len(v) < minSecret {
			continue
		}
		known[v] = true
		known[url.QueryEscape(v)] = true
	}
	if len(known) == n {
		return
	}
	all := make([]string, 0, len(known))
	for v := range known {
		all = append(all, v)
	}
	// The longest first: strings.Replacer takes, of the values that match
	// at one place, the first given, and a value may hold another.
	slices.SortFunc(all, func(a, b string) int { return cmp.Or(cmp.Compare(len(b), len(a)), strings.Compare(a, b)) })
	pairs := make([]string, 0, 2*len(all))
	for _, v := range all {
		pairs = append(pairs, v, redactedText)
	}
	s.set.Store(&secretSet{known: known, r: strings.NewReplacer(pairs...)})
}

// holds reports whether every value is kept already, or too short to be.
func (s *Secrets) holds(values []string) bool {
	set := s.set.Load()
	for _, v := range values {
		if len(v) >= minSecret && (set == nil || !set.known[v]) {
			return false
		}
	}
	return true
}

// AddCredentials keeps the access key ID, the secret access key and the
// session token of c. The access key ID is no secret where the run names
// its own credentials, but it is in what an endpoint sends back.
func (s *Secrets) AddCredentials(c aws.Credentials) {
	s.Add(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
}

// Redact returns text with every value kept replaced by "***", and every
// value that signs a request or carries credentials (see redactSigning),
// which a nil or empty Secrets replaces too.
func (s *Secrets) Redact(text string) string {
	text = redactSigning(text)
	if s == nil {
		return text
	}
	set := s.set.Load()
	if set == nil {
		return text
	}
	return set.r.Replace(text)
}

// Wrap returns err itself when its text holds none of the values that
// Redact replaces, and otherwise an error whose text is redacted (see
// Redact) and that wraps err, for errors.Is and errors.As. The parts of
// err further down its chain (an API error's message) still hold the
// values: whoever shows such a part redacts it with the Secrets that err
// carries, as Classify does. A nil Secrets wraps err when its text holds
// signing values.
func (s *Secrets) Wrap(err error) error {
	if err == nil {
		return err
	}
	text := err.Error()
	shown := s.Redact(text)
	if shown == text {
		return err
	}
	return &redactedError{text: shown, err: err, secrets: s}
}

// APIOption adds to an SDK client's middleware stack (aws.Config's or a
// client's Options.APIOptions) the step that Wraps the error each call
// ends in, outermost, so that it sees the error after every retry.
func (s *Secrets) APIOption(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("AuditorRedactSecrets",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleInitialize(ctx, in)
			return out, md, s.Wrap(err)
		}), middleware.Before)
}

// redactedError is an error whose text had secrets, redacted (see Wrap).
type redactedError struct {
	text    string
	err     error
	secrets *Secrets
}

func (e *redactedError) Error() string { return e.text }
func (e *redactedError) Unwrap() error { return e.err }

// redactedBy returns the Secrets that err's text was redacted with (see
// Wrap), or nil when it was not.
func redactedBy(err error) *Secrets {
	var r *redactedError
	if errors.As(err, &r) {
		return r.secrets
	}
	return nil
}
