package ssmsim

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Account states, as Organizations' AccountState has them. The first
// three are also the values of the retired AccountStatus.
const (
	AccountActive            = "ACTIVE"
	AccountSuspended         = "SUSPENDED"
	AccountPendingClosure    = "PENDING_CLOSURE"
	AccountPendingActivation = "PENDING_ACTIVATION"
	AccountClosed            = "CLOSED"
)

// Region opt-in statuses, as EC2's DescribeRegions reports them.
const (
	OptInNotRequired = "opt-in-not-required"
	OptedIn          = "opted-in"
	NotOptedIn       = "not-opted-in"
)

// Region is a region of the simulated partition.
type Region struct {
	Name string
	// OptIn marks a region that is disabled unless an account opts in
	// (Account.OptedIn), as the regions AWS opened after March 2019 are.
	OptIn bool
}

// DefaultRegions returns the regions of an OrgConfig that names none: the
// seventeen commercial regions that every account has, and five opt-in
// regions.
func DefaultRegions() []Region {
	rs := []Region{
		{Name: "us-east-1"}, {Name: "us-east-2"}, {Name: "us-west-1"}, {Name: "us-west-2"},
		{Name: "ap-south-1"}, {Name: "ap-northeast-1"}, {Name: "ap-northeast-2"}, {Name: "ap-northeast-3"},
		{Name: "ap-southeast-1"}, {Name: "ap-southeast-2"}, {Name: "ca-central-1"}, {Name: "eu-central-1"},
		{Name: "eu-west-1"}, {Name: "eu-west-2"}, {Name: "eu-west-3"}, {Name: "eu-north-1"}, {Name: "sa-east-1"},
	}
	for _, name := range []string{"af-south-1", "ap-east-1", "eu-south-1", "me-south-1", "il-central-1"} {
		rs = append(rs, Region{Name: name, OptIn: true})
	}
	return rs
}

// Role is an IAM role that exists in an account, for STS AssumeRole.
type Role struct {
	// Name is the role's name: the last part of arn:aws:iam::ACCOUNT:role/NAME.
	Name string
	// ExternalID, when set, is required: AssumeRole without it, or with
	// another, is AccessDenied.
	ExternalID string
	// Refuse makes every AssumeRole of this role AccessDenied, as a trust
	// policy that does not name the caller does.
	Refuse bool
	// Trusted lists the accounts whose principals may assume the role; nil
	// means the management account's.
	Trusted []string
	// MaxSessionDuration is the role's setting, 1 to 12 hours; zero means
	// one hour, as IAM's default. A DurationSeconds above it is a
	// ValidationError.
	MaxSessionDuration time.Duration
	// SessionLifetime, when positive, ends every session of this role that
	// long after it starts, whatever DurationSeconds asked for, so that a
	// test can watch credentials expire and refresh in a second rather than
	// in fifteen minutes. AWS has no such setting. Expiration then carries
	// milliseconds; otherwise whole seconds, as STS writes it.
	SessionLifetime time.Duration
}

