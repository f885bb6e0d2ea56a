package awsconn

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/auditor-dev/auditor/audit"
)

// echoingSTS is an STS endpoint that knows the caller (account
// 111111111111) and refuses every AssumeRole with a message that repeats
// the request: its headers (the session token, the access key ID in
// Authorization) and its form body, encoded and decoded (ExternalId,
// TokenCode).
func echoingSTS(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		w.Header().Set("Content-Type", "text/xml")
		if form.Get("Action") == "GetCallerIdentity" {
			fmt.Fprint(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>`+
				`<Arn>arn:aws:iam::111111111111:user/alice</Arn><UserId>AIDAALICE</UserId><Account>111111111111</Account>`+
				`</GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>`)
			return
		}
		var echo []string
		for k, vs := range r.Header {
			echo = append(echo, k+": "+strings.Join(vs, ", "))
		}
		echo = append(echo, "body: "+string(body))
		for k, vs := range form {
			echo = append(echo, k+"="+strings.Join(vs, ","))
		}
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code>`+
			`<Message>not authorized: %s</Message></Error><RequestId>r</RequestId></ErrorResponse>`, html.EscapeString(strings.Join(echo, "; ")))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// holdsNone fails the test for each of secrets that text holds.
func holdsNone(t *testing.T, what, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if i := strings.Index(text, s); i >= 0 {
			t.Errorf("%s holds the secret %q: ...%.80s", what, s, text[max(i-40, 0):])
		}
	}
}

// TestRoleRefusalEchoRedacted: STS's refusal to assume an account's role,
// when it repeated the request (a proxy or an emulator that echoes it),
// put the --external-id value and the run's session token into the
// account-region's error: stderr, run.json, the reports, the mail. They
// are redacted in the *audit.CredentialsError, in its message and in what
// an SSM call with the role's credentials ends in.
func TestRoleRefusalEchoRedacted(t *testing.T) {
	const (
		keyID  = "ASIAROLEECHOECHO0001"
		secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiRoleEchoKey1"
		token  = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+role/echo+token=="
		extID  = "ext/Secret+4242-0001"
	)
	c, err := Load(context.Background(), Settings{
		Region: "us-east-1", EndpointURL: echoingSTS(t), MaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(keyID, secret, token),
		Roles:       Roles{Name: "Auditor", ExternalID: extID},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CallerIdentity(context.Background()); err != nil {
		t.Fatal(err)
	}
	client, err := c.SSMIn("222222222222", "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = client.Options().Credentials.Retrieve(context.Background())
	var ce *audit.CredentialsError
	if !errors.As(err, &ce) || ce.Code != "AccessDenied" || !strings.Contains(ce.Message, "ExternalId=***") {
		t.Fatalf("Retrieve = %v, want STS's AccessDenied, with the external ID it repeated redacted", err)
	}
	secrets := []string{token, keyID, extID, url.QueryEscape(extID), "IQoJb3JpZ2lu"}
	holdsNone(t, "the credentials' error", err.Error(), secrets...)
	holdsNone(t, "its message", ce.Message, secrets...)

	_, err = client.DescribeInstanceAssociationsStatus(context.Background(), &ssm.DescribeInstanceAssociationsStatusInput{InstanceId: aws.String("i-00000000")})
	if !errors.As(err, &ce) {
		t.Fatalf("DescribeInstanceAssociationsStatus = %v, want the role's *audit.CredentialsError", err)
	}
	code, msg := audit.Classify(err)
	holdsNone(t, "the call's error", err.Error(), secrets...)
	holdsNone(t, "what a result records", code+": "+msg, secrets...)
}

// TestMFARefusalEchoRedacted: STS's refusal of a role_arn profile's
// AssumeRole, when it repeated the request, put the source profile's
// access key ID and the profile's external_id into the run's fatal error.
// They are redacted. The MFA code entered (TokenCode) is not: six digits
// that are spent once used, and would eat the same digits in an account's
// ID.
func TestMFARefusalEchoRedacted(t *testing.T) {
	const (
		code    = "918273"
		keyID   = "AKIAKEYSKEYSKEYS0001"
		profile = "[profile keys]\naws_access_key_id = " + keyID + "\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiMFAEchoKey01\n\n" +
			"[profile mfa]\nrole_arn = arn:aws:iam::123456789012:role/Auditor\nsource_profile = keys\n" +
			"mfa_serial = arn:aws:iam::123456789012:mfa/alice\nexternal_id = profile-ext-id-77\n"
	)
	isolate(t, profile)
	t.Setenv("AWS_ENDPOINT_URL_STS", echoingSTS(t))
	c, err := Load(context.Background(), Settings{Profile: "mfa", Region: "us-east-1", MaxAttempts: 1,
		MFACode: func(string) (string, error) { return code, nil }})
	if err != nil {
		t.Fatal(err)
	}
	err = c.CheckCredentials(context.Background())
	var ce *audit.CredentialsError
	if !errors.As(err, &ce) || !strings.Contains(ce.Message, "TokenCode="+code) || !strings.Contains(ce.Message, "ExternalId=***") {
		t.Fatalf("CheckCredentials = %v, want STS's refusal, with the external ID it repeated redacted and the code as it was", err)
	}
	holdsNone(t, "the credentials' error", err.Error(), keyID, "profile-ext-id-77")
}

// TestSSORefusalEchoRedacted: IAM Identity Center's refusal, which is
// passed on, repeated as it came: when it echoed the request, the cached
// access token showed. It is redacted.
func TestSSORefusalEchoRedacted(t *testing.T) {
	const (
		start = "https://d-0123456789.awsapps.com/start"
		token = "aoaAAAAAGh0dHBzOi8vZC0wMTIzNDU2Nzg5LmF3c2FwcHMuY29tL3N0YXJ0SSO-ECHO-TOKEN"
	)
	isolate(t, "[profile sso]\nsso_start_url = "+start+"\nsso_region = us-east-1\nsso_account_id = 123456789012\nsso_role_name = Audit\n")
	home := t.TempDir()
	t.Setenv("HOME", home)
	cache := filepath.Join(home, ".aws", "sso", "cache")
	os.MkdirAll(cache, 0o700)
	sum := sha1.Sum([]byte(start))
	exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	if err := os.WriteFile(filepath.Join(cache, hex.EncodeToString(sum[:])+".json"),
		[]byte(`{"accessToken": "`+token+`", "expiresAt": "`+exp+`", "region": "us-east-1", "startUrl": "`+start+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-Errortype", "ForbiddenException")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `{"message": %q}`, "No access for x-amz-sso_bearer_token: "+r.Header.Get("X-Amz-Sso_bearer_token"))
	}))
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ENDPOINT_URL_SSO", srv.URL)
	err := credentialsError(t, Settings{Region: "us-east-1", Profile: "sso", MaxAttempts: 1})
	saysOnly(t, err.Error(), []string{"ForbiddenException: No access for x-amz-sso_bearer_token: ***"}, []string{token, "SSO-ECHO-TOKEN"})
}
