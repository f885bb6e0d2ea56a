package audit_test

import (
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

// TestSecretsRedactSpacedValue: with blanks around '=' (a credentials
// file's "key = value"), a value is taken only when it looks like a token,
// 16 characters or more up to its end, as AWS's keys, tokens and
// signatures are: prose that names a credential, a signature or a token
// and then '=' keeps its words.
func TestSecretsRedactSpacedValue(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"prose kept", "Credential = missing for the request", "Credential = missing for the request"},
		{"prose in capitals kept", "SIGNATURE = NONE, SessionToken = expired; renew it", "SIGNATURE = NONE, SessionToken = expired; renew it"},
		{"a value of 15 characters kept", "X-Amz-Security-Token = abcdefghijklmno next", "X-Amz-Security-Token = abcdefghijklmno next"},
		{"a value of 16 characters taken", "X-Amz-Security-Token = abcdefghijklmnop next", "X-Amz-Security-Token = *** next"},
		{"a credentials file", "[p]\r\naws_access_key_id = " + xmlKeyID + "\r\naws_secret_access_key = " + xmlSecret + "\r\naws_session_token = " + xmlToken + "\r\n",
			"[p]\r\naws_access_key_id = " + xmlKeyID + "\r\naws_secret_access_key = ***\r\naws_session_token = ***\r\n"},
		{"a JWT taken whole", "aws_session_token = " + bearerJWT + " next", "aws_session_token = *** next"},
		{"an escape counted as one character", "Signature = abcdefghijklmn%2F next", "Signature = abcdefghijklmn%2F next"},
		{"a credentials file with tabs", "aws_session_token\t=\t" + xmlToken, "aws_session_token\t=\t***"},
		{"a short value right after '=' taken still", "Signature=abc, Credential =xyz", "Signature=***, Credential =***"},
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
	} {
		if got := new(audit.Secrets).Redact(msg); got != msg {
			t.Errorf("Redact(%q)\n = %q, want it unchanged", msg, got)
		}
	}
}
