package awsconn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"

	"github.com/auditor-dev/auditor/audit"
)

func TestCheckEndpoint(t *testing.T) {
	tests := []struct {
		url, wantErr string
		insecure     bool
	}{
		{"https://ssm.eu-west-1.amazonaws.com", "", false},
		{"http://127.0.0.1:4566", "", false},
		{"http://localhost:4566", "", false},
		{"http://[::1]:4566", "", false},
		{"http://10.1.2.3:4566", "in clear", false},
		{"http://10.1.2.3:4566", "", true},
		{"https://alice:hunter2@ssm.example.com", "user name or password", false},
		{"http://alice:hunter2@127.0.0.1:1", "user name or password", true},
		{"ftp://ssm.example.com", "want an http or https URL", false},
		{"ssm.example.com", "not a URL", false},
		{"https://alice:hun@ter2@bad host", "user name or password", false},
		{"https://alice:hunter2/x@ssm.example.com", "user name or password", false},
	}
	for _, tt := range tests {
		err := CheckEndpoint(tt.url, tt.insecure)
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("CheckEndpoint(%q, %v) = %v, want %q", tt.url, tt.insecure, err, tt.wantErr)
		}
		if err != nil && (strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "ter2")) {
			t.Errorf("CheckEndpoint(%q) repeats the password: %v", tt.url, err)
		}
	}
}

