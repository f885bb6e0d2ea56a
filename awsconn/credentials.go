package awsconn

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/processcreds"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/auditor-dev/auditor/audit"
)

// guarded wraps the credential chain so that its failures become
// *audit.CredentialsError: fatal to the run, never retried, and without the
// text of the source, which a credential_process may fill with its input
// (secret key included) when its output does not parse. STS's and IAM
// Identity Center's answers alone are passed on (see refusal), redacted.
// The credentials it hands out are kept in secrets.
type guarded struct {
	inner   aws.CredentialsProvider
	secrets *audit.Secrets
	profile string
	// looked is where the default chain looked before it fell back on
	// IMDS, for the error when none had credentials.
	looked search
	// tokens names the web identity token files configured, for the
	// error when the one used cannot be read.
	tokens tokenFiles
}

// tokenFiles are the web identity token files the configuration names:
// AWS_WEB_IDENTITY_TOKEN_FILE's and the profile's web_identity_token_file.
type tokenFiles struct{ env, profile string }

// search is where the SDK's default credential chain looks before its last
// resort, the instance metadata service.
type search struct {
	// env: the environment was looked in (AWS_ACCESS_KEY_ID); not when
	// the settings name a profile, whose credentials then come first.
	env bool
	// profile is the profile looked in ("default" when none is named),
	// files names the config and credentials files it is read from
	// (see filesRead).
	profile string
	named   bool // the profile was named (--profile, AWS_PROFILE or AWS_DEFAULT_PROFILE)
	files   []string
	// imds: the instance metadata service was asked (it is not disabled
	// by AWS_EC2_METADATA_DISABLED).
	imds bool
	// sso: the profile has sso_* keys.
	sso bool
}

var (
	_ aws.CredentialsProvider      = (*guarded)(nil)
	_ aws.CredentialProviderSource = (*guarded)(nil)
)

func (g *guarded) Retrieve(ctx context.Context) (aws.Credentials, error) {
	creds, err := g.inner.Retrieve(ctx)
	if err == nil {
		g.secrets.AddCredentials(creds)
		return creds, nil
	}
	if ctx.Err() != nil {
		return creds, ctx.Err()
	}
	var me *mfaError
	if errors.As(err, &me) && (errors.Is(me.err, context.Canceled) || errors.Is(me.err, context.DeadlineExceeded)) {
		// The prompt was ended because the command is stopping (a
		// signal, --timeout): no verdict on the credentials, and the
		// run is interrupted, not failed.
		return creds, me.err
	}
	var he *handedExpiredError
	if errors.As(err, &he) {
		return aws.Credentials{}, &audit.CredentialsError{Source: g.source(), Profile: g.profile, Kind: expired(he.expires, he.now, he.skew)}
	}
	if g.fellBack() {
		// No source had credentials: the last resort's failure is no
		// cause to name.
		return aws.Credentials{}, &audit.CredentialsError{Kind: g.looked.none(err)}
	}
	kind := g.kind(err)
	if kind == noneFound {
		// A login only where there is one to renew.
		kind += ": see where they are looked for with: aws configure list"
		if g.looked.sso {
			kind = noneFound + ": run aws sso login"
		}
	}
	if g.profile != "" {
		// The command for the profile that failed, not the default one.
		kind = strings.ReplaceAll(kind, "aws sso login", "aws sso login --profile "+g.profile)
		kind = strings.ReplaceAll(kind, "run aws login", "run aws login --profile "+g.profile)
		kind = strings.ReplaceAll(kind, "aws configure list", "aws configure list --profile "+g.profile)
	}
	ce := &audit.CredentialsError{Source: g.source(), Profile: g.profile, Kind: kind}
	code, msg := refusal(err)
	ce.Code, ce.Message = g.secrets.Redact(code), g.secrets.Redact(msg)
	ce.ClockOff, _ = audit.ClockOff(err)
	return aws.Credentials{}, ce
}

