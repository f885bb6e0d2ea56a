package audit_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// outputURLFormSecrets are the secrets of the URLs below: none may be
// shown or recorded.
var outputURLFormSecrets = []string{"AKIAEXAMPLESECRETID", "SuperSecretValue123", "TOKEN", "abc123", "wJal", "K7MDENG"}

// TestOutputURLLoginAnyScheme: a login before the host is not kept
// whatever the scheme, or with none (net/url takes the access key's ID
// for a scheme), or inside another URL (blob:, view-source:); an SSM
// endpoint that returned these saw them kept whole in every record and
// report. An '@' that is not a login's is kept.
func TestOutputURLLoginAnyScheme(t *testing.T) {
	const login = "AKIAEXAMPLESECRETID:SuperSecretValue123@"
	tests := []struct {
		name, raw, want string
	}{
		{"no scheme", login + "bucket.s3.amazonaws.com/k1", "bucket.s3.amazonaws.com/k1"},
		{"no scheme, no password", "AKIAEXAMPLESECRETID@bucket.s3.amazonaws.com/k1", "bucket.s3.amazonaws.com/k1"},
		{"no scheme, a secret with a slash", "AKIAEXAMPLESECRETID:wJalrXUtnFEMI/K7MDENG@bucket/k1", "bucket/k1"},
		{"s3 without the slashes", "s3:" + login + "bucket/k2", "s3:bucket/k2"},
		{"s3 in capitals, a secret with a slash", "S3:AKIAEXAMPLESECRETID:wJalrXUtnFEMI/K7MDENG@bucket/k2", "S3:bucket/k2"},
		{"s3 after one slash", "s3:/" + login + "bucket/k2", "s3:/bucket/k2"},
		{"blob", "blob:https://" + login + "bucket/k3", "blob:https://bucket/k3"},
		{"view-source", "view-source:https://" + login + "bucket/k3", "view-source:https://bucket/k3"},
		{"view-source of a blob without the slashes", "view-source:blob:https:" + login + "bucket/k3", "view-source:blob:https:bucket/k3"},
		{"blob of a login that does not parse", "blob:https://AKIAEXAMPLESECRETID:Super#SecretValue123@bucket/k3", "blob:bucket/k3"},
		{"blob without a scheme inside", "blob:" + login + "bucket/k3", "blob:bucket/k3"},
		{"another scheme", "foo:" + login + "bucket/k4", "bucket/k4"},
		{"another scheme after a slash", "foo:/" + login + "bucket/k4", "bucket/k4"},
		{"another scheme around https", "foo:https://" + login + "bucket/k4", "bucket/k4"},
		{"blob and a signature", "blob:https://bucket/k3?X-Amz-Signature=abc123", "blob:https://bucket/k3"},
		// net/url reads "KEY::" as a host and an empty port; no browser
		// opens it, and the login ends at the '@' after the '#' (CI's
		// fuzzer, FuzzOutputURLCredentials).
		{"a host of two colons before a '#'", "s3://AKIAEXAMPLESECRETID::#@bucket/k6", "s3://bucket/k6"},
		{"a password of colons before a '?'", "https://AKIAEXAMPLESECRETID:a::?@bucket/k6", "bucket/k6"},
		{"a host and an empty port kept", "https://bucket.s3.amazonaws.com:/k6", "https://bucket.s3.amazonaws.com:/k6"},

		{"an @ in an s3 key kept without the slashes", "s3:ssm-out/reports@2026/stdout", "s3:ssm-out/reports@2026/stdout"},
		{"an @ in a blob's key kept", "blob:https://s3.amazonaws.com/ssm-out/erin@example.com/stdout", "blob:https://s3.amazonaws.com/ssm-out/erin@example.com/stdout"},
		{"an @ in a key kept without a scheme", "ssm-out/erin@example.com/stdout", "ssm-out/erin@example.com/stdout"},
		{"an @ in a key kept after another scheme", "foo:/ssm-out/erin@example.com/stdout", "foo:/ssm-out/erin@example.com/stdout"},
		{"mailto kept", "mailto:erin@example.com", "mailto:erin@example.com"},
		// An '@' with nothing before it holds no login: a spreadsheet's
		// formula in a URL is text the reports keep as it is.
		{"a leading @ kept", "@SUM(1+1)*cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0"},
		{"an @ right after a loose scheme kept", "s3:@bucket/k5", "s3:@bucket/k5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkOutputURL(t, tt.raw, tt.want)
		})
	}
}

