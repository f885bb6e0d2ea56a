package ssmsim_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/auditor-dev/auditor/ssmsim"
)

// mgmtKey is the management account's static key in the test
// organisations; memberKey belongs to the first member.
const (
	mgmtKey   = "AKIAMANAGEMENTTEST01"
	memberKey = "AKIAMEMBERTEST000001"
)

// testOrg is a small organisation: DefaultAccounts(3) (management,
// Production, Staging, a suspended Closed Sandbox), Production opted in to
// af-south-1, fleets of 30 IDs in us-east-1 and eu-west-1, and roles
// AuditRole, a role that refuses and one that wants an external ID.
func testOrg(t *testing.T, mutate func(*ssmsim.OrgConfig)) *ssmsim.Org {
	t.Helper()
	accounts := ssmsim.DefaultAccounts(3, 1)
	accounts[0].AccessKeys = []string{mgmtKey}
	accounts[1].AccessKeys = []string{memberKey}
	cfg := ssmsim.OrgConfig{
		Seed:     1,
		Accounts: accounts,
		Fleet:    ssmsim.FleetConfig{Size: 30},
		Roles: []ssmsim.Role{
			{Name: "AuditRole"},
			{Name: "Locked", Refuse: true},
			{Name: "Vendor", ExternalID: "s3cr3t-ext"},
			{Name: "LongSessions", MaxSessionDuration: 4 * time.Hour, Trusted: []string{accounts[0].ID, accounts[1].ID}},
		},
		StrictKeys: true,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	o, err := ssmsim.NewOrg(cfg)
	if err != nil {
		t.Fatalf("NewOrg: %v", err)
	}
	return o
}

func startOrg(t *testing.T, o *ssmsim.Org, opts ssmsim.Options) (*ssmsim.Server, string) {
	t.Helper()
	opts.Org = o
	return start(t, nil, opts)
}

// sdkConfig is an SDK configuration for url in region that does not retry
// (see client for the transport).
func sdkConfig(url, region string, creds aws.CredentialsProvider) aws.Config {
	return aws.Config{
		Region:           region,
		Credentials:      creds,
		RetryMaxAttempts: 1,
		HTTPClient:       &http.Client{Transport: ssmsim.BufferedTransport(nil)},
		BaseEndpoint:     aws.String(url),
	}
}

func static(key string) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(key, testSecret, "")
}

// assumed returns credentials for role in account, assumed with the
// management account's key through stscreds inside a credentials cache, as
// the auditor gets them.
func assumed(url string, o *ssmsim.Org, account, role string) *aws.CredentialsCache {
	stsc := sts.NewFromConfig(sdkConfig(url, "us-east-1", static(mgmtKey)))
	return aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsc, o.RoleARN(account, role), func(ao *stscreds.AssumeRoleOptions) {
		ao.RoleSessionName = "auditor"
	}))
}

func TestNewOrg(t *testing.T) {
	o := testOrg(t, nil)
	accounts := o.Accounts()
	if len(accounts) != 4 || accounts[0].ID != ssmsim.DefaultAccountID || o.Management() != ssmsim.DefaultAccountID {
		t.Fatalf("accounts %+v; want 4, the management account first", accounts)
	}
	var statuses []string
	for _, a := range accounts {
		statuses = append(statuses, a.Status)
	}
	if !slices.Equal(statuses, []string{"ACTIVE", "ACTIVE", "ACTIVE", "SUSPENDED"}) {
		t.Errorf("statuses %v", statuses)
	}
	if !strings.HasPrefix(o.ID(), "o-") || len(o.ID()) != 12 {
		t.Errorf("organisation ID %q", o.ID())
	}

	// Opt-in regions: enabled where an account opted in, not elsewhere.
	if en := o.EnabledRegions(accounts[1].ID); !slices.Contains(en, "af-south-1") || len(en) != 18 {
		t.Errorf("Production's regions %v: want the 17 default ones and af-south-1", en)
	}
	if en := o.EnabledRegions(accounts[2].ID); slices.Contains(en, "af-south-1") || len(en) != 17 {
		t.Errorf("Staging's regions %v: want the 17 default ones", en)
	}
	if o.Fleet(accounts[2].ID, "af-south-1") != nil {
		t.Error("a fleet in a region the account has not enabled")
	}
	if f := o.Fleet(accounts[1].ID, "ap-south-1"); f == nil || f.Len() != 0 {
		t.Error("an enabled region without instances should have an empty fleet")
	}

	// A fleet in each fleet region of each active account, IDs distinct
	// across the organisation.
	ars := o.FleetRegions()
	if len(ars) != 6 {
		t.Fatalf("fleet regions %v; want 3 active accounts x 2 regions", ars)
	}
	seen := map[string]ssmsim.AccountRegion{}
	for _, ar := range ars {
		f := o.Fleet(ar.Account, ar.Region)
		if f.Len() != 30 {
			t.Errorf("%v: %d IDs, want 30", ar, f.Len())
		}
		for _, id := range f.IDs() {
			if prev, dup := seen[id]; dup {
				t.Errorf("%s is in %v and %v", id, prev, ar)
			}
			seen[id] = ar
		}
	}

	// The same config gives the same organisation.
	again := testOrg(t, nil)
	for _, ar := range ars {
		if !slices.Equal(o.Fleet(ar.Account, ar.Region).IDs(), again.Fleet(ar.Account, ar.Region).IDs()) {
			t.Errorf("%v: another fleet from the same config", ar)
		}
	}

	t.Run("bad configs", func(t *testing.T) {
		tests := []struct {
			name   string
			mutate func(*ssmsim.OrgConfig)
		}{
			{"duplicate account", func(c *ssmsim.OrgConfig) { c.Accounts[1].ID = c.Accounts[0].ID }},
			{"short account ID", func(c *ssmsim.OrgConfig) { c.Accounts[1].ID = "1234" }},
			{"unknown fleet region", func(c *ssmsim.OrgConfig) { c.FleetRegions = []string{"mars-north-1"} }},
			{"opting in to a region that needs none", func(c *ssmsim.OrgConfig) { c.Accounts[1].OptedIn = []string{"us-east-1"} }},
			{"a key in two accounts", func(c *ssmsim.OrgConfig) { c.Accounts[2].AccessKeys = []string{mgmtKey} }},
			{"no accounts", func(c *ssmsim.OrgConfig) { c.Accounts = []ssmsim.Account{} }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				cfg := ssmsim.OrgConfig{Accounts: ssmsim.DefaultAccounts(3, 1)}
				cfg.Accounts[0].AccessKeys = []string{mgmtKey}
				tt.mutate(&cfg)
				if _, err := ssmsim.NewOrg(cfg); err == nil {
					t.Error("NewOrg accepted it")
				}
			})
		}
	})
}

