package awsconn

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
)

// refusingSTS is an STS endpoint that answers every call with the error
// code and message given, as STS does.
func refusingSTS(t *testing.T, code, msg string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error>`+
			`<RequestId>8a0b2f4e-0000-4000-8000-000000000000</RequestId></ErrorResponse>`, code, msg)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestAssumeRoleRefusalSaysWhy: STS's refusal to assume the run's role (a
// web identity's, or a role_arn profile's) was told as "the credential
// source failed", or "the role could not be assumed (access denied)",
// without STS's words or the role: an OIDC provider missing in IAM, a
// session longer than the role allows, a trust policy that does not let the
// caller in looked alike. And a web identity from the environment was said
// to be "(profile default)"'s. The error names the role and passes on STS's
// code and message, and names a profile only when the credentials come
// from one; the token never appears.
func TestAssumeRoleRefusalSaysWhy(t *testing.T) {
	const (
		token   = "eyJhbGciOiJSUzI1NiJ9.SECRET-TOKEN-BODY.sig"
		irsa    = "arn:aws:iam::123456789012:role/irsa"
		auditor = "arn:aws:iam::123456789012:role/Auditor"
	)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	keys := "[profile keys]\naws_access_key_id = AKIAKEYSKEYSKEYS0001\naws_secret_access_key = s\n\n"
	role := "[profile role]\nrole_arn = " + auditor + "\nsource_profile = keys\n"
	for _, tc := range []struct {
		name      string
		config    string
		profile   string
		env       map[string]string
		code, msg string
		want      []string
		dontWant  []string
	}{
		{
			name:   "a web identity from the environment, no OIDC provider",
			config: "[default]\nregion = us-east-1\n",
			env:    map[string]string{"AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile, "AWS_ROLE_ARN": irsa},
			code:   "InvalidIdentityToken",
			msg:    "No OpenIDConnect provider found in your account for https://oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF",
			want: []string{"a web identity token (environment)", irsa,
				"InvalidIdentityToken: No OpenIDConnect provider found in your account for https://oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF"},
			dontWant: []string{"profile", "the credential source failed", token, "SECRET-TOKEN"},
		},
		{
			name:     "a web identity from a profile",
			config:   "[profile wi]\nrole_arn = " + irsa + "\nweb_identity_token_file = " + tokenFile + "\n",
			profile:  "wi",
			code:     "InvalidIdentityToken",
			msg:      "Incorrect token audience",
			want:     []string{"profile wi", irsa, "InvalidIdentityToken: Incorrect token audience"},
			dontWant: []string{"the credential source failed", token},
		},
		{
			name:     "a role_arn profile, a session too long",
			config:   keys + role + "duration_seconds = 43200\n",
			profile:  "role",
			code:     "ValidationError",
			msg:      "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
			want:     []string{"profile role", auditor, "ValidationError: The requested DurationSeconds exceeds the MaxSessionDuration set for this role."},
			dontWant: []string{"the credential source failed"},
		},
		{
			name:     "a role_arn profile, access denied",
			config:   keys + role,
			profile:  "role",
			code:     "AccessDenied",
			msg:      "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:AssumeRole on resource: " + auditor,
			want:     []string{"profile role", "the role " + auditor + " could not be assumed", "AccessDenied: User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:AssumeRole on resource: " + auditor},
			dontWant: []string{"the credential source failed"},
		},
		{
			// A chain of roles refused at its first: the role STS
			// refused is named, not the last, whose trust policy is not
			// the one to look at.
			name:     "a chain of role_arn profiles, the first refused",
			config:   keys + role + "\n[profile chained]\nrole_arn = arn:aws:iam::444455556666:role/Audit2\nsource_profile = role\n",
			profile:  "chained",
			code:     "AccessDenied",
			msg:      "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:AssumeRole on resource: " + auditor,
			want:     []string{"profile chained", "the role " + auditor + " could not be assumed"},
			dontWant: []string{"the credential source failed", "role/Audit2 could not"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			isolate(t, tc.config)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			t.Setenv("AWS_ENDPOINT_URL_STS", refusingSTS(t, tc.code, tc.msg))
			err := credentialsError(t, Settings{Region: "us-east-1", Profile: tc.profile, MaxAttempts: 1})
			saysOnly(t, err.Error(), tc.want, tc.dontWant)
			var ce *audit.CredentialsError
			if errors.As(err, &ce) && (ce.Code != tc.code || ce.Message != tc.msg) {
				t.Errorf("code %q, message %q; want STS's, %q and %q", ce.Code, ce.Message, tc.code, tc.msg)
			}
		})
	}
}

// TestSSORefusalSaysWhy: IAM Identity Center's refusal to hand out a
// role's credentials (an account or a role the user has no access to) was
// "the credential source failed". Its code and message are passed on;
// an expired session still says to log in.
func TestSSORefusalSaysWhy(t *testing.T) {
	const start = "https://d-0123456789.awsapps.com/start"
	for _, tc := range []struct {
		name, code, msg string
		status          int
		want            []string
	}{
		{name: "no access", code: "ForbiddenException", msg: "No access", status: http.StatusForbidden,
			want: []string{"profile sso", "ForbiddenException: No access"}},
		{name: "session gone", code: "UnauthorizedException", msg: "Session token not found or invalid", status: http.StatusUnauthorized,
			want: []string{"profile sso", "aws sso login --profile sso", "UnauthorizedException: Session token not found or invalid"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			isolate(t, "[profile sso]\nsso_start_url = "+start+"\nsso_region = us-east-1\nsso_account_id = 123456789012\nsso_role_name = Audit\n")
			home := t.TempDir()
			t.Setenv("HOME", home)
			cache := filepath.Join(home, ".aws", "sso", "cache")
			os.MkdirAll(cache, 0o700)
			sum := sha1.Sum([]byte(start))
			exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
			if err := os.WriteFile(filepath.Join(cache, hex.EncodeToString(sum[:])+".json"),
				[]byte(`{"accessToken": "SECRET-SSO-TOKEN", "expiresAt": "`+exp+`", "region": "us-east-1", "startUrl": "`+start+`"}`), 0o600); err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("X-Amzn-Errortype", tc.code)
				w.WriteHeader(tc.status)
				fmt.Fprintf(w, `{"message": %q}`, tc.msg)
			}))
			t.Cleanup(srv.Close)
			t.Setenv("AWS_ENDPOINT_URL_SSO", srv.URL)
			err := credentialsError(t, Settings{Region: "us-east-1", Profile: "sso", MaxAttempts: 1})
			saysOnly(t, err.Error(), tc.want, []string{"the credential source failed", "SECRET-SSO-TOKEN"})
		})
	}
}