// Account is one account of an organisation.
type Account struct {
	// ID is the twelve-digit account ID.
	ID string
	// Name and Email are what ListAccounts reports.
	Name, Email string
	// State is the account's lifecycle state: AccountActive,
	// AccountSuspended, AccountPendingActivation, AccountPendingClosure or
	// AccountClosed; empty means Status, or AccountActive when Status is
	// empty too. Only an active account answers AssumeRole and has
	// generated fleets.
	State string
	// Status is the field that Organizations retired on September 9, 2026
	// (ACTIVE, SUSPENDED or PENDING_CLOSURE), answered only when
	// Options.AccountFields asks for it. Empty means the one State implies:
	// State itself where AccountStatus has it, SUSPENDED for CLOSED (a
	// closed account showed as SUSPENDED until it left the organisation),
	// and none for PENDING_ACTIVATION, which AccountStatus has no value for.
	Status string
	// JoinedMethod is CREATED (the default) or INVITED; JoinedTimestamp
	// zero means a date derived from the account's position.
	JoinedMethod    string
	JoinedTimestamp time.Time
	// OptedIn lists the opt-in regions this account has enabled.
	OptedIn []string
	// Deny lists the actions ("ec2:DescribeTags",
	// "ssm:DescribeInstanceInformation") that a service control policy
	// denies every principal of this account, its roles' sessions
	// included: each is refused as AWS refuses an explicit deny in one
	// (EC2's 403 UnauthorizedOperation, SSM's AccessDeniedException). AWS
	// applies no service control policy to the management account, and
	// the simulator ignores its Deny. GetCallerIdentity, which no policy
	// can deny, and STS's AssumeRole are not checked.
	Deny []string
	// AccessKeys are static access key IDs that belong to this account
	// (IAM users' keys). Keys that no account lists belong to the
	// management account unless OrgConfig.StrictKeys is set.
	AccessKeys []string
	// Roles, when not nil, are the roles of this account instead of
	// OrgConfig.Roles.
	Roles []Role
	// Fleets are hand-made fleets by region; they replace the generated
	// fleet of that region. They must not change once NewOrg has them.
	Fleets map[string]*Fleet
}

// OrgConfig describes an organisation for NewOrg. The zero value is an
// organisation of three active accounts (each with a fleet of 40 instance
// IDs in us-east-1 and in eu-west-1) and a suspended one without instances,
// in the default regions, with the roles AuditRole and
// OrganizationAccountAccessRole in every account.
type OrgConfig struct {
	// Seed selects the fleets: the same config gives the same fleets.
	Seed int64
	// ID is the organisation ID (o- and ten characters); empty means one
	// derived from Seed.
	ID string
	// Partition is the ARN partition; empty means "aws".
	Partition string
	// Accounts are the organisation's accounts; the first is the
	// management account. Nil means DefaultAccounts(3, Seed).
	Accounts []Account
	// Regions are the partition's regions; nil means DefaultRegions().
	Regions []Region
	// FleetRegions are the regions where accounts have generated fleets;
	// nil means us-east-1 and eu-west-1 with the default regions, else the
	// first two regions that need no opt-in. An account's other enabled
	// regions have no instances.
	FleetRegions []string
	// Fleet is the template of every generated fleet: Size,
	// UnmanagedFraction, Heavy and BaseTime. Its Seed is ignored: each
	// account-region draws its own from OrgConfig.Seed. Zero Size means 40.
	Fleet FleetConfig
	// Roles exist in every account (unless Account.Roles replaces them);
	// nil means AuditRole and OrganizationAccountAccessRole.
	Roles []Role
	// StrictKeys refuses static access keys that no Account.AccessKeys
	// lists, as AWS refuses keys it does not know.
	StrictKeys bool
	// NotInOrganization makes the management account a standalone
	// account: ListAccounts answers AWSOrganizationsNotInUseException.
	NotInOrganization bool
}

// DefaultAccounts returns n active accounts (the first is the management
// account, with DefaultAccountID) and one suspended member after them. The
// first member has opted in to af-south-1 and the others have not, so that
// an opt-in region is enabled in one account and disabled in another.
func DefaultAccounts(n int, seed int64) []Account {
	n = max(n, 1)
	names := []string{"Management", "Production", "Staging", "Development", "Security", "Log Archive", "Shared Services", "Sandbox"}
	out := make([]Account, 0, n+1)
	r := newRNG(uint64(seed), 0, saltAccounts)
	taken := map[string]bool{}
	for k := 0; k <= n; k++ {
		var a Account
		switch {
		case k == 0:
			a.ID = DefaultAccountID
		default:
			for a.ID == "" || taken[a.ID] {
				a.ID = strconv.FormatUint(100000000000+r.next()%900000000000, 10)
			}
		}
		taken[a.ID] = true
		name := "Member " + strconv.Itoa(k)
		if k < len(names) {
			name = names[k]
		}
		if k == n {
			name, a.State = "Closed Sandbox", AccountSuspended
		}
		a.Name = name
		a.Email = fmt.Sprintf("aws+%s@example.com", slug(name))
		if k == 1 && n > 1 {
			a.OptedIn = []string{"af-south-1"}
		}
		out = append(out, a)
	}
	return out
}