func TestOrgSTS(t *testing.T) {
	o := testOrg(t, nil)
	member := o.Accounts()[1].ID
	suspended := o.Accounts()[3].ID
	_, url := startOrg(t, o, ssmsim.Options{})
	stsc := sts.NewFromConfig(sdkConfig(url, "us-east-1", static(mgmtKey)))

	t.Run("GetCallerIdentity with static keys", func(t *testing.T) {
		for _, tt := range []struct{ key, account string }{{mgmtKey, o.Management()}, {memberKey, member}} {
			c := sts.NewFromConfig(sdkConfig(url, "eu-west-1", static(tt.key)))
			out, err := c.GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Fatal(err)
			}
			wantARN := "arn:aws:iam::" + tt.account + ":user/" + tt.key
			if aws.ToString(out.Account) != tt.account || aws.ToString(out.Arn) != wantARN || !strings.HasPrefix(aws.ToString(out.UserId), "AIDA") {
				t.Errorf("got %s %s %s, want %s %s AIDA...", aws.ToString(out.Account), aws.ToString(out.Arn), aws.ToString(out.UserId), tt.account, wantARN)
			}
		}
	})

	t.Run("AssumeRole and the session's identity", func(t *testing.T) {
		out, err := stsc.AssumeRole(ctx(t), &sts.AssumeRoleInput{
			RoleArn: aws.String(o.RoleARN(member, "AuditRole")), RoleSessionName: aws.String("auditor"), DurationSeconds: aws.Int32(900),
		})
		if err != nil {
			t.Fatal(err)
		}
		cr := out.Credentials
		if !strings.HasPrefix(aws.ToString(cr.AccessKeyId), "ASIA") || len(aws.ToString(cr.AccessKeyId)) != 20 ||
			aws.ToString(cr.SecretAccessKey) == "" || aws.ToString(cr.SessionToken) == "" {
			t.Errorf("credentials %+v", cr)
		}
		if d := time.Until(aws.ToTime(cr.Expiration)); d < 14*time.Minute || d > 15*time.Minute {
			t.Errorf("Expiration %v is %v away, want 15 minutes", cr.Expiration, d)
		}
		wantARN := "arn:aws:sts::" + member + ":assumed-role/AuditRole/auditor"
		if aws.ToString(out.AssumedRoleUser.Arn) != wantARN || !strings.HasSuffix(aws.ToString(out.AssumedRoleUser.AssumedRoleId), ":auditor") {
			t.Errorf("AssumedRoleUser %+v", out.AssumedRoleUser)
		}
		as := sts.NewFromConfig(sdkConfig(url, "us-east-1",
			credentials.NewStaticCredentialsProvider(*cr.AccessKeyId, *cr.SecretAccessKey, *cr.SessionToken)))
		who, err := as.GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(who.Account) != member || aws.ToString(who.Arn) != wantARN || aws.ToString(who.UserId) != aws.ToString(out.AssumedRoleUser.AssumedRoleId) {
			t.Errorf("GetCallerIdentity as the role: %s %s %s", aws.ToString(who.Account), aws.ToString(who.Arn), aws.ToString(who.UserId))
		}
		// The session's key without its token is not a key at all.
		bare := sts.NewFromConfig(sdkConfig(url, "us-east-1", static(*cr.AccessKeyId)))
		_, err = bare.GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
		if code, _, status := apiCode(t, err); code != "InvalidClientTokenId" || status != 403 {
			t.Errorf("temporary key without its token: %s (HTTP %d), want InvalidClientTokenId (HTTP 403)", code, status)
		}
		// Role chaining is limited to an hour.
		_, err = as.AssumeRole(ctx(t), &sts.AssumeRoleInput{
			RoleArn: aws.String(o.RoleARN(member, "LongSessions")), RoleSessionName: aws.String("chain"), DurationSeconds: aws.Int32(7200),
		})
		if code, msg, _ := apiCode(t, err); code != "ValidationError" || msg != "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining." {
			t.Errorf("chained AssumeRole of two hours: %s %q", code, msg)
		}
	})

	denied := func(role string) string {
		return "User: arn:aws:iam::" + o.Management() + ":user/" + mgmtKey + " is not authorized to perform: sts:AssumeRole on resource: " + role
	}
	tests := []struct {
		name                 string
		in                   sts.AssumeRoleInput
		wantCode, wantMsg    string
		wantStatus           int
		wantExpiresInAtLeast time.Duration // on success
	}{
		{"a role that refuses", sts.AssumeRoleInput{RoleArn: aws.String(o.RoleARN(member, "Locked"))},
			"AccessDenied", denied(o.RoleARN(member, "Locked")), 403, 0},
		{"a role that does not exist", sts.AssumeRoleInput{RoleArn: aws.String(o.RoleARN(member, "Nope"))},
			"AccessDenied", denied(o.RoleARN(member, "Nope")), 403, 0},
		{"an account outside the organisation", sts.AssumeRoleInput{RoleArn: aws.String(o.RoleARN("999999999999", "AuditRole"))},
			"AccessDenied", denied(o.RoleARN("999999999999", "AuditRole")), 403, 0},
		{"a suspended account", sts.AssumeRoleInput{RoleArn: aws.String(o.RoleARN(suspended, "AuditRole"))},
			"AccessDenied", denied(o.RoleARN(suspended, "AuditRole")), 403, 0},
		{"another partition", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws-cn:iam::" + member + ":role/AuditRole")},
			"AccessDenied", denied("arn:aws-cn:iam::" + member + ":role/AuditRole"), 403, 0},
		{"external ID missing", sts.AssumeRoleInput{RoleArn: aws.String(o.RoleARN(member, "Vendor"))},
			"AccessDenied", denied(o.RoleARN(member, "Vendor")), 403, 0},
		{"external ID wrong", sts.AssumeRoleInput{RoleArn: aws.String(o.RoleARN(member, "Vendor")), ExternalId: aws.String("guess")},
			"AccessDenied", denied(o.RoleARN(member, "Vendor")), 403, 0},
		{"external ID right", sts.AssumeRoleInput{RoleArn: aws.String(o.RoleARN(member, "Vendor")), ExternalId: aws.String("s3cr3t-ext")},
			"", "", 0, 59 * time.Minute},
		{"a role path", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + member + ":role/team/ops/AuditRole")},
			"", "", 0, 59 * time.Minute},
		{"DurationSeconds below 900", sts.AssumeRoleInput{RoleArn: aws.String(o.RoleARN(member, "AuditRole")), DurationSeconds: aws.Int32(899)},
			"ValidationError", "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900", 400, 0},
		{"DurationSeconds above 43200", sts.AssumeRoleInput{RoleArn: aws.String(o.RoleARN(member, "LongSessions")), DurationSeconds: aws.Int32(43201)},
			"ValidationError", "1 validation error detected: Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200", 400, 0},
		{"DurationSeconds above the role's maximum", sts.AssumeRoleInput{RoleArn: aws.String(o.RoleARN(member, "AuditRole")), DurationSeconds: aws.Int32(3601)},
			"ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.", 400, 0},
		{"DurationSeconds within a longer maximum", sts.AssumeRoleInput{RoleArn: aws.String(o.RoleARN(member, "LongSessions")), DurationSeconds: aws.Int32(14400)},
			"", "", 0, 239 * time.Minute},
		{"session name with a space", sts.AssumeRoleInput{RoleArn: aws.String(o.RoleARN(member, "AuditRole")), RoleSessionName: aws.String("my session")},
			"ValidationError", `1 validation error detected: Value 'my session' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*`, 400, 0},
		{"not an ARN", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::role/AuditRoleWithoutAccount")},
			"ValidationError", "arn:aws:iam::role/AuditRoleWithoutAccount is invalid", 400, 0},
		{"two errors at once", sts.AssumeRoleInput{RoleArn: aws.String("short"), RoleSessionName: aws.String("x")},
			"ValidationError", "2 validation errors detected: Value 'short' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20; " +
				"Value 'x' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2", 400, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			if in.RoleSessionName == nil {
				in.RoleSessionName = aws.String("auditor")
			}
			out, err := stsc.AssumeRole(ctx(t), &in)
			if tt.wantCode == "" {
				if err != nil {
					t.Fatal(err)
				}
				if d := time.Until(aws.ToTime(out.Credentials.Expiration)); d < tt.wantExpiresInAtLeast {
					t.Errorf("expires in %v, want at least %v", d, tt.wantExpiresInAtLeast)
				}
				return
			}
			code, msg, status := apiCode(t, err)
			if code != tt.wantCode || msg != tt.wantMsg || status != tt.wantStatus {
				t.Errorf("got %s %q (HTTP %d)\nwant %s %q (HTTP %d)", code, msg, status, tt.wantCode, tt.wantMsg, tt.wantStatus)
			}
		})
	}
}

