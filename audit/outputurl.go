package audit

import (
	"slices"
	"strings"
)

// signingMarks are what the query (or fragment) of a URL names when it
// carries a request signature or credentials, in lower case: SigV4's
// X-Amz-* parameters (X-Amz-Credential, X-Amz-Security-Token,
// X-Amz-Signature, ...) and SigV2's Signature and AWSAccessKeyId.
var signingMarks = []string{"x-amz-", "signature", "awsaccesskeyid"}

// withoutCredentials returns u without its query and fragment when they
// carry a request signature or credentials (a presigned URL: whoever holds
// it reads the object for as long as it is valid, and it names the signer's
// access key and session token), and u as it is otherwise. Names are found
// in any case and however often percent-escaped. The rest of a presigned
// URL's query goes too: it is signed with it, and of no use without it.
func withoutCredentials(u string) string {
	i := strings.IndexAny(u, "?#")
	if i < 0 {
		return u
	}
	for s := u[i:]; ; {
		low := strings.ToLower(s)
		for _, m := range signingMarks {
			if strings.Contains(low, m) {
				return u[:i]
			}
		}
		un := unescape(s)
		if un == s {
			return u
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
