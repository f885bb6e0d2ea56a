package awsconn

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/auditor-dev/auditor/audit"
)

// Roles say how to reach accounts other than the caller's: a role assumed
// in each. The zero value reaches none.
type Roles struct {
	// Name is the role's name in every account:
	// arn:<partition>:iam::<account>:role/<Name>.
	Name string
	// ARN is a role ARN with {account} in it, used instead of Name.
	ARN string
	// ExternalID is passed to AssumeRole when set.
	ExternalID string
	// SessionName names the sessions (default "auditor").
	SessionName string
	// Duration of each session (default: STS's, one hour), at most
	// MaxChainedDuration when the caller's credentials are a role's
	// session (see Conn.RoleDuration). Sessions are refreshed before they
	// expire.
	Duration time.Duration
}

// The session durations AssumeRole takes: MinRoleDuration to
// MaxRoleDuration (a role's own maximum may be lower, one hour unless
// raised), and at most MaxChainedDuration for a role assumed with a role's
// credentials (role chaining).
const (
	MinRoleDuration    = 15 * time.Minute
	MaxRoleDuration    = 12 * time.Hour
	MaxChainedDuration = time.Hour
)

// ValidSessionName returns "" when name is a role session name that STS
// takes (2 to 64 characters of [\w+=,.@-]), otherwise a short reason.
func ValidSessionName(name string) string {
	return stsValue(name, 64, "+=,.@-")
}

// ValidExternalID returns "" when id is an external ID that STS takes (2 to
// 1224 characters of [\w+=,.@:/-]), otherwise a short reason that does not
// repeat it.
func ValidExternalID(id string) string {
	return stsValue(id, 1224, "+=,.@:/-")
}

// stsValue checks v against STS's rule of 2 to most characters of \w (ASCII
// letters, digits, _) and extra. Its reason names one character of v at
// most.
func stsValue(v string, most int, extra string) string {
	want := fmt.Sprintf("want 2 to %d letters, digits and _%s", most, extra)
	if n := utf8.RuneCountInString(v); n < 2 || n > most {
		return fmt.Sprintf("%d character%s; %s", n, map[bool]string{true: "", false: "s"}[n == 1], want)
	}
	for i, c := range []rune(v) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || strings.ContainsRune(extra, c)) {
			return fmt.Sprintf("%q (character %d) is not allowed; %s", string(c), i+1, want)
		}
	}
	return ""
}

// Set reports whether a role is configured.
func (r Roles) Set() bool { return r.Name != "" || r.ARN != "" }

// Identity is who the credentials belong to (sts:GetCallerIdentity).
type Identity struct {
	Account, ARN, UserID string
}

// AssumedRole reports whether the identity is a role's session
// (arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/SESSION), as under IRSA, an
// ECS task or Batch job role, or SSO: a role assumed with its credentials is
// role chaining, limited to MaxChainedDuration.
func (id Identity) AssumedRole() bool {
	p := strings.SplitN(id.ARN, ":", 6)
	return len(p) == 6 && p[0] == "arn" && p[2] == "sts" && strings.HasPrefix(p[5], "assumed-role/")
}

// partitionRegions are the partitions this program knows, each with the
// region its global services (Organizations, STS's global endpoint) are
// reached in, as the SDK's endpoints for Organizations name them.
var partitionRegions = map[string]string{
	"aws": "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1",
	"aws-eusc": "eusc-de-east-1", "aws-iso": "us-iso-east-1", "aws-iso-b": "us-isob-east-1",
	"aws-iso-e": "eu-isoe-west-1", "aws-iso-f": "us-isof-south-1",
}

// PartitionRegion returns a partition's region from which its global
// services (Organizations, STS's global endpoint) are reached: us-east-1
// for aws, us-gov-west-1 for aws-us-gov, cn-north-1 for aws-cn, and one
// for each of aws-eusc and the ISO partitions; "" for another.
func PartitionRegion(partition string) string {
	return partitionRegions[partition]
}

// Partitions returns the partitions PartitionRegion knows, sorted.
func Partitions() []string {
	return slices.Sorted(maps.Keys(partitionRegions))
}

