// Package awsconn connects the auditor to AWS: it loads the configuration the
// way every AWS tool does (environment, shared config and credentials files,
// SSO, credential_process, container and instance roles), guards the
// credentials and the endpoints, and makes the SDK clients that audit uses,
// with the retryer and HTTP client an audit wants.
//
// Nothing here prints. Errors from credential sources are replaced by an
// *audit.CredentialsError that names the kind of source and the profile,
// and the role and STS's or IAM Identity Center's code and message when
// one of them refused; never what any other source printed (a
// credential_process's output may hold a secret key). What AWS's side
// says back is redacted of the run's secrets (see Conn.Secrets).
package awsconn

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/internal/httpbuf"
)

// Settings say how to reach AWS. The zero value of a field means the SDK's
// default (the default credential chain, the configured region, the
// region's endpoint).
type Settings struct {
	// Profile is the shared-config profile ("" means AWS_PROFILE, else
	// AWS_DEFAULT_PROFILE, else default). A profile that no file holds is
	// refused, with a *ConfigError, also when a variable named it.
	Profile string
	// Region overrides the configured region.
	Region string
	// HomeRegion is the region of the calls that belong to no one region
	// (STS, the credential chain's included, Organizations, EC2's
	// DescribeRegions) when none is configured; "" leaves them without
	// one. It is not the region of anything else (see Conn.Region).
	HomeRegion string
	// EndpointURL sends SSM calls to this URL instead of the region's
	// endpoint.
	EndpointURL string
	// AllowInsecure allows plain http to an endpoint that is not on this
	// machine.
	AllowInsecure bool
	// MaxAttempts is the attempts per call, the first included (default 8).
	MaxAttempts int
	// CallTimeout bounds one HTTP attempt (default 30 s).
	CallTimeout time.Duration
	// Conns is the number of calls that may be in flight at once, to size
	// the pool of idle connections (default 16).
	Conns int
	// Credentials, when set, replace the whole credential chain and nothing
	// is read from this machine's AWS configuration (the demo); then
	// EndpointURL serves every service, not SSM alone.
	Credentials aws.CredentialsProvider
	// Roles reach accounts other than the caller's.
	Roles Roles
	// Logger receives the SDK's log lines; nil leaves the SDK's default.
	Logger logging.Logger
	// MFACode, when set, returns a code of the MFA device serial (the
	// mfa_serial of a role_arn profile), each time the role is assumed;
	// it may wait for a person to answer, and returns an error that wraps
	// ErrMFANoAnswer when no one did in time. Nil refuses such a profile:
	// Load returns a *ConfigError that says what to use instead.
	MFACode func(serial string) (string, error)
	// MFAAsked tells that the command asks a person for an MFA code
	// where it can, at a terminal: MFACode is nil only where there is
	// none, and the refusal says to run at one. False (the zero value)
	// is a command that never asks: its refusal says only what to use
	// instead.
	MFAAsked bool
}

// ConfigError is an AWS configuration that cannot work, found before any
// call: a profile that does not exist, a config file that does not parse, an
// endpoint that is refused. The run has asked nothing of AWS.
type ConfigError struct {
	// Setting names what is wrong: "profile", "endpoint", "region",
	// "proxy" (a proxy variable that net/http would not read as written).
	Setting string
	Err     error
}

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// Conn is a loaded AWS configuration. It is safe for concurrent use.
type Conn struct {
	s   Settings
	cfg aws.Config
	// home is the configured region, else Settings.HomeRegion.
	home string

	// secrets are the run's, which every client made from cfg redacts
	// from its errors.
	secrets *audit.Secrets
	// skew is AWS's clock less this machine's, as the answers of every
	// client made from cfg show it.
	skew *clockSkew

	mu       sync.Mutex
	identity Identity                           // set by CallerIdentity
	roles    map[string]aws.CredentialsProvider // assumed, by account
}

// Secrets returns the secrets the Conn has seen so far, and goes on
// adding to: the access key ID, secret key and session token of each set
// of credentials obtained (the run's own, renewed, and the roles'), the
// external IDs (Roles.ExternalID, a profile's external_id) and web
// identity tokens read; of those, the values of at least 16 characters
// (see audit.Secrets). Every client made from Config
// redacts them from the errors of its calls (see audit.Secrets.Wrap), and
// a *audit.CredentialsError holds STS's words redacted.
func (c *Conn) Secrets() *audit.Secrets { return c.secrets }

