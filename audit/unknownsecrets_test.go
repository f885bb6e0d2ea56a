package audit_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// Values that carry credentials the run never knew, shaped as AWS's and
// IAM Identity Center's are.
const (
	xmlKeyID    = "ASIAXMLXMLXMLXML0001"
	xmlSecret   = "wJalrXUtnFEMI/K7MDENG/bPxRfiXmlSecret01"
	xmlToken    = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+xml/session+token=="
	bearerJWT   = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhdWRpdG9yIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
	ssoAccess   = "aoaAAAAAGexampleAccessToken0123456789abcdefghijklmnopqrstuvwxyz+/=="
	ssoRefresh  = "Atzr|IwEBIexampleRefreshToken0123456789abcdefghijklmnop"
	ssoSecret   = "eyJraWQiOiJrZXktMTU2NDAyODA5OSIsImFsZyI6IkhTMzg0In0.exampleClientSecret"
	ssoClientID = "_ZGxxexampleClientId-dXMtZWFzdC0x"
)

// TestSecretsRedactUnknownForms: values that carry credentials the run
// never knew, in forms that an endpoint, a proxy or an emulator may echo,
// are redacted, "***", each one also when it is the only secret in the
// text (Redact looks for the names' words before it runs its regexp): an
// STS answer's SessionToken and SecretAccessKey elements in XML (its
// AccessKeyId is kept: key IDs are in ordinary errors), an Authorization
// header's Bearer or Basic credentials, the fields of IAM Identity
// Center's token cache and answers in JSON, escaped or not.
func TestSecretsRedactUnknownForms(t *testing.T) {
	assumeRole := `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>` +
		`<AccessKeyId>` + xmlKeyID + `</AccessKeyId><SecretAccessKey>%s</SecretAccessKey><SessionToken>%s</SessionToken>` +
		`<Expiration>2026-12-01T13:00:00Z</Expiration></Credentials><AssumedRoleUser>` +
		`<Arn>arn:aws:sts::123456789012:assumed-role/Audit/auditor</Arn><AssumedRoleId>AROAEXAMPLEEXAMPLE01:auditor</AssumedRoleId>` +
		`</AssumedRoleUser></AssumeRoleResult></AssumeRoleResponse>`
	getSessionToken := "<GetSessionTokenResponse>\n  <GetSessionTokenResult>\n    <Credentials>\n" +
		"      <SessionToken>\n        %s\n      </SessionToken>\n" +
		"      <SecretAccessKey>\n        %s\n      </SecretAccessKey>\n" +
		"      <Expiration>2026-12-01T13:00:00Z</Expiration>\n      <AccessKeyId>" + xmlKeyID + "</AccessKeyId>\n" +
		"    </Credentials>\n  </GetSessionTokenResult>\n</GetSessionTokenResponse>"
	tokenCache := `{"startUrl":"https://example.awsapps.com/start","region":"us-east-1","accessToken":"%s",` +
		`"expiresAt":"2026-12-01T13:00:00Z","clientId":"` + ssoClientID + `","clientSecret":"%s",` +
		`"registrationExpiresAt":"2027-03-01T12:00:00Z","refreshToken":"%s"}`
	// S3's refusal names the signature it was given, and the canonical
	// request, with its headers, that it expected to be signed.
	s3Mismatch := "<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided. Check your key and signing method.</Message>" +
		"<AWSAccessKeyId>" + xmlKeyID + "</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256\n20261201T120000Z\n20261201/us-east-1/s3/aws4_request\n3f2a9c0d1e8b7a6f</StringToSign>" +
		"<SignatureProvided>%s</SignatureProvided><StringToSignBytes>41 57 53 34</StringToSignBytes>" +
		"<CanonicalRequest>GET\n/run/stdout\n\nhost:b.s3.amazonaws.com\nx-amz-date:20261201T120000Z\nx-amz-security-token:%s\n\nhost;x-amz-date;x-amz-security-token\nUNSIGNED-PAYLOAD</CanonicalRequest>" +
		"<RequestId>4C6E3B1A0D2F4E5A</RequestId></Error>"
	tests := []struct{ name, in, want string }{
		{"an AssumeRole answer in XML",
			fmt.Sprintf(assumeRole, xmlSecret, xmlToken), fmt.Sprintf(assumeRole, "***", "***")},
		{"a GetSessionToken answer in XML, indented",
			fmt.Sprintf(getSessionToken, xmlToken, xmlSecret), fmt.Sprintf(getSessionToken, "***", "***")},
		{"an XML SessionToken alone", "echoed: <SessionToken>" + xmlToken + "</SessionToken>", "echoed: <SessionToken>***</SessionToken>"},
		{"an XML SecretAccessKey alone", "<SecretAccessKey>" + xmlSecret + "</SecretAccessKey>", "<SecretAccessKey>***</SecretAccessKey>"},
		{"an XML element with a namespace prefix, in lower case", "<sts:sessiontoken>" + xmlToken + "</sts:sessiontoken>", "<sts:sessiontoken>***</sts:sessiontoken>"},
		{"XML escaped in HTML", "&lt;SessionToken&gt;" + xmlToken + "&lt;/SessionToken&gt;", "&lt;SessionToken&gt;***&lt;/SessionToken&gt;"},
		{"an XML value with a character reference", "<SessionToken>IQoJb3&#43;abc/def&#x2B;ghi==</SessionToken>", "<SessionToken>***</SessionToken>"},
		{"an XML element with attributes", `<SessionToken xmlns="https://sts.amazonaws.com/doc/2011-06-15/" a='b'>` + xmlToken + `</SessionToken>`,
			`<SessionToken xmlns="https://sts.amazonaws.com/doc/2011-06-15/" a='b'>***</SessionToken>`},
		{"an XML start tag with a blank", "<SessionToken >" + xmlToken + "<", "<SessionToken >***<"},
		{"an XML value in CDATA", "<SessionToken><![CDATA[" + xmlToken + "]]></SessionToken>", "<SessionToken><![CDATA[***]]></SessionToken>"},
		{"XML escaped twice", "&amp;lt;SessionToken&amp;gt;" + xmlToken + "&amp;lt;/SessionToken&amp;gt;", "&amp;lt;SessionToken&amp;gt;***&amp;lt;/SessionToken&amp;gt;"},
		{"XML escaped twice, with attributes", "&amp;lt;SessionToken xmlns=&amp;quot;x&amp;quot;&amp;gt;" + xmlToken + "&amp;lt;/SessionToken&amp;gt;",
			"&amp;lt;SessionToken xmlns=&amp;quot;x&amp;quot;&amp;gt;***&amp;lt;/SessionToken&amp;gt;"},
		{"XML in a string that Go's JSON escaped", `{"body":"\u003cSessionToken\u003e` + xmlToken + `\u003c/SessionToken\u003e\u003cSecretAccessKey xmlns=\"x\"\u003e` + xmlSecret + `\u003c/SecretAccessKey\u003e"}`,
			`{"body":"\u003cSessionToken\u003e***\u003c/SessionToken\u003e\u003cSecretAccessKey xmlns=\"x\"\u003e***\u003c/SecretAccessKey\u003e"}`},
		// Every name that XML's forms know, in each form: an ID token's name
		// starts a word, after what escapes '<' too.
		{"an XML idToken in a string that Go's JSON escaped", `{"body":"\u003cidToken\u003e` + bearerJWT + `\u003c/idToken\u003e\u003coidc:IdToken\u003e` + bearerJWT + `\u003c/oidc:IdToken\u003e"}`,
			`{"body":"\u003cidToken\u003e***\u003c/idToken\u003e\u003coidc:IdToken\u003e***\u003c/oidc:IdToken\u003e"}`},
		{"an XML idToken in every other form", "<idToken>" + bearerJWT + "</idToken>&lt;idToken&gt;" + bearerJWT + "&lt;/idToken&gt;&amp;lt;idToken&amp;gt;" + bearerJWT + "&amp;lt;/idToken&amp;gt;",
			"<idToken>***</idToken>&lt;idToken&gt;***&lt;/idToken&gt;&amp;lt;idToken&amp;gt;***&amp;lt;/idToken&amp;gt;"},
		{"an idToken after a JSON escape", `{"log":"line\nid_token=` + bearerJWT + `\tidToken: ` + bearerJWT + `"}`,
			`{"log":"line\nid_token=***\tidToken: ***"}`},
		{"XML escaped in HTML, in CDATA", "&lt;SessionToken&gt;&lt;![CDATA[" + xmlToken + "]]&gt;&lt;/SessionToken&gt;", "&lt;SessionToken&gt;&lt;![CDATA[***]]&gt;&lt;/SessionToken&gt;"},
		{"S3's SignatureDoesNotMatch", fmt.Sprintf(s3Mismatch, bearerJWT, xmlToken), fmt.Sprintf(s3Mismatch, "***", "***")},

		{"a Bearer header", "Authorization: Bearer " + bearerJWT + "\r\nHost: ssm.us-east-1.amazonaws.com", "Authorization: Bearer ***\r\nHost: ssm.us-east-1.amazonaws.com"},
		{"a bearer header in lower case", "authorization: bearer " + ssoAccess + "; user-agent: x", "authorization: bearer ***; user-agent: x"},
		{"a Bearer header echoed with =", "Authorization=Bearer " + bearerJWT + ", next", "Authorization=Bearer ***, next"},
		{"a Bearer header whose token holds ':'", "Authorization: Bearer aoaAAAAAGexample0123:MGUCMQDexample+sig/0123==, Host: x", "Authorization: Bearer ***, Host: x"},
		{"a Bearer header in a query", "?Authorization=Bearer " + bearerJWT + "&next=1", "?Authorization=Bearer ***&next=1"},
		{"a Basic proxy header", "Proxy-Authorization: Basic dXNlcjpwYXNzd29yZA==", "Proxy-Authorization: Basic ***"},
		{"a Bearer header in a query, escaped", "?Authorization=Bearer%20" + bearerJWT + "&next=1", "?Authorization=Bearer%20***&next=1"},
		{"a Bearer header in a form body", "authorization=Bearer+" + ssoAccess + "&next=1", "authorization=Bearer+***&next=1"},
		{"a header line escaped whole", "Authorization%3A%20Bearer%20" + bearerJWT + "%0D%0AHost%3A%20x", "Authorization%3A%20Bearer%20***%0D%0AHost%3A%20x"},
		{"a signature version 2 header", "Authorization: AWS " + xmlKeyID + ":frJIUN8DYpKDtOLCwo//yllqDzg=\r\nDate: x", "Authorization: AWS " + xmlKeyID + ":***\r\nDate: x"},
		{"a signature version 2 header in JSON", `{"Authorization":["AWS ` + xmlKeyID + `:frJIUN8DYpKDtOLCwo\/\/yllqDzg="]}`, `{"Authorization":["AWS ` + xmlKeyID + `:***"]}`},
		{"Basic credentials in JSON", `{"Authorization":"Basic dXNlcjpwYXNzd29yZA=="}`, `{"Authorization":"Basic ***"}`},
		{"a Bearer header in JSON", `{"Authorization":"Bearer ` + bearerJWT + `","Host":"x"}`, `{"Authorization":"Bearer ***","Host":"x"}`},
		{"a Bearer header in JSON with an escaped slash", `{"authorization": "bearer abc\/def-ghi.jkl"}`, `{"authorization": "bearer ***"}`},
		{"a Bearer header in JSON in a JSON string", `{"message":"{\"Authorization\": \"Bearer ` + bearerJWT + `\"}"}`, `{"message":"{\"Authorization\": \"Bearer ***\"}"}`},
		{"headers in JSON, as Go's http.Header", `{"Authorization":["Bearer ` + bearerJWT + `"],"X-Amz-Security-Token":["` + xmlToken + `"]}`,
			`{"Authorization":["Bearer ***"],"X-Amz-Security-Token":["***"]}`},
		{"headers in JSON, indented", "{\n  \"Authorization\": [\n    \"Bearer " + bearerJWT + "\"\n  ],\n  \"X-Amz-Security-Token\": [\n    \"" + xmlToken + "\"\n  ]\n}",
			"{\n  \"Authorization\": [\n    \"Bearer ***\"\n  ],\n  \"X-Amz-Security-Token\": [\n    \"***\"\n  ]\n}"},
		{"headers in JSON, indented, in a JSON string", `{"message":"{\n  \"Authorization\": [\n    \"Bearer ` + bearerJWT + `\"\n  ]\n}"}`,
			`{"message":"{\n  \"Authorization\": [\n    \"Bearer ***\"\n  ]\n}"}`},
		{"every value of a header in JSON", `{"Authorization":["Basic dXNlcjpwYXNzd29yZA==", "Bearer ` + bearerJWT + `"],"X-Amz-Security-Token":["` + xmlToken + `","` + xmlSecret + `"],"Host":["x"]}`,
			`{"Authorization":["Basic ***", "Bearer ***"],"X-Amz-Security-Token":["***","***"],"Host":["x"]}`},
		{"every value of a header in JSON in a JSON string", `{"message":"{\"X-Amz-Security-Token\":[\"` + xmlToken + `\",\n \"` + xmlSecret + `\"],\"Host\":[\"x\"]}"}`,
			`{"message":"{\"X-Amz-Security-Token\":[\"***\",\n \"***\"],\"Host\":[\"x\"]}"}`},
		{"headers as Go prints an http.Header", "map[Authorization:[Bearer " + bearerJWT + "] User-Agent:[aws-sdk-go-v2] X-Amz-Security-Token:[" + xmlToken + "]]",
			"map[Authorization:[Bearer ***] User-Agent:[aws-sdk-go-v2] X-Amz-Security-Token:[***]]"},
		{"values that are not a header's kept", `{"Authorization":["x"],"Names":["Authorization","Bearer"],"Code":["SignatureDoesNotMatch"]}`,
			`{"Authorization":["x"],"Names":["Authorization","Bearer"],"Code":["SignatureDoesNotMatch"]}`},

		{"IAM Identity Center's token cache", fmt.Sprintf(tokenCache, ssoAccess, ssoSecret, ssoRefresh), fmt.Sprintf(tokenCache, "***", "***", "***")},
		{"an accessToken alone", `{"accessToken": "` + ssoAccess + `"}`, `{"accessToken": "***"}`},
		{"a refreshToken alone", `{"refreshToken":"` + ssoRefresh + `"}`, `{"refreshToken":"***"}`},
		{"a clientSecret alone", `{"clientSecret":"` + ssoSecret + `"}`, `{"clientSecret":"***"}`},
		{"the token cache in a JSON string", `{"message":"{\"accessToken\":\"` + ssoAccess + `\",\"clientSecret\":\"` + ssoSecret + `\",\"refreshToken\":\"` + ssoRefresh + `\"}"}`,
			`{"message":"{\"accessToken\":\"***\",\"clientSecret\":\"***\",\"refreshToken\":\"***\"}"}`},
		{"an accessToken alone in a JSON string", `{"message":"{\"accessToken\": \"` + ssoAccess + `\"}"}`, `{"message":"{\"accessToken\": \"***\"}"}`},
		{"OAuth's names in a form body", "grant_type=refresh_token&client_id=" + ssoClientID + "&client_secret=" + ssoSecret + "&refresh_token=" + ssoRefresh + "&access_token=" + ssoAccess,
			"grant_type=refresh_token&client_id=" + ssoClientID + "&client_secret=***&refresh_token=***&access_token=***"},
		{"OIDC's answers and requests", `{"idToken":"` + bearerJWT + `","deviceCode":"` + ssoRefresh + `"} {"IdToken": "` + bearerJWT + `", "codeVerifier": "` + ssoSecret + `"}`,
			`{"idToken":"***","deviceCode":"***"} {"IdToken": "***", "codeVerifier": "***"}`},
		{"OAuth's id_token, device_code and code_verifier", "grant_type=x&device_code=" + ssoRefresh + "&code_verifier=" + ssoSecret + "&id_token=" + bearerJWT + "&oidc_id_token=" + bearerJWT,
			"grant_type=x&device_code=***&code_verifier=***&id_token=***&oidc_id_token=***"},
		{"GetRoleCredentials' answer", `{"roleCredentials":{"accessKeyId":"` + xmlKeyID + `","secretAccessKey":"` + xmlSecret + `","sessionToken":"` + xmlToken + `","expiration":1796130000000}}`,
			`{"roleCredentials":{"accessKeyId":"` + xmlKeyID + `","secretAccessKey":"***","sessionToken":"***","expiration":1796130000000}}`},

		{"XML without a secret kept", "<ErrorResponse><Error><Type>Sender</Type><Code>ExpiredToken</Code><Message>The security token included in the request is expired</Message></Error><RequestId>4c6e3b1a-0d2f-4e5a-9b8c-7d6e5f4a3b2c</RequestId></ErrorResponse>",
			"<ErrorResponse><Error><Type>Sender</Type><Code>ExpiredToken</Code><Message>The security token included in the request is expired</Message></Error><RequestId>4c6e3b1a-0d2f-4e5a-9b8c-7d6e5f4a3b2c</RequestId></ErrorResponse>"},
		{"XML elements in prose kept", "missing <Credential> is required; <SessionToken>\texpired; <Signature>missing or empty</Signature>",
			"missing <Credential> is required; <SessionToken>\texpired; <Signature>missing or empty</Signature>"},
		{"XML elements that hold elements, or nothing, kept", "<Credentials>\n <AccessKeyId>" + xmlKeyID + "</AccessKeyId></Credentials><Signature>\n <SignedInfo/></Signature><SessionToken></SessionToken><Code>SignatureDoesNotMatch</Code>",
			"<Credentials>\n <AccessKeyId>" + xmlKeyID + "</AccessKeyId></Credentials><Signature>\n <SignedInfo/></Signature><SessionToken></SessionToken><Code>SignatureDoesNotMatch</Code>"},
		{"Authorization in prose kept", "Authorization header requires 'Credential' parameter. The authorization header is malformed; expecting 'eu-west-1'",
			"Authorization header requires 'Credential' parameter. The authorization header is malformed; expecting 'eu-west-1'"},
		{"a Bearer challenge and a Bearer without a value kept", `WWW-Authenticate: Bearer realm="sso"; want Authorization: Bearer <token>, not Authorization: Bearer`,
			`WWW-Authenticate: Bearer realm="sso"; want Authorization: Bearer <token>, not Authorization: Bearer`},
		{"a challenge's parameters kept", `Authorization: Basic realm="sso", charset="UTF-8"; {"Authorization":"Bearer error=\"invalid_token\""}`,
			`Authorization: Basic realm="sso", charset="UTF-8"; {"Authorization":"Bearer error=\"invalid_token\""}`},
		// A challenge's parameter is a name, '=' and a quoted string, opened
		// and closed, in the escape of the text around it; a token that
		// ends in '=' before the quote that closes that text is no such
		// parameter, in JSON as in the text unescaped.
		{"a token that ends in '=' before a closing quote taken", `curl -H "Authorization: Bearer realm=" -H "Host: x"; Authorization: Basic abcdefgh="`,
			`curl -H "Authorization: Bearer ***" -H "Host: x"; Authorization: Basic ***"`},
		{"a token that ends in '=' before an escaped closing quote taken", `{"cmd":"curl -H \"Authorization: Bearer realm=\" -H \"Host: x\"","h":"Authorization: Bearer abcdefgh=\""}`,
			`{"cmd":"curl -H \"Authorization: Bearer ***\" -H \"Host: x\"","h":"Authorization: Bearer ***\""}`},
		{"a token that ends in '=' before a closing quote escaped twice taken", `{"m":"{\"cmd\":\"curl -H \\\"Authorization: Bearer realm=\\\"\"}"}`,
			`{"m":"{\"cmd\":\"curl -H \\\"Authorization: Bearer ***\\\"\"}"}`},
		{"a challenge's parameters kept in every escape", `Authorization: Bearer realm=""; {"m":"Authorization: Bearer realm=\"sso\", error=\"\""} {"m":"{\"m\":\"Authorization: Bearer realm=\\\"x y\\\"\"}"}`,
			`Authorization: Bearer realm=""; {"m":"Authorization: Bearer realm=\"sso\", error=\"\""} {"m":"{\"m\":\"Authorization: Bearer realm=\\\"x y\\\"\"}"}`},
		{"credentials after a challenge in an array taken", `{"Authorization":["Bearer realm=\"x\", error=\"y\"", "Bearer ` + bearerJWT + `"]} {"m":"{\"Authorization\":[\"Basic realm=\\\"x\\\"\",\"Basic ` + bearerJWT + `\"]}"}`,
			`{"Authorization":["Bearer realm=\"x\", error=\"y\"", "Bearer ***"]} {"m":"{\"Authorization\":[\"Basic realm=\\\"x\\\"\",\"Basic ***\"]}"}`},
		// Go's %v of an http.Header, or of its values, writes them one after
		// another with a blank between: every element after a challenge, or
		// after credentials, is read as the first is, up to the ']' that
		// closes them, and what follows that ']' is kept.
		{"credentials after a challenge in a header as Go prints it taken", "map[Authorization:[Basic realm=\"x\" Bearer " + bearerJWT + "] Www-Authenticate:[Basic realm=\"x\"]]",
			"map[Authorization:[Basic realm=\"x\" Bearer ***] Www-Authenticate:[Basic realm=\"x\"]]"},
		{"credentials after a challenge's parameters in a header's values as Go prints them taken", `Authorization: [Basic realm="x", charset="UTF-8" Bearer abcdEFGH1234secretTOKEN] was refused`,
			`Authorization: [Basic realm="x", charset="UTF-8" Bearer ***] was refused`},
		{"every value of a header as Go prints it taken", "map[Authorization:[Basic dXNlcjpwYXNzd29yZA== Bearer " + bearerJWT + " AWS " + xmlKeyID + ":frJIUN8DYpKDtOLCwo//yllqDzg=]]",
			"map[Authorization:[Basic *** Bearer *** AWS " + xmlKeyID + ":***]]"},
		{"credentials after a challenge in a header as Go prints it in a JSON string taken", `{"m":"map[Authorization:[Bearer realm=\"x\", error=\"y\" Basic dXNlcjpwYXNzd29yZA==]]"}`,
			`{"m":"map[Authorization:[Bearer realm=\"x\", error=\"y\" Basic ***]]"}`},
		{"what follows a header's values as Go prints them kept", `Authorization: [Basic realm="x"] Bearer tokens are refused; Authorization: [Bearer abcdEFGH1234secretTOKEN] Bearer tokens expire; Authorization: [Basic realm="x" Negotiate abc]`,
			`Authorization: [Basic realm="x"] Bearer tokens are refused; Authorization: [Bearer ***] Bearer tokens expire; Authorization: [Basic realm="x" Negotiate abc]`},
		// A challenge's parameters are kept, but not a signing value in
		// them, whether credentials follow the challenge or not.
		{"a signing value in a challenge's parameter before credentials taken", `Authorization: [Basic error_description="see ?X-Amz-Signature=3f2a9c0d1e8b7a6f" Bearer abcdEFGH1234secretTOKEN]; ` +
			`{"Authorization":["Basic error_description=\"see ?X-Amz-Signature=3f2a9c0d1e8b7a6f\"", "Bearer abcdEFGH1234secretTOKEN"]}; Authorization: [Basic error_description="see ?X-Amz-Signature=3f2a9c0d1e8b7a6f"]`,
			`Authorization: [Basic error_description="see ?X-Amz-Signature=***" Bearer ***]; ` +
				`{"Authorization":["Basic error_description=\"see ?X-Amz-Signature=***\"", "Bearer ***"]}; Authorization: [Basic error_description="see ?X-Amz-Signature=***"]`},
		{"a signature version 4 header's scheme kept", "Authorization: AWS4-HMAC-SHA256 Credential=***, Signature=***; Authorization: AWS access denied",
			"Authorization: AWS4-HMAC-SHA256 Credential=***, Signature=***; Authorization: AWS access denied"},
		{"names that end in IdToken's letters kept", `InvalidToken: token=abc is malformed; ValidToken:false; {"invalidToken":"x"}`,
			`InvalidToken: token=abc is malformed; ValidToken:false; {"invalidToken":"x"}`},
		{"a token type kept", `{"tokenType":"Bearer","expiresIn":28800}`, `{"tokenType":"Bearer","expiresIn":28800}`},
	}
	var none *audit.Secrets
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := new(audit.Secrets).Redact(tt.in); got != tt.want {
				t.Errorf("Redact(%q)\n = %q,\nwant %q", tt.in, got, tt.want)
			}
			if got := none.Redact(tt.in); got != tt.want {
				t.Errorf("nil Redact(%q)\n = %q,\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestSecretsRedactSpacedValue: with a blank after '=' or ':' (a
// credentials file's "key = value", YAML's "key: value"), a value is taken
// only when it looks like a token, 16 characters or more up to its end, as
// AWS's keys, tokens and signatures are, and not a word of letters only
// (an error's name): prose that names a credential, a signature or a token
// and then '=' or ':' keeps its words. Right after '=' or ':' (a query,
// Go's %+v of a struct) a value is taken whatever it is; in quotes too.
func TestSecretsRedactSpacedValue(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"prose kept", "Credential = missing for the request", "Credential = missing for the request"},
		{"prose in capitals kept", "SIGNATURE = NONE, SessionToken = expired; renew it", "SIGNATURE = NONE, SessionToken = expired; renew it"},
		{"a value of 15 characters kept", "X-Amz-Security-Token = abcdefghijklmn0 next", "X-Amz-Security-Token = abcdefghijklmn0 next"},
		{"a value of 16 characters taken", "X-Amz-Security-Token = abcdefghijklmno0 next", "X-Amz-Security-Token = *** next"},
		// Brackets that close or enclose a value are no characters of it:
		// what is counted is the same after blanks as after ':' and '['.
		{"a value of 15 characters before a closer kept", "(Signature = abcdefghijklmn0) map[Signature = abcdefghijklmn0] {SessionToken = abcdefghijklmn0}",
			"(Signature = abcdefghijklmn0) map[Signature = abcdefghijklmn0] {SessionToken = abcdefghijklmn0}"},
		{"a value of 15 characters in brackets kept", "Signature = [abcdefghijklmn0] Signature: [abcdefghijklmn0] Signature = (abcdefghijklmn0) Signature = abcdefghijklmn0()",
			"Signature = [abcdefghijklmn0] Signature: [abcdefghijklmn0] Signature = (abcdefghijklmn0) Signature = abcdefghijklmn0()"},
		{"a value of 16 characters before a closer or in brackets taken", "(Signature = abcdefghijklmno0) Signature = [abcdefghijklmno0] Signature: [abcdefghijklmno0] Signature = ab(cd)efghijklmno0",
			"(Signature = ***) Signature = *** Signature: [***] Signature = ***"},
		{"a credentials file", "[p]\r\naws_access_key_id = " + xmlKeyID + "\r\naws_secret_access_key = " + xmlSecret + "\r\naws_session_token = " + xmlToken + "\r\n",
			"[p]\r\naws_access_key_id = " + xmlKeyID + "\r\naws_secret_access_key = ***\r\naws_session_token = ***\r\n"},
		{"a JWT taken whole", "aws_session_token = " + bearerJWT + " next", "aws_session_token = *** next"},
		{"an escape counted as one character", "Signature = abcdefghijklmn%2F next", "Signature = abcdefghijklmn%2F next"},
		{"a credentials file with tabs", "aws_session_token\t=\t" + xmlToken, "aws_session_token\t=\t***"},
		{"a short value right after '=' taken still", "Signature=abc, Credential =xyz", "Signature=***, Credential =***"},
		// A JSON encoder may escape '/' as '\/': it is part of the value,
		// and counts as one character.
		{"a value with JSON-escaped slashes", `aws_secret_access_key = wJalrXUtnFEMI\/K7MDENG\/bPxRfiCYEXAMPLEKEY next`, "aws_secret_access_key = *** next"},
		{"JSON-escaped slashes counted as one character", `Signature = abcdefghijk\/\/\/ next`, `Signature = abcdefghijk\/\/\/ next`},

		{"a blank after '=' only", "aws_session_token= " + xmlToken + "\naws_secret_access_key=\t" + xmlSecret, "aws_session_token= ***\naws_secret_access_key=\t***"},
		{"values in quotes", `AWS_SESSION_TOKEN="` + xmlToken + `"; export AWS_SECRET_ACCESS_KEY='` + xmlSecret + `'; aws_session_token = "` + xmlToken + `"`,
			`AWS_SESSION_TOKEN="***"; export AWS_SECRET_ACCESS_KEY='***'; aws_session_token = "***"`},
		{"YAML", "credentials:\n  aws_session_token: " + xmlToken + "\n  aws_secret_access_key: '" + xmlSecret + "'\n  x-amz-security-token: \"" + xmlToken + "\"\n",
			"credentials:\n  aws_session_token: ***\n  aws_secret_access_key: '***'\n  x-amz-security-token: \"***\"\n"},
		{"Go's %+v of aws.Credentials", "{AccessKeyID:" + xmlKeyID + " SecretAccessKey:" + xmlSecret + " SessionToken:" + xmlToken + " Source:StaticCredentials CanExpire:false}",
			"{AccessKeyID:" + xmlKeyID + " SecretAccessKey:*** SessionToken:*** Source:StaticCredentials CanExpire:false}"},
		{"Go's %+v of aws.Credentials, short and empty", "{AccessKeyID:AKIDEXAMPLE SecretAccessKey:xyz SessionToken: Source:x}",
			"{AccessKeyID:AKIDEXAMPLE SecretAccessKey:*** SessionToken: Source:x}"},
		{"Go's %v of url.Values", "map[X-Amz-Credential:[" + xmlKeyID + "/20261201/us-east-1/s3/aws4_request] X-Amz-Signature:[abc]]",
			"map[X-Amz-Credential:[***] X-Amz-Signature:[***]]"},
		{"a word of letters only in mixed case taken", "aws_secret_access_key = wJalrXUtnFEMIKMDENGbPxRfiCYEXAMPLEKEY", "aws_secret_access_key = ***"},
		// CamelCase whose humps are two letters or so, as a random
		// mix of cases may be, reads as no word; an error's name does.
		{"letters only in CamelCase that reads as no word taken", "aws_secret_access_key = AbCdEfGhIjKlMnOpQrStUv\nSignature: xYzAbCdEfGhIjKlMn next",
			"aws_secret_access_key = ***\nSignature: *** next"},
		{"CamelCase words kept", "Signature = SignatureDoesNotMatch; SessionToken: AuthorizationHeaderMalformed; Credential = GetIdOfAnInstance",
			"Signature = SignatureDoesNotMatch; SessionToken: AuthorizationHeaderMalformed; Credential = GetIdOfAnInstance"},

		{"an error's name kept", "Signature = SignatureDoesNotMatchException raised; Credential = InvalidClientTokenIdError; SessionToken = EXPIREDTOKENEXCEPTION",
			"Signature = SignatureDoesNotMatchException raised; Credential = InvalidClientTokenIdError; SessionToken = EXPIREDTOKENEXCEPTION"},
		{"a word after ':' kept", "IncompleteSignature: Credential should be scoped; invalid SessionToken: AuthorizationHeaderMalformed; Signature: mismatched",
			"IncompleteSignature: Credential should be scoped; invalid SessionToken: AuthorizationHeaderMalformed; Signature: mismatched"},
		{"a name and '=' after blanks read on their own", "IncompleteSignature: Signature=abc; Credential = X-Amz-Signature=" + bearerJWT,
			"IncompleteSignature: Signature=***; Credential = X-Amz-Signature=***"},
		{"a name and escaped '=' after blanks read on their own", "Signature = X-Amz-Signature%3D" + bearerJWT + "%26X-Amz-Date%3D20261201",
			"Signature = X-Amz-Signature%3D***%26X-Amz-Date%3D20261201"},
		{"a word in quotes kept", `Credential = "missing"; SessionToken: 'SessionTokenRequiredException'`, `Credential = "missing"; SessionToken: 'SessionTokenRequiredException'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := new(audit.Secrets).Redact(tt.in); got != tt.want {
				t.Errorf("Redact(%q)\n = %q,\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestSecretsRedactKeepsErrors: the errors that SSM, STS and IAM Identity
// Center send in ordinary runs hold no secret and come out of Redact as
// they went in, their codes whole, though some name tokens, signatures
// and credentials.
func TestSecretsRedactKeepsErrors(t *testing.T) {
	for _, msg := range []string{
		"InvalidInstanceId: Instances [[i-0123456789abcdef0]] not in a valid state for account 123456789012",
		"AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/x/y is not authorized to perform: ssm:ListInstanceAssociations on resource: arn:aws:ssm:us-east-1:123456789012:* because no identity-based policy allows the ssm:ListInstanceAssociations action",
		"AccessDenied: User: arn:aws:iam::123456789012:user/auditor is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::210987654321:role/Audit",
		"ExpiredTokenException: The security token included in the request is expired",
		"UnrecognizedClientException: The security token included in the request is invalid.",
		"InvalidClientTokenId: The security token included in the request is invalid.",
		"InvalidSignatureException: Signature expired: 20261201T120000Z is now earlier than 20261201T121500Z (20261201T122000Z - 15 min.)",
		"IncompleteSignatureException: Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter.",
		"UnauthorizedException: Session token not found or invalid",
		"InvalidGrantException: Invalid grant provided; the refresh token has expired",
		"ThrottlingException: Rate exceeded",
		"ValidationException: 1 validation error detected: Value 'i-1' at 'instanceId' failed to satisfy constraint: Member must satisfy regular expression pattern: (^i-(\\w{8}|\\w{17})$)|(^mi-\\w{17}$)",
		"<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>4C6E3B1A0D2F4E5A</RequestId><HostId>aGVsbG8gd29ybGQgaGVsbG8gd29ybGQ=</HostId></Error>",
		"IncompleteSignature: Credential should be scoped to a valid region. ",
		"InvalidSignatureException: Credential should be scoped to correct service: 'ssm'. ",
		"SignatureDoesNotMatch: Signature expired: 20261201T120000Z is now earlier than 20261201T121500Z (20261201T122000Z - 15 min.)",
		"AuthorizationHeaderMalformed: The authorization header is malformed; the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".",
		"MissingAuthenticationTokenException: Missing Authentication Token",
		"ExpiredTokenException: Token expired: current date/time 1796130000 must be before the expiration date/time 1796126400",
		"InvalidIdentityToken: Couldn't retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements",
		"AccessDenied: User: arn:aws:iam::123456789012:user/auditor is not authorized to perform: sts:GetSessionToken on resource: arn:aws:iam::123456789012:user/auditor",
		"ValidationError: 1 validation error detected: Value null at 'sessionToken' failed to satisfy constraint: Member must not be null",
		"AuthorizationPendingException: Authorization is still pending",
		`{"error":"authorization_pending","error_description":"Authorization is still pending"}`,
		`{"error":"invalid_grant","error_description":"Invalid refresh token provided"}`,
		"<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error></ErrorResponse>",
		"<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided. Check your key and signing method.</Message></Error>",
	} {
		if got := new(audit.Secrets).Redact(msg); got != msg {
			t.Errorf("Redact(%q)\n = %q, want it unchanged", msg, got)
		}
	}
}

// TestSecretsRedactWholeValues: a value is taken whole, as Redact took it
// before it looked for names first, whatever it holds: after blanks on an
// XML element's line, when it is a token; with brackets, braces and
// parentheses inside it, in every form (those that close what came before
// the value, as Go's %v and CDATA do, are kept); with a backslash in XML;
// with any escape in an Authorization header's credentials; and with '='
// anywhere after blanks, unless a signing name comes before it.
func TestSecretsRedactWholeValues(t *testing.T) {
	const (
		sig     = "SECRETaB1/x+y9z0Qw"
		bracket = "ab(cd)ef1234567890"
	)
	tests := []struct{ name, in, want string }{
		{"an XML value after blanks", "<SessionToken>  " + sig + "</SessionToken>", "<SessionToken>  ***</SessionToken>"},
		{"an XML value after a tab, with a prefix", "<sts:SecretAccessKey>\t" + sig + "</sts:SecretAccessKey> <a.SignatureProvided> " + sig + "<",
			"<sts:SecretAccessKey>\t***</sts:SecretAccessKey> <a.SignatureProvided> ***<"},
		{"an XML value after blanks, escaped", `&lt;clientSecret&gt; ` + sig + `&lt;/clientSecret&gt; \u003cSessionToken\u003e\t` + sig + `\u003c/SessionToken\u003e`,
			`&lt;clientSecret&gt; ***&lt;/clientSecret&gt; \u003cSessionToken\u003e\t***\u003c/SessionToken\u003e`},
		{"a short word after blanks in XML kept", "<SessionToken>  expired</SessionToken>", "<SessionToken>  expired</SessionToken>"},

		{"parentheses in a query", "?a=b&Signature=" + bracket + "&c=d", "?a=b&Signature=***&c=d"},
		{"brackets and braces in a query, escaped", "X-Amz-Signature%3Dab[cd]ef{gh}1234%26x", "X-Amz-Signature%3D***%26x"},
		{"brackets after ':'", "{SessionToken:ab[cd]ef1234567890 Source:x}", "{SessionToken:*** Source:x}"},
		{"braces after blanks", "SessionToken = ab{cd}ef1234567890 next", "SessionToken = *** next"},
		{"brackets in XML", "<x-amz-signature>ab[cd]ef1234567890</x-amz-signature>", "<x-amz-signature>***</x-amz-signature>"},
		{"brackets in a header line", "x-amz-security-token: a[b]c; next", "x-amz-security-token: ***; next"},
		{"what closes before a value kept", "(Signature=" + bracket + ") map[X-Amz-Signature:[ab(c)d]] <SessionToken><![CDATA[a[b]c]]></SessionToken>",
			"(Signature=***) map[X-Amz-Signature:[***]] <SessionToken><![CDATA[***]]></SessionToken>"},

		{"a backslash in XML", `<clientSecret>abc\def1234567890</clientSecret>`, "<clientSecret>***</clientSecret>"},
		// A '>' is no tag's end inside a value that its end tag closes.
		{"a '>' in an XML value", "<SessionToken>abc>def1234567890</SessionToken> <sts:SecretAccessKey>abc>d>ef</sts:SecretAccessKey>",
			"<SessionToken>***</SessionToken> <sts:SecretAccessKey>***</sts:SecretAccessKey>"},
		{"a '>' in an XML value after blanks, in CDATA", "<SessionToken>  abc>def1234567890</SessionToken><clientSecret><![CDATA[abc>def]]></clientSecret>",
			"<SessionToken>  ***</SessionToken><clientSecret><![CDATA[***]]></clientSecret>"},
		{"a '>' in an escaped XML value", `&lt;SessionToken&gt;abc&gt;def&lt;/SessionToken&gt; &amp;lt;idToken&amp;gt;abc&amp;gt;def&amp;lt;/idToken&amp;gt; \u003cSessionToken\u003eabc\u003edef\u003c/SessionToken\u003e`,
			`&lt;SessionToken&gt;***&lt;/SessionToken&gt; &amp;lt;idToken&amp;gt;***&amp;lt;/idToken&amp;gt; \u003cSessionToken\u003e***\u003c/SessionToken\u003e`},
		{"a '>' in an XML value that no end tag closes ends it", "<SessionToken>abc>def <SessionToken>abc>def</Other> <Signature>a></Signature>",
			"<SessionToken>***>def <SessionToken>***>def</Other> <Signature>***></Signature>"},
		{"an escaped backslash in XML that Go's JSON escaped", `{"body":"\u003cclientSecret\u003eabc\\def1234567890\u003c/clientSecret\u003e"}`,
			`{"body":"\u003cclientSecret\u003e***\u003c/clientSecret\u003e"}`},

		{"an escape in a Bearer token", "Authorization: Bearer abc%41def1234567890\r\nHost: x", "Authorization: Bearer ***\r\nHost: x"},
		{"an escape in a token in a query", "?authorization=Bearer%20abc%41def%5Bx%5D&next=1", "?authorization=Bearer%20***&next=1"},
		{"an escape in a Basic proxy header", "Proxy-Authorization=Basic abc%C3%A9def, next", "Proxy-Authorization=Basic ***, next"},
		// After a ':' or '=' as it is, the credentials are the header's or
		// the query parameter's value: an escape in it, of a blank or '&'
		// too, is the value's own; a '%' that starts no escape as well.
		{"an escaped '&' in a token in a query", "?Authorization=Bearer%20abc%26ghi%2Bjkl&next=1 authorization: Bearer abc%26ghi next",
			"?Authorization=Bearer%20***&next=1 authorization: Bearer *** next"},
		// No token holds a blank or a control character: an escape of one
		// ends it, and the text after it (escaped prose, a log line's
		// next field) is kept.
		{"an escaped blank before a token", "?Authorization=Bearer%20%20eyJhbGciOiJIUzI1NiJ9.In0&n=1 Authorization: Bearer %20eyJhbGciOiJIUzI1NiJ9.In0 x Authorization: Basic %20dXNlcjpwYXNzd29yZDEyMw== x Authorization: AWS AKIAIOSFODNN7EXAMPLE:%20frJIUN8DYpKDtOLCwo//yllqDzg= x",
			"?Authorization=Bearer%20%20***&n=1 Authorization: Bearer %20*** x Authorization: Basic %20*** x Authorization: AWS AKIAIOSFODNN7EXAMPLE:%20*** x"},
		{"an escaped blank or line end after a token", "msg=Authorization:%20Bearer%20eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.In0%20rejected%20for%20i-0123456789abcdef0%20AssociationDoesNotExist Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.In0%0AStatus=Failed%0AName=AWS-RunPatchBaseline",
			"msg=Authorization:%20Bearer%20***%20rejected%20for%20i-0123456789abcdef0%20AssociationDoesNotExist Authorization: Bearer ***%0AStatus=Failed%0AName=AWS-RunPatchBaseline"},
		{"a '%' that starts no escape in a token", "Authorization: Bearer abc%zzdef%2 x; ?authorization=Bearer+abc%xyzdef&n=1; Authorization%3A%20Bearer%20abc%zzdef%4%0D%0AHost",
			"Authorization: Bearer *** x; ?authorization=Bearer+***&n=1; Authorization%3A%20Bearer%20***%0D%0AHost"},
		{"a Bearer header in a query escaped whole", "?next=%2Fcb%3FAuthorization%3DBearer%2520" + bearerJWT + "%26x%3D1", "?next=%2Fcb%3FAuthorization%3DBearer%2520***%26x%3D1"},
		{"an escaped '&' ends a token in a query escaped whole", "Authorization%3DBearer%20abc%2Bdef%26next%3D1", "Authorization%3DBearer%20***%26next%3D1"},
		{"brackets in a token", "Authorization: Bearer abc[def]123 next", "Authorization: Bearer *** next"},

		{"'=' inside a value after blanks", "X-Amz-Signature = abc=def1234567890XY next", "X-Amz-Signature = *** next"},
		{"'=' inside a value after ': '", "aws_session_token: Q1w2E3r4T5y6U7i8==Z9x8C7v6B5n4M3\n", "aws_session_token: ***\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := new(audit.Secrets).Redact(tt.in); got != tt.want {
				t.Errorf("Redact(%q)\n = %q,\nwant %q", tt.in, got, tt.want)
			}
		})
	}
	// A stored secret that ends in base64's padding: what follows it is
	// no value of its own, and one Redact takes all.
	s := new(audit.Secrets)
	s.Add("Q1w2E3r4T5y6U7i8==")
	in := "Signature = Q1w2E3r4T5y6U7i8==Z9x8C7v6B5n4M3"
	if got := s.Redact(in); got != "Signature = ***" {
		t.Errorf("Redact(%q) = %q, want %q", in, got, "Signature = ***")
	}
}

// tokenShaped matches what the forms of FuzzRedactForms take as one value:
// the characters of AWS's keys, tokens and signatures, and of JWTs.
var tokenShaped = regexp.MustCompile(`^[\w+/=.~-]{16,}$`)

// lettersOnly matches a value that may be a word, and nameAndValue one
// that may start with a signing name and '='.
var (
	lettersOnly  = regexp.MustCompile(`^[A-Za-z]+$`)
	nameAndValue = regexp.MustCompile(`(?i)^[\w-]*(?:signature|provided|credential|token|key|secret|code|verifier|authorization)=`)
)

// FuzzRedactForms: a value shaped as a token, in each form that carries
// credentials, is replaced whole by "***", and nothing else is changed,
// whatever the run knew.
func FuzzRedactForms(f *testing.F) {
	for _, v := range []string{xmlToken, xmlSecret, bearerJWT, ssoAccess, "abcdefghijklmnop", "================", "Signature=abcdefghijklmnop", "+000000000000000", "Q1w2E3r4T5y6U7i8==Z9x8C7v6B5n4M3"} {
		f.Add(v)
	}
	// After a blank, a word of letters only is prose, and a value that
	// starts with a signing name and '=' that name and its value (see
	// TestSecretsRedactSpacedValue).
	spaced := []string{
		"aws_session_token = %s\n",
		"aws_secret_access_key\t=\t%s",
		"aws_session_token= %s",
		`aws_session_token = "%s"`,
		"aws_session_token: %s\n",
		"aws_secret_access_key: '%s'\n",
		"<SessionToken>  %s</SessionToken>",
		"<SecretAccessKey>\t%s\n</SecretAccessKey>",
	}
	forms := []string{
		"?X-Amz-Security-Token=%s&next=1",
		`AWS_SESSION_TOKEN="%s"`,
		"export AWS_SECRET_ACCESS_KEY='%s'",
		"{AccessKeyID:AKIDEXAMPLE SecretAccessKey:%s SessionToken: Source:x}",
		"map[X-Amz-Signature:[%s]]",
		`{"SessionToken": "%s", "next": 1}`,
		`{"message":"{\"SecretAccessKey\":\"%s\"}"}`,
		"X-Amz-Security-Token: %s; next",
		"<Credentials><SessionToken>%s</SessionToken></Credentials>",
		"<SecretAccessKey>\n  %s\n</SecretAccessKey>",
		"&lt;SessionToken&gt;%s&lt;/SessionToken&gt;",
		`<sts:SessionToken xmlns:sts="x">%s</sts:SessionToken>`,
		"<SessionToken><![CDATA[%s]]></SessionToken>",
		"&amp;lt;SecretAccessKey&amp;gt;%s&amp;lt;/SecretAccessKey&amp;gt;",
		`{"body":"\u003cSignatureProvided\u003e%s\u003c/SignatureProvided\u003e"}`,
		`{"body":"\u003cidToken\u003e%s\u003c/idToken\u003e"}`,
		"Authorization: Bearer %s\r\nHost: x",
		"Proxy-Authorization=basic %s, next",
		"?authorization=Bearer%20%s&next=1",
		"Authorization=Bearer+%s&next=1",
		"Authorization: AWS AKIDEXAMPLE:%s\r\nHost: x",
		`{"Authorization":["Basic %s"]}`,
		"{\n  \"Authorization\": [\n    \"Basic ***\",\n    \"Bearer %s\"\n  ]\n}",
		`{"X-Amz-Security-Token":["***", "%s"]}`,
		"map[Authorization:[Bearer %s] X-Amz-Date:[20261201T120000Z]]",
		`map[Authorization:[Basic realm="x" Bearer %s] Www-Authenticate:[Basic realm="x"]]`,
		`Authorization: [Basic realm="x", charset="UTF-8" Basic *** Bearer %s] was refused`,
		"map[X-Amz-Security-Token:[%s] User-Agent:[x]]",
		`{"message":"{\"authorization\": \"Bearer %s\"}"}`,
		`{"accessToken":"%s","expiresAt":"2026-12-01T13:00:00Z"}`,
		`{"message":"{\"clientSecret\": \"%s\"}"}`,
		`{"idToken":"%s"}`,
		`{"deviceCode": "%s", "userCode": "ABCD-EFGH"}`,
		"code_verifier=%s&grant_type=authorization_code",
		"grant_type=refresh_token&refresh_token=%s",
	}
	f.Fuzz(func(t *testing.T, v string) {
		if !tokenShaped.MatchString(v) {
			t.Skip("not shaped as a token")
		}
		all := forms
		if !lettersOnly.MatchString(v) && !nameAndValue.MatchString(v) {
			all = slices.Concat(forms, spaced)
		}
		for _, form := range all {
			in, want := strings.Replace(form, "%s", v, 1), strings.Replace(form, "%s", "***", 1)
			if got := new(audit.Secrets).Redact(in); got != want {
				t.Errorf("Redact(%q)\n = %q,\nwant %q", in, got, want)
			}
		}
	})
}