// RegionPartition returns the partition of a region, told by its prefix as
// the SDK's partitions.json tells it (each partition's regionRegex): cn-
// is aws-cn, us-gov- aws-us-gov, us-iso- aws-iso, us-isob- aws-iso-b,
// eu-isoe- aws-iso-e, us-isof- aws-iso-f, eusc- aws-eusc; any other is
// aws. One partition's credentials are refused in another's regions.
func RegionPartition(region string) string {
	for _, p := range [...]struct{ prefix, partition string }{
		{"cn-", "aws-cn"}, {"us-gov-", "aws-us-gov"}, {"us-iso-", "aws-iso"}, {"us-isob-", "aws-iso-b"},
		{"eu-isoe-", "aws-iso-e"}, {"us-isof-", "aws-iso-f"}, {"eusc-", "aws-eusc"},
	} {
		if strings.HasPrefix(region, p.prefix) {
			return p.partition
		}
	}
	return "aws"
}

// everyAccountHas are the aws partition's regions that every account has:
// those AWS opened before 20 March 2019. Each region opened since is
// disabled until an account enables it (an opt-in region), so the list
// does not grow.
var everyAccountHas = map[string]bool{
	"us-east-1": true, "us-east-2": true, "us-west-1": true, "us-west-2": true,
	"ca-central-1": true, "sa-east-1": true,
	"eu-west-1": true, "eu-west-2": true, "eu-west-3": true, "eu-central-1": true, "eu-north-1": true,
	"ap-south-1": true, "ap-northeast-1": true, "ap-northeast-2": true, "ap-northeast-3": true,
	"ap-southeast-1": true, "ap-southeast-2": true,
}

// EveryAccountHas reports whether every account of region's partition has
// region enabled: one of the aws partition's regions from before March
// 2019, or any region of another partition (aws-cn, aws-us-gov and the
// European Sovereign Cloud have no opt-in regions, and the ISO partitions
// are not known to).
func EveryAccountHas(region string) bool {
	if RegionPartition(region) != "aws" {
		return true
	}
	return everyAccountHas[region]
}

// everyAccountsRegion is where the calls made with a member account's
// credentials are tried again when the home region refuses them as a
// region the member has not enabled: the aws partition's first region,
// which every account has; "" when the home region is one every account
// has already, or is not of the aws partition.
func everyAccountsRegion(home string) string {
	if home == "" || EveryAccountHas(home) {
		return ""
	}
	return PartitionRegion("aws")
}

// regionRefused reports whether err is AWS's refusal of a call made in a
// region that the account whose credentials signed it (or, for
// sts:AssumeRole, the role's account) has not enabled: every credential
// is refused there, as unknown.
func regionRefused(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "RegionDisabledException", "AuthFailure", "UnrecognizedClientException", "InvalidClientTokenId", "OptInRequired":
		return true
	}
	return false
}

// Partition returns the ARN's partition (aws, aws-cn, aws-us-gov, ...).
func (id Identity) Partition() string {
	if p := strings.Split(id.ARN, ":"); len(p) > 2 && p[0] == "arn" {
		return p[1]
	}
	return "aws"
}

// ARNPartition returns the partition of arn (aws of arn:aws:iam::...), or
// "" when arn is not an ARN.
func ARNPartition(arn string) string {
	if p := strings.SplitN(arn, ":", 3); len(p) == 3 && p[0] == "arn" {
		return p[1]
	}
	return ""
}

// ForPartition returns, when r.ARN is an ARN of a partition other than
// partition, r.ARN in partition instead, and otherwise "". STS refuses a
// role of another partition than the caller's as it refuses a role that
// does not trust the caller (AccessDenied), so that a run with such an ARN
// fails every account with advice that cannot help. A partition that is
// not a partition's name (lower-case letters, digits and "-", as an
// emulator might answer otherwise) gives "": nothing is told from it.
func (r Roles) ForPartition(partition string) string {
	ours := ARNPartition(r.ARN)
	if ours == "" || ours == partition || partition == "" || strings.Trim(partition, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
		return ""
	}
	return "arn:" + partition + r.ARN[len("arn:")+len(ours):]
}

// Account is an AWS account to audit; Name is its name in the organisation
// when known.
type Account struct {
	ID, Name string
	// Escaped says that Name is not the name as the organisation gave it
	// but that name as audit.EscapeRefused writes it (see OrgAccounts).
	Escaped bool
}