// Load loads the configuration without calling AWS and without asking for
// credentials (see Conn.CheckCredentials). It returns a *ConfigError when the
// configuration cannot work.
func Load(ctx context.Context, s Settings) (*Conn, error) {
	if s.MaxAttempts <= 0 {
		s.MaxAttempts = 8
	}
	if s.CallTimeout <= 0 {
		s.CallTimeout = 30 * time.Second
	}
	if s.Conns <= 0 {
		s.Conns = 16
	}
	if s.EndpointURL != "" {
		if err := CheckEndpoint(s.EndpointURL, s.AllowInsecure); err != nil {
			return nil, &ConfigError{"endpoint", err}
		}
	}
	secrets := new(audit.Secrets)
	secrets.Add(s.Roles.ExternalID)
	c := &Conn{s: s, home: cmp.Or(s.Region, s.HomeRegion), secrets: secrets, skew: new(clockSkew)}
	if s.Credentials != nil {
		c.cfg = aws.Config{
			Region:      s.Region,
			Credentials: aws.NewCredentialsCache(recorded{s.Credentials, secrets}),
			Retryer:     NewRetryer(s.MaxAttempts),
			HTTPClient:  c.httpClient(nil),
			AppID:       "auditor",
			APIOptions:  []func(*middleware.Stack) error{secrets.APIOption, c.skew.APIOption},
		}
		if s.Logger != nil {
			c.cfg.Logger = s.Logger
		}
		if s.EndpointURL != "" {
			c.cfg.BaseEndpoint = aws.String(s.EndpointURL)
		}
		return c, nil
	}
	// Not the demo's: its endpoint is on this machine, which no proxy
	// serves.
	if err := checkProxies(s.AllowInsecure); err != nil {
		return nil, &ConfigError{"proxy", err}
	}
	opts := []func(*config.LoadOptions) error{
		config.WithRetryer(NewRetryer(s.MaxAttempts)),
		config.WithAppID("auditor"),
		config.WithAPIOptions([]func(*middleware.Stack) error{secrets.APIOption, c.skew.APIOption}),
	}
	if s.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(s.Profile))
	}
	if s.Region != "" {
		opts = append(opts, config.WithRegion(s.Region))
	}
	if s.HomeRegion != "" {
		// For the credential chain's own STS client too, which is made
		// as the configuration is loaded.
		opts = append(opts, config.WithDefaultRegion(s.HomeRegion))
	}
	if s.Logger != nil {
		opts = append(opts, config.WithLogger(s.Logger))
	}
	// Always the files named here, never the SDK's defaults: see
	// sharedFile.path. An empty list reads none.
	opts = append(opts,
		config.WithSharedConfigFiles(configFile.list()),
		config.WithSharedCredentialsFiles(credentialsFile.list()))
	// The SDK builds the credential chain's STS client before it reads the
	// global endpoint (AWS_ENDPOINT_URL, a profile's endpoint_url), so a
	// role would be assumed at AWS's STS while every other call goes to
	// the endpoint configured for all: that client takes the loaded
	// configuration's, read when it first asks.
	global := new(atomic.Pointer[string])
	// The MFA device of a role that needs a code, when there is no
	// MFACode to ask it of, for the error.
	var mfaSerial string
	opts = append(opts,
		// The loader may call these before it has a client (nil: it then
		// makes one, and the provider calls them again), and more than
		// once.
		config.WithAssumeRoleCredentialOptions(func(o *stscreds.AssumeRoleOptions) {
			if _, done := o.Client.(globalEndpointSTS); !done && o.Client != nil {
				o.Client = globalEndpointSTS{o.Client, nil, global, secrets}
			}
			if o.ExternalID != nil {
				secrets.Add(*o.ExternalID)
			}
			if o.SerialNumber != nil && s.MFACode == nil {
				mfaSerial = *o.SerialNumber
			}
			if o.SerialNumber != nil && s.MFACode != nil {
				serial := *o.SerialNumber
				o.TokenProvider = func() (string, error) {
					code, err := s.MFACode(serial)
					if err != nil {
						return "", &mfaError{serial: serial, err: err}
					}
					return code, nil
				}
			}
		}),
		config.WithSSOProviderOptions(func(o *ssocreds.Options) {
			if _, done := o.Client.(keptSSOToken); !done && o.Client != nil {
				o.Client = keptSSOToken{cappedSSO{o.Client}, secrets}
			}
		}),
		config.WithSSOTokenProviderOptions(func(o *ssocreds.SSOTokenProviderOptions) {
			if _, done := o.Client.(cappedOIDC); !done && o.Client != nil {
				o.Client = cappedOIDC{o.Client}
			}
		}),
		config.WithEndpointCredentialOptions(func(o *endpointcreds.Options) {
			// The SDK's default client, as it would make it, capped.
			if o.HTTPClient == nil {
				o.HTTPClient = awshttp.NewBuildableClient()
			}
			o.HTTPClient = capHTTP(o.HTTPClient)
		}),
		config.WithWebIdentityRoleCredentialOptions(func(o *stscreds.WebIdentityRoleOptions) {
			if _, done := o.Client.(globalEndpointSTS); !done && o.Client != nil {
				o.Client = globalEndpointSTS{nil, o.Client, global, secrets}
			}
			if _, done := o.TokenRetriever.(recordedToken); !done && o.TokenRetriever != nil {
				o.TokenRetriever = recordedToken{o.TokenRetriever, secrets}
			}
		}))
	unsetRefusedRetrySettings()
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		var missing config.SharedConfigProfileNotExistError
		var mfa config.AssumeRoleTokenProviderNotSetError
		switch {
		case errors.As(err, &mfa):
			return nil, &ConfigError{"profile", mfaRefused(profileLoaded(s.Profile), mfaSerial, s.MFAAsked)}
		case errors.As(err, &missing):
			from := ""
			if s.Profile == "" {
				from = "AWS_PROFILE" // the only variable whose profile the SDK refuses when it is missing
			}
			return nil, &ConfigError{"profile", missingProfile(missing.Profile, from)}
		}
		if b := os.Getenv("AWS_CA_BUNDLE"); b != "" && strings.Contains(err.Error(), "custom CA bundle") {
			// The SDK's words name neither the file nor the setting
			// (and it has no error type to tell this one by).
			return nil, &ConfigError{"profile", fmt.Errorf("AWS_CA_BUNDLE %s: no PEM certificate could be read from it: it must hold the CA certificates in PEM (-----BEGIN CERTIFICATE-----), not DER: %w", b, err)}
		}
		for _, key := range []string{"retry_mode", "max_attempts"} {
			if strings.Contains(err.Error(), "failed to load "+key+" from shared config") {
				return nil, &ConfigError{"profile", fmt.Errorf("loading the AWS configuration: the profile's %s has a value the AWS SDK for Go cannot read (%w): remove it, or run with a profile without it; the auditor does not use it, --max-attempts sets its retries", key, err)}
			}
		}
		return nil, &ConfigError{"profile", fmt.Errorf("loading the AWS configuration: %w", err)}
	}
	if p := os.Getenv("AWS_DEFAULT_PROFILE"); p != "" && p != "default" && s.Profile == "" && os.Getenv("AWS_PROFILE") == "" && profileOf(cfg) == "" {
		// The SDK takes its profile, and goes on without one when no file
		// holds it: the AWS CLI refuses it, as the SDK does AWS_PROFILE's,
		// rather than run with other credentials than those meant. Not
		// "default", which images set beside keys in the environment (or
		// IRSA, ECS, IMDS): without it the SDK takes the same credentials.
		return nil, &ConfigError{"profile", missingProfile(p, "AWS_DEFAULT_PROFILE")}
	}
	global.Store(cfg.BaseEndpoint)
	c.home = cfg.Region
	if !regionConfigured(cfg) {
		cfg.Region = "" // HomeRegion is no target's, nor SES's or S3's
	}
	// On the client the loader built, which carries any custom CA bundle
	// (AWS_CA_BUNDLE, ca_bundle) and proxy settings.
	cfg.HTTPClient = c.httpClient(cfg.HTTPClient)
	if cfg.Credentials != nil {
		g := &guarded{inner: ownCredentials(cfg.Credentials, c.skew), looked: searchOf(cfg), tokens: tokenFilesOf(cfg), secrets: secrets}
		if fromProfile(g.ProviderSources()) {
			g.profile = profileOf(cfg)
		}
		cfg.Credentials = g
	}
	c.cfg = cfg
	return c, nil
}