// TestOrgListAccounts: ListAccounts pages through every account with the
// lifecycle fields of Options.AccountFields: State alone by default, as
// Organizations answers since it retired Status, or Status beside it, or
// Status alone, each account's Status the one its State implies where none
// is set (SUSPENDED for a closed account, none for one still signing up).
func TestOrgListAccounts(t *testing.T) {
	o := testOrg(t, func(c *ssmsim.OrgConfig) {
		c.Accounts = append(c.Accounts,
			ssmsim.Account{ID: "444444444444", Name: "Closed", State: ssmsim.AccountClosed},
			ssmsim.Account{ID: "555555555555", Name: "Signing up", State: ssmsim.AccountPendingActivation})
	})
	// By account: State, and the Status it implies.
	lifecycle := [][2]string{{"ACTIVE", "ACTIVE"}, {"ACTIVE", "ACTIVE"}, {"ACTIVE", "ACTIVE"}, {"SUSPENDED", "SUSPENDED"},
		{"CLOSED", "SUSPENDED"}, {"PENDING_ACTIVATION", ""}}
	for _, tc := range []struct {
		fields        ssmsim.AccountFields
		state, status bool
	}{
		{ssmsim.FieldsState, true, false},
		{ssmsim.FieldsStateAndStatus, true, true},
		{ssmsim.FieldsStatus, false, true},
	} {
		t.Run(fmt.Sprintf("fields %q", tc.fields), func(t *testing.T) {
			s, url := startOrg(t, o, ssmsim.Options{AccountFields: tc.fields})
			c := organizations.NewFromConfig(sdkConfig(url, "us-east-1", static(mgmtKey)))
			p := organizations.NewListAccountsPaginator(c, &organizations.ListAccountsInput{MaxResults: aws.Int32(3)})
			var got []string
			pages := 0
			for p.HasMorePages() {
				out, err := p.NextPage(ctx(t))
				if err != nil {
					t.Fatal(err)
				}
				pages++
				for _, a := range out.Accounts {
					got = append(got, strings.Join([]string{aws.ToString(a.Id), aws.ToString(a.Name), aws.ToString(a.Email),
						string(a.State), string(a.Status), string(a.JoinedMethod), aws.ToString(a.Arn)}, " "))
					if a.JoinedTimestamp == nil || a.JoinedTimestamp.IsZero() {
						t.Errorf("account %s has no JoinedTimestamp", aws.ToString(a.Id))
					}
				}
			}
			var want []string
			for k, a := range o.Accounts() {
				state, status := lifecycle[k][0], lifecycle[k][1]
				if !tc.state {
					state = ""
				}
				if !tc.status {
					status = ""
				}
				want = append(want, strings.Join([]string{a.ID, a.Name, a.Email, state, status, "CREATED",
					"arn:aws:organizations::" + o.Management() + ":account/" + o.ID() + "/" + a.ID}, " "))
			}
			if !slices.Equal(got, want) || pages != 2 {
				t.Errorf("%d pages:\n got %q\nwant %q", pages, got, want)
			}
			if st := s.RegionStats()[ssmsim.AccountRegion{Account: o.Management(), Region: "us-east-1"}]; st.Calls[ssmsim.OpListAccounts] != 2 || st.OK != 2 {
				t.Errorf("RegionStats of the management account: %+v", st)
			}
		})
	}
	_, url := startOrg(t, o, ssmsim.Options{})

	tests := []struct {
		name               string
		key                string
		in                 organizations.ListAccountsInput
		wantCode, wantMsg  string
		notInOrganization  bool
		wantReasonInString string
	}{
		{name: "a member account", key: memberKey, wantCode: "AccessDeniedException", wantMsg: "You don't have permissions to access this resource."},
		{name: "MaxResults 21", key: mgmtKey, in: organizations.ListAccountsInput{MaxResults: aws.Int32(21)},
			wantCode: "InvalidInputException", wantMsg: "You provided a value that exceeds the maximum allowed.", wantReasonInString: "MAX_VALUE_EXCEEDED"},
		{name: "a forged token", key: mgmtKey, in: organizations.ListAccountsInput{NextToken: aws.String("AAAA")},
			wantCode: "InvalidInputException", wantReasonInString: "INVALID_NEXT_TOKEN"},
		{name: "no organisation", key: mgmtKey, notInOrganization: true,
			wantCode: "AWSOrganizationsNotInUseException", wantMsg: "Your account is not a member of an organization."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := url
			if tt.notInOrganization {
				_, u = startOrg(t, testOrg(t, func(c *ssmsim.OrgConfig) { c.NotInOrganization = true }), ssmsim.Options{})
			}
			c := organizations.NewFromConfig(sdkConfig(u, "us-east-1", static(tt.key)))
			_, err := c.ListAccounts(ctx(t), &tt.in)
			code, msg, status := apiCode(t, err)
			if code != tt.wantCode || (tt.wantMsg != "" && msg != tt.wantMsg) || status != 400 {
				t.Errorf("got %s %q (HTTP %d), want %s %q (HTTP 400)", code, msg, status, tt.wantCode, tt.wantMsg)
			}
			if tt.wantReasonInString != "" && !strings.Contains(err.Error(), tt.wantCode) {
				t.Errorf("error %v", err)
			}
		})
	}
}