// TestOutputURLSigningAnySpelling: a signing parameter is dropped however
// its name is spelled where the text still shows its value: '=' escaped,
// spaces or brackets after the name, ';' between parameters, or inside
// another parameter's escaped value. S3 would refuse most of these, but
// the token is in the text all the same.
func TestOutputURLSigningAnySpelling(t *testing.T) {
	const bare = "https://ssm-out.s3.eu-west-1.amazonaws.com/run/i-0123456789abcdef0/stdout"
	tests := []struct {
		name, raw, want string
	}{
		{"= escaped", bare + "?X-Amz-Security-Token%3DTOKEN", bare},
		{"= escaped twice", bare + "?X-Amz-Credential%253DAKIAEXAMPLESECRETID", bare},
		{"after a ;", bare + "?a=1;X-Amz-Security-Token=TOKEN", bare + "?a=1"},
		{"before a ;", bare + "?X-Amz-Signature=abc123;versionId=3", bare + "?versionId=3"},
		{"; and & mixed", bare + "?versionId=3;X-Amz-Signature=abc123&partNumber=1", bare + "?versionId=3&partNumber=1"},
		{"a space after the name", bare + "?X-Amz-Security-Token =TOKEN", bare},
		{"an escaped space before the name", bare + "?%20X-Amz-Security-Token=TOKEN", bare},
		{"a + before the name", bare + "?+X-Amz-Security-Token=TOKEN", bare},
		{"brackets after the name", bare + "?X-Amz-Security-Token[]=TOKEN", bare},
		{"escaped brackets after the name", bare + "?X-Amz-Signature%5B0%5D=abc123", bare},
		{"a suffix", bare + "?X-Amz-Signature-2=abc123", bare},
		{"an = before the name", bare + "?=X-Amz-Security-Token=TOKEN", bare},
		{"an escaped = before the name", bare + "?versionId=3&%3DX-AmZ-SeCuritY-Token=TOKEN", bare + "?versionId=3"},
		{"sigv2, = escaped", bare + "?Signature%3Dabc123", bare},
		{"inside another value, escaped", bare + "?a=1%26X-Amz-Security-Token%3DTOKEN", bare},
		{"after a ? in a value", bare + "?a=1?X-Amz-Security-Token=TOKEN", bare},
		{"in the fragment, after a ;", bare + "#a=1;X-Amz-Security-Token=TOKEN", bare + "#a=1"},

		{"a ; in a value kept", bare + "?response-content-type=text/plain;charset=utf-8", bare + "?response-content-type=text/plain;charset=utf-8"},
		{"a value named like a parameter kept", bare + "?prefix=X-Amz-Signature", bare + "?prefix=X-Amz-Signature"},
		{"a name that holds one later kept", bare + "?my-X-Amz-Signature-notes=1", bare + "?my-X-Amz-Signature-notes=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkOutputURL(t, tt.raw, tt.want)
		})
	}
}

// checkOutputURL fails when the association with the output URL raw is
// not shown as want, or its record holds a secret raw holds.
func checkOutputURL(t *testing.T, raw, want string) {
	t.Helper()
	a := audit.Association{AssociationID: "a-1", OutputURL: &audit.OutputURL{S3OutputURL: &audit.S3OutputURL{OutputURL: raw}}}
	if got := a.URL(); got != want {
		t.Errorf("URL() of %q = %q, want %q", raw, got, want)
	}
	var line bytes.Buffer
	if err := audit.EncodeResult(&line, audit.Result{InstanceID: "i-0123456789abcdef0", Outcome: audit.OutcomeCompliant,
		Associations: []audit.Association{a}}); err != nil {
		t.Fatal(err)
	}
	for _, s := range outputURLFormSecrets {
		if strings.Contains(raw, s) && strings.Contains(line.String(), s) {
			t.Errorf("the record holds %q: %s", s, line.String())
		}
	}
}