// missingProfile says that profile is not in the shared files, where its
// name came from (from: the variable that named it, AWS_PROFILE or
// AWS_DEFAULT_PROFILE; "" for the settings), which profiles the files do
// hold, and what to do: pick one of them, or make it. With no home
// directory, no file was read, and it says so.
func missingProfile(profile, from string) error {
	if configFile.path() == "" && credentialsFile.path() == "" {
		return fmt.Errorf("profile %q: no AWS config or credentials file was read: %s", profile, noHome)
	}
	name := fmt.Sprintf("profile %q", profile)
	if from != "" {
		name += " (from " + from + ")"
	}
	msg := fmt.Sprintf("%s is not in the AWS config or credentials files (read: %s)", name, strings.Join(filesRead(), ", "))
	have := profilesHeld()
	switch {
	case len(have) == 0:
		return fmt.Errorf("%s: they hold no profile: make it with aws configure --profile %s (or aws configure sso --profile %s)", msg, profile, profile)
	case from != "":
		return fmt.Errorf("%s: they hold %s: set %s to one of them, or make it with aws configure --profile %s", msg, listed(have), from, profile)
	}
	return fmt.Errorf("%s: they hold %s: choose one of them, or make it with aws configure --profile %s", msg, listed(have), profile)
}

// listed joins names, the first 20 of them and a count of the rest.
func listed(names []string) string {
	const most = 20
	if len(names) <= most {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:most], ", "), len(names)-most)
}