func TestOrgDescribeRegions(t *testing.T) {
	o := testOrg(t, nil)
	production, staging := o.Accounts()[1].ID, o.Accounts()[2].ID
	_, url := startOrg(t, o, ssmsim.Options{})
	regions := func(t *testing.T, c *ec2.Client, in *ec2.DescribeRegionsInput) map[string]string {
		t.Helper()
		out, err := c.DescribeRegions(ctx(t), in)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, r := range out.Regions {
			if want := "ec2." + aws.ToString(r.RegionName) + ".amazonaws.com"; aws.ToString(r.Endpoint) != want {
				t.Errorf("%s: endpoint %q, want %q", aws.ToString(r.RegionName), aws.ToString(r.Endpoint), want)
			}
			m[aws.ToString(r.RegionName)] = aws.ToString(r.OptInStatus)
		}
		return m
	}
	prod := ec2.NewFromConfig(sdkConfig(url, "us-west-2", assumed(url, o, production, "AuditRole")))
	stag := ec2.NewFromConfig(sdkConfig(url, "us-west-2", assumed(url, o, staging, "AuditRole")))

	got := regions(t, prod, &ec2.DescribeRegionsInput{})
	if len(got) != 18 || got["af-south-1"] != "opted-in" || got["us-east-1"] != "opt-in-not-required" {
		t.Errorf("Production's enabled regions: %v", got)
	}
	got = regions(t, stag, &ec2.DescribeRegionsInput{})
	if _, ok := got["af-south-1"]; ok || len(got) != 17 {
		t.Errorf("Staging's enabled regions: %v", got)
	}
	got = regions(t, stag, &ec2.DescribeRegionsInput{AllRegions: aws.Bool(true)})
	if len(got) != 22 || got["af-south-1"] != "not-opted-in" || got["eu-south-1"] != "not-opted-in" {
		t.Errorf("Staging's regions with AllRegions: %v", got)
	}
	got = regions(t, prod, &ec2.DescribeRegionsInput{AllRegions: aws.Bool(true),
		Filters: []ec2types.Filter{{Name: aws.String("opt-in-status"), Values: []string{"opted-in", "not-opted-in"}}}})
	if len(got) != 5 || got["af-south-1"] != "opted-in" {
		t.Errorf("Production's opt-in regions: %v", got)
	}
	got = regions(t, prod, &ec2.DescribeRegionsInput{RegionNames: []string{"eu-west-1", "af-south-1"}})
	if len(got) != 2 {
		t.Errorf("two regions by name: %v", got)
	}
	_, err := prod.DescribeRegions(ctx(t), &ec2.DescribeRegionsInput{Filters: []ec2types.Filter{{Name: aws.String("colour"), Values: []string{"blue"}}}})
	if code, msg, _ := apiCode(t, err); code != "InvalidParameterValue" || msg != "The filter 'colour' is invalid" {
		t.Errorf("unknown filter: %s %q", code, msg)
	}
	_, err = prod.DescribeRegions(ctx(t), &ec2.DescribeRegionsInput{DryRun: aws.Bool(true)})
	if code, _, status := apiCode(t, err); code != "DryRunOperation" || status != 412 {
		t.Errorf("DryRun: %s (HTTP %d)", code, status)
	}

	// A region the account has not enabled does not know its keys.
	inAfrica := ec2.NewFromConfig(sdkConfig(url, "af-south-1", assumed(url, o, staging, "AuditRole")))
	_, err = inAfrica.DescribeRegions(ctx(t), &ec2.DescribeRegionsInput{})
	if code, msg, status := apiCode(t, err); code != "AuthFailure" || msg != "AWS was not able to validate the provided access credentials" || status != 401 {
		t.Errorf("a region not enabled: %s %q (HTTP %d)", code, msg, status)
	}
	inAfrica = ec2.NewFromConfig(sdkConfig(url, "af-south-1", assumed(url, o, production, "AuditRole")))
	if _, err := inAfrica.DescribeRegions(ctx(t), &ec2.DescribeRegionsInput{}); err != nil {
		t.Errorf("an opted-in region: %v", err)
	}
}

