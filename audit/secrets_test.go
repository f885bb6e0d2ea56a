package audit_test

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestSecretsRedact: every value kept is replaced wherever it is, the
// longer first where one holds another, and in its query-string form; a
// value too short to tell from words, account IDs and numbers is not
// kept (an external ID that is an account's ID, an MFA code: the records
// of a run with --external-id 123456789012 read "account ***"); a nil or
// empty Secrets changes nothing.
func TestSecretsRedact(t *testing.T) {
	var none *audit.Secrets
	none.Add("never-kept")
	if got := none.Redact("never-kept"); got != "never-kept" {
		t.Errorf("nil Redact = %q", got)
	}
	if got := new(audit.Secrets).Redact("text"); got != "text" {
		t.Errorf("empty Redact = %q", got)
	}
	s := new(audit.Secrets)
	s.Add("abc", "", "ext-id-1-0123456", "ext-id-1-0123456-longer", "a/b+c=d/0123456789", "123456789012", "918273", "Organization", "Instances")
	tests := []struct{ in, want string }{
		{"ExternalId=ext-id-1-0123456&x", "ExternalId=***&x"},
		{"ext-id-1-0123456-longer", "***"},
		{"abc stays: too short", "abc stays: too short"},
		{"form: a%2Fb%2Bc%3Dd%2F0123456789, raw: a/b+c=d/0123456789", "form: ***, raw: ***"},
		{"nothing here", "nothing here"},
		{"not in a valid state for account 123456789012", "not in a valid state for account 123456789012"},
		{"role/OrganizationAccountAccessRole TokenCode=918273", "role/OrganizationAccountAccessRole TokenCode=918273"},
		{"Instances [[i-0123456789abcdef0]] not valid", "Instances [[i-0123456789abcdef0]] not valid"},
	}
	for _, tt := range tests {
		if got := s.Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	plain := errors.New("no secret here")
	if got := s.Wrap(plain); got != plain {
		t.Errorf("Wrap of an error without a secret = %v, want it as it is", got)
	}
	wrapped := s.Wrap(fmt.Errorf("said ext-id-1-0123456: %w", audit.ErrFatal))
	if wrapped.Error() != "said ***: cannot call SSM" || !errors.Is(wrapped, audit.ErrFatal) {
		t.Errorf("Wrap = %q, want it redacted and wrapping ErrFatal", wrapped)
	}
}

// TestSecretsConcurrent: credentials added from some goroutines while
// others redact (run with -race).
func TestSecretsConcurrent(t *testing.T) {
	s := new(audit.Secrets)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for j := range 50 {
				s.Add(fmt.Sprintf("token-%d-%d-0123456789", i, j))
			}
		}()
		go func() {
			defer wg.Done()
			for range 50 {
				s.Redact("token-1-1-0123456789 and more")
			}
		}()
	}
	wg.Wait()
	if got := s.Redact("token-7-49-0123456789 token-0-0-0123456789"); got != "*** ***" {
		t.Errorf("Redact = %q, want every value added redacted", got)
	}
}