// profilesHeld returns the profiles of the shared config and credentials
// files, sorted, each once: a config file's [default] and [profile NAME]
// (not its [sso-session NAME] or [services NAME]), a credentials file's
// [NAME]. A file that cannot be read holds none.
func profilesHeld() []string {
	var out []string
	for _, f := range []sharedFile{configFile, credentialsFile} {
		n := f.path()
		if n == "" {
			continue
		}
		b, err := os.ReadFile(n)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			if !strings.HasPrefix(line, "[") || !strings.HasSuffix(line, "]") {
				continue
			}
			section := strings.TrimSpace(line[1 : len(line)-1])
			if f == credentialsFile {
				out = append(out, section)
				continue
			}
			kind, rest, two := strings.Cut(section, " ")
			switch {
			case !two && kind == "default":
				out = append(out, kind)
			case two && kind == "profile" && strings.TrimSpace(rest) != "":
				out = append(out, strings.TrimSpace(rest))
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// mfaRefused says that the role of profile needs a code of the MFA device
// serial, which no one is asked for (asked: only at a terminal, and there
// is none), and what to use instead.
func mfaRefused(profile, serial string, asked bool) error {
	if !asked {
		return fmt.Errorf("profile %q: its role needs a code of an MFA device (mfa_serial %s), which this command does not ask for: %s",
			profile, serial, noCodeNeeded)
	}
	return fmt.Errorf("profile %q: its role needs a code of an MFA device (mfa_serial %s), which is asked only at a terminal: "+
		"run the auditor at one, or, for a job that runs unattended, %s", profile, serial, noCodeNeeded)
}

// noCodeNeeded says what a job that runs unattended uses instead of a role
// that needs an MFA code.
const noCodeNeeded = "use credentials that need no code " +
	"(a role without mfa_serial, a credential_process, an instance or container role, or a session opened before the job: aws sts get-session-token)"

// ErrMFANoAnswer is what an error of Settings.MFACode wraps when no one
// gave the code in time: a terminal that nobody is at (a job run under
// script, docker run -t or ssh -t). The credentials' error then says what
// such a job uses instead.
var ErrMFANoAnswer = errors.New("no code was entered")

// profileLoaded returns the profile that the configuration is loaded from
// when the settings name profile ("" for none), as the SDK chooses it:
// profile, else AWS_PROFILE, else AWS_DEFAULT_PROFILE, else "default".
func profileLoaded(profile string) string {
	env, _ := config.NewEnvConfig() // an error would have stopped the loading first
	return cmp.Or(profile, env.SharedConfigProfile, "default")
}

// mfaError is a code of an MFA device that could not be had from
// Settings.MFACode.
type mfaError struct {
	serial string
	err    error
}

func (e *mfaError) Error() string {
	msg := "the MFA code for " + e.serial + " could not be read: " + e.err.Error()
	if errors.Is(e.err, ErrMFANoAnswer) {
		msg += "; a job that runs unattended, with a terminal that nobody is at, should " + noCodeNeeded
	}
	return msg
}
func (e *mfaError) Unwrap() error { return e.err }

// profileOf returns the shared-config profile the configuration was loaded
// from, or "" when none was (environment credentials, say).
func profileOf(cfg aws.Config) string {
	for _, src := range cfg.ConfigSources {
		if sc, ok := src.(config.SharedConfig); ok && sc.Profile != "" {
			return sc.Profile
		}
	}
	return ""
}

// fromProfile reports whether a credential chain of sources takes its
// credentials from a profile: not when the environment gives them (keys,
// or a web identity's AWS_ROLE_ARN), nor the container endpoint or the
// instance metadata service alone, though the SDK loads the default
// profile all the same.
func fromProfile(sources []aws.CredentialSource) bool {
	for _, s := range sources {
		switch s {
		case aws.CredentialSourceEnvVars, aws.CredentialSourceEnvVarsSTSWebIDToken, aws.CredentialSourceSTSAssumeRoleWebID,
			aws.CredentialSourceHTTP, aws.CredentialSourceIMDS:
		default:
			return true
		}
	}
	return false
}

// tokenFilesOf returns the web identity token files that the environment
// and the profile of cfg name.
func tokenFilesOf(cfg aws.Config) tokenFiles {
	var t tokenFiles
	for _, src := range cfg.ConfigSources {
		switch src := src.(type) {
		case config.EnvConfig:
			t.env = src.WebIdentityTokenFilePath
		case config.SharedConfig:
			t.profile = src.WebIdentityTokenFile
		}
	}
	return t
}

// searchOf returns where the default credential chain of cfg looks before
// the instance metadata service, as the SDK's config loader does.
func searchOf(cfg aws.Config) search {
	l := search{env: true, profile: "default", imds: true}
	for _, src := range cfg.ConfigSources {
		switch src := src.(type) {
		case config.LoadOptions:
			if src.SharedConfigProfile != "" {
				// A profile named in the settings comes before the
				// environment's keys, which are not looked at.
				l.profile, l.named, l.env = src.SharedConfigProfile, true, false
			}
		case config.EnvConfig:
			if src.SharedConfigProfile != "" && !l.named {
				l.profile, l.named = src.SharedConfigProfile, true
			}
			l.imds = src.EC2IMDSClientEnableState != imds.ClientDisabled
		case config.SharedConfig:
			l.sso = src.SSOSessionName != "" || src.SSOStartURL != "" || src.SSOAccountID != "" || src.SSORoleName != "" || src.SSORegion != ""
		}
	}
	l.files = filesRead()
	return l
}

// regionConfigured reports whether the settings, the environment or the
// profile named the region of cfg, rather than the default region.
func regionConfigured(cfg aws.Config) bool {
	for _, src := range cfg.ConfigSources {
		switch src := src.(type) {
		case config.LoadOptions:
			if src.Region != "" {
				return true
			}
		case config.EnvConfig:
			if src.Region != "" {
				return true
			}
		case config.SharedConfig:
			if src.Region != "" {
				return true
			}
		}
	}
	return false
}

// Region returns the region from the settings or the configuration; "" when
// neither names one.
func (c *Conn) Region() string { return c.cfg.Region }

// RegionSource names the setting of the AWS configuration that Region comes
// from: AWS_REGION, AWS_DEFAULT_REGION or "the region of profile NAME";
// "" when the Region setting gives it, or nothing does.
func (c *Conn) RegionSource() string {
	if c.s.Region != "" || c.cfg.Region == "" {
		return ""
	}
	// The SDK's order: the environment, then the profile.
	for _, src := range c.cfg.ConfigSources {
		switch src := src.(type) {
		case config.EnvConfig:
			if src.Region == "" {
				continue
			}
			if os.Getenv("AWS_REGION") == src.Region {
				return "AWS_REGION"
			}
			return "AWS_DEFAULT_REGION"
		case config.SharedConfig:
			if src.Region != "" {
				return "the region of profile " + src.Profile
			}
		}
	}
	return ""
}

// HomeRegion returns the region of the calls that belong to no one region
// (STS, Organizations, EC2's DescribeRegions): Region, else the settings'
// HomeRegion; "" when neither names one.
func (c *Conn) HomeRegion() string { return c.home }

// RegionConfigured reports whether the home region is the configured
// region (--region, AWS_REGION, the profile's), not Settings.HomeRegion,
// the run's choice.
func (c *Conn) RegionConfigured() bool { return c.cfg.Region != "" }

// ClockSkew returns how far AWS's clock is ahead of this machine's
// (behind, if negative), as the last answer of any call showed it by its
// Date, or 0 when within a few seconds or nothing answered.
func (c *Conn) ClockSkew() time.Duration { return c.skew.get() }

// Config returns the loaded configuration, for clients of other services.
func (c *Conn) Config() aws.Config { return c.cfg }

// CheckCredentials asks the credential chain for credentials once, so that
// a run without usable credentials stops before its first call. The error is
// an *audit.CredentialsError (or ctx's).
func (c *Conn) CheckCredentials(ctx context.Context) error {
	if c.cfg.Credentials == nil {
		return &audit.CredentialsError{Kind: "no credentials found"}
	}
	_, err := c.cfg.Credentials.Retrieve(ctx)
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// SSM returns the SSM client for a region.
func (c *Conn) SSM(region string) (*ssm.Client, error) {
	client := ssm.NewFromConfig(c.cfg, c.ssmEndpoint(region), func(o *ssm.Options) {
		GivenEndpointWins(o.BaseEndpoint, &o.EndpointOptions.UseFIPSEndpoint, &o.EndpointOptions.UseDualStackEndpoint)
	})
	return client, c.checkClient("SSM", client.Options().BaseEndpoint)
}

// ssmEndpoint sets an SSM client's region, and its endpoint when the
// EndpointURL setting gives one (else the configuration's, or the SDK's).
func (c *Conn) ssmEndpoint(region string) func(*ssm.Options) {
	return func(o *ssm.Options) {
		o.Region = region
		if c.s.EndpointURL != "" {
			o.BaseEndpoint = aws.String(c.s.EndpointURL)
		}
	}
}

// CheckEndpointsOf checks the endpoint that the configuration gives each of
// the services named by their SDK IDs ("STS", "S3", "SESv2"), as their
// clients would find it (see configuredEndpoint), so that a URL that
// CheckEndpoint refuses (a login passed as a host or port, plain http to
// another machine) stops the run before any call, as SSM's does, and is
// not shown as the host that could not be reached. Only the services a
// run will call are named: another tool's endpoint in the environment is
// none of this run's business. The error is a *ConfigError.
func (c *Conn) CheckEndpointsOf(sdkIDs ...string) error {
	for _, id := range sdkIDs {
		raw, setting := c.configuredEndpoint(id)
		if raw == "" {
			continue
		}
		if err := CheckEndpoint(raw, c.s.AllowInsecure); err != nil {
			return &ConfigError{"endpoint", fmt.Errorf("%s's endpoint: %s: %w", id, setting, err)}
		}
	}
	return nil
}

// EndpointSource names the setting of the AWS configuration that gives the
// service sdkID ("SSM", "STS") its endpoint, as configuredEndpoint does;
// "" when none does. The EndpointURL setting, which overrides it for SSM,
// is the caller's to name.
func (c *Conn) EndpointSource(sdkID string) string {
	_, setting := c.configuredEndpoint(sdkID)
	return setting
}

// configuredEndpoint returns the endpoint that the configuration gives the
// service sdkID, as its client finds it, and names the setting that gives
// it: AWS_ENDPOINT_URL_<SERVICE>, "the sts endpoint_url of [services
// NAME] (profile P)", AWS_ENDPOINT_URL or "the endpoint_url of profile P";
// "", "" when none does.
//
// The order is the SDK's (each service's resolveBaseEndpoint): none at all
// when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS or the profile's
// ignore_configured_endpoint_urls says so (the first that says either
// way); else, when AWS_ENDPOINT_URL is in the environment (even empty)
// and AWS_ENDPOINT_URL_<SERVICE> is not, the global endpoint alone;
// else AWS_ENDPOINT_URL_<SERVICE>, then the profile's services section,
// then the global endpoint: AWS_ENDPOINT_URL if not empty, then the
// profile's endpoint_url.
func (c *Conn) configuredEndpoint(sdkID string) (raw, setting string) {
	if c.ignoresConfiguredEndpoints() {
		return "", ""
	}
	ctx := context.Background()
	own := "AWS_ENDPOINT_URL_" + strings.ToUpper(strings.ReplaceAll(sdkID, " ", "_"))
	_, global := os.LookupEnv("AWS_ENDPOINT_URL")
	_, service := os.LookupEnv(own)
	if !global || service {
		for _, src := range c.cfg.ConfigSources {
			switch src := src.(type) {
			case config.EnvConfig:
				if v, found, _ := src.GetServiceBaseEndpoint(ctx, sdkID); found {
					return v, own
				}
			case config.SharedConfig:
				if v, found, _ := src.GetServiceBaseEndpoint(ctx, sdkID); found {
					return v, fmt.Sprintf("the %s endpoint_url of [services %s] (profile %s)",
						strings.ToLower(strings.ReplaceAll(sdkID, " ", "_")), src.ServicesSectionName, src.Profile)
				}
			}
		}
	}
	for _, src := range c.cfg.ConfigSources {
		switch src := src.(type) {
		case config.EnvConfig:
			if src.BaseEndpoint != "" {
				return src.BaseEndpoint, "AWS_ENDPOINT_URL"
			}
		case config.SharedConfig:
			if src.BaseEndpoint != "" {
				return src.BaseEndpoint, "the endpoint_url of profile " + src.Profile
			}
		}
	}
	return "", ""
}

// ignoresConfiguredEndpoints reports whether the configuration turns the
// configured endpoints off: the first source that says either way
// decides, as for the SDK (the environment before the profile).
func (c *Conn) ignoresConfiguredEndpoints() bool {
	type ignoring interface {
		GetIgnoreConfiguredEndpoints(ctx context.Context) (bool, bool, error)
	}
	for _, src := range c.cfg.ConfigSources {
		if ig, ok := src.(ignoring); ok {
			if v, found, _ := ig.GetIgnoreConfiguredEndpoints(context.Background()); found {
				return v
			}
		}
	}
	return false
}

// GivenEndpointWins leaves the FIPS and dual-stack settings aside for a
// client whose endpoint is given (a flag, AWS_ENDPOINT_URL(_SERVICE), a
// profile's endpoint_url), as the AWS CLI does: botocore resolves neither
// variant for a given endpoint, where the Go SDK's endpoint rules refuse
// the combination and no call could be sent. Call it in a client's options
// function once BaseEndpoint is final.
func GivenEndpointWins(base *string, fips *aws.FIPSEndpointState, dual *aws.DualStackEndpointState) {
	if base == nil {
		return
	}
	*fips = aws.FIPSEndpointStateUnset
	*dual = aws.DualStackEndpointStateUnset
}

// SSMVariants names the variants of the region's own endpoint that SSM's
// client in region calls, as the configuration asks for them
// (AWS_USE_FIPS_ENDPOINT, use_fips_endpoint, and their dual-stack
// counterparts): "FIPS", "dual-stack", "FIPS, dual-stack", or "" for the
// plain endpoint and for a given one, which leaves them aside
// (GivenEndpointWins).
func (c *Conn) SSMVariants(region string) string {
	given, fips, dual := c.ssmVariants(region)
	var names []string
	if fips && !given {
		names = append(names, "FIPS")
	}
	if dual && !given {
		names = append(names, "dual-stack")
	}
	return strings.Join(names, ", ")
}

// ssmVariants says whether SSM's endpoint in region is given, and whether
// the configuration asks for its FIPS and its dual-stack variants.
func (c *Conn) ssmVariants(region string) (given, fips, dual bool) {
	ssm.NewFromConfig(c.cfg, c.ssmEndpoint(region), func(o *ssm.Options) {
		given = o.BaseEndpoint != nil
		fips = o.EndpointOptions.UseFIPSEndpoint == aws.FIPSEndpointStateEnabled
		dual = o.EndpointOptions.UseDualStackEndpoint == aws.DualStackEndpointStateEnabled
	})
	return given, fips, dual
}

// VariantsLeftAside names the settings (AWS_USE_FIPS_ENDPOINT,
// AWS_USE_DUALSTACK_ENDPOINT) that SSM's client in region leaves aside
// because its endpoint is given (GivenEndpointWins), so that a run can say
// that the endpoint is used as it is.
func (c *Conn) VariantsLeftAside(region string) []string {
	given, fips, dual := c.ssmVariants(region)
	var names []string
	if fips && given {
		names = append(names, "AWS_USE_FIPS_ENDPOINT")
	}
	if dual && given {
		names = append(names, "AWS_USE_DUALSTACK_ENDPOINT")
	}
	return names
}

// CheckSSMEndpoint checks the endpoint that SSM calls in region would go to,
// however it was configured: the EndpointURL setting, AWS_ENDPOINT_URL,
// AWS_ENDPOINT_URL_SSM, or a profile's endpoint_url or services section. It
// returns a *ConfigError for plain http to another machine (unless
// AllowInsecure), for a URL with a user name or password, and, wrapping an
// *audit.EndpointRulesError, for a configuration the SDK's endpoint rules
// refuse (FIPS or dual-stack with a custom endpoint), which no call could
// be sent with.
func (c *Conn) CheckSSMEndpoint(region string) error {
	client, err := c.SSM(region)
	if err != nil {
		return err
	}
	o := client.Options()
	if o.EndpointResolverV2 == nil {
		return nil
	}
	// The parameters the SDK binds for each call.
	_, err = o.EndpointResolverV2.ResolveEndpoint(context.Background(), ssm.EndpointParameters{
		Region:       aws.String(region),
		UseFIPS:      aws.Bool(o.EndpointOptions.UseFIPSEndpoint == aws.FIPSEndpointStateEnabled),
		UseDualStack: aws.Bool(o.EndpointOptions.UseDualStackEndpoint == aws.DualStackEndpointStateEnabled),
		Endpoint:     o.BaseEndpoint,
	})
	if err != nil {
		return &ConfigError{"endpoint", &audit.EndpointRulesError{Err: err}}
	}
	return nil
}

// checkClient checks the endpoint base of a client of the service sdkID,
// and names in its error the setting of the configuration that gave it,
// if one did.
func (c *Conn) checkClient(sdkID string, base *string) error {
	if base == nil {
		return nil // the SDK's own https endpoint for the region
	}
	if err := CheckEndpoint(*base, c.s.AllowInsecure); err != nil {
		if raw, setting := c.configuredEndpoint(sdkID); setting != "" && raw == *base {
			// Not the EndpointURL setting's, which Load checked.
			err = fmt.Errorf("%s: %w", setting, err)
		}
		return &ConfigError{"endpoint", err}
	}
	return nil
}

// ErrInsecure is wrapped by CheckEndpoint's error for plain http to
// another machine, the one case that allowing insecure endpoints mends.
var ErrInsecure = errors.New("insecure endpoint")

type insecureError string

func (e insecureError) Error() string        { return string(e) }
func (e insecureError) Is(target error) bool { return target == ErrInsecure }

// CheckEndpoint refuses an endpoint that would send signed requests across a
// network in clear (http:// is fine on this machine only, unless
// allowInsecure), and one with a user name or password in it, or a query or
// a fragment (a token such as X-Amz-Security-Token), which would end up in
// logs, the record and the reports. A login is judged on raw, not on what
// url.Parse makes of it: a password with "#", "/" or "?" in it, or a user
// name with "/", parses as a host, a port or a path, with no user at all.
// An endpoint has no use for "@", so any is refused. Its errors never
// repeat a password or a query: they show the URL redacted (RedactURL), or
// its scheme and host.
func CheckEndpoint(raw string, allowInsecure bool) error {
	if strings.Contains(raw, "@") {
		return fmt.Errorf("%q has a user name or password in it: endpoints take none (credentials come from the AWS configuration)", RedactURL(raw))
	}
	if strings.ContainsAny(raw, "?#") {
		return fmt.Errorf("%q has a query or a fragment: endpoints take neither (a token in one would be recorded with the URL)", RedactURL(raw))
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not a URL such as https://ssm.eu-west-1.amazonaws.com", RedactURL(raw))
	}
	shown := u.Scheme + "://" + u.Host
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if allowInsecure || IsLoopback(u.Hostname()) {
			return nil
		}
		return insecureError(fmt.Sprintf("%s is plain http to another machine: signed requests would cross the network in clear; use https, or allow it explicitly", shown))
	}
	return fmt.Errorf("%q: want an http or https URL", RedactURL(raw))
}

// RedactURL hides whatever may be a secret in s, a URL that may not parse:
// everything between the scheme and the last "@" (a password may hold "@",
// "/", "?" or "#", which url.Parse then reads as a host, a port or a path,
// and quotes in its errors), and any query or fragment after it.
func RedactURL(s string) string {
	if i := strings.LastIndex(s, "@"); i >= 0 {
		if j := strings.Index(s, "://"); j >= 0 && j < i {
			s = s[:j+3] + "***" + s[i:]
		} else {
			s = "***" + s[i:]
		}
	}
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i+1] + "***"
	}
	return s
}

// IsLoopback reports whether host names this machine.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// NewRetryer returns the SDK retryer an audit wants, for
// config.WithRetryer or aws.Config.Retryer: standard mode (exponential
// backoff with jitter, capped at 20 s, on throttles, 5xx and dropped
// connections) with maxAttempts attempts per call, and no retry quota. The
// default quota runs dry when many workers share one client under
// throttling, and then fails calls that a retry would have saved
// (aws-sdk-go-v2 issue 1665); the auditor's limiter paces the calls instead.
//
// It also retries an answer that could not be read: a body cut short by a
// dropped connection, or one that is not the JSON SSM sends (a proxy's error
// page). The SDK leaves those to the caller, since for some operations a
// repeat is not safe; the auditor's calls only read. A TLS handshake that
// failed on the server's certificate is retried as the SDK retries any
// failed connection: behind a load balancer or a proxy pool, one node with
// a wrong certificate fails some handshakes and not others.
func NewRetryer(maxAttempts int) func() aws.Retryer {
	return func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = maxAttempts
			o.RateLimiter = ratelimit.None
			o.Retryables = append(slices.Clone(o.Retryables), retry.IsErrorRetryableFunc(unreadableAnswer), retry.IsErrorRetryableFunc(clockOff))
		})
	}
}