func slug(s string) string {
	b := make([]byte, 0, len(s))
	for k := 0; k < len(s); k++ {
		c := s[k]
		switch {
		case c >= 'A' && c <= 'Z':
			b = append(b, c+'a'-'A')
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			b = append(b, c)
		default:
			b = append(b, '-')
		}
	}
	return string(b)
}

// Org is an AWS Organization in one endpoint: accounts with their enabled
// regions, roles and access keys, and a fleet per account-region. A Server
// with Options.Org serves it: the account of a request comes from its
// access key (or the role its temporary key was issued for), the region
// from its credential scope.
//
// An Org does not change once NewOrg returns it, and is safe for concurrent
// use; Drift returns a changed copy.
type Org struct {
	id, partition string
	regions       []Region
	regionIdx     map[string]int
	accounts      []*orgAccount
	byID          map[string]*orgAccount
	keys          map[string]*orgAccount
	strictKeys    bool
	notInOrg      bool
	// single marks the organisation that NewServer builds around one fleet:
	// any key, any region, the one fleet everywhere.
	single bool
}

type orgAccount struct {
	Account
	index   int
	enabled map[string]bool
	fleets  map[string]*Fleet
	roles   map[string]Role
}

var emptyFleet = &Fleet{}

// NewOrg builds the organisation that cfg describes. It generates every
// account-region's fleet (IDs only; instances are derived on demand, as
// NewFleet does), with instance IDs distinct across the organisation. It
// returns an error for a config that contradicts itself: duplicate or
// malformed account IDs, unknown regions, a fleet region no account has.
func NewOrg(cfg OrgConfig) (*Org, error) {
	o := &Org{
		id:         cfg.ID,
		partition:  cfg.Partition,
		regions:    slices.Clone(cfg.Regions),
		regionIdx:  map[string]int{},
		byID:       map[string]*orgAccount{},
		keys:       map[string]*orgAccount{},
		strictKeys: cfg.StrictKeys,
		notInOrg:   cfg.NotInOrganization,
	}
	if o.partition == "" {
		o.partition = "aws"
	}
	if o.id == "" {
		r := newRNG(uint64(cfg.Seed), 1, saltAccounts)
		const alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
		b := []byte("o-")
		for range 10 {
			b = append(b, alnum[r.intn(len(alnum))])
		}
		o.id = string(b)
	}
	if o.regions == nil {
		o.regions = DefaultRegions()
	}
	for k, r := range o.regions {
		if _, dup := o.regionIdx[r.Name]; dup || r.Name == "" {
			return nil, fmt.Errorf("region %q: empty or listed twice", r.Name)
		}
		o.regionIdx[r.Name] = k
	}
	fleetRegions := cfg.FleetRegions
	if fleetRegions == nil && cfg.Regions == nil {
		fleetRegions = []string{"us-east-1", "eu-west-1"}
	}
	if fleetRegions == nil {
		for _, r := range o.regions {
			if !r.OptIn && len(fleetRegions) < 2 {
				fleetRegions = append(fleetRegions, r.Name)
			}
		}
	}
	for _, name := range fleetRegions {
		if _, ok := o.regionIdx[name]; !ok {
			return nil, fmt.Errorf("fleet region %q is not one of the organisation's regions", name)
		}
	}
	accounts := cfg.Accounts
	if accounts == nil {
		accounts = DefaultAccounts(3, cfg.Seed)
	}
	if len(accounts) == 0 {
		return nil, fmt.Errorf("an organisation needs at least its management account")
	}
	roles := cfg.Roles
	if roles == nil {
		roles = []Role{{Name: "AuditRole"}, {Name: "OrganizationAccountAccessRole"}}
	}
	tmpl := cfg.Fleet
	if tmpl.Size == 0 {
		tmpl.Size = 40
	}
	var built []*Fleet
	taken := func(id string) bool {
		for _, f := range built {
			if _, ok := f.byID[id]; ok {
				return true
			}
		}
		return false
	}
	for k, a := range accounts {
		if !validAccountID(a.ID) {
			return nil, fmt.Errorf("account %d: ID %q is not twelve digits", k+1, a.ID)
		}
		if _, dup := o.byID[a.ID]; dup {
			return nil, fmt.Errorf("account %s is listed twice", a.ID)
		}
		oa := &orgAccount{Account: a, index: k, enabled: map[string]bool{}, fleets: map[string]*Fleet{}, roles: map[string]Role{}}
		oa.OptedIn = slices.Clone(a.OptedIn)
		oa.Deny = slices.Clone(a.Deny)
		oa.AccessKeys = slices.Clone(a.AccessKeys)
		if oa.State == "" {
			oa.State = cmp.Or(oa.Status, AccountActive)
		}
		if oa.Status == "" {
			oa.Status = statusOf(oa.State)
		}
		if oa.JoinedMethod == "" {
			oa.JoinedMethod = "CREATED"
		}
		if oa.JoinedTimestamp.IsZero() {
			oa.JoinedTimestamp = time.Date(2021, time.March, 1, 9, 30, 0, 0, time.UTC).Add(time.Duration(k) * 37 * day).Add(time.Duration(k) * 1234567 * time.Millisecond)
		}
		for _, name := range oa.OptedIn {
			i, ok := o.regionIdx[name]
			if !ok || !o.regions[i].OptIn {
				return nil, fmt.Errorf("account %s opts in to %q, which is not an opt-in region of the organisation", a.ID, name)
			}
		}
		for _, r := range o.regions {
			oa.enabled[r.Name] = !r.OptIn || slices.Contains(oa.OptedIn, r.Name)
		}
		rs := roles
		if a.Roles != nil {
			rs = a.Roles
		}
		for _, r := range rs {
			oa.roles[r.Name] = r
		}
		for _, key := range oa.AccessKeys {
			if prev, dup := o.keys[key]; dup {
				return nil, fmt.Errorf("access key %s belongs to accounts %s and %s", key, prev.ID, a.ID)
			}
			o.keys[key] = oa
		}
		for region, f := range a.Fleets {
			if !oa.enabled[region] {
				return nil, fmt.Errorf("account %s has a fleet in %q, a region it has not enabled", a.ID, region)
			}
			for _, id := range f.ids {
				if taken(id) {
					return nil, fmt.Errorf("instance %s of account %s in %s is also in another account-region", id, a.ID, region)
				}
			}
			oa.fleets[region] = f
			built = append(built, f)
		}
		o.byID[a.ID] = oa
		o.accounts = append(o.accounts, oa)
	}
	// Generated fleets after the hand-made ones, so that their IDs avoid
	// every hand-made ID whatever the order of accounts.
	for _, oa := range o.accounts {
		if oa.State != AccountActive {
			continue
		}
		for _, region := range fleetRegions {
			if _, hand := oa.fleets[region]; hand || !oa.enabled[region] {
				continue
			}
			fc := tmpl
			fc.Seed = int64(mix64(uint64(cfg.Seed) ^ mix64(uint64(oa.index)<<20|uint64(o.regionIdx[region]))))
			f := newFleet(fc, taken)
			oa.fleets[region] = f
			built = append(built, f)
		}
	}
	return o, nil
}