// refusal returns the code and message of the answer of STS or IAM
// Identity Center (SSO) when one of them refused the credential chain: their
// own words, which say what to fix (the caller redacts what they repeat of
// the request: a token, an MFA code, an external ID). Those of any other
// source are not passed on: a credential_process's, say, may quote its
// input.
func refusal(err error) (code, msg string) {
	var oe *smithy.OperationError
	var ae smithy.APIError
	if !errors.As(err, &oe) || !errors.As(err, &ae) {
		return "", ""
	}
	switch oe.ServiceID {
	case sts.ServiceID, "SSO", "SSO OIDC":
		return ae.ErrorCode(), ae.ErrorMessage()
	}
	return "", ""
}

// expired says that the credential process handed out credentials that
// expired at when, which was before now, and what to do (see
// refuseHandedExpired).
func expired(when, now time.Time, skew time.Duration) string {
	const layout = "2006-01-02T15:04:05Z"
	clock := "this machine's clock says " + now.UTC().Format(layout)
	if skew != 0 {
		// Judged on AWS's clock, which the answers showed off this
		// machine's: both are told, or the user finds a clock that
		// reads before the expiry.
		way := "ahead of"
		if skew < 0 {
			way = "behind"
		}
		clock = fmt.Sprintf("AWS's clock says %s, %s %s this machine's %s", now.Add(skew).UTC().Format(layout), skew.Abs().Round(time.Second), way, now.UTC().Format(layout))
	}
	return fmt.Sprintf("the credentials it gave had already expired (at %s; %s): "+
		"make it hand out fresh ones (run it by hand and check its \"Expiration\"; a cache it reads may have gone stale)",
		when.UTC().Format(layout), clock)
}

// fellBack reports whether the chain is the default chain's last resort
// alone, the instance metadata service: neither the environment nor the
// profile had credentials. (A profile's role whose source profile has
// none ends in IMDS too, but the role is the chain's, and named.)
func (g *guarded) fellBack() bool {
	s := g.ProviderSources()
	return len(s) == 1 && s[0] == aws.CredentialSourceIMDS
}

// none says that no credentials were found, where the chain looked, and
// how to set them up; err is the last resort's (IMDS's) failure.
func (l search) none(err error) string {
	var where []string
	if l.env {
		where = append(where, "the environment (AWS_ACCESS_KEY_ID)")
	}
	p := "profile " + l.profile
	if len(l.files) > 0 {
		p += " (" + strings.Join(l.files, ", ") + ")"
	}
	where = append(where, p)
	if l.imds {
		m := "the instance metadata service (IMDS"
		if _, none := audit.NoAnswer(err); none {
			m += ", which did not answer: no EC2 instance, or IMDS is off"
		} else {
			m += ": no instance role"
		}
		where = append(where, m+")")
	}
	list := where[0]
	if n := len(where); n > 1 {
		list = strings.Join(where[:n-1], ", ") + " or " + where[n-1]
	}
	how := "aws configure"
	if l.sso {
		how = "aws sso login"
	}
	if l.named {
		how += " --profile " + l.profile
	}
	return "none found in " + list + "; set them up with: " + how
}

// ProviderSources passes on the chain's sources (the SDK reports them in its
// user agent).
func (g *guarded) ProviderSources() []aws.CredentialSource {
	if ps, ok := g.inner.(aws.CredentialProviderSource); ok {
		return ps.ProviderSources()
	}
	return nil
}

// IsCredentialsProvider lets the SDK see through the wrapper (a client does
// not wrap a CredentialsCache in another).
func (g *guarded) IsCredentialsProvider(target aws.CredentialsProvider) bool {
	return aws.IsCredentialsProvider(g.inner, target)
}

// containerKind says what a container credentials endpoint (ECS, AWS
// Batch, EKS Pod Identity) that answered did wrong, when source is one:
// an error status, or something that is not credentials. It is reachable,
// so the credentials are not merely missing from the usual places; its
// own words are not passed on. "" for any other error or source.
func containerKind(err error, source aws.CredentialSource) string {
	if source != aws.CredentialSourceHTTP {
		return ""
	}
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) && status.HTTPStatusCode() != 0 {
		return fmt.Sprintf("it answered HTTP %d, not credentials: check that the task, job or pod has an IAM role (an ECS task role, a Batch job role, an EKS Pod Identity association) and that its credentials agent runs", status.HTTPStatusCode())
	}
	var de *smithy.DeserializationError
	if errors.As(err, &de) {
		return "it answered with something that is not credentials: check that AWS_CONTAINER_CREDENTIALS_FULL_URI (or _RELATIVE_URI) names the credentials endpoint"
	}
	return ""
}