// CertificateHint says what to check when the TLS handshake with an
// endpoint failed on its certificate (see audit.CertificateProblem):
// AWS_CA_BUNDLE for a CA not trusted here; for a certificate of another
// host, source, the setting that set the endpoint ("" for the region's
// own, or when not known), or what answers there; the clock for an
// expired one.
func CertificateHint(p audit.CertificateProblem, source string) string {
	switch p {
	case audit.CertificateUntrusted:
		return "set AWS_CA_BUNDLE or the profile's ca_bundle to the CA that signs it (a TLS-inspecting proxy's)"
	case audit.CertificateOtherHost:
		if source != "" {
			return "check " + source + ", which set this endpoint: its host must be one the certificate is for"
		}
		return "check what answers for that host: a TLS-inspecting proxy, or a name that resolves to another server"
	case audit.CertificateExpired:
		return "check this machine's clock, then the certificate of what answers there (a TLS-inspecting proxy's)"
	}
	return "check the certificate of what answers there (a TLS-inspecting proxy's), and the CA that AWS_CA_BUNDLE or the profile's ca_bundle names"
}

// ProxyCertificateHint is CertificateHint for the certificate of an
// https:// proxy (audit.UnreachableError.ThroughProxy), which proxyVar
// (HTTPS_PROXY, HTTP_PROXY) names. net/http verifies the proxy with the
// roots it verifies endpoints with, so AWS_CA_BUNDLE and ca_bundle serve
// for the proxy's CA too.
func ProxyCertificateHint(p audit.CertificateProblem, proxyVar string) string {
	switch p {
	case audit.CertificateUntrusted:
		return "set AWS_CA_BUNDLE or the profile's ca_bundle to the CA that signs the proxy's certificate"
	case audit.CertificateOtherHost:
		return "check " + proxyVar + ", which names the proxy: its host must be one the proxy's certificate is for"
	case audit.CertificateExpired:
		return "check this machine's clock, then the proxy's certificate"
	}
	return "check the proxy's certificate, and the CA that AWS_CA_BUNDLE or the profile's ca_bundle names"
}