// singleOrg is the organisation of NewServer: one account that every key
// belongs to, the fleet in every region, no organisation.
func singleOrg(f *Fleet, account string) *Org {
	oa := &orgAccount{Account: Account{ID: account, Name: account, Status: AccountActive, State: AccountActive},
		enabled: map[string]bool{}, roles: map[string]Role{}}
	oa.fleets = map[string]*Fleet{"": f}
	for _, r := range DefaultRegions() {
		oa.enabled[r.Name] = !r.OptIn
	}
	return &Org{
		partition: "aws",
		regions:   DefaultRegions(),
		accounts:  []*orgAccount{oa},
		byID:      map[string]*orgAccount{account: oa},
		notInOrg:  true,
		single:    true,
	}
}

// statusOf is the retired AccountStatus of an account in state (see
// Account.Status).
func statusOf(state string) string {
	switch state {
	case AccountActive, AccountSuspended, AccountPendingClosure:
		return state
	case AccountClosed:
		return AccountSuspended
	}
	return ""
}

func validAccountID(id string) bool {
	if len(id) != 12 {
		return false
	}
	for k := 0; k < len(id); k++ {
		if id[k] < '0' || id[k] > '9' {
			return false
		}
	}
	return true
}

// ID returns the organisation's ID (o-...).
func (o *Org) ID() string { return o.id }