// kind says what went wrong, and what to do: a source that could not be
// reached, or what credentialsKind reads in the SDK's words.
func (g *guarded) kind(err error) string {
	var last aws.CredentialSource
	if s := g.ProviderSources(); len(s) > 0 {
		last = s[len(s)-1] // the one that hands out the credentials
	}
	if k := g.tokens.kind(last); k != "" {
		return k
	}
	if k := unreachableKind(err, last); k != "" {
		return k
	}
	var me *mfaError
	if errors.As(err, &me) {
		return me.Error()
	}
	if k := containerKind(err, last); k != "" {
		return k
	}
	code, _ := refusal(err)
	if code == "" && (last == aws.CredentialSourceLogin || last == aws.CredentialSourceProfileLogin) {
		// The SDK's login provider has no error types: "please
		// reauthenticate" is its word for a session expired, one never
		// cached, one whose password changed, each renewed by logging
		// in again; what else fails (a permission, the cache not
		// written) a new login does not mend.
		switch msg := strings.ToLower(err.Error()); {
		case strings.Contains(msg, "reauthenticate"):
			return loginKind
		case strings.Contains(msg, "createoauth2token"):
			return "the identity of the aws login session may not get its credentials: it lacks the permission for the sign-in service's CreateOAuth2Token"
		}
	}
	if code == "" {
		return credentialsKind(err)
	}
	// The service's code and message follow, and say why.
	var re *roleError
	found := errors.As(err, &re)
	// In a chain of roles (source_profile to a role_arn profile), the
	// innermost is the one refused: each role wraps the failure to get
	// the credentials that assume it.
	for inner := re; found && errors.As(re.err, &inner); {
		re = inner
	}
	switch {
	case !found:
		// IAM Identity Center's: a session to log in again, or a role
		// or account the user has no access to.
		if k := credentialsKind(err); k != sourceFailed {
			return k
		}
		return "the role's credentials were refused (the profile's sso_account_id and sso_role_name)"
	case code == "ExpiredToken" || code == "ExpiredTokenException":
		return "the credentials that assume the role " + re.arn + " have expired: refresh them and run again"
	case re.webIdentity:
		return "the role " + re.arn + " could not be assumed with the web identity token"
	}
	return "the role " + re.arn + " could not be assumed"
}

// kind says, when src reads a web identity token, or the container
// endpoint's authorization token, from a file that cannot be read (or
// holds a line break, see containerTokenKind), which file, why and what
// to check; "" otherwise. The SDK's error keeps only the text of the
// cause, so the file is tried again here: opened, never read into a
// message, so that no token can reach one.
func (t tokenFiles) kind(src aws.CredentialSource) string {
	var path, setting, hint string
	switch src {
	case aws.CredentialSourceHTTP:
		return containerTokenKind(os.Getenv(containerTokenFile))
	case aws.CredentialSourceEnvVarsSTSWebIDToken:
		path, setting = t.env, "AWS_WEB_IDENTITY_TOKEN_FILE"
		hint = "check the service account's projected token volume (on EKS, the role annotation on the service account, and the pod started after it) and that AWS_WEB_IDENTITY_TOKEN_FILE names the token mounted"
	case aws.CredentialSourceProfileSTSWebIDToken:
		path, setting = t.profile, "web_identity_token_file"
		hint = "check the profile's web_identity_token_file, and the projected token volume it names, if any"
	default:
		return ""
	}
	if path == "" {
		return ""
	}
	why := unreadable(path)
	if why == "" {
		return ""
	}
	return fmt.Sprintf("the web identity token file %q (%s) cannot be read: %s; %s", path, setting, why, hint)
}