// clockOff retries a request refused as signed too far from the
// service's time when the answer's Date says the clock is to blame
// (audit.ClockOff). The SDK does so itself for the codes of its Clock
// Skew Correction, and signs each retry at its own time plus the skew
// the last answer showed; EC2's RequestExpired is not among those codes,
// so DescribeTags and DescribeRegions would fail on a clock that SSM's
// and STS's calls are corrected for.
func clockOff(err error) aws.Ternary {
	if _, ok := audit.ClockOff(err); ok {
		return aws.TrueTernary
	}
	return aws.UnknownTernary
}

func unreadableAnswer(err error) aws.Ternary {
	var de *smithy.DeserializationError
	var ee *EndpointError
	switch {
	case errors.As(err, &ee):
		return aws.FalseTernary
	case errors.As(err, &de), errors.Is(err, io.ErrUnexpectedEOF):
		return aws.TrueTernary
	}
	return aws.UnknownTernary
}

// httpClient returns the HTTP client an audit wants, built on base, the
// client config.LoadDefaultConfig made (an *awshttp.BuildableClient that
// carries the proxy and any custom CA bundle; nil means the SDK's defaults):
// idle connections for the workers, a timeout per attempt, request bodies
// buffered in memory (see httpbuf), and every request's URL checked (see
// EndpointError). A base of another type is used as it is, behind the same
// check.
func (c *Conn) httpClient(base aws.HTTPClient) aws.HTTPClient {
	if base == nil {
		base = awshttp.NewBuildableClient()
	}
	bc, ok := base.(*awshttp.BuildableClient)
	if !ok {
		return &http.Client{Transport: guard{capped{doer{base}}, c.s.AllowInsecure}, CheckRedirect: noRedirect}
	}
	conns := c.s.Conns
	tr := bc.WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConnsPerHost = max(conns*2, t.MaxIdleConnsPerHost)
		t.MaxIdleConns = max(t.MaxIdleConns, conns*4)
		t.OnProxyConnectResponse = proxyRefusal
	}).GetTransport()
	return &http.Client{Transport: guard{capped{httpbuf.Transport(tr)}, c.s.AllowInsecure}, Timeout: c.s.CallTimeout, CheckRedirect: noRedirect}
}

