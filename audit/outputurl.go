package audit

import (
	"net/url"
	"slices"
	"strings"
)

// signingParams are the names of the query parameters that sign a request
// or carry its credentials, in lower case: SigV4's X-Amz-* parameters of a
// presigned URL and SigV2's AWSAccessKeyId, Signature and Expires. Those
// that are not secret (the algorithm, the date, the expiry, the signed
// headers) go with the others: they sign nothing once the signature is
// gone, and no S3 request takes them otherwise. A parameter goes when its
// name starts with one of these (see signs).
var signingParams = []string{
	"x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-expires",
	"x-amz-security-token", "x-amz-signature", "x-amz-signedheaders",
	"awsaccesskeyid", "signature", "expires",
}

// withoutCredentials returns u without the credentials it may carry, and
// otherwise as it is, byte for byte: without a login before its host
// (see withoutLogin), whatever its scheme, or none, and without each
// query parameter that signs it (see withoutSigning: a presigned URL, which
// whoever holds it reads the object with for as long as it is valid, and
// which names the signer's access key and session token). The path is
// kept whole: an S3 key may hold a '#' that SSM sends unescaped, so what
// follows a '#' is taken as key, its own query (after a '?') cleaned as
// the URL's, or, when it has none, cleaned itself as a query, which leaves
// a key step alone.
func withoutCredentials(u string) string {
	u = withoutLogin(u)
	rest, frag, hasFrag := strings.Cut(u, "#")
	base, query, hasQuery := strings.Cut(rest, "?")
	out := base
	if hasQuery {
		out += cleanQuery("?", query)
	}
	if hasFrag {
		if key, q, ok := strings.Cut(frag, "?"); ok {
			out += "#" + key + cleanQuery("?", q)
		} else {
			out += cleanQuery("#", frag)
		}
	}
	return out
}

// withoutLogin returns u without the login before its host that net/url or
// a browser reads in it, or that it may hide:
//   - after "//" (https://KEY:SECRET@host/...), where net/url reads one,
//     and where it reads a host that no browser would (s3://KEY::#@host/,
//     a "port" of ':', which a '#' ends), read as after a scheme below;
//   - after a scheme with a host and no "//" (https:KEY:SECRET@host/...,
//     https:/..., https:\\..., s3:KEY:SECRET@bucket/...; see
//     looseLoginSchemes and looseLogin), the scheme kept;
//   - inside a URL that wraps another (blob:https://KEY:SECRET@host/...,
//     view-source:...; see wrapperSchemes), that URL's own;
//   - with no scheme (KEY:SECRET@host/...), where net/url takes the
//     access key's ID for a scheme, or after a scheme it does not know:
//     then the text up to the login's '@' goes, the scheme with it, since
//     it cannot be told from a key's ID. Of those, a URL that only names
//     an address (mailto:, see addressSchemes) is kept.
//
// A u that does not parse as a URL is kept as it is, but for what precedes
// its last '@', which may be a login that made it unparsable.
func withoutLogin(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		if i := strings.LastIndexByte(u, '@'); i >= 0 {
			return u[i+1:]
		}
		return u
	}
	// net/url gives the scheme in lower case; its length is u's.
	n := len(p.Scheme) + 1
	switch {
	case p.User != nil:
		return withoutAuthorityLogin(u)
	case p.Host != "" && isHostPort(p.Host):
		return u
	case wrapperSchemes[p.Scheme]:
		return u[:n] + withoutLogin(u[n:])
	case looseLoginSchemes[p.Scheme]:
		if i, j, ok := looseLogin(u, n); ok {
			return u[:i] + u[j:]
		}
		return u
	case addressSchemes[p.Scheme]:
		return u
	}
	if p.Scheme == "" {
		n = 0
	}
	// The login may start the text (the "scheme" is a key's ID), or
	// follow the scheme.
	for _, start := range []int{0, n} {
		if _, j, ok := looseLogin(u, start); ok {
			return u[j:]
		}
	}
	return u
}

// withoutAuthorityLogin returns u, which parses as a URL with a login,
// without that login: the authority's text up to its last '@', as net/url
// reads it.
func withoutAuthorityLogin(u string) string {
	i := strings.Index(u, "//")
	if i < 0 {
		return u
	}
	start := i + 2
	end := len(u)
	if j := strings.IndexAny(u[start:], "/?#"); j >= 0 {
		end = start + j
	}
	at := strings.LastIndexByte(u[start:end], '@')
	if at < 0 {
		return u
	}
	return u[:start] + u[start+at+1:]
}

// looseLoginSchemes are the schemes after which a host is read, and a login
// before it, whatever slashes or backslashes follow the ':', or none: the
// WHATWG URL standard's special schemes that have credentials, as a browser
// reads them, and s3, whose bucket the AWS tools read as a host. net/url
// reads "https:KEY:SECRET@host/" as an opaque URL, and "https:/KEY@host/"
// or "https:///KEY@host/" as a path, with no login.
var looseLoginSchemes = map[string]bool{"http": true, "https": true, "ws": true, "wss": true, "ftp": true, "s3": true}

// wrapperSchemes are the schemes whose URL is "scheme:" and another URL, as
// a browser shows it: blob:https://host/..., view-source:https://host/....
var wrapperSchemes = map[string]bool{"blob": true, "view-source": true}