// containerTokenFile names the container endpoint's authorization token
// file (EKS Pod Identity's); the SDK reads it on each renewal, and from the
// environment alone.
const containerTokenFile = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"

// containerTokenKind says, when the container authorization token file at
// path cannot be read or holds a line break (the SDK trims nothing and
// refuses a token with a CR or LF anywhere, as echo leaves at its end),
// which file, what is wrong and what to do; "" otherwise, and when path
// is "". The line breaks are counted; no byte of the file is shown.
func containerTokenKind(path string) string {
	if path == "" {
		return ""
	}
	name := fmt.Sprintf("the container authorization token file %q (%s)", path, containerTokenFile)
	if why := unreadable(path); why != "" {
		return name + " cannot be read: " + why + "; check that the pod mounts the token (the projected volume that EKS Pod Identity adds) and that " + containerTokenFile + " names it"
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	all := strings.Count(string(b), "\r") + strings.Count(string(b), "\n")
	trailing := len(b) - len(strings.TrimRight(string(b), "\r\n"))
	switch {
	case all == 0:
		return ""
	case trailing == all:
		return fmt.Sprintf("%s cannot be used: it ends in a line break (%s), which the SDK refuses in a token: write the token without one (printf '%%s' \"$TOKEN\" > file, not echo)", name, plural(trailing, "byte"))
	}
	return fmt.Sprintf("%s cannot be used: it holds %s, which the SDK refuses in a token: write the token alone, without line breaks", name, plural(all, "line break"))
}

// plural says n of what, in the plural unless n is 1.
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// unreadable says why the file at path cannot be read, in a few words, or
// "" when it can be opened and is no directory.
func unreadable(path string) string {
	f, err := os.Open(path)
	if err != nil {
		var pe *fs.PathError
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return "no such file"
		case errors.Is(err, fs.ErrPermission):
			return "permission denied"
		case errors.As(err, &pe):
			return pe.Err.Error() // the system's words: "not a directory"
		}
		return "it cannot be opened"
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return "a directory, not a file"
	}
	return ""
}

// unreachableKind says, when err is a request of a credential source that
// got no answer (a name that does not resolve, a connection refused or
// timed out, a certificate refused, a proxy that could not be reached),
// which host it went to (no
// user info, path or query), why, and what to check; "" for any other
// failure. An instance metadata service that does not answer is left to
// credentialsKind: it is the default chain's last resort, and on a
// machine that is no EC2 instance, no credentials were configured at all.
func unreachableKind(err error, src aws.CredentialSource) string {
	var ue *url.Error
	var op *net.OpError
	var dns *net.DNSError
	if src == aws.CredentialSourceIMDS || !errors.As(err, &ue) && !errors.As(err, &op) && !errors.As(err, &dns) {
		return ""
	}
	u, none := audit.NoAnswer(err)
	if !none {
		return "" // it answered
	}
	where := u.Endpoint
	switch {
	case where != "":
	case dns != nil:
		where = dns.Name
	case op != nil && op.Addr != nil:
		where = op.Addr.String()
	default:
		where = "the credential source"
	}
	hint := "check the network path to it: a VPC endpoint for the service, a NAT gateway, or HTTPS_PROXY and NO_PROXY"
	switch {
	case u.ThroughProxy:
		where += " through the proxy"
		if u.Proxy != "" {
			where += " " + u.Proxy
		}
		hint = "check HTTPS_PROXY (the proxy) and NO_PROXY (the hosts reached without it)"
	case src == aws.CredentialSourceHTTP:
		hint = "check that the credentials endpoint runs (the ECS agent, the EKS Pod Identity Agent) at AWS_CONTAINER_CREDENTIALS_FULL_URI or _RELATIVE_URI, and that NO_PROXY names its host when HTTP_PROXY is set"
	}
	switch {
	case u.Certificate != "" && u.ThroughProxy:
		hint = ProxyCertificateHint(u.Certificate, "HTTPS_PROXY")
	case u.Certificate != "":
		hint = CertificateHint(u.Certificate, "") // the network path is fine: a handshake took place
	}
	return fmt.Sprintf("cannot reach %s: %s; %s", where, u.Cause, hint)
}