// capped is a RoundTripper whose answers' bodies read at most
// audit.MaxAnswer bytes, then fail with an *audit.AnswerTooLargeError:
// the SDK reads a body whole, and an endpoint that is not AWS's could send
// it without end.
type capped struct{ base http.RoundTripper }

func (c capped) RoundTrip(r *http.Request) (*http.Response, error) {
	return capBody(c.base.RoundTrip(r))
}

// capBody puts resp's body behind the bound of capped.
func capBody(resp *http.Response, err error) (*http.Response, error) {
	if resp != nil && resp.Body != nil {
		resp.Body = &cappedBody{ReadCloser: resp.Body, left: audit.MaxAnswer}
	}
	return resp, err
}

// cappedClient is an HTTP client whose answers' bodies are bounded as
// capped's are. The credential chain's clients (STS's for a role or a web
// identity, IAM Identity Center's, a container's endpoint) are built as
// the configuration loads, on the loader's client, before httpClient wraps
// it: each is given this one around the client it has, so that its proxy,
// CA bundle and redirects stay as they were, and a body without end is
// not read whole into memory.
type cappedClient struct{ base aws.HTTPClient }

func (c cappedClient) Do(r *http.Request) (*http.Response, error) { return capBody(c.base.Do(r)) }

// capHTTP returns c with its answers bounded (cappedClient); nil for nil.
func capHTTP(c aws.HTTPClient) aws.HTTPClient {
	if _, done := c.(cappedClient); done || c == nil {
		return c
	}
	return cappedClient{c}
}

// cappedSSO is IAM Identity Center's client, its answers bounded.
type cappedSSO struct {
	inner ssocreds.GetRoleCredentialsAPIClient
}

func (c cappedSSO) GetRoleCredentials(ctx context.Context, in *sso.GetRoleCredentialsInput, optFns ...func(*sso.Options)) (*sso.GetRoleCredentialsOutput, error) {
	return c.inner.GetRoleCredentials(ctx, in, append(optFns, func(o *sso.Options) { o.HTTPClient = capHTTP(o.HTTPClient) })...)
}

// cappedOIDC is the client that refreshes an IAM Identity Center token,
// its answers bounded.
type cappedOIDC struct{ inner ssocreds.CreateTokenAPIClient }

func (c cappedOIDC) CreateToken(ctx context.Context, in *ssooidc.CreateTokenInput, optFns ...func(*ssooidc.Options)) (*ssooidc.CreateTokenOutput, error) {
	return c.inner.CreateToken(ctx, in, append(optFns, func(o *ssooidc.Options) { o.HTTPClient = capHTTP(o.HTTPClient) })...)
}

// cappedBody is a body that fails once more than left bytes were read,
// and then ends: the SDK drains a body it closes, and told the same error
// again as a warning of a connection it could not reuse. The bytes not
// read keep the connection from being reused, as they should.
type cappedBody struct {
	io.ReadCloser
	left int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, io.EOF
	}
	// One byte over the bound tells a body of exactly MaxAnswer from a
	// longer one.
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n, &audit.AnswerTooLargeError{Limit: audit.MaxAnswer}
	}
	return n, err
}

// noRedirect is http.Client's CheckRedirect: a redirect is answered to the
// SDK as it came, and not followed. AWS never redirects an API call (S3's
// redirects are errors that name the region), as botocore and the AWS CLI
// follow none; net/http would send the call on to wherever a captive
// portal or a hostile endpoint points, with its signature and session
// token (X-Amz-Security-Token is no header it keeps to the first host).
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// proxyRefusal is http.Transport's OnProxyConnectResponse: a proxy's
// refusal to open the tunnel becomes an *audit.ProxyRefusedError, named by
// the proxy's host and port (not its URL, which may hold a login), so that
// it is told as the cause and not as an endpoint that did not answer.
func proxyRefusal(_ context.Context, proxy *url.URL, _ *http.Request, resp *http.Response) error {
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	return &audit.ProxyRefusedError{Proxy: proxy.Host, Status: resp.StatusCode}
}

// doer adapts an aws.HTTPClient to a RoundTripper.
type doer struct{ c aws.HTTPClient }

func (d doer) RoundTrip(r *http.Request) (*http.Response, error) { return d.c.Do(r) }

// EndpointError is a request refused before it left: plain http to another
// machine, or a URL with a user name or password. It is fatal to an audit
// and never retried.
type EndpointError struct{ Err error }

func (e *EndpointError) Error() string        { return e.Err.Error() }
func (e *EndpointError) Unwrap() error        { return e.Err }
func (e *EndpointError) RetryableError() bool { return false }

// Fatal tells audit.Run that no call can work while this stands.
func (e *EndpointError) Fatal() bool { return true }

// guard checks the URL of every request, whatever configured it (a flag, the
// environment, a profile, an SDK default for another service): the last
// line of defence behind CheckSSMEndpoint.
type guard struct {
	base          http.RoundTripper
	allowInsecure bool
}

