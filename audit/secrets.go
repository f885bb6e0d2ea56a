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
// signature, another signer's presigned URL (see signingValue).
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

// signingValue matches, in any case, a value that signs a request or
// carries credentials, after its name: one that ends in Signature,
// Credential, SecurityToken, SessionToken, SecretAccessKey, AccessToken,
// RefreshToken or ClientSecret (with or without '-' or '_' between the
// words: X-Amz-Signature, Credential, AWS_SESSION_TOKEN, and IAM Identity
// Center's accessToken, refreshToken and clientSecret, OAuth's
// refresh_token); or the credentials of a Bearer or Basic Authorization
// header (Proxy-Authorization too). Its group 1 to 7 is what precedes the
// value:
//  1. the name and '=', or '%3D' escaped (an Authorization header, a
//     query, a query escaped whole); the value starts right after it and
//     ends where a header's or a query's parameter does, or at an escaped
//     '&' (a '/' escaped as '\/' in JSON is part of it);
//  2. the name, blanks, '=' and blanks (key = value, as in a credentials
//     file); the value, as in 1, is taken only when it is a token's
//     length, minSecret characters or more (an escape counts as one), as
//     AWS's keys, tokens and signatures are, and no word of prose is:
//     "Credential = missing" keeps its next word, as "Credential= missing"
//     does;
//  3. the name in quotes, ':' and a quote (JSON; a '[' before the quote
//     too, as Go's http.Header is marshalled); the value ends at a quote
//     that no backslash escapes (IQoJ\/abc== is one value);
//  4. the same with the value's quote escaped (JSON in a JSON string); the
//     value ends at an escaped quote that is not the inner text's escape
//     (IQoJ\\/abc== and a\\\"b are one value);
//  5. a header's name that starts with X-Amz- and ':' (a header line, a
//     canonical request); the value ends where a header does;
//  6. the name as an XML element's start tag, '<' and '>' or escaped as
//     &lt; and &gt; (STS's answers: <SessionToken>, <SecretAccessKey>),
//     and any blanks; the value ends at a tag, or at an '&' that starts
//     no character reference (an escaped tag);
//  7. an Authorization header's name, ':' or '=', and Bearer or Basic and
//     blanks; the value ends where a header's parameter or a query's does
//     (a token may hold ':', unlike 1's values), or at '<' or '>' (a
//     placeholder such as <token> is kept). In JSON, the Authorization
//     name takes the place of the name in 3 and 4, and Bearer or Basic
//     and blanks follow the value's quote.
//
// A value also ends at a blank: no value that signs holds one, and text
// that is not what it seems (an unclosed quote) is not eaten to its end.
// A name without a value (prose, 'Signature' parameter), a name that only
// starts so (SignatureDoesNotMatch, SignatureVersion, X-Amz-SignedHeaders)
// and an empty value are not matched; nor a bare name and ':' (invalid
// Signature: want hex), which prose uses too, nor an XML element that
// holds elements (<Credentials>, XML-DSig's <Signature>). An access key ID
// (<AccessKeyId>, AWSAccessKeyId=) is no secret to signingValue: ordinary
// errors name key IDs; the run's own are redacted as Secrets.
var signingValue = regexp.MustCompile(`(?i)` +
	`([\w-]*` + signingName + `[ \t]*(?:=|%3d))` + queryValue + `+` +
	`|([\w-]*` + signingName + `[ \t]+=[ \t]+)` + queryValue + `{` + strconv.Itoa(minSecret) + `,}` +
	`|(\\?["'](?:[\w-]*` + signingName + `\\?["']` + jsonColon + `["']|[\w-]*authorization\\?["']` + jsonColon + `["']` + authScheme + `))(?:[^"'\\\s]|\\\S)+` +
	`|(\\?["'](?:[\w-]*` + signingName + `\\?["']` + jsonColon + `\\["']|[\w-]*authorization\\?["']` + jsonColon + `\\["']` + authScheme + `))(?:[^"'\\\s]|\\[^"'\\\s]|\\\\(?:\\\S|[^"'\\\s]))+` +
	`|(x-amz-[\w-]*` + signingName + `[ \t]*:[ \t]*)[^\s;,"'\\]+` +
	`|((?:<|&lt;)[\w:.-]*` + signingName + `(?:>|&gt;)\s*)(?:[^<&\s]|&(?:amp|quot|apos|#[0-9]+|#x[0-9a-f]+);)+` +
	`|([\w-]*authorization[ \t]*[:=][ \t]*` + authScheme + `)[^\s,;&"'\\<>]+`)

// signingName is the end of the names of signingValue. Each holds one of
// signingWords, which redactSigning looks for first.
const signingName = `(?:signature|credential|security[-_]?token|session[-_]?token|secret[-_]?access[-_]?key` +
	`|access[-_]?token|refresh[-_]?token|client[-_]?secret)`

// queryValue is one character of a value in a query or a header's
// parameter, or one escape that is not of '%' or '&', or a '/' that JSON
// escaped as '\/' (see signingValue's groups 1 and 2): a value quoted in
// JSON does not end at its first '/'.
const queryValue = `(?:[^%\s&;,:"'<>\\]|\\/|%(?:[013-9a-f][0-9a-f]|2[0-57-9a-f]))`

// jsonColon is what separates a JSON name's closing quote from its
// value's opening quote: ':', blanks, and '[' where the value is an array.
const jsonColon = `[ \t]*:[ \t]*\[?[ \t]*`

// authScheme is an Authorization header's scheme whose credentials are a
// secret, and the blanks after it.
const authScheme = `(?:bearer|basic)[ \t]+`

// redactSigning returns text with the values that signingValue matches
// replaced by "***".
func redactSigning(text string) string {
	if !mayHoldSigning(text) {
		return text
	}
	return signingValue.ReplaceAllString(text, "${1}${2}${3}${4}${5}${6}${7}"+redactedText)
}

// signingWords are words that every match of signingValue holds: a text
// that holds none of them, in any case, holds no value that it matches.
var signingWords = []string{"signature", "credential", "token", "secret", "authorization"}

// mayHoldSigning reports whether text holds one of signingWords in any
// case, which costs little beside signingValue, and most texts (an
// instance's error, a tag's value) hold none. signingValue's (?i) takes
// the Kelvin sign for k, which strings.ToLower writes as k, and the long
// s for s, which it keeps: a text with a long s is left to signingValue.
func mayHoldSigning(text string) bool {
	if strings.ContainsRune(text, '\u017f') {
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
// value that signs a request or carries credentials (see signingValue),
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