// source names where the credentials come from, in words.
func (g *guarded) source() string {
	var names []string
	for _, s := range g.ProviderSources() {
		n := sourceNames[s]
		if n != "" && (len(names) == 0 || names[len(names)-1] != n) {
			names = append(names, n)
		}
	}
	return strings.Join(names, ", then ")
}

var sourceNames = map[aws.CredentialSource]string{
	aws.CredentialSourceCode:                 "fixed credentials",
	aws.CredentialSourceEnvVars:              "environment variables",
	aws.CredentialSourceEnvVarsSTSWebIDToken: "a web identity token (environment)",
	aws.CredentialSourceSTSAssumeRole:        "an assumed role",
	aws.CredentialSourceSTSAssumeRoleWebID:   "a role assumed with a web identity",
	aws.CredentialSourceProfile:              "the shared credentials file",
	aws.CredentialSourceProfileSourceProfile: "a source profile",
	aws.CredentialSourceProfileNamedProvider: "a named credential source",
	aws.CredentialSourceProfileSTSWebIDToken: "a web identity token (profile)",
	aws.CredentialSourceProfileSSO:           "AWS IAM Identity Center (SSO)",
	aws.CredentialSourceSSO:                  "AWS IAM Identity Center (SSO)",
	aws.CredentialSourceProfileSSOLegacy:     "AWS IAM Identity Center (SSO)",
	aws.CredentialSourceSSOLegacy:            "AWS IAM Identity Center (SSO)",
	aws.CredentialSourceProfileLogin:         "an aws login session",
	aws.CredentialSourceLogin:                "an aws login session",
	aws.CredentialSourceProfileProcess:       "credential_process",
	aws.CredentialSourceProcess:              "credential_process",
	aws.CredentialSourceHTTP:                 "the container credentials endpoint",
	aws.CredentialSourceIMDS:                 "the instance metadata service (IMDS)",
}

// renewAhead is how long before they expire temporary credentials are
// renewed (less up to half of it, so that many caches do not renew at
// once): a call signed just before the expiry may reach the service after
// it, and one ExpiredTokenException fails a whole account-region, or the
// whole run when the credentials are its own. Credentials that live less
// than twice as long are renewed half-way through their life (see ahead).
const renewAhead = 5 * time.Minute

// expiryMargin is how long before they expire credentials held past a
// failed renewal are given up, the failure then the run's: AWS's clock may
// be ahead of this machine's by up to skewTolerance unnoticed (see
// clockSkew), and a call signed with them takes up to its timeout (30 s
// by default) to reach the service. Well under the least time they are
// renewed ahead (half of renewAhead), so that a failed renewal is tried
// again for minutes.
const expiryMargin = 2 * skewTolerance

// retryRenewal is how soon a renewal that failed while the credentials
// held are still valid is tried again: often enough that an STS back, or
// a token file rotated in, serves the run, and rarely enough that an STS
// that is down is not asked on every call.
const retryRenewal = 5 * time.Second

// renewing caches provider's credentials and renews them renewAhead before
// they expire, and keeps them past a renewal that fails while they are
// still valid (see ahead.HandleFailToRefresh). provider may be a cache
// itself (the SDK's, which keeps its credentials until they expire): it is
// emptied before each renewal.
func renewing(provider aws.CredentialsProvider, skew *clockSkew) *skewedCache {
	c := &skewedCache{skew: skew}
	c.renewedFor.Store(noSkew)
	c.cache = aws.NewCredentialsCache(ahead{provider, c}, func(o *aws.CredentialsCacheOptions) {
		o.ExpiryWindow = renewAhead
		o.ExpiryWindowJitterFrac = 0.5
	})
	return c
}