// TestSecretsRedactSigning: the values that sign a request or carry its
// credentials are redacted wherever an error text shows them, whether the
// run knew them or not (another signer's presigned URL, a request's
// signature): in an Authorization header, a query, escaped or not, a
// header line, a canonical request, a JSON-ish body, in any case. Their
// names, the error codes named after them and prose that only names them
// are kept. A nil Secrets redacts them too.
func TestSecretsRedactSigning(t *testing.T) {
	const (
		sig   = "3f2a9c0d1e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f"
		keyID = "AKIAOTHEROTHER000001"
		token = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+other/token=="
	)
	escToken := url.QueryEscape(token)
	long := strings.Repeat("i-0123456789abcdef0 us-east-1: AccessDenied: not authorized to perform ssm:ListAssociations=*; ", 2000)
	tests := []struct{ name, in, want string }{
		{"an Authorization header",
			"Authorization: AWS4-HMAC-SHA256 Credential=" + keyID + "/20261201/us-east-1/ssm/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=" + sig,
			"Authorization: AWS4-HMAC-SHA256 Credential=***, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=***"},
		{"an Authorization header echoed with =, as AWS does",
			"Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 Credential=" + keyID + "/20261201/us-east-1/ssm/aws4_request, Signature=" + sig,
			"Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 Credential=***, Signature=***"},
		{"a presigned URL",
			"see https://ssm-out.s3.amazonaws.com/run/stdout?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + keyID + "%2F20261201%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261201T120000Z&X-Amz-Expires=3600&X-Amz-Security-Token=" + escToken + "&X-Amz-SignedHeaders=host&X-Amz-Signature=" + sig + " for it",
			"see https://ssm-out.s3.amazonaws.com/run/stdout?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=***&X-Amz-Date=20261201T120000Z&X-Amz-Expires=3600&X-Amz-Security-Token=***&X-Amz-SignedHeaders=host&X-Amz-Signature=*** for it"},
		{"a presigned URL in lower case, after ';'",
			"?x-amz-signature=" + sig + ";x-amz-credential=" + keyID + "/20261201/us-east-1/s3/aws4_request;x-amz-date=20261201T120000Z",
			"?x-amz-signature=***;x-amz-credential=***;x-amz-date=20261201T120000Z"},
		{"in capitals, spaced", "SIGNATURE = " + sig + " X-AMZ-SECURITY-TOKEN=" + token, "SIGNATURE = *** X-AMZ-SECURITY-TOKEN=***"},
		{"a credentials file", "[default]\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYOther01\naws_session_token = " + token + "\n",
			"[default]\naws_secret_access_key = ***\naws_session_token = ***\n"},
		{"a URL escaped whole",
			"https%3A%2F%2Fb.s3.amazonaws.com%2Fk%3FX-Amz-Signature%3D" + sig + "%26X-Amz-Date%3D20261201T120000Z%26X-Amz-Security-Token%3D" + url.QueryEscape(escToken),
			"https%3A%2F%2Fb.s3.amazonaws.com%2Fk%3FX-Amz-Signature%3D***%26X-Amz-Date%3D20261201T120000Z%26X-Amz-Security-Token%3D***"},
		{"sigv2", "?AWSAccessKeyId=" + keyID + "&Expires=1748779200&Signature=vjbyPxybdZaNmGa%2ByT272YEAiv4%3D&versionId=3",
			"?AWSAccessKeyId=" + keyID + "&Expires=1748779200&Signature=***&versionId=3"},
		{"a header line", "X-Amz-Date: 20261201T120000Z; X-Amz-Security-Token: " + token + "; User-Agent: aws-sdk-go-v2",
			"X-Amz-Date: 20261201T120000Z; X-Amz-Security-Token: ***; User-Agent: aws-sdk-go-v2"},
		{"a header line with JSON-escaped slashes", `{"message":"X-Amz-Security-Token: IQoJ+abc\/def\/ghi==; X-Amz-Date: 20261201T120000Z"}`,
			`{"message":"X-Amz-Security-Token: ***; X-Amz-Date: 20261201T120000Z"}`},
		{"a canonical request", "host:ssm.us-east-1.amazonaws.com\nx-amz-date:20261201T120000Z\nx-amz-security-token:" + token + "\n\nhost;x-amz-date;x-amz-security-token",
			"host:ssm.us-east-1.amazonaws.com\nx-amz-date:20261201T120000Z\nx-amz-security-token:***\n\nhost;x-amz-date;x-amz-security-token"},
		{"JSON", `{"Signature": "` + sig + `", "signature":"` + sig + `", "Code": "SignatureDoesNotMatch"}`,
			`{"Signature": "***", "signature":"***", "Code": "SignatureDoesNotMatch"}`},
		{"JSON in a JSON string", `{"message":"{\"X-Amz-Signature\":\"` + sig + `\",\"SessionToken\": \"` + token + `\"}"}`,
			`{"message":"{\"X-Amz-Signature\":\"***\",\"SessionToken\": \"***\"}"}`},
		{"JSON with escapes", `{"SessionToken":"IQoJb3\/abc\/def==","Signature":"ab\"c\\d","Code":"SignatureDoesNotMatch"}`,
			`{"SessionToken":"***","Signature":"***","Code":"SignatureDoesNotMatch"}`},
		{"JSON with escapes in a JSON string", `{"message":"{\"SessionToken\":\"IQoJb3\\/abc\\/def==\",\"Signature\":\"ab\\\"c\\\\\",\"Code\":\"x\"}"}`,
			`{"message":"{\"SessionToken\":\"***\",\"Signature\":\"***\",\"Code\":\"x\"}"}`},
		{"a token with + and / in a query", "X-Amz-Security-Token=IQoJ+abc/def==&next=1", "X-Amz-Security-Token=***&next=1"},
		{"a token with JSON-escaped slashes in a query", `{"url":"?X-Amz-Security-Token=IQoJ+abc\/def\/ghi==&X-Amz-Signature=` + sig + `"}`,
			`{"url":"?X-Amz-Security-Token=***&X-Amz-Signature=***"}`},
		{"credentials as JSON or variables", `"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYOther01" AWS_SESSION_TOKEN=` + token,
			`"SecretAccessKey": "***" AWS_SESSION_TOKEN=***`},

		{"the code and AWS's words kept",
			"SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
			"SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."},
		{"codes named after them kept", "InvalidSignatureException, IncompleteSignature: Credential should be scoped to correct service: 'sts'. ",
			"InvalidSignatureException, IncompleteSignature: Credential should be scoped to correct service: 'sts'. "},
		{"names in prose kept", "Authorization header requires 'Signature' parameter. Authorization header requires 'Credential' parameter.",
			"Authorization header requires 'Signature' parameter. Authorization header requires 'Credential' parameter."},
		{"a bare colon in prose kept", "invalid Signature: want 64 hex digits", "invalid Signature: want 64 hex digits"},
		{"parameters that sign nothing kept", "?SignatureVersion=4&SignatureMethod=HmacSHA256&X-Amz-SignedHeaders=host&X-Amz-Date=20261201T120000Z",
			"?SignatureVersion=4&SignatureMethod=HmacSHA256&X-Amz-SignedHeaders=host&X-Amz-Date=20261201T120000Z"},
		{"a blank after = kept, and the word after it", "error: token= is empty; credential= missing, X-Amz-Signature=\tnone",
			"error: token= is empty; credential= missing, X-Amz-Signature=\tnone"},
		{"an empty value kept", "Signature=, SessionToken=\"\" Signature=&X-Amz-Credential=", "Signature=, SessionToken=\"\" Signature=&X-Amz-Credential="},
		{"a name as a value kept", "?prefix=X-Amz-Signature", "?prefix=X-Amz-Signature"},
		{"a key named after them kept", "s3://b/UpdateAVSignatures/credentials/stdout", "s3://b/UpdateAVSignatures/credentials/stdout"},
		{"redacted already", "Credential=***, Signature=***", "Credential=***, Signature=***"},
		// Redact looks for the names' words before it runs the regexp: a
		// text without them is kept whole, and one that spells them with
		// a letter that (?i) takes for s or k is matched still.
		{"a long text without a name kept", long, long},
		{"a long s", "\u017fignature=" + sig, "\u017fignature=***"},
		{"a Kelvin sign", "X-Amz-Security-To\u212aen=" + token, "X-Amz-Security-To\u212aen=***"},
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
	err := fmt.Errorf("operation error SSM: IncompleteSignature: Signature=%s: %w", sig, audit.ErrFatal)
	if got := new(audit.Secrets).Wrap(err); got.Error() != "operation error SSM: IncompleteSignature: Signature=***: cannot call SSM" || !errors.Is(got, audit.ErrFatal) {
		t.Errorf("Wrap = %q, want the signature redacted and ErrFatal wrapped", got)
	}
	// An error that no Secrets wrapped (a client made without them).
	if _, msg := audit.Classify(errors.New("refused: Signature=" + sig)); msg != "refused: Signature=***" {
		t.Errorf("Classify's message = %q, want the signature redacted", msg)
	}
}

// BenchmarkRedact times Redact, with no value kept (redactSigning alone),
// over an error text as an endpoint that echoes a request's headers and
// an STS answer sends it, and over an adversarial one: names whose values
// are not taken, start tags that no end tag closes, in every form, many
// times over, where a search that went back to a name's value for each
// name would read the text again and again. Compare the two sizes of each
// text (MB/s): a Redact whose time grows faster than its text's shows it.
func BenchmarkRedact(b *testing.B) {
	const (
		token = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+other/token=="
		sig   = "3f2a9c0d1e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f"
	)
	realistic := "operation error SSM: ListInstanceAssociations, https response error StatusCode: 400, RequestID: 4c6e3b1a-0d2f-4e5a-9b8c-7d6e5f4a3b2c, " +
		"api error ValidationException: request headers: Amz-Sdk-Invocation-Id: 0f6a1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b; Amz-Sdk-Request: attempt=1; max=3; " +
		"Authorization: AWS4-HMAC-SHA256 Credential=ASIAOTHEROTHER000001/20261201/us-east-1/ssm/aws4_request, SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date;x-amz-security-token;x-amz-target, Signature=" + sig + "; " +
		"Content-Length: 52; Content-Type: application/x-amz-json-1.1; User-Agent: aws-sdk-go-v2/1.36.3 os/linux lang/go#1.26 md/GOOS#linux md/GOARCH#amd64 api/ssm#1.59.0; " +
		"X-Amz-Date: 20261201T120000Z; X-Amz-Security-Token: " + token + "; X-Amz-Target: AmazonSSM.ListInstanceAssociations; " +
		"assumed as <AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIAOTHEROTHER000001</AccessKeyId><SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYOther01</SecretAccessKey>" +
		"<SessionToken>" + token + "</SessionToken><Expiration>2026-12-01T13:00:00Z</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>"
	adversarial := `Signature = SignatureDoesNotMatchException; Credential = missing <SessionToken>\texpired <Credential> is required ` +
		`Authorization: Bearer realm="sso" {"Authorization":"Bearer error=\"x\""} <SessionToken>a>b>c \u003cidToken\u003ex\u003e ` +
		`&lt;SecretAccessKey&gt;a&gt;b Authorization: Bearer a%20b%2 aws_secret_access_key = AbCdEfGh X-Amz-Signature: `
	for _, tt := range []struct {
		name string
		text string
	}{
		{"realistic", realistic},
		{"realistic x30", strings.Repeat(realistic+" ", 30)},
		{"adversarial", adversarial},
		{"adversarial x100", strings.Repeat(adversarial, 100)},
	} {
		b.Run(tt.name, func(b *testing.B) {
			s := new(audit.Secrets)
			b.SetBytes(int64(len(tt.text)))
			for b.Loop() {
				s.Redact(tt.text)
			}
		})
	}
}