func (g guard) RoundTrip(r *http.Request) (*http.Response, error) {
	u := r.URL
	if u.User != nil {
		return nil, &EndpointError{fmt.Errorf("refusing to send a request to %s: a user name or password in an endpoint URL", u.Redacted())}
	}
	if strings.EqualFold(u.Scheme, "http") && !g.allowInsecure && !IsLoopback(u.Hostname()) {
		return nil, &EndpointError{fmt.Errorf("refusing to send a signed request in clear to %s://%s: use https, or allow it explicitly", u.Scheme, u.Host)}
	}
	return g.base.RoundTrip(r)
}

// globalEndpointSTS is the credential chain's STS client, on the global
// endpoint of the loaded configuration (nil: none) when nothing named
// STS's own: AWS_ENDPOINT_URL_STS, or a profile's services section, which
// the SDK's client has already.
type globalEndpointSTS struct {
	role     stscreds.AssumeRoleAPIClient
	identity stscreds.AssumeRoleWithWebIdentityAPIClient
	global   *atomic.Pointer[string]
	// secrets keep the credentials that sign the AssumeRole (a
	// source_profile's), which STS's refusal may repeat.
	secrets *audit.Secrets
}

func (g globalEndpointSTS) endpoint(o *sts.Options) {
	o.HTTPClient = capHTTP(o.HTTPClient)
	if p := g.global.Load(); p != nil && o.BaseEndpoint == nil {
		o.BaseEndpoint = aws.String(*p)
	}
}

func (g globalEndpointSTS) record(o *sts.Options) {
	if o.Credentials != nil {
		o.Credentials = recorded{o.Credentials, g.secrets}
	}
}

func (g globalEndpointSTS) AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	out, err := g.role.AssumeRole(ctx, in, append(optFns, g.endpoint, g.record)...)
	if err != nil {
		return out, &roleError{arn: aws.ToString(in.RoleArn), err: err}
	}
	return out, nil
}

func (g globalEndpointSTS) AssumeRoleWithWebIdentity(ctx context.Context, in *sts.AssumeRoleWithWebIdentityInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleWithWebIdentityOutput, error) {
	out, err := g.identity.AssumeRoleWithWebIdentity(ctx, in, append(optFns, g.endpoint)...)
	if err != nil {
		return out, &roleError{arn: aws.ToString(in.RoleArn), webIdentity: true, err: err}
	}
	return out, nil
}

// roleError is a failure to assume a role of the credential chain, which
// names the role: the SDK's error does not, and in a chain of roles (a
// role_arn profile whose source_profile has one too) it may be either.
type roleError struct {
	arn         string
	webIdentity bool // AssumeRoleWithWebIdentity, not AssumeRole
	err         error
}

func (e *roleError) Error() string { return "assuming role " + e.arn + ": " + e.err.Error() }
func (e *roleError) Unwrap() error { return e.err }

// sharedFile is a shared configuration file: the one that its variable
// names, else the one of that name in the home directory's .aws.
type sharedFile struct{ env, name string }

var (
	configFile      = sharedFile{"AWS_CONFIG_FILE", "config"}
	credentialsFile = sharedFile{"AWS_SHARED_CREDENTIALS_FILE", "credentials"}
)

// path returns the file, with a leading "~" of its variable's value made
// the home directory, as the aws CLI reads it (the SDK reads a "~" as a
// directory of that name, its issue 3330, and in a systemd unit, a
// Dockerfile or a pod spec no shell expands it); "" when the file is in
// the home directory and none is found. The SDK would then read
// .aws/config and .aws/credentials of the working directory, which may be
// one that anyone can write to (a shared temporary directory), and take
// credentials planted there.
func (f sharedFile) path() string {
	if v := os.Getenv(f.env); v != "" {
		p, ok := homeExpanded(v)
		if !ok {
			return ""
		}
		return p
	}
	home := userHome()
	if home == "" {
		return ""
	}
	return filepath.Join(home, ".aws", f.name)
}

// list returns the file to read as the SDK takes it: none is an empty
// list, not nil, which would be the SDK's default.
func (f sharedFile) list() []string {
	if p := f.path(); p != "" {
		return []string{p}
	}
	return []string{}
}

// noHome says that no home directory was found, and what to set instead.
const noHome = "no home directory was found (HOME is not set, nor has the user database one for this user): " +
	"set HOME, or AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE"

// filesRead names the shared configuration files read, each one that is
// not there said so (a container's mount missing, a typo): "a, b (no such
// file)"; or that there was no home directory to find one in.
func filesRead() []string {
	var out []string
	for _, f := range []sharedFile{configFile, credentialsFile} {
		n := f.path()
		if n == "" {
			out = append(out, "no "+f.name+" file: no home directory was found: set HOME or "+f.env)
			continue
		}
		if _, err := os.Stat(n); errors.Is(err, fs.ErrNotExist) {
			n += " (no such file)"
		}
		out = append(out, n)
	}
	if configFile.path() == "" && credentialsFile.path() == "" {
		return []string{"none read: " + noHome}
	}
	return out
}

// homeExpanded returns path with a leading "~", alone or before a
// separator, made the home directory, as the aws CLI reads
// AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE; path as it is
// otherwise ("~user/..." included). ok is false when path starts with
// "~" and there is no home directory.
func homeExpanded(path string) (_ string, ok bool) {
	if path != "~" && !strings.HasPrefix(path, "~/") && !strings.HasPrefix(path, "~"+string(filepath.Separator)) {
		return path, true
	}
	home := userHome()
	if home == "" {
		return "", false
	}
	return filepath.Join(home, path[1:]), true
}

// userHome returns the home directory as the SDK finds it: HOME, else the
// user database's; "" when there is none.
func userHome() string {
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		return home
	}
	if u, err := currentUser(); err == nil {
		return u.HomeDir
	}
	return ""
}

// currentUser is user.Current, which a test replaces: the user database
// has an entry for whoever runs the tests.
var currentUser = user.Current

// unsetRefusedRetrySettings unsets AWS_RETRY_MODE and AWS_MAX_ATTEMPTS when
// the SDK would refuse their values and with them the whole configuration:
// the auditor retries with its own retryer and --max-attempts, and reads
// neither, but the SDK parses both first. "legacy", a mode the AWS CLI
// takes, is one it refuses. Values it reads are left for the processes
// the SDK may start (a profile's credential_process).
func unsetRefusedRetrySettings() {
	if v := os.Getenv("AWS_RETRY_MODE"); v != "" {
		if _, err := aws.ParseRetryMode(v); err != nil {
			os.Unsetenv("AWS_RETRY_MODE")
		}
	}
	if v := os.Getenv("AWS_MAX_ATTEMPTS"); v != "" {
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			os.Unsetenv("AWS_MAX_ATTEMPTS")
		}
	}
}