// skewedCache is renewing's cache, whose credentials' expiry ahead moved
// by the skew known when they came (see clockSkew). A skew learned or
// changed since (credentials a credential_process gave before any answer
// was dated; this machine's clock stepped by NTP) that brings their
// expiry, by AWS's clock, within the window they are renewed ahead of it
// renews them now. A skew that moves it later does not: they are renewed
// early, which costs a call.
//
// A skew renews them once: answers of two endpoints whose clocks differ
// (one an emulator's, say) would otherwise renew them on every call.
type skewedCache struct {
	cache *aws.CredentialsCache
	skew  *clockSkew
	moved atomic.Int64 // the skew the cached credentials' expiry was moved by
	// renewedFor is the skew that last renewed them (noSkew: none yet).
	renewedFor atomic.Int64
	// held is the credentials last obtained, with their expiry by AWS's
	// clock, kept past a renewal that fails (see ahead.HandleFailToRefresh).
	held atomic.Pointer[aws.Credentials]
}

// noSkew is no skew at all, as skewedCache.renewedFor's first value.
const noSkew = math.MinInt64

func (c *skewedCache) Retrieve(ctx context.Context) (aws.Credentials, error) {
	creds, err := c.cache.Retrieve(ctx)
	if err != nil || !creds.CanExpire {
		return creds, err
	}
	// creds.Expires is the time the cache renews them at, by this
	// machine's clock as it stood then.
	skew := c.skew.get()
	if late := skew - time.Duration(c.moved.Load()); late > skewTolerance && !time.Now().Add(late).Before(creds.Expires) {
		if last := c.renewedFor.Load(); last != noSkew && (skew-time.Duration(last)).Abs() <= skewTolerance {
			return creds, nil
		}
		c.renewedFor.Store(int64(skew))
		c.cache.Invalidate()
		return c.cache.Retrieve(ctx)
	}
	return creds, nil
}

// Invalidate empties the cache; the credentials it held are not used again,
// even when the renewal that follows fails.
func (c *skewedCache) Invalidate() {
	c.held.Store(nil)
	c.cache.Invalidate()
}

func (c *skewedCache) ProviderSources() []aws.CredentialSource { return c.cache.ProviderSources() }

// IsCredentialsProvider lets the SDK see through the wrapper.
func (c *skewedCache) IsCredentialsProvider(target aws.CredentialsProvider) bool {
	return aws.IsCredentialsProvider(c.cache, target)
}

// ownCredentials returns the chain's credentials (under the cache the SDK
// put them in) renewed ahead, as renewing does, unless the SDK renews them
// early itself: the container endpoint's, 5 minutes before they expire;
// the instance metadata service's, an hour after it gave them at most
// (EC2 replaces them hours later), and past a failed renewal while IMDS
// is down.
func ownCredentials(chain aws.CredentialsProvider, skew *clockSkew) aws.CredentialsProvider {
	if ps, ok := chain.(aws.CredentialProviderSource); ok {
		// The last source is the one that hands out the credentials.
		if s := ps.ProviderSources(); len(s) > 0 && (s[len(s)-1] == aws.CredentialSourceHTTP || s[len(s)-1] == aws.CredentialSourceIMDS) {
			return chain
		}
	}
	return renewing(chain, skew)
}

// ahead is the provider under renewing's cache. That cache moves the
// expiry of the credentials it gets earlier by its window, and asks ahead
// for new ones once that time has passed; ahead moves it by no more than
// half of what is left of their life, so that credentials that live less
// than the window (a credential_process's of a few minutes, a test's of
// seconds) are not renewed before every call, and empties a cache beneath
// it so that it renews too. The expiry is moved to this machine's clock
// by the skew known (see clockSkew), which the cache above notes.
type ahead struct {
	inner aws.CredentialsProvider
	above *skewedCache
}

var (
	_ aws.AdjustExpiresByCredentialsCacheStrategy   = ahead{}
	_ aws.HandleFailRefreshCredentialsCacheStrategy = ahead{}
	_ aws.CredentialProviderSource                  = ahead{}
)