// TestCheckEndpointHidesWhatMayBeALogin: a login that url.Parse does not
// read as one (a password with "#", "/" or "?", a token with "/" as the
// user name) made the host, the port or the path of a URL that passed, and
// the URL was printed and recorded whole; a token in the query likewise.
// Each is refused, and the error repeats none of it.
func TestCheckEndpointHidesWhatMayBeALogin(t *testing.T) {
	secrets := []string{"Spring", "2024", "34", "en@", "1?x", "X-Amz-Security-Token=x"}
	for _, scheme := range []string{"https", "http"} {
		for _, rest := range []string{
			"user:2024#Spring@ssm.example.com",
			"user:12/34@ssm.example.com",
			"tok/en@ssm.example.com",
			"user:1?x@ssm.example.com",
			"ssm.example.com/?X-Amz-Security-Token=x",
			"ssm.example.com/#Spring2024",
			"user:2024#Spring@127.0.0.1:18080",
		} {
			for _, insecure := range []bool{false, true} {
				raw := scheme + "://" + rest
				err := CheckEndpoint(raw, insecure)
				if err == nil {
					t.Errorf("CheckEndpoint(%q, %v) passed, want it refused", raw, insecure)
					continue
				}
				for _, s := range secrets {
					if strings.Contains(err.Error(), s) {
						t.Errorf("CheckEndpoint(%q, %v) = %q, which repeats %q", raw, insecure, err, s)
					}
				}
			}
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestGuardChecksEveryRequest: the last line of defence sees the URL each
// request goes to, whatever set it.
func TestGuardChecksEveryRequest(t *testing.T) {
	sent := 0
	g := guard{base: roundTripFunc(func(*http.Request) (*http.Response, error) {
		sent++
		return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
	})}
	for _, tt := range []struct {
		url string
		ok  bool
	}{
		{"https://ssm.us-east-1.amazonaws.com/", true},
		{"http://127.0.0.1:4566/", true},
		{"http://192.0.2.10:4700/", false},
		{"https://u:p@ssm.us-east-1.amazonaws.com/", false},
	} {
		req, _ := http.NewRequest("POST", tt.url, nil)
		_, err := g.RoundTrip(req)
		var ee *EndpointError
		if tt.ok != (err == nil) || !tt.ok && (!errors.As(err, &ee) || !audit.IsFatal(err)) {
			t.Errorf("%s: %v, want allowed %v (refusals fatal EndpointErrors)", tt.url, err, tt.ok)
		}
	}
	if sent != 2 {
		t.Errorf("%d requests sent, want the 2 allowed", sent)
	}
}

type failing struct{ err error }

func (f failing) Retrieve(context.Context) (aws.Credentials, error) { return aws.Credentials{}, f.err }
func (f failing) ProviderSources() []aws.CredentialSource {
	return []aws.CredentialSource{aws.CredentialSourceProfileProcess}
}

// TestGuardedCredentials: a failing source becomes an
// *audit.CredentialsError that names the source and the profile and never
// repeats what the source said.
func TestGuardedCredentials(t *testing.T) {
	secret := "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	for _, tt := range []struct {
		err  string
		kind string
	}{
		{`parse failed of process output: {"Version": 1, "SecretAccessKey": "` + secret + `", oops`, "not credentials"},
		{"error in credential_process: exit status 1: " + secret, "failed"},
		{"the SSO session has expired or is invalid: " + secret, "SSO session"},
	} {
		g := &guarded{inner: failing{errors.New(tt.err)}, profile: "prod"}
		_, err := g.Retrieve(context.Background())
		var ce *audit.CredentialsError
		if !errors.As(err, &ce) || !audit.IsFatal(err) {
			t.Fatalf("Retrieve: %v, want a fatal *audit.CredentialsError", err)
		}
		msg := err.Error()
		if strings.Contains(msg, secret) || !strings.Contains(msg, "credential_process") || !strings.Contains(msg, "prod") || !strings.Contains(msg, tt.kind) {
			t.Errorf("%q became %q", tt.err, msg)
		}
		// The login a profile's SSO session needs is that profile's.
		if strings.Contains(msg, "sso login") && !strings.Contains(msg, "aws sso login --profile prod") {
			t.Errorf("%q: the SSO hint does not name the profile", msg)
		}
	}
}

// TestUnreachableCredentialSource: a credential source that cannot be
// reached is named, with its host and what to check, never with what the
// source said. A container endpoint that refused the connection read "no
// credentials found: configure them as for the AWS CLI (aws configure,
// AWS_PROFILE, aws sso login)", and STS that did not resolve for a web
// identity "the credential source failed".
func TestUnreachableCredentialSource(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	token := filepath.Join(t.TempDir(), "token")
	os.WriteFile(token, []byte("eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl"), 0o600)
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []string
	}{
		{
			name: "a container endpoint that refuses",
			env:  map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://" + closed + "/v2/credentials/c0ffee"},
			want: []string{"the container credentials endpoint", "cannot reach http://" + closed, "connection refused", "AWS_CONTAINER_CREDENTIALS_FULL_URI"},
		},
		{
			name: "STS that does not resolve, for a web identity",
			env: map[string]string{"AWS_WEB_IDENTITY_TOKEN_FILE": token, "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/auditor",
				"AWS_ENDPOINT_URL_STS": "https://sts.auditor-test.invalid"},
			want: []string{"a web identity token", "cannot reach https://sts.auditor-test.invalid", "VPC endpoint", "HTTPS_PROXY"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			isolate(t, "")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			msg := credentialsError(t, Settings{Region: "eu-west-1", MaxAttempts: 1}).Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("%q does not say %q", msg, w)
				}
			}
			for _, w := range []string{"no credentials found", "the credential source failed", "c0ffee", "eyJ"} {
				if strings.Contains(msg, w) {
					t.Errorf("%q says %q", msg, w)
				}
			}
		})
	}
}

// TestUnreachableThroughAProxy: a proxy that could not be reached is named
// as the cause, by its address, and the endpoint without its user info,
// path or query.
func TestUnreachableThroughAProxy(t *testing.T) {
	err := &url.Error{Op: "Post", URL: "https://user:hunter2@portal.sso.eu-west-1.amazonaws.com/federation/credentials?role_name=x&token=SEKRET",
		// As net/http wraps its dial of the proxy.
		Err: &net.OpError{Op: "proxyconnect", Net: "tcp", Err: &net.OpError{Op: "dial", Net: "tcp",
			Addr: &net.TCPAddr{IP: net.IPv4(10, 0, 0, 5), Port: 3128}, Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}}}
	g := &guarded{inner: failing{err}, profile: "sso"}
	_, got := g.Retrieve(context.Background())
	msg := fmt.Sprint(got)
	for _, w := range []string{"cannot reach https://portal.sso.eu-west-1.amazonaws.com through the proxy 10.0.0.5:3128", "connection refused", "HTTPS_PROXY", "NO_PROXY"} {
		if !strings.Contains(msg, w) {
			t.Errorf("%q does not say %q", msg, w)
		}
	}
	for _, w := range []string{"hunter2", "SEKRET", "federation"} {
		if strings.Contains(msg, w) {
			t.Errorf("%q says %q", msg, w)
		}
	}
}