// CallerIdentity asks STS whose credentials these are.
//
// It gives up after 20 seconds and three attempts: where STS cannot be
// reached (a network with an SSM endpoint and no STS one), a run that does
// not need the account goes on without it.
func (c *Conn) CallerIdentity(ctx context.Context) (Identity, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	client := sts.NewFromConfig(c.cfg, func(o *sts.Options) {
		o.Region = c.home
		o.Retryer = NewRetryer(min(3, c.s.MaxAttempts))()
		GivenEndpointWins(o.BaseEndpoint, &o.EndpointOptions.UseFIPSEndpoint, &o.EndpointOptions.UseDualStackEndpoint)
	})
	out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return Identity{}, fmt.Errorf("sts:GetCallerIdentity: %w", err)
	}
	id := Identity{Account: aws.ToString(out.Account), ARN: aws.ToString(out.Arn), UserID: aws.ToString(out.UserId)}
	c.mu.Lock()
	c.identity = id
	c.mu.Unlock()
	return id, nil
}

// STSSpeaksForSSM reports whether STS and SSM in region are called at one
// endpoint: both AWS's own, or one configured for both. Only then does
// STS's refusal of the credentials say that SSM refuses them: an SSM of its
// own (an emulator named by --endpoint-url) may take credentials that the
// real STS refuses.
func (c *Conn) STSSpeaksForSSM(region string) bool {
	s, err := c.SSM(region)
	if err != nil {
		return false
	}
	a, b := s.Options().BaseEndpoint, sts.NewFromConfig(c.cfg).Options().BaseEndpoint
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// OrgAccounts lists the ACTIVE accounts of the caller's organisation
// (organizations:ListAccounts, every page), sorted by ID: those whose State
// is ACTIVE, or, in an answer without State, whose Status is. It must be
// called with the credentials of the management account or a delegated
// administrator. An organisation that lists no ACTIVE account is an error
// wrapping ErrNoActiveAccount. An answer with an account ID that is not one
// (audit.ValidAccountID), of any state, is an error that quotes it, a
// *smithy.DeserializationError as for any answer that cannot be read: such
// an answer cannot be trusted, and its IDs would be printed, audited and
// written in the reports. A name is set by whoever may rename the account,
// and is not refused, as a tag's value is not: one that
// audit.ValidAccountName refuses (a terminal escape, a zero-width space, a
// bidi control) is written as audit.EscapeLabel writes it, and its Account
// is Escaped; one it takes is kept as it reads (audit.EscapeRefused), as a
// file of accounts keeps it, so that its account_name label is an older
// record's. Either is put in Unicode Normalization Form C first
// (audit.NFC), which changes no character a reader sees and is no escape.
func (c *Conn) OrgAccounts(ctx context.Context) ([]Account, error) {
	p := organizations.NewListAccountsPaginator(organizations.NewFromConfig(c.cfg, func(o *organizations.Options) {
		o.Region = c.home
		GivenEndpointWins(o.BaseEndpoint, &o.EndpointOptions.UseFIPSEndpoint, &o.EndpointOptions.UseDualStackEndpoint)
	}), &organizations.ListAccountsInput{})
	var out []Account
	others := map[string]int{} // the accounts left out, by state
	// The NextTokens given so far: one that comes again is a loop, which
	// would list the same accounts for ever (the paginator ends one that
	// repeats at once without a word, and never one that cycles).
	tokens := map[string]bool{}
	for pages := 1; p.HasMorePages(); pages++ {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("organizations:ListAccounts: %w", err)
		}
		if tok := aws.ToString(page.NextToken); tok != "" {
			if tokens[tok] {
				return nil, fmt.Errorf("organizations:ListAccounts: %w", &smithy.DeserializationError{
					Err: fmt.Errorf("a NextToken came again after %d pages: the listing would never end", pages)})
			}
			tokens[tok] = true
		}
		for _, a := range page.Accounts {
			if id := aws.ToString(a.Id); audit.ValidAccountID(id) != "" {
				return nil, fmt.Errorf("organizations:ListAccounts: %w", malformed("account ID", id, audit.ValidAccountID(id)))
			}
			if !active(a) {
				others[stateWord(a)]++
				continue
			}
			// In one Unicode form, as a list's labels and a tag's value:
			// renamed from a Mac, the name would be another account_name
			// than the same name typed elsewhere.
			given := audit.NFC(aws.ToString(a.Name))
			name := audit.EscapeRefused(given)
			out = append(out, Account{ID: aws.ToString(a.Id), Name: name, Escaped: name != given})
		}
	}
	if len(out) == 0 {
		n := 0
		var states []string
		for _, st := range slices.Sorted(maps.Keys(others)) {
			n += others[st]
			states = append(states, fmt.Sprintf("%s %d", st, others[st]))
		}
		if n == 0 {
			return nil, fmt.Errorf("organizations:ListAccounts listed no account: %w", ErrNoActiveAccount)
		}
		return nil, fmt.Errorf("organizations:ListAccounts listed %d account%s, none of them ACTIVE (%s): %w",
			n, map[bool]string{true: "", false: "s"}[n == 1], strings.Join(states, ", "), ErrNoActiveAccount)
	}
	slices.SortFunc(out, func(a, b Account) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// malformed is the error of an answer whose field (what) holds v, which is
// not one (why): the service answered, but not what it says it answers,
// and no part of the answer is used. v is quoted with its escapes: it is
// not to reach a terminal as it is.
func malformed(what, v, why string) error {
	return &smithy.DeserializationError{Err: fmt.Errorf("%s %q in the answer: %s", what, v, why)}
}

// ErrNoActiveAccount is wrapped by OrgAccounts' error when the organisation
// lists no ACTIVE account: there is nothing to audit, and the caller's own
// account, which the organisation would list, is no stand-in for it.
var ErrNoActiveAccount = errors.New("no ACTIVE account to audit")

// active reports whether an account of ListAccounts is ACTIVE. Its State
// says so: Organizations retired Status on September 9, 2026, and answers
// State alone since. Status is read only from an answer without State.
func active(a orgtypes.Account) bool {
	if a.State != "" {
		return a.State == orgtypes.AccountStateActive
	}
	return a.Status == orgtypes.AccountStatusActive
}

// stateWord names an account's state in a message: its State, or its Status
// when it has no State, as the service's enum has them (the text of an
// answer is not repeated as it is).
func stateWord(a orgtypes.Account) string {
	switch {
	case a.State == "" && a.Status == "":
		return "no State"
	case a.State == "" && slices.Contains(a.Status.Values(), a.Status):
		return "Status " + string(a.Status)
	case a.State == "":
		return "an unknown Status"
	case slices.Contains(a.State.Values(), a.State):
		return string(a.State)
	}
	return "an unknown State"
}

// EnabledRegions lists the regions enabled in an account (ec2:DescribeRegions
// with its credentials, in the home region), sorted. An answer with a region
// name that is not one (audit.ValidRegion) is an error that quotes it, a
// *smithy.DeserializationError.
func (c *Conn) EnabledRegions(ctx context.Context, account string) ([]string, error) {
	creds, err := c.credentials(account)
	if err != nil {
		return nil, err
	}
	describe := func(region string) (*ec2.DescribeRegionsOutput, error) {
		client := ec2.NewFromConfig(c.cfg, func(o *ec2.Options) {
			o.Region = region
			o.Credentials = creds
			GivenEndpointWins(o.BaseEndpoint, &o.EndpointOptions.UseFIPSEndpoint, &o.EndpointOptions.UseDualStackEndpoint)
		})
		return client.DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	}
	out, err := describe(c.home)
	if other := everyAccountsRegion(c.home); err != nil && other != "" && regionRefused(err) && ctx.Err() == nil {
		// An opt-in home region that this account has not enabled
		// refuses its credentials: asked where every account answers,
		// it says which regions it has. Tried in the home region first,
		// as a policy may deny every region but the ones in use.
		if o, err2 := describe(other); err2 == nil {
			out, err = o, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("ec2:DescribeRegions in %s: %w", account, err)
	}
	var regions []string
	for _, r := range out.Regions {
		if name := aws.ToString(r.RegionName); audit.ValidRegion(name) != "" {
			return nil, fmt.Errorf("ec2:DescribeRegions in %s: %w", account, malformed("region", name, audit.ValidRegion(name)))
		}
		if r.OptInStatus == nil || aws.ToString(r.OptInStatus) != "not-opted-in" {
			regions = append(regions, aws.ToString(r.RegionName))
		}
	}
	slices.Sort(regions)
	return regions, nil
}

// SSMIn returns the SSM client for an account and region: with the run's own
// credentials in the caller's account (or when the account is unknown), and
// with the configured role's elsewhere. An account that needs a role when
// none is configured is an error wrapping ErrNoRole.
func (c *Conn) SSMIn(account, region string) (*ssm.Client, error) {
	creds, err := c.credentials(account)
	if err != nil {
		return nil, err
	}
	client := ssm.NewFromConfig(c.cfg, c.ssmEndpoint(region), func(o *ssm.Options) {
		o.Credentials = creds
		GivenEndpointWins(o.BaseEndpoint, &o.EndpointOptions.UseFIPSEndpoint, &o.EndpointOptions.UseDualStackEndpoint)
	})
	return client, c.checkClient("SSM", client.Options().BaseEndpoint)
}

// EC2In returns the EC2 client for an account and region, with the
// credentials SSMIn's has. Its endpoint is EC2's own (AWS_ENDPOINT_URL_EC2,
// AWS_ENDPOINT_URL or a profile's), as --endpoint-url is SSM's only.
func (c *Conn) EC2In(account, region string) (*ec2.Client, error) {
	creds, err := c.credentials(account)
	if err != nil {
		return nil, err
	}
	client := ec2.NewFromConfig(c.cfg, func(o *ec2.Options) {
		o.Region = region
		o.Credentials = creds
		GivenEndpointWins(o.BaseEndpoint, &o.EndpointOptions.UseFIPSEndpoint, &o.EndpointOptions.UseDualStackEndpoint)
	})
	return client, c.checkClient("EC2", client.Options().BaseEndpoint)
}

// ErrNoRole is wrapped by SSMIn's error for an account other than the
// caller's when no role is configured.
var ErrNoRole = errors.New("no role to reach the account")

// RoleDuration returns how long the role sessions asked of STS last:
// Roles.Duration (0 for STS's default, an hour), but at most
// MaxChainedDuration when the caller's credentials are a role's session,
// since STS refuses longer ones then (role chaining). It knows the caller
// once CallerIdentity has answered.
func (c *Conn) RoleDuration() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.roleDuration()
}

func (c *Conn) roleDuration() time.Duration {
	d := c.s.Roles.Duration
	if c.identity.AssumedRole() {
		d = min(d, MaxChainedDuration)
	}
	return d
}

// NeedsRole reports whether auditing account needs a role: it is known, and
// not the caller's.
func (c *Conn) NeedsRole(account string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return account != "" && account != c.identity.Account
}

// PresumeCaller takes account as the caller's when STS has not said whose
// the credentials are (CallerIdentity failed): the run's own credentials
// then sign the calls in it, as in the caller's account, and NeedsRole is
// false for it. Once STS has answered it does nothing. What vouches for
// the account is the caller's to check (a --resume asks SSM about the
// instances its record audited).
func (c *Conn) PresumeCaller(account string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.identity.Account == "" {
		c.identity.Account = account
	}
}

// credentials returns the credentials for account, assuming the role once
// per account (the cache refreshes it before it expires).
func (c *Conn) credentials(account string) (aws.CredentialsProvider, error) {
	if !c.NeedsRole(account) {
		return c.cfg.Credentials, nil
	}
	if !c.s.Roles.Set() {
		return nil, fmt.Errorf("%w %s: pass --role-name", ErrNoRole, account)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.roles[account]; ok {
		return p, nil
	}
	arn := c.roleARN(account)
	r := c.s.Roles
	r.Duration = c.roleDuration()
	assume := func(region string) aws.CredentialsProvider {
		stsc := sts.NewFromConfig(c.cfg, func(o *sts.Options) {
			o.Region = region
			GivenEndpointWins(o.BaseEndpoint, &o.EndpointOptions.UseFIPSEndpoint, &o.EndpointOptions.UseDualStackEndpoint)
		})
		return stscreds.NewAssumeRoleProvider(stsc, arn, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = r.SessionName
			if o.RoleSessionName == "" {
				o.RoleSessionName = "auditor"
			}
			if r.ExternalID != "" {
				o.ExternalID = aws.String(r.ExternalID)
			}
			if r.Duration > 0 {
				o.Duration = r.Duration
			}
		})
	}
	provider := assume(c.home)
	if other := everyAccountsRegion(c.home); other != "" {
		provider = &elsewhere{home: provider, other: assume(other)}
	}
	p := &assumed{inner: renewing(provider, c.skew), account: account, arn: arn, secrets: c.secrets}
	if c.roles == nil {
		c.roles = map[string]aws.CredentialsProvider{}
	}
	c.roles[account] = p
	return p, nil
}

// elsewhere assumes a role in the home region, and, once STS there
// refuses it as a region the role's account has not enabled (an opt-in
// home region: RegionDisabledException), in a region every account has.
// Sessions from a regional STS are good in every region the account has
// enabled.
type elsewhere struct {
	home, other aws.CredentialsProvider
	moved       atomic.Bool
}

func (e *elsewhere) Retrieve(ctx context.Context) (aws.Credentials, error) {
	if e.moved.Load() {
		return e.other.Retrieve(ctx)
	}
	creds, err := e.home.Retrieve(ctx)
	if err == nil || !regionRefused(err) || ctx.Err() != nil {
		return creds, err
	}
	other, err2 := e.other.Retrieve(ctx)
	if err2 != nil {
		// Refused there too (a policy that denies that region, say):
		// the home region's refusal says more of the cause.
		return creds, err
	}
	e.moved.Store(true)
	return other, nil
}

// RoleARN returns the ARN of the role whose sessions sign the calls in
// account, or "" when the run's own credentials do (the caller's account,
// an account not yet known, or no role configured). It knows the caller
// once CallerIdentity has answered.
func (c *Conn) RoleARN(account string) string {
	if !c.NeedsRole(account) || !c.s.Roles.Set() {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.roleARN(account)
}

// roleARN is the ARN of the role to assume in account.
func (c *Conn) roleARN(account string) string {
	if c.s.Roles.ARN != "" {
		return strings.ReplaceAll(c.s.Roles.ARN, "{account}", account)
	}
	return "arn:" + c.identity.Partition() + ":iam::" + account + ":role/" + c.s.Roles.Name
}

// assumed guards an assumed role's credentials: a failure becomes an
// *audit.CredentialsError for that account, with STS's answer when STS gave
// one, redacted of secrets (it may repeat the external ID and the token
// that signed the call); a failure of the run's own credentials underneath
// stays theirs. The credentials it hands out are kept in secrets.
type assumed struct {
	inner   aws.CredentialsProvider
	account string
	arn     string
	secrets *audit.Secrets
}

func (a *assumed) Retrieve(ctx context.Context) (aws.Credentials, error) {
	creds, err := a.inner.Retrieve(ctx)
	if err == nil {
		a.secrets.AddCredentials(creds)
		return creds, nil
	}
	if ctx.Err() != nil {
		return creds, err
	}
	var own *audit.CredentialsError
	if errors.As(err, &own) {
		return creds, own // the run's own credentials failed
	}
	ce := &audit.CredentialsError{Source: "role " + a.arn, AccountID: a.account, Kind: "the role could not be assumed"}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		ce.Code, ce.Message = a.secrets.Redact(ae.ErrorCode()), a.secrets.Redact(ae.ErrorMessage())
		ce.ClockOff, _ = audit.ClockOff(err)
		switch ae.ErrorCode() {
		case "ExpiredToken", "ExpiredTokenException":
			// STS refused the credentials that sign the AssumeRole, the
			// run's own: every account's role would be refused alike.
			ce.Source, ce.AccountID = "the run's credentials, assuming role "+a.arn, ""
			ce.Kind = "the credentials have expired: refresh them (aws sso login, or a new session), then run again"
		}
	}
	return aws.Credentials{}, ce
}

func (a *assumed) ProviderSources() []aws.CredentialSource {
	return []aws.CredentialSource{aws.CredentialSourceSTSAssumeRole}
}

// IsCredentialsProvider lets the SDK see through the wrapper.
func (a *assumed) IsCredentialsProvider(target aws.CredentialsProvider) bool {
	return aws.IsCredentialsProvider(a.inner, target)
}