// loginPrefix is a chain of the schemes a login may follow: wrappers
// (blob:, view-source:), then one with a host and any slashes or
// backslashes, or none at all.
var loginPrefix = regexp.MustCompile(`^(?i)((blob|view-source):)*((https?|wss?|ftp|s3):[/\\]{0,3})?$`)

// FuzzOutputURLCredentials: after any chain of schemes, or none, a login
// of an access key and any secret without an '@' is not kept, whatever
// the secret holds, but where its text up to the first '/', '\', '?' or
// '#' reads as a host and a numeric port (as FuzzOutputURLLogin); and a
// signing parameter's value is not kept however its name is escaped,
// spaced or bracketed.
func FuzzOutputURLCredentials(f *testing.F) {
	for _, prefix := range []string{"", "s3:", "S3:/", "blob:https://", "view-source:https://", "view-source:blob:https:", "https:", "https:\\\\", "s3://"} {
		for _, secret := range []string{"SuperSecretValue123", "wJalrXUtnFEMI/K7MDENG", "a?b", "a#b", `a\b`, ""} {
			for _, name := range []string{"X-Amz-Security-Token", "X-Amz-Security-Token%3D", "x-amz-credential ", "X-Amz-Signature[]", "%20Signature", "X%252DAmz%252DSignature", "%3DX-Amz-Security-Token"} {
				f.Add(prefix, secret, name)
			}
		}
	}
	f.Fuzz(func(t *testing.T, prefix, secret, name string) {
		if !loginPrefix.MatchString(prefix) || strings.Contains(secret, "@") {
			t.Skip("not a login after a chain of schemes")
		}
		if head, _, ok := strings.Cut(strings.NewReplacer(`\`, "/", "?", "/", "#", "/").Replace(secret), "/"); ok && strings.Trim(head, "0123456789") == "" {
			t.Skip("a host and a port: no browser reads a login")
		}
		if strings.ContainsAny(name, "&;=?#@/\\") || !signingName(name) {
			t.Skip("not a signing parameter's name alone")
		}
		raw := prefix + "AKIAFUZZEXAMPLE:" + secret + "@ssm-out.s3.amazonaws.com/run/stdout?versionId=3&" + name + "=FUZZTOKEN"
		a := audit.Association{OutputURL: &audit.OutputURL{S3OutputURL: &audit.S3OutputURL{OutputURL: raw}}}
		got := a.URL()
		if strings.Contains(got, "AKIAFUZZEXAMPLE") || strings.Contains(got, "FUZZTOKEN") {
			t.Errorf("URL() of %q = %q, want it without the login and the token", raw, got)
		}
		if !strings.HasSuffix(got, "ssm-out.s3.amazonaws.com/run/stdout?versionId=3") {
			t.Errorf("URL() of %q = %q, want the host, the key and the other parameter", raw, got)
		}
	})
}

// signingName reports whether a query parameter's name, decoded until no
// escape is left, with what precedes its first letter or digit left out,
// starts with a signing parameter's name in any case.
func signingName(name string) bool {
	for {
		un := percentDecode(name)
		if un == name {
			break
		}
		name = un
	}
	name = strings.ToLower(strings.TrimLeftFunc(name, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
	}))
	for _, s := range []string{"x-amz-security-token", "x-amz-credential", "x-amz-signature", "awsaccesskeyid", "signature"} {
		if strings.HasPrefix(name, s) {
			return true
		}
	}
	return false
}

// percentDecode decodes each %XX of s, and leaves any other '%'.
func percentDecode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, ok := hexByte(s[i+1 : i+3]); ok {
				b.WriteByte(v)
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func hexByte(h string) (byte, bool) {
	var v byte
	for _, c := range []byte(h) {
		switch {
		case '0' <= c && c <= '9':
			v = v<<4 | (c - '0')
		case 'a' <= c && c <= 'f':
			v = v<<4 | (c - 'a' + 10)
		case 'A' <= c && c <= 'F':
			v = v<<4 | (c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return v, true
}