func (a ahead) Retrieve(ctx context.Context) (aws.Credentials, error) {
	if c, ok := a.inner.(*aws.CredentialsCache); ok {
		// Asked only when the credentials are due: the cache beneath
		// would hand back the same ones until they expire.
		c.Invalidate()
	}
	creds, err := a.inner.Retrieve(ctx)
	if err != nil {
		return creds, err
	}
	skew := a.above.skew.get()
	// Judged on AWS's clock, and told by the process's own Expiration.
	if err := refuseHandedExpired(creds, time.Now(), skew); err != nil {
		return aws.Credentials{}, err
	}
	a.above.held.Store(&creds)
	a.above.moved.Store(int64(skew))
	return onAWSClock(creds, skew), nil
}

// HandleFailToRefresh keeps the credentials held when their renewal fails
// (an STS down for a while, a web identity token file rotated out) while
// they are valid for more than expiryMargin by AWS's clock: a renewal ahead
// of their expiry is no cause to stop a run they still serve. The renewal
// is tried again within retryRenewal. err, unchanged, once they are within
// expiryMargin of their expiry, or when none are held.
func (a ahead) HandleFailToRefresh(_ context.Context, _ aws.Credentials, err error) (aws.Credentials, error) {
	held := a.above.held.Load()
	if held == nil || !held.CanExpire {
		return aws.Credentials{}, err
	}
	skew := a.above.skew.get()
	now := time.Now()
	left := held.Expires.Sub(now.Add(skew))
	if left <= expiryMargin {
		return aws.Credentials{}, err
	}
	creds := *held
	a.above.moved.Store(int64(skew))
	// The cache then moves this expiry earlier by half of what is left
	// (see AdjustExpiresBy): it asks again after wait, and no later than
	// when expiryMargin is reached.
	wait := min(retryRenewal, left-expiryMargin)
	creds.Expires = now.Add(2 * wait)
	return creds, nil
}

// refuseHandedExpired returns a *handedExpiredError when creds are a
// credential_process's and had expired at now: a cache the process reads
// gone stale. Every call would be refused, and each would run the process
// again; the aws CLI refuses them too ("the refreshed credentials are
// still expired").
//
// A process's alone. The container endpoint's are renewed by the SDK 5
// minutes ahead, and its cache shows that earlier time; the instance
// metadata service hands out credentials past their Expiration while EC2
// cannot renew them, and the SDK keeps using them ("static stability").
//
// creds must carry the process's own expiry: ahead sees them beneath the
// cache that moves it, and above the SDK's cache of a process, which
// moves it by nothing (no expiry window).
func refuseHandedExpired(creds aws.Credentials, now time.Time, skew time.Duration) error {
	if creds.Source != processcreds.ProviderName || !creds.CanExpire || creds.Expires.After(now.Add(skew)) {
		return nil
	}
	return &handedExpiredError{expires: creds.Expires, now: now, skew: skew}
}

// handedExpiredError is credentials that a credential_process handed out
// already expired; guarded turns it into the run's *audit.CredentialsError.
type handedExpiredError struct {
	expires, now time.Time     // now by this machine's clock
	skew         time.Duration // AWS's clock less this machine's
}

func (e *handedExpiredError) Error() string {
	return "the credential process handed out credentials that expired at " + e.expires.UTC().Format(time.RFC3339)
}

// AdjustExpiresBy moves the expiry of creds by dur (the cache's window,
// negative), but by no more than half the time they have left.
func (a ahead) AdjustExpiresBy(creds aws.Credentials, dur time.Duration) (aws.Credentials, error) {
	if !creds.CanExpire {
		return creds, nil
	}
	half := max(time.Until(creds.Expires)/2, 0)
	creds.Expires = creds.Expires.Add(max(dur, -half))
	return creds, nil
}

func (a ahead) ProviderSources() []aws.CredentialSource {
	if ps, ok := a.inner.(aws.CredentialProviderSource); ok {
		return ps.ProviderSources()
	}
	return nil
}

// IsCredentialsProvider lets the SDK see through the wrapper.
func (a ahead) IsCredentialsProvider(target aws.CredentialsProvider) bool {
	return aws.IsCredentialsProvider(a.inner, target)
}

// recorded keeps in secrets the credentials that inner hands out.
type recorded struct {
	inner   aws.CredentialsProvider
	secrets *audit.Secrets
}

