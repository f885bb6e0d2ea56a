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
// gone, and no S3 request takes them otherwise.
var signingParams = map[string]bool{
	"x-amz-algorithm": true, "x-amz-credential": true, "x-amz-date": true, "x-amz-expires": true,
	"x-amz-security-token": true, "x-amz-signature": true, "x-amz-signedheaders": true,
	"awsaccesskeyid": true, "signature": true, "expires": true,
}

// withoutCredentials returns u without the credentials it may carry, and
// otherwise as it is, byte for byte: without a login before its host
// (https://KEY:SECRET@host/...), also where a browser reads one and
// net/url does not (https:KEY:SECRET@host/..., https:/KEY:SECRET@host/...,
// https:\\KEY:SECRET@host\...; see looseLoginSchemes), and without each
// query parameter whose name, in any case and however often
// percent-escaped, is a signing parameter (a presigned URL: whoever holds
// it reads the object for as long as it is valid, and it names the signer's
// access key and session token). The path is kept whole: an S3 key may hold a '#' that SSM sends
// unescaped, so what follows a '#' is taken as key, its own query (after a
// '?') cleaned as the URL's, or, when it has none, cleaned itself as a
// query, which leaves a key step alone. A u that does not parse as a URL
// is kept as it is, but for what precedes its last '@', which may be a
// login that made it unparsable.
func withoutCredentials(u string) string {
	if p, err := url.Parse(u); err == nil {
		switch {
		case p.User != nil:
			u = withoutLogin(u)
		case p.Host == "" && looseLoginSchemes[p.Scheme]:
			u = withoutLooseLogin(u, len(p.Scheme)+1)
		}
	} else if i := strings.LastIndexByte(u, '@'); i >= 0 {
		u = u[i+1:]
	}
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

// withoutLogin returns u, which parses as a URL with a login, without that
// login: the authority's text up to its last '@', as net/url reads it.
func withoutLogin(u string) string {
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

// looseLoginSchemes are the schemes after which a browser reads a host, and
// a login before it, whatever slashes or backslashes follow the ':', or none
// (the WHATWG URL standard's special schemes that have credentials): net/url
// reads "https:KEY:SECRET@host/" as an opaque URL, and "https:/KEY@host/" or
// "https:///KEY@host/" as a path, with no login.
var looseLoginSchemes = map[string]bool{"http": true, "https": true, "ws": true, "wss": true, "ftp": true}

// withoutLooseLogin returns u, whose scheme and its ':' take its first
// start bytes and which net/url reads without a host, without the login a
// browser reads in it: after any slashes and backslashes, the text up to the
// last '@' before the first '/', '\', '?' or '#'; or, when the text before
// that first one is not a host and port (a ':' and then more than digits,
// as in KEY:SECRET), the text up to the first '@' after it, since a
// password may hold those characters (a secret access key often holds a
// '/'). A u without either is returned as it is: an '@' after a host, in
// the key or the query, is kept.
func withoutLooseLogin(u string, start int) string {
	for start < len(u) && (u[start] == '/' || u[start] == '\\') {
		start++
	}
	end := len(u)
	if j := strings.IndexAny(u[start:], "/\\?#"); j >= 0 {
		end = start + j
	}
	if at := strings.LastIndexByte(u[start:end], '@'); at >= 0 {
		return u[:start] + u[start+at+1:]
	}
	if isHostPort(u[start:end]) {
		return u
	}
	// No browser opens such a URL (its port is not a number). The first
	// '@' after it, not the last, ends the login: what follows is the host
	// meant, and its key may hold an '@' of its own.
	if at := strings.IndexByte(u[end:], '@'); at >= 0 {
		return u[:start] + u[end+at+1:]
	}
	return u
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

// withoutSigning returns the raw query q without its signing parameters,
// the others as they were, in their order.
func withoutSigning(q string) string {
	parts := strings.Split(q, "&")
	kept := parts[:0]
	for _, p := range parts {
		name, _, _ := strings.Cut(p, "=")
		if !signingParams[strings.ToLower(unescapeAll(name))] {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, "&")
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