// overview is what DescribeInstanceInformation said of an instance.
type overview struct {
	status string
	counts map[string]int32
}

func TestOrgSSMPerAccountRegion(t *testing.T) {
	o := testOrg(t, nil)
	s, url := startOrg(t, o, ssmsim.Options{})
	ars := o.FleetRegions()
	s.ResetStats()
	for _, ar := range ars {
		t.Run(ar.Account+"/"+ar.Region, func(t *testing.T) {
			f := o.Fleet(ar.Account, ar.Region)
			c := ssm.NewFromConfig(sdkConfig(url, ar.Region, assumed(url, o, ar.Account, "AuditRole")))
			got := map[string]overview{}
			var order []string
			p := ssm.NewDescribeInstanceInformationPaginator(c, &ssm.DescribeInstanceInformationInput{MaxResults: aws.Int32(7)})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx(t))
				if err != nil {
					t.Fatal(err)
				}
				for _, in := range out.InstanceInformationList {
					id := aws.ToString(in.InstanceId)
					order = append(order, id)
					ov := overview{status: aws.ToString(in.AssociationStatus)}
					if in.AssociationOverview != nil {
						ov.counts = in.AssociationOverview.InstanceAssociationStatusAggregatedCount
						if aws.ToString(in.AssociationOverview.DetailedStatus) != ov.status {
							t.Errorf("%s: overview %q, AssociationStatus %q", id, aws.ToString(in.AssociationOverview.DetailedStatus), ov.status)
						}
					}
					got[id] = ov
				}
			}
			if !slices.Equal(order, f.ManagedIDs()) {
				t.Fatalf("listed %v\nwant %v", order, f.ManagedIDs())
			}
			for id, ov := range got {
				checkOverview(t, id, ov, f.Associations(id))
			}
			// Every association of the first instances, exactly.
			for _, id := range f.ManagedIDs()[:5] {
				all, _ := fetchAll(t, c, id, aws.Int32(3))
				sameAssociations(t, all, f.Associations(id))
			}
		})
	}
	// Every account-region was listed with the same (no) filters: they are
	// different listings, not pages served twice.
	if st := s.Stats(); st.DuplicatePages != 0 || st.PagesServed == 0 {
		t.Errorf("PagesServed %d, DuplicatePages %d; want none twice", st.PagesServed, st.DuplicatePages)
	}

	t.Run("an instance of another account or region", func(t *testing.T) {
		a, b := ars[0], ars[1] // same account, another region
		other := ars[2]        // another account
		c := ssm.NewFromConfig(sdkConfig(url, a.Region, assumed(url, o, a.Account, "AuditRole")))
		for _, ar := range []ssmsim.AccountRegion{b, other} {
			id := o.Fleet(ar.Account, ar.Region).ManagedIDs()[0]
			_, err := c.DescribeInstanceAssociationsStatus(ctx(t), &ssm.DescribeInstanceAssociationsStatusInput{InstanceId: aws.String(id)})
			code, msg, _ := apiCode(t, err)
			if want := "Instances [[" + id + "]] not in a valid state for account " + a.Account; code != "InvalidInstanceId" || msg != want {
				t.Errorf("instance of %v asked in %v: %s %q, want InvalidInstanceId %q", ar, a, code, msg, want)
			}
		}
	})

	t.Run("a region the account has not enabled", func(t *testing.T) {
		staging := o.Accounts()[2].ID
		c := ssm.NewFromConfig(sdkConfig(url, "af-south-1", assumed(url, o, staging, "AuditRole")))
		_, err := c.DescribeInstanceInformation(ctx(t), &ssm.DescribeInstanceInformationInput{})
		if code, msg, _ := apiCode(t, err); code != "UnrecognizedClientException" || msg != "The security token included in the request is invalid." {
			t.Errorf("got %s %q", code, msg)
		}
	})

	t.Run("an enabled region without instances", func(t *testing.T) {
		c := ssm.NewFromConfig(sdkConfig(url, "ap-south-1", assumed(url, o, o.Management(), "AuditRole")))
		out, err := c.DescribeInstanceInformation(ctx(t), &ssm.DescribeInstanceInformationInput{})
		if err != nil || len(out.InstanceInformationList) != 0 || out.NextToken != nil {
			t.Errorf("got %v, %v; want an empty list", out, err)
		}
	})

	t.Run("filters", func(t *testing.T) {
		ar := ars[0]
		f := o.Fleet(ar.Account, ar.Region)
		c := ssm.NewFromConfig(sdkConfig(url, ar.Region, assumed(url, o, ar.Account, "AuditRole")))
		var failing []string
		for _, id := range f.ManagedIDs() {
			for _, a := range f.Associations(id) {
				if a.Status == "Failed" {
					failing = append(failing, id)
					break
				}
			}
		}
		var got []string
		p := ssm.NewDescribeInstanceInformationPaginator(c, &ssm.DescribeInstanceInformationInput{
			Filters: []ssmtypes.InstanceInformationStringFilter{{Key: aws.String("AssociationStatus"), Values: []string{"Failed"}}},
		})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx(t))
			if err != nil {
				t.Fatal(err)
			}
			for _, in := range out.InstanceInformationList {
				got = append(got, aws.ToString(in.InstanceId))
			}
		}
		if len(failing) == 0 || !slices.Equal(got, failing) {
			t.Errorf("AssociationStatus=Failed listed %v, want %v", got, failing)
		}
	})

	t.Run("a token from another account-region", func(t *testing.T) {
		a, b := ars[0], ars[1]
		ca := ssm.NewFromConfig(sdkConfig(url, a.Region, assumed(url, o, a.Account, "AuditRole")))
		cb := ssm.NewFromConfig(sdkConfig(url, b.Region, assumed(url, o, b.Account, "AuditRole")))
		out, err := ca.DescribeInstanceInformation(ctx(t), &ssm.DescribeInstanceInformationInput{MaxResults: aws.Int32(5)})
		if err != nil || out.NextToken == nil {
			t.Fatalf("first page: %v, %v", out, err)
		}
		_, err = cb.DescribeInstanceInformation(ctx(t), &ssm.DescribeInstanceInformationInput{MaxResults: aws.Int32(5), NextToken: out.NextToken})
		if code, _, _ := apiCode(t, err); code != "InvalidNextToken" {
			t.Errorf("got %s, want InvalidNextToken", code)
		}
	})
}