// TestProxyRefusalNamed: a proxy that answers CONNECT with 407 was "no
// answer" from the endpoint ("cannot reach https://ssm...: no answer; check
// --region"): the proxy's refusal is the cause, named with its status, and
// the proxy by its address, never with the login of its URL.
func TestProxyRefusalNamed(t *testing.T) {
	connects := 0
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			t.Errorf("the proxy got %s %s, want CONNECT", r.Method, r.URL)
		}
		connects++
		w.Header().Set("Proxy-Authenticate", `Basic realm="proxy"`)
		// A reason phrase of the proxy's own: not repeated.
		w.WriteHeader(http.StatusProxyAuthRequired)
	}))
	defer proxy.Close()
	proxyURL, _ := url.Parse(proxy.URL)
	proxyURL.User = url.UserPassword("user", "proxy-secret")
	c := &Conn{s: Settings{Conns: 1, CallTimeout: 10 * time.Second}}
	client := c.httpClient(awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.Proxy = http.ProxyURL(proxyURL)
	}))
	req, _ := http.NewRequest(http.MethodPost, "https://ssm.us-east-1.amazonaws.com/", strings.NewReader("{}"))
	_, err := client.Do(req)
	if connects == 0 {
		t.Fatalf("Do = %v, and the proxy got no CONNECT", err)
	}
	u, none := audit.NoAnswer(err)
	if !none {
		t.Fatalf("NoAnswer(%v) = false, want the endpoint unreached", err)
	}
	msg := u.Error()
	for _, w := range []string{"cannot reach https://ssm.us-east-1.amazonaws.com through the proxy " + proxyURL.Host, "the proxy refused to connect: 407 Proxy Authentication Required"} {
		if !strings.Contains(msg, w) {
			t.Errorf("%q does not say %q", msg, w)
		}
	}
	if strings.Contains(msg, "proxy-secret") || strings.Contains(msg, "no answer") {
		t.Errorf("%q repeats the proxy's password, or says no answer came", msg)
	}
}

// countingProvider hands out credentials that expire after life, and
// counts how often it was asked.
type countingProvider struct {
	life time.Duration
	n    int
}

func (p *countingProvider) Retrieve(context.Context) (aws.Credentials, error) {
	p.n++
	return aws.Credentials{AccessKeyID: "AKIA", SecretAccessKey: "s", SessionToken: "t", CanExpire: true, Expires: time.Now().Add(p.life)}, nil
}

// TestRoleCredentialsRenewedAhead: an assumed role's credentials are
// renewed 2.5 to 5 minutes before they expire, not after: a call signed
// in the last second reached the service late and failed its
// account-region with ExpiredTokenException. Credentials that live less
// than that are renewed half-way through their life, not on every call.
func TestRoleCredentialsRenewedAhead(t *testing.T) {
	for _, tc := range []struct {
		life         time.Duration
		soonest, max time.Duration // when they are renewed, after they were obtained
	}{
		{time.Hour, 55 * time.Minute, 57*time.Minute + 30*time.Second},
		{10 * time.Minute, 5 * time.Minute, 7*time.Minute + 30*time.Second},
		{2 * time.Minute, 0, time.Minute},
	} {
		p := &countingProvider{life: tc.life}
		c := renewing(p, nil)
		start := time.Now()
		var got aws.Credentials
		for range 2 {
			var err error
			if got, err = c.Retrieve(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		if p.n != 1 {
			t.Errorf("credentials for %v: asked %d times for two calls at once, want once", tc.life, p.n)
		}
		// The provider gave them out a moment after start.
		if in := got.Expires.Sub(start); in < tc.soonest || in > tc.max+time.Second {
			t.Errorf("credentials for %v are renewed %v after they were obtained, want %v to %v", tc.life, in, tc.soonest, tc.max)
		}
	}
}