// addressSchemes are the schemes whose URL is an address with an '@' in it
// and no host to log in to: mailto:erin@example.com.
var addressSchemes = map[string]bool{"mailto": true}

// looseLogin returns where the login a browser reads in u after its first
// start bytes begins and ends, its '@' included: after any slashes and
// backslashes, the text up to the last '@' before the first '/', '\', '?'
// or '#'; or, when the text before that first one is not a host and port
// (a ':' and then more than digits, as in KEY:SECRET), the text up to the
// first '@' after it, since a password may hold those characters (a secret
// access key often holds a '/'). ok is false for a u without either: an '@'
// after a host, in the key or the query, is no login's.
func looseLogin(u string, start int) (i, j int, ok bool) {
	for start < len(u) && (u[start] == '/' || u[start] == '\\') {
		start++
	}
	end := len(u)
	if k := strings.IndexAny(u[start:], "/\\?#"); k >= 0 {
		end = start + k
	}
	if at := strings.LastIndexByte(u[start:end], '@'); at > 0 {
		return start, start + at + 1, true
	} else if at == 0 {
		// Nothing before the '@': no login, and text that begins with
		// one (a spreadsheet's formula, say) is kept as it is.
		return 0, 0, false
	}
	if isHostPort(u[start:end]) {
		return 0, 0, false
	}
	// No browser opens such a URL (its port is not a number). The first
	// '@' after it, not the last, ends the login: what follows is the host
	// meant, and its key may hold an '@' of its own.
	if at := strings.IndexByte(u[end:], '@'); at >= 0 {
		return start, end + at + 1, true
	}
	return 0, 0, false
}

// isHostPort reports whether h may be a host, with or without a port: a
// name, or an IPv6 address in brackets, then nothing or a ':' and digits
// only. It looks for the ':' of a login alone, and takes any name for a
// host.
func isHostPort(h string) bool {
	if strings.HasPrefix(h, "[") {
		i := strings.IndexByte(h, ']')
		if i < 0 {
			return false
		}
		h = h[i+1:]
		if h != "" && h[0] != ':' {
			return false
		}
	}
	_, port, _ := strings.Cut(h, ":")
	return strings.Trim(port, "0123456789") == ""
}

// cleanQuery returns the raw query q after sep without its signing
// parameters: as it was when it has none, "" when it had only those.
func cleanQuery(sep, q string) string {
	c := withoutSigning(q)
	switch {
	case c == q:
		return sep + q
	case c == "":
		return ""
	}
	return sep + c
}

// withoutSigning returns the raw query q without its signing parameters
// (see signs), the others as they were, in their order, each after the
// separator that preceded it: '&', or ';', which some servers take as one
// too. A q with none is returned as it is.
func withoutSigning(q string) string {
	var out strings.Builder
	kept := false
	for start := 0; start <= len(q); {
		end := len(q)
		if i := strings.IndexAny(q[start:], "&;"); i >= 0 {
			end = start + i
		}
		if p := q[start:end]; !signs(p) {
			if kept {
				out.WriteByte(q[start-1])
			}
			out.WriteString(p)
			kept = true
		}
		start = end + 1
	}
	return out.String()
}

// signs reports whether p, one raw parameter of a query, shows a signing
// parameter's value: whether, decoded until no escape is left, it holds a
// name that starts with one of signingParams in any case, at its start or
// after a '&', ';', '?' or '#' (an escaped '=' or '&' leaves the value in
// the text, and a '?' in a value may start another URL's query), past
// anything before the name's first letter or digit (spaces, '+',
// brackets). No request S3 takes is spelled so, but the token shows all
// the same.
func signs(p string) bool {
	for _, field := range strings.FieldsFunc(unescapeAll(p), func(r rune) bool { return strings.ContainsRune("&;?#", r) }) {
		// What precedes the first letter or digit goes before the cut at
		// '=': an '=' there (escaped, "%3DX-Amz-Security-Token=TOKEN")
		// is part of the name a server reads, not its end.
		name, _, _ := strings.Cut(strings.TrimLeftFunc(field, func(r rune) bool {
			return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
		}), "=")
		name = strings.ToLower(name)
		for _, s := range signingParams {
			if strings.HasPrefix(name, s) {
				return true
			}
		}
	}
	return false
}

// unescapeAll decodes s until no escape is left that decodes.
func unescapeAll(s string) string {
	for {
		un := unescape(s)
		if un == s {
			return s
		}
		s = un
	}
}

// unescape decodes every %XX of s that is one, and leaves any other % as
// it is (url.PathUnescape refuses the whole string for one bad escape).
func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// withoutCredentialURLs returns as with every output URL as URL gives it:
// as itself when none changes, else a copy (as is the caller's).
func withoutCredentialURLs(as []Association) []Association {
	out := as
	for i, a := range as {
		if a.OutputURL == nil || a.OutputURL.S3OutputURL == nil {
			continue
		}
		u := a.URL()
		if u == a.OutputURL.S3OutputURL.OutputURL {
			continue
		}
		if &out[0] == &as[0] {
			out = slices.Clone(as)
		}
		out[i].OutputURL = &OutputURL{S3OutputURL: &S3OutputURL{OutputURL: u}}
	}
	return out
}