// Management returns the management account's ID.
func (o *Org) Management() string { return o.accounts[0].ID }

// Accounts returns the organisation's accounts, management account first,
// with defaults filled in (Status, State, JoinedMethod, JoinedTimestamp).
// Fleets holds every fleet of the account, generated ones included. The
// slices and maps are copies; the fleets are shared.
func (o *Org) Accounts() []Account {
	out := make([]Account, len(o.accounts))
	for k, oa := range o.accounts {
		a := oa.Account
		a.OptedIn = slices.Clone(a.OptedIn)
		a.AccessKeys = slices.Clone(a.AccessKeys)
		a.Roles = nil
		for _, r := range oa.roles {
			a.Roles = append(a.Roles, r)
		}
		slices.SortFunc(a.Roles, func(x, y Role) int { return strings.Compare(x.Name, y.Name) })
		a.Fleets = make(map[string]*Fleet, len(oa.fleets))
		for r, f := range oa.fleets {
			a.Fleets[r] = f
		}
		out[k] = a
	}
	return out
}

// Regions returns the partition's regions.
func (o *Org) Regions() []Region { return slices.Clone(o.regions) }

// EnabledRegions returns the regions that account has enabled, in the
// organisation's order; nil for an account not in the organisation.
func (o *Org) EnabledRegions(account string) []string {
	oa, ok := o.byID[account]
	if !ok {
		return nil
	}
	var out []string
	for _, r := range o.regions {
		if oa.enabled[r.Name] {
			out = append(out, r.Name)
		}
	}
	return out
}

// Fleet returns the fleet of account in region: the instances that SSM
// answers for there. It is empty (never nil) for an account-region without
// instances, and nil for an account that is not in the organisation or a
// region it has not enabled.
func (o *Org) Fleet(account, region string) *Fleet {
	oa, ok := o.byID[account]
	if !ok {
		return nil
	}
	return o.fleet(oa, region)
}

func (o *Org) fleet(oa *orgAccount, region string) *Fleet {
	if o.single {
		return oa.fleets[""]
	}
	if !oa.enabled[region] {
		return nil
	}
	if f := oa.fleets[region]; f != nil {
		return f
	}
	return emptyFleet
}

// AccountRegion names one account in one region.
type AccountRegion struct {
	Account, Region string
}

// FleetRegions returns every account-region that has a fleet with at least
// one ID, ordered by account (the organisation's order) then region.
func (o *Org) FleetRegions() []AccountRegion {
	var out []AccountRegion
	for _, oa := range o.accounts {
		for _, r := range o.regions {
			if f := oa.fleets[r.Name]; f != nil && f.Len() > 0 {
				out = append(out, AccountRegion{oa.ID, r.Name})
			}
		}
	}
	return out
}

// RoleARN returns the ARN of role name in account:
// arn:PARTITION:iam::ACCOUNT:role/NAME.
func (o *Org) RoleARN(account, name string) string {
	return "arn:" + o.partition + ":iam::" + account + ":role/" + name
}

const saltAccounts = 1 << 41