func (r recorded) Retrieve(ctx context.Context) (aws.Credentials, error) {
	creds, err := r.inner.Retrieve(ctx)
	if err == nil {
		r.secrets.AddCredentials(creds)
	}
	return creds, err
}

// IsCredentialsProvider lets the SDK see through the wrapper.
func (r recorded) IsCredentialsProvider(target aws.CredentialsProvider) bool {
	return aws.IsCredentialsProvider(r.inner, target)
}

// recordedToken keeps in secrets the web identity tokens that inner reads.
type recordedToken struct {
	inner   stscreds.IdentityTokenRetriever
	secrets *audit.Secrets
}

func (r recordedToken) GetIdentityToken() ([]byte, error) {
	b, err := r.inner.GetIdentityToken()
	if err == nil {
		r.secrets.Add(strings.TrimSpace(string(b)), string(b))
	}
	return b, err
}

// keptSSOToken keeps in secrets the IAM Identity Center access token that
// each GetRoleCredentials carries, which the portal's refusal may repeat
// (refusal passes its words on).
type keptSSOToken struct {
	inner   ssocreds.GetRoleCredentialsAPIClient
	secrets *audit.Secrets
}

func (k keptSSOToken) GetRoleCredentials(ctx context.Context, in *sso.GetRoleCredentialsInput, optFns ...func(*sso.Options)) (*sso.GetRoleCredentialsOutput, error) {
	k.secrets.Add(aws.ToString(in.AccessToken))
	return k.inner.GetRoleCredentials(ctx, in, optFns...)
}

// noneFound is credentialsKind's word for a source that had no
// credentials; Retrieve adds what to do, as fits the profile.
const noneFound = "no credentials found"

// credentialsKind says what went wrong in a few fixed words, read from the
// SDK's own wording; the error text itself is never passed on.
func credentialsKind(err error) string {
	msg := strings.ToLower(err.Error())
	var large *audit.AnswerTooLargeError
	switch {
	case errors.As(err, &large) || strings.Contains(msg, strings.ToLower((&audit.AnswerTooLargeError{Limit: audit.MaxAnswer}).Error())):
		// The SDK's deserializer may keep the cause's words alone.
		return fmt.Sprintf("the credential source answered with more than %d MiB, which no answer of AWS's is (check where its calls go: AWS_ENDPOINT_URL_STS, the profile's endpoint_url, a proxy)", audit.MaxAnswer>>20)
	case strings.Contains(msg, "wrong version") || strings.Contains(msg, "invalid version"):
		// The SDK does not say which version it got: the output is
		// not shown (see below).
		return "the credential process printed an unsupported \"Version\" (supported versions: 1, as for the AWS CLI; run it by hand to see which)"
	case strings.Contains(msg, "parse failed") ||
		strings.Contains(msg, "missing accesskeyid") || strings.Contains(msg, "missing secretaccesskey"):
		return "the credential process printed something that is not credentials (run it by hand to see; its output is not shown, as it may hold secrets)"
	case strings.Contains(msg, "credential_process") || strings.Contains(msg, "exit status") || strings.Contains(msg, "process"):
		return "the credential process failed (run it by hand to see why)"
	case strings.Contains(msg, "sso") && (strings.Contains(msg, "expired") || strings.Contains(msg, "token")):
		return "the SSO session has expired or is missing: run aws sso login"
	case strings.Contains(msg, "expired"):
		return "the credentials have expired: refresh them and run again"
	case strings.Contains(msg, "no ec2 imds role") || strings.Contains(msg, "static credentials are empty") ||
		strings.Contains(msg, "failed to load") || strings.Contains(msg, "not found"):
		return noneFound
	case strings.Contains(msg, "accessdenied") || strings.Contains(msg, "not authorized"):
		return "the role could not be assumed (access denied)"
	}
	return sourceFailed
}

// loginKind is the word for a failure of an aws login session (the AWS
// CLI's login_session), whatever the SDK said of it.
const loginKind = "the aws login session has expired or is missing: run aws login"

// sourceFailed is credentialsKind's word for a failure it cannot tell.
const sourceFailed = "the credential source failed"
