package audit

import "testing"

// FuzzRedactSigning: the words that redactSigning looks for first are in
// every text in which it finds a value, so that the texts it skips hold
// no value to redact; and a text redacted once is redacted whole, so that
// a second Redact changes nothing.
func FuzzRedactSigning(f *testing.F) {
	for _, seed := range []string{
		"Authorization: AWS4-HMAC-SHA256 Credential=AKIAOTHEROTHER000001/20261201/us-east-1/ssm/aws4_request, Signature=3f2a9c0d",
		"?X-Amz-Security-Token=IQoJ%2Babc&X-Amz-Signature=3f2a",
		"aws_session_token = IQoJb3JpZ2luX2VjEJr//////////wEa\nCredential = missing",
		`{"SessionToken": "IQoJ\/abc==", "message":"{\"clientSecret\":\"a\\\"b\"}"}`,
		"x-amz-security-token:IQoJ\n<sts:SessionToken>\n IQoJ&#43;abc</sts:SessionToken>&lt;SecretAccessKey&gt;wJal&lt;/SecretAccessKey&gt;",
		"Proxy-Authorization: Basic dXNlcjpwYXNz; authorization=bearer eyJ.eyJ.c2ln",
		`{"Authorization":["Bearer eyJ"],"accessToken":"aoa","refreshToken":"Atzr|IwE"}`,
		"\u017fignature=abc X-Amz-Security-To\u212aen=abc",
		`{"idToken":"eyJ","deviceCode":"x"} code_verifier=abc InvalidToken:x oidcIdToken=y`,
		"aws_session_token: IQoJ\n{SessionToken:abc Source:x} AWS_SECRET_ACCESS_KEY='wJal' Signature = SignatureDoesNotMatchException",
		"map[Authorization:[Bearer x] X-Amz-Security-Token:[y]] {\n \"Authorization\": [\n  \"Basic a\",\n  \"Bearer b\"\n ]}",
		`<SessionToken xmlns="x"><![CDATA[IQoJ]]></SessionToken>&amp;lt;SessionToken&amp;gt;a \u003cSignatureProvided\u003eb`,
		"Authorization%3A%20Bearer%20x Authorization: Basic realm=\"x\" Authorization: AWS AKID:sig=",
		"X-Amz-SecretAccessKey:\\/Bearer%20InvalidToken%2F&_{<![CDATA[ realm%3DSecretAccessKey: _0123456789abcdeftokenSecretAccessKey%3DIQoJ/abc+def==",
		"InvalidInstanceId: Instances [[i-0123456789abcdef0]] not in a valid state for account 123456789012",
		"Signature = ***==Z9x8C7v6B5n4M3 <SessionToken>\t ab\\c[d]</SessionToken> (Signature=ab(cd)e]) Authorization: Bearer a%41[b]",
		`<SessionToken>a>b</SessionToken>&lt;x:idToken&gt;a&gt;]]&gt;&lt;/x:idToken&gt; \u003cidToken\u003ea\u003c/idToken\u003e Signature = [AbCdEfGhIjKlMnOp]`,
		`?Authorization=Bearer%20a%20b%26c%zz&x Authorization%3DBasic%20a%2 curl -H "Authorization: Bearer realm=" {"h":"Authorization: Bearer realm=\"x\""}`,
		`map[Authorization:[Basic realm="x", charset="y" Bearer a] b Basic c] {"m":"Authorization: [Bearer realm=\"x\" Basic a%20b AWS k:s]"}`,
		`Authorization: [Basic e="?X-Amz-Signature=a Authorization: [Bearer b c" Bearer d] {"Authorization":["Bearer e=\"Signature=f\"", "Basic g"]}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if got := redactAfterNames(text); !mayHoldSigning(text) && got != text {
			t.Errorf("%q holds none of signingWords but redactSigning would make it %q", text, got)
		}
		once := redactSigning(text)
		if twice := redactSigning(once); twice != once {
			t.Errorf("redactSigning(%q)\n = %q, and again\n = %q", text, once, twice)
		}
	})
}