// checkOverview checks what DescribeInstanceInformation said of id against
// its associations: the status (Failed over Pending over Success) and the
// count of each status.
func checkOverview(t *testing.T, id string, got overview, as []ssmsim.Association) {
	t.Helper()
	counts := map[string]int32{}
	for _, a := range as {
		counts[a.Status]++
	}
	want := ""
	switch {
	case len(as) == 0:
	case counts["Failed"] > 0:
		want = "Failed"
	case counts["Pending"] > 0:
		want = "Pending"
	default:
		want = "Success"
	}
	if got.status != want {
		t.Errorf("%s: AssociationStatus %q, want %q", id, got.status, want)
	}
	if len(as) > 0 && !mapsEqual(got.counts, counts) {
		t.Errorf("%s: counts %v, want %v", id, got.counts, counts)
	}
}

func mapsEqual(a, b map[string]int32) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestOrgCredentialsExpireAndRefresh(t *testing.T) {
	// Long enough that assuming the role, a call and Retrieve fit in it on
	// a loaded machine; the wait below is relative to the expiration.
	const lifetime = 3 * time.Second
	o := testOrg(t, func(c *ssmsim.OrgConfig) {
		c.Roles = []ssmsim.Role{{Name: "AuditRole", SessionLifetime: lifetime}}
	})
	s, url := startOrg(t, o, ssmsim.Options{})
	member := o.Accounts()[1].ID
	creds := assumed(url, o, member, "AuditRole")
	c := ssm.NewFromConfig(sdkConfig(url, "us-east-1", creds))
	describe := func() error {
		_, err := c.DescribeInstanceInformation(ctx(t), &ssm.DescribeInstanceInformationInput{})
		return err
	}
	if err := describe(); err != nil {
		t.Fatal(err)
	}
	first, err := creds.Retrieve(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if d := first.Expires.Sub(time.Now()); d > lifetime {
		t.Fatalf("credentials expire in %v, want within the role's %v", d, lifetime)
	}
	// Wait for the session to end (by the credentials' own clock, plus a
	// margin for the request in flight); nothing here measures time.
	time.Sleep(time.Until(first.Expires) + 50*time.Millisecond)

	// The cache sees the expiration and assumes the role again.
	if err := describe(); err != nil {
		t.Fatalf("after the session expired: %v", err)
	}
	second, err := creds.Retrieve(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if second.AccessKeyID == first.AccessKeyID {
		t.Error("the cache kept the expired credentials")
	}
	mgmt := ssmsim.AccountRegion{Account: o.Management(), Region: "us-east-1"}
	if n := s.RegionStats()[mgmt].Calls[ssmsim.OpAssumeRole]; n != 2 {
		t.Errorf("%d AssumeRole calls, want 2", n)
	}

	// The old credentials are refused, each service in its own words.
	old := credentials.NewStaticCredentialsProvider(first.AccessKeyID, first.SecretAccessKey, first.SessionToken)
	_, err = ssm.NewFromConfig(sdkConfig(url, "us-east-1", old)).DescribeInstanceInformation(ctx(t), &ssm.DescribeInstanceInformationInput{})
	if code, msg, status := apiCode(t, err); code != "ExpiredTokenException" || msg != "The security token included in the request is expired" || status != 400 {
		t.Errorf("SSM: %s %q (HTTP %d)", code, msg, status)
	}
	_, err = sts.NewFromConfig(sdkConfig(url, "us-east-1", old)).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
	if code, msg, status := apiCode(t, err); code != "ExpiredToken" || msg != "The security token included in the request is expired" || status != 403 {
		t.Errorf("STS: %s %q (HTTP %d)", code, msg, status)
	}
	_, err = ec2.NewFromConfig(sdkConfig(url, "us-east-1", old)).DescribeRegions(ctx(t), &ec2.DescribeRegionsInput{})
	if code, msg, status := apiCode(t, err); code != "RequestExpired" || msg != "Request has expired." || status != 400 {
		t.Errorf("EC2: %s %q (HTTP %d)", code, msg, status)
	}
}

func TestOrgRateLimitsPerAccountRegion(t *testing.T) {
	o := testOrg(t, nil)
	// A rate so low that no token comes back during the test.
	s, url := startOrg(t, o, ssmsim.Options{Faults: ssmsim.Faults{Rate: 0.0001, Burst: 2}})
	ars := o.FleetRegions()
	call := func(ar ssmsim.AccountRegion, creds aws.CredentialsProvider) error {
		_, err := ssm.NewFromConfig(sdkConfig(url, ar.Region, creds)).DescribeInstanceInformation(ctx(t), &ssm.DescribeInstanceInformationInput{})
		return err
	}
	// Each account-region has a bucket of two: the third call of each is
	// throttled, whatever the others did.
	for _, ar := range ars {
		creds := assumed(url, o, ar.Account, "AuditRole")
		for k := 1; k <= 3; k++ {
			err := call(ar, creds)
			switch {
			case k < 3 && err != nil:
				t.Fatalf("%v, call %d: %v", ar, k, err)
			case k == 3:
				if code, _, _ := apiCode(t, err); code != "ThrottlingException" {
					t.Fatalf("%v, call 3: %v, want ThrottlingException", ar, err)
				}
			}
		}
	}
	// STS is not SSM's bucket: the assumes above were never throttled.
	stats := s.RegionStats()
	for _, ar := range ars {
		st := stats[ar]
		if st.Calls[ssmsim.OpDescribeInstanceInformation] != 3 || st.Throttled != 1 || st.OK != st.Requests-1 {
			t.Errorf("%v: %+v, want 3 calls of SSM, 1 throttled, every other request OK", ar, st)
		}
	}
	if st := s.Stats(); st.Throttled != int64(len(ars)) {
		t.Errorf("Stats.Throttled %d, want %d", st.Throttled, len(ars))
	}
	// A new rate reaches every bucket.
	s.SetFaults(ssmsim.Faults{})
	if err := call(ars[0], assumed(url, o, ars[0].Account, "AuditRole")); err != nil {
		t.Errorf("after lifting the limit: %v", err)
	}
	s.ResetRegionStats()
	if st := s.RegionStats()[ars[0]]; st.Requests != 0 || st.OK != 0 || len(st.Calls) != 0 {
		t.Errorf("after ResetRegionStats: %+v", st)
	}
}

func TestSingleFleetServerSpeaksSTS(t *testing.T) {
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 1, Size: 10})
	s, url := start(t, f, ssmsim.Options{AccountID: "210987654321"})
	stsc := sts.NewFromConfig(sdkConfig(url, "eu-central-1", static(testKey)))
	who, err := stsc.GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(who.Account) != "210987654321" || aws.ToString(who.Arn) != "arn:aws:iam::210987654321:user/"+testKey {
		t.Errorf("GetCallerIdentity: %s %s", aws.ToString(who.Account), aws.ToString(who.Arn))
	}
	_, err = stsc.AssumeRole(ctx(t), &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::210987654321:role/AuditRole"), RoleSessionName: aws.String("a1")})
	if code, _, _ := apiCode(t, err); code != "AccessDenied" {
		t.Errorf("AssumeRole: %v, want AccessDenied (no roles)", err)
	}
	_, err = organizations.NewFromConfig(sdkConfig(url, "us-east-1", static(testKey))).ListAccounts(ctx(t), &organizations.ListAccountsInput{})
	if code, _, _ := apiCode(t, err); code != "AWSOrganizationsNotInUseException" {
		t.Errorf("ListAccounts: %v, want AWSOrganizationsNotInUseException", err)
	}
	if s.RegionStats() != nil {
		t.Error("RegionStats of a server of one fleet should be nil")
	}
}
